"""The callback consumer Lambda: an SQS batch of queued partner callbacks → signed POSTs.

Each record is one delivery attempt (`Runtime.deliver_callback` → `services.callbacks`: sign
this attempt, POST through the SSRF-safe sender). A failed attempt hides its message for the
backoff delay and is reported in `batchItemFailures` (ReportBatchItemFailures), so only it comes
back; the queue's redrive policy dead-letters it after `RELAY_CALLBACK_MAX_ATTEMPTS` receives.
Records run on a small thread pool (delivery is network-bound).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wix_relay.config import Settings
from wix_relay.observability import instrumented
from wix_relay.runtime import Runtime

SETTINGS = Settings.from_env()
RUNTIME = Runtime.for_callbacks(SETTINGS)


def handle(runtime: Runtime, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    def deliver(record: Any) -> None:
        runtime.deliver_callback(
            record.body,
            receive_count=int(record.attributes.approximate_receive_count or 1),
            receipt_handle=record.receipt_handle,
        )

    return runtime.sqs_batch(event, deliver, context)


@instrumented(SETTINGS.observability)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(RUNTIME, event, context)
