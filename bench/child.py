"""Fresh-process measurements, one per child process (the harness spawns them):

    python -m bench.child cold MODULE EVENT_JSON_FILE|-

imports MODULE (the Lambda init phase) and, given an event file, calls `MODULE.handler(event,
context)` once (the first request). Prints one JSON line: import_ms, first_ms, total_ms, the
response's status and ru_maxrss. Only the standard library is loaded before the clock starts.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
from typing import Any


def _status(response: Any) -> tuple[bool, str]:
    if isinstance(response, dict) and "statusCode" in response:
        code = int(response["statusCode"])
        return 200 <= code < 300, f"HTTP {code}: {str(response.get('body'))[:200]}"
    if isinstance(response, dict) and "batchItemFailures" in response:
        failures = response["batchItemFailures"]
        return not failures, f"{len(failures)} batch item failures"
    return response is not None, repr(response)[:200]


def cold(module_name: str, event_path: str) -> dict[str, Any]:
    event = None
    if event_path != "-":
        with open(event_path) as fh:
            event = json.load(fh)
    from bench.events import LambdaContext

    context = LambdaContext()
    t0 = time.perf_counter()
    module = importlib.import_module(module_name)
    t1 = time.perf_counter()
    out: dict[str, Any] = {
        "import_ms": (t1 - t0) * 1000,
        "modules": len(sys.modules),
        "boto3_at_init": "boto3" in sys.modules,
        "xray_at_init": "aws_xray_sdk" in sys.modules,
    }
    if event is not None:
        response = module.handler(event, context)
        t2 = time.perf_counter()
        ok, status = _status(response)
        out.update(first_ms=(t2 - t1) * 1000, total_ms=(t2 - t0) * 1000, ok=ok, status=status)
        out["modules_after_first"] = len(sys.modules)
        out["boto3_after_first"] = "boto3" in sys.modules
    else:
        out.update(total_ms=out["import_ms"], ok=True, status="imported")
    out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[1] != "cold":
        print(json.dumps({"error": "usage: python -m bench.child cold MODULE EVENT|-"}))
        return 2
    try:
        result = cold(argv[2], argv[3])
    except BaseException as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"[:400], "ok": False}
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
