"""Relay S3 objects with the real worker in this process and report its RSS (psutil) as JSON.

Run by test_worker_memory.py in a subprocess, so the test process (which hosts moto and the
emulator) does not count:

    python tests/e2e/worker/worker_rss_probe.py '<json spec>'

spec: {"env": {...Settings env...}, "warmup": <S3 event>, "event": <S3 event>}
The warm-up event relays a small object first (imports, clients, credentials, idempotency), then
the baseline RSS is taken and the big event is relayed while a thread samples RSS every 20 ms.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any


def main(spec: dict[str, Any]) -> dict[str, Any]:
    import psutil
    from local_stack.lambda_context import LambdaContext

    from wix_relay.config import Settings
    from wix_relay.runtime import Runtime

    worker = Runtime.for_worker(Settings.from_env(spec["env"]))
    context = LambdaContext("wix-relay-worker", timeout_s=900)
    worker.relay.handle(spec["warmup"], context)
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    answer = worker.relay.handle(spec["event"], LambdaContext("wix-relay-worker", timeout_s=900))
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    peak = max(peak, process.memory_info().rss)
    size = sum(r["s3"]["object"]["size"] for r in spec["event"]["Records"])
    return {
        "answer": answer,
        "size": size,
        "seconds": round(seconds, 3),
        "mb_per_s": round(size / seconds / 1e6, 1),
        "baseline_rss": baseline,
        "peak_rss": peak,
        "peak_growth": peak - baseline,
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
