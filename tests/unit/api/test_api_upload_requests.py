"""The upload-URL field table: validation against Wix's limits, and the JSON Schema it publishes
(checked to agree with an independent JSON Schema validator)."""

from __future__ import annotations

import base64
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wix_relay.domain.errors import InvalidInput
from wix_relay.domain.upload_requests import (
    RESUMABLE_UPLOAD_URL,
    UPLOAD_URL,
    UploadRequest,
)
from wix_relay.web.request_body import json_object


def problems(model: Any, doc: Any) -> list[tuple[str, str | None]]:
    try:
        model.parse(doc)
    except InvalidInput as exc:
        return [(p.field, p.rule) for p in exc.details]
    return []


def test_valid_request_becomes_wix_fields_with_size_as_string() -> None:
    request = UPLOAD_URL.parse(
        {
            "mimeType": "image/jpeg",
            "fileName": "summer 2024.jpg",
            "sizeInBytes": 2048,
            "labels": ["a", "b"],
            "externalInfo": {"origin": "erp", "externalIds": ["42"]},
        }
    )
    assert request == UploadRequest("image/jpeg", "summer 2024.jpg", 2048, labels=("a", "b"))
    fields = request.wix_fields("/partners/acme")
    assert fields == {
        "mimeType": "image/jpeg",
        "fileName": "summer 2024.jpg",
        "sizeInBytes": "2048",
        "filePath": "/partners/acme",
        "labels": ["a", "b"],
        "externalInfo": {"origin": "erp", "externalIds": ["42"]},
    }


@pytest.mark.parametrize(
    ("size", "expected"), [(0, "0"), ("2048000", "2048000"), (5.0, "5"), (2**40, str(2**40))]
)
def test_size_number_or_decimal_string(size: Any, expected: str) -> None:
    request = UPLOAD_URL.parse(
        json.loads(json.dumps({"mimeType": "image/png", "sizeInBytes": size}))
    )
    assert request.wix_fields(None)["sizeInBytes"] == expected


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({}, [("mimeType", "REQUIRED")]),
        ({"mimeType": ""}, [("mimeType", "REQUIRED")]),
        ({"mimeType": "x" * 101}, [("mimeType", "MAX_LENGTH")]),
        ({"mimeType": "jpeg"}, [("mimeType", "FORMAT")]),
        ({"mimeType": "image/png", "fileName": "f" * 201}, [("fileName", "MAX_LENGTH")]),
        ({"mimeType": "image/png", "fileName": "a\nb"}, [("fileName", "FORMAT")]),
        ({"mimeType": "image/png", "sizeInBytes": -1}, [("sizeInBytes", "RANGE")]),
        ({"mimeType": "image/png", "sizeInBytes": "12.5"}, [("sizeInBytes", "TYPE")]),
        ({"mimeType": "image/png", "sizeInBytes": "-3"}, [("sizeInBytes", "TYPE")]),
        ({"mimeType": "image/png", "sizeInBytes": True}, [("sizeInBytes", "TYPE")]),
        ({"mimeType": "image/png", "sizeInBytes": 1.5}, [("sizeInBytes", "TYPE")]),
        ({"mimeType": "image/png", "sizeInBytes": "9" * 20}, [("sizeInBytes", "TYPE")]),
        ({"mimeType": "image/png", "private": "yes"}, [("private", "TYPE")]),
        (
            {"mimeType": "image/png", "parentFolderId": "p" * 101},
            [("parentFolderId", "MAX_LENGTH")],
        ),
        ({"mimeType": "image/png", "filePath": "/" + "a" * 100}, [("filePath", "MAX_LENGTH")]),
        ({"mimeType": "image/png", "labels": ["x"] * 51}, [("labels", "MAX_ITEMS")]),
        ({"mimeType": "image/png", "labels": ["x" * 201]}, [("labels[0]", "MAX_LENGTH")]),
        ({"mimeType": "image/png", "labels": "x"}, [("labels", "TYPE")]),
        ({"mimeType": "image/png", "labels": [1]}, [("labels[0]", "TYPE")]),
        (
            {"mimeType": "image/png", "externalInfo": {"origin": "o" * 1001, "x": 1}},
            [("externalInfo.x", "UNKNOWN_FIELD"), ("externalInfo.origin", "MAX_LENGTH")],
        ),
        (
            {"mimeType": "image/png", "externalInfo": {"externalIds": ["i"] * 31}},
            [("externalInfo.externalIds", "MAX_ITEMS")],
        ),
        (
            {"mimeType": "image/png", "mimetype": "a", "extra": 1},
            [("mimetype", "UNKNOWN_FIELD"), ("extra", "UNKNOWN_FIELD")],
        ),
    ],
)
def test_problems_name_the_field_and_rule(doc: dict[str, Any], expected: list[Any]) -> None:
    assert problems(UPLOAD_URL, doc) == expected


def test_resumable_model_differences() -> None:
    assert problems(RESUMABLE_UPLOAD_URL, {"mimeType": "video/mp4", "labels": ["x"] * 500}) == []
    assert problems(RESUMABLE_UPLOAD_URL, {"mimeType": "video/mp4", "labels": ["x"] * 501}) == [
        ("labels", "MAX_ITEMS")
    ]
    assert problems(RESUMABLE_UPLOAD_URL, {"mimeType": "video/mp4", "externalInfo": {}}) == [
        ("externalInfo", "UNKNOWN_FIELD")
    ]
    assert problems(RESUMABLE_UPLOAD_URL, {"mimeType": "video/mp4", "uploadProtocol": "X"}) == [
        ("uploadProtocol", "ENUM")
    ]


@pytest.mark.parametrize(
    "body", ["", "   ", "{", "[1]", '"text"', "null", b"\xff\xfe{", '{"a":1,"a":2}']
)
def test_malformed_json_is_invalid_json(body: str | bytes) -> None:
    text = body.decode("latin-1") if isinstance(body, bytes) else body
    event = {"body": text, "isBase64Encoded": False}
    if isinstance(body, bytes):  # bytes that are not UTF-8 arrive base64-encoded
        event = {"body": base64.b64encode(body).decode(), "isBase64Encoded": True}
    with pytest.raises(InvalidInput) as info:
        json_object(event, 64 * 1024)
    assert info.value.code == "INVALID_JSON"


# --- the schema says what the validator does ---------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 2**64)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
field_values = st.one_of(
    st.sampled_from(["image/png", "video/mp4", "x" * 101, "bad", "", "/a/b", "TUS"]),
    st.text(max_size=8),
    st.integers(-2, 2**64),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=3),
    st.lists(st.just("l"), min_size=49, max_size=52),
    json_values,
)


def documents(model: Any) -> st.SearchStrategy[dict[str, Any]]:
    names = [f.name for f in model.fields] + ["unknown"]
    return st.dictionaries(st.sampled_from(names), field_values, max_size=5)


@pytest.mark.parametrize("model", [UPLOAD_URL, RESUMABLE_UPLOAD_URL], ids=lambda m: m.name)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_json_schema_agrees_with_the_validator(model: Any, data: st.DataObject) -> None:
    doc = data.draw(documents(model))
    doc = {k: v for k, v in doc.items() if v is not None}  # null means "absent" for both
    schema_ok = jsonschema.Draft202012Validator(model.json_schema()).is_valid(doc)
    ours_ok = not problems(model, doc)
    # Our validator also refuses control characters in strings (not expressible portably).
    if schema_ok and not ours_ok:
        assert any(rule == "FORMAT" for _, rule in problems(model, doc)), doc
    else:
        assert schema_ok == ours_ok, (doc, problems(model, doc))
