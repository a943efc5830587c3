"""Partner callbacks end to end: an upload of a caller with a callback ends → exactly one message on
the callback queue → the consumer Lambda (handlers/callbacks.py) POSTs it, verified here with the
third-party `standardwebhooks` package; a receiver that is down gets it later, once; a callback
URL resolving to loopback is refused in deployed mode."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from tests.fixtures.readiness import CALLBACK_SECRET, ReadinessRig, readiness_registry


def finished_upload(rig: ReadinessRig) -> dict[str, object]:
    issued = rig.upload_url()
    rig.put_bytes(issued["uploadUrl"])
    return rig.wait_status(issued["statusUrl"], {"ready", "failed"})


def test_one_signed_callback_per_finished_upload(readiness_rig: ReadinessRig) -> None:
    status = finished_upload(readiness_rig)
    assert len(readiness_rig.queued_callbacks()) == 1
    readiness_rig.drain_callbacks()
    (delivery,) = readiness_rig.receiver.deliveries
    event = Webhook(CALLBACK_SECRET).verify(delivery.body, delivery.headers)
    assert event["type"] == "upload.ready"
    assert event["data"] == status
    assert delivery.headers["webhook-id"].startswith("msg_")
    assert readiness_rig.queued_callbacks() == [] and readiness_rig.dead_letters() == []


def test_a_receiver_that_is_down_gets_the_callback_later_once(readiness_rig: ReadinessRig) -> None:
    finished_upload(readiness_rig)
    (queued,) = readiness_rig.queued_callbacks()
    readiness_rig.receiver.down = True
    answers = readiness_rig.drain_callbacks(rounds=2)
    assert answers and all(a["batchItemFailures"] for a in answers)
    assert readiness_rig.receiver.deliveries == []
    readiness_rig.receiver.down = False
    readiness_rig.drain_callbacks()
    (delivery,) = readiness_rig.receiver.deliveries
    assert delivery.headers["webhook-id"] == queued["webhookId"]  # the same id on every attempt
    Webhook(CALLBACK_SECRET).verify(delivery.body, delivery.headers)
    assert readiness_rig.queued_callbacks() == [] and readiness_rig.dead_letters() == []


def test_a_callback_url_resolving_to_loopback_is_refused_deployed(
    readiness_rig: ReadinessRig, jwks_server: object
) -> None:
    port = urlsplit(readiness_rig.receiver.url).port
    loopback_name = f"https://localhost:{port}/hooks/"
    registry = readiness_registry(jwks_server.url, loopback_name)  # type: ignore[attr-defined]
    readiness_rig.relay.configure(RELAY_CALLERS_JSON=json.dumps(registry))
    finished_upload(readiness_rig)
    (queued,) = readiness_rig.queued_callbacks()
    assert queued["url"] == loopback_name
    deployed = readiness_rig.consumer(RELAY_CALLBACK_ALLOW_LOOPBACK="false")
    readiness_rig.drain_callbacks(deployed)
    assert readiness_rig.receiver.deliveries == []
    (dead,) = readiness_rig.dead_letters()
    assert json.loads(dead["Body"])["webhookId"] == queued["webhookId"]
    assert readiness_rig.queued_callbacks() == []
