"""A throttled SQS record: a short visibility, or a fresh copy before its last receive (in-memory
ports and a recording `Redelivery`; the SQS side is covered over moto in tests/integration)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.unit.worker.test_worker_job_writes import OPTIONS, REF, Jobs, Media, Source, sqs_batch_on
from wix_relay.config import TransferSettings
from wix_relay.integrations.wix import WixRateLimited, WixServerError
from wix_relay.services.relay import THROTTLE_REQUEUE_LIMIT, Relay
from wix_relay.services.transfer import Ports

ARN = "arn:aws:sqs:us-east-1:123456789012:events"


class Failing(Media):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def generate_upload_url(self, fields: Any) -> str:
        raise self.error


class Redelivery:
    def __init__(self) -> None:
        self.delayed: list[tuple[str, str, int]] = []
        self.requeued: list[tuple[str, str, int, dict[str, str]]] = []

    def delay(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        self.delayed.append((queue_arn, receipt_handle, seconds))

    def requeue(self, queue_arn: str, body: str, seconds: int, attributes: Any) -> None:
        self.requeued.append((queue_arn, body, seconds, dict(attributes)))


def event(receive_count: int, throttles: int | None = None) -> dict[str, Any]:
    s3 = {"bucket": {"name": REF.bucket}, "object": {"key": REF.key, "size": REF.size}}
    body = json.dumps(
        {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": s3}]}
    )
    attributes = (
        {}
        if throttles is None
        else {"relayThrottles": {"stringValue": str(throttles), "dataType": "String"}}
    )
    return {
        "Records": [
            {
                "messageId": "m1",
                "receiptHandle": "rh1",
                "body": body,
                "attributes": {"ApproximateReceiveCount": str(receive_count)},
                "messageAttributes": attributes,
                "eventSource": "aws:sqs",
                "eventSourceARN": ARN,
            }
        ]
    }


def relay_for(error: Exception) -> tuple[Relay, Redelivery]:
    jobs = Jobs()
    redelivery = Redelivery()
    pool = ThreadPoolExecutor(1)
    relay = Relay(
        Ports(Source(), Failing(error), jobs),
        OPTIONS,
        TransferSettings(max_receive_count=5),
        pool=pool,
        batch=sqs_batch_on(pool),
        redelivery=redelivery,
    )
    return relay, redelivery


def failures(relay: Relay, receive_count: int, throttles: int | None = None) -> list[Any]:
    return list(relay.handle(event(receive_count, throttles), None)["batchItemFailures"])


def test_a_throttled_record_gets_a_short_visibility_and_is_reported_failed() -> None:
    relay, redelivery = relay_for(WixRateLimited("slow", status=429, retry_after_s=30))
    assert failures(relay, 1) == [{"itemIdentifier": "m1"}]
    ((arn, handle, seconds),) = redelivery.delayed
    assert (arn, handle) == (ARN, "rh1") and 22 <= seconds <= 38  # Retry-After 30 ± 25 %
    assert redelivery.requeued == []


def test_before_the_last_receive_a_throttled_record_is_requeued_and_acknowledged() -> None:
    relay, redelivery = relay_for(WixRateLimited("slow", status=429))
    assert failures(relay, 4, throttles=2) == []  # maxReceiveCount 5: the 4th receive
    ((arn, body, seconds, attributes),) = redelivery.requeued
    assert arn == ARN and REF.key in body and 1 <= seconds <= 300
    assert attributes == {"relayThrottles": "3"} and redelivery.delayed == []


def test_after_the_requeue_limit_a_throttle_counts_as_any_failure() -> None:
    relay, redelivery = relay_for(WixRateLimited("slow", status=429))
    assert failures(relay, 4, throttles=THROTTLE_REQUEUE_LIMIT) == [{"itemIdentifier": "m1"}]
    assert redelivery.requeued == [] and len(redelivery.delayed) == 1


def test_other_retryable_failures_wait_the_visibility_timeout() -> None:
    relay, redelivery = relay_for(WixServerError("down", status=503))
    assert failures(relay, 4) == [{"itemIdentifier": "m1"}]
    assert redelivery.delayed == [] and redelivery.requeued == []
