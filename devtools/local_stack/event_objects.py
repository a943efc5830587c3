"""`make invoke` with a worker event: the S3 objects the event points at, created in the local
stack's moto when they are missing (a small stand-in of the right type), so the worker has
something to move. Objects that exist are left alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

from local_stack.bootstrap import aws_client
from local_stack.sample import sample_png

# Small bodies whose first bytes tell their type the way Wix sniffs it.
_STAND_INS: dict[str, bytes] = {
    "png": sample_png(16, 16),
    "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64),
    "pdf": b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
    "mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64),
}
_STAND_INS["jpeg"] = _STAND_INS["jpg"]


def stand_in(key: str) -> bytes:
    """A body for `key` by its extension; plain text for anything else."""
    ext = key.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in key else ""
    return _STAND_INS.get(ext, b"a stand-in object created by make invoke\n")


def referenced_objects(event: Any) -> Iterator[tuple[str, str]]:
    """(bucket, key) for every S3 object an S3, SQS-wrapped S3 or EventBridge event names."""
    if not isinstance(event, dict):
        return
    detail = event.get("detail")
    if event.get("source") == "aws.s3" and isinstance(detail, dict):
        yield detail["bucket"]["name"], detail["object"]["key"]  # stored key, not form-encoded
    for record in event.get("Records") or []:
        if not isinstance(record, dict):
            continue
        if isinstance(record.get("s3"), dict):
            s3 = record["s3"]
            yield s3["bucket"]["name"], unquote_plus(s3["object"]["key"])
        elif record.get("eventSource") == "aws:sqs":
            try:
                body = json.loads(record.get("body") or "")
            except ValueError:
                continue  # not JSON (the mixed batch has one on purpose)
            yield from referenced_objects(body)


def ensure_objects(event: Any, aws_url: str) -> list[str]:
    """Create the missing ones; returns one line per object created."""
    s3 = aws_client("s3", aws_url)
    created = []
    for bucket, key in dict.fromkeys(referenced_objects(event)):
        try:
            s3.head_object(Bucket=bucket, Key=key)
            continue
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
        body = stand_in(key)
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        created.append(f"created s3://{bucket}/{key} ({len(body)} bytes, a stand-in)")
    return created
