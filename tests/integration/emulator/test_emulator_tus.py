"""The TUS 1.0.0 side: protocol details over raw HTTP, then tuspy as a third-party client."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from wix_emulator import EmulatorConfig, RunningEmulator, start_emulator

from tests.integration.emulator.emulator_helpers import WixCalls, app_error, rule_names

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = {**TUS, "Content-Type": "application/offset+octet-stream"}


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def target(wix: WixCalls, **fields: Any) -> dict[str, str]:
    r = wix.resumable(**{"mimeType": "video/mp4", "fileName": "clip.mp4", **fields})
    assert r.status_code == 200, r.text
    body: dict[str, str] = r.json()
    assert body["uploadProtocol"] == "TUS"
    assert body["uploadUrl"].endswith("/upload/tus")
    return body


def create(t: dict[str, str], length: int, **meta: str) -> requests.Response:
    metadata = {"filename": "clip.mp4", "contentType": "video/mp4", "token": t["uploadToken"]}
    metadata |= meta
    header = ",".join(f"{k} {b64(v)}" for k, v in metadata.items())
    return requests.post(
        t["uploadUrl"],
        headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": header},
        timeout=10,
    )


def location(t: dict[str, str], length: int) -> str:
    r = create(t, length)
    assert r.status_code == 201, r.text
    return urljoin(t["uploadUrl"], r.headers["Location"])


def patch(loc: str, offset: int, data: Any, **headers: str) -> requests.Response:
    return requests.patch(
        loc,
        data=data,
        headers={**OFFSET_STREAM, "Upload-Offset": str(offset), **headers},
        timeout=10,
    )


def head(loc: str) -> requests.Response:
    return requests.head(loc, headers=TUS, timeout=10)


def finalize(t: dict[str, str], query: str = "") -> requests.Response:
    return requests.put(f"{t['uploadUrl']}/{t['uploadToken']}{query}", json={}, timeout=10)


def test_options_advertises_tus(wix: WixCalls) -> None:
    r = requests.options(target(wix)["uploadUrl"], timeout=10)
    assert r.status_code == 204
    assert r.headers["Tus-Resumable"] == "1.0.0"
    assert r.headers["Tus-Version"] == "1.0.0"
    assert "creation" in r.headers["Tus-Extension"].split(",")
    assert int(r.headers["Tus-Max-Size"]) >= 4 * 1024**3
    assert r.headers["x-wix-request-id"]


def test_full_flow_and_finalize(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    t = target(wix, filePath="/videos/2024", labels=["x"])
    data = os.urandom(700_000)
    created = create(t, len(data))
    assert created.status_code == 201
    assert created.headers["Tus-Resumable"] == "1.0.0"
    loc = urljoin(t["uploadUrl"], created.headers["Location"])
    assert loc.startswith(t["uploadUrl"] + "/")
    assert head(loc).headers["Upload-Offset"] == "0"
    assert head(loc).headers["Upload-Length"] == str(len(data))
    assert head(loc).headers["Cache-Control"] == "no-store"

    first = patch(loc, 0, data[:300_000])
    assert first.status_code == 204
    assert first.headers["Upload-Offset"] == "300000"
    assert head(loc).headers["Upload-Offset"] == "300000"
    second = patch(loc, 300_000, iter([data[300_000:500_000], data[500_000:]]))  # chunked
    assert second.status_code == 204, second.text
    assert second.headers["Upload-Offset"] == str(len(data))

    done = finalize(t, "?filename=final.mp4")
    assert done.status_code == 200, done.text
    file = done.json()["file"]
    assert file["hash"] == hashlib.md5(data).hexdigest()
    assert file["sizeInBytes"] == str(len(data))
    assert file["displayName"] == "final.mp4"
    assert file["mediaType"] == "VIDEO"
    assert file["labels"] == ["x"]
    [stored] = wix_emulator.files()
    assert stored["folderPath"] == "/videos/2024"
    assert stored["source"] == "tus"
    assert wix.wait(file["id"])["operationStatus"] == "READY"
    # The token was single-use; the upload resource is gone.
    again = finalize(t)
    assert again.status_code == 403
    assert app_error(again)["code"] == "UPLOAD_TOKEN_ALREADY_USED"
    assert head(loc).status_code == 404


def test_offset_mismatch_is_409(wix: WixCalls) -> None:
    loc = location(target(wix), 100)
    assert patch(loc, 0, b"a" * 10).status_code == 204
    r = patch(loc, 0, b"b" * 10)
    assert r.status_code == 409
    assert head(loc).headers["Upload-Offset"] == "10"


def test_wrong_content_type_is_415_and_appends_nothing(wix: WixCalls) -> None:
    loc = location(target(wix), 100)
    r = patch(loc, 0, b"abc", **{"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert head(loc).headers["Upload-Offset"] == "0"


def test_missing_tus_resumable_is_412(wix: WixCalls) -> None:
    t = target(wix)
    loc = location(t, 100)
    r = requests.patch(
        loc,
        data=b"abc",
        headers={"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
        timeout=10,
    )
    assert r.status_code == 412
    assert r.headers["Tus-Version"] == "1.0.0"
    assert requests.head(loc, timeout=10).status_code == 412
    assert (
        requests.post(t["uploadUrl"], headers={"Upload-Length": "5"}, timeout=10).status_code == 412
    )
    assert head(loc).headers["Upload-Offset"] == "0"


def test_unknown_upload_is_404(wix: WixCalls) -> None:
    loc = target(wix)["uploadUrl"] + "/0123456789abcdef"
    assert head(loc).status_code == 404
    assert patch(loc, 0, b"x").status_code == 404


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_past_upload_length_is_413(wix: WixCalls, chunked: bool) -> None:
    loc = location(target(wix), 10)
    assert patch(loc, 0, b"12345").status_code == 204
    body: Any = iter([b"678", b"901"]) if chunked else b"678901"
    assert patch(loc, 5, body).status_code == 413
    assert head(loc).headers["Upload-Offset"] == "5"
    assert patch(loc, 5, b"67890").status_code == 204


def test_creation_refusals(wix: WixCalls) -> None:
    t = target(wix)
    no_length = requests.post(
        t["uploadUrl"],
        headers={**TUS, "Upload-Metadata": f"token {b64(t['uploadToken'])}"},
        timeout=10,
    )
    assert no_length.status_code == 400
    assert create(t, 5 * 1024**4).status_code == 413  # above Tus-Max-Size
    assert create(t, 10, token="bogus").status_code == 403
    bad_b64 = requests.post(
        t["uploadUrl"],
        headers={**TUS, "Upload-Length": "5", "Upload-Metadata": "token !!!"},
        timeout=10,
    )
    assert bad_b64.status_code == 400
    assert rule_names(create(t, 0)) == ["ZERO_FILE_SIZE"]
    assert rule_names(create(t, 10, contentType="text/html")) == ["UNSUPPORTED_FILE_FORMAT"]
    assert rule_names(create(t, 10, filename="clip.png")) == ["MISMATCH_MIME_TYPE"]
    assert rule_names(create(t, 10, contentType="image/png", filename="a.png")) == [
        "MISMATCH_MIME_TYPE"
    ]
    audio = target(wix, mimeType="audio/mpeg", fileName="song.mp3")
    big = create(audio, 50 * 1024 * 1024 + 1, contentType="audio/mpeg", filename="song.mp3")
    assert rule_names(big) == ["FILE_SIZE_OVER_LIMIT"]


def test_token_from_generate_upload_url_is_not_a_tus_token(wix: WixCalls) -> None:
    upload_url = wix.upload_url(mimeType="video/mp4")
    t = {"uploadUrl": target(wix)["uploadUrl"], "uploadToken": upload_url.rsplit("/", 1)[1]}
    assert create(t, 10).status_code == 403


def test_finalize_before_the_upload_is_complete(wix: WixCalls) -> None:
    t = target(wix)
    loc = location(t, 10)
    patch(loc, 0, b"12345")
    r = finalize(t)
    assert r.status_code == 400
    assert app_error(r)["data"]["uploadOffset"] == "5"
    patch(loc, 5, b"67890")
    assert finalize(t).status_code == 200


def test_delete_terminates(wix: WixCalls) -> None:
    loc = location(target(wix), 10)
    assert requests.delete(loc, headers=TUS, timeout=10).status_code == 204
    assert head(loc).status_code == 404


def test_tuspy_multi_chunk_upload_with_resume(wix: WixCalls, tmp_path) -> None:
    """Third-party client: tuspy uploads in chunks, a fresh uploader resumes from HEAD."""
    from tusclient import client

    data = os.urandom(5 * 256 * 1024 + 1234)
    src = tmp_path / "movie.mp4"
    src.write_bytes(data)
    t = target(wix, fileName="movie.mp4")
    meta = {"filename": "movie.mp4", "contentType": "video/mp4", "token": t["uploadToken"]}
    tus = client.TusClient(t["uploadUrl"])
    first = tus.uploader(str(src), chunk_size=256 * 1024, metadata=meta)
    first.upload_chunk()
    first.upload_chunk()
    assert first.offset == 512 * 1024
    # "Interruption": a new uploader knows only the upload URL and asks the server.
    resumed = tus.uploader(str(src), chunk_size=256 * 1024, url=first.url, metadata=meta)
    assert resumed.get_offset() == 512 * 1024
    resumed.upload()
    assert resumed.offset == len(data)
    file = finalize(t).json()["file"]
    assert file["hash"] == hashlib.md5(data).hexdigest()
    assert file["sizeInBytes"] == str(len(data))


@pytest.fixture(scope="module")
def gcs_like() -> Iterator[RunningEmulator]:
    """Relative Locations and 256 KiB persistence granularity (both [guess] switches)."""
    emulator = start_emulator(EmulatorConfig(tus_relative_location=True, tus_chunk_multiple=262144))
    yield emulator
    emulator.stop()


def test_relative_location_and_chunk_multiple(gcs_like: RunningEmulator) -> None:
    wix = WixCalls(gcs_like)
    t = target(wix)
    data = os.urandom(600_000)
    created = create(t, len(data))
    assert created.headers["Location"].startswith("/upload/tus/")
    loc = urljoin(t["uploadUrl"], created.headers["Location"])
    r = patch(loc, 0, data[:300_000])
    assert r.headers["Upload-Offset"] == "262144"  # only whole 256 KiB blocks persist
    r = patch(loc, 262144, data[262144:])  # the final PATCH persists everything
    assert r.headers["Upload-Offset"] == str(len(data))
    assert finalize(t).json()["file"]["hash"] == hashlib.md5(data).hexdigest()


def test_hash_after_answer_defers_the_finalized_md5_to_its_first_read() -> None:
    """WIX_EMULATOR_HASH_AFTER_ANSWER (benchmarks): as the one-shot PUT's, the finalize's answer
    does not wait for the MD5 of the assembled file; every later read has the right one."""
    data = os.urandom(3 * 1024 * 1024 + 17)
    with start_emulator(EmulatorConfig(processing_ms=0, hash_after_answer=True), port=0) as em:
        t = target(WixCalls(em))
        loc = location(t, len(data))
        assert patch(loc, 0, data).status_code == 204
        done = finalize(t)
        assert done.status_code == 200, done.text
        answered = done.json()["file"]
        assert (answered["hash"], answered["sizeInBytes"]) == ("", str(len(data)))
        assert answered["mediaType"] == "VIDEO"
        [stored] = em.files()
        assert stored["md5"] == hashlib.md5(data).hexdigest()
        assert stored["size"] == len(data)
