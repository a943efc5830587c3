"""The Wix client's pure parts: credentials, host allow-list, Retry-After, backoff, tus helpers,
file descriptors, body framing. Everything over HTTP is in tests/integration/wix_client."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wix_relay.integrations.wix import (
    TUS_CHUNK_ALIGN,
    ApiKeyCredentials,
    AppCredentials,
    FileDescriptor,
    ResumableTarget,
    SourceError,
    UploadHostNotAllowed,
    WixCredentialsError,
    WixProtocolError,
    aligned_chunk_size,
    check_upload_url,
    credentials_from_document,
    retry_after_seconds,
)
from wix_relay.integrations.wix._http import RetryPolicy, SizedBody, read_pieces
from wix_relay.integrations.wix.client import _Opener
from wix_relay.integrations.wix.errors import redact
from wix_relay.integrations.wix.tus import encode_metadata

CANARY = "canary-SECRET-4f1e9a"
MIB = 1024 * 1024


# --- credentials --------------------------------------------------------------------------------
def test_api_key_document() -> None:
    creds = credentials_from_document({"apiKey": CANARY, "siteId": "site-1"})
    assert creds == ApiKeyCredentials(api_key=CANARY, site_id="site-1")


def test_app_document() -> None:
    doc = {"appId": "app", "appSecret": CANARY, "instanceId": "inst", "apiBaseUrl": "ignored"}
    assert credentials_from_document(doc) == AppCredentials("app", CANARY, "inst")


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"apiKey": CANARY}, "siteId"),
        ({"siteId": CANARY}, "apiKey"),
        ({"appId": CANARY, "instanceId": CANARY}, "appSecret"),
        ({"appSecret": CANARY, "appId": CANARY}, "instanceId"),
        ({"apiKey": CANARY, "siteId": ""}, "siteId"),
        ({"apiKey": 12345, "siteId": CANARY}, "apiKey"),
    ],
)
def test_incomplete_document_names_the_key_never_a_value(doc: dict[str, object], key: str) -> None:
    with pytest.raises(WixCredentialsError) as caught:
        credentials_from_document(doc)
    assert f"'{key}'" in str(caught.value)
    assert CANARY not in str(caught.value) and CANARY not in repr(caught.value)
    assert "12345" not in str(caught.value)


@pytest.mark.parametrize("doc", [{}, {"token": CANARY}, [CANARY], CANARY])
def test_document_of_neither_kind(doc: object) -> None:
    with pytest.raises(WixCredentialsError) as caught:
        credentials_from_document(doc)  # type: ignore[arg-type]
    assert CANARY not in str(caught.value)


def test_credentials_repr_hides_secrets() -> None:
    assert CANARY not in repr(ApiKeyCredentials(CANARY, "site"))
    assert CANARY not in repr(AppCredentials("app", CANARY, "inst"))
    assert CANARY not in repr(ResumableTarget("https://upload.wixmp.com/upload/tus", CANARY))


def test_redact_replaces_every_secret() -> None:
    assert redact(f"a {CANARY} b {CANARY}", [CANARY, ""]) == "a [redacted] b [redacted]"


# --- upload host allow-list ---------------------------------------------------------------------
ALLOWED = ("upload.wixmp.com", "127.0.0.1:3001", "localhost:8080")


@pytest.mark.parametrize(
    "url",
    [
        "https://upload.wixmp.com/upload/abc",
        "https://UPLOAD.wixmp.com:443/upload/abc?x=1",
        "http://127.0.0.1:3001/upload/abc",
        "http://localhost:8080/upload/tus",
    ],
)
def test_allowed_upload_urls(url: str) -> None:
    check_upload_url(url, ALLOWED)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://evil.example/upload/tok3n", "evil.example"),
        ("https://upload.wixmp.com.evil.example/upload/tok3n", "not in"),
        ("https://upload.wixmp.com:8443/upload/tok3n", "upload.wixmp.com:8443"),
        ("http://upload.wixmp.com/upload/tok3n", "https"),
        ("https://user:pw@upload.wixmp.com/upload/tok3n", "user information"),
        ("http://127.0.0.1:3002/upload/tok3n", "127.0.0.1:3002"),
        ("/upload/tok3n", "absolute"),
        ("ftp://upload.wixmp.com/tok3n", "absolute"),
        ("https://upload.wixmp.com:99999/tok3n", "port"),
    ],
)
def test_refused_upload_urls(url: str, reason: str) -> None:
    with pytest.raises(UploadHostNotAllowed) as caught:
        check_upload_url(url, ALLOWED)
    assert reason in str(caught.value)
    assert "tok3n" not in str(caught.value)  # the URL's token is never echoed


# --- Retry-After and backoff --------------------------------------------------------------------
def test_retry_after_seconds_and_dates() -> None:
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)
    earlier = format_datetime(now - timedelta(seconds=7), usegmt=True)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(" 0 ") == 0.0
    assert retry_after_seconds(later, now=now.timestamp()) == pytest.approx(7.0)
    assert retry_after_seconds(earlier, now=now.timestamp()) == 0.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("-1") is None


@given(st.integers(min_value=0, max_value=60), st.floats(min_value=0, max_value=1))
def test_full_jitter_stays_within_the_capped_exponential(attempt: int, draw: float) -> None:
    policy = RetryPolicy(budget_s=20, base_s=0.25, cap_s=8.0)
    delay = policy.delay(attempt, lambda: draw)
    assert 0 <= delay <= min(8.0, 0.25 * 2**attempt)


# --- tus helpers --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("asked", "got"),
    [(1, TUS_CHUNK_ALIGN), (TUS_CHUNK_ALIGN, TUS_CHUNK_ALIGN), (8 * MIB + 5, 8 * MIB)],
)
def test_chunk_size_is_a_multiple_of_256_kib(asked: int, got: int) -> None:
    assert aligned_chunk_size(asked) == got


def test_tus_metadata_encoding() -> None:
    encoded = encode_metadata({"filename": "a b.png", "contentType": "image/png", "token": "t"})
    assert encoded == "filename YSBiLnBuZw==,contentType aW1hZ2UvcG5n,token dA=="
    with pytest.raises(ValueError, match="metadata key"):
        encode_metadata({"bad key": "x"})


# --- file descriptors ---------------------------------------------------------------------------
def test_file_descriptor_from_rest_json() -> None:
    file = FileDescriptor.from_json(
        {
            "id": "f1",
            "displayName": "cat.png",
            "sizeInBytes": "1024",
            "operationStatus": "PENDING",
            "labels": ["a"],
            "private": False,
            "somethingNew": {"x": 1},
        }
    )
    assert (file.id, file.size_in_bytes, file.labels, file.private) == ("f1", 1024, ("a",), False)
    assert not file.is_final and file.raw["somethingNew"] == {"x": 1}
    assert FileDescriptor.from_json({"id": "f2", "operationStatus": "FAILED"}).is_final


@pytest.mark.parametrize("data", [None, {}, {"id": ""}, ["id"]])
def test_file_descriptor_without_id(data: object) -> None:
    with pytest.raises(WixProtocolError):
        FileDescriptor.from_json(data)


# --- bodies and sources -------------------------------------------------------------------------
def test_sized_body_checks_the_declared_size() -> None:
    assert b"".join(SizedBody([b"ab", b"", b"c"], 3)) == b"abc"
    with pytest.raises(SourceError, match="ended after 2 of 3"):
        list(SizedBody([b"ab"], 3))
    with pytest.raises(SourceError, match="more than the declared 3"):
        list(SizedBody([b"ab", b"cd"], 3))


def test_read_pieces_bounds_each_piece_and_the_total() -> None:
    pieces = list(read_pieces(io.BytesIO(b"x" * 10), limit=7, piece=3))
    assert [len(p) for p in pieces] == [3, 3, 1]


def test_reopenable_sources() -> None:
    stream = io.BytesIO(b"skip-body")
    stream.seek(5)
    for source in (b"body", stream, [b"bo", b"dy"], lambda: io.BytesIO(b"body")):
        opener = _Opener(source)
        assert opener.reopenable
        for _ in range(2):
            pieces, close = opener.open()
            assert b"".join(pieces) == b"body"
            close()


def test_one_shot_sources_open_once() -> None:
    for source in (iter([b"body"]), (piece for piece in [b"body"])):
        opener = _Opener(source)
        assert not opener.reopenable
        pieces, _ = opener.open()
        assert b"".join(pieces) == b"body"
        with pytest.raises(Exception, match="one-shot"):
            opener.open()
