"""Resumable uploads: Wix takes no externalInfo for them, so the caller reports the file id the
finalize answered (`POST /v1/uploads/{id}/file`); the relay checks it against Wix and the record
follows the file — whether the File Ready event came before or after the report. A report of a
file that is not this upload's is a 404, as for a file that does not exist."""

from __future__ import annotations

import io
from typing import Any

from tests.fixtures.api import PARTNER_KEY
from tests.fixtures.readiness import PNG, ReadinessRig, wait_until
from wix_relay.config import WixSettings
from wix_relay.integrations.wix import ResumableTarget, WixMediaClient, credentials_from_document

BYTES = PNG * 4000  # ~300 KiB: more than one 256 KiB chunk


def resumable_url(rig: ReadinessRig, name: str = "big.png", *, key: str | None = None) -> Any:
    answer = rig.call(
        "POST",
        "/v1/resumable-upload-url",
        {"mimeType": "image/png", "fileName": name, "sizeInBytes": len(BYTES)},
        **({"key": key} if key else {}),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def tus_upload(rig: ReadinessRig, issued: dict[str, Any], name: str = "big.png") -> str:
    """What the browser library does: tus PATCHes, then the finalize PUT; the file id."""
    client = WixMediaClient(
        _no_credentials,
        WixSettings(api_base_url=rig.emulator.url, upload_hosts=(rig.emulator.upload_host,)),
    )
    target = ResumableTarget(issued["uploadUrl"], issued["uploadToken"])
    descriptor = client.upload_resumable(
        target,
        lambda offset: io.BytesIO(BYTES[offset:]),
        size=len(BYTES),
        mime_type="image/png",
        filename=name,
        chunk_size=256 * 1024,
    )
    return descriptor.id


def _no_credentials() -> Any:
    raise AssertionError("the upload host needs no Wix credential")


def report(rig: ReadinessRig, issued: dict[str, Any], file_id: str, key: str | None = None) -> Any:
    extra = {"key": key} if key else {}
    return rig.call("POST", issued["statusUrl"] + "/file", {"fileId": file_id}, **extra)


def test_reported_file_after_the_event_makes_the_upload_ready(readiness_rig: ReadinessRig) -> None:
    issued = resumable_url(readiness_rig)
    assert issued["uploadId"].startswith("upl-") and issued["uploadToken"]
    file_id = tus_upload(readiness_rig, issued)
    wait_until(
        lambda: [d for d in readiness_rig.emulator.webhooks() if d["state"] == "delivered"],
        "the File Ready delivery",
    )
    # The event could not be placed (no externalInfo): the upload still waits for its report.
    assert readiness_rig.status(issued["statusUrl"]).json()["status"] == "pending"
    answer = report(readiness_rig, issued, file_id)
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["status"] == "ready" and doc["file"]["id"] == file_id
    assert doc["file"]["wixUrl"].startswith(f"wix:image://v1/{file_id}/big.png#")
    assert readiness_rig.call("GET", f"/v1/files/{file_id}").json()["id"] == file_id
    assert report(readiness_rig, issued, file_id).json() == doc  # idempotent
    assert len(readiness_rig.queued_callbacks()) == 1


def test_reported_file_before_the_event_is_uploaded_then_ready(readiness_rig: ReadinessRig) -> None:
    readiness_rig.emulator.webhook_switch("delay", delay_ms=1500)
    issued = resumable_url(readiness_rig)
    file_id = tus_upload(readiness_rig, issued)
    doc = report(readiness_rig, issued, file_id).json()
    assert doc["status"] in {"uploaded", "ready"}
    final = readiness_rig.wait_status(issued["statusUrl"], {"ready", "failed"})
    assert final["status"] == "ready" and final["file"]["id"] == file_id
    assert len(readiness_rig.queued_callbacks()) == 1


def test_a_file_that_is_not_this_uploads_is_refused(readiness_rig: ReadinessRig) -> None:
    mine = resumable_url(readiness_rig)
    file_id = tus_upload(readiness_rig, mine)
    assert report(readiness_rig, mine, file_id).status_code == 200
    # Another caller's upload cannot take the file (nor can the same caller's second upload).
    theirs = resumable_url(readiness_rig, key=PARTNER_KEY)
    taken = report(readiness_rig, theirs, file_id, key=PARTNER_KEY)
    other_name = resumable_url(readiness_rig, "other.png")
    wrong = report(readiness_rig, other_name, file_id)
    unknown = report(readiness_rig, other_name, "nope~mv2.png")
    assert taken.status_code == wrong.status_code == unknown.status_code == 404
    # Nobody reads another caller's upload by reporting on it.
    assert report(readiness_rig, mine, file_id, key=PARTNER_KEY).status_code == 404
    assert readiness_rig.status(theirs["statusUrl"], key=PARTNER_KEY).json()["status"] == "pending"


def test_a_report_needs_a_file_id(readiness_rig: ReadinessRig) -> None:
    issued = resumable_url(readiness_rig)
    for body in ({}, {"fileId": ""}, {"fileId": 7}):
        answer = readiness_rig.call("POST", issued["statusUrl"] + "/file", body)
        assert answer.status_code == 400, body


def _direct_upload(rig: ReadinessRig, file_path: str, name: str = "big.png") -> str:
    """A file put into the site straight through Wix (not through this upload's URL)."""
    fields = {"mimeType": "image/png", "fileName": name, "filePath": file_path}
    fields["sizeInBytes"] = str(len(BYTES))
    credentials = credentials_from_document(rig.emulator.credentials_document())
    client = WixMediaClient(
        credentials,
        WixSettings(api_base_url=rig.emulator.url, upload_hosts=(rig.emulator.upload_host,)),
    )
    url = client.generate_upload_url(fields)
    return client.upload(url, lambda: io.BytesIO(BYTES), mime_type="image/png").id


def test_the_reported_file_must_be_in_the_uploads_folder(readiness_rig: ReadinessRig) -> None:
    body = {"mimeType": "image/png", "fileName": "big.png", "sizeInBytes": len(BYTES)}
    issued = readiness_rig.call(
        "POST", "/v1/resumable-upload-url", {**body, "filePath": "/uploads/a/b"}
    ).json()
    elsewhere = _direct_upload(readiness_rig, "/uploads/c/b")  # same name, size, leaf folder
    before = readiness_rig.wix_calls("get-folder")
    assert report(readiness_rig, issued, elsewhere).status_code == 404
    assert readiness_rig.wix_calls("get-folder") > before  # the folders were asked for
    there = _direct_upload(readiness_rig, "/uploads/a/b")
    answer = report(readiness_rig, issued, there)
    assert answer.status_code == 200 and answer.json()["file"]["id"] == there
