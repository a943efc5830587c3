"""The worker and the events together (moto + the emulator's real webhook deliveries to the relay):
an S3 object and a partner import reach `ready` with ZERO get-file calls by the relay — the
worker records `uploaded` and leaves; Wix's File Ready event moves the job. Without events
(no public key) the worker's delayed readiness check does it with one get-file call."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.fixtures.api import PARTNER_KEY
from tests.fixtures.readiness import JOBS_TABLE, PNG, ReadinessRig, wait_until
from wix_relay.config import Settings
from wix_relay.domain.jobs import Job
from wix_relay.integrations.job_store import JobStore
from wix_relay.runtime import Runtime

INBOX = "wix-relay-inbox"


def put(key: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=INBOX)
    s3.put_object(Bucket=INBOX, Key=key, Body=PNG, ContentType="image/png")


def s3_event(key: str) -> dict[str, Any]:
    record = {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": INBOX}, "object": {"key": key, "size": len(PNG)}},
    }
    return {"Records": [record]}


def run_worker(rig: ReadinessRig, event: dict[str, Any], **env: str | None) -> Any:
    merged = {k: v for k, v in {**rig.env, **env}.items() if v is not None}
    worker = Runtime.for_worker(Settings.from_env(merged))
    try:
        return worker.relay.handle(event, None)
    finally:
        worker.pool.shutdown(wait=True)


def take_jobs_messages(rig: ReadinessRig, wait_s: int = 0) -> list[str]:
    """Receive and delete what the jobs queue holds (import messages, readiness checks)."""
    sqs = boto3.client("sqs")
    queue = rig.env["RELAY_QUEUE_URL"]
    found = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s).get(
        "Messages", []
    )
    for message in found:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return [m["Body"] for m in found]


def jobs() -> list[Job]:
    items = boto3.client("dynamodb").scan(TableName=JOBS_TABLE)["Items"]
    ids = [i["id"]["S"] for i in items if i["id"]["S"].startswith(("s3-", "imp-"))]
    return [j for j in map(JobStore(JOBS_TABLE).get, ids) if j is not None]


def ended() -> Job | None:
    return next((j for j in jobs() if j.status in {"ready", "failed"}), None)


def test_an_s3_object_is_ready_by_its_event_with_zero_get_file_calls(
    readiness_rig: ReadinessRig,
) -> None:
    put("acme/event.png")
    assert run_worker(readiness_rig, s3_event("acme/event.png")) == {"processed": 1}
    (job,) = jobs()
    assert job.status in {"uploaded", "ready"}  # the worker did not wait for Wix
    done = wait_until(ended, "the File Ready event to move the job")
    assert done.status == "ready" and done.file is not None and done.file.url
    assert readiness_rig.wix_calls("get-file") == 0
    assert readiness_rig.wix_calls("generate-upload-url") == 1
    assert take_jobs_messages(readiness_rig) == []  # no readiness check was scheduled


def test_a_partner_import_is_ready_by_its_event_with_zero_get_file_calls(
    readiness_rig: ReadinessRig,
) -> None:
    put("acme/import.png")
    created = readiness_rig.call(
        "POST", "/v1/imports", {"bucket": INBOX, "key": "acme/import.png"}, key=PARTNER_KEY
    )
    assert created.status_code == 202, created.text
    (message,) = take_jobs_messages(readiness_rig)
    assert run_worker(readiness_rig, {"jobId": json.loads(message)["jobId"]}) == {"processed": 1}
    done = wait_until(ended, "the File Ready event to move the import")
    public = readiness_rig.call("GET", created.headers["location"], key=PARTNER_KEY).json()
    assert public["status"] == "ready" and public["id"] == done.id
    assert readiness_rig.wix_calls("get-file") == 0
    assert take_jobs_messages(readiness_rig) == []


def test_without_events_a_delayed_check_moves_the_job_with_one_get_file_call(
    readiness_rig: ReadinessRig,
) -> None:
    put("acme/polled.png")
    off = {"WIX_EVENTS_PUBLIC_KEY": None, "RELAY_READY_CHECK_DELAY_SECONDS": "1"}
    readiness_rig.emulator.set_webhook_urls()  # Wix sends nothing either
    assert run_worker(readiness_rig, s3_event("acme/polled.png"), **off) == {"processed": 1}
    assert [j.status for j in jobs()] == ["uploaded"]  # the worker did not wait for Wix
    (check,) = take_jobs_messages(readiness_rig, wait_s=5)  # delivered after DelaySeconds
    assert json.loads(check)["readinessCheck"] == 1
    assert run_worker(readiness_rig, json.loads(check), **off) == {"processed": 1}
    (job,) = jobs()
    assert job.status == "ready" and readiness_rig.wix_calls("get-file") == 1
