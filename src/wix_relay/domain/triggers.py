"""What the worker is asked to do: every message shape → work items. Pure Python.

An S3 notification (direct, through SQS or SNS), an EventBridge "Object Created" event, a partner
import `{"jobId"}`, the worker's own delayed readiness check `{"jobId", "readinessCheck": n}`
(only when Wix events are off), or an `s3:TestEvent`. Anything else is a `MalformedMessage`.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wix_relay.domain.jobs import ObjectRef, opt_str


@dataclass(frozen=True)
class ObjectCreated:
    ref: ObjectRef
    event_name: str


@dataclass(frozen=True)
class ImportRequested:
    job_id: str


@dataclass(frozen=True)
class ReadinessCheck:
    """Ask Wix (once) whether an `uploaded` job's file is ready; `check` counts from 1."""

    job_id: str
    check: int


CHECK_FIELD = "readinessCheck"


def readiness_check_message(job_id: str, check: int) -> dict[str, Any]:
    return {"jobId": job_id, CHECK_FIELD: check}


@dataclass(frozen=True)
class Ignored:
    reason: str


WorkItem = ObjectCreated | ImportRequested | ReadinessCheck | Ignored


class MalformedMessage(ValueError):
    """A message no redelivery can make sense of (it should end in the dead-letter queue)."""


def decode_s3_key(raw: str) -> str:
    """S3 notifications URL-encode keys form-style: `+` is a space, `%2B` a plus [doc: S3 event
    message structure]."""
    return urllib.parse.unquote_plus(raw)


def parse_message(doc: Any) -> list[WorkItem]:
    """Every work item in one message body. Raises MalformedMessage for an unknown shape."""
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            raise MalformedMessage("message body is not JSON") from None
    if not isinstance(doc, Mapping):
        raise MalformedMessage("message body is not a JSON object")
    if doc.get("Event") == "s3:TestEvent":
        return [Ignored(f"s3:TestEvent for bucket {doc.get('Bucket', '?')}")]
    if isinstance(doc.get("jobId"), str) and doc["jobId"]:
        check = doc.get(CHECK_FIELD)
        if check is None:
            return [ImportRequested(doc["jobId"])]
        if not isinstance(check, int) or isinstance(check, bool) or check < 1:
            raise MalformedMessage(f"{CHECK_FIELD} must be a positive integer")
        return [ReadinessCheck(doc["jobId"], check)]
    if doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        return parse_message(doc["Message"])  # S3 → SNS → SQS
    if doc.get("source") == "aws.s3" and isinstance(doc.get("detail"), Mapping):
        return [_from_eventbridge(doc)]
    records = doc.get("Records")
    if isinstance(records, list) and records:
        return [_from_s3_record(r) for r in records]
    raise MalformedMessage("not an S3 notification, EventBridge event or import message")


def _from_s3_record(record: Any) -> WorkItem:
    if not isinstance(record, Mapping) or record.get("eventSource") != "aws:s3":
        raise MalformedMessage("not an S3 record")
    name = str(record.get("eventName", ""))
    if not name.startswith("ObjectCreated:"):
        return Ignored(f"event {name or '?'} is not an object creation")
    s3 = record.get("s3") or {}
    obj = s3.get("object") or {}
    bucket = (s3.get("bucket") or {}).get("name")
    if not bucket or not isinstance(obj.get("key"), str):
        raise MalformedMessage("S3 record without bucket or key")
    key = decode_s3_key(obj["key"])
    return ObjectCreated(_ref(str(bucket), key, obj, "versionId", "eTag"), name)


def _from_eventbridge(doc: Mapping[str, Any]) -> WorkItem:
    detail_type = str(doc.get("detail-type", ""))
    if detail_type != "Object Created":
        return Ignored(f"EventBridge {detail_type or '?'} is not an object creation")
    detail = doc["detail"]
    obj = detail.get("object") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    if not bucket or not isinstance(obj.get("key"), str):
        raise MalformedMessage("EventBridge event without bucket or key")
    # [guess] EventBridge carries the key as stored (not form-encoded like S3 notifications);
    # Powertools' S3EventBridgeNotificationObject.key would unquote_plus it: keep it raw.
    ref = _ref(str(bucket), obj["key"], obj, "version-id", "etag")
    return ObjectCreated(ref, "EventBridge:" + str(detail.get("reason", "Object Created")))


def _ref(bucket: str, key: str, obj: Mapping[str, Any], version: str, etag: str) -> ObjectRef:
    size = obj.get("size")
    return ObjectRef(
        bucket=bucket,
        key=key,
        version_id=opt_str(obj.get(version)),
        etag=opt_str(obj.get(etag)),
        sequencer=opt_str(obj.get("sequencer")),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )
