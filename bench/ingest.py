"""5. The emulator is not the bottleneck: its ingest rate for one large PUT (curl -T from a sparse
file, so the sender costs nothing) against the relay's upload rate measured in section 3."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench import emulator
from bench.config import MIB, BenchConfig
from bench.report import Row, Stat
from bench.stack import Stack

TARGET = 1.5


def put_file(stack: Stack, path: Path, size: int) -> float:
    url = emulator.upload_url(stack, "ingest.bin", size)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            "curl",
            "-sSf",
            "-T",
            str(path),
            "-H",
            "Content-Type: application/octet-stream",
            url,
            "-o",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"curl -T failed ({proc.returncode}): {proc.stderr.strip()[:200]}")
    return seconds


def run(stack: Stack, cfg: BenchConfig) -> list[Row]:
    if not shutil.which("curl"):
        return [Row.error("5", "emulator ingest", "", "curl not found")]
    size = cfg.ingest_mib * MIB
    emulator.reset(stack)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        path = Path(tmp) / "sparse.bin"
        with path.open("wb") as fh:
            fh.truncate(size)  # sparse: reads cost no disk
        seconds = []
        for i in range(cfg.ingest_runs + 1):
            os.sync()  # earlier uploads' dirty pages must not be written back during this one
            took = put_file(stack, path, size)
            if i:
                seconds.append(took)
            emulator.reset(stack)
    ingest = Stat.of([size / MIB / s for s in seconds])
    figure = f"emulator ingest, one {cfg.ingest_mib} MiB PUT (curl -T)"
    rates: dict[int, Stat] = stack.shared.get("upload_rates", {})
    if not rates:
        return [
            Row(
                "5",
                figure,
                ours=ingest.fmt("MiB/s", 0),
                target=f"\u2265 {TARGET:.2f}\u00d7 relay upload",
                status="INFO",
                note="relay upload rate not measured in this run (section 3 skipped or failed)",
            )
        ]
    size_mib = max(rates)
    relay = rates[size_mib]
    ratio = ingest.median / relay.median
    return [
        Row(
            "5",
            figure,
            ours=ingest.fmt("MiB/s", 0),
            baseline=f"relay upload {size_mib} MiB: {relay.fmt('MiB/s', 0)}",
            ratio=ratio,
            target=f"\u2265 {TARGET:.2f}\u00d7",
            status="PASS" if ratio >= TARGET else "MISS",
            note="emulator rate / relay rate",
        )
    ]
