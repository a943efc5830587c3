"""`make invoke FUNCTION=api|worker EVENT=events/…json`: run one function's handler once, in a
process of its own whose environment is exactly the function's configuration in the running local
stack (.local-stack/env.json, written by `make run`), and print what it returns.

Placeholders in the event (`${RELAY_DEV_API_KEY}`, `${RELAY_JOB_ID}`, `${RELAY_DEV_JWT}`, see
events/README.md) are filled from the stack (the dev key) and from this shell's environment;
`$default` and any unknown `${…}` are left as they are. For the worker, the S3 objects the event
names are created first when missing (local_stack.event_objects).
"""

from __future__ import annotations

import argparse
import json
import os
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from local_stack.event_objects import ensure_objects
from local_stack.function import import_handler
from local_stack.lambda_context import LambdaContext
from local_stack.resources import FUNCTIONS, REGION
from local_stack.stack import ENV_FILE, REPO_ROOT

PLACEHOLDERS_FROM_SHELL = ("RELAY_JOB_ID", "RELAY_DEV_JWT")


def load_stack_environment(state_dir: Path) -> dict[str, Any]:
    path = state_dir / ENV_FILE
    if not path.exists():
        raise SystemExit(f"{path} not found: start the local stack first (make run)")
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def fill_placeholders(text: str, stack: dict[str, Any], environ: dict[str, str]) -> str:
    values = {name: environ[name] for name in PLACEHOLDERS_FROM_SHELL if environ.get(name)}
    values["RELAY_DEV_API_KEY"] = stack["devApiKey"]
    return string.Template(text).safe_substitute(values)


def run_handler(function: str, event: dict[str, Any]) -> Any:
    """In the function's own process (its environment already set): import, invoke once."""
    spec = FUNCTIONS[function]
    handler = import_handler(spec.handler)
    context = LambdaContext(spec.name, spec.memory_mb, spec.timeout_s, REGION)
    return handler(event, context)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack.invoke", description=__doc__)
    parser.add_argument("function", choices=sorted(FUNCTIONS))
    parser.add_argument("event", nargs="?", type=Path, help="a JSON event file (events/…)")
    parser.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".local-stack")
    parser.add_argument("--in-function-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.in_function_process:  # the child: event on stdin, environment = the function's
        # As on Lambda, the function's logs are not its response: logs (stdout) go to stderr,
        # and only the response is written to the real stdout.
        response_out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        started = time.monotonic()
        result = run_handler(args.function, json.load(sys.stdin))
        sys.stdout.flush()
        print(json.dumps(result, indent=2, default=str), file=response_out, flush=True)
        took = (time.monotonic() - started) * 1000
        print(
            f"[invoke] {args.function} returned in {took:.0f} ms (incl. cold start)",
            file=sys.stderr,
        )
        return 0
    if args.event is None or not args.event.is_file():
        what = f"{args.event} does not exist" if args.event else "no event file given"
        print(f"make invoke: {what}; pick one of events/**/*.json (EVENT=…)", file=sys.stderr)
        return 2
    stack = load_stack_environment(args.state_dir)
    text = fill_placeholders(args.event.read_text(), stack, dict(os.environ))
    try:
        event = json.loads(text)  # a clear error here beats one inside the handler
    except ValueError as exc:
        print(f"make invoke: {args.event} is not JSON ({exc})", file=sys.stderr)
        return 2
    if args.function == "worker":
        for line in ensure_objects(event, stack["awsEndpointUrl"]):
            print(f"[invoke] {line}", file=sys.stderr)
    command = [sys.executable, "-m", "local_stack.invoke", args.function, "--in-function-process"]
    child = subprocess.run(
        command, input=text, text=True, env=stack["functions"][args.function], check=False
    )
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
