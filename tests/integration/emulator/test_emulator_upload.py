"""Generate an upload URL, PUT the bytes, read the descriptor back — over real HTTP."""

from __future__ import annotations

import hashlib
import os
import time

import requests
from wix_emulator import RunningEmulator

API = "/site-media/v1/files"


def generate(emulator: RunningEmulator, **fields: object) -> requests.Response:
    return requests.post(
        emulator.url + API + "/generate-upload-url",
        json=fields,
        headers=emulator.api_key_headers(),
        timeout=10,
    )


def wait_ready(emulator: RunningEmulator, file_id: str) -> dict:
    deadline = time.monotonic() + 5
    while True:
        r = requests.get(
            emulator.url + API + "/get-file-by-id",
            params={"fileId": file_id},
            headers=emulator.api_key_headers(),
            timeout=10,
        )
        assert r.status_code == 200, r.text
        file = r.json()["file"]
        if file["operationStatus"] != "PENDING" or time.monotonic() > deadline:
            return file
        time.sleep(0.02)


def test_generate_put_get_roundtrip(wix_emulator: RunningEmulator) -> None:
    data = os.urandom(300_000)
    r = generate(wix_emulator, mimeType="image/jpeg", fileName="cat.jpg", filePath="/pets/cats")
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["uploadUrl"]
    assert "x-wix-request-id" in r.headers
    upload_url = r.json()["uploadUrl"]
    assert upload_url.startswith(f"http://{wix_emulator.upload_host}/upload/")

    put = requests.put(upload_url, data=data, headers={"Content-Type": "image/jpeg"}, timeout=10)
    assert put.status_code == 200, put.text
    file = put.json()["file"]
    assert file["operationStatus"] == "PENDING"
    assert file["sizeInBytes"] == str(len(data))
    assert file["hash"] == hashlib.md5(data).hexdigest()
    assert file["displayName"] == "cat.jpg"
    assert file["mediaType"] == "IMAGE"
    assert file["id"].endswith("~mv2.jpg")

    ready = wait_ready(wix_emulator, file["id"])
    assert ready["operationStatus"] == "READY"
    [stored] = wix_emulator.files()
    assert stored["folderPath"] == "/pets/cats"
    assert stored["md5"] == hashlib.md5(data).hexdigest()
    assert stored["size"] == len(data)
