"""The OpenAPI document: valid OpenAPI 3.1 (openapi-spec-validator), complete (every status a
route can answer, its headers and codes, the Idempotency-Key parameter, the auth schemes, the
path parameter as the docs name it), and the committed copy docs/openapi.json equal to what the
code serves (`make openapi` rewrites it)."""

from __future__ import annotations

import json
from typing import Any

import openapi_spec_validator
import pytest

from scripts import openapi as committed
from wix_relay.handlers import api
from wix_relay.services.imports import IDEMPOTENCY_KEY_MAX
from wix_relay.web import openapi


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(api._openapi_json())
    return document


def test_it_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    openapi_spec_validator.validate(doc)
    assert doc["openapi"].startswith("3.1")


def test_the_committed_copy_is_what_the_code_serves() -> None:
    assert committed.COMMITTED.read_text() == committed.document_text(), (
        "docs/openapi.json is out of date: run `make openapi` and commit it"
    )


def test_every_route_is_documented(doc: dict[str, Any]) -> None:
    served = {
        (method, openapi_path)
        for openapi_path, operations in doc["paths"].items()
        for method in operations
    }
    routes = {(r.method.lower(), r.path) for r in api._registered_routes()}
    assert len(served) == len(routes)
    assert ("get", "/v1/imports/{id}") in served  # named as in docs/api.md
    (parameter,) = doc["paths"]["/v1/imports/{id}"]["get"]["parameters"]
    assert (parameter["name"], parameter["in"], parameter["required"]) == ("id", "path", True)


def test_auth_schemes_and_public_routes(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "apiKey", "in": "header"}
    assert schemes["apiKey"]["name"] == "x-api-key"
    assert (schemes["bearerJwt"]["scheme"], schemes["bearerJwt"]["bearerFormat"]) == (
        "bearer",
        "JWT",
    )
    for path, operations in doc["paths"].items():
        for operation in operations.values():
            public = path in api.PUBLIC_PATHS
            assert operation["security"] == ([] if public else [{"apiKey": []}, {"bearerJwt": []}])
            unauthorized = operation["responses"].get("401", {}).get("x-error-codes", [])
            # A public route asks for no caller credential (the Wix events route's 401 is the
            # event's own signature).
            assert ("UNAUTHENTICATED" in unauthorized) is not public


def test_the_import_contract(doc: dict[str, Any]) -> None:
    post = doc["paths"]["/v1/imports"]["post"]
    (key,) = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header" and not key["required"]
    assert key["schema"]["maxLength"] == IDEMPOTENCY_KEY_MAX
    accepted = post["responses"]["202"]
    assert accepted["description"].startswith("Accepted")
    assert accepted["headers"]["Location"]["required"] is True
    assert set(post["responses"]) >= {"202", "400", "401", "403", "404", "405", "413", "503"}
    assert "IMPORT_SOURCE_NOT_ALLOWED" in post["responses"]["403"]["x-error-codes"]


@pytest.mark.parametrize("path", ["/v1/upload-url", "/v1/resumable-upload-url"])
def test_every_status_an_upload_route_answers(doc: dict[str, Any], path: str) -> None:
    responses = doc["paths"][path]["post"]["responses"]
    wanted = {"200", "400", "401", "403", "404", "405", "413", "429", "500", "502", "503", "504"}
    assert set(responses) == wanted
    for status in ("429", "503"):
        assert "Retry-After" in responses[status]["headers"]
    assert responses["405"]["headers"]["Allow"]["required"] is True
    assert "WWW-Authenticate" in responses["401"]["headers"]
    for status, response in responses.items():
        if status != "200":
            assert response["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }
            assert response["x-error-codes"], status
    assert set(openapi.POLICY_CODES) <= set(responses["403"]["x-error-codes"])
    size = doc["components"]["schemas"]["UploadUrlRequest"]["properties"]["sizeInBytes"]
    assert "policy" in size["description"]  # its requirement depends on the caller's policy
