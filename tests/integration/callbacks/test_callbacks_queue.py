"""Callback delivery through SQS (moto in server mode) to a real loopback receiver, verified
with the `standardwebhooks` package: retried with backoff, one webhook-id, DLQ at the end."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook

from tests.fixtures.callbacks import CallbackReceiver
from wix_relay.config import CallbackSettings
from wix_relay.domain.callbacks import CallbackMessage, CallbackSecret
from wix_relay.domain.callers import CallerRegistry, hash_api_key
from wix_relay.integrations.callback_delivery import CallbackSender
from wix_relay.integrations.callback_queue import CallbackQueue
from wix_relay.services.callbacks import (
    CallbackRetry,
    deliver_callback_message,
    queue_callback,
)

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
STATUS = {"id": "imp-1", "status": "ready", "file": {"id": "f~mv2.png"}}


@pytest.fixture
def sqs(aws: str) -> Any:
    return boto3.client("sqs")


@pytest.fixture
def queues(sqs: Any) -> dict[str, str]:
    dlq = sqs.create_queue(QueueName="callbacks-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    main = sqs.create_queue(
        QueueName="callbacks",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
            "VisibilityTimeout": "30",
        },
    )["QueueUrl"]
    return {"main": main, "dlq": dlq}


def registry() -> CallerRegistry:
    return CallerRegistry.from_document(
        {
            "apiKeys": [
                {
                    "id": "acme",
                    "sha256": hash_api_key("k"),
                    "policy": {"folders": ["/acme"]},
                    "callback": {"secret": SECRET},
                }
            ]
        }
    )


def secret_for(callback_ref: str) -> CallbackSecret | None:
    target = registry().callback_for(callback_ref)
    return target.secret if target else None


def receive(sqs: Any, url: str, most: int = 10) -> list[dict[str, Any]]:
    response = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=most, AttributeNames=["ApproximateReceiveCount"]
    )
    return list(response.get("Messages", []))


def consume_once(
    sqs: Any, queue: CallbackQueue, settings: CallbackSettings, sender: CallbackSender
) -> str | None:
    """What Lambda's SQS event source does with one record: run the consumer, delete on success."""
    messages = receive(sqs, queue.queue_url, most=1)
    if not messages:
        return None
    (message,) = messages
    try:
        outcome = deliver_callback_message(
            message["Body"],
            receive_count=int(message["Attributes"]["ApproximateReceiveCount"]),
            receipt_handle=message["ReceiptHandle"],
            sender=sender,
            queue=queue,
            secret_for=secret_for,
            settings=settings,
        )
    except CallbackRetry:
        return "retry"
    sqs.delete_message(QueueUrl=queue.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return outcome


def test_a_receiver_that_is_down_gets_the_event_later_once_with_one_webhook_id(
    sqs: Any,
    queues: dict[str, str],
    callback_receiver: CallbackReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = CallbackQueue(queues["main"], queues["dlq"], client=sqs)
    settings = CallbackSettings(max_attempts=3, backoff_base_s=0)
    sender = CallbackSender(allow_loopback=True)
    message = queue_callback(
        queue, callback_ref="acme", url=callback_receiver.url, kind="import", status_document=STATUS
    )

    callback_receiver.down = True  # attempt 1: the connection is dropped
    assert consume_once(sqs, queue, settings, sender) == "retry"
    callback_receiver.down, callback_receiver.status = False, 503  # attempt 2: 503
    assert consume_once(sqs, queue, settings, sender) == "retry"
    callback_receiver.status = 200  # attempt 3: delivered
    assert consume_once(sqs, queue, settings, sender) == "delivered"
    assert consume_once(sqs, queue, settings, sender) is None

    ids = {d.headers["webhook-id"] for d in callback_receiver.deliveries}
    assert ids == {message.webhook_id}
    assert len(callback_receiver.deliveries) == 2  # the 503 and the 200
    event = Webhook(SECRET).verify(
        callback_receiver.deliveries[-1].body, callback_receiver.deliveries[-1].headers
    )
    assert event["type"] == "import.ready"
    assert event["data"] == STATUS
    assert receive(sqs, queues["dlq"]) == []
    logs = " ".join(str(record.__dict__) for record in caplog.records)
    assert logs.count(message.webhook_id) >= 3  # queued, two failed attempts, delivered ...
    assert SECRET[len("whsec_") :] not in logs  # ... and never the secret


def test_failed_attempts_wait_for_their_backoff(
    sqs: Any, queues: dict[str, str], callback_receiver: CallbackReceiver
) -> None:
    queue = CallbackQueue(queues["main"], queues["dlq"], client=sqs)
    settings = CallbackSettings(max_attempts=3, backoff_base_s=120)
    callback_receiver.status = 500
    queue_callback(
        queue, callback_ref="acme", url=callback_receiver.url, kind="upload", status_document=STATUS
    )
    (message,) = receive(sqs, queues["main"])
    with pytest.raises(CallbackRetry):
        deliver_callback_message(
            message["Body"],
            receive_count=1,
            receipt_handle=message["ReceiptHandle"],
            sender=CallbackSender(allow_loopback=True),
            queue=queue,
            secret_for=secret_for,
            settings=settings,
        )
    assert receive(sqs, queues["main"]) == []  # hidden for the backoff delay
    sqs.change_message_visibility(
        QueueUrl=queues["main"], ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    (again,) = receive(sqs, queues["main"])
    assert again["Body"] == message["Body"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_after_the_last_attempt_the_redrive_policy_dead_letters_it(
    sqs: Any, queues: dict[str, str], callback_receiver: CallbackReceiver
) -> None:
    queue = CallbackQueue(queues["main"], queues["dlq"], client=sqs)
    settings = CallbackSettings(max_attempts=3, backoff_base_s=0)
    sender = CallbackSender(allow_loopback=True)
    callback_receiver.status = 500
    message = queue_callback(
        queue, callback_ref="acme", url=callback_receiver.url, kind="import", status_document=STATUS
    )
    outcomes = [consume_once(sqs, queue, settings, sender) for _ in range(5)]
    assert outcomes == ["retry", "retry", "retry", None, None]
    assert len(callback_receiver.deliveries) == 3
    (dead,) = receive(sqs, queues["dlq"])
    assert CallbackMessage.from_json(dead["Body"]) == message


@pytest.mark.parametrize("with_dlq", [True, False])
def test_what_can_never_succeed_is_not_retried(
    sqs: Any, queues: dict[str, str], callback_receiver: CallbackReceiver, with_dlq: bool
) -> None:
    queue = CallbackQueue(queues["main"], queues["dlq"] if with_dlq else None, client=sqs)
    settings = CallbackSettings(max_attempts=3, backoff_base_s=0)
    deployed = CallbackSender()  # loopback and http refused
    queue_callback(
        queue, callback_ref="acme", url=callback_receiver.url, kind="import", status_document=STATUS
    )
    queue_callback(
        queue,
        callback_ref="nobody",
        url=callback_receiver.url,
        kind="import",
        status_document=STATUS,
    )
    sqs.send_message(QueueUrl=queues["main"], MessageBody='{"webhookId": 1}')
    expected = "dead-lettered" if with_dlq else "dropped"
    outcomes = [consume_once(sqs, queue, settings, deployed) for _ in range(3)]
    assert outcomes == [expected] * 3
    assert consume_once(sqs, queue, settings, deployed) is None
    assert callback_receiver.deliveries == []
    assert len(receive(sqs, queues["dlq"])) == (3 if with_dlq else 0)
