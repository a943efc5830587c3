"""Memory stays bounded whatever the object size: a 1 GiB object relayed by the worker (in a
subprocess, peak RSS sampled with psutil) grows its RSS by a few chunks at most. The emulator's
MD5 of what it received must equal the source's. Throughput is printed (-s), never asserted.

More sizes for a measurement table: WORKER_RSS_SIZES_MIB=10,100,1024 (and -s)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.worker import INBOX, JPEG, Put, WorkerRig

MIB = 1024 * 1024
CHUNK = 8 * MIB
PROBE = Path(__file__).with_name("worker_rss_probe.py")
ROOT = Path(__file__).resolve().parents[3]
SIZES_MIB = [int(s) for s in os.environ.get("WORKER_RSS_SIZES_MIB", "1024").split(",") if s]
BOUND = 4 * CHUNK  # a few chunks: the TUS chunk in flight, read-ahead, allocator slack


def write_pattern(path: Path, size: int) -> str:
    """A file of `size` deterministic, non-repeating-per-MiB bytes; returns its MD5."""
    digest = hashlib.md5()
    block = hashlib.sha256(b"relay").digest() * (MIB // 32)
    with path.open("wb") as out:
        for index in range(0, size, MIB):
            piece = (index // MIB).to_bytes(8, "big") + block[8 : min(MIB, size - index)]
            piece = piece[: min(MIB, size - index)]
            out.write(piece)
            digest.update(piece)
    return digest.hexdigest()


def run_probe(spec: dict[str, Any]) -> dict[str, Any]:
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT / "devtools"), str(ROOT)])
    done = subprocess.run(
        [sys.executable, str(PROBE), json.dumps(spec)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


# import moves no bytes through the worker: 100 MiB shows that, unless sizes are asked for
IMPORT_SIZES_MIB = SIZES_MIB if "WORKER_RSS_SIZES_MIB" in os.environ else [100]
CASES = [(mode, size) for mode in ("upload", "resumable") for size in SIZES_MIB] + [
    ("import", size) for size in IMPORT_SIZES_MIB
]


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "size_mib"), CASES)
def test_relay_memory_is_bounded(
    worker_rig: WorkerRig, tmp_path: Path, mode: str, size_mib: int
) -> None:
    size = size_mib * MIB
    source = tmp_path / "big.bin"
    md5 = write_pattern(source, size)
    key = f"big/{mode}-{size_mib}.bin"
    worker_rig.put_file(key, source)
    source.unlink()
    warmup = worker_rig.put("warm/up.jpg", JPEG)
    head = worker_rig.s3.head_object(Bucket=INBOX, Key=key)
    big = Put(INBOX, key, head["ETag"].strip('"'), size, md5, sequencer="00000000000000FF")
    env = {
        **worker_rig.env,
        "RELAY_ROUTES": json.dumps([{"prefix": "big", "mode": mode}]),
        "RELAY_TUS_CHUNK_BYTES": str(CHUNK),
        "WIX_RETRY_BUDGET_SECONDS": "20",
        "WIX_READ_TIMEOUT_SECONDS": "300",
        # the transfer only: no readiness check is scheduled (the worker never waits for Wix)
        "RELAY_READY_CHECKS": "0",
    }
    report = run_probe(
        {"env": env, "warmup": worker_rig.s3_event(warmup), "event": worker_rig.s3_event(big)}
    )
    print(
        f"\n{mode} {size_mib} MiB: {report['seconds']} s = {report['mb_per_s']} MB/s; "
        f"peak RSS growth {report['peak_growth'] / MIB:.1f} MiB "
        f"(baseline {report['baseline_rss'] / MIB:.1f} MiB, peak {report['peak_rss'] / MIB:.1f})"
    )
    assert report["answer"] == {"processed": 1}
    # The worker no longer waits for Wix: in import mode the emulator may still be pulling.
    deadline = time.monotonic() + 300
    while True:
        stored = [f for f in worker_rig.files() if f["displayName"] == f"{mode}-{size_mib}.bin"]
        pulled = bool(stored) and stored[0]["size"] == size
        if mode != "import" or pulled or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(stored) == 1 and stored[0]["size"] == size and stored[0]["md5"] == md5
    assert report["peak_growth"] <= BOUND
