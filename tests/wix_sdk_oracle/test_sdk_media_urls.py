"""The relay's `wixUrl` (domain/readiness.wix_media_url) against the official SDK: for each file
the SDK read from the emulator, the relay's identifier built from the same file's REST
descriptor equals the SDK's `media` string (image, video, audio, document)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from wix_emulator import EmulatorConfig, RunningEmulator, start_emulator

from tests.wix_sdk_oracle.sdk_oracle import run_oracle
from wix_relay.domain.readiness import file_document, wix_media_url


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    em = start_emulator(EmulatorConfig(processing_ms=20), port=0)
    try:
        yield em
    finally:
        em.stop()


def rest_descriptor(emulator: RunningEmulator, file_id: str) -> dict[str, Any]:
    answer = requests.get(
        f"{emulator.url}/site-media/v1/files/get-file-by-id",
        params={"fileId": file_id},
        headers=emulator.api_key_headers(),
        timeout=10,
    )
    answer.raise_for_status()
    file: dict[str, Any] = answer.json()["file"]
    return file


def test_wix_urls_match_the_sdk(emulator: RunningEmulator) -> None:
    run = run_oracle(emulator, "files")["apiKey"]
    image = run["imageReady"]
    cases = [(image["_id"], image["media"]["image"]["image"])]
    media = run["media"]
    for kind in ("video", "document"):
        ready = media[kind]["ready"]
        cases.append((ready["_id"], ready["media"][kind]))
    audio = media["audio"]["ready"]
    cases.append((audio["_id"], audio["media"]["audio"]["assets"][0]))
    for file_id, sdk_url in cases:
        rest = rest_descriptor(emulator, file_id)
        assert wix_media_url(rest) == sdk_url, rest.get("mediaType")
        assert file_document(rest)["wixUrl"] == sdk_url
