"""A callback whose SQS send fails right after the transition is not lost (the outbox,
domain/callbacks.py): the request that made the transition fails retryably (a clean 503 with
CALLBACK_NOT_QUEUED, no stack trace), its retry queues exactly one callback under the webhook-id
the transition wrote, and a duplicate after that queues none. Over moto server + the emulator;
the first SendMessage of the callback queue fails (a wrapper around the real port). Entry points:
Wix events, the emulator's own retry, a status read, a resumable upload's report, the worker's
delayed check, and an import the worker itself fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from local_stack.worker_loop import to_record
from standardwebhooks import Webhook

from tests.fixtures.api import PARTNER_KEY
from tests.fixtures.callbacks import WixAppKey
from tests.fixtures.readiness import CALLBACK_SECRET, ReadinessRig, wait_until
from tests.integration.readiness.test_readiness_events import post_event, ready_event
from tests.integration.readiness.test_readiness_resumable import report, resumable_url, tus_upload
from tests.integration.readiness.test_readiness_worker import (
    INBOX,
    put,
    run_worker,
    take_jobs_messages,
)
from wix_relay.domain.callbacks import CallbackMessage
from wix_relay.integrations.callback_queue import CallbackQueue


class SendFailsOnce:
    """The callback queue's first SendMessage raises (SQS unreachable); later ones are real."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.refused: list[CallbackMessage] = []
        real: Callable[..., str] = CallbackQueue.send

        def send(queue: CallbackQueue, message: CallbackMessage, delay_s: int = 0) -> str:
            if not self.refused:
                self.refused.append(message)
                raise ConnectionError("SQS is unreachable (test)")
            return real(queue, message, delay_s)

        monkeypatch.setattr(CallbackQueue, "send", send)

    @property
    def webhook_id(self) -> str:
        (message,) = self.refused
        return message.webhook_id


@pytest.fixture
def send_fails_once(monkeypatch: pytest.MonkeyPatch) -> SendFailsOnce:
    return SendFailsOnce(monkeypatch)


def assert_clean_503(answer: Any) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "CALLBACK_NOT_QUEUED"
    assert answer.headers["retry-after"] == "5"
    assert "Traceback" not in answer.text and "ConnectionError" not in answer.text


def delivered_once(rig: ReadinessRig, webhook_id: str) -> dict[str, Any]:
    """Exactly one callback on the queue, with `webhook_id`; delivered and verified."""
    (queued,) = rig.queued_callbacks()
    assert queued["webhookId"] == webhook_id
    rig.drain_callbacks()
    (delivery,) = rig.receiver.deliveries
    assert delivery.headers["webhook-id"] == webhook_id
    event: dict[str, Any] = Webhook(CALLBACK_SECRET).verify(delivery.body, delivery.headers)
    return event


def test_a_wix_event_whose_callback_was_not_queued_is_redelivered_and_queues_it_once(
    own_key_rig: ReadinessRig, wix_app_key: WixAppKey, send_fails_once: SendFailsOnce
) -> None:
    rig = own_key_rig
    issued = rig.upload_url()
    event = ready_event(wix_app_key, "outbox~mv2.png", 1, issued["uploadId"])
    assert_clean_503(post_event(rig, event))  # Wix redelivers a non-2xx answer
    assert rig.queued_callbacks() == []
    assert rig.status(issued["statusUrl"]).json()["status"] == "ready"  # the transition held
    assert post_event(rig, event).json()["outcome"] == "unchanged"  # Wix's redelivery
    assert post_event(rig, event).json()["outcome"] == "duplicate"  # and one more
    callback = delivered_once(rig, send_fails_once.webhook_id)
    assert callback["type"] == "upload.ready"
    assert callback["data"] == rig.status(issued["statusUrl"]).json()


def test_the_emulators_own_retry_delivers_the_callback(
    readiness_rig: ReadinessRig, send_fails_once: SendFailsOnce
) -> None:
    """The same, end to end: the emulator's File Ready gets a 503 and is retried by the
    emulator (as Wix retries), and that retry queues the callback."""
    issued = readiness_rig.upload_url()
    readiness_rig.put_bytes(issued["uploadUrl"])
    readiness_rig.wait_status(issued["statusUrl"], {"ready"})
    readiness_rig.settle_events()
    attempts = [d["attempts"] for d in readiness_rig.emulator.webhooks()]
    assert attempts == [2], readiness_rig.emulator.webhooks()
    assert delivered_once(readiness_rig, send_fails_once.webhook_id)["type"] == "upload.ready"


def test_a_read_of_the_status_queues_a_callback_that_is_still_due(
    own_key_rig: ReadinessRig, wix_app_key: WixAppKey, send_fails_once: SendFailsOnce
) -> None:
    issued = own_key_rig.upload_url()
    event = ready_event(wix_app_key, "read~mv2.png", 1, issued["uploadId"])
    assert_clean_503(post_event(own_key_rig, event))
    assert own_key_rig.status(issued["statusUrl"]).json()["status"] == "ready"
    assert own_key_rig.status(issued["statusUrl"]).status_code == 200
    delivered_once(own_key_rig, send_fails_once.webhook_id)
    assert post_event(own_key_rig, event).json()["outcome"] == "unchanged"
    assert own_key_rig.queued_callbacks() == []  # queued once, never again


def receive_check(rig: ReadinessRig) -> dict[str, Any]:
    """The delayed readiness check as Lambda's event source mapping hands it to the worker
    (received, not deleted: a failed record comes back)."""
    sqs = boto3.client("sqs")
    queue = rig.env["RELAY_QUEUE_URL"]
    (message,) = sqs.receive_message(
        QueueUrl=queue, WaitTimeSeconds=5, MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert json.loads(message["Body"])["readinessCheck"] == 1
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    return {"Records": [to_record(message, arn["QueueArn"])]}


def test_an_import_moved_by_the_worker_queues_its_callback_on_the_redelivery(
    readiness_rig: ReadinessRig, send_fails_once: SendFailsOnce
) -> None:
    """Events off: the worker's delayed readiness check moves the import; the send fails, so
    the check's record fails (SQS redelivers it), and the redelivered check queues the
    callback; one more delivery of it queues none."""
    rig = readiness_rig
    off = {"WIX_EVENTS_PUBLIC_KEY": None, "RELAY_READY_CHECK_DELAY_SECONDS": "1"}
    rig.emulator.set_webhook_urls()  # Wix sends nothing either
    put("acme/outbox.png")
    created = rig.call(
        "POST", "/v1/imports", {"bucket": INBOX, "key": "acme/outbox.png"}, key=PARTNER_KEY
    )
    assert created.status_code == 202, created.text
    (message,) = take_jobs_messages(rig)
    assert run_worker(rig, json.loads(message), **off) == {"processed": 1}
    check = receive_check(rig)
    failed = run_worker(rig, check, **off)
    assert failed["batchItemFailures"], failed  # the record comes back (in seconds)
    status = rig.call("GET", created.headers["location"], key=PARTNER_KEY).json()
    assert status["status"] == "ready" and rig.queued_callbacks() == []
    assert run_worker(rig, check, **off) == {"batchItemFailures": []}  # the redelivery
    assert run_worker(rig, check, **off) == {"batchItemFailures": []}  # and one more
    callback = delivered_once(rig, send_fails_once.webhook_id)
    assert callback["type"] == "import.ready" and callback["data"] == status
    assert rig.wix_calls("get-file") == 1  # the redeliveries did not ask Wix again


def test_an_import_that_fails_in_the_worker_gets_one_failed_callback(
    readiness_rig: ReadinessRig,
) -> None:
    """A job the worker itself ends (the object is gone before it runs) gets its outbox and
    one import.failed callback; a redelivery of its message queues none."""
    rig = readiness_rig
    put("acme/vanishing.png")
    created = rig.call(
        "POST", "/v1/imports", {"bucket": INBOX, "key": "acme/vanishing.png"}, key=PARTNER_KEY
    )
    assert created.status_code == 202, created.text
    (message,) = take_jobs_messages(rig)
    boto3.client("s3").delete_object(Bucket=INBOX, Key="acme/vanishing.png")
    for _ in range(2):  # the delivery, then a redelivery
        assert run_worker(rig, json.loads(message)) == {"processed": 1}
    status = rig.call("GET", created.headers["location"], key=PARTNER_KEY).json()
    assert status["status"] == "failed", status
    (queued,) = rig.queued_callbacks()
    callback = delivered_once(rig, queued["webhookId"])
    assert callback["type"] == "import.failed" and callback["data"] == status


def test_a_reported_file_whose_callback_was_not_queued_is_queued_by_the_repeated_report(
    readiness_rig: ReadinessRig, send_fails_once: SendFailsOnce
) -> None:
    """`POST /v1/uploads/{id}/file` (a resumable upload): the report that moves the upload gets
    503 CALLBACK_NOT_QUEUED; the caller's retry of it answers ready and queues the callback."""
    rig = readiness_rig
    issued = resumable_url(rig)
    file_id = tus_upload(rig, issued)
    wait_until(
        lambda: [d for d in rig.emulator.webhooks() if d["state"] == "delivered"],
        "the File Ready delivery",
    )
    assert_clean_503(report(rig, issued, file_id))
    assert rig.queued_callbacks() == []
    again = report(rig, issued, file_id)
    assert again.status_code == 200 and again.json()["status"] == "ready", again.text
    assert report(rig, issued, file_id).json() == again.json()
    callback = delivered_once(rig, send_fails_once.webhook_id)
    assert callback["type"] == "upload.ready" and callback["data"] == again.json()
