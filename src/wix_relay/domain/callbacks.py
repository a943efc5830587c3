"""Partner callbacks: the event, its Standard Webhooks signature, the callback URL rules. Pure.

A caller in the registry may have `"callback": {"url": "https://…", "secret": "whsec_…"}`; its
policy may list `"callbackUrls": ["https://partner.example/hooks/"]`, the prefixes under which an
import may name its own `callbackUrl` (whole path segments; same scheme, host and port).

When an upload or import ends, the relay POSTs
`{"type": "import.ready"|"import.failed"|"upload.ready"|"upload.failed", "timestamp", "data"}`
(`data` is the status document) signed per Standard Webhooks: `webhook-id` (stable across
retries), `webhook-timestamp` (Unix seconds of this attempt), `webhook-signature:
v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`, the secret being the base64 after
`whsec_`. Checked against the `standardwebhooks` package in the tests.

The secret never appears in a repr, a log or an answer: `CallbackSecret` hides it.

The outbox: the transition that ends an upload or job writes, in the same conditional write,
`callbackOutbox {"webhookId", "state": "sending"}` (`CallbackOutbox`); after the SQS send it
becomes `queued`. A send that fails marks it `failed` and fails the request that made the
transition (`CallbackNotQueued`, a retryable 503); its retry — finding the record ended with the
callback `failed` (or `sending` for longer than `OUTBOX_STALE_S`: the sender stopped) — queues it
with the same `webhook-id`. A concurrent duplicate that finds it `sending` leaves it to the
transition's writer. A callback is never lost between the transition and the queue, and never
queued under two ids.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from wix_relay.domain.errors import RelayError

__all__ = [
    "OUTBOX_FIELD",
    "CallbackEventType",
    "CallbackMessage",
    "CallbackNotQueued",
    "CallbackOutbox",
    "CallbackSecret",
    "CallbackTarget",
    "backoff_delay",
    "callback_event",
    "encode_event",
    "event_type_for",
    "new_webhook_id",
    "normalize_callback_url",
    "sign",
    "url_under_prefix",
]

CallbackEventType = Literal["import.ready", "import.failed", "upload.ready", "upload.failed"]
SubjectKind = Literal["import", "upload"]
SECRET_PREFIX = "whsec_"  # noqa: S105 (the format marker, not a secret)
MIN_SECRET_BYTES = 24  # Standard Webhooks: between 24 and 64 bytes
MAX_SECRET_BYTES = 64
MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class CallbackSecret:
    """`whsec_<base64>`; only `key` (the decoded bytes) is used, and nothing prints it."""

    key: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: Any) -> CallbackSecret:
        """ValueError (never naming the value) unless `whsec_` + base64 of 24 to 64 bytes."""
        if not isinstance(text, str) or not text.startswith(SECRET_PREFIX):
            raise ValueError("must be a string starting with whsec_")
        encoded = text[len(SECRET_PREFIX) :]
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be whsec_ followed by base64") from None
        if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
            raise ValueError(
                f"must hold {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes of key material"
            )
        return cls(key)

    def __str__(self) -> str:
        return "whsec_***"


@dataclass(frozen=True)
class CallbackTarget:
    """A caller's callback: the default URL (optional when imports name their own) and the
    secret that signs every callback to this caller."""

    secret: CallbackSecret = field(repr=False)
    url: str | None = None

    @classmethod
    def parse(cls, doc: Any) -> CallbackTarget:
        """ValueError naming the bad field (relative to `callback`)."""
        if not isinstance(doc, Mapping):
            raise ValueError("must be an object {url, secret}")
        try:
            secret = CallbackSecret.parse(doc.get("secret"))
        except ValueError as exc:
            raise ValueError(f"secret {exc}") from None
        url = doc.get("url")
        if url is not None:
            try:
                url = normalize_callback_url(url)
            except ValueError as exc:
                raise ValueError(f"url {exc}") from None
        return cls(secret=secret, url=url)


def normalize_callback_url(url: Any) -> str:
    """`scheme://host[:port]/path[?query]` with a lower-case host and no default port, or
    ValueError: only http(s); no credentials, fragment, backslash, whitespace, control or
    non-ASCII characters; no `.`/`..` segments or percent-escapes in the path."""
    if not isinstance(url, str) or not url:
        raise ValueError("must be a URL")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    if not url.isascii() or any(
        ch.isspace() or unicodedata.category(ch) == "Cc" or ch == "\\" for ch in url
    ):
        raise ValueError("must not contain spaces, control characters, backslashes or non-ASCII")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("must be an https (or, locally, http) URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("must not contain credentials")
    if parts.fragment or url.endswith("#"):
        raise ValueError("must not contain a fragment")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("must name a host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has an invalid port") from None
    path = parts.path or "/"
    if "%" in path:
        raise ValueError("must not contain percent-escapes in its path")
    if any(segment in {".", ".."} for segment in path.split("/")):
        raise ValueError("must not contain . or .. segments")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}"


def url_under_prefix(url: str, prefix: str) -> bool:
    """Both normalised: same scheme, host and port; the path under the prefix's path on whole
    segments (`/hooks/` and `/hooks` both allow `/hooks/x`, neither allows `/hooksx`)."""
    url_parts, prefix_parts = urlsplit(url), urlsplit(prefix)
    if (url_parts.scheme, url_parts.netloc) != (prefix_parts.scheme, prefix_parts.netloc):
        return False
    base = prefix_parts.path.rstrip("/")
    return url_parts.path == base or url_parts.path.startswith(base + "/")


def event_type_for(kind: SubjectKind, status: str) -> CallbackEventType:
    if status == "ready":
        return "import.ready" if kind == "import" else "upload.ready"
    if status == "failed":
        return "import.failed" if kind == "import" else "upload.failed"
    raise ValueError(f"a callback is sent only for ready or failed, not {status!r}")


def callback_event(
    kind: SubjectKind, status_document: Mapping[str, Any], timestamp: str | None = None
) -> dict[str, Any]:
    """The event for a finished upload or import (its `status` says which); `timestamp` is
    ISO-8601 UTC, now by default."""
    from wix_relay.domain.jobs import utc_now  # jobs is not needed by the API's caller registry

    return {
        "type": event_type_for(kind, str(status_document.get("status"))),
        "timestamp": timestamp or utc_now(),
        "data": dict(status_document),
    }


def encode_event(event: Mapping[str, Any]) -> bytes:
    """The exact bytes that are signed and sent (compact UTF-8 JSON)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def new_webhook_id() -> str:
    """Made once per event and kept in the queued message: every retry sends the same id."""
    return f"msg_{uuid.uuid4().hex}"


def sign(secret: CallbackSecret, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.key, signed, hashlib.sha256).digest()
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
    }


@dataclass(frozen=True)
class CallbackMessage:
    """One queued callback: `{"webhookId", "url", "callbackRef", "body"}`. The secret is not in it
    (the consumer looks it up by `callbackRef`, the caller's `Caller.callback_ref`: the API key
    id or `issuer:<issuer>`); `body` is the exact text that is signed and sent.
    The attempt number is SQS's `ApproximateReceiveCount`, not a field: retries re-use the same
    message, so `webhookId` cannot change between them."""

    webhook_id: str
    url: str
    callback_ref: str
    body: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "webhookId": self.webhook_id,
                "url": self.url,
                "callbackRef": self.callback_ref,
                "body": self.body,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> CallbackMessage:
        """ValueError unless the four fields are non-empty strings."""
        try:
            doc = json.loads(text)
        except ValueError:
            raise ValueError("the callback message is not JSON") from None
        if not isinstance(doc, Mapping):
            raise ValueError("the callback message must be an object")
        values = [doc.get(key) for key in ("webhookId", "url", "callbackRef", "body")]
        strings = [value for value in values if isinstance(value, str) and value]
        if len(strings) != len(values):
            raise ValueError("the callback message needs webhookId, url, callbackRef and body")
        return cls(*strings)


def backoff_delay(attempt: int, base_s: float, max_s: float) -> int:
    """Seconds before attempt `attempt + 1`: base, 2 x base, 4 x base, ... capped at `max_s`."""
    if attempt < 1:
        return 0
    return int(min(max_s, base_s * 2 ** min(attempt - 1, 32)))


OUTBOX_FIELD = "callbackOutbox"
"""The attribute of an upload record or a job that holds its `CallbackOutbox`."""
OUTBOX_STALE_S = 60
"""A callback still `sending` this long after its transition was never sent (the sender
stopped between the two): any retry sends it. Longer than any SQS send takes."""
OutboxState = Literal["sending", "failed", "queued"]


@dataclass(frozen=True)
class CallbackOutbox:
    """The callback of an ended upload or job: its `webhook-id` (made once, with the transition)
    and where it is: `sending` (the transition's writer is queueing it), `failed` (that send
    failed: the next retry queues it), `queued` (on the callback queue)."""

    webhook_id: str
    state: OutboxState = "sending"

    def to_dict(self) -> dict[str, Any]:
        return {"webhookId": self.webhook_id, "state": self.state}

    @classmethod
    def from_dict(cls, doc: Any) -> CallbackOutbox | None:
        """None for anything that is not an outbox (an older record has none)."""
        if not isinstance(doc, Mapping):
            return None
        webhook_id, state = doc.get("webhookId"), doc.get("state")
        if not isinstance(webhook_id, str) or not webhook_id:
            return None
        return cls(webhook_id, state if state in ("failed", "queued") else "sending")

    @classmethod
    def due(cls) -> CallbackOutbox:
        return cls(new_webhook_id())

    def to(self, state: OutboxState) -> CallbackOutbox:
        return CallbackOutbox(self.webhook_id, state)

    def retry_due(self, ended_at_s: float | None, now_s: float) -> bool:
        """Whether a retry (not the transition's writer) must queue it: its send failed, or
        it is still `sending` long after the transition (or the time is unknown)."""
        if self.state == "failed":
            return True
        if self.state == "queued":
            return False
        return ended_at_s is None or now_s - ended_at_s >= OUTBOX_STALE_S


@dataclass
class CallbackNotQueued(RelayError):
    """503: the upload or job has ended (stored), but its callback could not be put on the
    queue; a retry of the same request queues it (with the same webhook-id)."""

    status: int = 503
    code: str = "CALLBACK_NOT_QUEUED"
    retryable: bool = True
    retry_after_s: float | None = 5
