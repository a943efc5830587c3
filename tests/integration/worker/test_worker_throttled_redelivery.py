"""A record Wix throttled comes back in seconds, not after the queue's 5,400 s visibility timeout:
the relay changes the message's visibility (moto in server mode, the local stack's worker loop)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from local_stack import resources
from local_stack.bootstrap import Deployed, aws_client, bootstrap
from local_stack.worker_loop import WorkerLoop

from tests.unit.worker.test_worker_job_writes import OPTIONS, Media, sqs_batch_on
from wix_relay.config import TransferSettings
from wix_relay.integrations.batch import MessageVisibility
from wix_relay.integrations.job_store import JobStore
from wix_relay.integrations.s3_source import S3Source
from wix_relay.integrations.wix import WixRateLimited
from wix_relay.services import relay as relay_module
from wix_relay.services.relay import Relay
from wix_relay.services.transfer import Ports


class ThrottledMedia(Media):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def generate_upload_url(self, fields: Any) -> str:
        self.calls += 1
        raise WixRateLimited("slow down", status=429, operation="generate-upload-url")


@pytest.fixture
def deployed(aws: str) -> Deployed:
    deployed = bootstrap(aws, wix_credentials={"apiKey": "k", "siteId": "s"}, dev_key_sha256="0")
    assert resources.QUEUE_VISIBILITY_TIMEOUT_S == 5400  # the template's value
    return deployed


def throttled_run(
    aws: str, deployed: Deployed, monkeypatch: pytest.MonkeyPatch, max_receive_count: int
) -> tuple[list[dict[str, Any]], ThrottledMedia, list[tuple[float, int]], WorkerLoop]:
    delays: list[tuple[float, int]] = []

    def short_delay(retry_after_s: float, receive_count: int) -> int:
        delays.append((retry_after_s, receive_count))
        return 1

    monkeypatch.setattr(relay_module, "throttle_delay", short_delay)
    sqs = aws_client("sqs", aws)
    media = ThrottledMedia()
    jobs = JobStore(deployed.jobs_table, aws_client("dynamodb", aws), 3600)
    pool = ThreadPoolExecutor(2)
    relay = Relay(
        Ports(S3Source(aws_client("s3", aws)), media, jobs),
        OPTIONS,
        TransferSettings(max_receive_count=max_receive_count),
        pool=pool,
        batch=sqs_batch_on(pool),
        redelivery=MessageVisibility(lambda: sqs),
    )
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        seen.extend(event["Records"])
        return relay.handle(event, context)

    loop = WorkerLoop(
        handler,
        sqs=sqs,
        queue_url=deployed.queue_url,
        function_name=resources.WORKER_FUNCTION.name,
        wait_time_s=5,
    )
    aws_client("s3", aws).put_object(Bucket=deployed.inbox_bucket, Key="a/b.png", Body=b"x" * 10)
    return seen, media, delays, loop


def received(seen: list[dict[str, Any]], loop: WorkerLoop, times: int) -> list[dict[str, Any]]:
    """Poll until the object's notification was received `times` times; its records."""
    deadline = time.monotonic() + 30  # a bound on the test, not a measurement
    while len(mine := [r for r in seen if "b.png" in r["body"]]) < times:
        assert time.monotonic() < deadline, f"not received again: {seen}"
        loop.poll_once()
    return mine


def test_a_throttled_record_is_received_again_within_seconds(
    aws: str, deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen, media, delays, loop = throttled_run(aws, deployed, monkeypatch, max_receive_count=5)
    records = received(seen, loop, 2)
    counts = [r["attributes"]["ApproximateReceiveCount"] for r in records[:2]]
    assert counts == ["1", "2"]  # back long before the 5,400 s visibility timeout
    assert records[0]["messageId"] == records[1]["messageId"]
    assert media.calls >= 2 and delays[0] == (0.0, 1)
    (item,) = jobs_items(aws, deployed)
    assert item["status"]["S"] == "queued" and "429" in item["error"]["M"]["code"]["S"]


def test_a_throttle_on_the_second_to_last_receive_requeues_a_fresh_message(
    aws: str, deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A throttle never uses up a receive: with maxReceiveCount 2, the first receive's throttle
    sends a fresh copy (receive count 1 again) and acknowledges the original; nothing reaches
    the DLQ and the job stays queued."""
    seen, media, _, loop = throttled_run(aws, deployed, monkeypatch, max_receive_count=2)
    records = received(seen, loop, 3)
    assert [r["attributes"]["ApproximateReceiveCount"] for r in records[:3]] == ["1", "1", "1"]
    assert len({r["messageId"] for r in records[:3]}) == 3
    throttles = [
        r["messageAttributes"].get("relayThrottles", {}).get("stringValue") for r in records[:3]
    ]
    assert throttles == [None, "1", "2"]
    dlq = aws_client("sqs", aws).get_queue_attributes(
        QueueUrl=deployed.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert dlq["Attributes"]["ApproximateNumberOfMessages"] == "0"
    (item,) = jobs_items(aws, deployed)
    assert item["status"]["S"] == "queued" and media.calls >= 3


def jobs_items(aws: str, deployed: Deployed) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = aws_client("dynamodb", aws).scan(TableName=deployed.jobs_table)[
        "Items"
    ]
    return items
