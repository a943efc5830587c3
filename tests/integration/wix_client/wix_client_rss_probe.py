"""Run one big upload through WixMediaClient in this process and print its peak RSS as JSON.

Used by test_wix_client_memory.py in a subprocess (so the test process's own memory does not
count), and by hand for throughput numbers:

    python tests/integration/wix_client/wix_client_rss_probe.py '<json spec>'

spec: {"mode": "tus" | "put" | "resumable", "url": upload/tus URL, "hosts": [netloc, ...],
       "size": bytes, "chunk": bytes, "token"?: str (resumable), "filename"?: str}
The bytes are a deterministic pattern (see PatternSource), so the caller can hash them too.
"""

from __future__ import annotations

import json
import resource
import sys
import threading
import time
from typing import Any

BLOCK = 1024 * 1024 + 7  # not a power of two, so chunk boundaries never line up with it


class PatternSource:
    """A stream of `size` bytes, byte i = block[i % len(block)], opened at any offset."""

    block = bytes((i * 131 + (i >> 8) * 7) & 0xFF for i in range(BLOCK))

    def __init__(self, size: int, offset: int = 0) -> None:
        self.size = size
        self.position = offset

    def read(self, n: int = -1, /) -> bytes:
        left = self.size - self.position
        n = left if n is None or n < 0 else min(n, left)
        start = self.position % BLOCK
        data = b"".join(self._wrap(start, n))
        self.position += len(data)
        return data

    def _wrap(self, start: int, n: int) -> list[bytes]:
        if start + n <= BLOCK:
            return [self.block[start : start + n]]
        parts, left = [], n
        while left:
            take = min(left, BLOCK - start)
            parts.append(self.block[start : start + take])
            left -= take
            start = 0
        return parts


def pattern_digest(size: int, algorithm: str = "sha256") -> str:
    import hashlib

    digest, source = hashlib.new(algorithm), PatternSource(size)
    while piece := source.read(8 * 1024 * 1024):
        digest.update(piece)
    return digest.hexdigest()


def main(spec: dict[str, Any]) -> dict[str, Any]:
    import psutil

    from wix_relay.config import WixSettings
    from wix_relay.integrations.wix import ApiKeyCredentials, ResumableTarget, WixMediaClient

    size, chunk = int(spec["size"]), int(spec.get("chunk", 8 * 1024 * 1024))
    settings = WixSettings(
        api_base_url=spec.get("api_base_url", "http://127.0.0.1:9"),
        upload_hosts=tuple(spec["hosts"]),
        read_timeout_s=120,
    )
    client = WixMediaClient(ApiKeyCredentials("probe-key", "probe-site"), settings)
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    result: Any
    if spec["mode"] == "tus":
        result = client.tus_upload(
            spec["url"],
            lambda offset: PatternSource(size, offset),
            size=size,
            metadata={"filename": spec.get("filename", "big.bin"), "contentType": "x/y"},
            chunk_size=chunk,
        )
    elif spec["mode"] == "resumable":
        result = client.upload_resumable(
            ResumableTarget(spec["url"], spec["token"]),
            lambda offset: PatternSource(size, offset),
            size=size,
            mime_type="application/octet-stream",
            filename=spec.get("filename", "big.bin"),
            chunk_size=chunk,
        ).id
    else:
        result = client.upload(
            spec["url"],
            lambda: PatternSource(size),
            mime_type="application/octet-stream",
            filename=spec.get("filename", "big.bin"),
            size=size,
        ).id
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    peak = max(peak, process.memory_info().rss)
    return {
        "result": result,
        "size": size,
        "chunk": chunk,
        "seconds": round(seconds, 3),
        "mb_per_s": round(size / seconds / 1e6, 1),
        "baseline_rss": baseline,
        "peak_rss": peak,
        "peak_growth": peak - baseline,
        "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
