"""The fuzz stage: schemathesis against the local stack's own `/v1/openapi.json`.

Every operation is fuzzed twice — with a partner API key and with a user's JWT (an ES256 token
from a loopback JWKS) — with a fixed seed and a bounded number of examples, all checks on
(tests/e2e/local_stack/fuzz/schemathesis.toml says what a schema-valid request may still be
refused for). Zero server errors, every response as the document declares it.

Known failures that other work fixes are listed, with their reason and an expiry date, in
fuzz/baseline.json (schemathesis' own baseline): a listed failure does not fail the stage; an
expired entry, or any new failure, does.

By hand, against `make run` (its dev key's policy refuses more than the open policy used here):
    .venv/bin/schemathesis --config-file tests/e2e/local_stack/fuzz/schemathesis.toml run \
        $RELAY/v1/openapi.json --checks all --seed 20261201 -n 25 \
        --phases examples,fuzzing,stateful -H "x-api-key: $KEY"
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_stack.stack import RunningStack, start_stack

from tests.fixtures.api import AUDIENCE, ISSUER, JwksServer, Keys, claims, mint
from tests.fixtures.local_stack import ephemeral_config

FUZZ_DIR = Path(__file__).parent / "fuzz"
SEED = 20261201
MAX_EXAMPLES = {"apiKey": 25, "bearerJwt": 10}
"""Per operation and phase: about 500 + 150 requests, ~1 min (under load) for both runs."""
PHASES = {"apiKey": "examples,fuzzing,stateful", "bearerJwt": "examples,fuzzing"}
"""Not the coverage phase: it spends minutes of CPU deriving boundary strings from the request
schemas' patterns (filePath's) for little more than the fuzzing phase finds."""
FUZZ_KEY = "fuzz-partner-key"
OPEN_POLICY = {
    "folders": ["/"],
    "mimeTypes": ["*/*"],
    "allowPrivate": True,
    "allowParentFolderId": True,
}


@pytest.fixture(scope="module")
def fuzz_stack(
    tmp_path_factory: pytest.TempPathFactory, _jwks_server_session: JwksServer, signing_keys: Keys
) -> Iterator[RunningStack]:
    """The local stack with a caller registry of one open partner key and one JWT issuer, so the
    fuzzer reaches the routes' logic (and Wix) rather than only the policy's refusals."""
    import base64
    import hashlib
    import json

    _jwks_server_session.publish(signing_keys.ec)
    base = ephemeral_config(tmp_path_factory.mktemp("fuzz-stack"))
    policy = {
        **OPEN_POLICY,
        "importSources": [{"bucket": base.inbox_bucket, "prefix": ""}],
        # The import example's callbackUrl is allowed, so the example reaches the import logic.
        "callbackUrls": ["https://partner.example/hooks/"],
    }
    callback = {"secret": "whsec_" + base64.b64encode(b"fuzz-callback-secret-32-bytes!!!").decode()}
    registry = {
        "apiKeys": [
            {
                "id": "fuzz",
                "sha256": hashlib.sha256(FUZZ_KEY.encode()).hexdigest(),
                "policy": policy,
                "callback": callback,
            }
        ],
        "jwt": {
            "jwksUrl": _jwks_server_session.url,
            "issuer": ISSUER,
            "audience": [AUDIENCE],
            "algorithms": ["ES256"],
            "policy": policy,
            "callback": callback,
        },
    }
    base.relay_env["RELAY_CALLERS_JSON"] = json.dumps(registry)
    with start_stack(base) as stack:
        yield stack


def schemathesis(stack: RunningStack, scheme: str, credential: str, tmp: Path) -> tuple[int, str]:
    header = {
        "apiKey": f"x-api-key: {credential}",
        "bearerJwt": f"Authorization: Bearer {credential}",
    }
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(FUZZ_DIR / "schemathesis.toml"),
        "run",
        f"{stack.relay_url}/v1/openapi.json",
        "--checks",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES[scheme]),
        "--phases",
        PHASES[scheme],
        "--workers",
        "1",
        "--header",
        header[scheme],
        "--baseline",
        str(FUZZ_DIR / "baseline.json"),
        "--request-timeout",
        "30",
        "--no-color",
    ]
    done = subprocess.run(
        command, cwd=tmp, capture_output=True, text=True, timeout=600, check=False
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("scheme", ["apiKey", "bearerJwt"])
def test_fuzzing_finds_no_server_error_and_no_schema_violation(
    fuzz_stack: RunningStack, signing_keys: Keys, scheme: str, tmp_path: Path
) -> None:
    credential = FUZZ_KEY
    if scheme == "bearerJwt":
        credential = mint(signing_keys.ec, claims("fuzz-user", exp=int(claims()["exp"]) + 3000))
    code, output = schemathesis(fuzz_stack, scheme, credential, tmp_path)
    assert code == 0, output[-20000:]
    assert " generated" in output, output[-5000:]  # it did run cases
    assert "Authentication failed" not in output, output[-5000:]  # with a working credential
