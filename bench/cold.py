"""1. Cold start: fresh processes importing each handler (the Lambda init phase) and serving its
first request, the relay's handlers side by side with the conventional ones."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import events
from bench.config import BenchConfig
from bench.report import REPO, Row, Stat, eprint, ratio_row
from bench.stack import API_KEY, BUCKET, Stack

FUNCTIONS = {
    # function: (ours, conventional, init target, first-request target: issue 14's for the latter)
    "api": ("wix_relay.handlers.api", "bench.conventional.api", 0.30, 0.25),
    "worker": ("wix_relay.handlers.worker", "bench.conventional.worker", 0.50, 0.40),
}
MIB = 1024 * 1024


def run_child(module: str, event_path: str, env: dict[str, str]) -> dict[str, Any]:
    """One fresh process. wall_ms: spawn → result line (what a caller waits for); exit_ms:
    spawn → process gone (adds interpreter teardown, which Lambda never waits for)."""
    with tempfile.TemporaryFile(mode="w+") as errfile:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.child", "cold", module, event_path],
            stdout=subprocess.PIPE,
            stderr=errfile,
            text=True,
            cwd=REPO,
            env=env,
        )
        assert proc.stdout is not None
        result: dict[str, Any] | None = None
        wall_ms = 0.0
        for line in proc.stdout:
            if line.startswith(('{"import_ms"', '{"error"')):
                wall_ms = (time.perf_counter() - t0) * 1000
                result = json.loads(line)
        proc.wait(timeout=120)
        exit_ms = (time.perf_counter() - t0) * 1000
        errfile.seek(0)
        stderr = errfile.read()
    if result is None:
        tail = stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{module}: exit {proc.returncode}: {tail[0][:200]}")
    if "error" in result:
        raise RuntimeError(f"{module}: {result['error']}")
    if not result.get("ok"):
        raise RuntimeError(f"{module}: first request failed: {result.get('status')}")
    result["wall_ms"] = wall_ms
    result["exit_ms"] = exit_ms
    return result


def api_event_file(tmp: Path) -> str:
    event = events.http_api_event(
        "POST",
        "/v1/upload-url",
        {"mimeType": "image/png", "fileName": "cold.png", "sizeInBytes": "1048576"},
        {"x-api-key": API_KEY},
    )
    path = tmp / "api-event.json"
    path.write_text(json.dumps(event))
    return str(path)


def worker_event_file(stack: Stack, tmp: Path, name: str) -> str:
    """A fresh 1 MiB object and the SQS-wrapped S3 event announcing it."""
    key = f"cold/{name}.bin"
    put = stack.boto("s3").put_object(
        Bucket=BUCKET, Key=key, Body=b"\x5a" * MIB, ContentType="application/octet-stream"
    )
    event = events.s3_sqs_event(BUCKET, [(key, MIB, put["ETag"])])
    path = tmp / f"worker-{name}.json"
    path.write_text(json.dumps(event))
    return str(path)


Results = dict[str, dict[str, list[dict[str, Any]]]]


def measure(stack: Stack, function: str, runs: int) -> tuple[Results, dict[str, str]]:
    """({variant: {phase: [child results]}}, {variant: error}), variants interleaved run by run;
    a variant that fails stops being run, the other goes on."""
    ours_mod, conv_mod, _, _ = FUNCTIONS[function]
    variants = {"ours": ours_mod, "conventional": conv_mod}
    env = stack.env()
    results: Results = {v: {"init": [], "first": []} for v in variants}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmpdir:
        tmp = Path(tmpdir)
        api_event = api_event_file(tmp) if function == "api" else ""
        for i in range(runs + 1):  # run 0 is the warm-up (fills the bytecode cache)
            for variant, module in variants.items():
                for phase in ("init", "first"):
                    key = f"{variant} {phase}"
                    if key in errors:
                        continue
                    try:
                        if phase == "init":
                            event = "-"
                        elif function == "api":
                            event = api_event
                        else:
                            event = worker_event_file(stack, tmp, f"{variant}-{i}-{time.time_ns()}")
                        result = run_child(module, event, env)
                    except Exception as exc:  # reported in the rows
                        errors[key] = f"{type(exc).__name__}: {exc}"
                        continue
                    if i:
                        results[variant][phase].append(result)
    eprint(f"  cold {function}: {runs} runs each, errors: {errors or 'none'}")
    return results, errors


SPECS = [
    # phase, metric, which limit, label
    ("init", "import_ms", 2, "init (import), in-process"),
    ("init", "wall_ms", 2, "init, process spawn to ready"),
    ("first", "total_ms", 3, "init + first request, in-process"),
    ("first", "wall_ms", 3, "init + first request, process spawn to response"),
]


def rows_for(function: str, results: Results, errors: dict[str, str]) -> list[Row]:
    out: list[Row] = []
    for phase, metric, limit_index, label in SPECS:
        limit = float(FUNCTIONS[function][limit_index])  # type: ignore[arg-type]
        figure = f"cold start {function}: {label}"
        ours, conv = results["ours"][phase], results["conventional"][phase]
        if not ours or not conv:
            why = "; ".join(f"{k}: {v}" for k, v in errors.items() if k.endswith(phase))
            row = Row.error("1", figure, f"\u2264 {limit:.2f}\u00d7", why)
            if conv:
                row.baseline = Stat.of([r[metric] for r in conv]).fmt("ms", 0)
            if ours:
                row.ours = Stat.of([r[metric] for r in ours]).fmt("ms", 0)
            out.append(row)
            continue
        a = Stat.of([r[metric] for r in ours])
        b = Stat.of([r[metric] for r in conv])
        note = ""
        if metric == "total_ms":
            fa = Stat.of([r["first_ms"] for r in ours]).median
            fb = Stat.of([r["first_ms"] for r in conv]).median
            boto = "imports boto3" if ours[0].get("boto3_after_first") else "no boto3"
            added = ours[0].get("modules_after_first", 0) - ours[0].get("modules", 0)
            note = (
                f"first call alone: {fa:.0f} vs {fb:.0f} ms; ours' first call loads "
                f"{added} more modules ({boto})"
            )
        elif metric == "import_ms":
            ma = Stat.of([r["modules"] for r in ours]).median
            mb = Stat.of([r["modules"] for r in conv]).median
            boto = "; ".join(
                f"{name}: boto3 {'yes' if rs[0].get('boto3_at_init') else 'no'}, X-Ray SDK "
                f"{'yes' if rs[0].get('xray_at_init') else 'no'}"
                for name, rs in (("ours", ours), ("conventional", conv))
            )
            note = f"modules loaded: {ma:.0f} vs {mb:.0f} ({boto})"
        elif metric == "wall_ms":
            ea = Stat.of([r["exit_ms"] for r in ours]).median
            eb = Stat.of([r["exit_ms"] for r in conv]).median
            note = f"until the process exits: {ea:.0f} vs {eb:.0f} ms"
        out.append(
            ratio_row(
                "1", figure, a, b, "ms", limit=limit, higher_is_better=False, note=note, digits=0
            )
        )
    return out


def run(stack: Stack, cfg: BenchConfig) -> list[Row]:
    rows: list[Row] = []
    for function in FUNCTIONS:
        rows.extend(rows_for(function, *measure(stack, function, cfg.cold_runs)))
    return rows
