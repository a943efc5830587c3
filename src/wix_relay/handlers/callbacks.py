"""The callback consumer Lambda: an SQS batch of queued partner callbacks → signed POSTs.

Each record is one `services.callbacks.deliver_callback_message` (sign this attempt, POST through
the SSRF-safe sender). A failed attempt hides its message for the backoff delay and is reported
in `batchItemFailures` (ReportBatchItemFailures), so only it comes back; the queue's redrive
policy dead-letters it after `RELAY_CALLBACK_MAX_ATTEMPTS` receives. Records run on a small
thread pool (delivery is network-bound).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wix_relay.config import ConfigError, Settings
from wix_relay.observability import instrumented
from wix_relay.runtime import Runtime

SETTINGS = Settings.from_env()
CONCURRENCY = 4


class CallbackConsumer:
    def __init__(self, settings: Settings, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self.runtime = runtime or Runtime(settings)
        self.pool = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="callback")

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        from wix_relay.integrations.batch import process_sqs_batch

        return process_sqs_batch(event, self._record, self.pool, context)

    def _record(self, record: Any) -> None:
        from wix_relay.services.callbacks import deliver_callback_message

        runtime = self.runtime
        queue = runtime.callback_queue
        if queue is None:
            raise ConfigError("invalid configuration: RELAY_CALLBACK_QUEUE_URL is not set")

        def secret_for(ref: str) -> Any:
            target = runtime.callers.registry().callback_for(ref)
            return None if target is None else target.secret

        deliver_callback_message(
            record.body,
            receive_count=int(record.attributes.approximate_receive_count or 1),
            receipt_handle=record.receipt_handle,
            sender=runtime.callback_sender,
            queue=queue,
            secret_for=secret_for,
            settings=self.settings.callbacks,
        )


_consumer: CallbackConsumer | None = None


def default_consumer() -> CallbackConsumer:
    global _consumer  # noqa: PLW0603 - one per container
    if _consumer is None:
        _consumer = CallbackConsumer(SETTINGS)
    return _consumer


@instrumented(SETTINGS.observability)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return default_consumer().handle(event, context)
