"""The relay's own time per object, for comparing two trees side by side (not a `make bench`
section): a warm worker in this process over the bench's moto and emulator, one object at a
time, the median of `n` after three warm-up objects.

    PYTHONPATH=<tree>/src python -m bench.per_object upload|resumable SIZE_BYTES N

`wix_relay` comes from whichever tree is first on PYTHONPATH; the stack (moto, the emulator) from
this one, so two trees run against the same servers.
"""

from __future__ import annotations

import importlib
import os
import statistics
import sys
import time

from bench import events
from bench.events import LambdaContext
from bench.stack import BUCKET, running_stack
from bench.transfer import put_object

WARM_UP = 3


def main(argv: list[str]) -> int:
    mode, size, n = argv[1], int(argv[2]), int(argv[3])
    threshold = str(16 * 1024**3) if mode == "upload" else "1"
    with running_stack() as stack:
        env = stack.env(RELAY_DEFAULT_MODE=mode, RELAY_UPLOAD_THRESHOLD_BYTES=threshold)
        os.environ.update(env)
        worker = importlib.import_module("wix_relay.handlers.worker")
        times = []
        for i in range(n + WARM_UP):
            key = f"per-object/{mode}-{i}-{time.time_ns()}.bin"
            event = events.s3_sqs_event(BUCKET, [(key, size, put_object(stack, key, size))])
            t0 = time.perf_counter()
            answer = worker.handler(event, LambdaContext())
            if answer != {"batchItemFailures": []}:
                raise RuntimeError(f"the relay failed: {answer}")
            if i >= WARM_UP:
                times.append((time.perf_counter() - t0) * 1000)
    median, fastest = statistics.median(times), min(times)
    print(f"{mode} {size} B: median {median:.1f} ms (min {fastest:.1f}, n={n})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
