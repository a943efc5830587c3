"""Browser-style uploads end to end over real HTTP: upload URL (with uploadId/statusUrl) → PUT to
Wix (the emulator) → the emulator's signed File Ready event → the relay's `POST /v1/wix/events`
→ the status route says `ready` with the file's URLs. Duplicate, delayed and reordered deliveries
move a record once; another caller can read neither the upload nor the file."""

from __future__ import annotations

import time

import boto3

from tests.fixtures.api import PARTNER_KEY
from tests.fixtures.readiness import JOBS_TABLE, PNG, ReadinessRig, wait_until


def test_upload_url_answers_upload_id_and_status_url(readiness_rig: ReadinessRig) -> None:
    issued = readiness_rig.upload_url()
    assert issued["uploadUrl"].startswith(readiness_rig.emulator.url)
    assert issued["uploadId"].startswith("upl-")
    assert issued["statusUrl"] == f"/v1/uploads/{issued['uploadId']}"
    status = readiness_rig.status(issued["statusUrl"]).json()
    assert status["id"] == issued["uploadId"] and status["status"] == "pending"
    assert status["createdAt"] == status["updatedAt"]
    assert "file" not in status and "error" not in status
    # The relay named its upload in externalInfo: the emulator stores what Wix would echo.
    readiness_rig.put_bytes(issued["uploadUrl"])
    (stored,) = readiness_rig.emulator.files()
    assert stored["externalInfo"] == {
        "origin": "wix-media-relay",
        "externalIds": [issued["uploadId"]],
    }


def test_browser_upload_becomes_ready_by_the_event_with_no_get_file_call(
    readiness_rig: ReadinessRig,
) -> None:
    issued = readiness_rig.upload_url("pixel.png")
    put = readiness_rig.put_bytes(issued["uploadUrl"])
    ready = readiness_rig.wait_status(issued["statusUrl"], {"ready", "failed"})
    assert ready["status"] == "ready", ready
    file = ready["file"]
    assert file["id"] == put["id"] and file["operationStatus"] == "READY"
    assert file["url"].endswith(f"/media/{put['id']}")
    assert file["wixUrl"] == f"wix:image://v1/{put['id']}/pixel.png#originWidth=4&originHeight=3"
    assert file["mediaType"] == "IMAGE" and file["displayName"] == "pixel.png"
    # The file route answers the same document, from what the event said.
    by_file = readiness_rig.call("GET", f"/v1/files/{put['id']}")
    assert by_file.status_code == 200 and by_file.json() == file
    assert readiness_rig.wix_calls("get-file") == 0
    (delivery,) = readiness_rig.emulator.webhooks()
    assert delivery["state"] == "delivered"


def test_long_poll_returns_when_the_event_lands(readiness_rig: ReadinessRig) -> None:
    readiness_rig.emulator.webhook_switch("delay", delay_ms=1500)
    issued = readiness_rig.upload_url()
    readiness_rig.put_bytes(issued["uploadUrl"])
    assert readiness_rig.status(issued["statusUrl"]).json()["status"] == "pending"
    answer = readiness_rig.status(issued["statusUrl"], wait=8)
    assert answer.json()["status"] == "ready"


def _transitions(rig: ReadinessRig) -> list[dict[str, str]]:
    """The callbacks queued so far: one per transition (partner-open has a callback)."""
    return rig.queued_callbacks()


def test_duplicate_deliveries_move_the_upload_once(readiness_rig: ReadinessRig) -> None:
    readiness_rig.emulator.webhook_switch("duplicate")
    issued = readiness_rig.upload_url()
    readiness_rig.put_bytes(issued["uploadUrl"])
    first = readiness_rig.wait_status(issued["statusUrl"], {"ready"})
    wait_until(
        lambda: (
            len([d for d in readiness_rig.emulator.webhooks() if d["state"] == "delivered"]) == 2
        ),
        "both deliveries of the duplicated event",
    )
    deliveries = readiness_rig.emulator.webhooks()
    assert len({d["eventId"] for d in deliveries}) == 1
    assert readiness_rig.status(issued["statusUrl"]).json() == first  # not rewritten
    assert len(_transitions(readiness_rig)) == 1


def test_reordered_and_delayed_events_each_move_their_own_upload_once(
    readiness_rig: ReadinessRig,
) -> None:
    emulator = readiness_rig.emulator
    emulator.webhook_switch("reorder", hold_ms=3000)
    emulator.webhook_switch("delay", delay_ms=800)
    uploads = [readiness_rig.upload_url(f"p{i}.png") for i in range(3)]
    files = [readiness_rig.put_bytes(u["uploadUrl"]) for u in uploads]
    for issued, put in zip(uploads, files, strict=True):
        doc = readiness_rig.wait_status(issued["statusUrl"], {"ready", "failed"})
        assert doc["status"] == "ready" and doc["file"]["id"] == put["id"]
    queued = _transitions(readiness_rig)
    assert (
        sorted(q["body"].count(u["uploadId"]) > 0 for q in queued for u in uploads).count(True) == 3
    )
    assert len(queued) == 3


def test_a_failed_file_is_failed_with_wix_reason(readiness_rig: ReadinessRig) -> None:
    readiness_rig.emulator.fail_next()
    issued = readiness_rig.upload_url()
    put = readiness_rig.put_bytes(issued["uploadUrl"])
    doc = readiness_rig.wait_status(issued["statusUrl"], {"ready", "failed"})
    assert doc["status"] == "failed"
    assert doc["error"]["code"] == "FILE_PROCESSING_FAILED"
    assert doc["file"]["id"] == put["id"]


def test_another_caller_reads_neither_the_upload_nor_the_file(readiness_rig: ReadinessRig) -> None:
    issued = readiness_rig.upload_url()
    put = readiness_rig.put_bytes(issued["uploadUrl"])
    readiness_rig.wait_status(issued["statusUrl"], {"ready"})
    theirs = readiness_rig.call("GET", issued["statusUrl"], key=PARTNER_KEY)
    unknown = readiness_rig.call("GET", "/v1/uploads/upl-" + "0" * 32, key=PARTNER_KEY)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["error"]["code"] == unknown.json()["error"]["code"] == "NOT_FOUND"
    their_file = readiness_rig.call("GET", f"/v1/files/{put['id']}", key=PARTNER_KEY)
    no_file = readiness_rig.call("GET", "/v1/files/nope~mv2.png", key=PARTNER_KEY)
    assert their_file.status_code == no_file.status_code == 404
    # The same answer as for a file that does not exist (only the echoed id differs).
    mine, none = their_file.json()["error"], no_file.json()["error"]
    assert mine["code"] == none["code"] == "NOT_FOUND"
    assert mine["message"].replace(put["id"], "X") == none["message"].replace("nope~mv2.png", "X")
    assert "static" not in their_file.text and "wix:image" not in their_file.text
    assert readiness_rig.call("GET", "/v1/files/nope~mv2.png").status_code == 404
    assert readiness_rig.wix_calls("get-file") == 0  # no probing of Wix through the relay


def test_wait_seconds_is_bounded(readiness_rig: ReadinessRig) -> None:
    issued = readiness_rig.upload_url()
    for value in ("8.5", "-1", "soon"):
        answer = readiness_rig.status(issued["statusUrl"] + f"?waitSeconds={value}")
        assert answer.status_code == 400, value


def test_the_status_routes_need_a_caller(readiness_rig: ReadinessRig) -> None:
    issued = readiness_rig.upload_url()
    assert readiness_rig.call("GET", issued["statusUrl"], key="").status_code == 401
    assert readiness_rig.call("GET", "/v1/files/x", key="").status_code == 401


def test_records_carry_their_ttl(readiness_rig: ReadinessRig) -> None:
    issued = readiness_rig.upload_url()
    item = boto3.client("dynamodb").get_item(
        TableName=JOBS_TABLE, Key={"id": {"S": issued["uploadId"]}}
    )["Item"]
    expires = int(item["expiresAt"]["N"])
    assert 29 * 86400 < expires - time.time() <= 30 * 86400


def test_an_upload_id_is_no_import(readiness_rig: ReadinessRig) -> None:
    """Upload records share the jobs table: reading one as an import is a 404, not a 500."""
    issued = readiness_rig.upload_url()
    answer = readiness_rig.call("GET", f"/v1/imports/{issued['uploadId']}")
    assert answer.status_code == 404, answer.text


def test_an_upload_whose_record_cannot_be_written_gets_no_url(readiness_rig: ReadinessRig) -> None:
    """The record is written while Wix answers (not after): if the write fails, the caller gets a
    retryable 503 and no URL, never a URL whose status the relay cannot keep."""
    boto3.client("dynamodb").delete_table(TableName=JOBS_TABLE)
    for path in ("/v1/upload-url", "/v1/resumable-upload-url"):
        answer = readiness_rig.call(
            "POST", path, {"mimeType": "image/png", "fileName": "x.png", "sizeInBytes": len(PNG)}
        )
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert "uploadUrl" not in body and "uploadId" not in body
    assert readiness_rig.wix_calls("generate-upload-url") == 1
    assert readiness_rig.wix_calls("generate-resumable-upload-url") == 1
