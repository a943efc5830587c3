"""Partner callbacks, pure parts: Standard Webhooks signing (checked against the PyPI
`standardwebhooks` package), the event body, the `callback` registry field and callback URLs."""

from __future__ import annotations

import base64
import json
import os
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from wix_relay.domain.callbacks import (
    CallbackSecret,
    CallbackTarget,
    callback_event,
    encode_event,
    event_type_for,
    new_webhook_id,
    normalize_callback_url,
    sign,
    url_under_prefix,
)
from wix_relay.domain.callers import CallerRegistry, Policy, RegistryError, hash_api_key
from wix_relay.domain.errors import Forbidden, InvalidInput

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
STATUS = {
    "id": "imp-1",
    "status": "ready",
    "file": {"id": "f~mv2.png", "url": "https://static.wixstatic.com/media/f~mv2.png"},
    "createdAt": "2026-12-01T09:00:00.000Z",
    "updatedAt": "2026-12-01T09:00:05.000Z",
}


# --- signing ----------------------------------------------------------------------------------
def test_signature_verifies_with_standardwebhooks_and_equals_its_sign() -> None:
    body = encode_event(callback_event("import", STATUS))
    webhook_id, now = new_webhook_id(), int(time.time())
    headers = sign(CallbackSecret.parse(SECRET), webhook_id, now, body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == webhook_id
    assert Webhook(SECRET).verify(body, headers)["data"] == STATUS
    reference = Webhook(SECRET).sign(webhook_id, datetime.fromtimestamp(now, tz=UTC), body.decode())
    assert headers["webhook-signature"] == reference


def test_a_changed_byte_or_another_secret_fails_verification() -> None:
    body = encode_event(callback_event("upload", {**STATUS, "status": "failed"}))
    headers = sign(CallbackSecret.parse(SECRET), "msg_1", int(time.time()), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"failed", b"ready "), headers)
    other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)


def test_non_ascii_bodies_sign_as_their_utf8_bytes() -> None:
    body = encode_event(callback_event("import", {**STATUS, "file": {"displayName": "café ☕"}}))
    assert "☕".encode() in body
    headers = sign(CallbackSecret.parse(SECRET), "msg_2", int(time.time()), body)
    assert Webhook(SECRET).verify(body, headers)["data"]["file"]["displayName"] == "café ☕"


def test_unpadded_secrets_work_like_standardwebhooks() -> None:
    key = os.urandom(25)
    unpadded = "whsec_" + base64.b64encode(key).decode().rstrip("=")
    secret = CallbackSecret.parse(unpadded)
    assert secret.key == key
    headers = sign(secret, "msg_3", int(time.time()), b"{}")
    Webhook(unpadded).verify(b"{}", headers)


def test_webhook_ids_are_unique() -> None:
    ids = {new_webhook_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("msg_") for i in ids)


# --- the event --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("import", "ready", "import.ready"),
        ("import", "failed", "import.failed"),
        ("upload", "ready", "upload.ready"),
        ("upload", "failed", "upload.failed"),
    ],
)
def test_event_type_follows_kind_and_status(kind: Any, status: str, expected: str) -> None:
    event = callback_event(kind, {**STATUS, "status": status}, "2026-12-01T09:00:06.000Z")
    assert event == {
        "type": expected,
        "timestamp": "2026-12-01T09:00:06.000Z",
        "data": {**STATUS, "status": status},
    }
    assert event_type_for(kind, status) == expected


def test_no_callback_for_an_unfinished_status() -> None:
    for status in ("pending", "uploaded", "queued"):
        with pytest.raises(ValueError, match="only for ready or failed"):
            callback_event("import", {**STATUS, "status": status})


def test_the_default_timestamp_is_iso_utc() -> None:
    stamp = callback_event("import", STATUS)["timestamp"]
    assert stamp.endswith("Z")
    parsed = datetime.fromisoformat(stamp)
    assert abs(parsed.timestamp() - time.time()) < 60


# --- the secret never shows ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "whsec_"),
        ("abc", "whsec_"),
        ("whsec_", "24 to 64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "24 to 64"),
        ("whsec_" + base64.b64encode(bytes(65)).decode(), "24 to 64"),
        ("whsec_not base64!!", "base64"),
    ],
)
def test_bad_secrets_are_refused_without_echoing_them(text: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        CallbackSecret.parse(text)
    if isinstance(text, str) and len(text) > len("whsec_"):
        assert text[6:] not in str(info.value)


def test_reprs_never_show_the_secret() -> None:
    target = CallbackTarget.parse({"url": "https://partner.example/hooks/x", "secret": SECRET})
    encoded = SECRET[len("whsec_") :]
    registry = CallerRegistry.from_document(
        {
            "apiKeys": [
                {
                    "id": "acme",
                    "sha256": hash_api_key("k"),
                    "policy": {"folders": ["/acme"]},
                    "callback": {"url": "https://partner.example/hooks/x", "secret": SECRET},
                }
            ]
        }
    )
    caller = registry.caller_for_api_key("k")
    assert caller is not None and caller.callback == target
    for text in (repr(target), str(target), repr(target.secret), str(target.secret), repr(caller)):
        assert encoded not in text and SECRET not in text
    assert repr(registry).count(encoded) == 0


# --- callback URLs ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://Partner.Example/hooks/a", "https://partner.example/hooks/a"),
        ("https://partner.example:443/hooks/a", "https://partner.example/hooks/a"),
        ("https://partner.example:8443/h?x=1", "https://partner.example:8443/h?x=1"),
        ("http://127.0.0.1:8080/h", "http://127.0.0.1:8080/h"),
        ("https://partner.example", "https://partner.example/"),
        ("https://[::1]:9/x", "https://[::1]:9/x"),
    ],
)
def test_callback_urls_normalise(url: str, normal: str) -> None:
    assert normalize_callback_url(url) == normal


@pytest.mark.parametrize(
    "url",
    [
        "ftp://partner.example/x",
        "file:///etc/passwd",
        "https://user:pw@partner.example/x",
        "https://partner.example@evil.example/x",
        "https://partner.example/x#frag",
        "https://partner.example/hooks/../admin",
        "https://partner.example/hooks/%2e%2e/admin",
        "https://partner.example/a b",
        "https://partner.example\\@evil/",
        "https://pärtner.example/",
        "https://partner.example:99999/",
        "https:///x",
        "//partner.example/x",
        "https://partner.example/x\n",
        "https://partner.example/" + "a" * 2100,
        "",
        5,
    ],
)
def test_unsafe_callback_urls_are_refused(url: Any) -> None:
    with pytest.raises(ValueError):
        normalize_callback_url(url)


def test_prefixes_match_on_whole_segments_and_the_same_origin() -> None:
    prefix = normalize_callback_url("https://partner.example/hooks/")
    assert url_under_prefix("https://partner.example/hooks/a", prefix)
    assert url_under_prefix("https://partner.example/hooks/a/b?x=1", prefix)
    assert url_under_prefix("https://partner.example/hooks", prefix)
    assert not url_under_prefix("https://partner.example/hooksx", prefix)
    assert not url_under_prefix("https://partner.example.evil.example/hooks/a", prefix)
    assert not url_under_prefix("http://partner.example/hooks/a", prefix)
    assert not url_under_prefix("https://partner.example:8443/hooks/a", prefix)


def acme_policy(**extra: Any) -> Policy:
    return Policy.from_document({"folders": ["/acme"], **extra})


def test_policy_allows_a_callback_url_only_under_its_prefixes() -> None:
    policy = acme_policy(callbackUrls=["https://partner.example/hooks/", "https://b.example/cb"])
    assert (
        policy.check_callback_url("https://PARTNER.example/hooks/job?x=1")
        == "https://partner.example/hooks/job?x=1"
    )
    assert policy.check_callback_url("https://b.example/cb/1") == "https://b.example/cb/1"
    for url in ("https://partner.example/other", "https://b.example/cbx", "https://evil.example/"):
        with pytest.raises(Forbidden) as forbidden:
            policy.check_callback_url(url)
        assert forbidden.value.code == "CALLBACK_URL_NOT_ALLOWED"
        assert forbidden.value.details[0].field == "callbackUrl"
    with pytest.raises(InvalidInput) as invalid:
        policy.check_callback_url("https://partner.example/hooks/../x")
    assert invalid.value.code == "INVALID_CALLBACK_URL"
    with pytest.raises(Forbidden):
        acme_policy().check_callback_url("https://partner.example/hooks/a")


def _entry(**extra: Any) -> dict[str, Any]:
    return {"id": "acme", "sha256": hash_api_key("k"), "policy": {"folders": ["/acme"]}, **extra}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (_entry(callback={"url": "https://p.example/h"}), r"apiKeys\[0\]\.callback secret"),
        (_entry(callback={"secret": "nope"}), "whsec_"),
        (_entry(callback={"secret": SECRET, "url": "ftp://x/"}), "callback url"),
        (_entry(callback="https://p.example/h"), "must be an object"),
        (
            _entry(policy={"folders": ["/acme"], "callbackUrls": ["https://p.example/h/"]}),
            "needs",
        ),
        (
            _entry(
                policy={"folders": ["/acme"], "callbackUrls": "https://p.example/"},
                callback={"secret": SECRET},
            ),
            "list of URL prefixes",
        ),
        (
            _entry(
                policy={"folders": ["/acme"], "callbackUrls": ["https://p.example/?a=1"]},
                callback={"secret": SECRET},
            ),
            "query",
        ),
    ],
)
def test_registry_refuses_bad_callback_fields(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=message) as info:
        CallerRegistry.from_document({"apiKeys": [entry]})
    assert SECRET[6:] not in str(info.value)


def test_registry_parses_callback_and_prefixes_for_keys_and_jwt() -> None:
    registry = CallerRegistry.from_document(
        {
            "apiKeys": [
                _entry(
                    policy={"folders": ["/acme"], "callbackUrls": ["https://p.example/h/"]},
                    callback={"secret": SECRET},
                ),
                {"id": "plain", "sha256": hash_api_key("p"), "policy": {"folders": ["/p"]}},
            ],
            "jwt": {
                "jwksUrl": "https://issuer.example/jwks",
                "issuer": "https://issuer.example/",
                "audience": "relay",
                "policy": {"folders": ["/browsers/{sub}"]},
                "callback": {"url": "https://site.example/cb", "secret": SECRET},
            },
        }
    )
    acme = registry.caller_for_api_key("k")
    assert acme is not None and acme.callback is not None
    assert acme.callback.url is None
    assert acme.policy.callback_urls == ("https://p.example/h/",)
    assert acme.callback_ref == "acme"
    assert registry.callback_for("acme") == acme.callback
    plain = registry.caller_for_api_key("p")
    assert plain is not None and plain.callback is None and plain.callback_ref is None
    assert registry.callback_for("plain") is None
    assert registry.callback_for("nobody") is None
    issuer = registry.jwt_issuers[0]
    browser = issuer.caller_for({"sub": "u1"})
    assert browser.callback is not None and browser.callback.url == "https://site.example/cb"
    assert browser.callback_ref == "issuer:https://issuer.example/"
    assert registry.callback_for(browser.callback_ref) == browser.callback
    assert registry.callback_for("issuer:https://other.example/") is None
    assert json.dumps(browser.claims)  # claims untouched


# --- the queued message and the backoff ---------------------------------------------------------
def test_the_message_round_trips_and_refuses_anything_else() -> None:
    from wix_relay.domain.callbacks import CallbackMessage

    message = CallbackMessage("msg_1", "https://p.example/h", "acme", '{"type":"import.ready"}')
    assert CallbackMessage.from_json(message.to_json()) == message
    assert set(json.loads(message.to_json())) == {"webhookId", "url", "callbackRef", "body"}
    for bad in ("", "[]", "{", '{"webhookId": "m", "url": "u", "callbackRef": "c"}',
                '{"webhookId": 1, "url": "u", "callbackRef": "c", "body": "b"}'):  # fmt: skip
        with pytest.raises(ValueError):
            CallbackMessage.from_json(bad)


def test_backoff_doubles_up_to_the_cap() -> None:
    from wix_relay.domain.callbacks import backoff_delay

    assert [backoff_delay(n, 30, 900) for n in range(0, 9)] == [
        0, 30, 60, 120, 240, 480, 900, 900, 900,
    ]  # fmt: skip
    assert backoff_delay(10_000, 30, 900) == 900
    assert backoff_delay(3, 0, 900) == 0
