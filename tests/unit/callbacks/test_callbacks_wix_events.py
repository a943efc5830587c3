"""Wix events: RS256 verification of the raw body and decoding of the JSON-string layers.

Tokens are signed here with a fresh RSA key (tests/fixtures/callbacks.py), shaped as
docs/wix-facts.md "Events" describes them."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.fixtures.callbacks import APP_ID, INSTANCE_ID, WixAppKey
from wix_relay.domain.wix_events import (
    FILE_FAILED,
    FILE_READY,
    EventMalformed,
    EventSignatureInvalid,
    EventTooLarge,
    FileFailed,
    FileReady,
    UnknownEvent,
    decode_event,
)
from wix_relay.integrations.wix.events import WixEventVerifier, load_public_key

FILE = {
    "id": "abc_123~mv2.png",
    "displayName": "a.png",
    "url": "https://static.wixstatic.com/media/abc_123~mv2.png",
    "mediaType": "IMAGE",
    "operationStatus": "READY",
    "sizeInBytes": "68",
}
EXTERNAL = {"origin": "wix-media-relay", "externalIds": ["job-1"]}


def ready_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "evt-1",
        "entityFqdn": "wix.media.site_media.v1.file_descriptor",
        "slug": "file_ready",
        "entityId": FILE["id"],
        "eventTime": "2026-12-01T09:00:00.000Z",
        "entityEventSequence": "7",
        "actionEvent": {"body": {"file": FILE, "externalInfo": EXTERNAL}},
    }
    event.update(overrides)
    return event


def failed_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "evt-2",
        "entityFqdn": "wix.media.site_media.v1.file_descriptor",
        "slug": "file_failed",
        "entityId": "bad_file~mv2.mp4",
        "eventTime": "2026-12-01T09:00:01.000Z",
        "entityEventSequence": "3",
        "actionEvent": {
            "bodyAsJson": json.dumps(
                {
                    "externalInfo": EXTERNAL,
                    "error": {"code": "TRANSCODE_FAILED", "description": "bad codec", "data": {}},
                }
            )
        },
    }
    event.update(overrides)
    return event


@pytest.fixture
def verifier(wix_app_key: WixAppKey) -> WixEventVerifier:
    return WixEventVerifier(wix_app_key.public_pem)


# --- decoding --------------------------------------------------------------------------------
def test_file_ready_decodes_every_layer(wix_app_key: WixAppKey, verifier: WixEventVerifier) -> None:
    event = verifier.event(wix_app_key.event(FILE_READY, ready_event()))
    assert isinstance(event, FileReady)
    assert (event.id, event.event_type, event.file_id, event.sequence) == (
        "evt-1",
        FILE_READY,
        FILE["id"],
        7,
    )
    assert event.file["url"] == FILE["url"]
    assert event.external_info is not None
    assert event.external_info.origin == "wix-media-relay"
    assert event.external_info.external_ids == ("job-1",)
    assert event.instance_id == INSTANCE_ID
    assert event.identity == {"identityType": "APP", "appId": APP_ID}
    assert event.account_info == {"accountId": "acc-1", "siteId": "site-1"}
    assert event.event_time == "2026-12-01T09:00:00.000Z"
    assert event.slug == "file_ready"


def test_file_failed_reads_the_file_id_from_entity_id(
    wix_app_key: WixAppKey, verifier: WixEventVerifier
) -> None:
    event = verifier.event(wix_app_key.event(FILE_FAILED, failed_event()))
    assert isinstance(event, FileFailed)
    assert event.file_id == "bad_file~mv2.mp4"
    assert (event.error_code, event.error_description) == ("TRANSCODE_FAILED", "bad codec")
    assert event.external_info is not None and event.external_info.external_ids == ("job-1",)
    assert event.sequence == 3


@pytest.mark.parametrize(
    "action",
    [
        {"body": {"file": FILE, "externalInfo": EXTERNAL}},
        {"body": json.dumps({"file": FILE, "externalInfo": EXTERNAL})},
        {"bodyAsJson": {"file": FILE, "externalInfo": EXTERNAL}},
        {"bodyAsJson": json.dumps({"file": FILE, "externalInfo": EXTERNAL})},
    ],
    ids=["body-object", "body-string", "bodyAsJson-object", "bodyAsJson-string"],
)
def test_body_and_body_as_json_both_decode(
    wix_app_key: WixAppKey, verifier: WixEventVerifier, action: dict[str, Any]
) -> None:
    event = verifier.event(wix_app_key.event(FILE_READY, ready_event(actionEvent=action)))
    assert isinstance(event, FileReady)
    assert event.file["id"] == FILE["id"]
    assert event.external_info is not None and event.external_info.external_ids == ("job-1",)


def test_unknown_event_types_decode_for_acknowledgement(
    wix_app_key: WixAppKey, verifier: WixEventVerifier
) -> None:
    body = wix_app_key.event(
        "wix.media.site_media.v1.file_descriptor_updated",
        {"id": "evt-9", "entityId": "x", "updatedEvent": {"currentEntity": {}}},
    )
    event = verifier.event(body)
    assert isinstance(event, UnknownEvent)
    assert (event.id, event.event_type, event.entity_id) == (
        "evt-9",
        "wix.media.site_media.v1.file_descriptor_updated",
        "x",
    )


def test_sequence_accepts_int_and_string_and_absence() -> None:
    def claims(seq: Any) -> dict[str, Any]:
        envelope = {
            "eventType": FILE_READY,
            "data": json.dumps(ready_event(entityEventSequence=seq)),
        }
        return {"data": json.dumps(envelope)}

    assert decode_event(claims(12)).sequence == 12
    assert decode_event(claims("9007199254740993")).sequence == 9007199254740993
    assert decode_event(claims(None)).sequence is None
    for bad in ("1e3", "7 ", True, 1.5, "²"):
        with pytest.raises(EventMalformed):
            decode_event(claims(bad))


def test_account_info_falls_back_to_the_outer_claims() -> None:
    envelope = {"eventType": FILE_READY, "data": json.dumps(ready_event())}
    claims = {"data": json.dumps(envelope), "accountInfo": {"accountId": "outer"}}
    assert decode_event(claims).account_info == {"accountId": "outer"}


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({}, "data claim"),
        ({"data": "not json"}, "not JSON"),
        ({"data": "[1]"}, "JSON object"),
        ({"data": json.dumps({"data": "{}"})}, "eventType"),
        ({"data": json.dumps({"eventType": FILE_READY, "data": "{"})}, "not JSON"),
        ({"data": json.dumps({"eventType": FILE_READY, "data": "{}"})}, "no id"),
        (
            {"data": json.dumps({"eventType": FILE_READY, "data": json.dumps({"id": "e"})})},
            "actionEvent",
        ),
        (
            {
                "data": json.dumps(
                    {"eventType": FILE_READY, "data": json.dumps(ready_event(actionEvent={}))}
                )
            },
            "neither body nor bodyAsJson",
        ),
        (
            {
                "data": json.dumps(
                    {
                        "eventType": FILE_READY,
                        "data": json.dumps(ready_event(actionEvent={"body": {"file": []}})),
                    }
                )
            },
            "file descriptor",
        ),
        (
            {
                "data": json.dumps(
                    {"eventType": FILE_READY, "data": json.dumps(ready_event(entityId="other"))}
                )
            },
            "differ",
        ),
        (
            {
                "data": json.dumps(
                    {"eventType": FILE_FAILED, "data": json.dumps(failed_event(entityId=None))}
                )
            },
            "entityId",
        ),
        (
            {
                "data": json.dumps(
                    {
                        "eventType": FILE_READY,
                        "data": json.dumps(
                            ready_event(
                                actionEvent={
                                    "body": {"file": FILE, "externalInfo": {"externalIds": "x"}}
                                }
                            )
                        ),
                    }
                )
            },
            "externalIds",
        ),
    ],
)
def test_malformed_layers_are_refused_with_400(claims: dict[str, Any], message: str) -> None:
    with pytest.raises(EventMalformed, match=message) as info:
        decode_event(claims)
    assert info.value.status == 400


# --- refusals of the signature check ----------------------------------------------------------
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> bytes:
    return ".".join(
        [
            _b64url(json.dumps(header).encode()),
            _b64url(json.dumps(claims).encode()),
            _b64url(signature),
        ]
    ).encode()


def test_alg_none_is_refused(wix_app_key: WixAppKey, verifier: WixEventVerifier) -> None:
    claims = wix_app_key.event_claims(FILE_READY, ready_event())
    for alg in ("none", "None", "NONE"):
        with pytest.raises(EventSignatureInvalid) as info:
            verifier.claims(_unsigned({"alg": alg, "typ": "JWT"}, claims))
        assert info.value.status == 401


def test_hs256_signed_with_the_public_key_is_refused(
    wix_app_key: WixAppKey, verifier: WixEventVerifier
) -> None:
    import hashlib
    import hmac

    claims = wix_app_key.event_claims(FILE_READY, ready_event())
    head = _unsigned({"alg": "HS256", "typ": "JWT"}, claims).rsplit(b".", 1)[0]
    mac = hmac.new(wix_app_key.public_pem.encode(), head, hashlib.sha256).digest()
    with pytest.raises(EventSignatureInvalid):
        verifier.claims(head + b"." + _b64url(mac).encode())


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256"])
def test_other_rsa_algorithms_with_the_right_key_are_refused(
    wix_app_key: WixAppKey, verifier: WixEventVerifier, alg: str
) -> None:
    claims = wix_app_key.event_claims(FILE_READY, ready_event())
    token = jwt.encode(claims, wix_app_key.private_key, algorithm=alg)
    with pytest.raises(EventSignatureInvalid, match="RS256"):
        verifier.claims(token.encode())


def test_es256_is_refused(wix_app_key: WixAppKey, verifier: WixEventVerifier) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(wix_app_key.event_claims(FILE_READY, ready_event()), key, algorithm="ES256")
    with pytest.raises(EventSignatureInvalid):
        verifier.claims(token)


def test_a_token_signed_by_another_key_is_refused(
    wix_app_key: WixAppKey, verifier: WixEventVerifier
) -> None:
    other = WixAppKey(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with pytest.raises(EventSignatureInvalid, match="signature"):
        verifier.claims(other.event(FILE_READY, ready_event()))


def test_a_tampered_payload_is_refused(wix_app_key: WixAppKey, verifier: WixEventVerifier) -> None:
    header, _, signature = wix_app_key.event(FILE_READY, ready_event()).split(b".")
    forged = wix_app_key.event_claims(FILE_READY, ready_event(entityId="someone-else"))
    payload = _b64url(json.dumps(forged).encode()).encode()
    with pytest.raises(EventSignatureInvalid):
        verifier.claims(b".".join([header, payload, signature]))


def test_the_raw_body_is_verified_exactly_as_received(
    wix_app_key: WixAppKey, verifier: WixEventVerifier
) -> None:
    body = wix_app_key.event(FILE_READY, ready_event())
    assert verifier.claims(body)["iss"] == "wix.com"
    # a trailing newline is outside the signed part (@wix/sdk's jose accepts it too) ...
    assert verifier.claims(body + b"\r\n")["iss"] == "wix.com"
    # ... anything else that changes the bytes is refused
    for altered in (b" " + body, body.replace(b".", b". ", 1), body[:-1], body + b"A"):
        with pytest.raises((EventMalformed, EventSignatureInvalid)):
            verifier.claims(altered)


@pytest.mark.parametrize(
    "garbage",
    [b"", b"hello", b"a.b.c", b"{}", b"\xff\xfe\x00", "é.é.é".encode(), b"...."],
)
def test_garbage_is_refused_with_400(verifier: WixEventVerifier, garbage: bytes) -> None:
    with pytest.raises(EventMalformed) as info:
        verifier.claims(garbage)
    assert info.value.status == 400
    assert str(info.value) in {"the body is not a JWT", "the body is not a well-formed JWT"}


def test_a_signed_payload_that_is_not_an_object_is_malformed(
    wix_app_key: WixAppKey, verifier: WixEventVerifier
) -> None:
    from jwt.api_jws import PyJWS

    token = PyJWS().encode(b"[1, 2]", wix_app_key.private_key, algorithm="RS256")
    with pytest.raises(EventMalformed):
        verifier.claims(token)


def test_an_oversize_body_is_refused_before_parsing(wix_app_key: WixAppKey) -> None:
    verifier = WixEventVerifier(wix_app_key.public_pem, max_body_bytes=1024)
    big = ready_event(actionEvent={"body": {"file": {**FILE, "displayName": "x" * 2000}}})
    with pytest.raises(EventTooLarge) as info:
        verifier.claims(wix_app_key.event(FILE_READY, big))
    assert info.value.status == 400
    with pytest.raises(EventTooLarge):
        verifier.claims(b"x" * 1025)


def test_expired_and_not_yet_valid_tokens_are_refused(
    wix_app_key: WixAppKey, verifier: WixEventVerifier
) -> None:
    now = int(time.time())
    for outer, message in (({"exp": now - 60}, "expired"), ({"nbf": now + 600}, "not valid yet")):
        claims = wix_app_key.event_claims(FILE_READY, ready_event(), outer=outer)
        with pytest.raises(EventSignatureInvalid, match=message):
            verifier.claims(wix_app_key.token(claims))


def test_small_clock_skew_and_other_claims_are_tolerated_like_the_sdk(
    wix_app_key: WixAppKey, verifier: WixEventVerifier
) -> None:
    now = int(time.time())
    for outer in (
        {"exp": now - 5},
        {"nbf": now + 5},
        {"iat": now + 120},
        {"sub": 12},
        {"jti": ["x"]},
    ):
        claims = wix_app_key.event_claims(FILE_READY, ready_event(), outer=outer)
        assert isinstance(verifier.event(wix_app_key.token(claims)), FileReady), outer


# --- optional iss / aud (the SDK checks them only when asked) --------------------------------
def test_iss_and_aud_are_not_checked_by_default(
    wix_app_key: WixAppKey, verifier: WixEventVerifier
) -> None:
    claims = wix_app_key.event_claims(FILE_READY, ready_event(), iss="evil", aud="other-app")
    assert isinstance(verifier.event(wix_app_key.token(claims)), FileReady)


def test_iss_and_aud_checked_when_asked(wix_app_key: WixAppKey) -> None:
    strict = WixEventVerifier(wix_app_key.public_pem, app_id=APP_ID, verify_caller_claims=True)
    assert isinstance(strict.event(wix_app_key.event(FILE_READY, ready_event())), FileReady)
    listed = wix_app_key.event_claims(FILE_READY, ready_event(), aud=None, outer={"aud": [APP_ID]})
    assert isinstance(strict.event(wix_app_key.token(listed)), FileReady)
    for kwargs in ({"iss": "evil.com"}, {"aud": "other-app"}, {"iss": None}, {"aud": None}):
        claims = wix_app_key.event_claims(FILE_READY, ready_event(), **kwargs)
        with pytest.raises(EventSignatureInvalid):
            strict.claims(wix_app_key.token(claims))
    with pytest.raises(ValueError, match="app id"):
        WixEventVerifier(wix_app_key.public_pem, verify_caller_claims=True)


# --- the key ----------------------------------------------------------------------------------
def test_the_key_may_be_pem_or_base64_of_the_pem(wix_app_key: WixAppKey) -> None:
    encoded = base64.b64encode(wix_app_key.public_pem.encode()).decode()
    verifier = WixEventVerifier(encoded)
    assert isinstance(verifier.event(wix_app_key.event(FILE_READY, ready_event())), FileReady)


def test_unusable_keys_are_refused_at_construction() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    for key in (small, ec_key):
        from cryptography.hazmat.primitives import serialization

        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        with pytest.raises(ValueError, match="RSA key of at least 2048"):
            load_public_key(pem.decode())
    for text in ("not a key", "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----"):
        with pytest.raises(ValueError, match="Wix public key"):
            load_public_key(text)
