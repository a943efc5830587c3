"""Real-shaped Lambda events and a Lambda context, built from the standard library only (the
cold-start child imports this before its clock starts)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import quote_plus

ACCOUNT = "123456789012"
REGION = "us-east-1"


def http_api_event(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """API Gateway HTTP API payload v2."""
    now = time.time()
    hdrs = {"content-type": "application/json", "host": "bench.local", "user-agent": "bench"}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": hdrs,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "bench",
            "domainName": "bench.local",
            "domainPrefix": "bench",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench",
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def s3_record(bucket: str, key: str, size: int, etag: str) -> dict[str, Any]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:BENCH"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "BENCH", "x-amz-id-2": "BENCH"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "bench",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "BENCH"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                "key": quote_plus(key, safe="/"),
                "size": size,
                "eTag": etag.strip('"'),
                "sequencer": f"{time.time_ns():016X}",
            },
        },
    }


def sqs_event(bodies: list[dict[str, Any]], queue: str = "bench-queue") -> dict[str, Any]:
    """An SQS batch whose message bodies are S3 notifications (the default wiring)."""
    now = str(int(time.time() * 1000))
    records = []
    for body in bodies:
        text = json.dumps(body)
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "bench-" + uuid.uuid4().hex,
                "body": text,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now,
                    "SenderId": "AIDABENCH",
                    "ApproximateFirstReceiveTimestamp": now,
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def s3_sqs_event(bucket: str, objects: list[tuple[str, int, str]]) -> dict[str, Any]:
    """One SQS message per object (key, size, etag), each wrapping one S3 record."""
    return sqs_event([{"Records": [s3_record(bucket, k, s, e)]} for k, s, e in objects])


class LambdaContext:
    """Enough of the Lambda context for Powertools (logger, idempotency, batch)."""

    function_name = "bench-function"
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:bench-function"
    memory_limit_in_mb = 1024
    log_group_name = "/aws/lambda/bench-function"
    log_stream_name = "bench"

    def __init__(self, timeout_s: float = 900.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
