"""One relay function in its own process, as Lambda runs it: its own environment (the
function's configuration), the handler imported once (cold start), then invocations.

    python -m local_stack.function api    --listen-fd N --ready-fd R --lifeline-fd L
    python -m local_stack.function worker --queue-url Q --ready-fd R --lifeline-fd L [--wait-time S]
    python -m local_stack.function callbacks --queue-url Q ...

`api` serves the inherited listening socket through the local gateway; `worker` and `callbacks`
run the SQS loop (Lambda's event source mapping, with the function's batch settings). The
process exits when the parent's lifeline pipe closes (the stack stopped or died).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import socket
import sys
import time
from typing import Any

from local_stack.child import exit_when_parent_goes, signal_ready
from local_stack.resources import FUNCTIONS


def import_handler(spec: str) -> Any:
    """`package.module.attr` (SAM's Handler form) or `package.module:attr`."""
    module, _, attr = spec.rpartition(":") if ":" in spec else spec.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack.function")
    parser.add_argument("function", choices=sorted(FUNCTIONS))
    parser.add_argument("--handler", help="module.attr to run instead of the template's handler")
    parser.add_argument("--listen-fd", type=int)
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--lifeline-fd", type=int, required=True)
    parser.add_argument("--wait-time", type=int, default=20)
    parser.add_argument("--queue-url", help="the queue the worker polls (event source mapping)")
    args = parser.parse_args(argv)
    spec = FUNCTIONS[args.function]
    exit_when_parent_goes(args.lifeline_fd)

    started = time.monotonic()
    handler = import_handler(args.handler or spec.handler)
    print(
        f"[{spec.key}] {args.handler or spec.handler} imported in "
        f"{(time.monotonic() - started) * 1000:.0f} ms (cold start)",
        file=sys.stderr,
    )
    common = {"function_name": spec.name, "memory_mb": spec.memory_mb, "timeout_s": spec.timeout_s}
    runner: Any
    if args.function == "api":
        from local_stack.gateway import LocalGateway

        sock = socket.socket(fileno=args.listen_fd)
        runner = LocalGateway(handler, sock=sock, region=os.environ["AWS_REGION"], **common)
        serve = runner.serve_forever
    else:
        from local_stack.bootstrap import aws_client
        from local_stack.worker_loop import WorkerLoop

        assert spec.batch is not None, f"{spec.key} is not an SQS-triggered function"
        batch_size, batching_window_s = spec.batch
        sqs = aws_client("sqs", os.environ["AWS_ENDPOINT_URL"])
        runner = WorkerLoop(
            handler,
            sqs=sqs,
            queue_url=args.queue_url,
            wait_time_s=args.wait_time,
            batch_size=batch_size,
            batching_window_s=batching_window_s,
            label=spec.key,
            **common,
        )
        serve = runner.run_forever
    signal_ready(args.ready_fd)
    with contextlib.suppress(KeyboardInterrupt):
        serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
