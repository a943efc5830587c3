"""Run-time fault injection: the next N calls of an endpoint answer differently."""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass
from typing import Any

# Endpoint names (what a fault's "endpoint" may be; "*" matches every Wix endpoint).
ENDPOINTS = (
    "oauth-token",
    "generate-upload-url",
    "generate-resumable-upload-url",
    "upload",
    "tus-options",
    "tus-create",
    "tus-head",
    "tus-patch",
    "tus-delete",
    "finalize",
    "import",
    "bulk-import",
    "get-file",
    "get-files",
    "list-files",
    "static",
)
UPLOAD_ENDPOINTS = frozenset(
    {"upload", "tus-options", "tus-create", "tus-head", "tus-patch", "tus-delete", "finalize"}
)


@dataclass
class Fault:
    id: int
    endpoint: str
    remaining: int
    status: int | None = None
    retry_after: str | None = None
    delay_ms: int = 0
    cut_after_bytes: int | None = None
    body: str | None = None
    content_type: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class FaultSpecError(ValueError):
    pass


def _int(spec: dict[str, Any], key: str, default: int | None, minimum: int = 0) -> int | None:
    value = spec.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise FaultSpecError(f"{key} must be an integer >= {minimum}")
    return value


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._faults: list[Fault] = []
        self.latency_ms = 0
        self.latency_uploads = False

    def add(self, spec: Any) -> Fault:
        """Validate a fault spec from the control API (see docs/emulator.md)."""
        if not isinstance(spec, dict):
            raise FaultSpecError("a fault is a JSON object")
        endpoint = spec.get("endpoint")
        if endpoint != "*" and endpoint not in ENDPOINTS:
            raise FaultSpecError(f"endpoint must be '*' or one of: {', '.join(ENDPOINTS)}")
        status = _int(spec, "status", None, 100)
        if status is not None and status > 599:
            raise FaultSpecError("status must be an HTTP status (100-599)")
        retry_after = spec.get("retryAfter")
        if retry_after is not None:
            if isinstance(retry_after, bool) or not isinstance(retry_after, int | float | str):
                raise FaultSpecError("retryAfter must be a number of seconds or an HTTP date")
            retry_after = str(retry_after)
        delay_ms = _int(spec, "delayMs", 0)
        cut = _int(spec, "cutAfterBytes", None)
        body = spec.get("body")
        if body is not None and not isinstance(body, str):
            raise FaultSpecError("body must be a string")
        if status is None and cut is None and not delay_ms:
            raise FaultSpecError("give at least one of status, delayMs, cutAfterBytes")
        if status is not None and cut is not None:
            raise FaultSpecError("status and cutAfterBytes exclude each other")
        fault = Fault(
            id=next(self._ids),
            endpoint=endpoint,
            remaining=_int(spec, "count", 1, 1) or 1,
            status=status,
            retry_after=retry_after,
            delay_ms=delay_ms or 0,
            cut_after_bytes=cut,
            body=body,
            content_type=spec.get("contentType"),
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, endpoint: str) -> Fault | None:
        """The first fault matching this call, counted down (removed when used up)."""
        with self._lock:
            for fault in self._faults:
                if fault.endpoint in ("*", endpoint):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_json() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.latency_ms = 0
            self.latency_uploads = False

    def latency_for(self, endpoint: str) -> int:
        if endpoint in UPLOAD_ENDPOINTS and not self.latency_uploads:
            return 0
        return self.latency_ms
