"""The control API under /_emulator/ (outside Wix's paths): faults, files, reset, clock, log."""

from __future__ import annotations

from typing import Any

from . import errors as e
from .faults import FaultSpecError
from .server import Request, route
from .webhooks import ACTIONS

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
    """Forget files, folders, upload tokens, TUS uploads, faults, latency, clock offset, webhook
    deliveries, switches and URLs set here. Issued OAuth tokens survive unless {"tokens": true}."""
    body = _spec(req)
    req.faults.clear()
    req.store.reset(tokens=bool(body.get("tokens")))
    req.webhooks.reset()
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
    req.store.advance(_number(_spec(req), "advanceSeconds"))
    req.send_json(200, {"offsetSeconds": req.store.clock_offset, "now": req.store.now()})


@route("GET", C + r"/requests", "control", "control")
def requests_log(req: Request) -> None:
    """The last 2000 Wix calls: endpoint, method, path, status, auth kind, body bytes, ms."""
    with req.store.lock:
        entries = [r for r in req.store.requests if r["endpoint"] != "control"]
    req.send_json(200, {"requests": entries})


@route("GET", C + r"/rate-limit", "control", "control")
def rate_limit(req: Request) -> None:
    """The rate limit's settings and the calls it admitted and refused since the last reset
    (exact, unlike the bounded request log)."""
    bucket = req.store.rate_bucket
    if bucket is not None:
        req.send_json(200, bucket.counts())
        return
    per_minute = req.cfg.rate_limit_per_minute
    burst = min(req.cfg.rate_limit_burst, per_minute)
    req.send_json(200, {"perMinute": per_minute, "burst": burst, "admitted": 0, "refused": 0})


# --- webhooks ------------------------------------------------------------------------------
@route("GET", C + r"/webhook-public-key", "control", "control")
def webhook_public_key(req: Request) -> None:
    """PEM text of the public key that verifies every delivery (the app's "public key")."""
    req.send_bytes(200, req.webhooks.public_pem.encode(), "application/x-pem-file")


@route("GET", C + r"/webhooks", "control", "control")
def webhook_log(req: Request) -> None:
    """The last deliveries: eventId, eventType, fileId, url, state, attempts, lastStatus, ..."""
    req.send_json(
        200,
        {
            "urls": list(req.webhooks.urls),
            "pending": req.webhooks.pending(),
            "switches": req.webhooks.switches(),
            "deliveries": req.webhooks.listing(),
        },
    )


@route("PUT", C + r"/webhooks/urls", "control", "control")
def webhook_urls(req: Request) -> None:
    """{"urls": [...]}: where the next events go (until reset; WIX_EMULATOR_WEBHOOK_URL is the
    start value)."""
    urls = _spec(req).get("urls")
    if not isinstance(urls, list) or not all(
        isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls
    ):
        raise e.validation_error([e.violation("urls", "must be a list of http(s) URLs", e.FORMAT)])
    req.webhooks.set_urls(urls)
    req.send_json(200, {"urls": urls})


@route("POST", C + r"/webhooks/faults", "control", "control")
def webhook_switch(req: Request) -> None:
    """{"action": "duplicate|delay|reorder|drop", "count": 1, "delayMs": 0, "holdMs": 10000}:
    applies to the next `count` events (every URL's delivery of each)."""
    body = _spec(req)
    action = body.get("action")
    if action not in ACTIONS:
        raise e.validation_error(
            [e.violation("action", f"must be one of {', '.join(ACTIONS)}", e.FORMAT)]
        )
    values = {k: _number(body, k, d) for k, d in (("count", 1), ("delayMs", 0), ("holdMs", 10000))}
    if any(v < 0 or v != int(v) for v in values.values()) or values["count"] < 1:
        raise e.validation_error(
            [e.violation("count", "count >= 1, delayMs and holdMs >= 0 (whole numbers)", e.FORMAT)]
        )
    switch = req.webhooks.add_switch(
        action, int(values["count"]), int(values["delayMs"]), int(values["holdMs"])
    )
    req.send_json(201, switch.as_json())


@route("DELETE", C + r"/webhooks/faults", "control", "control")
def clear_webhook_switches(req: Request) -> None:
    req.webhooks.clear_switches()
    req.send_json(200, {"switches": []})
