"""The worker loop against moto in server mode: the bootstrap's inbox bucket notifies the queue,
batches have Lambda's SQS event shape, partial batch failures are redelivered and end in the DLQ."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from local_stack import resources
from local_stack.bootstrap import Deployed, aws_client, bootstrap
from local_stack.worker_loop import WorkerLoop, failed_ids

from tests.e2e.local_stack.local_stack_shapes import sam_event, shape

SQS_ATTRIBUTES = "Records[].attributes"


@pytest.fixture
def deployed(aws: str) -> Deployed:
    return bootstrap(
        aws,
        wix_credentials={"apiKey": "k", "siteId": "s"},
        dev_key_sha256="0" * 64,
        visibility_timeout_s=1,
    )


class Handler:
    def __init__(self, fail_bodies: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.events: list[dict[str, Any]] = []
        self.fail_bodies = fail_bodies

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        failures = [
            {"itemIdentifier": rec["messageId"]}
            for rec in event["Records"]
            if rec["body"] in self.fail_bodies
        ]
        return {"batchItemFailures": failures}


def loop_for(handler: Handler, aws: str, deployed: Deployed) -> WorkerLoop:
    return WorkerLoop(
        handler,
        sqs=aws_client("sqs", aws),
        queue_url=deployed.queue_url,
        function_name=resources.WORKER_FUNCTION.name,
        wait_time_s=1,
    )


def drain(loop: WorkerLoop, until: Any, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not until():
        assert time.monotonic() < deadline, "condition not reached"
        loop.poll_once()


def records(handler: Handler) -> list[dict[str, Any]]:
    return [rec for event in handler.events for rec in event["Records"]]


def test_s3_object_in_inbox_arrives_as_sqs_batch_event(aws: str, deployed: Deployed) -> None:
    handler = Handler()
    loop = loop_for(handler, aws, deployed)
    aws_client("s3", aws).put_object(
        Bucket=deployed.inbox_bucket, Key="any/folder/a photo.jpg", Body=b"x"
    )

    def notified() -> bool:
        return any("ObjectCreated" in rec["body"] for rec in records(handler))

    drain(loop, notified)
    (record,) = [rec for rec in records(handler) if "ObjectCreated" in rec["body"]]
    s3_event = json.loads(record["body"])["Records"][0]
    assert s3_event["s3"]["bucket"]["name"] == deployed.inbox_bucket
    assert s3_event["eventName"] == "ObjectCreated:Put"
    assert record["eventSourceARN"] == deployed.queue_arn

    reference = sam_event("sam-sqs-receive-message.json", "sqs", "receive-message")
    assert shape(handler.events[-1], frozenset()) == shape(reference, frozenset())


def test_partial_batch_failure_is_redelivered_then_dead_lettered(
    aws: str, deployed: Deployed
) -> None:
    sqs = aws_client("sqs", aws)
    handler = Handler(fail_bodies={"bad"})
    loop = loop_for(handler, aws, deployed)
    sqs.purge_queue(QueueUrl=deployed.queue_url)  # drop the s3:TestEvent
    for body in ("good", "bad"):
        sqs.send_message(QueueUrl=deployed.queue_url, MessageBody=body)

    def bad_receives() -> int:
        return sum(rec["body"] == "bad" for rec in records(handler))

    drain(loop, lambda: bad_receives() == resources.MAX_RECEIVE_COUNT)
    counts = [
        rec["attributes"]["ApproximateReceiveCount"]
        for rec in records(handler)
        if rec["body"] == "bad"
    ]
    assert counts == [str(n) for n in range(1, resources.MAX_RECEIVE_COUNT + 1)]
    assert sum(rec["body"] == "good" for rec in records(handler)) == 1  # deleted after success

    time.sleep(1.2)  # past the visibility timeout: the next receive moves it to the DLQ
    assert loop.poll_once() == 0
    dead = sqs.receive_message(QueueUrl=deployed.dlq_url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in dead] == ["bad"]


def test_handler_exception_returns_the_whole_batch(aws: str, deployed: Deployed) -> None:
    sqs = aws_client("sqs", aws)
    sqs.purge_queue(QueueUrl=deployed.queue_url)
    sqs.send_message(QueueUrl=deployed.queue_url, MessageBody="x")
    calls: list[int] = []

    def broken(event: dict[str, Any], context: Any) -> Any:
        calls.append(len(event["Records"]))
        raise RuntimeError("boom")

    loop = WorkerLoop(
        broken, sqs=sqs, queue_url=deployed.queue_url, function_name="w", wait_time_s=1
    )
    drain(loop, lambda: len(calls) == 2)  # received again after the visibility timeout


def test_failed_ids_follows_report_batch_item_failures() -> None:
    ids = {"a", "b"}
    assert failed_ids(None, ids) == set()
    assert failed_ids({"batchItemFailures": []}, ids) == set()
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, ids) == {"a"}
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ids) == ids
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) == ids
