"""7. A burst under Wix's rate limit (issue 14): `python -m soak --burst` (devtools/soak, the one
place the burst is written) on its own local stack — several worker processes polling the queue
as deployed concurrency would, the template's 5,400 s visibility timeout, the emulator's limit
scaled up so that a run takes tens of seconds — once with the relay's pacing off and once on
(`WIX_CALLS_PER_MINUTE` = the limit ÷ the worker processes). Drain time against the floor (the
Wix calls the objects needed ÷ the limit; the emulator's limit is a token bucket with a small
burst, so nothing can drain faster), the 429s, the records left waiting the full visibility
timeout and the DLQ."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.config import BenchConfig
from bench.report import REPO, TIMES, Row, eprint, verdict
from bench.stack import Stack, base_env

TARGET = 1.25
WORKERS = 4


def burst(objects: int, rate: int, *, pace: bool, timeout_s: float = 900.0) -> dict[str, Any]:
    """One `python -m soak --burst --json` run in its own process; its JSON summary."""
    command = [sys.executable, "-m", "soak", "--burst", "--json"]
    command += ["--objects", str(objects), "--rate", str(rate), "--workers", str(WORKERS)]
    if pace:
        command.append("--pace")
    proc = subprocess.run(
        command,
        cwd=REPO,
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith('{"burst"'):
            summary: dict[str, Any] = json.loads(line)["burst"]
            return summary
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    raise RuntimeError(f"soak --burst gave no result (rc {proc.returncode}): {' | '.join(tail)}")


def row(result: dict[str, Any], *, pace: bool) -> Row:
    floor, seconds = result["floor_s"], result["seconds"]
    objects, calls = result["objects"], result["api_calls"]
    ratio = seconds / floor if floor else float("inf")
    ok = (
        result["arrived"] == objects
        and result["stranded"] == 0
        and result["dlq"] == 0
        and ratio <= TARGET
    )
    pacing = f"on ({result['pacing_per_minute']:g}/min per process)" if pace else "off"
    bound = ""
    if not result["throttled"] and ratio > TARGET:
        bound = "; no 429: the pacing" if pace else "; no 429: the local stack, not the limit,"
        bound += " set the pace"
    return Row(
        "7",
        f"burst: {objects} objects, {result['workers']} worker processes, Wix limit "
        f"{result['rate_per_minute']}/min, pacing {pacing}: drain time vs floor",
        ours=f"{seconds:.1f} s",
        baseline=f"floor {floor:.1f} s",
        ratio=ratio,
        target=f"\u2264 {TARGET:.2f}{TIMES}, 0 full-timeout waits, 0 DLQ",
        status=verdict(ok),
        note=(
            f"arrived {result['arrived']}/{objects}; Wix API calls {calls} "
            f"({calls / max(1, objects):.2f} per object); 429s {result['throttled']} "
            f"({result['throttled'] / max(1, objects):.2f} per object); back early after a "
            f"throttle {result['delayed_early']}; full visibility timeout {result['stranded']}; "
            f"DLQ {result['dlq']}; {objects / max(seconds, 1e-9):.1f} objects/s; load "
            f"{result.get('loadavg', ['?'])[0]}{bound}"
        ),
        data=result,
    )


def run(stack: Stack, cfg: BenchConfig) -> list[Row]:
    del stack  # the burst starts a local stack of its own (relay, worker processes, queue)
    objects, rate = cfg.burst_objects, cfg.burst_rate_per_minute
    rows: list[Row] = []
    for pace in (False, True):
        try:
            result = burst(objects, rate, pace=pace)
        except Exception as exc:  # one run must not sink the other
            figure = f"burst: {objects} objects, pacing {'on' if pace else 'off'}"
            rows.append(Row.error("7", figure, f"\u2264 {TARGET:.2f}{TIMES}", exc))
            continue
        eprint(f"  burst, pacing {'on' if pace else 'off'}: {result['seconds']:.1f} s")
        rows.append(row(result, pace=pace))
    return rows
