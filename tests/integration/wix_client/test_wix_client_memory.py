"""A 1 GiB upload through the client keeps its memory to a few chunks (peak RSS measured with psutil
in a subprocess). Throughput is printed (-s), never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from wix_emulator import RunningEmulator

from tests.integration.wix_client.wix_client_helpers import TusReference, sha256_of, tus_reference
from tests.integration.wix_client.wix_client_rss_probe import pattern_digest
from wix_relay.config import WixSettings
from wix_relay.integrations.wix import ApiKeyCredentials, WixMediaClient

__all__ = ["tus_reference"]

GIB = 1024 * 1024 * 1024
CHUNK = 8 * 1024 * 1024
PROBE = Path(__file__).with_name("wix_client_rss_probe.py")
SRC = Path(__file__).resolve().parents[3] / "src"


def run_probe(spec: dict[str, Any]) -> dict[str, Any]:
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, str(PROBE), json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"\n{spec['mode']} {report['size'] / GIB:.2f} GiB in {report['seconds']} s = "
        f"{report['mb_per_s']} MB/s; peak RSS growth {report['peak_growth'] / 2**20:.1f} MiB "
        f"(baseline {report['baseline_rss'] / 2**20:.1f} MiB, chunk {report['chunk'] / 2**20} MiB)"
    )
    return report


@pytest.mark.slow
def test_one_gib_tus_upload_holds_a_few_chunks(tus_reference: TusReference) -> None:
    report = run_probe(
        {
            "mode": "tus",
            "url": tus_reference.files_url,
            "hosts": [tus_reference.netloc],
            "size": GIB,
            "chunk": CHUNK,
        }
    )
    assert report["peak_growth"] <= 3 * CHUNK
    stored = tus_reference.stored(report["result"])
    assert stored.stat().st_size == GIB
    assert sha256_of(stored) == pattern_digest(GIB)
    stored.unlink()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["put", "resumable"])
def test_one_gib_upload_to_the_emulator_holds_a_few_chunks(
    wix_emulator: RunningEmulator, mode: str
) -> None:
    """The whole Wix flow (one streamed PUT, or tus + finalize) with the emulator's hash checked."""
    settings = WixSettings(api_base_url=wix_emulator.url, upload_hosts=(wix_emulator.upload_host,))
    client = WixMediaClient(ApiKeyCredentials(wix_emulator.api_key, wix_emulator.site_id), settings)
    fields = {"mimeType": "application/octet-stream", "fileName": "big.bin"}
    spec: dict[str, Any] = {"mode": mode, "hosts": [wix_emulator.upload_host], "size": GIB}
    if mode == "put":
        spec["url"] = client.generate_upload_url(fields)
    else:
        target = client.generate_resumable_upload_url(fields)
        spec |= {"url": target.upload_url, "token": target.upload_token, "chunk": CHUNK}
    report = run_probe(spec)
    assert report["peak_growth"] <= 3 * CHUNK
    stored = next(f for f in wix_emulator.files() if f["id"] == report["result"])
    assert stored["size"] == GIB
    assert stored["md5"] == pattern_digest(GIB, "md5")
