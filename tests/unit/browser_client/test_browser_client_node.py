"""The browser library's unit tests (clients/browser/test, Node's test runner) as part of pytest:
the parts of `uploadFile` that need no browser, against the real tus-js-client."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[3] / "clients" / "browser"


def test_node_unit_tests_pass() -> None:
    node = shutil.which("node")
    if node is None or not (LIBRARY / "node_modules" / "tus-js-client").is_dir():
        pytest.skip("needs node and `make pytest` (npm install in clients/browser)")
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", "test/"],
        cwd=LIBRARY,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
    passed = int(result.stdout.split("# pass ")[1].split()[0])
    assert passed >= 10, result.stdout[-2000:]
