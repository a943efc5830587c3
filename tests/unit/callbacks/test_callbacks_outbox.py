"""The callback outbox (domain/callbacks.py): what an ended record stores about its callback, and
when a retry — not the transition's writer — must queue it."""

from __future__ import annotations

from typing import Any

import pytest

from wix_relay.domain.callbacks import OUTBOX_STALE_S, CallbackOutbox
from wix_relay.domain.readiness import Outcome, UploadRecord


def test_an_outbox_keeps_its_webhook_id_through_every_state() -> None:
    due = CallbackOutbox.due()
    assert due.state == "sending" and due.webhook_id.startswith("msg_")
    for state in ("failed", "queued"):
        moved = due.to(state)  # type: ignore[arg-type]
        assert CallbackOutbox.from_dict(moved.to_dict()) == moved
        assert moved.webhook_id == due.webhook_id
    assert CallbackOutbox.due().webhook_id != due.webhook_id


@pytest.mark.parametrize("doc", [None, "x", {}, {"webhookId": ""}, {"webhookId": 3}])
def test_anything_else_is_no_outbox(doc: Any) -> None:
    assert CallbackOutbox.from_dict(doc) is None


def test_an_unknown_state_reads_as_sending() -> None:
    assert CallbackOutbox.from_dict({"webhookId": "msg_1", "state": "?"}) == CallbackOutbox("msg_1")


@pytest.mark.parametrize(
    ("state", "age_s", "due"),
    [
        ("failed", 0, True),  # the writer's send failed: the next retry queues it
        ("queued", 10 * OUTBOX_STALE_S, False),  # on the queue: never again
        ("sending", 1, False),  # the writer is queueing it right now: leave it to the writer
        ("sending", OUTBOX_STALE_S, True),  # the writer stopped between the write and the send
        ("sending", None, True),
    ],
)
def test_when_a_retry_queues_it(state: Any, age_s: float | None, due: bool) -> None:
    now = 1_000_000.0
    ended_at = None if age_s is None else now - age_s
    assert CallbackOutbox("msg_1", state).retry_due(ended_at, now) is due


def test_an_upload_record_stores_its_outbox() -> None:
    record = UploadRecord.issued(
        caller_id="c", kind="upload", request={"mimeType": "image/png"}, callback_ref="c"
    )
    assert "callbackOutbox" not in record.to_item()
    ended = record.reach(Outcome("ready", {"id": "f"}))
    stored = UploadRecord.from_item({**ended.to_item(), "callbackOutbox": {"webhookId": "msg_2"}})
    assert stored is not None and stored.callback_outbox == CallbackOutbox("msg_2")
    assert "callbackOutbox" not in stored.to_public()  # callers never see it
