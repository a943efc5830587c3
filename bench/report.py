"""Statistics, result rows, the table and bench/results.json."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results.json"
TIMES = "\u00d7"
DASH = "\u2013"


@dataclass
class Stat:
    """Median and spread of a sample."""

    median: float
    lo: float
    hi: float
    q1: float
    q3: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        xs = sorted(values)
        if not xs:
            raise ValueError("no samples")
        if len(xs) >= 4:
            q1, _, q3 = statistics.quantiles(xs, n=4)
        else:
            q1, q3 = xs[0], xs[-1]
        return cls(statistics.median(xs), xs[0], xs[-1], q1, q3, len(xs))

    def fmt(self, unit: str, digits: int = 1) -> str:
        """`123.4 ms (110.2-130.9, n=7)`: median, then min-max (an en dash in the output)."""
        d = digits
        return f"{self.median:.{d}f} {unit} ({self.lo:.{d}f}{DASH}{self.hi:.{d}f}, n={self.n})"


@dataclass
class Row:
    """One line of the table. status: PASS | MISS | INFO | ERROR."""

    section: str
    figure: str
    ours: str = ""
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    status: str = "INFO"
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def error(cls, section: str, figure: str, target: str, exc: BaseException | str) -> Row:
        message = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        message = " ".join(str(message).split())[:160]
        return cls(section, figure, target=target, status="ERROR", note=message)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def ratio_row(
    section: str,
    figure: str,
    ours: Stat,
    baseline: Stat,
    unit: str,
    *,
    limit: float,
    higher_is_better: bool,
    note: str = "",
    digits: int = 1,
) -> Row:
    """A row comparing two medians: ratio = ours / baseline against `limit`."""
    ratio = ours.median / baseline.median if baseline.median else float("inf")
    ok = ratio >= limit if higher_is_better else ratio <= limit
    target = f"{'≥' if higher_is_better else '≤'} {limit:.2f}{TIMES}"
    return Row(
        section,
        figure,
        ours=ours.fmt(unit, digits),
        baseline=baseline.fmt(unit, digits),
        ratio=ratio,
        target=target,
        status=verdict(ok),
        note=note,
        data={"ours": asdict(ours), "baseline": asdict(baseline), "unit": unit},
    )


def guarded(rows: list[Row], section: str, figure: str, target: str) -> Callable[..., Any]:
    """Decorator-like helper: run fn; on any exception append an ERROR row instead of crashing."""

    def run(fn: Callable[[], list[Row] | Row | None]) -> None:
        try:
            out = fn()
        except Exception as exc:  # one failing piece must not sink the table
            rows.append(Row.error(section, figure, target, exc))
            return
        if isinstance(out, Row):
            rows.append(out)
        elif out:
            rows.extend(out)

    return run


def machine() -> dict[str, Any]:
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git_commit": commit,
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(rows: Sequence[Row]) -> str:
    """The Markdown table printed and committed to docs/benchmarks.md."""
    head = ["#", "figure", "ours / relay", "baseline", "ratio", "target", "result", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        ratio = f"{row.ratio:.2f}{TIMES}" if row.ratio is not None else ""
        cells = [
            row.section,
            row.figure,
            row.ours,
            row.baseline,
            ratio,
            row.target,
            f"**{row.status}**" if row.status in {"MISS", "ERROR"} else row.status,
            row.note,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def write_results(rows: Sequence[Row], meta: dict[str, Any], path: Path = RESULTS) -> None:
    doc = {"machine": meta, "rows": [asdict(r) for r in rows]}
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")


def summary(rows: Sequence[Row]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))


def eprint(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


DOCS = REPO / "docs" / "benchmarks.md"
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


def results_block(rows: Sequence[Row], meta: dict[str, Any]) -> str:
    """The machine, the command and the table, as committed in docs/benchmarks.md."""
    load = ", ".join(str(x) for x in meta.get("loadavg_at_start", []))
    return "\n".join(
        [
            f"Run {meta['date_utc']} at commit `{meta.get('git_commit', '')}` with "
            f"`{meta.get('command', 'python -m bench')}` ({meta.get('duration_s', '?')} s).",
            "",
            f"Machine: {meta['cpus']} CPUs, {meta['cpu_model']}, Python {meta['python']}, "
            f"{meta['platform']}; load average at start {load}.",
            "",
            table(rows),
            "",
            f"Summary: {summary(rows)}.",
        ]
    )


def write_docs(rows: Sequence[Row], meta: dict[str, Any], path: Path = DOCS) -> None:
    """Replace the results block between the markers in docs/benchmarks.md."""
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{START}\n{results_block(rows, meta)}\n{END}{tail}")
