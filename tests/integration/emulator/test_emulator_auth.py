"""Wix authentication: API key + site id, OAuth client credentials, failures and expiry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from wix_emulator import EmulatorConfig, RunningEmulator, start_emulator

from tests.integration.emulator.emulator_helpers import API, WixCalls, app_error

LIST = API + "?paging.limit=1"


def oauth(emulator: RunningEmulator, **overrides: str) -> requests.Response:
    body = {
        "grant_type": "client_credentials",
        "client_id": emulator.app_id,
        "client_secret": emulator.app_secret,
        "instance_id": emulator.instance_id,
        **overrides,
    }
    return requests.post(emulator.url + "/oauth2/token", json=body, timeout=10)


def call(emulator: RunningEmulator, headers: dict[str, str]) -> requests.Response:
    return requests.get(emulator.url + LIST, headers=headers, timeout=10)


def test_api_key_with_site_id(wix_emulator: RunningEmulator) -> None:
    r = call(wix_emulator, {"Authorization": "dev-wix-api-key", "wix-site-id": "dev-site-id"})
    assert r.status_code == 200, r.text
    assert r.headers["x-wix-request-id"]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "UNAUTHENTICATED"),
        ({"Authorization": "wrong", "wix-site-id": "dev-site-id"}, 401, "UNAUTHENTICATED"),
        ({"Authorization": "Bearer dev-wix-api-key", "wix-site-id": "dev-site-id"}, 401, None),
        ({"Authorization": "dev-wix-api-key"}, 403, "PERMISSION_DENIED"),
        ({"Authorization": "dev-wix-api-key", "wix-site-id": "other"}, 403, "PERMISSION_DENIED"),
    ],
    ids=["none", "wrong key", "api key with Bearer", "no site id", "wrong site id"],
)
def test_refused_credentials(wix_emulator: RunningEmulator, headers, status, code) -> None:
    r = call(wix_emulator, headers)
    assert r.status_code == status
    assert r.headers["x-wix-request-id"]
    error = app_error(r)
    if code:
        assert error["code"] == code
    assert "dev-wix-api-key" not in r.text


def test_every_api_endpoint_requires_credentials(wix: WixCalls) -> None:
    calls = [
        ("POST", API + "/generate-upload-url"),
        ("POST", API + "/generate-resumable-upload-url"),
        ("POST", API + "/import"),
        ("POST", "/site-media/v1/bulk/files/import-v2"),
        ("GET", API + "/get-file-by-id?fileId=x"),
        ("GET", API + "/some-id"),
        ("POST", API + "/get-files"),
        ("GET", API),
    ]
    for method, path in calls:
        r = requests.request(method, wix.url + path, json={}, timeout=10)
        assert r.status_code == 401, (method, path, r.status_code)


@pytest.mark.parametrize("prefix", ["", "Bearer "], ids=["plain", "Bearer"])
def test_oauth_client_credentials(wix_emulator: RunningEmulator, prefix: str) -> None:
    r = oauth(wix_emulator)
    assert r.status_code == 200, r.text
    token = r.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 14400
    assert token["access_token"]
    ok = call(wix_emulator, {"Authorization": prefix + token["access_token"]})
    assert ok.status_code == 200, ok.text


def test_oauth_token_expires(wix_emulator: RunningEmulator) -> None:
    token = oauth(wix_emulator).json()["access_token"]
    wix_emulator.advance_clock(14401)
    r = call(wix_emulator, {"Authorization": token})
    assert r.status_code == 401
    assert app_error(r)["code"] == "EXPIRED_TOKEN"
    fresh = oauth(wix_emulator).json()["access_token"]
    assert call(wix_emulator, {"Authorization": fresh}).status_code == 200


def test_oauth_token_survives_reset_unless_asked(wix_emulator: RunningEmulator) -> None:
    token = oauth(wix_emulator).json()["access_token"]
    wix_emulator.reset()
    assert call(wix_emulator, {"Authorization": token}).status_code == 200
    wix_emulator.reset(tokens=True)
    assert call(wix_emulator, {"Authorization": token}).status_code == 401


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"client_secret": "nope"}, 401, "invalid_client"),
        ({"client_id": "nope"}, 401, "invalid_client"),
        ({"instance_id": "nope"}, 400, "invalid_grant"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"client_id": ""}, 400, "invalid_request"),
    ],
)
def test_oauth_refusals_are_ietf_shaped(
    wix_emulator: RunningEmulator, overrides, status, error
) -> None:
    """[doc] token errors follow the IETF conventions, not Wix's application-error shape."""
    r = oauth(wix_emulator, **overrides)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error and r.json()["error_description"]
    assert "details" not in r.json()
    assert "dev-app-secret" not in r.text


def test_oauth_accepts_a_form_body(wix_emulator: RunningEmulator) -> None:
    r = requests.post(
        wix_emulator.url + "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": wix_emulator.app_id,
            "client_secret": wix_emulator.app_secret,
            "instance_id": wix_emulator.instance_id,
        },
        timeout=10,
    )
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def custom() -> Iterator[RunningEmulator]:
    cfg = EmulatorConfig.from_env(
        {
            "WIX_EMULATOR_API_KEY": "k-123",
            "WIX_EMULATOR_SITE_ID": "site-9",
            "WIX_EMULATOR_APP_ID": "app-1",
            "WIX_EMULATOR_APP_SECRET": "s3cret",
            "WIX_EMULATOR_INSTANCE_ID": "inst-7",
            "WIX_EMULATOR_TOKEN_EXPIRES_IN": "60",
            "WIX_EMULATOR_RATE_LIMIT_PER_MINUTE": "3",
        }
    )
    emulator = start_emulator(cfg)
    yield emulator
    emulator.stop()


def test_credentials_and_expiry_from_the_environment(custom: RunningEmulator) -> None:
    assert call(custom, {"Authorization": "k-123", "wix-site-id": "site-9"}).status_code == 200
    assert (
        call(custom, {"Authorization": "dev-wix-api-key", "wix-site-id": "site-9"}).status_code
        == 401
    )
    token = oauth(custom)
    assert token.json()["expires_in"] == 60
    assert call(custom, {"Authorization": token.json()["access_token"]}).status_code == 200
    # [doc] 200 requests per minute per app instance; here 3 per minute for the site.
    third = call(custom, {"Authorization": "k-123", "wix-site-id": "site-9"})
    assert third.status_code == 200
    limited = call(custom, {"Authorization": "k-123", "wix-site-id": "site-9"})
    assert limited.status_code == 429
    assert app_error(limited)["code"] == "RESOURCE_EXHAUSTED"
    custom.reset()
