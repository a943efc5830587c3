"""The one place where logging, metrics and tracing are set up (Powertools).

- `logger`: JSON logs; the correlation id is the API request id (or the SQS message id), and
  handlers append the caller / job id with `logger.append_keys`. Never log a secret: log the
  caller id, never the key or token; log Wix's `x-wix-request-id`, never its Authorization header.
  The logger exists before any `Settings`, so Powertools reads its own `POWERTOOLS_SERVICE_NAME`
  and `POWERTOOLS_LOG_LEVEL`.
- `emit`: every metric, as its own CloudWatch EMF line, under one dimension set `{service}`; a
  metric with a `reason` is published under `{service, reason}` as well. Alarms and dashboards can
  so combine any two metrics and still split failures by reason. The namespace is
  `Settings.observability.metrics_namespace`, set by `instrumented`.
- tracing: the X-Ray SDK costs ~0.5 s of cold start, so the Powertools Tracer is created only when
  `Settings.observability.tracing` is on. Lambda's own X-Ray segment exists either way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from wix_relay.config import ObservabilitySettings

__all__ = ["MetricUnit", "emit", "instrumented", "logger"]

logger = Logger()
Handler = Callable[[dict[str, Any], Any], Any]

_settings = ObservabilitySettings()
_print_lock = threading.Lock()  # worker threads emit at once; one EMF document per line


def emit(
    name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count, *, reason: str | None = None
) -> None:
    blob = EphemeralMetrics(namespace=_settings.metrics_namespace, service=logger.service)
    blob.add_metric(name=name, unit=unit, value=value)
    if reason is not None:
        blob.add_dimensions(service=logger.service, reason=reason)
    with _print_lock:
        blob.flush_metrics()


def instrumented(
    settings: ObservabilitySettings, correlation_id_path: str | None = None
) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler: Lambda context + correlation id in logs, and the X-Ray handler
    segment when tracing is on. Sets the metric namespace for `emit` (one per container)."""
    global _settings  # noqa: PLW0603 - configured once, from the handler's Settings
    _settings = settings

    def decorate(handler: Handler) -> Handler:
        logged: Handler = logger.inject_lambda_context(
            correlation_id_path=correlation_id_path, clear_state=True
        )(handler)
        if not settings.tracing:
            return logged
        from aws_lambda_powertools import Tracer  # lazy: the X-Ray SDK is slow to import

        traced: Handler = Tracer().capture_lambda_handler(logged)
        return traced

    return decorate
