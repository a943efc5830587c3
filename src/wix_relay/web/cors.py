"""CORS for the API: the preflight answer and the headers on every other answer.

API Gateway answers OPTIONS itself when deployed; a Function URL does not, so the relay does too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "authorization, content-type, idempotency-key, x-api-key"
EXPOSE_HEADERS = "location, retry-after, x-request-id"
MAX_AGE_S = 600


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header, by its lower-case name."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def cors_headers(origin: str | None, allowed: Collection[str]) -> dict[str, str]:
    if origin is None or origin not in allowed:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": EXPOSE_HEADERS}


def preflight(event: Mapping[str, Any], allowed: Collection[str]) -> dict[str, Any]:
    """The 204 answer to OPTIONS; the allow headers only for an allowed origin and method."""
    origin = header(event, "origin")
    headers = {"Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
    requested = (header(event, "access-control-request-method") or "").upper()
    if origin in allowed and requested in {"GET", "POST"}:
        headers |= {
            "Access-Control-Allow-Origin": str(origin),
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": str(MAX_AGE_S),
        }
    return {"statusCode": 204, "headers": headers, "body": "", "isBase64Encoded": False}
