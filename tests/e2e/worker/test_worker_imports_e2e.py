"""Partner imports through the real API handler (x-api-key, policy from the caller registry),
the worker draining the real queue (moto), and the Wix emulator."""

from __future__ import annotations

import pytest

from tests.fixtures.api import OPEN_PARTNER_KEY, PARTNER_KEY, RelayApi
from tests.fixtures.worker import INBOX, JPEG, WorkerRig


@pytest.fixture
def imports(relay_api: RelayApi, worker_rig: WorkerRig) -> RelayApi:
    keep = ("AWS_ENDPOINT_URL", "AWS_REGION", "RELAY_JOBS_TABLE", "RELAY_QUEUE_URL")
    return relay_api.configure(**{k: worker_rig.env[k] for k in keep})


def put_quietly(rig: WorkerRig, key: str, data: bytes = JPEG, **kw: object) -> None:
    """Put an object without its S3 notification (so only the import relays it)."""
    rig.put(key, data, **kw)  # type: ignore[arg-type]
    rig.discard_messages()


def test_import_lifecycle_and_idempotency_key(imports: RelayApi, worker_rig: WorkerRig) -> None:
    put_quietly(worker_rig, "acme/photos/beach day.jpg", content_type="image/jpeg")
    body = {
        "bucket": INBOX,
        "key": "acme/photos/beach day.jpg",
        "filePath": "/partners/acme/2026",
        "labels": ["summer"],
    }
    headers = {"Idempotency-Key": "order-42"}
    first = imports.request("POST", "/v1/imports", body, api_key=PARTNER_KEY, headers=headers)
    assert first.status == 202, first.body
    job = first.json()
    assert job["status"] == "queued"
    assert job["source"] == {"bucket": INBOX, "key": body["key"], "size": len(JPEG)}
    assert first.headers["Location"] == f"/v1/imports/{job['id']}"
    assert set(job) == {"id", "status", "source", "createdAt", "updatedAt"}

    again = imports.request("POST", "/v1/imports", body, api_key=PARTNER_KEY, headers=headers)
    assert again.status == 202 and again.json()["id"] == job["id"]

    polled = imports.request("GET", first.headers["Location"], api_key=PARTNER_KEY)
    assert polled.status == 200 and polled.json()["status"] == "queued"

    worker_rig.drain()
    done = imports.request("GET", first.headers["Location"], api_key=PARTNER_KEY).json()
    assert done["status"] == "ready", done
    (file,) = worker_rig.files()
    assert done["file"]["id"] == file["id"]
    assert file["folderPath"] == "/partners/acme/2026"
    assert (file["displayName"], file["labels"]) == ("beach day.jpg", ["summer"])

    # a third POST after completion still answers with the first job; nothing new is queued
    third = imports.request("POST", "/v1/imports", body, api_key=PARTNER_KEY, headers=headers)
    assert third.json()["id"] == job["id"] and third.json()["status"] == "ready"
    worker_rig.drain()
    assert len(worker_rig.files()) == 1


def test_import_mode_and_default_folder(imports: RelayApi, worker_rig: WorkerRig) -> None:
    put_quietly(worker_rig, "acme/pull.jpg")
    body = {"bucket": INBOX, "key": "acme/pull.jpg", "mode": "import", "fileName": "pulled.jpg"}
    response = imports.request("POST", "/v1/imports", body, api_key=PARTNER_KEY)
    assert response.status == 202, response.body
    worker_rig.drain()
    (file,) = worker_rig.files()
    assert (file["folderPath"], file["displayName"]) == ("/partners/acme/inbox", "pulled.jpg")
    assert file["sourceUrl"]
    (job,) = worker_rig.jobs()
    assert job.mode == "import" and job.status == "ready" and job.caller_id == "partner-acme"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"key": "acme/a.jpg"}, 400, "INVALID_INPUT", "bucket"),
        ({"bucket": INBOX, "key": "acme/a.jpg", "mode": "teleport"}, 400, "INVALID_INPUT", "mode"),
        ({"bucket": INBOX, "key": "acme/a.jpg", "size": 3}, 400, "INVALID_INPUT", "size"),
        ({"bucket": INBOX, "key": "other/a.jpg"}, 403, "IMPORT_SOURCE_NOT_ALLOWED", "key"),
        ({"bucket": "elsewhere", "key": "acme/a.jpg"}, 403, "IMPORT_SOURCE_NOT_ALLOWED", "key"),
        ({"bucket": INBOX, "key": "acme/missing.jpg"}, 404, "SOURCE_NOT_FOUND", None),
        ({"bucket": INBOX, "key": "acme/big.jpg"}, 403, "SIZE_NOT_ALLOWED", "sizeInBytes"),
        ({"bucket": INBOX, "key": "acme/notes.txt"}, 403, "MIME_TYPE_NOT_ALLOWED", "mimeType"),
        (
            {"bucket": INBOX, "key": "acme/a.jpg", "filePath": "/partners/other"},
            403,
            "FOLDER_NOT_ALLOWED",
            "filePath",
        ),
        (
            {"bucket": INBOX, "key": "acme/a.jpg", "filePath": "/partners/acme/../x"},
            400,
            "INVALID_PATH",
            "filePath",
        ),
        ({"bucket": INBOX, "key": "acme/a.jpg", "private": True}, 403, "PRIVATE_NOT_ALLOWED", None),
    ],
)
def test_import_refusals(
    imports: RelayApi,
    worker_rig: WorkerRig,
    body: dict,
    status: int,
    code: str,
    field: str | None,
) -> None:
    put_quietly(worker_rig, "acme/a.jpg")
    put_quietly(worker_rig, "acme/notes.txt", b"hello", content_type="text/plain")
    put_quietly(worker_rig, "acme/big.jpg", JPEG + bytes(11 * 1024 * 1024))
    response = imports.request("POST", "/v1/imports", body, api_key=PARTNER_KEY)
    assert (response.status, response.error_code) == (status, code), response.body
    if field is not None:
        assert field in {d["field"] for d in response.json()["error"].get("details", [])}
    assert worker_rig.jobs() == []
    assert worker_rig.sqs.receive_message(QueueUrl=worker_rig.queue_url).get("Messages") is None


def test_jobs_are_private_to_their_caller(imports: RelayApi, worker_rig: WorkerRig) -> None:
    put_quietly(worker_rig, "acme/mine.jpg")
    created = imports.request(
        "POST", "/v1/imports", {"bucket": INBOX, "key": "acme/mine.jpg"}, api_key=PARTNER_KEY
    )
    location = created.headers["Location"]
    other = imports.request("GET", location, api_key=OPEN_PARTNER_KEY)
    assert (other.status, other.error_code) == (404, "NOT_FOUND")
    missing = imports.request("GET", "/v1/imports/imp-nope", api_key=PARTNER_KEY)
    assert missing.status == 404
    anonymous = imports.request("GET", location)
    assert anonymous.status == 401


def test_import_and_s3_event_for_one_object_are_separate_jobs(
    imports: RelayApi, worker_rig: WorkerRig
) -> None:
    worker_rig.put("acme/both.jpg")  # its S3 notification stays on the queue
    response = imports.request(
        "POST", "/v1/imports", {"bucket": INBOX, "key": "acme/both.jpg"}, api_key=PARTNER_KEY
    )
    assert response.status == 202
    worker_rig.drain()
    assert sorted(j.origin for j in worker_rig.jobs()) == ["import", "s3"]
    assert len(worker_rig.files()) == 2
