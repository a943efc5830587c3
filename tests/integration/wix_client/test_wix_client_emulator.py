"""WixMediaClient against the Wix emulator over real HTTP: every call, both credential kinds,
every error kind, retries through the emulator's fault switches, and TUS resume after a cut."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from wix_emulator import EmulatorConfig, RunningEmulator, start_emulator

from tests.integration.wix_client.wix_client_helpers import CountingFile
from wix_relay.config import WixSettings
from wix_relay.integrations.wix import (
    ApiKeyCredentials,
    AppCredentials,
    Credentials,
    FileDescriptor,
    ResumableTarget,
    SourceError,
    UploadHostNotAllowed,
    WixAuthError,
    WixError,
    WixMediaClient,
    WixNetworkError,
    WixNotFound,
    WixProtocolError,
    WixRateLimited,
    WixServerError,
    WixTimeout,
    WixValidationError,
    credentials_from_document,
)

KIB, MIB = 1024, 1024 * 1024
PNG_HEAD = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00"
)


def png(size: int) -> bytes:
    """PNG-looking bytes (the emulator sniffs the first bytes) of exactly `size` bytes."""
    body = PNG_HEAD + bytes(i * 7 % 251 for i in range(4096))
    return (body * (size // len(body) + 1))[:size]


class Sleeps:
    """Records every backoff delay the client asks for, and really sleeps it (they are small)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float, /) -> None:
        self.delays.append(seconds)
        time.sleep(seconds)


def settings_for(em: RunningEmulator, **overrides: Any) -> WixSettings:
    values: dict[str, Any] = {
        "api_base_url": em.url,
        "upload_hosts": (em.upload_host,),
        "connect_timeout_s": 2.0,
        "read_timeout_s": 5.0,
        "retry_budget_s": 5.0,
    }
    values.update(overrides)
    return WixSettings(**values)


def api_key(em: RunningEmulator) -> ApiKeyCredentials:
    return ApiKeyCredentials(em.api_key, em.site_id)


def app(em: RunningEmulator) -> AppCredentials:
    return AppCredentials(em.app_id, em.app_secret, em.instance_id)


def client_for(
    em: RunningEmulator,
    credentials: Credentials | Callable[[], Credentials] | None = None,
    *,
    sleeps: Sleeps | None = None,
    **overrides: Any,
) -> WixMediaClient:
    return WixMediaClient(
        credentials or api_key(em),
        settings_for(em, **overrides),
        sleep=sleeps or Sleeps(),
        backoff_base_s=0.02,
        backoff_cap_s=0.2,
    )


# The emulator logs a call just *after* answering it, so a previous test's last call can land in
# the log after that test's reset. Each test reads the log from where it stood at its start.
_LOG_START: dict[int, int] = {}


def _settled_log(em: RunningEmulator) -> list[dict[str, Any]]:
    before = em.requests()
    while True:
        time.sleep(0.05)
        now = em.requests()
        if now == before:
            return now
        before = now


@pytest.fixture
def wix_emulator(wix_emulator: RunningEmulator) -> RunningEmulator:
    """The shared (reset) emulator, with the start of this test's part of its request log."""
    _LOG_START[id(wix_emulator)] = len(_settled_log(wix_emulator))
    return wix_emulator


def calls(em: RunningEmulator, endpoint: str, at_least: int = 0) -> list[dict[str, Any]]:
    """This test's logged `endpoint` calls: waits until at least `at_least` are there and the
    log stops growing."""
    deadline = time.monotonic() + 3
    seen: list[dict[str, Any]] | None = None
    while True:
        log = em.requests()[_LOG_START.get(id(em), 0) :]
        found = [r for r in log if r["endpoint"] == endpoint]
        if (len(found) >= at_least and found == seen) or time.monotonic() > deadline:
            return found
        seen = found
        time.sleep(0.05)


def stored(em: RunningEmulator, file_id: str) -> dict[str, Any]:
    return next(f for f in em.files() if f["id"] == file_id)


def upload_png(client: WixMediaClient, size: int = 2048, name: str = "cat.png") -> FileDescriptor:
    url = client.generate_upload_url({"mimeType": "image/png", "fileName": name})
    data = png(size)
    return client.upload(url, data, mime_type="image/png", filename=name, size=size)


@pytest.fixture(params=["apiKey", "app"])
def any_client(request: pytest.FixtureRequest, wix_emulator: RunningEmulator) -> WixMediaClient:
    """The same tests with both credential kinds, built from the secret's JSON shape."""
    creds = credentials_from_document(wix_emulator.credentials_document(request.param))
    return client_for(wix_emulator, creds)


# --- every call, both credential kinds ------------------------------------------------------
def test_upload_url_then_put_then_ready(
    any_client: WixMediaClient, wix_emulator: RunningEmulator
) -> None:
    data = png(5000)
    url = any_client.generate_upload_url(
        {"mimeType": "image/png", "fileName": "cat.png", "sizeInBytes": len(data), "labels": ["x"]}
    )
    assert url.startswith(f"{wix_emulator.url}/upload/")
    file = any_client.upload(url, data, mime_type="image/png", filename="cat.png", size=len(data))
    assert file.operation_status == "PENDING" and file.size_in_bytes == len(data)
    ready = any_client.wait_until_ready(file.id, timeout_s=5, first_delay_s=0.02)
    assert ready.is_ready and ready.labels == ("x",)
    assert stored(wix_emulator, file.id)["md5"] == hashlib.md5(data).hexdigest()


def test_resumable_upload_and_finalize(
    any_client: WixMediaClient, wix_emulator: RunningEmulator, tmp_path: Path
) -> None:
    source = tmp_path / "big.png"
    data = png(3 * MIB + 1000)
    source.write_bytes(data)
    fields = {"mimeType": "image/png", "fileName": "b.png"}
    target = any_client.generate_resumable_upload_url(fields)
    assert target.protocol == "TUS" and target.upload_url.endswith("/upload/tus")
    opener = CountingFile(source)
    file = any_client.upload_resumable(
        target, opener, size=len(data), mime_type="image/png", filename="b.png", chunk_size=MIB
    )
    assert file.size_in_bytes == len(data)
    assert stored(wix_emulator, file.id)["md5"] == hashlib.md5(data).hexdigest()
    assert opener.served == len(data)
    patches = calls(wix_emulator, "tus-patch", 4)
    assert [p["bodyBytes"] for p in patches] == [MIB, MIB, MIB, 1000]


def test_import_bulk_import_and_reads(
    any_client: WixMediaClient, wix_emulator: RunningEmulator
) -> None:
    first = upload_png(any_client, name="one.png")
    assert first.url is not None
    imported = any_client.import_file(first.url, {"mimeType": "image/png", "displayName": "i.png"})
    assert imported.operation_status == "PENDING" and imported.source_url == first.url
    bulk = any_client.bulk_import(
        [{"url": first.url, "mimeType": "image/png"}, {"url": "not a url"}], return_entity=True
    )
    assert bulk["bulkActionMetadata"]["totalSuccesses"] == 1
    assert [r["itemMetadata"]["success"] for r in bulk["results"]] == [True, False]

    assert any_client.get_file(first.id).id == first.id
    ids = [first.id, imported.id, bulk["results"][0]["itemMetadata"]["id"]]
    assert [f.id for f in any_client.get_files(ids)] == ids
    assert any_client.get_files([]) == []

    seen: list[str] = []
    page = any_client.list_files(limit=2)
    while True:
        seen.extend(f.id for f in page.files)
        if page.next_cursor is None:
            break
        page = any_client.list_files(limit=2, cursor=page.next_cursor)
    assert sorted(seen) == sorted(ids)
    assert any_client.list_files("media-root", limit=100).next_cursor is None


def test_wait_until_ready_reports_failed(
    wix_emulator: RunningEmulator,
) -> None:
    client = client_for(wix_emulator)
    wix_emulator.fail_next(1)
    failed = client.wait_until_ready(upload_png(client).id, timeout_s=5, first_delay_s=0.02)
    assert failed.is_failed


def test_wait_until_ready_returns_pending_when_time_is_up() -> None:
    with start_emulator(EmulatorConfig(processing_ms=600_000), port=0) as em:
        client = client_for(em)
        pending = client.wait_until_ready(upload_png(client).id, timeout_s=0.3, first_delay_s=0.05)
        assert pending.operation_status == "PENDING"  # returned, not raised
        assert 2 <= len(calls(em, "get-file", 2)) <= 5  # polled with growing delays


# --- credentials ------------------------------------------------------------------------------
def test_app_token_is_cached_and_refreshed_once_on_401(wix_emulator: RunningEmulator) -> None:
    client = client_for(wix_emulator, app(wix_emulator))
    for _ in range(3):
        client.generate_upload_url({"mimeType": "image/png"})
    assert len(calls(wix_emulator, "oauth-token", 1)) == 1
    wix_emulator.advance_clock(14401)  # the emulator now refuses the cached token
    client.generate_upload_url({"mimeType": "image/png"})
    api_calls = calls(wix_emulator, "generate-upload-url", 5)
    assert [c["status"] for c in api_calls[-2:]] == [401, 200]
    assert len(calls(wix_emulator, "oauth-token", 2)) == 2


def test_app_token_refreshed_before_expiry() -> None:
    with start_emulator(EmulatorConfig(token_expires_in=1), port=0) as em:
        client = client_for(em, app(em))
        client.generate_upload_url({"mimeType": "image/png"})
        time.sleep(1.0)
        client.generate_upload_url({"mimeType": "image/png"})
        assert len(calls(em, "oauth-token", 2)) == 2
        assert all(c["status"] == 200 for c in calls(em, "generate-upload-url", 2))  # never a 401


def test_credentials_callable_is_asked_again_after_401(wix_emulator: RunningEmulator) -> None:
    handed_out: list[Credentials] = []

    def provider() -> Credentials:  # e.g. Secrets Manager with a TTL; here rotated after a 401
        creds = ApiKeyCredentials("stale-key", wix_emulator.site_id)
        if handed_out and handed_out[-1].api_key == "stale-key":  # type: ignore[union-attr]
            creds = api_key(wix_emulator)
        handed_out.append(creds)
        return creds

    client = client_for(wix_emulator, provider)
    assert client.generate_upload_url({"mimeType": "image/png"})
    assert [c["status"] for c in calls(wix_emulator, "generate-upload-url", 2)] == [401, 200]


@pytest.mark.parametrize(
    ("creds", "status"),
    [
        (lambda em: ApiKeyCredentials("wrong-key", em.site_id), 401),
        (lambda em: ApiKeyCredentials(em.api_key, "other-site"), 403),
        (lambda em: AppCredentials(em.app_id, "wrong-secret", em.instance_id), 401),
        (lambda em: AppCredentials(em.app_id, em.app_secret, "other-instance"), 400),
    ],
)
def test_bad_credentials_raise_auth_errors(
    wix_emulator: RunningEmulator, creds: Callable[[RunningEmulator], Credentials], status: int
) -> None:
    with pytest.raises(WixAuthError) as caught:
        client_for(wix_emulator, creds(wix_emulator)).generate_upload_url({"mimeType": "image/png"})
    assert caught.value.status == status and caught.value.request_id
    assert not caught.value.retryable


# --- error kinds ----------------------------------------------------------------------------
def test_validation_error_carries_rule_names_and_field_violations(
    wix_emulator: RunningEmulator,
) -> None:
    client = client_for(wix_emulator)
    with pytest.raises(WixValidationError) as caught:
        client.generate_upload_url({"mimeType": "image/png", "sizeInBytes": 10**12})
    err = caught.value
    assert err.status == 400 and err.code == "FILE_SIZE_OVER_LIMIT"
    assert err.rule_names == ("FILE_SIZE_OVER_LIMIT",)
    assert err.field_violations[0].field == "sizeInBytes"
    assert err.request_id and err.request_id in str(err)
    assert len(calls(wix_emulator, "generate-upload-url", 1)) == 1  # a 400 is never retried

    with pytest.raises(WixValidationError) as html:
        client.generate_upload_url({"mimeType": "text/html", "fileName": "x.html"})
    assert "UNSUPPORTED_FILE_FORMAT" in html.value.rule_names

    with pytest.raises(WixValidationError) as missing:
        client.generate_upload_url({"fileName": "x.png"})
    assert [v.field for v in missing.value.field_violations] == ["mimeType"]


def test_not_found(wix_emulator: RunningEmulator) -> None:
    """[doc: SDK typings] an unknown id is 400 RESOURCE_NOT_FOUND: read as not-found, not as a
    validation refusal."""
    with pytest.raises(WixNotFound) as caught:
        client_for(wix_emulator).get_file("no-such-file")
    assert caught.value.status == 400 and not caught.value.retryable
    assert caught.value.code == "RESOURCE_NOT_FOUND"
    assert not isinstance(caught.value, WixValidationError)
    assert len(calls(wix_emulator, "get-file", 1)) == 1


def test_html_and_empty_error_bodies(wix_emulator: RunningEmulator) -> None:
    client = client_for(wix_emulator)
    wix_emulator.add_fault(
        "generate-upload-url", status=403, body="<html><body>Forbidden <b>by gateway</b></body>"
    )
    with pytest.raises(WixAuthError) as html:
        client.generate_upload_url({"mimeType": "image/png"})
    assert html.value.status == 403 and "<" not in str(html.value)
    wix_emulator.add_fault("get-file", status=400, body="", content_type="application/json")
    with pytest.raises(WixValidationError) as empty:
        client.get_file("x")
    assert empty.value.status == 400 and empty.value.code == "HTTP_400"


@pytest.mark.parametrize(
    ("status", "body"), [(200, "<html>maintenance</html>"), (200, "[]"), (302, "")]
)
def test_undocumented_answers_are_protocol_errors(
    wix_emulator: RunningEmulator, status: int, body: str
) -> None:
    wix_emulator.add_fault("generate-upload-url", status=status, body=body)
    with pytest.raises(WixProtocolError) as caught:
        client_for(wix_emulator).generate_upload_url({"mimeType": "image/png"})
    assert caught.value.status == status and not caught.value.retryable
    assert "<" not in str(caught.value)


def test_wix_message_echoing_a_secret_is_redacted(wix_emulator: RunningEmulator) -> None:
    wix_emulator.add_fault(
        "generate-upload-url",
        status=400,
        body=f'{{"message": "bad header {wix_emulator.api_key}"}}',
        content_type="application/json",
    )
    with pytest.raises(WixValidationError) as caught:
        client_for(wix_emulator).generate_upload_url({"mimeType": "image/png"})
    assert wix_emulator.api_key not in str(caught.value)
    assert "[redacted]" in str(caught.value)


# --- retries -------------------------------------------------------------------------------
def test_5xx_is_retried_with_backoff_then_succeeds(wix_emulator: RunningEmulator) -> None:
    sleeps = Sleeps()
    wix_emulator.add_fault("generate-upload-url", status=503, count=2)
    assert client_for(wix_emulator, sleeps=sleeps).generate_upload_url({"mimeType": "image/png"})
    assert [c["status"] for c in calls(wix_emulator, "generate-upload-url", 3)] == [503, 503, 200]
    assert len(sleeps.delays) == 2 and all(0 <= d <= 0.2 for d in sleeps.delays)


def test_5xx_beyond_the_budget_raises(wix_emulator: RunningEmulator) -> None:
    wix_emulator.add_fault("get-file", status=500, count=1000)
    with pytest.raises(WixServerError) as caught:
        client_for(wix_emulator, retry_budget_s=0.5).get_file("x")
    assert caught.value.retryable and caught.value.status == 500
    attempts = len(calls(wix_emulator, "get-file", 2))
    assert 1 < attempts < 1000
    wix_emulator.clear_faults()


@pytest.mark.parametrize("kind", ["seconds", "http-date"])
def test_429_honours_retry_after(wix_emulator: RunningEmulator, kind: str) -> None:
    sleeps = Sleeps()
    later = datetime.now(UTC) + timedelta(seconds=2)
    value: int | str = 1 if kind == "seconds" else format_datetime(later, usegmt=True)
    wix_emulator.add_fault("generate-upload-url", status=429, retry_after=value)
    client_for(wix_emulator, sleeps=sleeps).generate_upload_url({"mimeType": "image/png"})
    assert len(sleeps.delays) == 1
    if kind == "seconds":
        assert sleeps.delays == [1.0]
    else:
        assert 0.5 <= sleeps.delays[0] <= 2.0


def test_503_retry_after_is_honoured_too(wix_emulator: RunningEmulator) -> None:
    sleeps = Sleeps()
    wix_emulator.add_fault("list-files", status=503, retry_after=1)
    assert client_for(wix_emulator, sleeps=sleeps).list_files().files == ()
    assert sleeps.delays == [1.0]


def test_429_with_retry_after_beyond_the_budget_raises_at_once(
    wix_emulator: RunningEmulator,
) -> None:
    sleeps = Sleeps()
    wix_emulator.add_fault("generate-upload-url", status=429, retry_after=60)
    with pytest.raises(WixRateLimited) as caught:
        client_for(wix_emulator, sleeps=sleeps).generate_upload_url({"mimeType": "image/png"})
    assert caught.value.retry_after_s == 60 and sleeps.delays == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413])
def test_other_4xx_are_never_retried(wix_emulator: RunningEmulator, status: int) -> None:
    wix_emulator.add_fault("get-files", status=status, count=5)
    with pytest.raises(WixError) as caught:
        client_for(wix_emulator).get_files(["a"])
    assert caught.value.status == status and not caught.value.retryable
    assert len(calls(wix_emulator, "get-files", 1)) == 1 + (status == 401)  # 401: one re-auth
    wix_emulator.clear_faults()


def test_cut_connection_and_timeout_are_retried(wix_emulator: RunningEmulator) -> None:
    sleeps = Sleeps()
    client = client_for(wix_emulator, read_timeout_s=0.3, sleeps=sleeps)
    wix_emulator.add_fault("generate-upload-url", cut_after_bytes=0)
    assert client.generate_upload_url({"mimeType": "image/png"})
    assert sorted(str(c["status"]) for c in calls(wix_emulator, "generate-upload-url", 2)) == [
        "200",
        "None",
    ]
    wix_emulator.add_fault("list-files", delay_ms=800)
    assert client.list_files(limit=1).files == ()
    assert len(sleeps.delays) == 2  # one retry after the cut, one after the read timeout


def test_network_error_and_timeout_kinds(wix_emulator: RunningEmulator) -> None:
    wix_emulator.add_fault("list-files", delay_ms=600, count=100)
    with pytest.raises(WixTimeout):
        client_for(wix_emulator, read_timeout_s=0.2, retry_budget_s=0).list_files()
    wix_emulator.clear_faults()
    wix_emulator.add_fault("list-files", cut_after_bytes=0, count=100)
    with pytest.raises(WixNetworkError):
        client_for(wix_emulator, retry_budget_s=0).list_files()
    wix_emulator.clear_faults()


# --- uploads: sources, retries, MIME refusal, allow-list -----------------------------------
def test_upload_sources(wix_emulator: RunningEmulator, tmp_path: Path) -> None:
    client = client_for(wix_emulator)
    data = png(3 * MIB + 5)
    path = tmp_path / "a.png"
    path.write_bytes(data)
    md5 = hashlib.md5(data).hexdigest()

    def pieces() -> Iterator[bytes]:  # a one-shot generator
        return (data[i : i + 65536] for i in range(0, len(data), 65536))

    with path.open("rb") as handle:
        handle.read(10)  # a seekable stream is sent (and re-sent) from its position at the call
        cases: list[tuple[Any, int | None]] = [
            (data, len(data)),
            (handle, len(data) - 10),
            (lambda: path.open("rb"), len(data)),  # re-openable callable, Content-Length
            (lambda: path.open("rb"), None),  # re-openable callable, chunked
            (pieces(), len(data)),
            (pieces(), None),
        ]
        for source, size in cases:
            url = client.generate_upload_url({"mimeType": "image/png", "fileName": "a.png"})
            file = client.upload(url, source, mime_type="image/png", size=size)
            expected = md5 if size != len(data) - 10 else hashlib.md5(data[10:]).hexdigest()
            assert stored(wix_emulator, file.id)["md5"] == expected


def test_source_shorter_than_size_is_refused_and_nothing_is_stored(
    wix_emulator: RunningEmulator,
) -> None:
    client = client_for(wix_emulator)
    url = client.generate_upload_url({"mimeType": "image/png", "fileName": "a.png"})
    with pytest.raises(SourceError, match="ended after 3000 of 5000"):
        client.upload(url, png(3000), mime_type="image/png", size=5000)
    assert wix_emulator.files() == []
    assert client.upload(url, png(3000), mime_type="image/png", size=3000).size_in_bytes == 3000


def test_upload_retried_when_the_source_reopens(
    wix_emulator: RunningEmulator, tmp_path: Path
) -> None:
    client = client_for(wix_emulator)
    data = png(2 * MIB)
    path = tmp_path / "a.png"
    path.write_bytes(data)
    opener = CountingFile(path)
    url = client.generate_upload_url({"mimeType": "image/png", "fileName": "a.png"})
    wix_emulator.add_fault("upload", cut_after_bytes=MIB)
    wix_emulator.add_fault("upload", status=503)  # then one empty 5xx
    file = client.upload(url, lambda: opener(0), mime_type="image/png", size=len(data))
    assert stored(wix_emulator, file.id)["md5"] == hashlib.md5(data).hexdigest()
    # (a cut call is logged when its handler unwinds, possibly after the next call: no order)
    assert sorted(str(c["status"]) for c in calls(wix_emulator, "upload", 3)) == [
        "200",
        "503",
        "None",
    ]
    assert len(opener.opens) == 3


def test_network_errors_do_not_quote_the_upload_url(wix_emulator: RunningEmulator) -> None:
    client = client_for(wix_emulator)
    url = client.generate_upload_url({"mimeType": "image/png", "fileName": "a.png"})
    token = url.rsplit("/", 1)[-1]
    wix_emulator.add_fault("upload", cut_after_bytes=10)
    with pytest.raises(WixNetworkError) as caught:
        client.upload(url, iter([png(100_000)]), mime_type="image/png", filename="a.png")
    assert "Connection" in str(caught.value)  # the reason's class names are kept
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert token not in str(caught.value) and token not in repr(caught.value)


def test_one_shot_upload_is_not_retried(wix_emulator: RunningEmulator) -> None:
    client = client_for(wix_emulator)
    url = client.generate_upload_url({"mimeType": "image/png", "fileName": "a.png"})
    wix_emulator.add_fault("upload", status=503)
    with pytest.raises(WixServerError):
        client.upload(url, iter([png(1000)]), mime_type="image/png", size=1000)
    assert len(calls(wix_emulator, "upload", 1)) == 1


def test_refused_mime_type_with_a_one_shot_stream_is_raised(
    wix_emulator: RunningEmulator,
) -> None:
    client = client_for(wix_emulator)
    url = client.generate_upload_url({"mimeType": "image/png", "fileName": "photo.png"})
    with pytest.raises(WixValidationError) as caught:
        client.upload(url, iter([png(4000)]), mime_type="video/mp4", filename="photo.png")
    assert "MISMATCH_MIME_TYPE" in caught.value.rule_names
    assert len(calls(wix_emulator, "upload", 1)) == 1


def test_upload_hosts_outside_the_allow_list_get_nothing(wix_emulator: RunningEmulator) -> None:
    good = client_for(wix_emulator)
    url = good.generate_upload_url({"mimeType": "image/png", "fileName": "a.png"})
    strict = client_for(wix_emulator, upload_hosts=("upload.wixmp.com",))
    opened: list[int] = []

    def source() -> io.BytesIO:
        opened.append(1)
        return io.BytesIO(png(100))

    with pytest.raises(UploadHostNotAllowed):
        strict.upload(url, source, mime_type="image/png", size=100)
    target = ResumableTarget(f"{wix_emulator.url}/upload/tus", "tok")
    with pytest.raises(UploadHostNotAllowed):
        strict.upload_resumable(
            target, lambda _o: source(), size=100, mime_type="image/png", filename="a.png"
        )
    assert opened == []
    assert calls(wix_emulator, "upload") == [] and calls(wix_emulator, "tus-create") == []


# --- TUS resume ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fault",
    [
        {"cut_after_bytes": MIB + 100 * KIB},  # connection cut mid-chunk
        {"status": 503},  # empty 5xx on a PATCH
        {"status": 409},  # offset conflict
    ],
)
def test_tus_resumes_from_the_server_offset(
    wix_emulator: RunningEmulator, tmp_path: Path, fault: dict[str, Any]
) -> None:
    client = client_for(wix_emulator)
    data = png(5 * MIB + 3)
    path = tmp_path / "v.png"
    path.write_bytes(data)
    opener = CountingFile(path)
    if "cut_after_bytes" in fault:  # cut in the first PATCH, after 1.1 MiB
        wix_emulator.add_fault("tus-patch", **fault)
    else:  # fail a later PATCH: armed while the second chunk is being read
        opener.when_served(2 * MIB + 1, lambda: wix_emulator.add_fault("tus-patch", **fault))
    target = client.generate_resumable_upload_url({"mimeType": "image/png", "fileName": "v.png"})
    file = client.upload_resumable(
        target, opener, size=len(data), mime_type="image/png", filename="v.png", chunk_size=2 * MIB
    )
    assert stored(wix_emulator, file.id)["md5"] == hashlib.md5(data).hexdigest()
    sent = sum(c["bodyBytes"] for c in calls(wix_emulator, "tus-patch", 3))
    assert len(data) <= sent <= len(data) + 2 * MIB  # at most one chunk re-sent
    assert len(data) < opener.served <= len(data) + 2 * MIB
    assert len(calls(wix_emulator, "tus-head", 1)) == 1
    assert opener.opens[0] == 0 and opener.opens[1] > 0  # resumed, not restarted


def test_tus_with_relative_location_and_whole_chunk_persistence(tmp_path: Path) -> None:
    config = EmulatorConfig(tus_relative_location=True, tus_chunk_multiple=256 * KIB)
    with start_emulator(config, port=0) as em:
        client = client_for(em)
        data = png(3 * MIB + 17)
        path = tmp_path / "r.png"
        path.write_bytes(data)
        opener = CountingFile(path)
        em.add_fault("tus-patch", cut_after_bytes=300 * KIB)  # in the first 1 MiB PATCH
        target = client.generate_resumable_upload_url({"mimeType": "image/png"})
        file = client.upload_resumable(
            target, opener, size=len(data), mime_type="image/png", filename="r.png", chunk_size=MIB
        )
        assert stored(em, file.id)["md5"] == hashlib.md5(data).hexdigest()
        assert opener.opens == [0, 256 * KIB]  # the server kept whole 256 KiB multiples


def test_finalize_before_the_upload_is_complete(wix_emulator: RunningEmulator) -> None:
    client = client_for(wix_emulator)
    target = client.generate_resumable_upload_url({"mimeType": "image/png", "fileName": "x.png"})
    with pytest.raises(WixValidationError) as caught:
        client.finalize_resumable(target, "x.png")
    assert caught.value.code == "UPLOAD_NOT_COMPLETED"


# --- secrets never leak ---------------------------------------------------------------------
CANARY_KEY = "canary-key-7d1f0c5b9e"
CANARY_SECRET = "canary-secret-2a94e61f"


@pytest.fixture
def canary_emulator() -> Iterator[RunningEmulator]:
    config = EmulatorConfig(api_key=CANARY_KEY, app_secret=CANARY_SECRET, processing_ms=10)
    with start_emulator(config, port=0) as em:
        yield em


def test_no_credential_in_errors_or_logs(
    canary_emulator: RunningEmulator, capfd: pytest.CaptureFixture[str], caplog: Any
) -> None:
    from wix_relay.observability import logger

    em = canary_emulator
    previous = logger.log_level
    logger.setLevel("DEBUG")
    caplog.set_level("DEBUG")
    errors: list[WixError] = []
    try:
        for creds in (
            ApiKeyCredentials(CANARY_KEY, em.site_id),
            AppCredentials(em.app_id, CANARY_SECRET, em.instance_id),
        ):
            client = client_for(em, creds, retry_budget_s=0.3)
            upload_png(client)
            for endpoint, spec in (
                ("generate-upload-url", {"status": 500, "count": 50}),
                ("generate-upload-url", {"status": 403, "body": "<html>denied</html>"}),
                ("get-file", {"status": 429, "retry_after": 30}),
                ("list-files", {"cut_after_bytes": 0, "count": 50}),
            ):
                em.add_fault(endpoint, **spec)
                with pytest.raises(WixError) as caught:
                    if endpoint == "get-file":
                        client.get_file("x")
                    elif endpoint == "list-files":
                        client.list_files()
                    else:
                        client.generate_upload_url({"mimeType": "image/png"})
                errors.append(caught.value)
                em.clear_faults()
        for wrong in (
            ApiKeyCredentials(CANARY_KEY + "x", em.site_id),
            AppCredentials(em.app_id, CANARY_SECRET + "x", em.instance_id),
        ):
            with pytest.raises(WixAuthError) as caught:
                client_for(em, wrong).generate_upload_url({"mimeType": "image/png"})
            errors.append(caught.value)
    finally:
        logger.setLevel(previous)
    out, err = capfd.readouterr()
    assert "wix response" in caplog.text  # the debug lines were really emitted
    records = [repr(vars(record)) for record in caplog.records]  # with every `extra` field
    texts = [out, err, caplog.text, *records] + [str(e) for e in errors] + [repr(e) for e in errors]
    texts.append(repr(client_for(em)))
    for text in texts:
        assert CANARY_KEY not in text
        assert CANARY_SECRET not in text
        assert "Authorization" not in text
