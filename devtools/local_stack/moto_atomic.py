"""DynamoDB's and SQS's atomicity for moto in server mode.

- DynamoDB evaluates a write's condition and applies the write as one step, so of two concurrent
  `attribute_not_exists` puts on one key exactly one succeeds. moto 5's backend checks the
  condition and then writes, with no lock in between, and its threaded server runs requests at
  once: two racing conditional puts can both succeed (seen in CI as 2 winners of 16 concurrent
  first sightings of one Wix event id).
- SQS hides a received message from every other receiver until its visibility timeout ends.
  moto's receive checks that a message is visible and then marks it received, again with no lock
  in between, so two pollers can both receive one message (its receive count going up by two)
  and both move it to the dead-letter queue; a delete or a visibility change in the middle of a
  scan rewrites the list the scan reads.

The relay's exactly-once rules and the soak's counts rest on both guarantees, so the local stack
and the tests make each of these steps atomic under one lock: the closest real thing to the
services' guarantees, without changing what any single request does. A long-polling receive
waits outside the lock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_SQS_CHANGES = ("delete_message", "change_message_visibility")  # they rewrite what a scan reads


def make_moto_atomic() -> None:
    """Patch moto's DynamoDB writes and SQS receives, deletes and visibility changes, once."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.sqs.models import SQSBackend

    for name in _DYNAMODB_WRITES:
        _patch(DynamoDBBackend, name, _locked)
    for name in _SQS_CHANGES:
        _patch(SQSBackend, name, _locked)
    _patch(SQSBackend, "receive_message", _atomic_receive)


def _patch(cls: type, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    method = getattr(cls, name)
    if not getattr(method, "_atomic", False):
        patched = functools.wraps(method)(wrap(method))
        patched._atomic = True  # type: ignore[attr-defined]
        setattr(cls, name, patched)


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    return call


def _atomic_receive(receive: Callable[..., Any]) -> Callable[..., Any]:
    """One scan of the queue at a time (moto's own receive with no wait), and the long poll's
    waiting outside the lock, as moto's loop waits: up to 1 s at a time for a visible message."""
    from moto.core.utils import unix_time

    def call(
        backend: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        polling_end = unix_time() + wait_seconds_timeout
        while True:
            with _LOCK:
                result = receive(
                    backend, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            if result or not wait_seconds_timeout or unix_time() > polling_end:
                return result
            backend.get_queue(queue_name).wait_for_messages(1)

    return call
