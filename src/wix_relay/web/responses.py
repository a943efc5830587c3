"""HTTP responses: the docs/api.md error envelope, the request id, the headers every answer gets."""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from typing import Any

from wix_relay.domain.errors import RelayError, error_body
from wix_relay.web.cors import cors_headers, header
from wix_relay.web.powertools import Response

JSON = "application/json"


def request_id(event: Mapping[str, Any]) -> str | None:
    context = event.get("requestContext") or {}
    value = context.get("requestId") if isinstance(context, Mapping) else None
    return str(value) if value else None


def error_response(error: RelayError, request_id: str | None) -> Response[str]:
    headers: dict[str, str] = {}
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(math.ceil(error.retry_after_s))
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="wix-media-relay"'
    return Response(
        status_code=error.status,
        content_type=JSON,
        body=json.dumps(error_body(error, request_id)),
        headers=headers,
    )


def finish(
    response: dict[str, Any],
    event: Mapping[str, Any],
    cors_origins: Collection[str],
    cacheable_path: str,
) -> None:
    """CORS, `Vary`, `X-Request-Id` and (except on `cacheable_path`) `Cache-Control: no-store`."""
    headers = response.setdefault("headers", {})
    headers.update(cors_headers(header(event, "origin"), cors_origins))
    headers["Vary"] = "Origin"
    rid = request_id(event)
    if rid:
        headers["X-Request-Id"] = rid
    if not (event.get("rawPath") or "").endswith(cacheable_path):
        headers.setdefault("Cache-Control", "no-store")
