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

from tests.unit.worker.test_worker_job_writes import OPTIONS, Media
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


def test_a_throttled_record_is_received_again_within_seconds(
    aws: str, deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays: list[tuple[float, int]] = []

    def short_delay(retry_after_s: float, receive_count: int) -> int:
        delays.append((retry_after_s, receive_count))
        return 1

    monkeypatch.setattr(relay_module, "throttle_delay", short_delay)
    sqs = aws_client("sqs", aws)
    media = ThrottledMedia()
    jobs = JobStore(deployed.jobs_table, aws_client("dynamodb", aws), 3600)
    relay = Relay(
        Ports(S3Source(aws_client("s3", aws)), media, jobs),
        OPTIONS,
        TransferSettings(),
        pool=ThreadPoolExecutor(2),
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

    def receives() -> list[str]:
        return [r["attributes"]["ApproximateReceiveCount"] for r in seen if "b.png" in r["body"]]

    deadline = time.monotonic() + 30  # a bound on the test, not a measurement
    while len(receives()) < 2:
        assert time.monotonic() < deadline, f"not received again: {seen}"
        loop.poll_once()
    assert receives()[:2] == ["1", "2"]  # back long before the 5,400 s visibility timeout
    assert media.calls >= 2 and delays[0] == (0.0, 1)
    (item,) = jobs_items(aws, deployed)
    assert item["status"]["S"] == "queued" and "429" in item["error"]["M"]["code"]["S"]


def jobs_items(aws: str, deployed: Deployed) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = aws_client("dynamodb", aws).scan(TableName=deployed.jobs_table)[
        "Items"
    ]
    return items
