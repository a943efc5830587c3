"""Run tests/wix_sdk_oracle/oracle.mjs (the official @wix/sdk) against a running emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from wix_emulator import RunningEmulator

ORACLE_DIR = Path(__file__).resolve().parent


def run_oracle(emulator: RunningEmulator, *args: str, **extra_env: str) -> Any:
    """`node oracle.mjs <command> <emulator url> ...` → its JSON output."""
    node = shutil.which("node")
    if node is None or not (ORACLE_DIR / "node_modules" / "@wix" / "sdk").is_dir():
        pytest.skip("node or tests/wix_sdk_oracle/node_modules missing: run `make pytest`")
    env = {
        **os.environ,
        "ORACLE_API_KEY": emulator.api_key,
        "ORACLE_SITE_ID": emulator.site_id,
        "ORACLE_APP_ID": emulator.app_id,
        "ORACLE_APP_SECRET": emulator.app_secret,
        "ORACLE_INSTANCE_ID": emulator.instance_id,
        **extra_env,
    }
    command, *rest = args
    done = subprocess.run(
        [node, "oracle.mjs", command, emulator.url, *rest],
        cwd=ORACLE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)
