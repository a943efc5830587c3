"""The official Wix SDK (@wix/sdk + @wix/auto_sdk_media_files) against the emulator: every files
call the relay relies on, with ApiKeyStrategy and AppStrategy, and the declared error cases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from wix_emulator import EmulatorConfig, RunningEmulator, start_emulator

from tests.wix_sdk_oracle.sdk_oracle import run_oracle


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    em = start_emulator(EmulatorConfig(processing_ms=20), port=0)
    try:
        yield em
    finally:
        em.stop()


@pytest.fixture(scope="module")
def sdk(emulator: RunningEmulator) -> dict[str, Any]:
    result: dict[str, Any] = run_oracle(emulator, "files")
    return result


def rule_names(error: dict[str, Any]) -> list[str]:
    violations = error["details"]["validationError"]["fieldViolations"]
    return [v["ruleName"] for v in violations]


@pytest.mark.parametrize("strategy", ["apiKey", "app"])
def test_upload_url_put_and_ready_descriptor(sdk: dict[str, Any], strategy: str) -> None:
    run = sdk[strategy]
    assert set(run["generateFileUploadUrl"]) == {"uploadUrl"}  # [doc] nothing else
    assert run["uploadPut"]["status"] == 200
    uploaded = run["uploadPut"]["body"]["file"]  # the raw upload answer: REST names
    ready = run["imageReady"]  # through the SDK: `id` renamed `_id`, dates `_createdDate`
    assert ready["_id"] == uploaded["id"] and "id" not in ready
    assert ready["_createdDate"] and ready["_updatedDate"]
    assert ready["operationStatus"] == "READY" and ready["mediaType"] == "IMAGE"
    assert ready["sizeInBytes"] == uploaded["sizeInBytes"] == "75"
    # The SDK turned REST media.image.image {id, width, height, filename} into a wix: URL.
    assert ready["media"]["image"]["image"] == (
        f"wix:image://v1/{uploaded['id']}/pixel.png#originWidth=4&originHeight=3"
    )


@pytest.mark.parametrize("strategy", ["apiKey", "app"])
def test_resumable_url_reads(sdk: dict[str, Any], strategy: str) -> None:
    run = sdk[strategy]
    resumable = run["generateFileResumableUploadUrl"]["ok"]
    assert resumable["uploadProtocol"] == "TUS"
    assert resumable["uploadUrl"].endswith("/upload/tus") and resumable["uploadToken"]
    image_id = run["imageReady"]["_id"]
    assert [f["_id"] for f in run["getFileDescriptors"]["ok"]["files"]] == [image_id]
    listed = run["listFiles"]["ok"]
    assert image_id in [f["_id"] for f in listed["files"]]
    assert "cursors" in listed["nextCursor"]


@pytest.mark.parametrize("strategy", ["apiKey", "app"])
def test_declared_errors(sdk: dict[str, Any], strategy: str) -> None:
    """The typings' `__validationErrorsType`: RESOURCE_NOT_FOUND (get file descriptor(s)),
    UNSUPPORTED_FILE_FORMAT (generate upload URL) — all HTTP 400 validation errors."""
    run = sdk[strategy]
    for key in ("unknownFile", "unknownFiles"):
        error = run[key]["error"]
        assert error["status"] == 400, error
        assert rule_names(error) == ["RESOURCE_NOT_FOUND"]
        assert error["requestId"]
    refused = run["refusedMime"]["error"]
    assert refused["status"] == 400 and rule_names(refused) == ["UNSUPPORTED_FILE_FORMAT"]


def test_wrong_app_secret(sdk: dict[str, Any]) -> None:
    """AppStrategy's token call fails on a non-200 and names the status and x-wix-request-id."""
    token = sdk["wrongSecretToken"]["error"]
    assert "Unexpected status code from Wix OAuth API: 401" in token["message"]
    assert "request id: " in token["message"] and "request id: null" not in token["message"]
    assert "error" in sdk["wrongSecret"]  # and no files call goes through


def test_import_answer_has_no_media(sdk: dict[str, Any]) -> None:
    imported = sdk["apiKey"]["importFile"]["ok"]["file"]
    assert imported["operationStatus"] == "PENDING" and imported["_id"]
    assert "media" not in imported  # [doc] no `media` key at all, not {}
    assert imported["displayName"] == "imported.png"


def test_bulk_import(sdk: dict[str, Any]) -> None:
    bulk = sdk["apiKey"]["bulkImportFile"]["ok"]
    first, second = bulk["results"]
    assert first["itemMetadata"]["success"] is True
    assert first["itemMetadata"]["_id"] == first["item"]["_id"]
    assert "media" not in first["item"]
    assert second["itemMetadata"]["success"] is False
    assert second["itemMetadata"]["originalIndex"] == 1
    assert second["itemMetadata"]["error"]["code"]
    assert bulk["bulkActionMetadata"] == {
        "totalSuccesses": 1,
        "totalFailures": 1,
        "undetailedFailures": 0,
    }


def test_video_audio_document_media_shapes(sdk: dict[str, Any]) -> None:
    """The SDK's REST→SDK transformations read `media.video {id, filename}` and `media.document
    {id, filename}` into wix: URLs, and `media.audio.assets[] {id, filename}` likewise (AudioV2
    keeps `_id`, `format`, `sizeInBytes`); a wrong shape would come out undefined."""
    media = sdk["apiKey"]["media"]
    for kind, name in (("video", "clip.mp4"), ("document", "paper.pdf")):
        ready = media[kind]["ready"]
        assert media[kind]["putStatus"] == 200 and ready["operationStatus"] == "READY"
        assert ready["media"] == {kind: f"wix:{kind}://v1/{ready['_id']}/{name}"}
    audio = media["audio"]["ready"]
    assert audio["operationStatus"] == "READY" and audio["mediaType"] == "AUDIO"
    assert audio["media"]["audio"]["_id"] == audio["_id"]
    # `#duration=0`: the SDK's default when Wix sends no duration.
    assert audio["media"]["audio"]["assets"] == [
        f"wix:audio://v1/{audio['_id']}/song.mp3#duration=0"
    ]
    assert audio["media"]["audio"]["format"] == "mp3"
    assert media["video"]["ready"]["mediaType"] == "VIDEO"
