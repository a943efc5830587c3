"""Stand-in handlers that report what the local stack gave them, to test the stack's plumbing
(process, environment, event wiring) independently of the relay's own handlers."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

PROBE_BUCKET = "local-stack-probe"


def _context(context: Any) -> dict[str, Any]:
    return {
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = {"event": event, "context": _context(context), "environ": dict(os.environ)}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Store each record in the probe bucket (not the inbox: that would notify again)."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=PROBE_BUCKET)
    for record in event["Records"]:
        s3.put_object(
            Bucket=PROBE_BUCKET,
            Key=f"{record['messageId']}.json",
            Body=json.dumps({"record": record, "context": _context(context)}),
        )
    return {"batchItemFailures": []}
