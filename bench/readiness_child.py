"""The worker's old readiness wait, measured in its own process (the harness spawns it):

    python -m bench.readiness_child OBJECTS WAIT_SECONDS

Before commit e925817 the worker, after the upload, called `WixMediaClient.wait_until_ready`
(get-file-by-id, delays 0.5 s doubling to 5 s) for up to `RELAY_READY_WAIT_SECONDS` (60) inside
the invocation. This child does exactly that call with the client the relay still has, after an
upload of its own (generate + PUT, the same two calls the worker makes in upload mode), and
prints {"bench": {"waits": [{"seconds", "get_file_calls", "status"}, ...]}}.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from bench.worker_child import wix_log


def measure(objects: int, wait_s: float) -> dict[str, Any]:
    from local_stack.sample import sample_png

    from wix_relay.config import Settings
    from wix_relay.integrations.wix import ApiKeyCredentials, WixMediaClient

    settings = Settings.from_env()
    client = WixMediaClient(
        ApiKeyCredentials(os.environ["BENCH_WIX_API_KEY"], os.environ["BENCH_WIX_SITE_ID"]),
        settings.wix,
    )
    waits = []
    png = sample_png(8, 8)
    for n in range(objects):
        name = f"old-wait-{n}-{time.time_ns()}.png"
        url = client.generate_upload_url(
            {"mimeType": "image/png", "fileName": name, "filePath": "/bench"}
        )
        file = client.upload(url, png, mime_type="image/png", filename=name, size=len(png))
        seen = {r.get("requestId") for r in wix_log()}
        t0 = time.perf_counter()
        ready = client.wait_until_ready(file.id, wait_s)
        seconds = time.perf_counter() - t0
        calls = [r for r in wix_log() if r.get("requestId") not in seen]
        waits.append(
            {
                "seconds": seconds,
                "get_file_calls": sum(1 for r in calls if r.get("auth")),
                "status": ready.operation_status,
            }
        )
    return {"waits": waits}


def main(argv: list[str]) -> int:
    try:
        out = measure(int(argv[1]), float(argv[2]))
    except BaseException as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"[:600]}
    sys.stdout.write("\n" + json.dumps({"bench": out}) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
