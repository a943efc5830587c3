"""Measure the emulator's ingest rate and memory for a big PUT with curl (not a test).

    python tests/integration/emulator/emulator_bench.py [SIZE_MIB] [--keep FILE]

Starts an emulator in this process, PUTs SIZE_MIB (default 1024) random bytes with curl twice
(`-T file` = Content-Length, `-T -` with `Transfer-Encoding: chunked`) and prints MiB/s and the
process's peak RSS (sampled every 50 ms).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "devtools"))
from wix_emulator import EmulatorConfig, start_emulator


def make_file(path: Path, mib: int) -> None:
    with path.open("wb") as fh:
        for _ in range(mib):
            fh.write(os.urandom(1024 * 1024))


def measure(size_mib: int, src: Path) -> list[dict[str, object]]:
    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    results: list[dict[str, object]] = []
    data_dir = os.environ.get("WIX_EMULATOR_DATA_DIR") or None
    with start_emulator(EmulatorConfig(processing_ms=0, data_dir=data_dir)) as em:
        rss_start = proc.memory_info().rss
        for mode in ("content-length", "chunked"):
            url = requests.post(
                em.url + "/site-media/v1/files/generate-upload-url",
                json={"mimeType": "video/mp4", "fileName": "big.mp4"},
                headers=em.api_key_headers(),
                timeout=10,
            ).json()["uploadUrl"]
            cmd = ["curl", "-sS", "-H", "Content-Type: video/mp4"]
            started = time.monotonic()
            if mode == "chunked":
                cmd += ["-H", "Transfer-Encoding: chunked", "-T", "-", url]
                with src.open("rb") as stdin:
                    out = subprocess.run(cmd, stdin=stdin, capture_output=True, check=True)
            else:
                out = subprocess.run([*cmd, "-T", str(src), url], capture_output=True, check=True)
            seconds = time.monotonic() - started
            size = int(json.loads(out.stdout)["file"]["sizeInBytes"])
            assert size == size_mib * 1024 * 1024, out.stdout[:300]
            results.append(
                {"body": mode, "MiB/s": round(size_mib / seconds), "seconds": round(seconds, 2)}
            )
            em.reset()
        done.set()
        for r in results:
            r["rss_start_MiB"] = round(rss_start / 2**20)
            r["rss_peak_MiB"] = round(peak[0] / 2**20)
    return results


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1024
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(keep) if keep else Path(tmp) / "big.bin"
        if not src.exists() or src.stat().st_size != size * 1024 * 1024:
            make_file(src, size)
        print(f"load average {os.getloadavg()}")
        for row in measure(size, src):
            print(row)


if __name__ == "__main__":
    main()
