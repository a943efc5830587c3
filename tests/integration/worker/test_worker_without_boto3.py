"""With credentials in the environment (as on Lambda), a worker that relays an S3 object never
imports boto3 or botocore's client machinery: S3, DynamoDB, SQS and Secrets Manager go over
SigV4 + `requests` (integrations/aws_http.py). An import check in a fresh process, not a
timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.worker import WorkerRig

ROOT = Path(__file__).resolve().parents[3]
PROBE = Path(__file__).with_name("worker_imports_probe.py")


def test_a_worker_relays_an_s3_object_without_importing_boto3(
    worker_rig: WorkerRig, tmp_path: Path
) -> None:
    put = worker_rig.put("inbox/first object ü.jpg", content_type="image/jpeg")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(worker_rig.sqs_event(worker_rig.s3_event(put))))
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT / "devtools"), str(ROOT)])
    done = subprocess.run(
        [sys.executable, str(PROBE), str(event)],
        capture_output=True,
        text=True,
        env={**os.environ, **worker_rig.env, "PYTHONPATH": path},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["answer"] == {"batchItemFailures": []}
    (job,) = worker_rig.jobs()
    assert job.status in {"uploaded", "ready"} and job.file is not None
    assert len(worker_rig.files()) == 1  # the object reached Wix, once
    # Powertools' own `__init__` imports the bare `botocore` package (its user-agent hook, a few
    # ms, at init in either handler); the relay itself adds no AWS SDK module at all
    assert report["at_init"] == ["botocore"]
    assert report["after_relay"] == report["at_init"]
