"""The whole local stack over HTTP, with the relay's real handlers: moto in server mode, the Wix
emulator, the API function behind the local gateway and the worker on its queue."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import requests
from local_stack.bootstrap import aws_client
from local_stack.child import REPO_ROOT
from local_stack.sample import sample_png

from tests.fixtures.local_stack import DEV_API_KEY, emulator_files, function_logs, wait_for

KEY = {"x-api-key": DEV_API_KEY}


def relay(stack: Any, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{stack.relay_url}{path}", timeout=30, **kwargs)


def stored(stack: Any, folder: str, name: str) -> dict[str, Any] | None:
    for entry in emulator_files(stack):
        if entry["folderPath"] == folder and entry["displayName"] == name:
            return entry
    return None


def test_health(local_stack: Any) -> None:
    response = relay(local_stack, "GET", "/v1/health")
    assert response.status_code == 200, function_logs(local_stack)
    assert response.json() == {"status": "ok"}
    assert response.headers["apigw-requestid"]


def test_unknown_key_is_refused(local_stack: Any) -> None:
    response = relay(
        local_stack,
        "POST",
        "/v1/upload-url",
        headers={"x-api-key": "not-a-key"},
        json={"mimeType": "image/png", "fileName": "a.png", "sizeInBytes": "10"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["requestId"]


def test_cors_preflight_from_the_demo_origin(local_stack: Any) -> None:
    origin = local_stack.demo_url
    response = relay(
        local_stack,
        "OPTIONS",
        "/v1/upload-url",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key",
        },
    )
    assert response.status_code in {200, 204}
    assert response.headers["Access-Control-Allow-Origin"] == origin
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "x-api-key" in allowed and "content-type" in allowed


def test_upload_url_then_put_to_the_emulator(local_stack: Any) -> None:
    data = sample_png(32, 16)
    folder = f"/dev/e2e-{uuid.uuid4().hex[:8]}"
    response = relay(
        local_stack,
        "POST",
        "/v1/upload-url",
        headers=KEY,
        json={
            "mimeType": "image/png",
            "fileName": "upload.png",
            "sizeInBytes": str(len(data)),
            "filePath": folder,
        },
    )
    assert response.status_code == 200, response.text
    upload_url = response.json()["uploadUrl"]
    assert upload_url.startswith(local_stack.emulator_url)

    put = requests.put(upload_url, data=data, headers={"Content-Type": "image/png"}, timeout=30)
    assert put.status_code == 200, put.text
    descriptor = put.json()["file"]
    entry = stored(local_stack, folder, "upload.png")
    assert entry is not None
    assert entry["id"] == descriptor["id"]
    assert entry["md5"] == hashlib.md5(data).hexdigest()


def test_s3_object_in_the_inbox_arrives_in_wix_at_its_folder(local_stack: Any) -> None:
    data = sample_png(20, 20)
    folder = f"/any/folder-{uuid.uuid4().hex[:8]}"
    aws_client("s3", local_stack.aws_url).put_object(
        Bucket=local_stack.deployed.inbox_bucket,
        Key=f"{folder.lstrip('/')}/photo.png",
        Body=data,
        ContentType="image/png",
    )
    entry = wait_for(
        lambda: stored(local_stack, folder, "photo.png"),
        f"photo.png in the emulator at {folder}",
        local_stack,
    )
    assert entry["md5"] == hashlib.md5(data).hexdigest()
    assert entry["size"] == len(data)


def test_partner_import_and_poll(local_stack: Any) -> None:
    data = sample_png(8, 8)
    key = f"imports/{uuid.uuid4().hex[:8]}/beach day.png"
    aws_client("s3", local_stack.aws_url).put_object(
        Bucket=local_stack.deployed.inbox_bucket, Key=key, Body=data, ContentType="image/png"
    )
    folder = f"/dev/imports-{uuid.uuid4().hex[:8]}"
    body = {"bucket": local_stack.deployed.inbox_bucket, "key": key, "filePath": folder}
    headers = {**KEY, "Idempotency-Key": uuid.uuid4().hex}
    created = relay(local_stack, "POST", "/v1/imports", headers=headers, json=body)
    assert created.status_code == 202, created.text
    job = created.json()
    assert job["status"] == "queued"
    assert created.headers["Location"].endswith(f"/v1/imports/{job['id']}")
    again = relay(local_stack, "POST", "/v1/imports", headers=headers, json=body)
    assert again.json()["id"] == job["id"]  # the Idempotency-Key returns the first job

    def finished() -> dict[str, Any] | None:
        polled = relay(local_stack, "GET", f"/v1/imports/{job['id']}", headers=KEY).json()
        return polled if polled["status"] in {"ready", "failed"} else None

    final = wait_for(finished, f"import job {job['id']} to finish", local_stack)
    assert final["status"] == "ready", final
    entry = stored(local_stack, folder, "beach day.png")
    assert entry is not None
    assert entry["id"] == final["file"]["id"]
    assert entry["md5"] == hashlib.md5(data).hexdigest()


def invoke(stack: Any, function: str, event: str) -> dict[str, Any]:
    state_dir = str(stack.config.state_dir)
    result = subprocess.run(
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
    assert result.returncode == 0, result.stderr
    response: dict[str, Any] = json.loads(result.stdout)
    return response


def test_invoke_runs_one_event_against_the_stack(local_stack: Any) -> None:
    health = invoke(local_stack, "api", "events/api/health.json")
    assert health["statusCode"] == 200
    # The event's ${RELAY_DEV_API_KEY} placeholder is filled with the stack's dev key.
    upload = invoke(local_stack, "api", "events/api/upload-url.json")
    assert upload["statusCode"] == 200, upload
    assert json.loads(upload["body"])["uploadUrl"].startswith(local_stack.emulator_url)


def test_env_file_names_what_invoke_needs(local_stack: Any) -> None:
    document = json.loads(Path(local_stack.env_file).read_text())
    assert document["devApiKey"] == DEV_API_KEY
    assert set(document["functions"]) == {"api", "worker", "callbacks"}


def test_the_printed_commands_work(local_stack: Any, tmp_path: Path) -> None:
    """Paste the banner's commands into bash, as a developer would after `make run`."""
    from local_stack.__main__ import usage

    sample = tmp_path / "sample.png"
    sample.write_bytes(png := sample_png())
    banner = usage(local_stack, str(sample), len(png), sys.executable)
    commands = banner.split("Try it", 1)[1].split("\n", 1)[1].splitlines()
    if shutil.which("aws") is None:  # the boto3 line that follows does the same upload
        at = next(i for i, line in enumerate(commands) if "AWS_ACCESS_KEY_ID=" in line)
        del commands[at : at + 2]
    script = "set -euo pipefail\n" + "\n".join(commands)
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert '"status":"ok"' in result.stdout.replace(" ", "")
    compact = result.stdout.replace(" ", "")  # the upload's callback, at the receiver:
    assert '"type":"upload.ready"' in compact and '"verified":true' in compact, result.stdout
    assert stored(local_stack, "/dev", "sample.png") is not None  # the upload-URL flow
    entry = wait_for(
        lambda: stored(local_stack, "/any/folder", "photo.png"), "the S3 flow", local_stack
    )
    assert entry["md5"] == hashlib.md5(png).hexdigest()
