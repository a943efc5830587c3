"""Exactly once, counted in the emulator: every way one object version could reach Wix twice
(issue 9 §1) — replays with other fields, a second delivery during a slow transfer, a failing
save after the upload, a retried finalize, an interrupted attempt — ends with one file."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest
from local_stack.lambda_context import LambdaContext

from tests.fixtures.readiness import wait_until
from tests.fixtures.worker import INBOX, JOBS_TABLE, JPEG, VERSIONED, WorkerRig
from wix_relay.domain.jobs import OUTCOME_UNKNOWN, Claim, Job, ObjectRef
from wix_relay.integrations.job_store import JobStore
from wix_relay.runtime import Runtime


def unversioned(put: Any) -> dict[str, Any]:
    """The S3 event of `put` without versionId (what moto sends even for a versioned bucket)."""
    event: dict[str, Any] = {"Records": []}
    for record in put["Records"]:
        obj = {k: v for k, v in record["s3"]["object"].items() if k != "versionId"}
        event["Records"].append({**record, "s3": {**record["s3"], "object": obj}})
    return event


def test_replays_with_and_without_version_id_relay_one_file(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("replay/v.jpg", bucket=VERSIONED)
    worker_rig.discard_messages()
    with_version = worker_rig.s3_event(put)
    assert worker_rig.invoke(unversioned(with_version)) == {"processed": 1}
    assert worker_rig.invoke(with_version) == {"processed": 1}  # a DLQ replay, a hand-sent event
    assert worker_rig.invoke(worker_rig.eventbridge_event(put)) == {"processed": 1}
    assert worker_rig.invoke(worker_rig.sqs_event(with_version)) == {"batchItemFailures": []}
    assert len(worker_rig.files()) == 1
    worker_rig.drain()  # the delayed readiness check (Wix events are off here)
    (job,) = worker_rig.jobs()
    assert (job.status, job.attempts, job.source.version_id) == ("ready", 1, put.version_id)


def test_replays_in_an_unversioned_bucket_agree_on_the_etag(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("replay/u.jpg")
    worker_rig.discard_messages()
    event = worker_rig.s3_event(put)
    assert worker_rig.invoke(event) == {"processed": 1}
    bare = worker_rig.s3_event(put)
    bare["Records"][0]["s3"]["object"] = {"key": "replay/u.jpg"}  # no eTag, size, sequencer
    assert worker_rig.invoke(bare) == {"processed": 1}
    other_sequencer = worker_rig.s3_event(put)
    other_sequencer["Records"][0]["s3"]["object"]["sequencer"] = "FFFF"
    assert worker_rig.invoke(other_sequencer) == {"processed": 1}
    assert len(worker_rig.files()) == 1
    assert [j.attempts for j in worker_rig.jobs()] == [1]


def _in_thread(worker: Runtime, event: dict[str, Any], context: LambdaContext) -> list[Any]:
    answers: list[Any] = []
    thread = threading.Thread(target=lambda: answers.append(worker.relay.handle(event, context)))
    thread.start()
    answers.append(thread)
    return answers


def test_a_second_delivery_during_a_slow_transfer_is_refused(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("slow/big.jpg", JPEG * 40, bucket=VERSIONED)
    worker_rig.discard_messages()
    body = worker_rig.s3_event(put)
    first, second = worker_rig.worker, worker_rig.make_worker()  # two containers
    worker_rig.emulator.set_latency(1500, include_uploads=True)
    # The first container reports little remaining time (as the issue reproduced): nothing about
    # the second delivery may depend on it.
    running = _in_thread(first, worker_rig.sqs_event(body), LambdaContext("w", timeout_s=1))
    time.sleep(1.2)  # past the first invocation's reported deadline, mid-transfer
    event = worker_rig.sqs_event(body)
    answer = second.relay.handle(event, LambdaContext("w", timeout_s=60))
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    running[0].join()
    assert running[1] == {"batchItemFailures": []}
    worker_rig.emulator.set_latency(0)
    redelivered = second.relay.handle(event, LambdaContext("w"))
    assert redelivered == {"batchItemFailures": []}
    assert len(worker_rig.files()) == 1
    worker_rig.drain()  # the delayed readiness check (Wix events are off here)
    (job,) = worker_rig.jobs()
    assert (job.status, job.attempts) == ("ready", 1)


def _failing_save(worker: Runtime, monkeypatch: pytest.MonkeyPatch, failures: int) -> list[str]:
    """The job store's save raises `failures` times when it records the uploaded file."""
    store = worker.jobs
    real = store.save
    seen: list[str] = []

    def save(job: Job, *, owner: str | None = None) -> None:
        if job.status == "uploaded" and len(seen) < failures:
            seen.append(job.id)
            raise RuntimeError("DynamoDB is having a bad day")
        real(job, owner=owner)

    monkeypatch.setattr(store, "save", save)
    return seen


def test_a_failing_save_after_the_upload_is_retried(
    worker_rig: WorkerRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("wix_relay.services.transfer.SAVE_RETRY_DELAYS_S", (0.01, 0.01))
    failed = _failing_save(worker_rig.worker, monkeypatch, failures=2)
    put = worker_rig.put("save/flaky.jpg")
    worker_rig.drain()
    assert len(failed) == 2
    assert len(worker_rig.files()) == 1
    assert worker_rig.invoke(worker_rig.s3_event(put)) == {"processed": 1}
    assert len(worker_rig.files()) == 1
    (job,) = worker_rig.jobs()
    assert job.status == "ready" and job.file is not None


def test_a_save_that_keeps_failing_after_the_upload_never_uploads_again(
    worker_rig: WorkerRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("wix_relay.services.transfer.SAVE_RETRY_DELAYS_S", ())
    monkeypatch.setattr("wix_relay.services.relay.CLAIM_GRACE_S", 0)
    failed = _failing_save(worker_rig.worker, monkeypatch, failures=1)
    put = worker_rig.put("save/down.jpg")
    worker_rig.discard_messages()
    event = worker_rig.sqs_event(worker_rig.s3_event(put))
    answer = worker_rig.worker.relay.handle(event, LambdaContext("w", timeout_s=4))
    assert answer["batchItemFailures"] and failed  # redelivered, the file recorded nowhere
    assert worker_rig.worker.relay.handle(event, LambdaContext("w")) == answer  # claim still held
    time.sleep(4.1)  # the claim expires: the job reached Wix, so it is not sent again
    assert worker_rig.worker.relay.handle(event, LambdaContext("w")) == {"batchItemFailures": []}
    assert len(worker_rig.files()) == 1
    (job,) = worker_rig.jobs()
    assert job.status == "failed" and job.error is not None
    assert job.error.code == OUTCOME_UNKNOWN and not job.error.retryable


def test_a_retried_finalize_creates_one_file(worker_rig: WorkerRig) -> None:
    worker = worker_rig.make_worker(RELAY_DEFAULT_MODE="resumable", WIX_READ_TIMEOUT_SECONDS="1")
    # the first finalize is answered too late (the client gives up and sends it again with the
    # same single-use token; the late one then finds the token spent)
    worker_rig.emulator.add_fault("finalize", count=1, delay_ms=2500)
    put = worker_rig.put("tus/finalize.jpg", JPEG * 8)
    worker_rig.drain(worker=worker)
    wait_until(  # the late finalize has run (and found its token spent)
        lambda: [r["endpoint"] for r in worker_rig.emulator.requests()].count("finalize") >= 2,
        "the late finalize",
    )
    files = worker_rig.files()
    assert len(files) == 1 and files[0]["md5"] == put.md5
    (job,) = worker_rig.jobs()
    assert (job.mode, job.status) == ("resumable", "ready")


def test_a_finalize_that_keeps_failing_is_not_restarted_with_a_new_url(
    worker_rig: WorkerRig,
) -> None:
    worker = worker_rig.make_worker(RELAY_DEFAULT_MODE="resumable")
    worker_rig.emulator.add_fault("finalize", count=1000, status=503)
    worker_rig.put("tus/down.jpg", JPEG * 8)
    worker_rig.drain(worker=worker)
    (job,) = worker_rig.jobs()
    assert job.status == "failed" and job.error is not None
    assert job.error.code == OUTCOME_UNKNOWN
    urls = [r for r in worker_rig.emulator.requests() if r["endpoint"].startswith("generate")]
    assert len(urls) == 1  # never a second upload URL
    assert worker_rig.dead_letters() == []


def _stored(put: Any, *, stage: str | None, expired_s: int) -> Job:
    """A job left `running` by an attempt whose claim expired `expired_s` ago."""
    ref = ObjectRef(put.bucket, put.key, etag=put.etag, size=put.size)
    job = Job.for_s3_object(ref, "auto").start(claim=Claim("gone", int(time.time()) - expired_s))
    job = job.sending() if stage else job
    JobStore(JOBS_TABLE, boto3.client("dynamodb")).save(job)
    return job


def test_an_expired_claim_that_may_have_reached_wix_is_not_uploaded_blindly(
    worker_rig: WorkerRig,
) -> None:
    put = worker_rig.put("crash/after-send.jpg")
    worker_rig.discard_messages()
    _stored(put, stage="sending", expired_s=60)
    assert worker_rig.invoke(worker_rig.s3_event(put)) == {"processed": 1}
    assert worker_rig.files() == []
    (job,) = worker_rig.jobs()
    assert job.status == "failed" and job.error is not None
    assert job.error.code == OUTCOME_UNKNOWN and "Media Manager" in job.error.message


def test_an_expired_claim_before_sending_is_taken_over(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("crash/before-send.jpg", bucket=INBOX)
    worker_rig.discard_messages()
    _stored(put, stage=None, expired_s=60)
    assert worker_rig.invoke(worker_rig.s3_event(put)) == {"processed": 1}
    assert len(worker_rig.files()) == 1
    worker_rig.drain()  # the delayed readiness check (Wix events are off here)
    (job,) = worker_rig.jobs()
    assert (job.status, job.attempts) == ("ready", 2)


def test_a_held_claim_is_refused_and_the_message_redelivered(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("crash/held.jpg")
    worker_rig.discard_messages()
    ref = ObjectRef(put.bucket, put.key, etag=put.etag, size=put.size)
    held = Job.for_s3_object(ref, "auto").start(claim=Claim("other", int(time.time()) + 600))
    JobStore(JOBS_TABLE, boto3.client("dynamodb")).save(held)
    event = worker_rig.sqs_event(worker_rig.s3_event(put))
    assert worker_rig.invoke(event)["batchItemFailures"]
    assert worker_rig.files() == []
    assert worker_rig.job(held.id) == held


def test_job_writes_carry_the_ttl(worker_rig: WorkerRig) -> None:
    worker_rig.put("ttl/x.jpg")
    worker_rig.drain()
    items = boto3.client("dynamodb").scan(TableName=JOBS_TABLE)["Items"]
    (item,) = [i for i in items if i["id"]["S"].startswith("s3-")]  # not the file owner item
    expires = int(item["expiresAt"]["N"])
    assert 29 * 86400 < expires - time.time() <= 30 * 86400
