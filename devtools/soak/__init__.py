"""`make soak`: N objects through the local stack while the Wix emulator injects faults (429 with
`Retry-After`, 500, 503, connection cuts mid-upload) and S3 notifications are delivered more than
once; then count, in the emulator, what arrived, what was lost and what arrived twice, and what
ended in the dead-letter queue. Target: 0 lost, 0 duplicated, DLQ only for permanent refusals
(this run sends none, so 0).

The objects go to a versioned bucket of their own, and the soak sends each object's S3
notification itself (S3's own shape, with `versionId`), so a duplicate is the *identical*
message S3's at-least-once delivery can repeat: some right after the first, some once the first
has been handled (a late replay). `--mixed-duplicates` sends the duplicate without `versionId`
(as moto or an S3 -> SQS replay does) — the stronger variant of issue 9 §1.

    python -m soak --objects 100 --seed 1        (= make soak SOAK_ARGS="--objects 100")

`--burst` (issue 14): a burst of objects under Wix's rate limit instead — the emulator's limit
scaled up (`--rate`, calls a minute), `--workers` worker processes polling the queue at once, the
template's 5,400 s visibility timeout, no faults. It reports the drain time against the floor
(the Wix API calls the objects needed ÷ the rate), the 429s, the records the worker brought back
early after a throttle, the records left waiting the full visibility timeout, and the DLQ.

    python -m soak --burst --objects 250 --rate 600 --workers 4 [--pace] [--json]

`--pace` turns the relay's own pacing on: `WIX_CALLS_PER_MINUTE` = the rate ÷ the worker processes
(the limit is per app instance, the pacing per container). `make bench`'s "burst" rows run this
(`bench/burst.py`) and read the `--json` line.
"""

from __future__ import annotations

import json
import random
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from local_stack.bootstrap import aws_client
from local_stack.resources import QUEUE_VISIBILITY_TIMEOUT_S
from local_stack.sample import sample_png
from local_stack.stack import RunningStack, StackConfig, start_stack

SOAK_BUCKET = "wix-relay-soak"
FAULTS: tuple[dict[str, Any], ...] = (
    {"endpoint": "generate-upload-url", "status": 429, "retryAfter": 1},
    {"endpoint": "generate-upload-url", "status": 500},
    {"endpoint": "generate-upload-url", "status": 503},
    {"endpoint": "upload", "status": 503},
    {"endpoint": "upload", "status": 429, "retryAfter": 1},
    {"endpoint": "upload", "cutAfterBytes": 64},
)
"""What the injector picks from, one fault at a time (endpoint names: docs/emulator.md)."""


@dataclass
class SoakResult:
    objects: int
    notifications: int
    duplicates_sent: int
    faults_injected: Counter[str] = field(default_factory=Counter)
    wix_answers: Counter[str] = field(default_factory=Counter)
    """The emulator's log of Wix calls by status (`cut` = connection reset without an answer)."""
    arrived: int = 0
    lost: int = 0
    duplicated: int = 0
    dlq: int = 0
    seconds: float = 0.0
    lost_keys: list[str] = field(default_factory=list)
    duplicated_keys: list[str] = field(default_factory=list)

    def table(self) -> str:
        faults = ", ".join(f"{k} x{v}" for k, v in sorted(self.faults_injected.items()))
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(self.wix_answers.items()))
        rows = [
            ("objects", str(self.objects)),
            ("notifications", f"{self.notifications} ({self.duplicates_sent} duplicates)"),
            ("faults injected", faults or "none"),
            ("Wix answers", answers),
            ("arrived", str(self.arrived)),
            ("lost", str(self.lost) + (f"  {self.lost_keys[:5]}" if self.lost_keys else "")),
            (
                "duplicated",
                str(self.duplicated)
                + (f"  {self.duplicated_keys[:5]}" if self.duplicated_keys else ""),
            ),
            ("DLQ", str(self.dlq)),
            ("took", f"{self.seconds:.1f} s"),
        ]
        return "\n".join(f"  {name:<16}{value}" for name, value in rows)


def soak_config(base: Path, **overrides: Any) -> StackConfig:
    """The local stack on free ports, with a short visibility timeout so that a failed message
    comes back within the run (deployed: 5400 s)."""
    config = StackConfig(
        relay_port=0,
        emulator_port=0,
        aws_port=0,
        demo_port=0,
        state_dir=base / "state",
        log_dir=base / "logs",
        visibility_timeout_s=6,
    )
    return replace(config, **overrides)


def notification(bucket: str, key: str, head: dict[str, Any], *, version: bool) -> str:
    """The S3 event notification S3 sends for a put (as SQS carries it)."""
    obj: dict[str, Any] = {
        "key": key,
        "size": head["ContentLength"],
        "eTag": head["ETag"].strip('"'),
        "sequencer": f"{time.time_ns():018X}",
    }
    if version:
        obj["versionId"] = head["VersionId"]
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "soak",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": obj,
        },
    }
    return json.dumps({"Records": [record]})


class Emulator:
    """The emulator's control API (docs/emulator.md), over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url

    def control(self, method: str, path: str, body: Any = None) -> Any:
        import requests

        response = requests.request(method, f"{self.url}/_emulator/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()


class FaultInjector:
    """Every `interval_s`, unless the last fault is still pending, adds one (a seeded choice
    from FAULTS, count 1) until stopped."""

    def __init__(self, emulator: Emulator, rng: random.Random, interval_s: float) -> None:
        self.emulator, self.rng, self.interval_s = emulator, rng, interval_s
        self.injected: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-faults", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            if self.emulator.control("GET", "faults")["faults"]:
                continue  # one pending fault at a time: the rate follows the calls
            fault = self.rng.choice(FAULTS)
            self.emulator.control("POST", "faults", {**fault, "count": 1})
            self.injected[f"{fault['endpoint']} {fault.get('status', 'cut')}"] += 1

    def __enter__(self) -> FaultInjector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.emulator.control("DELETE", "faults")


def run_soak(
    stack: RunningStack,
    objects: int,
    *,
    seed: int = 1,
    duplicate_share: float = 0.3,
    fault_interval_s: float = 0.5,
    mixed_duplicates: bool = False,
    timeout_s: float | None = None,
) -> SoakResult:
    """Put `objects` objects through the running stack under faults and duplicate deliveries."""
    if stack.emulator_url is None:
        raise ValueError("the soak needs the Wix emulator (not real Wix credentials)")
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]
    s3, sqs = aws_client("s3", stack.aws_url), aws_client("sqs", stack.aws_url)
    s3.create_bucket(Bucket=SOAK_BUCKET)
    s3.put_bucket_versioning(Bucket=SOAK_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    queue, dlq = stack.deployed.queue_url, stack.deployed.dlq_url
    emulator = Emulator(stack.emulator_url)
    emulator.control("POST", "reset", {})
    dlq_before = _queue_depth(sqs, dlq)
    # key -> the file name the worker gives it in Wix (the key's last segment, unique per run)
    names = {
        f"soak/{run}/soak-{run}-{i:04d}.png": f"soak-{run}-{i:04d}.png" for i in range(objects)
    }
    late: list[str] = []
    sent = duplicates = 0
    started = time.monotonic()
    with FaultInjector(emulator, random.Random(seed + 1), fault_interval_s) as faults:
        for i, key in enumerate(names):
            body = sample_png(8 + i % 17, 8 + i // 17)
            s3.put_object(Bucket=SOAK_BUCKET, Key=key, Body=body, ContentType="image/png")
            head = s3.head_object(Bucket=SOAK_BUCKET, Key=key)
            message = notification(SOAK_BUCKET, key, head, version=True)
            sqs.send_message(QueueUrl=queue, MessageBody=message)
            sent += 1
            if rng.random() < duplicate_share:
                duplicate = (
                    notification(SOAK_BUCKET, key, head, version=False)
                    if mixed_duplicates
                    else message
                )
                if rng.random() < 0.5:
                    sqs.send_message(QueueUrl=queue, MessageBody=duplicate)
                    sent, duplicates = sent + 1, duplicates + 1
                else:
                    late.append(duplicate)
        deadline = started + (timeout_s or 60 + 3 * objects)
        _wait(lambda: _all_arrived(emulator, names), deadline)
        for message in late:  # replays of objects already handled
            sqs.send_message(QueueUrl=queue, MessageBody=message)
            sent, duplicates = sent + 1, duplicates + 1
        _wait(lambda: _drained(sqs, queue), deadline)
        injected = Counter(faults.injected)
    time.sleep(1.0)  # a last delivery in flight would show now
    copies = Counter(f["displayName"] for f in emulator.control("GET", "files")["files"])
    by_name = {name: copies.get(name, 0) for name in names.values()}
    answers = Counter(
        "cut" if r["status"] is None else str(r["status"])
        for r in emulator.control("GET", "requests")["requests"]
        if r["endpoint"] in {"generate-upload-url", "upload"}
    )
    return SoakResult(
        objects=objects,
        notifications=sent,
        duplicates_sent=duplicates,
        faults_injected=injected,
        wix_answers=answers,
        arrived=sum(1 for n in by_name.values() if n >= 1),
        lost=sum(1 for n in by_name.values() if n == 0),
        duplicated=sum(1 for n in by_name.values() if n > 1),
        dlq=_queue_depth(sqs, dlq) - dlq_before,
        seconds=time.monotonic() - started,
        lost_keys=[k for k, n in by_name.items() if n == 0],
        duplicated_keys=[k for k, n in by_name.items() if n > 1],
    )


@dataclass
class BurstResult:
    objects: int
    rate_per_minute: int
    workers: int
    pacing_per_minute: float = 0.0
    """`WIX_CALLS_PER_MINUTE` of each worker process (0 = no pacing)."""
    arrived: int = 0
    api_calls: int = 0
    """Authenticated Wix calls the emulator's rate limit admitted (`GET /_emulator/rate-limit`)."""
    throttled: int = 0
    """Calls it refused with 429."""
    delayed_early: int = 0
    """Records the worker brought back after a short delay (ChangeMessageVisibility)."""
    stranded: int = 0
    """Messages still invisible at the end: waiting out the full visibility timeout."""
    dlq: int = 0
    seconds: float = 0.0

    @property
    def floor_s(self) -> float:
        return self.api_calls * 60.0 / self.rate_per_minute

    @property
    def ok(self) -> bool:
        return (
            self.arrived == self.objects
            and self.dlq == 0
            and self.stranded == 0
            and self.seconds <= 1.25 * self.floor_s
        )

    def summary(self) -> dict[str, Any]:
        """The result as JSON-ready data (`--json`), with the floor and the verdict."""
        return {**asdict(self), "floor_s": self.floor_s, "ok": self.ok}

    def table(self) -> str:
        per_object = self.api_calls / self.objects if self.objects else 0.0
        pacing = f", pacing {self.pacing_per_minute:g}/min each" if self.pacing_per_minute else ""
        rows = [
            (
                "objects",
                f"{self.objects} ({self.workers} workers, Wix limit {self.rate_per_minute}/min"
                f"{pacing})",
            ),
            ("arrived", str(self.arrived)),
            ("Wix API calls", f"{self.api_calls} ({per_object:.2f} per object)"),
            ("floor", f"{self.floor_s:.1f} s (API calls / rate)"),
            (
                "drained in",
                f"{self.seconds:.1f} s = {self.seconds / max(self.floor_s, 1e-9):.2f}x floor",
            ),
            ("429s", str(self.throttled)),
            ("back early", f"{self.delayed_early} records (short visibility after a 429)"),
            ("full timeout", f"{self.stranded} records waiting the visibility timeout"),
            ("DLQ", str(self.dlq)),
        ]
        return "\n".join(f"  {name:<16}{value}" for name, value in rows)


def burst_config(
    base: Path, rate_per_minute: int, workers: int, *, pace: bool = False
) -> StackConfig:
    """The stack for `--burst`: the emulator's limit at `rate_per_minute`, `workers` worker
    processes, the template's visibility timeout (a record that waits it never comes back);
    with `pace`, each worker process paces its Wix calls at its share of the limit."""
    config = soak_config(
        base, visibility_timeout_s=QUEUE_VISIBILITY_TIMEOUT_S, worker_instances=workers
    )
    if pace:
        share = f"{rate_per_minute / max(1, workers):g}"
        config = replace(config, relay_env={**config.relay_env, "WIX_CALLS_PER_MINUTE": share})
    return replace(config, emulator=replace(config.emulator, rate_limit_per_minute=rate_per_minute))


def run_burst(stack: RunningStack, objects: int, *, timeout_s: float | None = None) -> BurstResult:
    """Send `objects` notifications at once and time until every object is in the emulator."""
    if stack.emulator_url is None:
        raise ValueError("the burst needs the Wix emulator (not real Wix credentials)")
    config = stack.config
    pacing = float(config.relay_env.get("WIX_CALLS_PER_MINUTE") or 0)
    result = BurstResult(
        objects, config.emulator.rate_limit_per_minute, config.worker_instances, pacing
    )
    run = uuid.uuid4().hex[:8]
    s3, sqs = aws_client("s3", stack.aws_url), aws_client("sqs", stack.aws_url)
    s3.create_bucket(Bucket=SOAK_BUCKET)
    s3.put_bucket_versioning(Bucket=SOAK_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    names = {
        f"burst/{run}/burst-{run}-{i:04d}.png": f"burst-{run}-{i:04d}.png" for i in range(objects)
    }
    messages = []
    for i, key in enumerate(names):  # the objects first: the burst is the notifications
        s3.put_object(
            Bucket=SOAK_BUCKET, Key=key, Body=sample_png(8 + i % 17, 8), ContentType="image/png"
        )
        head = s3.head_object(Bucket=SOAK_BUCKET, Key=key)
        messages.append(notification(SOAK_BUCKET, key, head, version=True))
    emulator = Emulator(stack.emulator_url)
    emulator.control("POST", "reset", {})
    dlq_before = _queue_depth(sqs, stack.deployed.dlq_url)
    started = time.monotonic()
    for first in range(0, len(messages), 10):
        sqs.send_message_batch(
            QueueUrl=stack.deployed.queue_url,
            Entries=[
                {"Id": str(n), "MessageBody": m} for n, m in enumerate(messages[first : first + 10])
            ],
        )
    limit = max(1, result.rate_per_minute)
    deadline = started + (timeout_s or 120 + 3 * 60.0 * 2 * objects / limit)
    _wait(lambda: _all_arrived(emulator, names), deadline)
    result.seconds = time.monotonic() - started
    stored = {f["displayName"] for f in emulator.control("GET", "files")["files"]}
    result.arrived = len(set(names.values()) & stored)
    limit_counts = emulator.control("GET", "rate-limit")
    result.api_calls, result.throttled = limit_counts["admitted"], limit_counts["refused"]
    _wait(lambda: _drained(sqs, stack.deployed.queue_url), time.monotonic() + 30)
    result.stranded = _queue_depth(sqs, stack.deployed.queue_url)
    result.dlq = _queue_depth(sqs, stack.deployed.dlq_url) - dlq_before
    logs = config.log_dir
    if logs is not None:
        result.delayed_early = sum(
            path.read_text(errors="replace").count("throttled record comes back early")
            for path in logs.glob("worker*.log")
        )
    return result


def _all_arrived(emulator: Emulator, names: dict[str, str]) -> bool:
    stored = {f["displayName"] for f in emulator.control("GET", "files")["files"]}
    return set(names.values()) <= stored


def _queue_depth(sqs: Any, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attrs.get(n, 0)) for n in names)


def _drained(sqs: Any, url: str) -> bool:
    return _queue_depth(sqs, url) == 0


def _wait(done: Any, deadline: float) -> None:
    while not done() and time.monotonic() < deadline:
        time.sleep(0.25)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duplicate-share", type=float, default=0.3)
    parser.add_argument("--fault-interval", type=float, default=0.5, help="seconds")
    parser.add_argument("--mixed-duplicates", action="store_true")
    parser.add_argument("--burst", action="store_true", help="a burst under Wix's rate limit")
    parser.add_argument("--rate", type=int, default=600, help="--burst: Wix calls a minute")
    parser.add_argument("--workers", type=int, default=4, help="--burst: worker processes")
    parser.add_argument("--timeout", type=float, default=None, help="--burst: give up after (s)")
    parser.add_argument("--pace", action="store_true", help="--burst: WIX_CALLS_PER_MINUTE on")
    parser.add_argument("--json", action="store_true", help="--burst: end with a JSON line")
    args = parser.parse_args(argv)
    if args.burst:
        return _burst_main(
            args.objects, args.rate, args.workers, args.timeout, pace=args.pace, as_json=args.json
        )
    with (
        tempfile.TemporaryDirectory(prefix="soak-") as tmp,
        start_stack(soak_config(Path(tmp))) as stack,
    ):
        print(f"soak: {args.objects} objects through {stack.relay_url} (seed {args.seed})…")
        result = run_soak(
            stack,
            args.objects,
            seed=args.seed,
            duplicate_share=args.duplicate_share,
            fault_interval_s=args.fault_interval,
            mixed_duplicates=args.mixed_duplicates,
        )
        print(result.table())
    ok = result.lost == 0 and result.duplicated == 0 and result.dlq == 0
    print("PASS" if ok else "FAIL: target is 0 lost, 0 duplicated, 0 in the DLQ")
    return 0 if ok else 1


def _burst_main(
    objects: int,
    rate: int,
    workers: int,
    timeout_s: float | None,
    *,
    pace: bool = False,
    as_json: bool = False,
) -> int:
    import os

    with (
        tempfile.TemporaryDirectory(prefix="burst-") as tmp,
        start_stack(burst_config(Path(tmp), rate, workers, pace=pace)) as stack,
    ):
        print(f"burst: {objects} objects, {workers} workers, Wix limit {rate}/min…")
        result = run_burst(stack, objects, timeout_s=timeout_s)
        print(result.table())
        load = os.getloadavg()
        print(f"  load average    {' '.join(f'{x:.2f}' for x in load)}")
    if as_json:
        print(json.dumps({"burst": {**result.summary(), "loadavg": [round(x, 2) for x in load]}}))
    print("PASS" if result.ok else "FAIL: target is <= 1.25x floor, 0 full-timeout waits, 0 DLQ")
    return 0 if result.ok else 1
