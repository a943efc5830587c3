"""`POST /v1/wix/events`: forged deliveries are refused and change nothing; real ones (captured from
the emulator) verify with WixEventVerifier as received, base64-encoded by the gateway or not;
unknown types and files are acknowledged; the latest state per file wins by
entityEventSequence."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

import jwt
import pytest

from tests.fixtures.callbacks import WixAppKey
from tests.fixtures.readiness import ReadinessRig, wait_until
from wix_relay.domain.wix_events import FILE_FAILED, FILE_READY, FileReady
from wix_relay.integrations.wix.events import WixEventVerifier


def capture_delivery(rig: ReadinessRig) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """An upload whose File Ready went to the test receiver instead of the relay: (the issued
    upload, the PUT's file, the signed body exactly as the emulator sent it)."""
    rig.emulator.set_webhook_urls(rig.receiver.url)
    issued = rig.upload_url()
    put = rig.put_bytes(issued["uploadUrl"])
    wait_until(lambda: rig.receiver.deliveries, "the emulator's delivery")
    return issued, put, rig.receiver.deliveries[0].body


def post_event(rig: ReadinessRig, body: bytes, content_type: str = "text/plain") -> Any:
    return rig.call(
        "POST", "/v1/wix/events", data=body, key="", headers={"Content-Type": content_type}
    )


def test_the_verifier_accepts_the_emulators_real_deliveries(readiness_rig: ReadinessRig) -> None:
    issued, put, body = capture_delivery(readiness_rig)
    emulator = readiness_rig.emulator
    verifier = WixEventVerifier(
        emulator.webhook_public_key, app_id=emulator.app_id, verify_caller_claims=True
    )
    event = verifier.event(body)
    assert isinstance(event, FileReady) and event.file_id == put["id"]
    assert event.external_info is not None
    assert event.external_info.external_ids == (issued["uploadId"],)
    assert event.sequence == 1 and event.id
    tampered = body[:-3] + (b"AAA" if body[-3:] != b"AAA" else b"BBB")
    with pytest.raises(Exception, match="signature"):
        verifier.event(tampered)


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream"])
def test_a_real_delivery_as_received_moves_the_upload_once(
    readiness_rig: ReadinessRig, content_type: str
) -> None:
    issued, put, body = capture_delivery(readiness_rig)
    assert readiness_rig.status(issued["statusUrl"]).json()["status"] == "pending"
    first = post_event(readiness_rig, body, content_type)  # octet-stream: base64 in the event
    assert first.status_code == 200 and first.json()["outcome"] == "moved", first.text
    again = post_event(readiness_rig, body, content_type)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    doc = readiness_rig.status(issued["statusUrl"]).json()
    assert doc["status"] == "ready" and doc["file"]["id"] == put["id"]
    assert len(readiness_rig.queued_callbacks()) == 1


def _forgeries(stranger: WixAppKey, real: bytes, public_pem: str) -> dict[str, bytes]:
    header_b64, payload_b64, _ = real.decode().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload_b64 + "=="))

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    none_token = f"{b64(b'{"alg":"none","typ":"JWT"}')}.{payload_b64}."
    hs_input = f"{b64(b'{"alg":"HS256","typ":"JWT"}')}.{payload_b64}"
    hs_sig = hmac.new(public_pem.encode(), hs_input.encode(), hashlib.sha256).digest()
    return {
        "another key": stranger.token(claims).encode(),
        "alg none": none_token.encode(),
        "HS256 with the public key": f"{hs_input}.{b64(hs_sig)}".encode(),
        "a changed claim": f"{header_b64}.{b64(json.dumps({**claims, 'x': 1}).encode())}."
        f"{real.decode().split('.')[2]}".encode(),
        "garbage": b"not a jwt at all",
        "empty": b"",
        "oversize": b"a" * (300 * 1024),
    }


def test_forged_events_are_refused_and_change_nothing(
    readiness_rig: ReadinessRig, wix_app_key: WixAppKey
) -> None:
    issued, _, real = capture_delivery(readiness_rig)
    forgeries = _forgeries(wix_app_key, real, readiness_rig.emulator.webhook_public_key)
    for name, body in forgeries.items():
        answer = post_event(readiness_rig, body)
        assert answer.status_code in (400, 401), (name, answer.status_code, answer.text)
        assert answer.json()["error"]["code"] in {
            "INVALID_EVENT",
            "INVALID_EVENT_SIGNATURE",
            "EVENT_TOO_LARGE",
        }, name
    assert readiness_rig.status(issued["statusUrl"]).json()["status"] == "pending"
    assert readiness_rig.queued_callbacks() == []
    # ...and the real one still goes through afterwards (no marker was left by the forgeries).
    assert post_event(readiness_rig, real).json()["outcome"] == "moved"


# --- with a key the test holds: event types, unknown files, sequences ------------------------


def domain_event(file_id: str, sequence: int, body: dict[str, Any], slug: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "entityFqdn": "wix.media.site_media.v1.file_descriptor",
        "slug": slug,
        "entityId": file_id,
        "eventTime": "2026-12-01T10:00:00.000Z",
        "entityEventSequence": str(sequence),
        "actionEvent": {"body": body},
    }


def ready_event(key: WixAppKey, file_id: str, sequence: int, upload_id: str | None) -> bytes:
    info = {"origin": "wix-media-relay", "externalIds": [upload_id]} if upload_id else None
    file = {"id": file_id, "displayName": "a.png", "url": f"https://static.example/media/{file_id}"}
    file |= {"operationStatus": "READY", "mediaType": "IMAGE"}
    body = {"file": file, "externalInfo": info, "triggeredByUndelete": False}
    return key.event(FILE_READY, domain_event(file_id, sequence, body, "file_ready"))


def failed_event(key: WixAppKey, file_id: str, sequence: int, upload_id: str) -> bytes:
    body = {
        "externalInfo": {"origin": "wix-media-relay", "externalIds": [upload_id]},
        "error": {"code": "FILE_PROCESSING_FAILED", "description": "broken", "data": {}},
    }
    return key.event(FILE_FAILED, domain_event(file_id, sequence, body, "file_failed"))


def test_unknown_types_and_files_are_acknowledged(
    own_key_rig: ReadinessRig, wix_app_key: WixAppKey
) -> None:
    folder_created = "wix.media.site_media.v1.folder_created"
    other = wix_app_key.event(folder_created, domain_event("x", 1, {}, "c"))
    assert post_event(own_key_rig, other).json()["outcome"] == "ignored"
    stray = ready_event(wix_app_key, "stray~mv2.png", 1, None)
    assert post_event(own_key_rig, stray).json()["outcome"] == "unmatched"
    foreign = ready_event(wix_app_key, "f2~mv2.png", 1, "upl-" + "1" * 32)
    assert post_event(own_key_rig, foreign).json()["outcome"] == "unchanged"


def test_a_stale_event_does_not_move_a_file_back(
    own_key_rig: ReadinessRig, wix_app_key: WixAppKey
) -> None:
    issued = own_key_rig.upload_url()
    upload_id, file_id = issued["uploadId"], "seq~mv2.png"
    newer = failed_event(wix_app_key, file_id, 2, upload_id)
    older = ready_event(wix_app_key, file_id, 1, upload_id)
    assert post_event(own_key_rig, newer).json()["outcome"] == "moved"
    assert post_event(own_key_rig, older).json()["outcome"] == "stale"
    doc = own_key_rig.status(issued["statusUrl"]).json()
    assert doc["status"] == "failed" and doc["error"]["code"] == "FILE_PROCESSING_FAILED"
    assert len(own_key_rig.queued_callbacks()) == 1


def test_without_a_key_the_route_asks_wix_to_retry(readiness_rig: ReadinessRig) -> None:
    readiness_rig.relay.configure(WIX_EVENTS_PUBLIC_KEY=None)
    answer = post_event(readiness_rig, b"x.y.z")
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "EVENTS_NOT_CONFIGURED"


def test_the_events_route_takes_no_caller_credential(
    own_key_rig: ReadinessRig, wix_app_key: WixAppKey
) -> None:
    """Public: a caller's API key is neither needed nor looked at."""
    body = ready_event(wix_app_key, "pub~mv2.png", 1, None)
    answer = own_key_rig.call(
        "POST", "/v1/wix/events", data=body, key="wrong-key", headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 200
    assert jwt.get_unverified_header(body.decode())["alg"] == "RS256"
