"""`make run` honours the WIX_EMULATOR_* variables docs/emulator.md documents: a stack started
from an environment with a user-set API key, site, rate limit and processing time runs its
embedded emulator with them, and the relay works with them (the key is the credential its Wix
secret holds). No credential reaches the functions' environments or `.local-stack/` in plain
text for others to read."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from local_stack.bootstrap import aws_client
from local_stack.sample import sample_png
from local_stack.stack import RunningStack, StackConfig, StackError, start_stack

from tests.fixtures.local_stack import DEV_API_KEY, ephemeral_config, function_logs

USER_KEY = "user-chosen-wix-key-4f1c"
USER_SITE = "user-chosen-site"
RATE_LIMIT = 3
PROCESSING_MS = 3_600_000  # an hour: a stored file stays PENDING until the clock is moved
ENVIRONMENT = {
    "WIX_EMULATOR_API_KEY": USER_KEY,
    "WIX_EMULATOR_SITE_ID": USER_SITE,
    "WIX_EMULATOR_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
    "WIX_EMULATOR_PROCESSING_MS": str(PROCESSING_MS),
    # The API's Wix retry budget, short so that a rate-limited call gives up quickly.
    "WIX_RETRY_BUDGET_SECONDS": "1",
}
KEY = {"x-api-key": DEV_API_KEY}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    config = ephemeral_config(tmp_path_factory.mktemp("emulator-settings"), ENVIRONMENT)
    with start_stack(config) as running:
        yield running


def emulator(stack: RunningStack, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(
        method, f"{stack.emulator_url}/_emulator/{path}", json=body, timeout=10
    )
    response.raise_for_status()
    return response.json()


def fresh_rate_window(stack: RunningStack) -> None:
    """Move the emulator's clock a minute on: its rate-limit bucket (at most a minute's
    allowance) is full again."""
    emulator(stack, "POST", "clock", {"advanceSeconds": 61})


def upload_url(stack: RunningStack, name: str, size: int = 10) -> requests.Response:
    return requests.post(
        f"{stack.relay_url}/v1/upload-url",
        headers=KEY,
        json={"mimeType": "image/png", "fileName": name, "sizeInBytes": size, "filePath": "/dev"},
        timeout=30,
    )


def test_the_configuration_is_read_by_the_emulators_own_from_env() -> None:
    config = StackConfig.from_env({**ENVIRONMENT, "WIX_EMULATOR_PORT": "3105"})
    assert config.emulator.api_key == USER_KEY
    assert config.emulator.rate_limit_per_minute == RATE_LIMIT
    assert config.emulator.processing_ms == PROCESSING_MS
    assert config.emulator_port == 3105
    assert not any(name.startswith("WIX_EMULATOR_") for name in config.relay_env)
    with pytest.raises(StackError, match="WIX_EMULATOR_PROCESSING_MS"):
        StackConfig.from_env({"WIX_EMULATOR_PROCESSING_MS": "soon"})
    with pytest.raises(StackError, match="WIX_EMULATOR_PORT"):
        StackConfig.from_env({"WIX_EMULATOR_PORT": "99999"})


def test_the_user_key_is_the_credential_the_relay_uses(stack: RunningStack) -> None:
    secrets = aws_client("secretsmanager", stack.aws_url)
    document = secrets.get_secret_value(SecretId=stack.deployed.wix_secret_id)["SecretString"]
    assert json.loads(document) == {"apiKey": USER_KEY, "siteId": USER_SITE}
    fresh_rate_window(stack)
    response = upload_url(stack, "key.png")
    assert response.status_code == 200, function_logs(stack)
    calls = [c for c in emulator(stack, "GET", "requests")["requests"] if c["auth"]]
    assert calls[-1]["endpoint"] == "generate-upload-url"
    assert (calls[-1]["status"], calls[-1]["auth"]) == (200, "apiKey")


def test_the_rate_limit_applies_and_the_relay_recovers(stack: RunningStack) -> None:
    fresh_rate_window(stack)
    answers = [upload_url(stack, f"rate-{n}.png").status_code for n in range(RATE_LIMIT + 1)]
    assert answers[:RATE_LIMIT] == [200] * RATE_LIMIT, function_logs(stack)
    assert answers[RATE_LIMIT] in {429, 503}, answers  # the relay's own refusal, never a 500
    statuses = [
        c["status"]
        for c in emulator(stack, "GET", "requests")["requests"]
        if c["endpoint"] == "generate-upload-url"
    ]
    assert 429 in statuses[-2:]  # Wix's rate limit, as the emulator was told
    fresh_rate_window(stack)
    assert upload_url(stack, "after.png").status_code == 200


def test_the_processing_time_applies(stack: RunningStack) -> None:
    fresh_rate_window(stack)
    data = sample_png(8, 8)
    response = upload_url(stack, "slow.png", len(data))
    assert response.status_code == 200, function_logs(stack)
    put = requests.put(
        response.json()["uploadUrl"], data=data, headers={"Content-Type": "image/png"}, timeout=30
    )
    assert put.status_code == 200, put.text
    assert put.json()["file"]["operationStatus"] == "PENDING"
    file_id = put.json()["file"]["id"]

    def status() -> str:
        (entry,) = [f for f in emulator(stack, "GET", "files")["files"] if f["id"] == file_id]
        return str(entry["operationStatus"])

    assert status() == "PENDING"
    emulator(stack, "POST", "clock", {"advanceSeconds": PROCESSING_MS / 1000 - 60})
    assert status() == "PENDING"  # not before its processing time has passed
    emulator(stack, "POST", "clock", {"advanceSeconds": 61})
    assert status() == "READY"


def test_no_credential_on_disk_or_in_a_function_environment(stack: RunningStack) -> None:
    for env in stack.function_env.values():
        assert not any(name.startswith("WIX_EMULATOR_") for name in env)
        assert USER_KEY not in json.dumps(env)
    state_dir: Path = stack.config.state_dir
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    for path in state_dir.rglob("*"):
        text = path.read_bytes()
        assert USER_KEY.encode() not in text, path
        if DEV_API_KEY.encode() in text:  # the dev key, for make invoke: owner-only
            assert path == stack.env_file
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
