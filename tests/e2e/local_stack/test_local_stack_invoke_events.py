"""`make invoke` with the event bank: a worker event's S3 objects are created when missing (so the
event does what it says), and a missing or broken event file is one clear line, not a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from local_stack.child import REPO_ROOT
from local_stack.event_objects import referenced_objects

from tests.fixtures.local_stack import emulator_files

EVENTS = REPO_ROOT / "events"
WORKER_EVENTS = sorted(
    p for folder in ("s3", "sqs", "eventbridge") for p in (EVENTS / folder).glob("*.json")
)
NO_OBJECT = {"s3-test-event.json", "partner-import.json", "awkward-keys.expected.json"}


def _invoke(stack: Any, function: str, event: str) -> subprocess.CompletedProcess[str]:
    state_dir = str(stack.config.state_dir)
    return subprocess.run(
        [sys.executable, "-m", "local_stack.invoke", function, event, "--state-dir", state_dir],
        cwd=REPO_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": f"{REPO_ROOT / 'src'}:{REPO_ROOT / 'devtools'}:{REPO_ROOT}",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("path", WORKER_EVENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_worker_event_names_its_objects(path: Path) -> None:
    objects = list(referenced_objects(json.loads(path.read_text())))
    if path.name in NO_OBJECT:
        assert objects == []
    else:
        assert objects and all(bucket == "wix-relay-inbox" and key for bucket, key in objects)


def test_a_missing_event_file_is_one_clear_line(local_stack: Any, tmp_path: Path) -> None:
    result = _invoke(local_stack, "worker", "events/s3/no-such-event.json")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "make invoke: events/s3/no-such-event.json does not exist; "
        "pick one of events/**/*.json (EVENT=…)"
    ]
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = _invoke(local_stack, "api", str(broken))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "is not JSON" in result.stderr


def test_a_worker_event_creates_the_object_it_points_at(local_stack: Any) -> None:
    result = _invoke(local_stack, "worker", "events/sqs/s3-put.json")
    assert result.returncode == 0, result.stderr
    assert "created s3://wix-relay-inbox/uploads/photo.jpg" in result.stderr
    assert json.loads(result.stdout) == {"batchItemFailures": []}
    assert any(
        f["displayName"] == "photo.jpg" and f["folderPath"].endswith("uploads")
        for f in emulator_files(local_stack)
    )
