"""Relay one SQS batch with the real worker handler in a fresh process, then report which AWS
SDK modules are loaded after the import and after the relay, as JSON (run by
test_worker_without_boto3.py):

    python tests/integration/worker/worker_imports_probe.py EVENT_JSON_FILE

The Settings come from the environment, as in Lambda.
"""

from __future__ import annotations

import json
import sys


def main(event_path: str) -> dict[str, object]:
    from local_stack.lambda_context import LambdaContext

    with open(event_path) as fh:
        event = json.load(fh)
    from wix_relay.handlers.worker import handler

    at_init = aws_sdk_modules()
    answer = handler(event, LambdaContext("wix-relay-worker", timeout_s=120))
    return {"answer": answer, "at_init": at_init, "after_relay": aws_sdk_modules()}


def aws_sdk_modules() -> list[str]:
    return sorted(m for m in sys.modules if m.split(".")[0] in {"boto3", "botocore", "s3transfer"})


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
