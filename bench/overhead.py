"""2. Warm overhead: what the API handler adds to one Wix call (`POST /v1/upload-url` in-process
vs the bare client's generate_upload_url, interleaved), and through the local HTTP gateway."""

from __future__ import annotations

import statistics
from typing import Any

from bench.config import BenchConfig
from bench.procs import run_json_child
from bench.report import Row, Stat, verdict
from bench.stack import FOLDER, WIX_API_KEY, WIX_SITE_ID, Stack, spawn_server, stop_server

LIMIT_MS = 1.0


def run(stack: Stack, cfg: BenchConfig) -> list[Row]:
    if not stack.emulator_url:
        return [Row.error("2", "warm overhead", "", f"no emulator: {stack.emulator_error}")]
    env = stack.env(
        BENCH_WIX_API_KEY=WIX_API_KEY,
        BENCH_WIX_SITE_ID=WIX_SITE_ID,
        BENCH_FOLDER=FOLDER,
        POWERTOOLS_LOG_LEVEL="INFO",
    )
    gateway_url = ""
    gateway_error = ""
    gateway = None
    try:
        gateway, gateway_url = spawn_server("gateway", env=env)
    except Exception as exc:  # the gateway row reports it
        gateway_error = f"{type(exc).__name__}: {exc}"
    try:
        args = [
            "bench.overhead_child",
            str(cfg.overhead_iterations),
            str(cfg.gateway_iterations),
        ]
        if gateway_url:
            args.append(gateway_url)
        answer: dict[str, Any] = run_json_child(args, env, "bench", timeout_s=600)
    finally:
        if gateway is not None:
            stop_server(gateway)
    times: dict[str, list[float]] = answer["times_ms"]
    handler, bare = Stat.of(times["handler"]), Stat.of(times["bare"])
    paired = statistics.median(h - b for h, b in zip(times["handler"], times["bare"], strict=True))
    overhead = handler.median - bare.median
    rows = [
        Row(
            "2",
            "warm POST /v1/upload-url, handler in-process, overhead over the bare client call",
            ours=f"{overhead:+.2f} ms (handler {handler.fmt('ms', 2)})",
            baseline=f"bare generate_upload_url {bare.fmt('ms', 2)}",
            target=f"\u2264 {LIMIT_MS:.0f} ms",
            status=verdict(overhead <= LIMIT_MS),
            note=f"difference of medians; median of paired differences {paired:+.2f} ms",
            data={"handler": handler.__dict__, "bare": bare.__dict__, "paired_ms": paired},
        )
    ]
    if "gateway" in times:
        gw = Stat.of(times["gateway"])
        rows.append(
            Row(
                "2",
                "warm POST /v1/upload-url through the local HTTP gateway (for the record)",
                ours=gw.fmt("ms", 2),
                baseline=f"bare {bare.median:.2f} ms",
                target="record only",
                status="INFO",
                note=f"adds {gw.median - bare.median:+.2f} ms (min {gw.lo:.2f})"
                + (
                    "; ~40 ms is Nagle + delayed ACK in the gateway's http.server "
                    "(disable_nagle_algorithm off), not the relay"
                    if gw.median - bare.median > 30
                    else ""
                ),
                data={"gateway": gw.__dict__},
            )
        )
    else:
        rows.append(Row.error("2", "warm POST through the local gateway", "record", gateway_error))
    return rows
