"""Partner callbacks: queue one when an upload or import ends, deliver it from the queue.

`queue_callback` builds the event (domain/callbacks.py) and puts `{"webhookId", "url",
"callbackRef", "body"}` on the callback queue; the `webhook-id` is the one the ended record's
outbox holds (made once, with the transition: services/readiness.py). `deliver_callback_message` is
the consumer of one SQS record: it looks the caller's secret up, signs this attempt (a fresh
`webhook-timestamp`, the same `webhook-id`), POSTs through the SSRF-safe sender and

- on 2xx: done (the record succeeds and SQS deletes it);
- on a failed attempt: hides the message for the backoff delay (ChangeMessageVisibility) and
  raises `CallbackRetry`, so the batch reports it failed and SQS delivers it again later; after
  `max_attempts` receives the queue's redrive policy moves it to the DLQ;
- when it can never succeed (refused URL, unknown caller, malformed message): straight to the
  DLQ when one is configured, else logged and dropped — never retried.

Receivers de-duplicate on `webhook-id` (Standard Webhooks): a crash between a 2xx and the
deletion of the message means one more delivery of the same id, never a new id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from wix_relay.config import CallbackSettings
from wix_relay.domain.callbacks import (
    CallbackMessage,
    CallbackSecret,
    SubjectKind,
    backoff_delay,
    callback_event,
    encode_event,
    new_webhook_id,
    sign,
)
from wix_relay.integrations.callback_delivery import CallbackRefused, DeliveryFailed
from wix_relay.observability import emit, logger

DeliveryOutcome = Literal["delivered", "dead-lettered", "dropped"]


class CallbackRetry(Exception):
    """This attempt failed; the message comes back after its backoff (a batch item failure)."""


class Sender(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int: ...


class Queue(Protocol):
    def send(self, message: CallbackMessage, delay_s: int = 0) -> str: ...

    def retry_later(self, receipt_handle: str, delay_s: int) -> None: ...

    def dead_letter(self, body: str) -> bool: ...


def queue_callback(
    queue: Queue,
    *,
    callback_ref: str,
    url: str,
    kind: SubjectKind,
    status_document: Mapping[str, Any],
    timestamp: str | None = None,
    webhook_id: str | None = None,
) -> CallbackMessage:
    """Enqueue the callback for a finished (`ready` / `failed`) upload or import; `webhook_id`:
    the one its outbox holds (services/readiness.py), so a re-send is the same event."""
    event = callback_event(kind, status_document, timestamp)
    message = CallbackMessage(
        webhook_id=webhook_id or new_webhook_id(),
        url=url,
        callback_ref=callback_ref,
        body=encode_event(event).decode("utf-8"),
    )
    queue.send(message)
    logger.info(
        "callback queued",
        extra={
            "webhook_id": message.webhook_id,
            "callback_ref": callback_ref,
            "type": event["type"],
        },
    )
    return message


def deliver_callback_message(
    body: str,
    *,
    receive_count: int,
    receipt_handle: str,
    sender: Sender,
    queue: Queue,
    secret_for: Callable[[str], CallbackSecret | None],
    settings: CallbackSettings,
    clock: Callable[[], float] = time.time,
) -> DeliveryOutcome:
    """Deliver one queued callback (one SQS record); see the module docstring."""
    try:
        message = CallbackMessage.from_json(body)
    except ValueError as exc:
        return _give_up(queue, body, str(exc), {})
    context = {
        "webhook_id": message.webhook_id,
        "callback_ref": message.callback_ref,
        "host": urlsplit(message.url).hostname,
        "attempt": receive_count,
    }
    secret = secret_for(message.callback_ref)
    if secret is None:
        return _give_up(queue, body, "the caller has no callback secret", context)
    payload = message.body.encode("utf-8")
    headers = sign(secret, message.webhook_id, int(clock()), payload)
    try:
        status = sender.post(message.url, payload, headers)
    except CallbackRefused as exc:
        return _give_up(queue, body, str(exc), context)
    except DeliveryFailed as exc:
        last = receive_count >= settings.max_attempts
        delay = (
            0
            if last
            else backoff_delay(receive_count, settings.backoff_base_s, settings.backoff_max_s)
        )
        queue.retry_later(receipt_handle, delay)
        emit("CallbackAttemptFailed")
        logger.warning(
            "callback attempt failed; dead-lettered by the queue"
            if last
            else "callback attempt failed; retried later",
            extra={**context, "reason": str(exc), "status": exc.status, "retry_in_s": delay},
        )
        raise CallbackRetry(str(exc)) from None
    emit("CallbackDelivered")
    logger.info("callback delivered", extra={**context, "status": status})
    return "delivered"


def _give_up(queue: Queue, body: str, reason: str, context: Mapping[str, Any]) -> DeliveryOutcome:
    dead_lettered = queue.dead_letter(body)
    emit("CallbackUndeliverable")
    logger.error(
        "callback undeliverable; " + ("dead-lettered" if dead_lettered else "dropped"),
        extra={**context, "reason": reason},
    )
    return "dead-lettered" if dead_lettered else "dropped"
