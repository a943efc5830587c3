"""A warm worker process measured from the inside (the harness spawns it):

    python -m bench.worker_child SPEC.json

SPEC: {"module": "wix_relay.handlers.worker", "warm": [event, ...], "events": [event, ...],
"count_sockets": false, "sample_interval_s": 0.01, "sample_connections": false,
"follow_queue": {"queue_url": ..., "endpoint_url": ..., "max_s": 60}?}.
Imports the handler, runs the warm-up events (lazy clients, bytecode), then each measured event
while a sampler thread records RSS, threads and open TCP connections. Prints one JSON line per
measured event: seconds, idle/peak RSS, ru_maxrss, bytes read/written (/proc/self/io) and, with
count_sockets, over sockets, peak threads and connections, and the handler's response.
With BENCH_AWS_COUNT_URL (bench/awscount.py) each result also lists the AWS requests the event made.
With follow_queue, the child then does what Lambda's SQS event source does with what the
events left on the queue (the delayed readiness checks): receives it as it becomes visible and
invokes the handler with it, each invocation measured too (`"follow": true`, `"at"` = seconds
since the first measured event began), until the queue is empty or `max_s` has passed.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import threading
import time
from collections import Counter
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


def io_counters() -> dict[str, int]:
    out: dict[str, int] = {}
    with open("/proc/self/io") as fh:
        for line in fh:
            name, _, value = line.partition(":")
            out[name.strip()] = int(value)
    return out


class SocketBytes:
    """Bytes this process received / sent over sockets (rchar does not count recv)."""

    received = 0
    sent = 0

    @classmethod
    def install(cls) -> None:
        """Count every socket's traffic from now on (bench child only: it slows I/O a bit)."""
        import socket

        class CountingSocket(socket.socket):
            __slots__ = ()

            def recv(self, *args: Any) -> bytes:
                data = super().recv(*args)
                cls.received += len(data)
                return data

            def recv_into(self, *args: Any) -> int:
                n = super().recv_into(*args)
                cls.received += n
                return n

            def send(self, data: Any, *args: Any) -> int:
                n = super().send(data, *args)
                cls.sent += n
                return n

            def sendall(self, data: Any, *args: Any) -> None:
                super().sendall(data, *args)
                cls.sent += memoryview(data).nbytes

        socket.socket = CountingSocket  # type: ignore[misc]


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Sampler(threading.Thread):
    """Peak RSS, thread count and TCP connections while an event runs."""

    def __init__(self, interval_s: float, connections: bool) -> None:
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.connections = connections
        self.stop_event = threading.Event()
        self.peak_rss = rss_bytes()
        self.peak_threads = threading.active_count()
        self.peak_connections = 0
        self.samples = 0

    def run(self) -> None:
        import psutil

        proc = psutil.Process()
        tick = 0
        while not self.stop_event.is_set():
            self.peak_rss = max(self.peak_rss, rss_bytes())
            self.peak_threads = max(self.peak_threads, threading.active_count() - 1)
            if self.connections and tick % 4 == 0:  # dearer to list: every 4th tick
                conns = [c for c in proc.net_connections(kind="tcp") if c.status == "ESTABLISHED"]
                self.peak_connections = max(self.peak_connections, len(conns))
            tick += 1
            self.samples += 1
            self.stop_event.wait(self.interval_s)

    def finish(self) -> None:
        self.stop_event.set()
        self.join()
        self.peak_rss = max(self.peak_rss, rss_bytes())


def server_cpu() -> dict[str, float]:
    """CPU seconds used so far by the local servers (moto, emulator) named in BENCH_SERVER_PIDS."""
    import psutil

    out: dict[str, float] = {}
    for item in filter(None, os.environ.get("BENCH_SERVER_PIDS", "").split(",")):
        name, _, pid = item.partition(":")
        try:
            times = psutil.Process(int(pid)).cpu_times()
        except (psutil.Error, ValueError):
            continue
        out[name] = times.user + times.system
    return out


def wix_log() -> list[dict[str, Any]]:
    """The emulator's log of recent Wix calls (BENCH_EMULATOR_URL), [] without an emulator."""
    import urllib.request

    base = os.environ.get("BENCH_EMULATOR_URL")
    if not base:
        return []
    with urllib.request.urlopen(f"{base}/_emulator/requests", timeout=30) as resp:
        return list(json.load(resp).get("requests", []))


def aws_log() -> list[dict[str, Any]]:
    """The AWS requests counted so far by the forwarder at BENCH_AWS_COUNT_URL (bench/awscount.py),
    [] without one."""
    import urllib.request

    base = os.environ.get("BENCH_AWS_COUNT_URL")
    if not base:
        return []
    with urllib.request.urlopen(f"{base}/_aws-count", timeout=30) as resp:
        return list(json.load(resp).get("requests", []))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(
    handler: Any, event: dict[str, Any], interval_s: float, connections: bool
) -> dict[str, Any]:
    from bench.events import LambdaContext

    seen = {r.get("requestId") for r in wix_log()}  # the bench's own calls: outside the counts
    aws_seen = len(aws_log())
    idle = rss_bytes()
    maxrss_before = maxrss_bytes()
    io_before = io_counters()
    net_before = (SocketBytes.received, SocketBytes.sent)
    sampler = Sampler(interval_s, connections)
    sampler.start()
    servers0 = server_cpu()
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    response = handler(event, LambdaContext())
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    net = (SocketBytes.received - net_before[0], SocketBytes.sent - net_before[1])
    servers = {k: v - servers0.get(k, 0.0) for k, v in server_cpu().items()}
    sampler.finish()
    io_after = io_counters()
    maxrss_after = maxrss_bytes()
    calls = [r for r in wix_log() if r.get("requestId") not in seen]
    aws_calls = aws_log()[aws_seen:]
    peak = sampler.peak_rss
    if maxrss_after > maxrss_before:  # the kernel saw a new high-water mark during the event
        peak = max(peak, maxrss_after)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "server_cpu_seconds": servers,
        "rss_idle": idle,
        "rss_peak": peak,
        "rss_growth": max(0, peak - idle),
        "maxrss_before": maxrss_before,
        "maxrss_after": maxrss_after,
        "rchar": io_after["rchar"] - io_before["rchar"],
        "socket_received": net[0],
        "socket_sent": net[1],
        "wchar": io_after["wchar"] - io_before["wchar"],
        "threads_peak": sampler.peak_threads,
        "connections_peak": sampler.peak_connections,
        "samples": sampler.samples,
        "response": response,
        "wix_calls": dict(Counter(str(r.get("endpoint")) for r in calls)),
        "wix_body_bytes": sum(int(r.get("bodyBytes") or 0) for r in calls),
        "wix_api_calls": sum(1 for r in calls if r.get("auth")),
        "aws_calls": aws_calls,
    }


def follow(
    handler: Any, spec: dict[str, Any], started: float, interval_s: float
) -> list[dict[str, Any]]:
    """Invoke the handler with what arrives on the queue until it is empty (visible, in flight
    and delayed messages) or `max_s` has passed; one measurement per invocation."""
    import boto3
    from local_stack.worker_loop import WorkerLoop

    sqs = boto3.client("sqs", endpoint_url=spec["endpoint_url"])
    measured: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any], context: Any) -> Any:
        at = time.perf_counter() - started
        result = measure(handler, event, interval_s, False)
        measured.append({**result, "follow": True, "at": at, "records": len(event["Records"])})
        return result["response"]

    loop = WorkerLoop(
        invoke,
        sqs=sqs,
        queue_url=spec["queue_url"],
        function_name="bench-function",
        wait_time_s=1,
        batch_size=10,
    )
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    deadline = time.monotonic() + float(spec.get("max_s", 60))
    while time.monotonic() < deadline:
        attrs = sqs.get_queue_attributes(QueueUrl=spec["queue_url"], AttributeNames=names)
        if not sum(int(v) for v in attrs["Attributes"].values()):
            break
        loop.poll_once()
    return measured


def main(argv: list[str]) -> int:
    try:
        with open(argv[1]) as fh:
            spec = json.load(fh)
        from bench.events import LambdaContext

        if spec.get("count_sockets"):
            SocketBytes.install()
        module = importlib.import_module(spec.get("module", "wix_relay.handlers.worker"))
        warm_seconds = []
        for event in spec.get("warm", []):
            t0 = time.perf_counter()
            module.handler(event, LambdaContext())
            warm_seconds.append(time.perf_counter() - t0)
        interval = float(spec.get("sample_interval_s", 0.01))
        connections = bool(spec.get("sample_connections"))
        started = time.perf_counter()
        results = [
            measure(module.handler, event, interval, connections) for event in spec["events"]
        ]
        if spec.get("follow_queue"):
            results += follow(module.handler, spec["follow_queue"], started, interval)
        for result in results:
            result["warm_seconds"] = warm_seconds
        out: dict[str, Any] = {"results": results}
    except BaseException as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"[:600]}
    sys.stdout.write("\n" + json.dumps({"bench": out}, default=str) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
