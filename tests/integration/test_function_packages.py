"""The worker and the callback consumer never import PyJWT or `cryptography` (their packages do
not ship them, tests/infrastructure/test_packages.py), and their SnapStart hooks run.

Each handler runs in a fresh interpreter, as in Lambda: an import finder records every attempt
to import `jwt` or `cryptography` (from any code), a fake `snapshot_restore_py` collects the
hooks the handler registers, and the child runs them as Lambda would (before-snapshot hooks in
reverse order of registration, then the after-restore hooks) before its first event. The events
are real: an S3 object relayed to the Wix emulator with Wix events *on* (the path that used to
parse the app's public key), and a partner callback delivered to a loopback receiver.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from tests.fixtures.callbacks import CallbackReceiver, WixAppKey
from tests.fixtures.readiness import CALLBACK_SECRET, readiness_registry
from tests.fixtures.worker import WorkerRig
from wix_relay.domain.callbacks import CallbackMessage, encode_event

ROOT = Path(__file__).resolve().parents[2]
FAKE_HOOKS = """
before, after = [], []
def register_before_snapshot(func, *args, **kwargs):
    before.append(lambda: func(*args, **kwargs))
def register_after_restore(func, *args, **kwargs):
    after.append(lambda: func(*args, **kwargs))
"""
CHILD = """
import json, sys
attempts = []

class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("jwt", "cryptography"):
            attempts.append(name)
        return None

sys.meta_path.insert(0, Recorder())
import importlib
import snapshot_restore_py as hooks
from local_stack.lambda_context import LambdaContext

module = importlib.import_module(sys.argv[1])
for hook in reversed(hooks.before):
    hook()
primed = set(sys.modules)
for hook in hooks.after:
    hook()
event = json.loads(open(sys.argv[2]).read())
result = module.handler(event, LambdaContext(sys.argv[1], timeout_s=60))
with open(sys.argv[3], "w") as out:
    json.dump({
        "result": result,
        "attempts": attempts,
        "hooks": [len(hooks.before), len(hooks.after)],
        "loaded_by_first_event": sorted(set(sys.modules) - primed),
    }, out)
"""
HEAVY = ("requests", "urllib3", "boto3", "botocore")
"""Third-party packages the first event needs: primed, they are in the snapshot."""


def run_handler(
    tmp_path: Path, module: str, event: dict[str, Any], env: dict[str, str]
) -> dict[str, Any]:
    (tmp_path / "snapshot_restore_py.py").write_text(FAKE_HOOKS)
    (tmp_path / "event.json").write_text(json.dumps(event))
    out = tmp_path / "out.json"
    path = os.pathsep.join(str(p) for p in (tmp_path, ROOT / "src", ROOT / "devtools", ROOT))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, module, str(tmp_path / "event.json"), str(out)],
        env={**os.environ, **env, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def not_primed(report: dict[str, Any]) -> list[str]:
    return [
        name
        for name in report["loaded_by_first_event"]
        if name.startswith("wix_relay") or name.partition(".")[0] in HEAVY
    ]


def test_the_worker_relays_with_events_on_without_jwt_and_primed(
    tmp_path: Path, worker_rig: WorkerRig, wix_app_key: WixAppKey
) -> None:
    put = worker_rig.put("inbox/package-check.jpg")
    env = {**worker_rig.env, "WIX_EVENTS_PUBLIC_KEY": wix_app_key.public_pem}
    event = worker_rig.sqs_event(worker_rig.s3_event(put))

    report = run_handler(tmp_path, "wix_relay.handlers.worker", event, env)

    assert report["result"] == {"batchItemFailures": []}
    (job,) = worker_rig.jobs()
    assert job.status == "uploaded"  # events on: the job waits for Wix's file-ready event
    assert len(worker_rig.files()) == 1
    assert report["attempts"] == []
    assert report["hooks"] == [1, 1]
    missing = not_primed(report)
    assert missing == [], f"the first record imported what PRIMED lacks: {missing}"


def test_the_callback_consumer_delivers_without_jwt(
    tmp_path: Path, aws: str, callback_receiver: CallbackReceiver
) -> None:
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="relay-callbacks")["QueueUrl"]
    registry = readiness_registry("https://issuer.example.com/jwks", callback_receiver.url)
    message = CallbackMessage(
        webhook_id="msg_package_check",
        url=callback_receiver.url,
        callback_ref="partner-open",
        body=encode_event(
            {"type": "import.ready", "timestamp": "t", "data": {"id": "imp-1"}}
        ).decode("utf-8"),
    )
    record = {
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": message.to_json(),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:relay-callbacks",
        "awsRegion": "us-east-1",
    }
    env = {
        "AWS_ENDPOINT_URL": aws,
        "AWS_REGION": "us-east-1",
        "RELAY_CALLERS_JSON": json.dumps(registry),
        "RELAY_CALLBACK_QUEUE_URL": queue_url,
        "RELAY_CALLBACK_ALLOW_LOOPBACK": "true",
    }

    report = run_handler(tmp_path, "wix_relay.handlers.callbacks", {"Records": [record]}, env)

    assert report["result"] == {"batchItemFailures": []}
    (delivery,) = callback_receiver.deliveries
    assert delivery.headers["webhook-id"] == "msg_package_check"
    assert CALLBACK_SECRET.startswith("whsec_")
    assert report["attempts"] == []
    assert report["hooks"] == [0, 0]  # no SnapStart for the callback consumer
