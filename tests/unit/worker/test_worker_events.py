"""Trigger parsing against the committed event bank (events/, generated from SAM's samples)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wix_relay.domain.jobs import ObjectRef, s3_job_id
from wix_relay.domain.triggers import (
    Ignored,
    ImportRequested,
    MalformedMessage,
    ObjectCreated,
    parse_message,
)

EVENTS = Path(__file__).resolve().parents[3] / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def test_direct_s3_put_event() -> None:
    (item,) = parse_message(load("s3/put.json"))
    assert isinstance(item, ObjectCreated)
    assert item.ref.bucket == "wix-relay-inbox"
    assert item.event_name == "ObjectCreated:Put"
    assert item.ref.size == load("s3/put.json")["Records"][0]["s3"]["object"]["size"]


def test_awkward_keys_are_decoded_per_record() -> None:
    expected = [e["decoded"] for e in load("s3/awkward-keys.expected.json")]
    items = parse_message(load("s3/put-awkward-keys.json"))
    assert [i.ref.key for i in items if isinstance(i, ObjectCreated)] == expected
    assert "photos/c++ tips+tricks.png" in expected  # `+` arrived as %2B, spaces as +
    assert all(i.ref.version_id for i in items if isinstance(i, ObjectCreated))


def test_sqs_wrapped_s3_event_body_parses_like_the_direct_one() -> None:
    body = load("sqs/s3-put.json")["Records"][0]["body"]
    (item,) = parse_message(body)
    (direct,) = parse_message(load("s3/put.json"))
    assert item == direct


def test_eventbridge_object_created_keeps_the_raw_key() -> None:
    (item,) = parse_message(load("eventbridge/object-created.json"))
    assert isinstance(item, ObjectCreated)
    assert item.ref.key == "photos/summer 2024/beach day.jpg"
    assert item.ref.version_id == "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"
    assert item.ref.etag == "5199bd7f0a65787f605c55098c062997"


def test_test_event_is_ignored_and_import_message_recognised() -> None:
    bodies = {r["messageId"][-2:]: r["body"] for r in load("sqs/mixed-batch.json")["Records"]}
    assert isinstance(parse_message(bodies["32"])[0], Ignored)
    assert parse_message('{"jobId": "imp-1"}') == [ImportRequested("imp-1")]
    with pytest.raises(MalformedMessage):
        parse_message(bodies["33"])


def test_removal_events_are_ignored_and_sns_envelopes_unwrapped() -> None:
    event = load("s3/put.json")
    event["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert isinstance(parse_message(event)[0], Ignored)
    put = load("s3/put.json")
    sns = {"Type": "Notification", "Message": json.dumps(put)}
    assert parse_message(sns) == parse_message(put)


@pytest.mark.parametrize("body", ["[]", "{}", '{"Records": []}', '{"Records": [{"x": 1}]}'])
def test_unknown_shapes_are_malformed(body: str) -> None:
    with pytest.raises(MalformedMessage):
        parse_message(body)


def test_job_id_is_deterministic_per_object_version() -> None:
    a = ObjectRef("b", "k", version_id="v1")
    assert s3_job_id(a) == s3_job_id(ObjectRef("b", "k", version_id="v1", size=3))
    assert s3_job_id(a) != s3_job_id(ObjectRef("b", "k", version_id="v2"))
    unversioned = ObjectRef("b", "k", etag="e", sequencer="1")
    assert s3_job_id(unversioned) != s3_job_id(ObjectRef("b", "k", etag="e", sequencer="2"))
    assert unversioned.identity() == {"bucket": "b", "key": "k", "etag": "e", "sequencer": "1"}
