"""6. The API under a failing Wix: `POST /v1/upload-url` p50/p99 while ~10 % of Wix calls fail
(500 / 503 / 429 / 429 + Retry-After 5 s / cut connection), with the API's interactive retry
budget against the worker's long one as the baseline (what every API request could spend before
the budgets were split)."""

from __future__ import annotations

import statistics
from typing import Any

from bench.config import BenchConfig
from bench.procs import run_json_child
from bench.report import Row, verdict
from bench.stack import Stack

FAILURE_RATE = 0.10
SEED = 20261201
P99_LIMIT_MS = 3000.0


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _run(stack: Stack, cfg: BenchConfig, **budget: str) -> dict[str, Any]:
    env = stack.env(POWERTOOLS_LOG_LEVEL="WARNING", **budget)
    args = ["bench.faults_child", str(cfg.fault_requests), str(SEED), str(FAILURE_RATE)]
    answer: dict[str, Any] = run_json_child(args, env, "bench", timeout_s=1800)
    return answer


def run(stack: Stack, cfg: BenchConfig) -> list[Row]:
    if not stack.emulator_url:
        return [Row.error("6", "API under Wix faults", "", f"no emulator: {stack.emulator_error}")]
    ours = _run(stack, cfg)  # the defaults: WIX_API_RETRY_BUDGET_SECONDS / WIX_API_MAX_RETRIES
    long = _run(stack, cfg, WIX_API_RETRY_BUDGET_SECONDS="20", WIX_API_MAX_RETRIES="1000")
    rows = []
    for label, answer, target in (
        ("interactive budget", ours, True),
        ("worker budget", long, False),
    ):
        times: list[float] = answer["times_ms"]
        p50, p99, worst = statistics.median(times), _percentile(times, 99), max(times)
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(answer["statuses"].items()))
        ok = p99 <= P99_LIMIT_MS and answer["errors_without_retry_after"] == 0
        rows.append(
            Row(
                "6",
                f"POST /v1/upload-url with {FAILURE_RATE:.0%} of Wix calls failing, {label}",
                ours=f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms (n={len(times)})",
                baseline="" if target else "(before the budgets were split)",
                target=f"p99 \u2264 {P99_LIMIT_MS / 1000:.0f} s, errors carry Retry-After"
                if target
                else "record only",
                status=verdict(ok) if target else "INFO",
                note=f"statuses {statuses}; {answer['failed_wix_calls']} Wix calls failed",
                data={
                    "p50_ms": p50,
                    "p99_ms": p99,
                    "max_ms": worst,
                    "statuses": answer["statuses"],
                    "failed_wix_calls": answer["failed_wix_calls"],
                },
            )
        )
    return rows
