"""The worker Lambda: S3 objects and partner import jobs → Wix, exactly once.

Triggers (each message becomes work items for `services.relay.Relay`):
- SQS batches (the default wiring): S3 notifications, EventBridge events or `{"jobId"}` partner
  imports as message bodies. Records run concurrently on a bounded thread pool; the answer is
  `{"batchItemFailures": [...]}` naming only messages worth redelivering (retryable failures,
  malformed bodies, a duplicate still in progress). Permanent failures are recorded on the job
  and acknowledged.
- Direct S3 notifications and EventBridge "Object Created" events: a retryable failure raises, so
  Lambda's asynchronous retries apply.
- `s3:TestEvent` and non-creation events are logged and acknowledged.

Exactly once: Powertools idempotency on DynamoDB keyed by the object version (bucket, key,
versionId — or ETag + sequencer when unversioned), in-progress expiry tied to the Lambda's
remaining time (`integrations/idempotency.py`); and the job (deterministic id per object version)
refuses to upload twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wix_relay.config import Settings
from wix_relay.domain.transfer import Ports, WorkItem, parse_message
from wix_relay.integrations.idempotency import idempotency
from wix_relay.observability import instrumented, logger
from wix_relay.runtime import Runtime
from wix_relay.services.relay import Relay, transfer_options

SETTINGS = Settings.from_env()


class Worker:
    """The worker's per-container parts (built on the first event) and its event dispatch."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime = Runtime.for_worker(settings)
        self.options = transfer_options(settings)
        self.pool = ThreadPoolExecutor(
            max_workers=settings.transfer.worker_concurrency, thread_name_prefix="relay"
        )
        self._relay: Relay | None = None

    def relay(self) -> Relay:
        with self.runtime.lock:
            if self._relay is None:
                runtime = self.runtime
                ports = Ports(source=runtime.source, media=runtime.wix, jobs=runtime.jobs)
                self._relay = Relay(
                    ports,
                    runtime.jobs,
                    self.options,
                    self.settings.transfer.default_mode,
                    idempotency(self.settings),
                )
            return self._relay

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        relay = self.relay()
        if relay.once is not None and context is not None:
            relay.once.register(context)
        records = event.get("Records")
        if isinstance(records, list) and records and records[0].get("eventSource") == "aws:sqs":
            from wix_relay.integrations.batch import process_sqs_batch

            return process_sqs_batch(event, self._sqs_record, self.pool, context)
        items = parse_message(event)
        failures = [
            str(exc)
            for exc in self.pool.map(lambda i: self._safely(i, last_attempt=False), items)
            if exc is not None
        ]
        if failures:  # asynchronous invocation: Lambda retries, then its on-failure destination
            raise RuntimeError(f"{len(failures)} of {len(items)} objects will be retried")
        return {"processed": len(items)}

    def _sqs_record(self, record: Any) -> None:
        receive_count = int(record.attributes.approximate_receive_count or 1)
        last_attempt = receive_count >= self.settings.transfer.max_receive_count
        try:
            items = parse_message(record.body)
        except ValueError as exc:
            logger.error("malformed message", extra={"message_id": record.message_id})
            raise ValueError(f"message {record.message_id}: {exc}") from exc
        for item in items:
            self.relay().run_item(item, last_attempt=last_attempt)

    def _safely(self, item: WorkItem, *, last_attempt: bool) -> BaseException | None:
        try:
            self.relay().run_item(item, last_attempt=last_attempt)
        except Exception as exc:
            return exc
        return None


_worker: Worker | None = None


def default_worker() -> Worker:
    global _worker  # noqa: PLW0603 - one per container
    if _worker is None:
        _worker = Worker(SETTINGS)
    return _worker


@instrumented(SETTINGS.observability)
def handler(event: dict[str, Any], context: Any) -> Any:
    return default_worker().handle(event, context)
