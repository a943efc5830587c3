"""What a deployment has, in one place: resource names, keys and wiring mirrored from
template.yaml (tests/e2e/local_stack/test_local_stack_template.py checks they agree)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

REGION = "us-east-1"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

STACK_NAME = "wix-media-relay"
"""Stands in for ${AWS::StackName} in names the template derives from it."""

DEFAULT_INBOX_BUCKET = "wix-relay-inbox"
"""Deployed: wix-relay-inbox-<stack uuid> (versioned, s3:ObjectCreated:* -> EventsQueue)."""
QUEUE_NAME = "wix-relay-events"
DLQ_NAME = "wix-relay-events-dlq"
QUEUE_VISIBILITY_TIMEOUT_S = 5400
QUEUE_RETENTION_S = 345600
DLQ_RETENTION_S = 1209600
MAX_RECEIVE_COUNT = 5
"""Parameter MaxReceiveCount's default: deliveries before a message moves to the DLQ."""
SQS_BATCH_SIZE = 4
"""Parameter WorkerBatchSize's default."""
SQS_BATCHING_WINDOW_S = 2
"""Parameter WorkerBatchingWindowSeconds's default."""

CALLBACK_QUEUE_NAME = "wix-relay-callbacks"
CALLBACK_DLQ_NAME = "wix-relay-callbacks-dlq"
CALLBACK_VISIBILITY_TIMEOUT_S = 360
CALLBACK_RETENTION_S = 345600
CALLBACK_MAX_ATTEMPTS = 8
"""Parameter CallbackMaxAttempts's default: the callback queue's maxReceiveCount."""
CALLBACK_BATCH_SIZE = 10
"""The CallbackFunction's SQS event BatchSize (no batching window)."""

JOBS_TABLE = "wix-relay-jobs"
TABLE_KEY = "id"
"""Partition key (string) of the jobs table."""
JOBS_TTL_ATTRIBUTE = "expiresAt"
"""The jobs table's TTL attribute (RELAY_JOB_RETENTION_DAYS)."""

WIX_CREDENTIALS_SECRET = f"{STACK_NAME}/wix-credentials"
CALLERS_SECRET = f"{STACK_NAME}/callers"

GLOBAL_VARIABLES = (
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_TRACE_DISABLED",
)
"""Globals.Function.Environment: every function gets these."""
RELAY_VARIABLES = (
    "WIX_API_BASE_URL",
    "WIX_UPLOAD_HOSTS",
    "WIX_CREDENTIALS_SECRET_ID",
    "WIX_EVENTS_PUBLIC_KEY_SECRET_ID",
    "RELAY_JOBS_TABLE",
    "RELAY_DEFAULT_MODE",
    "RELAY_CALLERS_SECRET_ID",
    "RELAY_QUEUE_URL",
    "RELAY_CALLBACK_QUEUE_URL",
)
"""What the API and the worker both get (Wix, the table, readiness: events key, callbacks)."""
PARAMETER_DEFAULTS = {
    "POWERTOOLS_SERVICE_NAME": "wix-media-relay",
    "POWERTOOLS_METRICS_NAMESPACE": "WixMediaRelay",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "RELAY_UPLOAD_THRESHOLD_BYTES": "10485760",
    "RELAY_DEFAULT_MODE": "auto",
    "RELAY_FOLDER_ROOT": "/",
    "RELAY_ROUTES": "",
    "RELAY_WORKER_CONCURRENCY": str(SQS_BATCH_SIZE),
    "RELAY_MAX_RECEIVE_COUNT": str(MAX_RECEIVE_COUNT),
    "RELAY_READY_CHECKS": "10",
    "RELAY_CALLBACK_MAX_ATTEMPTS": str(CALLBACK_MAX_ATTEMPTS),
}
"""Values the template gives from its parameters' defaults (a shell variable overrides)."""


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function of the template: handler, limits and its own environment variables."""

    key: str
    name: str
    handler: str
    memory_mb: int
    timeout_s: int
    variables: tuple[str, ...]
    """Its own variables that name resources or parameters (resolved by the local stack)."""
    fixed: Mapping[str, str] = field(default_factory=dict)
    """Its own variables with literal values in the template."""
    batch: tuple[int, float] | None = None
    """An SQS-triggered function: its event source mapping's batch size and batching window."""
    local: Mapping[str, str] = field(default_factory=dict)
    """Variables only the local stack sets (never in the template)."""


API_FUNCTION = FunctionSpec(
    "api",
    f"{STACK_NAME}-ApiFunction",
    "wix_relay.handlers.api.handler",
    512,
    29,
    (*RELAY_VARIABLES, "RELAY_CORS_ORIGINS"),
    {
        "WIX_CONNECT_TIMEOUT_SECONDS": "3.05",
        "WIX_READ_TIMEOUT_SECONDS": "10",
        "WIX_API_RETRY_BUDGET_SECONDS": "2.5",
    },
)
WORKER_FUNCTION = FunctionSpec(
    "worker",
    f"{STACK_NAME}-WorkerFunction",
    "wix_relay.handlers.worker.handler",
    1024,
    900,
    (
        *RELAY_VARIABLES,
        "RELAY_READY_CHECKS",
        "RELAY_WORKER_CONCURRENCY",
        "RELAY_MAX_RECEIVE_COUNT",
        "RELAY_UPLOAD_THRESHOLD_BYTES",
        "RELAY_FOLDER_ROOT",
        "RELAY_ROUTES",
    ),
    batch=(SQS_BATCH_SIZE, SQS_BATCHING_WINDOW_S),
)
CALLBACK_FUNCTION = FunctionSpec(
    "callbacks",
    f"{STACK_NAME}-CallbackFunction",
    "wix_relay.handlers.callbacks.handler",
    256,
    60,
    (
        "RELAY_CALLERS_SECRET_ID",
        "RELAY_CALLBACK_QUEUE_URL",
        "RELAY_CALLBACK_DLQ_URL",
        "RELAY_CALLBACK_MAX_ATTEMPTS",
    ),
    batch=(CALLBACK_BATCH_SIZE, 0.0),
    # Local only: the dev receiver is http on loopback (local_stack/webhook_receiver.py);
    # deployed, the sender allows only https to public addresses.
    local={"RELAY_CALLBACK_ALLOW_LOOPBACK": "true"},
)
FUNCTIONS = {spec.key: spec for spec in (API_FUNCTION, WORKER_FUNCTION, CALLBACK_FUNCTION)}
