"""Big bodies: streamed to disk, never buffered whole (bounded memory), hash still right."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.integration.emulator.emulator_helpers import WixCalls

MIB = 1024 * 1024
SIZE = 256 * MIB


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("big") / "big.mp4"
    md5 = hashlib.md5()
    with path.open("wb") as fh:
        for _ in range(SIZE // MIB):
            block = os.urandom(MIB)
            md5.update(block)
            fh.write(block)
    return path, md5.hexdigest()


class PeakRss:
    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.start = self.peak = self.proc.memory_info().rss
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_big_put_streams_with_bounded_memory(wix: WixCalls, big_file, chunked: bool) -> None:
    path, md5 = big_file
    url = wix.upload_url(mimeType="video/mp4", fileName="big.mp4")
    cmd = ["curl", "-sS", "--fail-with-body", "-H", "Content-Type: video/mp4"]
    with PeakRss() as rss:
        if chunked:
            with path.open("rb") as stdin:
                cmd += ["-H", "Transfer-Encoding: chunked", "-T", "-", url]
                out = subprocess.run(cmd, stdin=stdin, capture_output=True, check=False)
        else:
            out = subprocess.run([*cmd, "-T", str(path), url], capture_output=True, check=False)
    assert out.returncode == 0, out.stderr
    [stored] = wix.em.files()
    assert stored["md5"] == md5
    assert stored["size"] == SIZE
    # The emulator runs in this process: its memory must not grow with the body.
    assert rss.peak - rss.start < 64 * MIB, (rss.start, rss.peak)


@pytest.mark.slow
def test_big_tus_upload_with_tuspy(wix: WixCalls, big_file) -> None:
    from tusclient import client

    path, md5 = big_file
    t = wix.resumable(mimeType="video/mp4", fileName="big.mp4").json()
    meta = {"filename": "big.mp4", "contentType": "video/mp4", "token": t["uploadToken"]}
    with PeakRss() as rss:
        uploader = client.TusClient(t["uploadUrl"]).uploader(
            str(path), chunk_size=32 * MIB, metadata=meta
        )
        uploader.upload()
    file = requests.put(f"{t['uploadUrl']}/{t['uploadToken']}", json={}, timeout=60).json()["file"]
    assert file["hash"] == md5
    assert file["sizeInBytes"] == str(SIZE)
    # tuspy holds one chunk in memory; the emulator holds none.
    assert rss.peak - rss.start < 32 * MIB + 64 * MIB, (rss.start, rss.peak)
