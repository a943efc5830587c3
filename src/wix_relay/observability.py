"""The one place where logging, metrics and tracing are set up (Powertools).

- `logger`: JSON logs; the correlation id is the API request id (or the SQS message id), and
  handlers append the caller / job id with `logger.append_keys`. Never log a secret: log the
  caller id, never the key or token; log Wix's `x-wix-request-id`, never its Authorization header.
- `metrics`: CloudWatch EMF, flushed once per invocation by `instrumented`.
- tracing: the X-Ray SDK costs ~0.5 s of cold start (measured in shared/tooling-facts.md), so the
  Powertools Tracer is created only when tracing is switched on (`POWERTOOLS_TRACE_DISABLED` not
  "true" *and* running in Lambda). Lambda's own X-Ray segment exists either way.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

__all__ = ["MetricUnit", "instrumented", "logger", "metrics"]

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "wix-media-relay"))
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "WixMediaRelay"),
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "wix-media-relay"),
)

# An invocation without a metric (health, preflight, a skipped duplicate) is normal, not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

Handler = Callable[[dict[str, Any], Any], Any]


def tracing_enabled() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in {"1", "true"}
    return not disabled and "AWS_LAMBDA_FUNCTION_NAME" in os.environ


@functools.cache
def tracer() -> Tracer | None:
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer  # lazy: the X-Ray SDK is slow to import

    return Tracer(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "wix-media-relay"))


def instrumented(correlation_id_path: str | None = None) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler: Lambda context + correlation id in logs, metrics flushed,
    and the X-Ray handler segment when tracing is on."""

    def decorate(handler: Handler) -> Handler:
        logged = logger.inject_lambda_context(
            correlation_id_path=correlation_id_path, clear_state=True
        )(handler)
        measured: Handler = metrics.log_metrics(logged)
        traced: Handler | None = None

        @functools.wraps(handler)
        def entry(event: dict[str, Any], context: Any) -> Any:
            nonlocal traced
            active = tracer()
            if active is None:
                return measured(event, context)
            if traced is None:
                traced = active.capture_lambda_handler(measured)
            return traced(event, context)

        return entry

    return decorate
