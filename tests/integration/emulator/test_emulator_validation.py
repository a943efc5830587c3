"""Wix's field limits and rule errors, with Wix's error body shapes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from wix_emulator import EmulatorConfig, RunningEmulator, start_emulator

from tests.integration.emulator.emulator_helpers import API, WixCalls, rule_names, violations

MIB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


@pytest.fixture(scope="module")
def small_server() -> Iterator[RunningEmulator]:
    """Tiny per-type limits and a site quota, so the rules can be hit with a few bytes."""
    limits = {k: 1000 for k in ("image", "gif", "svg", "video", "audio", "document", "other")}
    limits |= {"archive": 6000, "model3d": 1000}
    cfg = EmulatorConfig(size_limits=limits, site_quota_bytes=5000, processing_ms=0)
    emulator = start_emulator(cfg)
    yield emulator
    emulator.stop()


@pytest.fixture
def small(small_server: RunningEmulator) -> Iterator[WixCalls]:
    yield WixCalls(small_server)
    small_server.reset()


def _one(r: requests.Response, field: str, rule: str) -> dict[str, Any]:
    assert r.status_code == 400, r.text
    body = r.json()
    assert isinstance(body["message"], str) and body["message"]
    matching = [v for v in violations(r) if v["field"] == field]
    assert matching, violations(r)
    v = matching[0]
    assert {"field", "description", "violatedRule"} <= set(v)
    assert rule in (v["violatedRule"], v.get("ruleName")), v
    return v


LONG = "x" * 1001
GENERATE_CASES = [
    ({}, "mimeType", "REQUIRED_FIELD"),
    ({"mimeType": ""}, "mimeType", "REQUIRED_FIELD"),
    ({"mimeType": 5}, "mimeType", "FORMAT"),
    ({"mimeType": "image/" + "x" * 95}, "mimeType", "MAX_LENGTH"),
    ({"fileName": LONG + ".jpg"}, "fileName", "MAX_LENGTH"),
    ({"sizeInBytes": "abc"}, "sizeInBytes", "DECIMAL_FORMAT"),
    ({"sizeInBytes": "-1"}, "sizeInBytes", "DECIMAL_FORMAT"),
    ({"sizeInBytes": "1.5"}, "sizeInBytes", "DECIMAL_FORMAT"),
    ({"sizeInBytes": -1}, "sizeInBytes", "DECIMAL_FORMAT"),
    ({"sizeInBytes": 1.5}, "sizeInBytes", "DECIMAL_FORMAT"),
    ({"sizeInBytes": True}, "sizeInBytes", "DECIMAL_FORMAT"),
    ({"parentFolderId": "f" * 101}, "parentFolderId", "MAX_LENGTH"),
    ({"private": "yes"}, "private", "FORMAT"),
    ({"labels": "one"}, "labels", "FORMAT"),
    ({"labels": ["a"] * 51}, "labels", "MAX_SIZE"),
    ({"labels": ["ok", "l" * 201]}, "labels[1]", "MAX_LENGTH"),
    ({"filePath": "/" + "p" * 100}, "filePath", "MAX_LENGTH"),
    ({"externalInfo": "x"}, "externalInfo", "FORMAT"),
    ({"externalInfo": {"origin": LONG}}, "externalInfo.origin", "MAX_LENGTH"),
    ({"externalInfo": {"externalIds": ["i"] * 31}}, "externalInfo.externalIds", "MAX_SIZE"),
    ({"externalInfo": {"externalIds": ["i" * 4001]}}, "externalInfo.externalIds[0]", "MAX_LENGTH"),
]


@pytest.mark.parametrize(("fields", "field", "rule"), GENERATE_CASES)
def test_generate_upload_url_field_limits(wix: WixCalls, fields, field, rule) -> None:
    body = {"mimeType": "image/jpeg", **fields} if fields else {"fileName": "a.jpg"}
    _one(wix.generate(**body), field, rule)


def test_limits_at_the_edge_are_accepted(wix: WixCalls) -> None:
    r = wix.generate(
        mimeType="image/" + "x" * 94,
        fileName="n" * 996 + ".jpg",
        parentFolderId="media-root",
        labels=["l" * 200] * 50,
        filePath="/" + "p" * 99,
        externalInfo={"origin": "o" * 1000, "externalIds": ["i" * 4000] * 30},
        sizeInBytes="1",
    )
    assert r.status_code == 200, r.text


def test_stored_name_is_truncated_to_255(wix: WixCalls) -> None:
    url = wix.upload_url(mimeType="image/jpeg", fileName="n" * 600 + ".jpg")
    assert len(wix.put(url, b"x", "image/jpeg").json()["file"]["displayName"]) == 255


@pytest.mark.parametrize("size", ["2048", 2048], ids=["string", "number"])
def test_size_in_bytes_string_or_number(wix: WixCalls, size) -> None:
    """[doc] a decimal string; [guess] a JSON integer is coerced."""
    assert wix.generate(mimeType="image/jpeg", sizeInBytes=size).status_code == 200


def test_all_violations_reported_together(wix: WixCalls) -> None:
    r = wix.generate(mimeType=1, private="no", labels=["a"] * 51)
    assert r.status_code == 400
    assert {v["field"] for v in violations(r)} == {"mimeType", "private", "labels"}


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b""])
def test_body_must_be_a_json_object(wix: WixCalls, raw: bytes) -> None:
    r = requests.post(
        wix.url + API + "/generate-upload-url",
        data=raw,
        headers={**wix.headers, "Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 400
    assert violations(r)[0]["violatedRule"] == "FORMAT"


def test_resumable_limits(wix: WixCalls) -> None:
    assert wix.resumable(mimeType="video/mp4", labels=["a"] * 500).status_code == 200
    _one(wix.resumable(mimeType="video/mp4", labels=["a"] * 501), "labels", "MAX_SIZE")
    _one(wix.resumable(mimeType="video/mp4", uploadProtocol="HTTP"), "uploadProtocol", "FORMAT")
    _one(wix.resumable(fileName="a.mp4"), "mimeType", "REQUIRED_FIELD")
    ok = wix.resumable(mimeType="video/mp4", externalInfo={"ignored": True})
    assert ok.status_code == 200  # not a resumable field: ignored like any unknown field


IMPORT_CASES = [
    ({}, "url", "REQUIRED_FIELD"),
    ({"url": "ftp://host/file.jpg"}, "url", "FORMAT"),
    ({"url": "not a url"}, "url", "FORMAT"),
    ({"url": "http://h/a.jpg", "mediaType": "OTHERS"}, "mediaType", "FORMAT"),
    ({"url": "http://h/a.jpg", "displayName": LONG}, "displayName", "MAX_LENGTH"),
    ({"url": "http://h/a.jpg", "labels": ["a"] * 501}, "labels", "MAX_SIZE"),
    ({"url": "http://h/a.jpg", "mimeType": "m" * 101}, "mimeType", "MAX_LENGTH"),
    ({"url": "http://h/a.jpg", "urlHeaders": ["x"]}, "urlHeaders", "FORMAT"),
    ({"url": "http://h/a.jpg", "filePath": "p" * 101}, "filePath", "MAX_LENGTH"),
]


@pytest.mark.parametrize(("fields", "field", "rule"), IMPORT_CASES)
def test_import_field_limits(wix: WixCalls, fields, field, rule) -> None:
    _one(wix.post(API + "/import", fields or {"displayName": "a.jpg"}), field, rule)


# --- the named rules ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"mimeType": "text/html"}, "UNSUPPORTED_FILE_FORMAT"),
        (
            {"mimeType": "application/octet-stream", "fileName": "page.html"},
            "UNSUPPORTED_FILE_FORMAT",
        ),
        ({"mimeType": "image/jpeg", "fileName": "clip.mp4"}, "MISMATCH_MIME_TYPE"),
        ({"mimeType": "video/mp4", "fileName": "song.mp3"}, "MISMATCH_MIME_TYPE"),
        ({"mimeType": "image/jpeg", "sizeInBytes": "0"}, "ZERO_FILE_SIZE"),
        ({"mimeType": "image/jpeg", "sizeInBytes": str(50 * MIB + 1)}, "FILE_SIZE_OVER_LIMIT"),
        ({"mimeType": "image/gif", "sizeInBytes": str(15 * MIB + 1)}, "FILE_SIZE_OVER_LIMIT"),
        ({"mimeType": "image/svg+xml", "sizeInBytes": str(250 * 1024 + 1)}, "FILE_SIZE_OVER_LIMIT"),
        ({"mimeType": "audio/mpeg", "sizeInBytes": str(50 * MIB + 1)}, "FILE_SIZE_OVER_LIMIT"),
        ({"mimeType": "video/mp4", "sizeInBytes": str(4096 * MIB + 1)}, "FILE_SIZE_OVER_LIMIT"),
    ],
)
def test_rules_at_generate_time(wix: WixCalls, fields, rule) -> None:
    for call in (wix.generate, wix.resumable):
        r = call(**fields)
        assert rule_names(r) == [rule], r.text
        v = violations(r)[0]
        assert v["violatedRule"] == "OTHER"
        if rule == "FILE_SIZE_OVER_LIMIT":
            assert int(v["data"]["maxSizeInBytes"]) < int(fields["sizeInBytes"])


def test_same_family_types_and_big_allowed_sizes_pass(wix: WixCalls) -> None:
    assert wix.generate(mimeType="image/png", fileName="photo.jpg").status_code == 200
    assert wix.generate(mimeType="video/mp4", sizeInBytes=str(4 * 1024 * MIB)).status_code == 200
    assert wix.generate(mimeType="application/pdf", fileName="a.pdf").status_code == 200


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_empty_upload_is_zero_file_size(wix: WixCalls, chunked: bool) -> None:
    url = wix.upload_url(mimeType="image/png")
    body: Any = iter([]) if chunked else b""
    r = wix.put(url, body, "image/png")
    assert rule_names(r) == ["ZERO_FILE_SIZE"], r.text
    assert wix.put(url, PNG, "image/png").status_code == 200  # the token survived


def test_upload_refuses_html(wix: WixCalls) -> None:
    url = wix.upload_url(mimeType="application/octet-stream")
    r = wix.put(url + "?filename=x.html", b"<p>hi</p>", "text/html")
    assert rule_names(r) == ["UNSUPPORTED_FILE_FORMAT"]
    sniffed = wix.put(
        url + "?filename=page", b"<!DOCTYPE html><html></html>", "application/octet-stream"
    )
    assert rule_names(sniffed) == ["UNSUPPORTED_FILE_FORMAT"]


def test_upload_mismatch_on_name_and_on_content(wix: WixCalls) -> None:
    url = wix.upload_url(mimeType="video/mp4")
    by_name = wix.put(url + "?filename=clip.jpg", b"x" * 10, "video/mp4")
    assert rule_names(by_name) == ["MISMATCH_MIME_TYPE"]
    by_content = wix.put(url + "?filename=clip.mp4", PNG, "video/mp4")
    assert rule_names(by_content) == ["MISMATCH_MIME_TYPE"]
    assert (
        wix.put(url + "?filename=clip.mp4", b"\0\0\0\x18ftypmp42", "video/mp4").status_code == 200
    )


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_upload_over_the_type_limit(small: WixCalls, chunked: bool) -> None:
    url = small.upload_url(mimeType="image/png", fileName="big.png")
    data = os.urandom(1001)
    r = small.put(url, iter([data[:500], data[500:]]) if chunked else data, "image/png")
    assert rule_names(r) == ["FILE_SIZE_OVER_LIMIT"], r.text
    assert small.em.files() == []
    assert small.put(url, data[:1000], "image/png").status_code == 200


def test_site_quota(small: WixCalls) -> None:
    r = small.generate(mimeType="application/zip", sizeInBytes="5001")
    assert rule_names(r) == ["SITE_QUOTA_EXCEEDED"]
    assert violations(r)[0]["data"]["quota"]["storage"] == "5000"
    # [doc: SDK typings] the resumable generate does not check the quota.
    assert small.resumable(mimeType="application/zip", sizeInBytes="5001").status_code == 200
    for _ in range(2):
        url = small.upload_url(mimeType="application/zip")
        assert small.put(url, os.urandom(2500), "application/zip").status_code == 200
    full = small.put(small.upload_url(mimeType="application/zip"), b"z", "application/zip")
    assert rule_names(full) == ["SITE_QUOTA_EXCEEDED"]
    imported = small.post(API + "/import", {"url": "http://127.0.0.1:9/a.zip"})
    assert rule_names(imported) == ["SITE_QUOTA_EXCEEDED"]
