"""`make run`'s development identity provider: the relay verifies its tokens through the caller
registry's `jwt` entry (the JWKS fetched over loopback HTTP) while the dev API key keeps working,
and a RELAY_CALLERS_JSON from the shell is merged rather than silently disabling either."""

from __future__ import annotations

import json
from typing import Any

import requests
from local_stack.bootstrap import dev_caller_registry
from local_stack.dev_identity import AUDIENCE, DevIdentityProvider, merge_registries

from tests.fixtures.local_stack import DEV_API_KEY

BODY = {"mimeType": "image/png", "fileName": "a.png", "sizeInBytes": "10", "filePath": "/dev/jwt"}


def _upload_url(stack: Any, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{stack.relay_url}/v1/upload-url", json=BODY, headers=headers, timeout=30)


def test_the_demo_token_and_the_dev_key_both_get_an_upload_url(local_stack: Any) -> None:
    token = local_stack.identity.issue()
    by_token = _upload_url(local_stack, {"Authorization": f"Bearer {token}"})
    assert by_token.status_code == 200, by_token.text
    assert by_token.json()["uploadUrl"]
    assert _upload_url(local_stack, {"x-api-key": DEV_API_KEY}).status_code == 200


def test_a_token_signed_by_another_key_is_refused(local_stack: Any) -> None:
    stranger = DevIdentityProvider()
    try:
        forged = stranger.issue()
    finally:
        stranger.stop()
    answer = _upload_url(local_stack, {"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "INVALID_TOKEN"


def test_the_demo_page_is_handed_a_token_not_the_api_key(local_stack: Any) -> None:
    config_js = requests.get(f"{local_stack.demo_url}/config.js", timeout=10).text
    settings = json.loads(config_js.split("=", 1)[1].strip().rstrip(";"))
    assert settings["relayUrl"] == local_stack.relay_url
    assert settings["token"].count(".") == 2
    assert DEV_API_KEY not in config_js
    library = requests.get(f"{local_stack.demo_url}/lib/index.js", timeout=10)
    assert library.status_code == 200 and "export async function uploadFile" in library.text


def test_a_given_registry_is_merged_with_the_dev_callers() -> None:
    provider = DevIdentityProvider()
    try:
        dev = dev_caller_registry("ab" * 32, "inbox", provider.registry_entry({"folders": ["/"]}))
        given = {"apiKeys": [{"id": "partner", "sha256": "cd" * 32, "policy": {"folders": ["/p"]}}]}
        merged, note = merge_registries(json.dumps(given), dev)
        document = json.loads(merged)
        assert [k["id"] for k in document["apiKeys"]] == ["partner", "dev"]
        assert document["jwt"][0]["audience"] == [AUDIENCE]
        assert note and "merged" in note
        as_is, warning = merge_registries("{not json", dev)
        assert as_is == "{not json" and warning and "not JSON" in warning
    finally:
        provider.stop()
