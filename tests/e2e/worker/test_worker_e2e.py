"""The worker end to end: moto (S3 notifications → SQS, DynamoDB, Secrets Manager) + the Wix
emulator over real HTTP, every trigger shape, every mode, duplicates and faults."""

from __future__ import annotations

import io
import json

import pytest

from tests.fixtures.worker import INBOX, JPEG, VERSIONED, WorkerRig, event_sample


def only_file(rig: WorkerRig) -> dict:
    files = rig.files()
    assert len(files) == 1, files
    return files[0]


def test_s3_put_through_sqs_relays_the_object_once(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("photos/summer 2024/beach day.jpg", content_type="image/jpeg")
    answers = worker_rig.drain()
    assert all(a == {"batchItemFailures": []} for a in answers)
    file = only_file(worker_rig)
    assert file["folderPath"] == "/photos/summer 2024"
    assert file["displayName"] == "beach day.jpg"
    assert file["md5"] == put.md5
    assert file["mimeType"] == "image/jpeg"
    (job,) = worker_rig.jobs()
    assert job.status == "ready"
    assert job.file is not None and job.file.id == file["id"]
    assert job.source.key == put.key and job.mode == "upload"


def test_awkward_keys_arrive_with_their_real_names(worker_rig: WorkerRig) -> None:
    keys = [e["decoded"] for e in event_sample("s3/awkward-keys.expected.json")]
    puts = {k: worker_rig.put(k, JPEG + k.encode()) for k in keys}
    worker_rig.drain()
    stored = {(f["folderPath"], f["displayName"]): f for f in worker_rig.files()}
    assert len(stored) == len(keys)
    for key, put in puts.items():
        folder, _, name = key.rpartition("/")
        assert stored[("/" + folder if folder else "/", name)]["md5"] == put.md5
    assert all(j.status in {"ready", "uploaded"} for j in worker_rig.jobs())


def test_direct_s3_and_eventbridge_events(worker_rig: WorkerRig) -> None:
    first = worker_rig.put("direct/a b+c.jpg", bucket=VERSIONED)
    second = worker_rig.put("bridge/ünï code.jpg", JPEG + b"2", bucket=VERSIONED)
    assert worker_rig.invoke(worker_rig.s3_event(first)) == {"processed": 1}
    assert worker_rig.invoke(worker_rig.eventbridge_event(second)) == {"processed": 1}
    names = sorted((f["folderPath"], f["displayName"]) for f in worker_rig.files())
    assert names == [("/bridge", "ünï code.jpg"), ("/direct", "a b+c.jpg")]
    assert {j.source.version_id for j in worker_rig.jobs()} == {
        first.version_id,
        second.version_id,
    }


def test_sqs_wrapped_events_test_event_and_a_poison_message(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("wrapped/x.jpg")
    other = worker_rig.put("wrapped/y.jpg", JPEG + b"y")
    worker_rig.discard_messages()
    test_event = event_sample("sqs/s3-test-event.json")["Records"][0]["body"]
    event = worker_rig.sqs_event(
        worker_rig.s3_event(put),
        test_event,
        "this is not JSON",
        worker_rig.eventbridge_event(other),  # EventBridge → SQS
    )
    answer = worker_rig.invoke(event)
    poison = event["Records"][2]["messageId"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": poison}]}
    assert sorted(f["displayName"] for f in worker_rig.files()) == ["x.jpg", "y.jpg"]
    # the same object through another trigger shape (same PUT, same sequencer): no second file
    assert worker_rig.invoke(worker_rig.eventbridge_event(put)) == {"processed": 1}
    assert len(worker_rig.files()) == 2


def test_every_mode_relays_the_same_bytes(worker_rig: WorkerRig) -> None:
    big = bytes(range(251)) * 12_000  # ~2.9 MiB: above the rig's 1 MiB threshold, 12 TUS chunks
    routes = [
        {"prefix": "up", "mode": "upload"},
        {"prefix": "tus", "mode": "resumable"},
        {"prefix": "pull", "mode": "import"},
    ]
    worker = worker_rig.make_worker(RELAY_ROUTES=json.dumps(routes))
    puts = [
        worker_rig.put("up/a.jpg", JPEG + big),
        worker_rig.put("tus/b.jpg", JPEG + big + b"b"),
        worker_rig.put("pull/c.jpg", JPEG + big + b"c"),
        worker_rig.put("auto/small.jpg", JPEG),
        worker_rig.put("auto/large.jpg", JPEG + big + b"d"),
    ]
    worker_rig.drain(worker=worker)
    by_name = {f["displayName"]: f for f in worker_rig.files()}
    assert {n: f["md5"] for n, f in by_name.items()} == {
        p.key.rsplit("/", 1)[1]: p.md5 for p in puts
    }
    modes = {j.source.key: j.mode for j in worker_rig.jobs()}
    assert modes == {
        "up/a.jpg": "upload",
        "tus/b.jpg": "resumable",
        "pull/c.jpg": "import",
        "auto/small.jpg": "upload",
        "auto/large.jpg": "resumable",
    }
    assert by_name["c.jpg"]["sourceUrl"]  # Wix pulled it through the presigned URL


def test_duplicate_deliveries_upload_once(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("dup/once.jpg", bucket=VERSIONED)
    # moto's notifications lack the versionId real S3 sends for versioned buckets: use ours
    worker_rig.discard_messages()
    body = worker_rig.s3_event(put)
    assert worker_rig.invoke(worker_rig.sqs_event(body)) == {"batchItemFailures": []}
    # ten more deliveries of the same object version in one batch, processed concurrently
    answer = worker_rig.invoke(worker_rig.sqs_event(*[body] * 10))
    assert answer == {"batchItemFailures": []}
    worker_rig.invoke(body)  # and once directly
    assert len(worker_rig.files()) == 1
    worker_rig.drain()  # the delayed readiness check (Wix events are off here)
    (job,) = worker_rig.jobs()
    assert job.attempts == 1 and job.status == "ready"


def test_concurrent_first_deliveries_upload_once(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("dup/race.jpg", JPEG * 20, bucket=VERSIONED)
    worker_rig.discard_messages()
    body = worker_rig.s3_event(put)
    event = worker_rig.sqs_event(*[body] * 10)
    answer = worker_rig.invoke(event)
    # the ones that found it in progress ask to be redelivered; nothing is uploaded twice
    redeliver = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    assert len(redeliver) <= 9
    again = {"Records": [r for r in event["Records"] if r["messageId"] in redeliver]}
    if again["Records"]:
        assert worker_rig.invoke(again) == {"batchItemFailures": []}
    assert len(worker_rig.files()) == 1
    worker_rig.drain()  # the delayed readiness check (Wix events are off here)
    assert [j.status for j in worker_rig.jobs()] == ["ready"]


def test_wix_faults_are_retried_to_success(worker_rig: WorkerRig) -> None:
    worker_rig.emulator.add_fault("generate-upload-url", count=2, status=503)
    worker_rig.emulator.add_fault("upload", count=1, status=500)
    put = worker_rig.put("faults/retry.jpg")
    worker_rig.drain()
    assert only_file(worker_rig)["md5"] == put.md5
    assert worker_rig.jobs()[0].status == "ready"


def test_exhausted_retries_fail_the_item_then_the_job_then_dlq(worker_rig: WorkerRig) -> None:
    worker_rig.drain()  # the s3:TestEvent
    worker_rig.emulator.add_fault("generate-upload-url", count=10_000, status=503)
    worker_rig.put("faults/down.jpg")
    first = worker_rig.drain(rounds=1)
    assert len(first[0]["batchItemFailures"]) == 1
    (job,) = worker_rig.jobs()
    assert job.status == "queued" and job.attempts == 1
    assert job.error is not None and job.error.retryable and "503" in job.error.code
    worker_rig.drain()  # until SQS gives up (maxReceiveCount) and moves it to the DLQ
    (job,) = worker_rig.jobs()
    assert job.status == "failed" and job.attempts == 3
    assert job.error is not None and "503" in job.error.code
    (dead,) = worker_rig.dead_letters()
    assert worker_rig.files() == []
    # the outage ends; redriving the dead letter relays it, once
    worker_rig.emulator.clear_faults()
    assert worker_rig.invoke(worker_rig.sqs_event(dead["Body"])) == {"batchItemFailures": []}
    assert len(worker_rig.files()) == 1
    worker_rig.drain()  # the delayed readiness check (Wix events are off here)
    assert worker_rig.jobs()[0].status == "ready"


def test_a_cut_connection_mid_tus_resumes(worker_rig: WorkerRig) -> None:
    data = JPEG + bytes(range(256)) * 8192  # 2 MiB + a bit: 9 chunks of 256 KiB
    worker_rig.emulator.add_fault("tus-patch", count=2, cut_after_bytes=100_000)
    put = worker_rig.put("tus/cut.jpg", data)
    worker_rig.drain()
    assert only_file(worker_rig)["md5"] == put.md5
    (job,) = worker_rig.jobs()
    assert (job.mode, job.status, job.attempts) == ("resumable", "ready", 1)


def test_a_cut_connection_mid_put_is_resent_from_s3(worker_rig: WorkerRig) -> None:
    worker_rig.emulator.add_fault("upload", count=1, cut_after_bytes=1000)
    put = worker_rig.put("put/cut.jpg", JPEG * 4)
    worker_rig.drain()
    assert only_file(worker_rig)["md5"] == put.md5


def test_permanent_refusals_fail_the_job_without_retry(worker_rig: WorkerRig) -> None:
    worker_rig.put("bad/page.html", b"<!doctype html><html></html>", content_type="text/html")
    worker_rig.put("bad/empty.jpg", b"")
    worker_rig.put("/".join(["deep-folder-name"] * 7) + "/x.jpg")
    answers = worker_rig.drain()
    assert all(a == {"batchItemFailures": []} for a in answers)
    errors = {j.source.key.rsplit("/", 1)[1]: j.error for j in worker_rig.jobs()}
    assert all(j.status == "failed" and j.attempts == 1 for j in worker_rig.jobs())
    assert errors["page.html"] is not None and errors["page.html"].code == "UNSUPPORTED_FILE_FORMAT"
    assert errors["empty.jpg"] is not None and errors["empty.jpg"].code == "ZERO_FILE_SIZE"
    assert errors["x.jpg"] is not None and errors["x.jpg"].code == "INVALID_DESTINATION"
    assert "filePath" in errors["x.jpg"].message
    assert worker_rig.files() == []


def test_object_gone_is_a_permanent_failure(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("gone/soon.jpg")
    worker_rig.s3.delete_object(Bucket=INBOX, Key=put.key)
    answers = worker_rig.drain()
    assert all(a == {"batchItemFailures": []} for a in answers)
    (job,) = worker_rig.jobs()
    assert job.status == "failed" and job.error is not None
    assert job.error.code == "SOURCE_NOT_FOUND"


def test_mime_refusal_falls_back_to_octet_stream_once(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("mime/clip.mp4", bytes(range(256)) * 40, content_type="image/jpeg")
    worker_rig.drain()
    file = only_file(worker_rig)
    assert file["md5"] == put.md5 and file["mimeType"] == "video/mp4"
    assert worker_rig.jobs()[0].status == "ready"


def test_metadata_refines_folder_labels_privacy(worker_rig: WorkerRig) -> None:
    worker = worker_rig.make_worker(RELAY_FOLDER_ROOT="/inbox")
    worker_rig.put(
        "meta/pic.jpg",
        metadata={"wix-file-path": "campaigns/2026", "wix-labels": "a,b", "wix-private": "true"},
    )
    worker_rig.put("meta/evil.jpg", JPEG + b"e", metadata={"wix-file-path": "../../etc"})
    worker_rig.drain(worker=worker)
    file = only_file(worker_rig)
    assert file["folderPath"] == "/inbox/campaigns/2026"
    assert file["labels"] == ["a", "b"] and file["private"] is True
    evil = next(j for j in worker_rig.jobs() if j.source.key == "meta/evil.jpg")
    assert evil.status == "failed" and evil.error is not None
    assert "wix-file-path" in evil.error.message


def test_the_source_object_is_never_modified(worker_rig: WorkerRig) -> None:
    put = worker_rig.put("keep/me.jpg", metadata={"x": "y"})
    before = worker_rig.s3.head_object(Bucket=INBOX, Key=put.key)
    worker_rig.drain()
    after = worker_rig.s3.head_object(Bucket=INBOX, Key=put.key)
    assert (after["ETag"], after["LastModified"], after["Metadata"]) == (
        before["ETag"],
        before["LastModified"],
        before["Metadata"],
    )


def emitted(text: str) -> tuple[list[dict], list[dict]]:
    """(EMF metric blobs, log records) from the handler's stdout."""
    blobs, logs = [], []
    for line in text.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        (blobs if isinstance(doc, dict) and "_aws" in doc else logs).append(doc)
    return blobs, logs


def test_lambda_entry_point_emits_metrics_and_keyed_logs(
    worker_rig: WorkerRig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from local_stack.lambda_context import LambdaContext

    from wix_relay.handlers import worker as module
    from wix_relay.observability import logger

    monkeypatch.setattr(module, "RUNTIME", worker_rig.worker)
    log_stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", log_stream)
    good = worker_rig.put("metrics/good.jpg", bucket=VERSIONED)
    bad = worker_rig.put("metrics/page.html", b"<html></html>", content_type="text/html")
    event = worker_rig.sqs_event(worker_rig.s3_event(good), worker_rig.s3_event(bad))
    capsys.readouterr()
    context = LambdaContext("wix-relay-worker")
    assert module.handler(event, context) == {"batchItemFailures": []}
    assert module.handler(worker_rig.sqs_event(worker_rig.s3_event(good)), context) == {
        "batchItemFailures": []
    }
    blobs, _ = emitted(capsys.readouterr().out)
    _, logs = emitted(log_stream.getvalue())
    values: dict[str, float] = {}
    reasons = []
    for blob in blobs:
        for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = blob[metric["Name"]]
            values[metric["Name"]] = values.get(metric["Name"], 0) + (
                sum(value) if isinstance(value, list) else value
            )
            if metric["Name"] == "RelayFailed":
                reasons.append(blob["reason"])
    assert values["ObjectRelayed"] == 1
    assert values["BytesRelayed"] == good.size
    assert values["DuplicateEventSkipped"] == 1
    assert reasons == ["UNSUPPORTED_FILE_FORMAT"]
    relayed = next(r for r in logs if r.get("message") == "object relayed")
    assert relayed["s3_key"] == good.key and relayed["job_id"].startswith("s3-")
    failed = next(r for r in logs if r.get("message") == "relay failed permanently")
    assert failed["s3_key"] == bad.key and failed["reason"] == "UNSUPPORTED_FILE_FORMAT"


def test_direct_invocation_raises_for_lambda_retry_on_a_retryable_failure(
    worker_rig: WorkerRig,
) -> None:
    put = worker_rig.put("direct/retry.jpg", bucket=VERSIONED)
    worker_rig.emulator.add_fault("generate-upload-url", count=10_000, status=502)
    with pytest.raises(RuntimeError, match="1 of 1 objects will be retried"):
        worker_rig.invoke(worker_rig.s3_event(put))
    (job,) = worker_rig.jobs()
    assert job.status == "queued" and job.error is not None and job.error.retryable
    worker_rig.emulator.clear_faults()
    assert worker_rig.invoke(worker_rig.s3_event(put)) == {"processed": 1}
    assert len(worker_rig.files()) == 1
    worker_rig.drain()  # the delayed readiness check (Wix events are off here)
    (job,) = worker_rig.jobs()
    assert (job.status, job.attempts, job.error) == ("ready", 2, None)
