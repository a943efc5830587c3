"""The API handler as deployed: secrets in moto (server mode), the real Wix emulator over HTTP,
real-shaped HTTP API v2 and Function URL events. The Wix credential is a canary value that must
never appear in a response or a log line."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import string
from typing import Any

import pytest
import requests

from tests.fixtures.api import (
    CANARY_WIX_API_KEY,
    EVENTS,
    OPEN_PARTNER_KEY,
    PARTNER_KEY,
    WIX_SECRET_ID,
    Keys,
    RelayApi,
    caller_registry,
    claims,
    mint,
)

JPEG = b"\xff\xd8\xff\xe0" + b"relay-test-bytes" * 64


def put_bytes(upload_url: str, data: bytes, mime: str) -> dict[str, Any]:
    response = requests.put(upload_url, data=data, headers={"Content-Type": mime}, timeout=10)
    assert response.status_code == 200, response.text
    file: dict[str, Any] = response.json()["file"]
    return file


def stored(emulator: Any, file_id: str) -> dict[str, Any]:
    return next(f for f in emulator.files() if f["id"] == file_id)


def test_partner_gets_an_upload_url_that_lands_in_its_default_folder(
    deployed_relay: RelayApi, canary_emulator: Any
) -> None:
    response = deployed_relay.request(
        "POST",
        "/v1/upload-url",
        {"mimeType": "image/jpeg", "fileName": "summer 2024.jpg", "sizeInBytes": str(len(JPEG))},
        api_key=PARTNER_KEY,
    )
    assert response.status == 200, response.body
    assert set(response.json()) == {"uploadUrl"}
    assert response.headers["Cache-Control"] == "no-store"
    file = put_bytes(response.json()["uploadUrl"], JPEG, "image/jpeg")
    row = stored(canary_emulator, file["id"])
    assert row["folderPath"] == "/partners/acme/inbox"
    assert row["displayName"] == "summer 2024.jpg"
    assert row["md5"] == hashlib.md5(JPEG).hexdigest()


def test_partner_chooses_a_subfolder_labels_and_size_as_a_number(
    deployed_relay: RelayApi, canary_emulator: Any
) -> None:
    response = deployed_relay.request(
        "POST",
        "/v1/upload-url",
        {
            "mimeType": "image/jpeg",
            "fileName": "a.jpg",
            "sizeInBytes": len(JPEG),
            "filePath": "/partners/acme/2024/december/",
            "labels": ["summer", "beach"],
        },
        api_key=PARTNER_KEY,
    )
    assert response.status == 200, response.body
    row = stored(canary_emulator, put_bytes(response.json()["uploadUrl"], JPEG, "image/jpeg")["id"])
    assert row["folderPath"] == "/partners/acme/2024/december"
    assert row["labels"] == ["summer", "beach"]


def test_resumable_upload_url(deployed_relay: RelayApi, canary_emulator: Any) -> None:
    response = deployed_relay.request(
        "POST",
        "/v1/resumable-upload-url",
        {"mimeType": "video/mp4", "fileName": "clip.mp4", "sizeInBytes": 734003200},
        api_key=OPEN_PARTNER_KEY,
    )
    assert response.status == 200, response.body
    body = response.json()
    assert body["uploadProtocol"] == "TUS"
    assert body["uploadUrl"].startswith(canary_emulator.url)
    assert body["uploadToken"]


@pytest.mark.parametrize("function_url", [False, True], ids=["http-api", "function-url"])
def test_browser_with_a_jwt_writes_under_its_own_folder(
    deployed_relay: RelayApi, canary_emulator: Any, signing_keys: Keys, function_url: bool
) -> None:
    token = mint(signing_keys.ec, claims(sub="user-42"))
    response = deployed_relay.request(
        "POST",
        "/v1/upload-url",
        {"mimeType": "image/png", "fileName": "me.png", "sizeInBytes": 64},
        token=token,
        headers={"origin": "https://shop.example.test"},
        function_url=function_url,
    )
    assert response.status == 200, response.body
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example.test"
    png = b"\x89PNG\r\n\x1a\n" + bytes(56)
    row = stored(canary_emulator, put_bytes(response.json()["uploadUrl"], png, "image/png")["id"])
    assert row["folderPath"] == "/users/user-42"


def test_wix_validation_error_names_wix_rule(deployed_relay: RelayApi) -> None:
    # the open partner has no size limit of its own; Wix's image limit (emulated) refuses it
    response = deployed_relay.request(
        "POST",
        "/v1/upload-url",
        {"mimeType": "image/jpeg", "fileName": "huge.jpg", "sizeInBytes": 200 * 1024 * 1024},
        api_key=OPEN_PARTNER_KEY,
    )
    assert (response.status, response.error_code) == (400, "FILE_SIZE_OVER_LIMIT"), response.body
    assert "FILE_SIZE_OVER_LIMIT" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"status": 429, "retry_after": 7, "count": 20}, 429, "THROTTLED"),
        ({"status": 503, "count": 50}, 502, "WIX_UPSTREAM_ERROR"),
        ({"status": 500, "count": 50}, 502, "WIX_UPSTREAM_ERROR"),
        ({"delay_ms": 4000, "count": 50}, 504, "WIX_TIMEOUT"),
    ],
    ids=["429", "503", "500", "timeout"],
)
def test_wix_failures_are_mapped(
    deployed_relay: RelayApi, canary_emulator: Any, fault: dict[str, Any], status: int, code: str
) -> None:
    canary_emulator.add_fault("generate-upload-url", **fault)
    response = deployed_relay.request(
        "POST", "/v1/upload-url", {"mimeType": "image/png", "sizeInBytes": 10}, api_key=PARTNER_KEY
    )
    assert (response.status, response.error_code) == (status, code), response.body
    if status == 429:
        assert response.headers["Retry-After"] == "7"


def test_wix_refusing_our_credential_is_a_generic_502(
    deployed_relay: RelayApi, aws: str, canary_emulator: Any
) -> None:
    import boto3

    boto3.client("secretsmanager", endpoint_url=aws, region_name="us-east-1").put_secret_value(
        SecretId=WIX_SECRET_ID,
        SecretString='{"apiKey": "' + CANARY_WIX_API_KEY + '-revoked", "siteId": "s"}',
    )
    response = deployed_relay.request(
        "POST", "/v1/upload-url", {"mimeType": "image/png", "sizeInBytes": 10}, api_key=PARTNER_KEY
    )
    assert (response.status, response.error_code) == (502, "WIX_UPSTREAM_ERROR")
    assert response.json()["error"]["message"] == "the upload service is unavailable"
    assert "revoked" not in response.body


def test_missing_wix_secret_is_a_configuration_error(deployed_relay: RelayApi) -> None:
    deployed_relay.configure(WIX_CREDENTIALS_SECRET_ID="wix-relay/does-not-exist")
    response = deployed_relay.request(
        "POST", "/v1/upload-url", {"mimeType": "image/png", "sizeInBytes": 10}, api_key=PARTNER_KEY
    )
    assert (response.status, response.error_code) == (500, "CONFIGURATION_ERROR")


def test_one_wix_client_and_session_per_container(
    deployed_relay: RelayApi, canary_emulator: Any
) -> None:
    body = {"mimeType": "image/png", "sizeInBytes": 10}
    first = deployed_relay.request("POST", "/v1/upload-url", body, api_key=PARTNER_KEY)
    client = deployed_relay.runtime.wix_client()
    session = deployed_relay.runtime.session
    for _ in range(3):
        assert (
            deployed_relay.request("POST", "/v1/upload-url", body, api_key=PARTNER_KEY).status
            == 200
        )
    assert first.status == 200
    assert deployed_relay.runtime.wix_client() is client
    assert deployed_relay.runtime.session is session
    calls = [r for r in canary_emulator.requests() if r["endpoint"] == "generate-upload-url"]
    assert len(calls) == 4


def test_the_canary_credential_appears_in_no_response_and_no_log_line(
    deployed_relay: RelayApi,
    canary_emulator: Any,
    signing_keys: Keys,
    aws: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import boto3

    from wix_relay.observability import logger

    caplog.set_level(logging.DEBUG)
    json_lines = io.StringIO()  # the Powertools JSON lines exactly as Lambda would ship them
    handler = logging.StreamHandler(json_lines)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    body = {"mimeType": "image/png", "sizeInBytes": 10}
    token = mint(signing_keys.rsa, claims(sub="user-7"))
    deployed_relay.request("POST", "/v1/upload-url", body, api_key=PARTNER_KEY)
    deployed_relay.request("POST", "/v1/resumable-upload-url", body, token=token)
    deployed_relay.request(
        "POST", "/v1/upload-url", {**body, "filePath": "/x/../y"}, api_key=PARTNER_KEY
    )
    deployed_relay.request("POST", "/v1/upload-url", body, api_key="wrong")
    for fault in ({"status": 429, "count": 20}, {"status": 503, "count": 50}, {"status": 400}):
        canary_emulator.add_fault("generate-upload-url", **fault)
        deployed_relay.request("POST", "/v1/upload-url", body, api_key=PARTNER_KEY)
        canary_emulator.clear_faults()
    with caplog.at_level(logging.WARNING):  # the test's own boto3 call is not the relay's
        boto3.client("secretsmanager", endpoint_url=aws, region_name="us-east-1").put_secret_value(
            SecretId=WIX_SECRET_ID,
            SecretString='{"apiKey": "' + CANARY_WIX_API_KEY + 'X", "siteId": "s"}',
        )
    deployed_relay.configure()  # a new container reads the rotated (now wrong) secret
    deployed_relay.request("POST", "/v1/upload-url", body, api_key=PARTNER_KEY)

    logger.removeHandler(handler)
    out, err = capfd.readouterr()
    logged = json_lines.getvalue()
    texts = [out, err, caplog.text, logged, *(r.body for r in deployed_relay.responses)]
    texts += [str(r.headers) for r in deployed_relay.responses]
    # the logs were captured, not empty: JSON lines with the caller id, EMF metrics on stdout
    assert '"message":"upload URL issued"' in logged
    assert '"caller_id":"partner-acme"' in logged
    assert '"caller_id":"jwt:user-7"' in logged
    assert '"UploadUrlRefused"' in out
    assert [r.status for r in deployed_relay.responses] == [200, 200, 400, 401, 429, 502, 400, 502]
    for text in texts:
        assert CANARY_WIX_API_KEY not in text
        assert PARTNER_KEY not in text
        assert token not in text


def bank_event(name: str, **values: str) -> dict[str, Any]:
    """An event from the committed event bank (events/), placeholders filled in."""
    text = (EVENTS / name).read_text()
    event: dict[str, Any] = json.loads(string.Template(text).safe_substitute(**values))
    return event


def test_the_event_bank_events_work_against_the_handler(
    deployed_relay: RelayApi, canary_emulator: Any, jwks_server: Any
) -> None:
    assert deployed_relay(bank_event("api/health.json")).json() == {"status": "ok"}
    assert deployed_relay(bank_event("api/openapi.json")).json()["openapi"].startswith("3.")
    partner = deployed_relay(bank_event("api/upload-url.json", RELAY_DEV_API_KEY=PARTNER_KEY))
    assert partner.status == 200, partner.body
    function_url = deployed_relay(
        bank_event("function-url/upload-url.json", RELAY_DEV_API_KEY=PARTNER_KEY)
    )
    assert function_url.status == 200, function_url.body
    preflight = deployed_relay(bank_event("function-url/preflight.json"))
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
    # the JWT event carries API Gateway's verified claims for the bank's issuer
    jwt_event = bank_event("api/upload-url-jwt.json", RELAY_DEV_JWT="not-checked")
    claims_in_event = jwt_event["requestContext"]["authorizer"]["jwt"]["claims"]
    registry = caller_registry(jwks_server.url)
    registry["jwt"] |= {"issuer": claims_in_event["iss"], "audience": [claims_in_event["aud"]]}
    deployed_relay.configure(RELAY_CALLERS_JSON=json.dumps(registry))
    browser = deployed_relay(jwt_event)
    assert browser.status == 200, browser.body
    assert jwks_server.hits == 0  # API Gateway verified it; the relay did not re-verify
    calls = [r for r in canary_emulator.requests() if r["endpoint"] == "generate-upload-url"]
    assert len(calls) == 3
