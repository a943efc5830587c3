"""API latency under injected Wix faults, in one warm process (the harness spawns it):

    python -m bench.faults_child REQUESTS SEED FAILURE_RATE

Before each `POST /v1/upload-url` (the API handler in-process, against the emulator) it draws how
many of that request's Wix calls fail — each call independently with FAILURE_RATE, so k failures
in a row with probability rate^k — and queues them on the emulator (`POST /_emulator/faults`,
outside the timed part): 500, 503, 429, 429 + `Retry-After: 5` or a cut connection. Prints
{"bench": {...}} with the per-request times (ms) and the statuses; the same SEED, the same
faults.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from typing import Any

FIELDS = {"mimeType": "image/png", "fileName": "fault.png", "sizeInBytes": "1048576"}
FAULTS: list[dict[str, Any]] = [
    {"status": 500},
    {"status": 503},
    {"status": 429},
    {"status": 429, "retryAfter": 5},  # Wix throttling with a wait: the worker's budget sleeps
    {"cutAfterBytes": 0},
]


def main(argv: list[str]) -> int:
    try:
        out = measure(int(argv[1]), int(argv[2]), float(argv[3]))
    except BaseException as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"[:600]}
    sys.stdout.write("\n" + json.dumps({"bench": out}) + "\n")
    sys.stdout.flush()
    return 0


def measure(requests_n: int, seed: int, rate: float) -> dict[str, Any]:
    import requests

    from bench.events import LambdaContext, http_api_event
    from wix_relay.handlers.api import handler

    api_key = os.environ["BENCH_API_KEY"]
    control = os.environ["BENCH_EMULATOR_URL"] + "/_emulator/faults"
    session = requests.Session()
    rng = random.Random(seed)

    def call() -> tuple[int, dict[str, Any]]:
        event = http_api_event("POST", "/v1/upload-url", FIELDS, {"x-api-key": api_key})
        response = handler(event, LambdaContext(29))
        return int(response["statusCode"]), dict(response.get("headers") or {})

    for _ in range(5):  # warm-up: secrets cache, keep-alive connections
        call()
    times: list[float] = []
    statuses: dict[str, int] = {}
    failed_calls = 0
    without_retry_after = 0
    for _ in range(requests_n):
        failures = 0
        while rng.random() < rate:
            failures += 1
        if failures:
            failed_calls += failures
            fault = {"endpoint": "generate-upload-url", "count": failures, **rng.choice(FAULTS)}
            session.post(control, json=fault, timeout=10).raise_for_status()
        t0 = time.perf_counter_ns()
        status, headers = call()
        times.append((time.perf_counter_ns() - t0) / 1e6)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if status >= 429 and "Retry-After" not in headers:
            without_retry_after += 1
        session.delete(control, timeout=10)  # faults a request did not use up do not carry over
    return {
        "times_ms": times,
        "statuses": statuses,
        "failed_wix_calls": failed_calls,
        "errors_without_retry_after": without_retry_after,
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv))
