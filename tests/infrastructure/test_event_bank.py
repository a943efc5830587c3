"""events/: every event is well formed, matches the template's triggers, and is what the
generator produces."""

from __future__ import annotations

import filecmp
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from tests.infrastructure.template_model import ROOT, cfn_template

EVENTS = ROOT / "events"
PLACEHOLDERS = {
    "RELAY_DEV_API_KEY",
    "RELAY_DEV_JWT",
    "RELAY_JOB_ID",
    "RELAY_UPLOAD_ID",
    "WIX_FILE_ID",
    "WIX_EVENT_JWT",
}
ALL = sorted(p for p in EVENTS.rglob("*.json"))


def load(relative: str) -> Any:
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def s3_records(prefix: str) -> list[dict[str, Any]]:
    """S3 notification records, unwrapped from SQS where needed."""
    records = []
    for path in sorted((EVENTS / prefix).glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        for record in event.get("Records", []) if isinstance(event, dict) else []:
            if record.get("eventSource") == "aws:sqs":
                try:
                    body = json.loads(record["body"])
                except ValueError:
                    continue
                records.extend(r for r in body.get("Records", []) if r["eventSource"] == "aws:s3")
            elif record.get("eventSource") == "aws:s3":
                records.append(record)
    return records


def test_the_bank_covers_every_trigger() -> None:
    folders = {p.parent.name for p in ALL}
    assert folders >= {"api", "function-url", "s3", "sqs", "eventbridge"}
    assert len(ALL) >= 20


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(EVENTS)))
def test_event_is_json_with_only_known_placeholders(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    json.loads(text)
    assert set(re.findall(r"\$\{([A-Z_]+)\}", text)) <= PLACEHOLDERS


def test_api_events_hit_routes_the_template_declares() -> None:
    body = cfn_template()["Resources"]["HttpApi"]["Properties"]["Body"]
    routes = {f"{m.upper()} {path}" for path, methods in body["paths"].items() for m in methods}
    seen = set()
    for path in sorted((EVENTS / "api").glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        assert event["version"] == "2.0"
        assert event["routeKey"] in routes, path.name
        assert event["requestContext"]["routeKey"] == event["routeKey"]
        method, route = event["routeKey"].split(" ", 1)
        assert event["requestContext"]["http"]["method"] == method
        pattern = re.sub(r"\\\{[A-Za-z]+\\\}", "[^/]+", re.escape(route))
        assert re.fullmatch(pattern, event["rawPath"]), path.name
        assert all(h == h.lower() for h in event["headers"]), "HTTP API lower-cases header names"
        if "body" in event:
            assert event["isBase64Encoded"] is False
            if event["headers"]["content-type"] == "text/plain":  # Wix events: a JWT
                assert event["body"] == "${WIX_EVENT_JWT}", path.name
            else:
                assert event["headers"]["content-type"] == "application/json"
                json.loads(event["body"])
        seen.add(event["routeKey"])
    assert seen == routes, "one event per route at least"


def test_function_url_events_use_the_sentinel_route() -> None:
    for path in sorted((EVENTS / "function-url").glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        assert event["routeKey"] == event["requestContext"]["stage"] == "$default"
        assert ".lambda-url." in event["requestContext"]["domainName"]


def test_awkward_s3_keys_decode_to_the_stored_keys() -> None:
    expected = load("s3/awkward-keys.expected.json")
    keys = [r["s3"]["object"]["key"] for r in load("s3/put-awkward-keys.json")["Records"]]
    assert keys == [e["encoded"] for e in expected]
    assert [unquote_plus(k) for k in keys] == [e["decoded"] for e in expected]
    decoded = " ".join(e["decoded"] for e in expected)
    for awkward in (" ", "+", "é", "日本語", "%", "(", "&"):
        assert awkward in decoded, f"the bank lost its {awkward!r} key"
    assert max(e["decoded"].count("/") for e in expected) >= 8, "a deep folder"


def test_s3_records_match_the_inbox_notification() -> None:
    (config,) = cfn_template()["Resources"]["InboxBucket"]["Properties"][
        "NotificationConfiguration"
    ]["QueueConfigurations"]
    event_prefix = config["Event"].removeprefix("s3:").removesuffix("*")
    records = s3_records("s3") + s3_records("sqs")
    assert len(records) >= 10
    for record in records:
        assert record["eventName"].startswith(event_prefix)
        assert record["awsRegion"] == "us-east-1"
        assert record["s3"]["bucket"]["name"] == "wix-relay-inbox"
        assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::wix-relay-inbox"
    multipart = [r for r in records if r["eventName"].endswith("CompleteMultipartUpload")]
    assert multipart and all(re.search(r"-\d+$", r["s3"]["object"]["eTag"]) for r in multipart)


def test_sqs_events_are_consistent() -> None:
    for path in sorted((EVENTS / "sqs").glob("*.json")):
        records = json.loads(path.read_text(encoding="utf-8"))["Records"]
        ids = [r["messageId"] for r in records]
        assert len(set(ids)) == len(ids), path.name
        for record in records:
            assert record["eventSource"] == "aws:sqs"
            assert record["eventSourceARN"].startswith("arn:aws:sqs:us-east-1:")
            digest = hashlib.md5(record["body"].encode(), usedforsecurity=False).hexdigest()
            assert record["md5OfBody"] == digest
    bodies = [r["body"] for r in load("sqs/mixed-batch.json")["Records"]]
    assert '"s3:TestEvent"' in bodies[2] and '"jobId"' in bodies[1]
    with pytest.raises(ValueError):
        json.loads(bodies[3])  # the poison message


def test_eventbridge_events() -> None:
    for path in sorted((EVENTS / "eventbridge").glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        assert (event["source"], event["detail-type"]) == ("aws.s3", "Object Created")
        assert event["detail"]["bucket"]["name"] == "wix-relay-inbox"
        assert event["resources"] == ["arn:aws:s3:::wix-relay-inbox"]


def test_generator_reproduces_the_bank(tmp_path: Path) -> None:
    sam = ROOT / ".venv-sam" / "bin" / "sam"
    if not sam.exists():
        pytest.skip("needs .venv-sam (make .venv-sam/.installed) for sam local generate-event")
    subprocess.run(
        [sys.executable, str(EVENTS / "generate.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    assert generated == [p.relative_to(EVENTS) for p in ALL]
    for relative in generated:
        assert filecmp.cmp(tmp_path / relative, EVENTS / relative, shallow=False), relative
