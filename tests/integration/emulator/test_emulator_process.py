"""`python -m wix_emulator` as a process, and configuration from the environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from wix_emulator import EmulatorConfig

ROOT = Path(__file__).resolve().parents[3]


def test_python_m_wix_emulator_serves_until_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "devtools"),
        "WIX_EMULATOR_PORT": "0",
        "WIX_EMULATOR_DATA_DIR": str(tmp_path),
        "WIX_EMULATOR_API_KEY": "proc-key",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "wix_emulator"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Wix emulator on http://127.0.0.1:"), first
        url = first.split()[-1]
        assert requests.get(url + "/_emulator/health", timeout=5).json() == {"status": "ok"}
        r = requests.post(
            url + "/site-media/v1/files/generate-upload-url",
            json={"mimeType": "image/png"},
            headers={"Authorization": "proc-key", "wix-site-id": "dev-site-id"},
            timeout=5,
        )
        assert r.status_code == 200
        assert requests.put(r.json()["uploadUrl"], data=b"png", timeout=5).status_code == 200
        assert len(list((tmp_path / "files").iterdir())) == 1  # the given data dir is used
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_config_from_env_defaults_and_overrides() -> None:
    assert EmulatorConfig.from_env({}) == EmulatorConfig()
    cfg = EmulatorConfig.from_env(
        {
            "WIX_EMULATOR_PROCESSING_MS": "0",
            "WIX_EMULATOR_SITE_QUOTA_BYTES": "1000",
            "WIX_EMULATOR_SIZE_LIMITS": '{"image": 5}',
            "WIX_EMULATOR_TUS_RELATIVE_LOCATION": "true",
        }
    )
    assert (cfg.processing_ms, cfg.site_quota_bytes, cfg.tus_relative_location) == (0, 1000, True)
    assert cfg.size_limits["image"] == 5
    assert cfg.size_limits["video"] == EmulatorConfig().size_limits["video"]


@pytest.mark.parametrize(
    "env",
    [
        {"WIX_EMULATOR_PORT": "abc"},
        {"WIX_EMULATOR_PROCESSING_MS": "-1"},
        {"WIX_EMULATOR_SIZE_LIMITS": '{"image": "big"}'},
        {"WIX_EMULATOR_SIZE_LIMITS": "[1]"},
    ],
)
def test_config_from_env_refuses_bad_values(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="WIX_EMULATOR_"):
        EmulatorConfig.from_env(env)
