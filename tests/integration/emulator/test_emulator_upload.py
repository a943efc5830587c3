"""Generate an upload URL, PUT the bytes (Content-Length, chunked, curl), read the file back."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
from urllib.parse import urlsplit

import pytest
import requests
from wix_emulator import RunningEmulator

from tests.integration.emulator.emulator_helpers import API, WixCalls, app_error, rule_names

PNG_HEADER = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (64).to_bytes(4, "big") + (48).to_bytes(4, "big")
)


def test_generate_put_get_roundtrip(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    data = os.urandom(300_000)
    r = wix.generate(mimeType="image/jpeg", fileName="cat.jpg", filePath="/pets/cats")
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["uploadUrl"]  # [doc] nothing else
    assert r.headers["x-wix-request-id"]
    upload_url = r.json()["uploadUrl"]
    assert upload_url.startswith(f"http://{wix_emulator.upload_host}/upload/")

    put = wix.put(upload_url, data, "image/jpeg")
    assert put.status_code == 200, put.text
    assert put.headers["x-wix-request-id"]
    file = put.json()["file"]
    assert file["operationStatus"] == "PENDING"
    assert file["sizeInBytes"] == str(len(data))
    assert file["hash"] == hashlib.md5(data).hexdigest()
    assert file["displayName"] == "cat.jpg"
    assert file["mediaType"] == "IMAGE"
    assert file["siteId"] == wix_emulator.site_id
    assert file["state"] == "OK"
    assert file["private"] is False
    assert file["labels"] == []
    prefix, rest = file["id"].split("_", 1)
    assert len(prefix) == 6 and rest.endswith("~mv2.jpg")
    assert file["createdDate"].endswith("Z")

    ready = wix.wait(file["id"])
    assert ready["operationStatus"] == "READY"
    assert ready["media"]["image"]["image"]["id"] == file["id"]
    [stored] = wix_emulator.files()
    assert stored["folderPath"] == "/pets/cats"
    assert stored["parentFolderId"] == file["parentFolderId"] != "media-root"
    assert stored["md5"] == hashlib.md5(data).hexdigest()
    assert stored["size"] == len(data)
    assert stored["mimeType"] == "image/jpeg"
    # The descriptor's url serves the stored bytes.
    assert requests.get(ready["url"], timeout=10).content == data


def test_descriptor_fields_from_generate(wix: WixCalls) -> None:
    url = wix.upload_url(
        mimeType="image/png",
        fileName="chart.png",
        private=True,
        labels=["a", "b"],
        sizeInBytes="1024",
        externalInfo={"origin": "relay", "externalIds": ["x1"]},
    )
    data = PNG_HEADER + os.urandom(1000)
    file = wix.put(url, data, "image/png").json()["file"]
    assert file["private"] is True
    assert file["labels"] == ["a", "b"]
    assert file["parentFolderId"] == "media-root"
    ready = wix.wait(file["id"])
    assert ready["media"]["image"]["image"]["width"] == 64
    assert ready["media"]["image"]["image"]["height"] == 48
    assert ready["thumbnailUrl"]


def test_file_path_reuses_folders_and_is_relative_to_parent(
    wix: WixCalls, wix_emulator: RunningEmulator
) -> None:
    a = wix.put(
        wix.upload_url(mimeType="text/plain", fileName="a.txt", filePath="/docs/2024"), b"a"
    )
    b = wix.put(
        wix.upload_url(mimeType="text/plain", fileName="b.txt", filePath="docs//2024/"), b"b"
    )
    folder = a.json()["file"]["parentFolderId"]
    assert b.json()["file"]["parentFolderId"] == folder
    c = wix.put(
        wix.upload_url(
            mimeType="text/plain", fileName="c.txt", parentFolderId=folder, filePath="/june"
        ),
        b"c",
    )
    paths = {f["displayName"]: f["folderPath"] for f in wix_emulator.files()}
    assert paths == {"a.txt": "/docs/2024", "b.txt": "/docs/2024", "c.txt": "/docs/2024/june"}
    assert c.json()["file"]["mediaType"] == "DOCUMENT"
    unknown = wix.generate(mimeType="text/plain", parentFolderId="no-such-folder")
    assert unknown.status_code == 404
    assert app_error(unknown)["code"] == "FOLDER_NOT_FOUND"


def test_chunked_body_from_a_generator(wix: WixCalls) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    url = wix.upload_url(mimeType="video/mp4", fileName="clip.mp4")

    def chunks():
        for i in range(0, len(data), 100_000):
            yield data[i : i + 100_000]

    r = wix.put(url, chunks(), "video/mp4")
    assert r.status_code == 200, r.text
    file = r.json()["file"]
    assert file["hash"] == hashlib.md5(data).hexdigest()
    assert file["sizeInBytes"] == str(len(data))
    assert file["mediaType"] == "VIDEO"
    assert "~mv2" not in file["id"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
@pytest.mark.parametrize("stdin", [True, False], ids=["curl -T - (chunked)", "curl -T file"])
def test_curl_upload(wix: WixCalls, tmp_path, stdin: bool) -> None:
    data = os.urandom(2 * 1024 * 1024 + 5)  # > 1 MiB: curl also sends Expect: 100-continue
    src = tmp_path / "doc.pdf"
    src.write_bytes(b"%PDF-1.7\n" + data)
    url = wix.upload_url(mimeType="application/pdf", fileName="doc.pdf")
    args = ["curl", "-sS", "--fail-with-body", "-H", "Content-Type: application/pdf"]
    if stdin:
        cmd = [*args, "-T", "-", url]
        out = subprocess.run(cmd, input=src.read_bytes(), capture_output=True, check=False)
    else:
        out = subprocess.run([*args, "-T", str(src), url], capture_output=True, check=False)
    assert out.returncode == 0, out.stderr

    file = json.loads(out.stdout)["file"]
    assert file["hash"] == hashlib.md5(src.read_bytes()).hexdigest()
    assert file["mediaType"] == "DOCUMENT"


def test_filename_query_parameter_names_the_file(wix: WixCalls) -> None:
    url = wix.upload_url(mimeType="application/octet-stream")
    r = wix.put(url + "?filename=report.pdf", b"%PDF-1.4 hello", "application/octet-stream")
    assert r.status_code == 200, r.text
    file = r.json()["file"]
    assert file["displayName"] == "report.pdf"
    assert file["mediaType"] == "DOCUMENT"  # sniffed / from the extension
    assert file["id"].endswith(".pdf")


def test_missing_content_type_uses_the_generated_type(wix: WixCalls) -> None:
    url = wix.upload_url(mimeType="audio/mpeg", fileName="song.mp3")
    r = requests.put(url, data=b"ID3" + os.urandom(100), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["file"]["mediaType"] == "AUDIO"


def test_refused_upload_keeps_the_token_for_the_octet_stream_retry(wix: WixCalls) -> None:
    """[doc] on a refused MIME type, retry with application/octet-stream and the extension in
    `filename`. [guess] only a successful upload consumes the token."""
    url = wix.upload_url(mimeType="image/png")
    refused = wix.put(url + "?filename=photo.png", b"x" * 10, "video/mp4")
    assert refused.status_code == 400
    assert rule_names(refused) == ["MISMATCH_MIME_TYPE"]
    retry = wix.put(url + "?filename=photo.png", PNG_HEADER + b"x" * 10, "application/octet-stream")
    assert retry.status_code == 200, retry.text
    assert retry.json()["file"]["mediaType"] == "IMAGE"
    again = wix.put(url, b"x" * 10, "image/png")
    assert again.status_code == 403
    assert app_error(again)["code"] == "UPLOAD_TOKEN_ALREADY_USED"


def test_upload_token_expires(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    url = wix.upload_url(mimeType="image/png")
    wix_emulator.advance_clock(wix_emulator.config.upload_token_ttl_s + 1)
    r = wix.put(url, b"x", "image/png")
    assert r.status_code == 403
    assert app_error(r)["code"] == "UPLOAD_TOKEN_EXPIRED"


def test_unknown_token_and_no_authorization_needed(wix: WixCalls) -> None:
    url = wix.upload_url(mimeType="image/png")
    bogus = url.rsplit("/", 1)[0] + "/not-a-token"
    r = wix.put(bogus, b"x", "image/png")
    assert r.status_code == 403
    assert app_error(r)["code"] == "INVALID_UPLOAD_TOKEN"
    # The real token works with no Authorization header at all (wix.put sends none).
    assert wix.put(url, b"x", "image/png").status_code == 200


def test_processing_failure_on_request(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    wix_emulator.fail_next()
    bad = wix.put(wix.upload_url(mimeType="image/png"), b"one", "image/png").json()["file"]
    good = wix.put(wix.upload_url(mimeType="image/png"), b"two", "image/png").json()["file"]
    assert wix.wait(bad["id"])["operationStatus"] == "FAILED"
    assert wix.wait(good["id"])["operationStatus"] == "READY"


def test_expect_100_continue_refused_early_without_the_body(wix: WixCalls) -> None:
    """A refused token is answered before the client sends its body."""
    url = urlsplit(wix.upload_url(mimeType="image/png")[:-3] + "bad")
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(
            f"PUT {url.path} HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            f"Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        answer = sock.recv(65536).decode()
    assert answer.startswith("HTTP/1.1 403")
    assert "100 Continue" not in answer
    assert "Connection: close" in answer


def test_legacy_get_and_wix_media_url_as_id(wix: WixCalls) -> None:
    file = wix.put(wix.upload_url(mimeType="image/jpeg", fileName="a.jpg"), b"a", "image/jpeg")
    file_id = file.json()["file"]["id"]
    legacy = wix.get(f"{API}/{file_id}")
    assert legacy.status_code == 200 and legacy.json()["file"]["id"] == file_id
    media_url = f"wix:image://v1/{file_id}/a.jpg#originWidth=1&originHeight=1"
    assert wix.file(media_url).json()["file"]["id"] == file_id
    missing = wix.file("59502c_0000~mv2.jpg")
    assert missing.status_code == 400  # [doc: SDK typings] not a 404
    assert rule_names(missing) == ["RESOURCE_NOT_FOUND"]
    assert wix.get(API + "/get-file-by-id").status_code == 400


def test_browser_cors_on_the_upload_host(wix: WixCalls) -> None:
    """Browsers PUT to the upload URL themselves: preflight and exposed headers."""
    url = wix.upload_url(mimeType="image/png")
    origin = {"Origin": "http://127.0.0.1:8000"}
    pre = requests.options(
        url,
        headers={
            **origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == origin["Origin"]
    assert "PUT" in pre.headers["Access-Control-Allow-Methods"]
    assert pre.headers["Access-Control-Allow-Headers"] == "content-type"
    put = requests.put(
        url, data=b"png", headers={**origin, "Content-Type": "image/png"}, timeout=10
    )
    assert put.headers["Access-Control-Allow-Origin"] == origin["Origin"]
    assert "x-wix-request-id" in put.headers["Access-Control-Expose-Headers"]
    assert "Upload-Offset" in put.headers["Access-Control-Expose-Headers"]


def test_hash_after_answer_defers_the_md5_to_its_first_read() -> None:
    """WIX_EMULATOR_HASH_AFTER_ANSWER (benchmarks): the upload's answer does not wait for the
    MD5; every later read that shows it has the right one, READY or not."""
    from wix_emulator import EmulatorConfig, start_emulator

    cfg = EmulatorConfig.from_env({"WIX_EMULATOR_HASH_AFTER_ANSWER": "1"})
    assert cfg.hash_after_answer
    data = os.urandom(3 * 1024 * 1024 + 17)
    with start_emulator(EmulatorConfig(processing_ms=0, hash_after_answer=True), port=0) as em:
        wix = WixCalls(em)
        put = wix.put(wix.upload_url(mimeType="video/mp4", fileName="a.mp4"), data, "video/mp4")
        assert put.status_code == 200, put.text
        answered = put.json()["file"]
        assert answered["hash"] == ""
        assert answered["sizeInBytes"] == str(len(data))
        [stored] = em.files()
        assert stored["md5"] == hashlib.md5(data).hexdigest()
        got = wix.get(f"{API}/get-file-by-id", params={"fileId": answered["id"]})
        assert got.json()["file"]["hash"] == hashlib.md5(data).hexdigest()
