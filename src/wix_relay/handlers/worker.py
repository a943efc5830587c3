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

Exactly once: see `services/relay.py` and docs/s3-path.md. The container's parts (built on the
first event) are `RUNTIME`'s.
"""

from __future__ import annotations

from typing import Any

from wix_relay import snapstart
from wix_relay.config import Settings
from wix_relay.observability import instrumented
from wix_relay.runtime import Runtime

SETTINGS = Settings.from_env()
RUNTIME = Runtime.for_worker(SETTINGS)
PRIMED = (
    # The modules the first record imports (tests/integration/test_function_packages.py): with
    # SnapStart they are in the snapshot. Nothing is built before it (wix_relay.snapstart).
    "requests",
    "wix_relay.integrations.aws_clients",
    "wix_relay.integrations.aws_http",
    "wix_relay.integrations.aws_services",
    "wix_relay.integrations.batch",
    "wix_relay.integrations.callback_queue",
    "wix_relay.integrations.event_store",
    "wix_relay.integrations.job_store",
    "wix_relay.integrations.queue",
    "wix_relay.integrations.s3_source",
    "wix_relay.integrations.secrets",
    "wix_relay.integrations.upload_store",
    "wix_relay.integrations.wix",
    "wix_relay.services.readiness",
    "wix_relay.services.relay",
)


def restored() -> None:
    """After a SnapStart restore: the next record builds a new runtime (session, secrets, Wix
    client, thread pool) and the jitter gets its own seed."""
    global RUNTIME  # one per container
    stale, RUNTIME = RUNTIME, Runtime.for_worker(SETTINGS)
    stale.close()
    snapstart.renew()


snapstart.register(lambda: snapstart.import_all(PRIMED), restored)


@instrumented(SETTINGS.observability)
def handler(event: dict[str, Any], context: Any) -> Any:
    return RUNTIME.relay.handle(event, context)
