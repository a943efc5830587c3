"""Spawning the measured child processes and reading their one JSON answer."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.report import REPO


def run_json_child(args: list[str], env: dict[str, str], key: str, timeout_s: float) -> Any:
    """Run `python -m <args>`; return the value under `key` of its last JSON line."""
    with tempfile.TemporaryFile(mode="w+") as errfile:
        proc = subprocess.run(
            [sys.executable, "-m", *args],
            stdout=subprocess.PIPE,
            stderr=errfile,
            text=True,
            cwd=REPO,
            env=env,
            timeout=timeout_s,
            check=False,
        )
        errfile.seek(0)
        stderr = errfile.read()
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(f'{{"{key}"'):
            answer = json.loads(line)[key]
            if isinstance(answer, dict) and "error" in answer:
                raise RuntimeError(answer["error"])
            return answer
    tail = stderr.strip().splitlines()[-1:] or ["no output"]
    raise RuntimeError(f"{args[0]} exit {proc.returncode}: {tail[0][:300]}")


def run_worker(
    env: dict[str, str],
    events: list[dict[str, Any]],
    warm: list[dict[str, Any]] | None = None,
    module: str = "wix_relay.handlers.worker",
    timeout_s: float = 600,
    count_sockets: bool = False,
    sample_interval_s: float = 0.01,
    sample_connections: bool = False,
    follow_queue: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One warm worker process; a measurement dict per event, then (`follow_queue`) one per
    invocation with what the events left on the queue (see bench.worker_child)."""
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(
            json.dumps(
                {
                    "module": module,
                    "warm": warm or [],
                    "events": events,
                    "count_sockets": count_sockets,
                    "sample_interval_s": sample_interval_s,
                    "sample_connections": sample_connections,
                    "follow_queue": follow_queue,
                }
            )
        )
        out = run_json_child(["bench.worker_child", str(spec)], env, "bench", timeout_s)
    results: list[dict[str, Any]] = out["results"]
    return results


def failures(response: Any) -> list[Any]:
    """batchItemFailures of a worker response ([] = all records done)."""
    if isinstance(response, dict):
        return list(response.get("batchItemFailures", []))
    return [response]
