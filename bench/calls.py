"""8. Requests per relayed object (issue 14), per mode: the Wix calls the emulator logged, and the
DynamoDB, S3, SQS and Secrets Manager requests the worker process sent, counted at the HTTP
level by a forwarder in front of moto (`bench/awscount.py`: the same count whether boto3 or signed
`requests` calls make them). One warm worker process per mode: one 64 KiB warm-up object (the
container's first: secrets, clients), then `per_object_runs` objects, one SQS-wrapped S3 event
each; the counts are the steady per-object figures (the note says when runs differ). Wix events
are configured (the emulator's public key), as a deployment with events is: the worker does not
poll for readiness. The floors: upload mode 1 Wix API call (generate) + the upload PUT, 1 S3 GET;
resumable 1 API call (generate) + TUS create, one PATCH per chunk and finalize on the upload
host; import mode 1 API call and no S3 request by the relay (Wix pulls the presigned URL, listed
as `presigned` in the note). DynamoDB: 2 writes (the job claimed,
the job done), the floor issue 14 names."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from bench import emulator, events
from bench.awscount import DYNAMODB_WRITES, CountingForwarder, tally
from bench.config import BenchConfig
from bench.procs import failures, run_worker
from bench.report import Row
from bench.stack import BUCKET, Stack
from bench.transfer import put_object

SIZE = 64 * 1024
FLOORS = {
    # mode: (Wix API calls, upload-host calls, S3 requests by the relay, DynamoDB writes)
    "upload": (1, 1, 1, 2),
    "resumable": (1, 3, 1, 2),
    "import": (1, 0, 0, 2),
}


def events_public_key(stack: Stack) -> str:
    import requests

    base = stack.emulator_url or ""
    response = requests.get(f"{base}/_emulator/webhook-public-key", timeout=30)
    response.raise_for_status()
    return response.text


def objects(stack: Stack, prefix: str, count: int) -> list[dict[str, Any]]:
    """`count` fresh 64 KiB objects in moto, one SQS-wrapped S3 event each."""
    out = []
    for n in range(count):
        key = f"{prefix}/object-{n}-{time.time_ns()}.bin"
        out.append(events.s3_sqs_event(BUCKET, [(key, SIZE, put_object(stack, key, SIZE))]))
    return out


def per_object(result: dict[str, Any]) -> dict[str, Any]:
    """One measured invocation's requests, by kind."""
    aws = tally(result["aws_calls"])
    dynamodb = {k.split(" ", 1)[1]: n for k, n in aws.items() if k.startswith("dynamodb ")}
    return {
        "aws": dict(aws),
        "wix": dict(sorted(result["wix_calls"].items())),
        "wix_api": result["wix_api_calls"],
        "wix_upload_host": sum(result["wix_calls"].values()) - result["wix_api_calls"],
        "dynamodb": dynamodb,
        "dynamodb_writes": sum(n for op, n in dynamodb.items() if op in DYNAMODB_WRITES),
        "s3": {k.split(" ", 1)[1]: n for k, n in aws.items() if k.startswith("s3 ")},
        "other_aws": {k: n for k, n in aws.items() if not k.startswith(("dynamodb ", "s3 "))},
    }


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "none"


def mode_row(mode: str, samples: list[dict[str, Any]]) -> Row:
    steady = samples[-1]
    same = all(s == steady for s in samples)
    wix_floor, host_floor, s3_floor, ddb_floor = FLOORS[mode]
    s3_by_relay = {k: n for k, n in steady["s3"].items() if not k.startswith("presigned")}
    s3_total = sum(s3_by_relay.values())
    above = {
        "Wix API": steady["wix_api"] - wix_floor,
        "S3": s3_total - s3_floor,
        "DynamoDB writes": steady["dynamodb_writes"] - ddb_floor,
    }
    over = ", ".join(f"{k} +{v}" for k, v in above.items() if v > 0) or "none"
    reads = sum(n for op, n in steady["dynamodb"].items() if op not in DYNAMODB_WRITES)
    return Row(
        "8",
        f"{mode} mode: requests per relayed object (64 KiB, events configured)",
        ours=(
            f"Wix API {steady['wix_api']} + upload host {steady['wix_upload_host']}; "
            f"DynamoDB writes {steady['dynamodb_writes']}, reads {reads}; S3 {s3_total}"
        ),
        baseline=(
            f"floor: Wix API {wix_floor} + upload host {host_floor}; DynamoDB writes "
            f"{ddb_floor}; S3 {s3_floor}"
        ),
        target="record (floor stated)",
        status="INFO",
        note=(
            f"above the floor: {over}. Wix: {_fmt(steady['wix'])}; DynamoDB: "
            f"{_fmt(steady['dynamodb'])}; S3: {_fmt(steady['s3'])}; other AWS: "
            f"{_fmt(steady['other_aws'])}; "
            + (
                f"same in all {len(samples)} objects"
                if same
                else f"runs differ: {[s['dynamodb_writes'] for s in samples]} writes"
            )
        ),
        data={"samples": samples},
    )


def first_object_extra(first: dict[str, Any], steady: dict[str, Any]) -> str:
    """What the container's first object sent beyond a steady one (secrets, table checks...)."""
    wix = Counter(first["wix"]) - Counter(steady["wix"])
    aws = Counter(first["aws"]) - Counter(steady["aws"])
    return _fmt({**{f"wix {k}": n for k, n in wix.items()}, **dict(aws)})


def run(stack: Stack, cfg: BenchConfig) -> list[Row]:
    rows: list[Row] = []
    key = events_public_key(stack)
    with CountingForwarder(stack.moto_url) as forwarder:
        for mode in FLOORS:
            try:
                emulator.reset(stack)
                stack.clear_idempotency()
                env = stack.env(
                    AWS_ENDPOINT_URL=forwarder.url,
                    BENCH_AWS_COUNT_URL=forwarder.url,
                    RELAY_DEFAULT_MODE=mode,
                    RELAY_UPLOAD_THRESHOLD_BYTES="1" if mode == "resumable" else str(1 << 34),
                    WIX_EVENTS_PUBLIC_KEY=key,
                )
                measured = objects(stack, f"calls/{mode}", 1 + cfg.per_object_runs)
                results = run_worker(env, measured, sample_interval_s=1.0)
                for result in results:
                    if failures(result["response"]):
                        raise RuntimeError(f"worker failures: {result['response']}")
                first, *samples = [per_object(r) for r in results]
                row = mode_row(mode, samples)
                row.note += (
                    f"; the container's first object also: {first_object_extra(first, samples[-1])}"
                )
                row.data["first"] = first
                rows.append(row)
                if mode == "import":
                    emulator.wait_settled(stack)
            except Exception as exc:  # one mode must not sink the others
                rows.append(Row.error("8", f"{mode} mode: requests per relayed object", "", exc))
    return rows
