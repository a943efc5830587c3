"""The one place a route reads its request body: size → base64 → UTF-8 → JSON object.

Every problem on the way is the caller's, and named: 413 `PAYLOAD_TOO_LARGE` for a body over the
limit (counted as delivered, base64 text included), else 400 `INVALID_JSON` saying which step
failed (not base64, not UTF-8, not JSON with its position, nested too deep, a duplicate key, not an
object). Nothing here can raise anything else.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from wix_relay.domain.errors import FieldProblem, InvalidInput, PayloadTooLarge
from wix_relay.domain.json_text import JsonRefused, loads

INVALID_JSON = "INVALID_JSON"


def _refused(message: str, details: list[FieldProblem] | None = None) -> InvalidInput:
    return InvalidInput(message, details or [], code=INVALID_JSON)


def body_text(event: Mapping[str, Any], max_bytes: int) -> str:
    """The body as text ("" when absent) from an API Gateway v2 / Function URL event."""
    raw = event.get("body")
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise _refused("the request body is not text")
    if len(raw) > max_bytes or len(raw.encode("utf-8", "surrogatepass")) > max_bytes:
        raise PayloadTooLarge(f"the request body must be at most {max_bytes} bytes")
    if not event.get("isBase64Encoded"):
        try:
            raw.encode("utf-8")  # a lone surrogate: the bytes sent were not UTF-8
        except UnicodeEncodeError as exc:
            raise _refused(f"the request body is not UTF-8 (character {exc.start})") from None
        return raw
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise _refused("the request body is not valid base64") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refused(f"the request body is not UTF-8 (byte {exc.start})") from None


def json_object(event: Mapping[str, Any], max_bytes: int) -> dict[str, Any]:
    """The body's JSON object, or the 400/413 naming what is wrong with it."""
    text = body_text(event, max_bytes)
    if not text.strip():
        raise _refused("the request body must be a JSON object")
    try:
        document = loads(text)
    except JsonRefused as exc:
        if exc.field is not None:
            problem = FieldProblem(exc.field, "appears more than once", "DUPLICATE")
            raise _refused(f"{exc.reason} in the request body", [problem]) from None
        raise _refused(f"the request body is not valid JSON ({exc.reason})") from None
    if not isinstance(document, dict):
        raise _refused("the request body must be a JSON object")
    return document
