"""Every POST route reads its body through one place (`web/request_body.py`): each decoding problem
is a 400 naming it (413 for size), never a 500 — over the real handler, on every POST route.
(No Wix credential is configured: a body that got past the reader to Wix would be a 500.)"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.fixtures.api import PARTNER_KEY, RelayApi, api_event
from wix_relay.domain.json_text import MAX_DEPTH, loads, nesting_depth

POST_ROUTES = ["/v1/upload-url", "/v1/resumable-upload-url", "/v1/imports"]
DEEP = 10_000


def raw_event(path: str, body: str, *, base64_body: bool = False) -> dict[str, Any]:
    """An event whose body is exactly `body` as delivered (no re-encoding by the fixture)."""
    event = api_event("POST", path, body="{}", headers={"x-api-key": PARTNER_KEY})
    event["body"], event["isBase64Encoded"] = body, base64_body
    return event


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# (case, body as delivered, isBase64Encoded, status, code, words the message must contain)
BodyCase = tuple[str, str, bool, int, str, str]
CASES: list[BodyCase] = [
    ("not base64", "{not base64!}", True, 400, "INVALID_JSON", "not valid base64"),
    ("base64, not UTF-8", b64(b'{"mimeType": "\xff\xfe"}'), True, 400, "INVALID_JSON", "UTF-8"),
    ("lone surrogate", '{"mimeType": "\ud800"}', False, 400, "INVALID_JSON", "UTF-8"),
    ("not JSON", '{"mimeType": "image/png",', False, 400, "INVALID_JSON", "not valid JSON"),
    ("NaN", '{"sizeInBytes": NaN}', False, 400, "INVALID_JSON", "NaN"),
    ("huge integer", '{"sizeInBytes": ' + "9" * 5000 + "}", False, 400, "INVALID_JSON", "JSON"),
    ("deep array", "[" * DEEP + "]" * DEEP, False, 400, "INVALID_JSON", "nested deeper"),
    (
        "deep inside a field",
        '{"mimeType": "image/png", "labels": ' + "[" * DEEP + "]" * DEEP + "}",
        False,
        400,
        "INVALID_JSON",
        "nested deeper",
    ),
    (
        "deep object, base64",
        b64(('{"a":' * (DEEP // 2) + "1" + "}" * (DEEP // 2)).encode()),
        True,
        400,
        "INVALID_JSON",
        "nested deeper",
    ),
    ("unclosed deep array", "[" * DEEP, False, 400, "INVALID_JSON", "nested deeper"),
    ("array", "[]", False, 400, "INVALID_JSON", "JSON object"),
    ("empty", "", False, 400, "INVALID_JSON", "JSON object"),
    ("duplicate key", '{"a": 1, "a": 2}', False, 400, "INVALID_JSON", "duplicate field 'a'"),
    (
        "oversize",
        json.dumps({"fileName": "n" * 70_000}),
        False,
        413,
        "PAYLOAD_TOO_LARGE",
        "at most",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("path", POST_ROUTES)
def test_every_body_problem_is_named_on_every_post_route(
    relay_api: RelayApi, case: BodyCase, path: str
) -> None:
    _, body, encoded, status, code, words = case
    response = relay_api(raw_event(path, body, base64_body=encoded))
    assert (response.status, response.error_code) == (status, code), response.body
    assert words in response.json()["error"]["message"]


def test_a_deep_body_is_refused_before_any_parser_recursion() -> None:
    # Far below the interpreter's recursion limit, and linear: brackets inside strings and
    # escaped quotes do not count.
    assert nesting_depth('["[[[[", "\\"[[[", {"a": [1]}]', MAX_DEPTH) == 3
    assert nesting_depth("[" * DEEP, MAX_DEPTH) == MAX_DEPTH + 1
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(ValueError, match="nested deeper than 32 levels"):
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


def test_duplicate_key_names_the_field(relay_api: RelayApi) -> None:
    response = relay_api(raw_event("/v1/upload-url", '{"mimeType":"a/b","mimeType":"c/d"}'))
    assert response.json()["error"]["details"] == [
        {"field": "mimeType", "message": "appears more than once", "rule": "DUPLICATE"}
    ]
