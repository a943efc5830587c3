"""9. Readiness (issue 12): Wix calls and worker invocation time per relayed object, with Wix
events configured against the polling fallback, with a Wix processing time of a few seconds
(an emulator of this section's own, `WIX_EMULATOR_PROCESSING_MS` = 3000).

- events on (the emulator's public key configured): the worker's invocation ends after the
  upload; Wix's File Ready event moves the job later, outside the worker (0 get-file calls).
- events off (no public key): the worker queues a delayed readiness check (SQS `DelaySeconds`,
  `RELAY_READY_CHECK_DELAY_SECONDS` = 5 doubling, at most `RELAY_READY_CHECKS` = 10, the
  defaults); the child then invokes the handler with what comes back on the queue, as Lambda's
  event source would, until the queue is empty: each check is a short invocation with one
  get-file call per object, and no invocation waits for Wix.
- the old in-Lambda wait, for comparison: `WixMediaClient.wait_until_ready` after the same
  upload, as the worker called it before commit e925817 (get-file at once, then after 0.5 s
  doubling to 5 s, up to 60 s); the old invocation ≈ the upload invocation + that wait.

Objects of 64 KiB in upload mode, one SQS-wrapped S3 event each, in one warm worker process per
variant (a warm-up object first; its readiness checks are counted with the others)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import requests

from bench.awscount import DYNAMODB_WRITES, CountingForwarder
from bench.calls import objects
from bench.config import BenchConfig
from bench.procs import failures, run_json_child, run_worker
from bench.report import Row, verdict
from bench.stack import (
    SERVER_ENV,
    WIX_API_KEY,
    WIX_SITE_ID,
    Stack,
    base_env,
    spawn_server,
    stop_server,
)

PROCESSING_MS = 3000
CHECK_DELAY_S = 5
CHECKS = 10
OLD_WAIT_S = 60.0


def variant(
    stack: Stack, emulator_url: str, count: int, *, public_key: str | None, aws_count_url: str
) -> dict[str, Any]:
    """One warm worker process: a warm-up object, then `count` objects, then the readiness
    checks they queue (events off). Per-object figures."""
    stack.clear_idempotency()
    name = f"bench-readiness-{'events' if public_key else 'polling'}-{time.time_ns()}"
    queue_url = stack.boto("sqs").create_queue(QueueName=name)["QueueUrl"]  # empty, its own
    env = stack.env(
        RELAY_QUEUE_URL=queue_url,
        AWS_ENDPOINT_URL=aws_count_url,
        BENCH_AWS_COUNT_URL=aws_count_url,
        WIX_API_BASE_URL=emulator_url,
        BENCH_EMULATOR_URL=emulator_url,
        WIX_UPLOAD_HOSTS=emulator_url.split("://", 1)[1],
        RELAY_DEFAULT_MODE="upload",
        RELAY_READY_CHECKS=str(CHECKS),
        RELAY_READY_CHECK_DELAY_SECONDS=str(CHECK_DELAY_S),
    )
    if public_key:
        env["WIX_EVENTS_PUBLIC_KEY"] = public_key
    batch = objects(stack, f"readiness/{'events' if public_key else 'polling'}", 1 + count)
    follow = {"queue_url": queue_url, "endpoint_url": stack.moto_url, "max_s": 120}
    results = run_worker(env, batch[1:], warm=batch[:1], sample_interval_s=1.0, follow_queue=follow)
    for result in results:
        if failures(result["response"]):
            raise RuntimeError(f"worker failures: {result['response']}")
    uploads = [r for r in results if not r.get("follow")]
    checks = [r for r in results if r.get("follow")]
    queued = count + 1  # the warm-up object's checks are on the queue too
    check_calls = sum(r["wix_api_calls"] for r in checks)
    upload_ms = statistics.median(r["seconds"] * 1000 for r in uploads)
    check_ms = sum(r["seconds"] * 1000 for r in checks)

    def writes(results: list[dict[str, Any]]) -> tuple[int, int]:
        """DynamoDB writes and SQS sends of these invocations."""
        entries = [e for r in results for e in r["aws_calls"]]
        ddb = sum(
            1 for e in entries if e["service"] == "dynamodb" and e["operation"] in DYNAMODB_WRITES
        )
        sends = sum(1 for e in entries if e["service"] == "sqs" and e["operation"] == "SendMessage")
        return ddb, sends

    upload_writes, upload_sends = writes(uploads[-1:])
    check_writes, check_sends = writes(checks)
    return {
        "dynamodb_writes_per_object": upload_writes + check_writes / queued,
        "sqs_sends_per_object": upload_sends + check_sends / queued,
        "objects": count,
        "wix_api_per_object": statistics.median(r["wix_api_calls"] for r in uploads)
        + check_calls / queued,
        "get_file_per_object": check_calls / queued,
        "upload_invocation_ms": upload_ms,
        "check_invocations": len(checks),
        "check_records": sum(r["records"] for r in checks),
        "check_ms_per_object": check_ms / queued,
        "worker_ms_per_object": upload_ms + check_ms / queued,
        "longest_invocation_ms": max(r["seconds"] * 1000 for r in results),
        "confirmed_after_s": max((r["at"] + r["seconds"] for r in checks), default=0.0),
        "check_times_s": [round(r["at"], 1) for r in checks],
    }


def old_wait(stack: Stack, emulator_url: str, count: int) -> dict[str, Any]:
    env = stack.env(
        WIX_API_BASE_URL=emulator_url,
        BENCH_EMULATOR_URL=emulator_url,
        WIX_UPLOAD_HOSTS=emulator_url.split("://", 1)[1],
        BENCH_WIX_API_KEY=WIX_API_KEY,
        BENCH_WIX_SITE_ID=WIX_SITE_ID,
    )
    out = run_json_child(["bench.readiness_child", str(count), str(OLD_WAIT_S)], env, "bench", 300)
    waits: list[dict[str, Any]] = out["waits"]
    return {
        "wait_ms": statistics.median(w["seconds"] * 1000 for w in waits),
        "get_file": statistics.median(w["get_file_calls"] for w in waits),
        "statuses": sorted({w["status"] for w in waits}),
    }


def run(stack: Stack, cfg: BenchConfig) -> list[Row]:
    env = {**base_env(), **SERVER_ENV, "WIX_EMULATOR_PROCESSING_MS": str(PROCESSING_MS)}
    proc, url = spawn_server("emulator", env=env)
    try:
        key = requests.get(f"{url}/_emulator/webhook-public-key", timeout=30).text
        count = cfg.readiness_objects
        with CountingForwarder(stack.moto_url) as forwarder:
            on = variant(stack, url, count, public_key=key, aws_count_url=forwarder.url)
            off = variant(stack, url, count, public_key=None, aws_count_url=forwarder.url)
        old = old_wait(stack, url, count)
    finally:
        stop_server(proc)
    old_ms = on["upload_invocation_ms"] + old["wait_ms"]
    old_calls = 1 + old["get_file"]
    processing = f"Wix processing {PROCESSING_MS / 1000:g} s"
    rows = [
        Row(
            "9",
            f"readiness, events on: Wix API calls and worker time per object ({processing})",
            ours=f"{on['wix_api_per_object']:.2f} calls, {on['worker_ms_per_object']:.0f} ms",
            baseline=f"old in-Lambda wait: {old_calls:g} calls, {old_ms:.0f} ms",
            ratio=on["worker_ms_per_object"] / old_ms,
            target="1 call (generate), no invocation waits for processing",
            status=verdict(
                on["wix_api_per_object"] == 1
                and on["check_invocations"] == 0
                and on["longest_invocation_ms"] < PROCESSING_MS
            ),
            note=(
                f"{count} objects; one invocation each ({on['upload_invocation_ms']:.0f} ms "
                f"median), {on['get_file_per_object']:.0f} get-file calls, "
                f"{on['check_invocations']} check invocations, DynamoDB writes "
                f"{on['dynamodb_writes_per_object']:.1f}, SQS sends "
                f"{on['sqs_sends_per_object']:.1f};"
                f" the File Ready event moves the "
                f"job outside the worker (its delivery is not timed here). Old wait: "
                f"`wait_until_ready` after the same upload, {old['wait_ms']:.0f} ms median, "
                f"{old['get_file']:g} get-file calls, ended {'/'.join(old['statuses'])}"
            ),
            data={"events_on": on, "old_wait": old},
        ),
        Row(
            "9",
            f"readiness, events off (delayed SQS checks, {CHECK_DELAY_S} s doubling): Wix API "
            f"calls and worker time per object ({processing})",
            ours=f"{off['wix_api_per_object']:.2f} calls, {off['worker_ms_per_object']:.0f} ms",
            baseline=f"old in-Lambda wait: {old_calls:g} calls, {old_ms:.0f} ms",
            ratio=off["worker_ms_per_object"] / old_ms,
            target=f"no invocation waits for processing (< {PROCESSING_MS / 1000:g} s)",
            status=verdict(off["longest_invocation_ms"] < PROCESSING_MS),
            note=(
                f"upload invocation {off['upload_invocation_ms']:.0f} ms + "
                f"{off['check_ms_per_object']:.0f} ms of checks per object; DynamoDB writes "
                f"{off['dynamodb_writes_per_object']:.1f}, SQS sends (checks) "
                f"{off['sqs_sends_per_object']:.1f} per object; "
                f"{off['get_file_per_object']:.2f} get-file calls per object in "
                f"{off['check_invocations']} check invocations ({off['check_records']} records) "
                f"at {off['check_times_s']} s; ready confirmed {off['confirmed_after_s']:.1f} s "
                f"after the first upload; longest invocation {off['longest_invocation_ms']:.0f} ms"
                " (ratio: worker time vs the old wait)"
            ),
            data={"events_off": off, "old_wait": old},
        ),
    ]
    return rows
