"""`python -m bench [--quick] [--only SECTION,...]` (sections: see SECTIONS below)."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.config import BenchConfig
from bench.report import (
    RESULTS,
    Row,
    eprint,
    machine,
    summary,
    table,
    write_docs,
    write_results,
)
from bench.stack import Stack, running_stack

SECTIONS = {
    # name: (row number, module with `run(stack, cfg) -> list[Row]`)
    "cold": ("1", "bench.cold"),
    "overhead": ("2", "bench.overhead"),
    "transfer": ("3", "bench.transfer"),
    "batch": ("4", "bench.batch"),
    "ingest": ("5", "bench.ingest"),
    "faults": ("6", "bench.faults"),
    "burst": ("7", "bench.burst"),
    "calls": ("8", "bench.calls"),
    "readiness": ("9", "bench.readiness"),
}


def run_section(name: str, stack: Stack, cfg: BenchConfig) -> list[Row]:
    number, module_name = SECTIONS[name]
    try:
        run: Callable[[Stack, BenchConfig], list[Row]] = importlib.import_module(module_name).run
        return run(stack, cfg)
    except Exception as exc:  # one section must not sink the table
        return [Row.error(number, name, "", exc)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    parser.add_argument("--only", default="", help="comma-separated sections to run")
    parser.add_argument("--output", default=str(RESULTS), help="where to write the JSON results")
    parser.add_argument(
        "--docs", action="store_true", help="also put the table into docs/benchmarks.md"
    )
    args = parser.parse_args(argv)
    cfg = BenchConfig.make(args.quick)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in wanted if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)} (have {', '.join(SECTIONS)})")

    meta = machine()
    meta["command"] = "python -m bench" + (" " + " ".join(argv or sys.argv[1:])).rstrip()
    rows: list[Row] = []
    started = time.perf_counter()
    try:
        with running_stack() as stack:
            if stack.emulator_error:
                eprint(f"Wix emulator unavailable: {stack.emulator_error}")
            for name in wanted:
                elapsed = time.perf_counter() - started
                eprint(f"[{elapsed:6.1f}s] section {SECTIONS[name][0]}: {name}")
                rows.extend(run_section(name, stack, cfg))
    except Exception as exc:  # the stack itself failed to start
        rows.append(Row.error("-", "local stack (moto + emulator)", "", exc))
    meta["duration_s"] = round(time.perf_counter() - started, 1)
    write_results(rows, meta, path=Path(args.output))
    if args.docs:
        write_docs(rows, meta)
    print(table(rows))
    print(
        f"\n{meta['date_utc']} · {meta['cpus']} CPUs {meta['cpu_model']} · Python "
        f"{meta['python']} · {meta['duration_s']} s · {summary(rows)} · results: {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
