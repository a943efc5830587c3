"""Import (Wix pulls a URL), bulk import-v2, get-files and list — over real HTTP."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from wix_emulator import RunningEmulator

from tests.integration.emulator.emulator_helpers import API, WixCalls, rule_names, violations

BULK = "/site-media/v1/bulk/files/import-v2"


class Source:
    """A tiny HTTP origin: serves registered payloads, remembers what it was asked."""

    def __init__(self) -> None:
        self.payloads: dict[str, tuple[bytes, str]] = {}
        self.seen: list[dict[str, Any]] = []
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                source.seen.append({"path": path, "query": query, "headers": dict(self.headers)})
                if path not in source.payloads:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, ctype = source.payloads[path]
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, path: str, body: bytes, ctype: str = "application/octet-stream") -> str:
        self.payloads[path] = (body, ctype)
        return self.url + path


@pytest.fixture(scope="module")
def source() -> Iterator[Source]:
    src = Source()
    yield src
    src.server.shutdown()
    src.server.server_close()


def import_file(wix: WixCalls, **fields: Any) -> dict[str, Any]:
    r = wix.post(API + "/import", fields)
    assert r.status_code == 200, r.text
    file: dict[str, Any] = r.json()["file"]
    return file


def test_import_pending_then_ready(
    wix: WixCalls, wix_emulator: RunningEmulator, source: Source
) -> None:
    data = b"%PDF-1.7\n" + os.urandom(200_000)
    url = source.add("/docs/report.pdf", data, "application/pdf")
    file = import_file(
        wix, url=url, displayName="Q3 report.pdf", filePath="/imports", labels=["q3"], private=True
    )
    assert file["operationStatus"] == "PENDING"
    assert file["displayName"] == "Q3 report.pdf"
    assert file["sourceUrl"] == url
    assert file["mediaType"] == "DOCUMENT"
    ready = wix.wait(file["id"])
    assert ready["operationStatus"] == "READY"
    assert ready["hash"] == hashlib.md5(data).hexdigest()
    assert ready["sizeInBytes"] == str(len(data))
    assert ready["labels"] == ["q3"]
    assert ready["private"] is True
    [stored] = wix_emulator.files()
    assert stored["folderPath"] == "/imports"
    assert stored["source"] == "import"


def test_import_sends_url_params_and_headers(wix: WixCalls, source: Source) -> None:
    url = source.add("/signed/photo.jpg", b"\xff\xd8\xff" + b"j" * 100, "image/jpeg")
    file = import_file(
        wix,
        url=url + "?sig=abc",
        mimeType="image/jpeg",
        urlParams={"extra": "1"},
        urlHeaders={"X-Source-Auth": "t0k"},
    )
    assert wix.wait(file["id"])["operationStatus"] == "READY"
    seen = next(s for s in source.seen if s["path"] == "/signed/photo.jpg")
    assert seen["query"] == "sig=abc&extra=1"
    assert seen["headers"]["X-Source-Auth"] == "t0k"
    assert file["displayName"] == "photo.jpg"  # from the URL when not given
    assert file["id"].endswith("~mv2.jpg")


@pytest.mark.parametrize(
    ("path", "body", "ctype"),
    [
        ("/missing.jpg", None, ""),
        ("/page.html", b"<!DOCTYPE html><html></html>", "text/html"),
        ("/empty.png", b"", "image/png"),
        ("/blob", b"\x00\x01" * 50, "application/octet-stream"),
    ],
    ids=["404", "html", "empty", "type unknown"],
)
def test_import_failures_end_failed(wix: WixCalls, source: Source, path, body, ctype) -> None:
    url = source.url + path if body is None else source.add(path, body, ctype)
    file = import_file(wix, url=url)
    assert wix.wait(file["id"])["operationStatus"] == "FAILED"


def test_import_fail_next(wix: WixCalls, wix_emulator: RunningEmulator, source: Source) -> None:
    wix_emulator.fail_next()
    url = source.add("/ok.png", b"\x89PNG\r\n\x1a\n" + b"p" * 50, "image/png")
    assert wix.wait(import_file(wix, url=url)["id"])["operationStatus"] == "FAILED"
    assert wix.wait(import_file(wix, url=url)["id"])["operationStatus"] == "READY"


def test_bulk_import_v2(wix: WixCalls, source: Source) -> None:
    url = source.add("/bulk/a.mp3", b"ID3" + b"a" * 100, "audio/mpeg")
    body = {
        "importFileRequests": [{"url": url}, {"url": "ftp://nope"}, {"url": url, "filePath": "/b"}]
    }
    r = wix.post(BULK, body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["bulkActionMetadata"] == {
        "totalSuccesses": 2,
        "totalFailures": 1,
        "undetailedFailures": 0,
    }
    ok, bad, ok2 = out["results"]
    assert ok["itemMetadata"]["success"] is True
    assert ok["itemMetadata"]["id"] == ok["item"]["id"]
    assert ok2["itemMetadata"]["originalIndex"] == 2
    assert bad["itemMetadata"] == {
        "originalIndex": 1,
        "success": False,
        "error": bad["itemMetadata"]["error"],
    }
    assert bad["itemMetadata"]["error"]["code"]
    assert wix.wait(ok["item"]["id"])["operationStatus"] == "READY"
    lean = wix.post(BULK, {"importFileRequests": [{"url": url}], "returnEntity": False}).json()
    assert "item" not in lean["results"][0]


@pytest.mark.parametrize("items", [[], None, [{"url": "http://h/a.jpg"}] * 101])
def test_bulk_import_request_validation(wix: WixCalls, items) -> None:
    r = wix.post(BULK, {"importFileRequests": items})
    assert r.status_code == 400
    assert violations(r)[0]["field"] == "importFileRequests"


def _upload(wix: WixCalls, name: str, mime: str, size: int, folder: str | None = None) -> str:
    fields: dict[str, Any] = {"mimeType": mime, "fileName": name}
    if folder:
        fields["filePath"] = folder
    r = wix.put(wix.upload_url(**fields), os.urandom(size), mime)
    return str(r.json()["file"]["id"])


def test_get_files(wix: WixCalls) -> None:
    a = _upload(wix, "a.png", "image/png", 10)
    b = _upload(wix, "b.mp4", "video/mp4", 20)
    r = wix.post(API + "/get-files", {"fileIds": [a, b]})
    assert [f["id"] for f in r.json()["files"]] == [a, b]
    missing = wix.post(API + "/get-files", {"fileIds": [a, "nope"]})
    assert missing.status_code == 400  # [doc: SDK typings] not a 404
    assert rule_names(missing) == ["RESOURCE_NOT_FOUND"]
    assert wix.post(API + "/get-files", {"fileIds": []}).status_code == 400
    assert wix.post(API + "/get-files", {"fileIds": ["x"] * 101}).status_code == 400


def test_list_paging_filters_and_sort(wix: WixCalls) -> None:
    sizes = [50, 10, 40, 20, 30]
    ids = [_upload(wix, f"f{i}.png", "image/png", s) for i, s in enumerate(sizes)]
    _upload(wix, "clip.mp4", "video/mp4", 5)
    _upload(wix, "elsewhere.png", "image/png", 5, folder="/other")

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"paging.limit": "2"}
        params |= {"paging.cursor": cursor} if cursor else {"mediaTypes": "IMAGE"}
        page = wix.get(API, params=params).json()
        seen += [f["id"] for f in page["files"]]
        pages += 1
        if pages == 1:  # a file added mid-listing is not in this listing (snapshot cursor)
            _upload(wix, "late.png", "image/png", 7)
        cursor = page["nextCursor"]["cursors"].get("next")
        if not cursor:
            break
    assert pages == 3
    assert sorted(seen) == sorted(ids)

    by_size = wix.get(API, params={"sort.fieldName": "sizeInBytes", "sort.order": "ASC"}).json()
    assert [int(f["sizeInBytes"]) for f in by_size["files"]] == [5, 7, 10, 20, 30, 40, 50]
    assert by_size["nextCursor"]["cursors"] == {}

    other = wix.get(API, params={"parentFolderId": "no-files-here"}).json()
    assert other["files"] == []

    assert rule_names(wix.get(API, params={"mediaTypes": "PICTURE"})) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert rule_names(wix.get(API, params={"sort.fieldName": "hash"})) == ["UNSUPPORTED_SORT_VALUE"]
    assert wix.get(API, params={"paging.limit": "101"}).status_code == 400
    assert wix.get(API, params={"paging.cursor": "garbage"}).status_code == 400
    assert requests.get(wix.url + API, timeout=10).status_code == 401


def test_import_type_from_the_url_extension(wix: WixCalls, source: Source) -> None:
    url = source.add("/media/holiday.mp4", b"\x00" * 64, "application/octet-stream")
    file = import_file(wix, url=url, displayName="My holiday")
    assert file["mediaType"] == "VIDEO"
    ready = wix.wait(file["id"])
    assert (ready["operationStatus"], ready["displayName"]) == ("READY", "My holiday")
