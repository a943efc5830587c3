"""The control API under /_emulator/ (outside Wix's paths): faults, files, reset, clock, log."""

from __future__ import annotations

from typing import Any

from . import errors as e
from .faults import FaultSpecError
from .server import Request, route

C = r"/_emulator"


def _spec(req: Request) -> dict[str, Any]:
    body = req.json_body(required=False)
    if not isinstance(body, dict):
        raise e.validation_error([e.violation("body", "must be a JSON object", e.FORMAT)])
    return body


def _number(body: dict[str, Any], key: str, default: float = 0) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise e.validation_error([e.violation(key, "must be a number", e.FORMAT)])
    return float(value)


@route("GET", C + r"/health", "control", "control")
def health(req: Request) -> None:
    req.send_json(200, {"status": "ok"})


@route("GET", C + r"/files", "control", "control")
def files(req: Request) -> None:
    store = req.store
    with store.lock:
        entries = [store.control_entry(f) for f in store.files.values()]
    req.send_json(200, {"files": entries})


@route("POST", C + r"/reset", "control", "control")
def reset(req: Request) -> None:
    """Forget files, folders, upload tokens, TUS uploads, faults, latency, clock offset.
    Issued OAuth tokens survive unless {"tokens": true}."""
    body = _spec(req)
    req.faults.clear()
    req.store.reset(tokens=bool(body.get("tokens")))
    req.send_json(200, {"reset": True})


@route("GET", C + r"/faults", "control", "control")
def list_faults(req: Request) -> None:
    req.send_json(
        200,
        {
            "faults": req.faults.listing(),
            "latencyMs": req.faults.latency_ms,
            "latencyIncludesUploads": req.faults.latency_uploads,
            "failNext": req.store.fail_next,
        },
    )


@route("POST", C + r"/faults", "control", "control")
def add_fault(req: Request) -> None:
    try:
        fault = req.faults.add(_spec(req))
    except FaultSpecError as exc:
        raise e.validation_error([e.violation("fault", str(exc), e.FORMAT)]) from None
    req.send_json(201, fault.as_json())


@route("DELETE", C + r"/faults", "control", "control")
def clear_faults(req: Request) -> None:
    req.faults.clear()
    req.send_json(200, {"faults": []})


@route("PUT", C + r"/latency", "control", "control")
def set_latency(req: Request) -> None:
    """{"ms": 200, "includeUploads": false}: a delay before every Wix API call."""
    body = _spec(req)
    ms = _number(body, "ms")
    if ms < 0:
        raise e.validation_error([e.violation("ms", "must be >= 0", e.FORMAT)])
    req.faults.latency_ms = int(ms)
    req.faults.latency_uploads = bool(body.get("includeUploads", False))
    req.send_json(
        200, {"latencyMs": req.faults.latency_ms, "includeUploads": req.faults.latency_uploads}
    )


@route("POST", C + r"/fail-next", "control", "control")
def fail_next(req: Request) -> None:
    """{"count": 1}: the next N files to finish processing end FAILED."""
    count = _number(_spec(req), "count", 1)
    if count < 0 or count != int(count):
        raise e.validation_error([e.violation("count", "must be a whole number >= 0", e.FORMAT)])
    with req.store.lock:
        req.store.fail_next = int(count)
    req.send_json(200, {"failNext": int(count)})


@route("GET", C + r"/clock", "control", "control")
def get_clock(req: Request) -> None:
    req.send_json(200, {"offsetSeconds": req.store.clock_offset, "now": req.store.now()})


@route("POST", C + r"/clock", "control", "control")
def advance_clock(req: Request) -> None:
    """{"advanceSeconds": 14401}: move the emulator's clock (token expiry, processing)."""
    seconds = _number(_spec(req), "advanceSeconds")
    with req.store.lock:
        req.store.clock_offset += seconds
    req.send_json(200, {"offsetSeconds": req.store.clock_offset, "now": req.store.now()})


@route("GET", C + r"/requests", "control", "control")
def requests_log(req: Request) -> None:
    """The last 2000 Wix calls: endpoint, method, path, status, auth kind, body bytes, ms."""
    with req.store.lock:
        entries = [r for r in req.store.requests if r["endpoint"] != "control"]
    req.send_json(200, {"requests": entries})
