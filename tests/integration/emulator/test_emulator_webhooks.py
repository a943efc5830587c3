"""File Ready / File Failed delivery: at-least-once retries, the control switches, the log,
per-type processing time, the signing key. (The envelope itself is proven by the official SDK's
parser in tests/wix_sdk_oracle/test_sdk_webhooks.py.)"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from wix_emulator import EmulatorConfig, RunningEmulator, start_emulator

from tests.fixtures.net import closed_port_url
from tests.integration.emulator.emulator_helpers import WixCalls
from tests.integration.emulator.webhook_receiver import WebhookReceiver, wait_until

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000040000000308060000009b5b3d1a"
    "0000001049444154789c63f8cfc0f09f8181e13f0300150506fb3a3f4e1d000000"
    "0049454e44ae426082"
)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """Webhook URLs are set per test through the control API."""
    em = start_emulator(EmulatorConfig(processing_ms=0, webhook_retry_ms=(20, 40)), port=0)
    try:
        yield em
    finally:
        em.stop()


@pytest.fixture
def wix(emulator: RunningEmulator) -> Iterator[WixCalls]:
    try:
        yield WixCalls(emulator)
    finally:
        emulator.reset()


def decode(emulator: RunningEmulator, body: bytes) -> dict[str, Any]:
    """The domain event of a delivery, verified with the published key."""
    claims = jwt.decode(
        body, emulator.webhook_public_key, algorithms=["RS256"], audience=emulator.app_id
    )
    envelope = json.loads(claims["data"])
    event: dict[str, Any] = json.loads(envelope["data"])
    event["eventType"] = envelope["eventType"]
    return event


def upload(wix: WixCalls, name: str = "a.png", mime: str = "image/png", data: bytes = PNG) -> str:
    r = wix.put(wix.upload_url(mimeType=mime, fileName=name), data, mime)
    assert r.status_code == 200, r.text
    return str(r.json()["file"]["id"])


def test_no_url_no_delivery(wix: WixCalls, emulator: RunningEmulator) -> None:
    file_id = upload(wix)
    assert wix.wait(file_id)["operationStatus"] == "READY"
    assert emulator.webhooks() == []


def test_public_key_is_pem_and_verifies(
    wix: WixCalls, emulator: RunningEmulator, receiver: WebhookReceiver
) -> None:
    pem = requests.get(emulator.url + "/_emulator/webhook-public-key", timeout=10)
    assert pem.status_code == 200 and pem.text.startswith("-----BEGIN PUBLIC KEY-----")
    emulator.set_webhook_urls(receiver.url)
    file_id = upload(wix)
    (body,) = receiver.wait_for(1)
    event = decode(emulator, body)
    assert event["entityId"] == file_id and event["slug"] == "file_ready"
    assert event["entityEventSequence"] == "1"
    assert receiver.headers[0]["Content-Type"].startswith("text/plain")


def test_every_url_of_the_list_gets_the_event(wix: WixCalls, emulator: RunningEmulator) -> None:
    with WebhookReceiver() as one, WebhookReceiver() as two:
        emulator.set_webhook_urls(one.url, two.url)
        upload(wix)
        assert (
            decode(emulator, one.wait_for(1)[0])["id"]
            == (decode(emulator, two.wait_for(1)[0])["id"])
        )


def test_non_2xx_is_retried_until_accepted(wix: WixCalls, emulator: RunningEmulator) -> None:
    with WebhookReceiver(statuses=[500, 503]) as flaky:
        emulator.set_webhook_urls(flaky.url)
        upload(wix)
        first, second, third = flaky.wait_for(3)
        assert first == second == third  # the same signed body, same event id
        wait_until(lambda: emulator.webhooks()[0]["state"] == "delivered")
        (entry,) = emulator.webhooks()
        assert (entry["attempts"], entry["lastStatus"]) == (3, 200)


def test_no_answer_is_retried_then_given_up(wix: WixCalls, emulator: RunningEmulator) -> None:
    emulator.set_webhook_urls(closed_port_url("/nobody"))
    file_id = upload(wix)
    wait_until(lambda: emulator.webhooks() and emulator.webhooks()[0]["state"] == "failed")
    (entry,) = emulator.webhooks()
    assert entry["fileId"] == file_id and entry["attempts"] == 3  # 1 + two retries
    assert entry["lastStatus"] is None and entry["lastError"] == "ConnectionError"


def test_fail_next_sends_file_failed(
    wix: WixCalls, emulator: RunningEmulator, receiver: WebhookReceiver
) -> None:
    emulator.set_webhook_urls(receiver.url)
    emulator.fail_next()
    file_id = upload(wix)
    event = decode(emulator, receiver.wait_for(1)[0])
    assert event["eventType"].endswith("file_failed") and event["entityId"] == file_id
    assert event["actionEvent"]["body"]["error"]["code"] == "FILE_PROCESSING_FAILED"
    assert "file" not in event["actionEvent"]["body"]  # [doc] the id only in entityId


def test_failed_import_sends_file_failed_with_its_reason(
    wix: WixCalls, emulator: RunningEmulator, receiver: WebhookReceiver
) -> None:
    emulator.set_webhook_urls(receiver.url)
    r = wix.post(
        "/site-media/v1/files/import", {"url": closed_port_url("/nobody"), "mimeType": "image/png"}
    )
    event = decode(emulator, receiver.wait_for(1)[0])
    assert event["entityId"] == r.json()["file"]["id"]
    assert event["actionEvent"]["body"]["error"]["code"] == "IMPORT_FETCH_FAILED"


def test_duplicate_switch(
    wix: WixCalls, emulator: RunningEmulator, receiver: WebhookReceiver
) -> None:
    emulator.set_webhook_urls(receiver.url)
    emulator.webhook_switch("duplicate")
    upload(wix)
    first, second = (decode(emulator, b) for b in receiver.wait_for(2))
    assert first["id"] == second["id"]  # a consumer de-duplicates on the event id
    assert sorted(str(d["note"]) for d in emulator.webhooks()) == ["None", "duplicate"]


def test_drop_switch(wix: WixCalls, emulator: RunningEmulator, receiver: WebhookReceiver) -> None:
    emulator.set_webhook_urls(receiver.url)
    emulator.webhook_switch("drop")
    dropped = upload(wix, "a.png")
    kept = upload(wix, "b.png")
    (body,) = receiver.wait_for(1)
    assert decode(emulator, body)["entityId"] == kept
    states = {d["fileId"]: d["state"] for d in emulator.webhooks()}
    assert states == {dropped: "dropped", kept: "delivered"}


def test_reorder_switch(
    wix: WixCalls, emulator: RunningEmulator, receiver: WebhookReceiver
) -> None:
    emulator.set_webhook_urls(receiver.url)
    emulator.webhook_switch("reorder", hold_ms=30000)
    first = upload(wix, "a.png")
    wait_until(lambda: len(emulator.webhooks()) == 1)  # held
    assert receiver.bodies == []
    second = upload(wix, "b.png")
    arrived = [decode(emulator, b)["entityId"] for b in receiver.wait_for(2)]
    assert arrived == [second, first]


def test_delay_switch(wix: WixCalls, emulator: RunningEmulator, receiver: WebhookReceiver) -> None:
    emulator.set_webhook_urls(receiver.url)
    emulator.webhook_switch("delay", delay_ms=800)
    delayed = upload(wix, "a.png")
    wait_until(lambda: len(emulator.webhooks()) == 1)
    prompt = upload(wix, "b.png")
    arrived = [decode(emulator, b)["entityId"] for b in receiver.wait_for(2)]
    assert arrived == [prompt, delayed]


def test_processing_time_per_media_type(receiver: WebhookReceiver) -> None:
    cfg = EmulatorConfig(
        processing_ms=0, processing_ms_by_type={"video": 800}, webhook_urls=(receiver.url,)
    )
    with start_emulator(cfg, port=0) as em:
        wix = WixCalls(em)
        video = upload(wix, "clip.mp4", "video/mp4", b"\x00\x00\x00\x18ftypisom" + bytes(64))
        image = upload(wix, "a.png")
        assert wix.file(video).json()["file"]["operationStatus"] == "PENDING"
        arrived = [decode(em, b)["entityId"] for b in receiver.wait_for(2)]
        assert arrived == [image, video]


def test_clock_advance_finishes_processing_and_sends(receiver: WebhookReceiver) -> None:
    cfg = EmulatorConfig(processing_ms=3_600_000, webhook_urls=(receiver.url,))
    with start_emulator(cfg, port=0) as em:
        file_id = upload(WixCalls(em))
        em.advance_clock(3601)
        assert decode(em, receiver.wait_for(1)[0])["entityId"] == file_id


def test_queue_is_bounded(receiver: WebhookReceiver) -> None:
    cfg = EmulatorConfig(processing_ms=0, webhook_urls=(receiver.url,), webhook_queue_max=1)
    with start_emulator(cfg, port=0) as em:
        em.webhook_switch("delay", delay_ms=60000)
        wix = WixCalls(em)
        upload(wix, "a.png")
        wait_until(lambda: len(em.webhooks()) == 1)
        upload(wix, "b.png")
        wait_until(lambda: len(em.webhooks()) == 2)
        assert [d["note"] for d in em.webhooks()] == ["delayed", "queue full"]


def test_switch_validation(emulator: RunningEmulator) -> None:
    bad = requests.post(
        emulator.url + "/_emulator/webhooks/faults", json={"action": "explode"}, timeout=10
    )
    assert bad.status_code == 400
    urls = requests.put(emulator.url + "/_emulator/webhooks/urls", json={"urls": ["x"]}, timeout=10)
    assert urls.status_code == 400


def test_private_key_from_the_environment() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    cfg = EmulatorConfig.from_env(
        {
            "WIX_EMULATOR_WEBHOOK_PRIVATE_KEY": pem,
            "WIX_EMULATOR_WEBHOOK_URL": "http://a.test/x, http://b.test/y",
            "WIX_EMULATOR_WEBHOOK_RETRY_MS": "10,20,30",
            "WIX_EMULATOR_PROCESSING_MS_BY_TYPE": '{"video": 5000}',
            "WIX_EMULATOR_REUSED_TOKEN_429": "true",
        }
    )
    assert cfg.webhook_urls == ("http://a.test/x", "http://b.test/y")
    assert cfg.webhook_retry_ms == (10, 20, 30)
    assert cfg.processing_ms_for("video") == 5000 and cfg.processing_ms_for("image") == 100
    assert cfg.reused_token_429
    assert EmulatorConfig.from_env({"WIX_EMULATOR_WEBHOOK_RETRY_MS": ""}).webhook_retry_ms == ()
    with start_emulator(cfg, port=0) as em:
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert em.webhook_public_key == public.decode()
    with pytest.raises(ValueError, match="PROCESSING_MS_BY_TYPE"):
        EmulatorConfig.from_env({"WIX_EMULATOR_PROCESSING_MS_BY_TYPE": "[1]"})


def test_reused_upload_token_answers_429_when_switched_on() -> None:
    with start_emulator(EmulatorConfig(processing_ms=0, reused_token_429=True), port=0) as em:
        wix = WixCalls(em)
        url = wix.upload_url(mimeType="image/png", fileName="a.png")
        assert wix.put(url, PNG, "image/png").status_code == 200
        again = wix.put(url, PNG, "image/png")
        assert again.status_code == 429
        assert again.json()["details"]["applicationError"]["code"] == "RESOURCE_EXHAUSTED"


def test_a_stuck_receiver_never_blocks_the_api(wix: WixCalls, emulator: RunningEmulator) -> None:
    """Deliveries run on their own threads: while every worker waits on a receiver that does not
    answer, uploads and reads are served and their events queue up."""
    release = threading.Event()

    class Stuck(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            release.wait(30)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stuck)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        emulator.set_webhook_urls(f"http://127.0.0.1:{server.server_address[1]}/stuck")
        ids = [upload(wix, f"f{i}.png") for i in range(6)]  # more events than the 4 workers
        for file_id in ids:
            assert wix.wait(file_id)["operationStatus"] == "READY"
        wait_until(lambda: len(emulator.webhooks()) == 6)
        assert all(d["state"] == "pending" for d in emulator.webhooks())
        release.set()
        wait_until(lambda: all(d["state"] == "delivered" for d in emulator.webhooks()))
    finally:
        release.set()
        server.shutdown()
        server.server_close()
