"""Warm per-request overhead, measured in one process (the harness spawns it):

    python -m bench.overhead_child ITERATIONS GATEWAY_ITERATIONS [GATEWAY_URL]

Interleaves, iteration by iteration (order alternating), `POST /v1/upload-url` through the API
handler in-process, the bare `WixMediaClient.generate_upload_url` to the emulator, and (given a
gateway URL) the same POST over HTTP through the local gateway. Prints {"bench": {...}} with the
per-call times in ms.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

FIELDS = {"mimeType": "image/png", "fileName": "warm.png", "sizeInBytes": "1048576"}


def main(argv: list[str]) -> int:
    try:
        out = measure(int(argv[1]), int(argv[2]), argv[3] if len(argv) > 3 else None)
    except BaseException as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"[:600]}
    sys.stdout.write("\n" + json.dumps({"bench": out}) + "\n")
    sys.stdout.flush()
    return 0


def measure(iterations: int, gateway_iterations: int, gateway_url: str | None) -> dict[str, Any]:
    import requests

    from bench.events import LambdaContext, http_api_event
    from wix_relay.config import Settings
    from wix_relay.handlers.api import handler
    from wix_relay.integrations.wix import ApiKeyCredentials, WixMediaClient

    api_key = os.environ["BENCH_API_KEY"]
    settings = Settings.from_env()
    client = WixMediaClient(
        ApiKeyCredentials(os.environ["BENCH_WIX_API_KEY"], os.environ["BENCH_WIX_SITE_ID"]),
        settings.wix,
    )
    # What the handler sends Wix for this body (its folder policy adds filePath).
    bare_fields = {**FIELDS, "filePath": os.environ.get("BENCH_FOLDER", "/bench")}
    session = requests.Session()

    def via_handler() -> None:
        event = http_api_event("POST", "/v1/upload-url", FIELDS, {"x-api-key": api_key})
        response = handler(event, LambdaContext(29))
        if response.get("statusCode") != 200:
            raise RuntimeError(f"handler answered {response.get('statusCode')}: {response}")

    def bare() -> None:
        client.generate_upload_url(bare_fields)

    def via_gateway() -> None:
        answer = session.post(
            f"{gateway_url}/v1/upload-url", json=FIELDS, headers={"x-api-key": api_key}, timeout=30
        )
        if answer.status_code != 200:
            raise RuntimeError(f"gateway answered {answer.status_code}: {answer.text[:200]}")

    calls: dict[str, Callable[[], None]] = {"handler": via_handler, "bare": bare}
    if gateway_url:
        calls["gateway"] = via_gateway
    for fn in calls.values():  # warm-up: clients, secrets cache, keep-alive connections
        for _ in range(5):
            fn()
    times: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    for i in range(iterations):
        if i == gateway_iterations and "gateway" in order:
            order.remove("gateway")  # the gateway's ~40 ms calls: fewer of them
        for name in order if i % 2 == 0 else reversed(order):
            t0 = time.perf_counter_ns()
            calls[name]()
            times[name].append((time.perf_counter_ns() - t0) / 1e6)
    return {"times_ms": times}


if __name__ == "__main__":
    sys.exit(main(sys.argv))
