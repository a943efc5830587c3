"""Wix event de-duplication in DynamoDB: the `EventStore` port.

Two kinds of item in one table (partition key `id`, TTL attribute `expiresAt`); the key prefixes
keep them apart from each other and from jobs, so the jobs table can hold them too:

- `wix-event#<event id>`: "seen" markers. `first_sighting` is a conditional put — exactly one
  of several concurrent deliveries of the same event wins. A marker past its `expiresAt` counts as
  absent (DynamoDB deletes expired items lazily, up to days later).
- `wix-file#<file id>`: the latest state per file, ordered by Wix's `entityEventSequence`.
  `advance` writes only when the sequence is higher than the stored one, so delayed and reordered
  events never move a file backwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wix_relay.integrations.aws_clients import LazyClient
from wix_relay.integrations.aws_services import deserialize_item, put_if

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EVENT_PREFIX = "wix-event#"
FILE_PREFIX = "wix-file#"


@dataclass(frozen=True)
class FileState:
    file_id: str
    sequence: int
    state: Mapping[str, Any]
    event_id: str | None = None


class EventStore:
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._clock = clock

    client: LazyClient[DynamoDBClient] = LazyClient("dynamodb")

    def first_sighting(self, event_id: str, ttl_s: int) -> bool:
        """Mark the event seen; True only for the first delivery within `ttl_s`."""
        now = int(self._clock())
        return put_if(
            self.client,
            self.table_name,
            {"id": EVENT_PREFIX + event_id, "expiresAt": now + ttl_s},
            "attribute_not_exists(id) OR expiresAt <= :now",
            values={":now": now},
        )

    def forget(self, event_id: str) -> None:
        """Drop the marker (the event could not be processed: Wix's retry must be)."""
        self.client.delete_item(
            TableName=self.table_name, Key={"id": {"S": EVENT_PREFIX + event_id}}
        )

    def advance(
        self,
        file_id: str,
        sequence: int,
        state: Mapping[str, Any],
        ttl_s: int,
        *,
        event_id: str | None = None,
    ) -> bool:
        """Store `state` as the file's latest unless a state with an equal or higher sequence is
        already there; True when it was stored."""
        item = {
            "id": FILE_PREFIX + file_id,
            "fileId": file_id,
            "sequence": sequence,
            "state": dict(state),
            "eventId": event_id,
            "expiresAt": int(self._clock()) + ttl_s,
        }
        return put_if(
            self.client,
            self.table_name,
            item,
            "attribute_not_exists(id) OR #seq < :seq",
            values={":seq": sequence},
            names={"#seq": "sequence"},
        )

    def latest(self, file_id: str) -> FileState | None:
        response = self.client.get_item(
            TableName=self.table_name, Key={"id": {"S": FILE_PREFIX + file_id}}, ConsistentRead=True
        )
        raw = response.get("Item")
        if not raw:
            return None
        item = deserialize_item(raw)
        return FileState(
            file_id=str(item["fileId"]),
            sequence=int(item["sequence"]),
            state=item.get("state", {}),
            event_id=item.get("eventId"),
        )
