"""The API handler with real-shaped HTTP API v2 / Function URL events, for everything that is
answered or refused before Wix is called (no Wix credential is configured here: a request that
reached Wix would fail with 500 CONFIGURATION_ERROR, so every status below also proves that Wix
was not called)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import openapi_spec_validator
import pytest

from tests.fixtures.api import (
    AUDIENCE,
    ISSUER,
    ORIGIN,
    PARTNER_KEY,
    JwksServer,
    Keys,
    RelayApi,
    api_event,
    claims,
    hs256_with_public_key,
    mint,
    unsigned_token,
)
from wix_relay.domain.upload_requests import RESUMABLE_UPLOAD_URL, UPLOAD_URL

OK_BODY = {"mimeType": "image/png", "sizeInBytes": 1000}


@pytest.mark.parametrize("function_url", [False, True], ids=["http-api", "function-url"])
def test_health_needs_no_credential(relay_api: RelayApi, function_url: bool) -> None:
    response = relay_api.request("GET", "/v1/health", function_url=function_url)
    assert response.status == 200
    assert response.json() == {"status": "ok"}


def test_openapi_document_is_generated_from_the_field_tables(relay_api: RelayApi) -> None:
    response = relay_api.request("GET", "/v1/openapi.json")
    assert response.status == 200
    doc = response.json()
    openapi_spec_validator.validate(doc)
    schemas = doc["components"]["schemas"]
    assert schemas[UPLOAD_URL.name] == json.loads(json.dumps(UPLOAD_URL.json_schema()))
    assert schemas[RESUMABLE_UPLOAD_URL.name]["properties"]["labels"]["maxItems"] == 500
    assert {"/v1/health", "/v1/upload-url", "/v1/resumable-upload-url", "/v1/openapi.json"} <= set(
        doc["paths"]
    )
    upload = doc["paths"]["/v1/upload-url"]["post"]
    assert upload["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": f"#/components/schemas/{UPLOAD_URL.name}"
    }
    assert {"400", "401", "403", "413", "429", "502", "504"} <= set(upload["responses"])
    assert doc["paths"]["/v1/health"]["get"]["security"] == []


def test_unknown_route_is_404_in_the_envelope_without_a_credential(relay_api: RelayApi) -> None:
    response = relay_api.request("GET", "/v1/nothing-here", request_id="req-404")
    assert response.status == 404
    assert response.json() == {
        "error": {
            "code": "NOT_FOUND",
            "message": "no such route: GET /v1/nothing-here",
            "requestId": "req-404",
        }
    }


def test_wrong_method_is_405_with_allow(relay_api: RelayApi) -> None:
    response = relay_api.request("GET", "/v1/upload-url", api_key=PARTNER_KEY, request_id="r405")
    assert response.status == 405
    assert response.error_code == "METHOD_NOT_ALLOWED"
    assert response.headers["Allow"] == "POST"
    assert response.json()["error"]["requestId"] == "r405"


# --- CORS --------------------------------------------------------------------------------------


def preflight(relay_api: RelayApi, origin: str, method: str = "POST", **kw: Any) -> Any:
    headers = {
        "origin": origin,
        "access-control-request-method": method,
        "access-control-request-headers": "authorization,content-type,idempotency-key",
    }
    return relay_api(api_event("OPTIONS", "/v1/upload-url", headers=headers, **kw))


@pytest.mark.parametrize("function_url", [False, True], ids=["http-api", "function-url"])
def test_preflight_from_an_allowed_origin(relay_api: RelayApi, function_url: bool) -> None:
    response = preflight(relay_api, ORIGIN, function_url=function_url)
    assert response.status == 204
    headers = response.headers
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert set(headers["Access-Control-Allow-Methods"].replace(" ", "").split(",")) >= {
        "GET",
        "POST",
        "OPTIONS",
    }
    allowed = set(headers["Access-Control-Allow-Headers"].replace(" ", "").split(","))
    assert allowed >= {"authorization", "x-api-key", "content-type", "idempotency-key"}
    assert int(headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in headers["Vary"]
    assert "*" not in json.dumps(headers)


def test_preflight_from_another_origin_gets_no_cors_headers(relay_api: RelayApi) -> None:
    response = preflight(relay_api, "https://evil.example.test")
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    assert "Origin" in response.headers["Vary"]


def test_actual_response_carries_cors_for_allowed_origin_only(relay_api: RelayApi) -> None:
    good = relay_api.request("GET", "/v1/health", headers={"origin": ORIGIN})
    assert good.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert good.headers["Vary"] == "Origin"
    bad = relay_api.request("GET", "/v1/health", headers={"origin": "https://evil.example.test"})
    assert "Access-Control-Allow-Origin" not in bad.headers
    assert bad.headers["Vary"] == "Origin"
    # errors carry CORS too, or a browser could not read them
    refused = relay_api.request("POST", "/v1/upload-url", OK_BODY, headers={"origin": ORIGIN})
    assert refused.status == 401
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN


# --- the table of refused requests -------------------------------------------------------------

Case = tuple[str, dict[str, Any], int, str]


def token_cases(keys: Keys) -> list[Case]:
    now = int(time.time())
    return [
        ("no credential", {}, 401, "UNAUTHENTICATED"),
        (
            "basic auth",
            {"headers": {"authorization": "Basic dXNlcjpwYXNz"}},
            401,
            "UNAUTHENTICATED",
        ),
        ("wrong api key", {"api_key": PARTNER_KEY + "x"}, 401, "INVALID_API_KEY"),
        ("empty api key", {"api_key": ""}, 401, "INVALID_API_KEY"),
        ("garbage token", {"token": "not.a.jwt"}, 401, "INVALID_TOKEN"),
        (
            "expired",
            {"token": mint(keys.rsa, claims(exp=now - 3600, iat=now - 7200, nbf=now - 7200))},
            401,
            "TOKEN_EXPIRED",
        ),
        (
            "not yet valid",
            {"token": mint(keys.rsa, claims(nbf=now + 3600))},
            401,
            "TOKEN_NOT_YET_VALID",
        ),
        (
            "wrong audience",
            {"token": mint(keys.rsa, claims(aud="another-app"))},
            401,
            "INVALID_TOKEN",
        ),
        (
            "wrong issuer",
            {"token": mint(keys.rsa, claims(iss="https://evil.test/"))},
            401,
            "INVALID_TOKEN",
        ),
        ("no exp", {"token": mint(keys.rsa, claims(exp=None))}, 401, "INVALID_TOKEN"),
        ("no sub", {"token": mint(keys.rsa, claims(sub=None))}, 401, "INVALID_TOKEN"),
        ("alg none", {"token": unsigned_token()}, 401, "INVALID_TOKEN"),
        ("wrongly signed", {"token": mint(keys.stranger)}, 401, "INVALID_TOKEN"),
        ("hs256 with public key", {"token": hs256_with_public_key(keys.rsa)}, 401, "INVALID_TOKEN"),
        ("unknown kid", {"token": mint(keys.rotated)}, 401, "INVALID_TOKEN"),
        (
            "subject not a segment",
            {"token": mint(keys.rsa, claims(sub="../admin"))},
            403,
            "SUBJECT_NOT_ALLOWED",
        ),
    ]


POLICY_CASES: list[Case] = [
    (f"traversal {path!r}", {"body": {**OK_BODY, "filePath": path}}, 400, "INVALID_PATH")
    for path in [
        "/partners/acme/../other",
        "/partners/acme/..",
        "/partners//acme",
        "/partners/acme\\..\\x",
        "/partners/acme/%2e%2e/x",
        "/partners/acme%2F..",
        "/partners/acme/%252e%252e",
        "/partners/acme/\u0000x",
        "/partners/acme/\uff0e\uff0e",
    ]
] + [
    (
        "folder outside",
        {"body": {**OK_BODY, "filePath": "/partners/acmex"}},
        403,
        "FOLDER_NOT_ALLOWED",
    ),
    ("root folder", {"body": {**OK_BODY, "filePath": "/"}}, 403, "FOLDER_NOT_ALLOWED"),
    ("mime outside", {"body": {**OK_BODY, "mimeType": "video/mp4"}}, 403, "MIME_TYPE_NOT_ALLOWED"),
    (
        "oversize",
        {"body": {**OK_BODY, "sizeInBytes": 10 * 1024 * 1024 + 1}},
        403,
        "SIZE_NOT_ALLOWED",
    ),
    ("size missing", {"body": {"mimeType": "image/png"}}, 400, "INVALID_INPUT"),
    ("private", {"body": {**OK_BODY, "private": True}}, 403, "PRIVATE_NOT_ALLOWED"),
    (
        "parentFolderId",
        {"body": {**OK_BODY, "parentFolderId": "f1"}},
        403,
        "PARENT_FOLDER_NOT_ALLOWED",
    ),
    ("malformed json", {"body": '{"mimeType": "image/png",'}, 400, "INVALID_JSON"),
    ("json array", {"body": "[]"}, 400, "INVALID_JSON"),
    ("no body", {"body": None}, 400, "INVALID_JSON"),
    (
        "duplicate key",
        {"body": '{"mimeType":"image/png","mimeType":"text/html"}'},
        400,
        "INVALID_JSON",
    ),
    ("unknown field", {"body": {**OK_BODY, "bucket": "b"}}, 400, "INVALID_INPUT"),
    ("long fileName", {"body": {**OK_BODY, "fileName": "n" * 201}}, 400, "INVALID_INPUT"),
    ("body over 64 KiB", {"body": {**OK_BODY, "fileName": "n" * 70_000}}, 413, "PAYLOAD_TOO_LARGE"),
    (
        "base64 body over 64 KiB",
        {"body": {**OK_BODY, "fileName": "n" * 50_000}, "base64_body": True},
        413,
        "PAYLOAD_TOO_LARGE",
    ),
]


def run_case(relay_api: RelayApi, case: Case, path: str = "/v1/upload-url") -> Any:
    _, kw, _, _ = case
    kw = dict(kw)
    body = kw.pop("body", OK_BODY)
    if case in POLICY_CASES:
        kw.setdefault("api_key", PARTNER_KEY)
    return relay_api.request("POST", path, body, **kw)


@pytest.mark.parametrize("index", range(16))
def test_refused_credentials(relay_api: RelayApi, signing_keys: Keys, index: int) -> None:
    case = token_cases(signing_keys)[index]
    response = run_case(relay_api, case)
    assert (case[0], response.status, response.error_code) == (case[0], case[2], case[3])
    assert response.json()["error"]["requestId"]


@pytest.mark.parametrize("case", POLICY_CASES, ids=[c[0] for c in POLICY_CASES])
@pytest.mark.parametrize("path", ["/v1/upload-url", "/v1/resumable-upload-url"])
def test_refused_requests(relay_api: RelayApi, case: Case, path: str) -> None:
    response = run_case(relay_api, case, path)
    assert (response.status, response.error_code) == (case[2], case[3]), response.body
    error = response.json()["error"]
    assert error["requestId"]
    if response.status in {400, 403} and case[3] not in {"INVALID_JSON"}:
        fields = [d["field"] for d in error["details"]]
        assert fields, error
        assert case[0] != "unknown field" or fields == ["bucket"]


def test_token_case_table_is_complete(signing_keys: Keys) -> None:
    assert len(token_cases(signing_keys)) == 16


def test_error_messages_never_echo_the_credential(relay_api: RelayApi, signing_keys: Keys) -> None:
    token = mint(signing_keys.stranger)
    for response in (
        relay_api.request("POST", "/v1/upload-url", OK_BODY, api_key=PARTNER_KEY + "zz"),
        relay_api.request("POST", "/v1/upload-url", OK_BODY, token=token),
    ):
        assert PARTNER_KEY not in response.body
        assert token not in response.body
        assert token.split(".")[2] not in response.body


# --- who the caller is -------------------------------------------------------------------------


def test_jwt_caller_passes_authentication_and_gets_its_own_policy(
    relay_api: RelayApi, signing_keys: Keys
) -> None:
    # authenticated (RS256 and ES256), then refused by *its* policy: someone else's folder
    for key in (signing_keys.rsa, signing_keys.ec):
        response = relay_api.request(
            "POST",
            "/v1/upload-url",
            {**OK_BODY, "filePath": "/users/someone-else"},
            token=mint(key, claims(sub="user-0001")),
        )
        assert (response.status, response.error_code) == (403, "FOLDER_NOT_ALLOWED")


def test_authorizer_claims_are_used_without_reverifying(
    relay_api: RelayApi, jwks_server: JwksServer
) -> None:
    verified = {"sub": "user-0001", "iss": ISSUER, "aud": AUDIENCE, "exp": "1795093200"}
    response = relay_api.request(
        "POST",
        "/v1/upload-url",
        {**OK_BODY, "mimeType": "application/zip"},
        authorizer_claims=verified,
    )
    assert (response.status, response.error_code) == (403, "MIME_TYPE_NOT_ALLOWED")
    assert jwks_server.hits == 0
    stranger = relay_api.request(
        "POST", "/v1/upload-url", OK_BODY, authorizer_claims={**verified, "iss": "https://x/"}
    )
    assert (stranger.status, stranger.error_code) == (401, "INVALID_TOKEN")


def test_jwks_is_cached_and_refreshed_on_an_unknown_kid_at_most_every_30_s(
    relay_api: RelayApi,
    jwks_server: JwksServer,
    signing_keys: Keys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PyJWKClient's cache and cooldown read time.monotonic: shift it forward instead of waiting.
    real_monotonic, now = time.monotonic, [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: real_monotonic() + now[0])
    body = {**OK_BODY, "filePath": "/elsewhere"}

    def code_for(key: Any, **headers: Any) -> str | None:
        token = mint(key, **headers)
        return relay_api.request("POST", "/v1/upload-url", body, token=token).error_code

    assert [code_for(signing_keys.rsa) for _ in range(3)] == ["FOLDER_NOT_ALLOWED"] * 3
    assert jwks_server.hits == 1
    # the identity provider rotates its key; a token with the new kid triggers one re-fetch
    jwks_server.publish(signing_keys.rsa, signing_keys.rotated)
    now[0] += 31
    assert code_for(signing_keys.rotated) == "FOLDER_NOT_ALLOWED"
    assert jwks_server.hits == 2
    # unknown kids right after a refresh do not hammer the identity provider...
    assert [code_for(signing_keys.ec, kid="nope") for _ in range(3)] == ["INVALID_TOKEN"] * 3
    assert jwks_server.hits == 2
    # ...but 30 s later one more look is allowed
    now[0] += 31
    assert code_for(signing_keys.ec, kid="nope") == "INVALID_TOKEN"
    assert jwks_server.hits == 3


def test_body_size_limit_counts_the_raw_body(relay_api: RelayApi) -> None:
    relay_api.configure(RELAY_MAX_BODY_BYTES="200")
    text = json.dumps({**OK_BODY, "fileName": "n" * 120})
    assert len(text) < 200 < len(base64.b64encode(text.encode()))
    plain = relay_api.request("POST", "/v1/upload-url", text, api_key=PARTNER_KEY)
    assert plain.status != 413
    encoded = relay_api.request(
        "POST", "/v1/upload-url", text, api_key=PARTNER_KEY, base64_body=True
    )
    assert (encoded.status, encoded.error_code) == (413, "PAYLOAD_TOO_LARGE")


def test_no_registry_means_every_credential_is_refused(relay_api: RelayApi) -> None:
    relay_api.configure(RELAY_CALLERS_JSON=None)
    response = relay_api.request("POST", "/v1/upload-url", OK_BODY, api_key=PARTNER_KEY)
    assert (response.status, response.error_code) == (401, "INVALID_API_KEY")


def test_invalid_registry_is_a_500_that_reveals_nothing(relay_api: RelayApi) -> None:
    relay_api.configure(RELAY_CALLERS_JSON=json.dumps({"apiKeys": [{"id": "x"}]}))
    response = relay_api.request("POST", "/v1/upload-url", OK_BODY, api_key=PARTNER_KEY)
    assert (response.status, response.error_code) == (500, "CONFIGURATION_ERROR")
    assert "apiKeys" not in response.body


def test_base64_bodies_are_decoded_and_bad_base64_is_refused(relay_api: RelayApi) -> None:
    body = {"mimeType": "text/html", "sizeInBytes": 5}
    decoded = relay_api.request(
        "POST", "/v1/upload-url", body, api_key=PARTNER_KEY, base64_body=True, function_url=True
    )
    assert (decoded.status, decoded.error_code) == (403, "MIME_TYPE_NOT_ALLOWED")
    event = api_event("POST", "/v1/upload-url", body="{}", headers={"x-api-key": PARTNER_KEY})
    event["body"], event["isBase64Encoded"] = "////", True  # decodes to bytes that are not UTF-8
    bad = relay_api(event)
    assert (bad.status, bad.error_code) == (400, "INVALID_JSON")
