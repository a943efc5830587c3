"""The local stack the benchmarks run on, started by the harness itself on free loopback ports:
moto in server mode and the Wix emulator, each in its own process, plus the AWS resources the
relay needs (bucket, secrets, tables, queue) and the environment given to every child process."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.report import REPO

REGION = "us-east-1"
BUCKET = "bench-inbox"
WIX_SECRET_ID = "bench/wix-credentials"
CALLERS_SECRET_ID = "bench/callers"
JOBS_TABLE = "bench-jobs"
IDEMPOTENCY_TABLE = "bench-idempotency"
QUEUE = "bench-queue"
API_KEY = "bench-" + secrets.token_hex(16)
WIX_API_KEY = "bench-wix-key"
WIX_SITE_ID = "bench-site"
FOLDER = "/bench"

SERVER_ENV = {
    "WIX_EMULATOR_PORT": "0",
    "WIX_EMULATOR_HOST": "127.0.0.1",
    "WIX_EMULATOR_API_KEY": WIX_API_KEY,
    "WIX_EMULATOR_SITE_ID": WIX_SITE_ID,
    # The upload's answer does not wait for the MD5 (computed on first read): the emulator's
    # hashing is then not part of what the transfer and ingest rows measure.
    "WIX_EMULATOR_HASH_AFTER_ANSWER": "1",
}

AWS_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def python_path() -> str:
    return os.pathsep.join(str(REPO / p) for p in ("src", "devtools", "."))


def base_env() -> dict[str, str]:
    """The process environment for children: no AWS profile, our import path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WIX_", "RELAY_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = python_path()
    env.update(AWS_ENV)
    return env


def spawn_server(
    kind: str, timeout_s: float = 60.0, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.servers", kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env=env or {**base_env(), **SERVER_ENV},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    line = proc.stdout.readline()
    if not line or time.monotonic() > deadline:
        proc.kill()
        raise RuntimeError(f"{kind} server did not start")
    info = json.loads(line)
    if "error" in info:
        proc.kill()
        raise RuntimeError(f"{kind} server: {info['error']}")
    return proc, info["url"]


def stop_server(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(Exception):
        assert proc.stdin is not None
        proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Stack:
    moto_url: str
    emulator_url: str | None
    emulator_error: str | None = None
    pycache: str = ""
    queue_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    server_pids: dict[str, int] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    """Figures one section hands to another (e.g. the relay's upload rate to the ingest row)."""

    def boto(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.moto_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def env(self, **overrides: str) -> dict[str, str]:
        """Environment for a relay or conventional child: the same for both."""
        env = base_env()
        env.update(
            {
                "AWS_ENDPOINT_URL": self.moto_url,
                "PYTHONPYCACHEPREFIX": self.pycache,
                "POWERTOOLS_SERVICE_NAME": "wix-media-relay",
                "POWERTOOLS_METRICS_NAMESPACE": "WixMediaRelayBench",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "AWS_LAMBDA_FUNCTION_NAME": "bench-function",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
                "WIX_CREDENTIALS_SECRET_ID": WIX_SECRET_ID,
                "RELAY_CALLERS_SECRET_ID": CALLERS_SECRET_ID,
                "RELAY_JOBS_TABLE": JOBS_TABLE,
                "RELAY_IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
                "RELAY_QUEUE_URL": self.queue_url,
                "RELAY_FOLDER_ROOT": FOLDER,
                "RELAY_READY_CHECKS": "0",  # no readiness follow-up (the baselines have none)
                "BENCH_API_KEY": API_KEY,
                "BENCH_SERVER_PIDS": ",".join(f"{k}:{v}" for k, v in self.server_pids.items()),
            }
        )
        if self.emulator_url:
            env["WIX_API_BASE_URL"] = self.emulator_url
            env["BENCH_EMULATOR_URL"] = self.emulator_url
            env["WIX_UPLOAD_HOSTS"] = self.emulator_url.split("://", 1)[1]
        env.update(self.extra_env)
        env.update(overrides)
        return env

    # --- AWS resources ---------------------------------------------------------------------
    def create_resources(self) -> None:
        s3 = self.boto("s3")
        s3.create_bucket(Bucket=BUCKET)
        sm = self.boto("secretsmanager")
        sm.create_secret(
            Name=WIX_SECRET_ID,
            SecretString=json.dumps({"apiKey": WIX_API_KEY, "siteId": WIX_SITE_ID}),
        )
        sm.create_secret(Name=CALLERS_SECRET_ID, SecretString=json.dumps(callers_document()))
        ddb = self.boto("dynamodb")
        for table in (JOBS_TABLE, IDEMPOTENCY_TABLE):
            ddb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        self.queue_url = self.boto("sqs").create_queue(QueueName=QUEUE)["QueueUrl"]

    def clear_idempotency(self) -> None:
        """Forget processed events so the same object can be relayed again."""
        ddb = self.boto("dynamodb")
        for table in (IDEMPOTENCY_TABLE, JOBS_TABLE):
            items = ddb.scan(TableName=table, ProjectionExpression="id").get("Items", [])
            for item in items:
                ddb.delete_item(TableName=table, Key={"id": item["id"]})


def callers_document() -> dict[str, Any]:
    return {
        "apiKeys": [
            {
                "id": "bench-partner",
                "sha256": hashlib.sha256(API_KEY.encode()).hexdigest(),
                "policy": {
                    "folders": [FOLDER],
                    "defaultFolder": FOLDER,
                    "mimeTypes": ["*/*"],
                    "maxSizeBytes": 4 * 1024**3,
                    "allowPrivate": True,
                    "importSources": [{"bucket": BUCKET, "prefix": ""}],
                },
            }
        ]
    }


@contextlib.contextmanager
def running_stack() -> Iterator[Stack]:
    procs: list[subprocess.Popen[str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache:
        try:
            moto, moto_url = spawn_server("moto")
            procs.append(moto)
            emulator_url: str | None = None
            emulator_error: str | None = None
            try:
                emu, emulator_url = spawn_server("emulator")
                procs.append(emu)
            except Exception as exc:  # reported in the rows that need it
                emulator_error = str(exc)
            stack = Stack(moto_url, emulator_url, emulator_error, pycache)
            pids = (proc.pid for proc in procs)
            stack.server_pids = dict(zip(("moto", "emulator"), pids, strict=False))
            stack.create_resources()
            yield stack
        finally:
            for proc in procs:
                stop_server(proc)
