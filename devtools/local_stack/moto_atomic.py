"""DynamoDB's per-item atomicity for moto in server mode.

DynamoDB evaluates a write's condition and applies the write as one step, so of two concurrent
`attribute_not_exists` puts on one key exactly one succeeds. moto 5's backend checks the condition
and then writes, with no lock in between, and its threaded server runs requests at once: two
racing conditional puts can both succeed (seen in CI as 2 winners of 16 concurrent first
sightings of one Wix event id). The relay's exactly-once rules rest on that atomicity, so the local
stack and the tests hold every moto DynamoDB write under one lock, the closest real thing to the
service's guarantee without changing what any single request does.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_LOCK = threading.RLock()


def serialize_dynamodb_writes() -> None:
    """Make moto's DynamoDB writes atomic (idempotent: a second call changes nothing)."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        method = getattr(DynamoDBBackend, name)
        if getattr(method, "_serialized", False):
            continue
        setattr(DynamoDBBackend, name, _locked(method))


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def write(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    write._serialized = True  # type: ignore[attr-defined]
    return write
