"""What a deployment has, in one place: resource names, keys and wiring mirrored from
template.yaml (tests/e2e/local_stack/test_local_stack_template.py checks they agree)."""

from __future__ import annotations

from dataclasses import dataclass

REGION = "us-east-1"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

DEFAULT_INBOX_BUCKET = "wix-relay-inbox"
QUEUE_NAME = "wix-relay-events"
DLQ_NAME = "wix-relay-events-dlq"
MAX_RECEIVE_COUNT = 3
"""Redrive: after this many failed receives a message moves to the DLQ."""
DLQ_RETENTION_S = 14 * 24 * 3600
SQS_BATCH_SIZE = 10
"""The worker's event source mapping batch size."""

JOBS_TABLE = "wix-relay-jobs"
IDEMPOTENCY_TABLE = "wix-relay-idempotency"
TABLE_KEY = "id"
"""Partition key (string) of both tables."""
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"
"""Powertools idempotency's default expiry attribute."""
JOBS_TTL_ATTRIBUTE: str | None = None

WIX_CREDENTIALS_SECRET = "wix-media-relay/wix-credentials"
CALLERS_SECRET = "wix-media-relay/callers"


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function of the template: its handler and runtime limits."""

    key: str
    name: str
    handler: str
    memory_mb: int
    timeout_s: int


API_FUNCTION = FunctionSpec("api", "wix-media-relay-api", "wix_relay.handlers.api.handler", 512, 29)
WORKER_FUNCTION = FunctionSpec(
    "worker", "wix-media-relay-worker", "wix_relay.handlers.worker.handler", 1024, 900
)
FUNCTIONS = {spec.key: spec for spec in (API_FUNCTION, WORKER_FUNCTION)}

QUEUE_VISIBILITY_TIMEOUT_S = 6 * WORKER_FUNCTION.timeout_s
"""AWS's advice for a Lambda-consumed queue: at least six times the function timeout."""
