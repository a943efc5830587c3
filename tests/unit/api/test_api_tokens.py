"""JWT checks beyond PyJWT's own: numeric claims must be JSON numbers, a kid is required, a token
or a key set nested too deep is refused before PyJWT's json.loads recurses, and the JWKS fetch
(PyJWKClient over the pooled session) is capped and its failures are named."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from tests.fixtures.api import JwksServer, Keys, RelayApi, claims, mint
from wix_relay.integrations.identity import MAX_JWKS_BYTES

BODY = {"mimeType": "image/png", "sizeInBytes": 1000, "filePath": "/elsewhere"}


def code_for(relay_api: RelayApi, token: str) -> tuple[int, str | None]:
    response = relay_api.request("POST", "/v1/upload-url", BODY, token=token)
    return response.status, response.error_code


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_numeric_claims_given_as_strings_are_refused(
    relay_api: RelayApi, signing_keys: Keys, claim: str
) -> None:
    now = int(time.time())
    good = claims()
    assert code_for(relay_api, mint(signing_keys.rsa, good)) == (403, "FOLDER_NOT_ALLOWED")
    as_string = {**good, claim: str(good[claim])}
    assert code_for(relay_api, mint(signing_keys.rsa, as_string)) == (401, "INVALID_TOKEN")
    as_bool = {**good, claim: True}
    assert code_for(relay_api, mint(signing_keys.rsa, as_bool)) == (401, "INVALID_TOKEN")
    as_float = {**good, claim: float(now if claim != "exp" else now + 600)}
    assert code_for(relay_api, mint(signing_keys.rsa, as_float)) == (403, "FOLDER_NOT_ALLOWED")


def test_string_exp_message_names_the_claim(relay_api: RelayApi, signing_keys: Keys) -> None:
    token = mint(signing_keys.rsa, claims(exp=str(int(time.time()) + 600)))
    response = relay_api.request("POST", "/v1/upload-url", BODY, token=token)
    assert "exp claim must be a JSON number" in response.json()["error"]["message"]


def test_a_token_without_kid_is_refused(relay_api: RelayApi, signing_keys: Keys) -> None:
    import jwt

    token = jwt.encode(claims(), signing_keys.rsa.private_key, algorithm="RS256")
    assert code_for(relay_api, token) == (401, "INVALID_TOKEN")


def test_a_deeply_nested_token_is_a_401_not_a_500(relay_api: RelayApi) -> None:
    def segment(value: str) -> str:
        return base64.urlsafe_b64encode(value.encode()).rstrip(b"=").decode()

    deep = '{"a":' * 5000 + "1" + "}" * 5000
    header = segment(json.dumps({"alg": "RS256", "kid": "rsa-1"}))
    for token in (f"{header}.{segment(deep)}.c2ln", f"{segment(deep)}.{segment('{}')}.c2ln"):
        assert code_for(relay_api, token) == (401, "INVALID_TOKEN")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"not json", "JWKS_INVALID"),
        (b"[]", "JWKS_INVALID"),
        (b'{"keys": "x"}', "JWKS_INVALID"),
        (b'{"keys": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", "JWKS_INVALID"),
        (b'{"keys": [], "pad": "' + b"x" * MAX_JWKS_BYTES + b'"}', "JWKS_INVALID"),
        (b'{"keys": [{"kty": "nope"}]}', "JWKS_INVALID"),
    ],
    ids=["not json", "not an object", "keys not a list", "deep", "over the cap", "no usable key"],
)
def test_a_broken_identity_provider_is_a_named_502(
    relay_api: RelayApi, jwks_server: JwksServer, signing_keys: Keys, raw: bytes, code: str
) -> None:
    jwks_server.raw = raw
    assert code_for(relay_api, mint(signing_keys.rsa)) == (502, code)


def test_an_unreachable_identity_provider_is_a_named_502(
    relay_api: RelayApi, signing_keys: Keys
) -> None:
    from tests.fixtures.api import caller_registry

    registry: dict[str, Any] = caller_registry("http://127.0.0.1:9/.well-known/jwks.json")
    relay_api.configure(RELAY_CALLERS_JSON=json.dumps(registry))
    assert code_for(relay_api, mint(signing_keys.rsa)) == (502, "JWKS_UNAVAILABLE")
