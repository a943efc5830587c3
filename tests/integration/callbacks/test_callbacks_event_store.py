"""The Wix event de-duplication store against moto in server mode (real HTTP)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from wix_relay.config import Settings
from wix_relay.integrations.event_store import EventStore
from wix_relay.runtime import Runtime

TABLE = "relay-events"


@pytest.fixture
def dynamodb(aws: str) -> Any:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_an_event_id_is_seen_once(dynamodb: Any) -> None:
    store = EventStore(TABLE, dynamodb)
    assert store.first_sighting("evt-1", ttl_s=3600) is True
    assert store.first_sighting("evt-1", ttl_s=3600) is False
    assert store.first_sighting("evt-2", ttl_s=3600) is True
    item = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "wix-event#evt-1"}})["Item"]
    assert int(item["expiresAt"]["N"]) > 0


def test_concurrent_deliveries_of_one_event_have_one_winner(dynamodb: Any) -> None:
    store = EventStore(TABLE, dynamodb)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: store.first_sighting("evt-x", 3600), range(16)))
    assert results.count(True) == 1


def test_an_expired_marker_counts_as_absent_and_forget_releases_it(dynamodb: Any) -> None:
    clock = Clock()
    store = EventStore(TABLE, dynamodb, clock=clock)
    assert store.first_sighting("evt-1", ttl_s=60)
    clock.now += 30
    assert not store.first_sighting("evt-1", ttl_s=60)
    clock.now += 31
    assert store.first_sighting("evt-1", ttl_s=60)
    store.forget("evt-1")
    assert store.first_sighting("evt-1", ttl_s=60)


def test_the_latest_state_per_file_only_moves_forward(dynamodb: Any) -> None:
    store = EventStore(TABLE, dynamodb)
    assert store.latest("file-1") is None
    assert store.advance("file-1", 5, {"status": "ready", "url": "u"}, 3600, event_id="e5")
    # delayed and reordered events: an older or equal sequence changes nothing
    assert not store.advance("file-1", 3, {"status": "failed"}, 3600, event_id="e3")
    assert not store.advance("file-1", 5, {"status": "failed"}, 3600, event_id="e5b")
    latest = store.latest("file-1")
    assert latest is not None
    assert (latest.sequence, latest.state, latest.event_id) == (
        5,
        {"status": "ready", "url": "u"},
        "e5",
    )
    assert store.advance("file-1", 9, {"status": "failed"}, 3600)
    latest = store.latest("file-1")
    assert latest is not None and (latest.sequence, latest.state["status"]) == (9, "failed")
    # files and events never collide, even in one table
    assert store.first_sighting("file-1", 3600)
    assert store.latest("evt-1") is None


def test_big_sequences_keep_their_precision(dynamodb: Any) -> None:
    store = EventStore(TABLE, dynamodb)
    big = 9_007_199_254_740_993  # > 2**53: a float would round it
    assert store.advance("f", big, {}, 3600)
    assert not store.advance("f", big, {}, 3600)
    assert store.advance("f", big + 1, {}, 3600)
    latest = store.latest("f")
    assert latest is not None and latest.sequence == big + 1


@pytest.mark.parametrize(
    ("part", "variable"),
    [
        ("event_store", "RELAY_EVENTS_TABLE"),
        ("upload_store", "RELAY_JOBS_TABLE"),
        ("jobs", "RELAY_JOBS_TABLE"),
        ("queue", "RELAY_QUEUE_URL"),
    ],
)
def test_a_missing_table_name_is_a_configuration_error(part: str, variable: str) -> None:
    """The runtime checks every store's table (and the queue's URL) in one place."""
    with pytest.raises(ValueError, match=variable):
        getattr(Runtime(Settings()), part)
