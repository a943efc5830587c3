"""Event-to-status latency over real HTTP (a measurement, not a test).

    python tests/integration/readiness/latency_probe.py [N]        # PYTHONPATH=src:devtools:.

moto in server mode (jobs table, secret), the Wix emulator with its webhooks pointed at the relay's
API function served by the local gateway (a second gateway answers the status reads, as a second
Lambda container would). For each of N uploads: upload URL, PUT, then the emulator's clock is
advanced so the file becomes READY *now*; the time is taken from that moment until the status
route answers `ready` (the emulator's finisher signs and POSTs File Ready, the relay verifies,
de-duplicates, correlates and writes; the reader polls `GET /v1/uploads/{id}` every 10 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import boto3
import requests
from local_stack.gateway import LocalGateway
from moto.server import ThreadedMotoServer
from wix_emulator import EmulatorConfig, start_emulator

from tests.fixtures.readiness import PNG

KEY = "latency-probe-key"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=20)
    args = parser.parse_args()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    aws = f"http://{host}:{port}"
    emulator = start_emulator(EmulatorConfig(processing_ms=3_600_000), port=0)
    env = {
        "AWS_ENDPOINT_URL": aws,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "RELAY_JOBS_TABLE": "relay-jobs",
        "WIX_CREDENTIALS_SECRET_ID": "wix",
        "WIX_API_BASE_URL": emulator.url,
        "WIX_UPLOAD_HOSTS": emulator.upload_host,
        "WIX_EVENTS_PUBLIC_KEY": emulator.webhook_public_key,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "RELAY_CALLERS_JSON": json.dumps(
            {
                "apiKeys": [
                    {
                        "id": "probe",
                        "sha256": __import__("hashlib").sha256(KEY.encode()).hexdigest(),
                        "policy": {"folders": ["/"], "mimeTypes": ["*/*"]},
                    }
                ]
            }
        ),
    }
    os.environ.update(env)
    boto3.client("dynamodb").create_table(
        TableName="relay-jobs",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("secretsmanager").create_secret(
        Name="wix", SecretString=json.dumps(emulator.credentials_document())
    )
    from wix_relay.handlers import api

    callers, events = (
        LocalGateway(api.handler, function_name="api", access_log=False).start() for _ in range(2)
    )
    emulator.set_webhook_urls(events.url + "/v1/wix/events")
    session = requests.Session()
    session.headers["x-api-key"] = KEY
    latencies = []
    try:
        for i in range(args.n):
            issued = session.post(
                callers.url + "/v1/upload-url",
                json={"mimeType": "image/png", "fileName": f"p{i}.png"},
                timeout=10,
            ).json()
            put = requests.put(
                issued["uploadUrl"], data=PNG, headers={"Content-Type": "image/png"}, timeout=10
            )
            assert put.status_code == 200, put.text
            started = time.perf_counter()
            emulator.advance_clock(3601)
            while True:
                doc = session.get(callers.url + issued["statusUrl"], timeout=10).json()
                if doc["status"] == "ready":
                    break
                assert time.perf_counter() - started < 30, doc
                time.sleep(0.01)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        callers.stop()
        events.stop()
        emulator.stop()
        moto.stop()
    latencies.sort()
    print(
        f"{args.n} uploads, event to status ready: p50 {statistics.median(latencies):.0f} ms, "
        f"p90 {latencies[int(0.9 * (len(latencies) - 1))]:.0f} ms, max {latencies[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
