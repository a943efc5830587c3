"""Wix events (webhooks to the relay's Wix app), decoded from verified JWT claims. Pure Python.

Wix POSTs one RS256 JWT as the whole body (the signature check is
`wix_relay.integrations.wix.events`). Its claims hold JSON strings inside JSON strings
(docs/wix-facts.md "Events", [doc][code]; the official parser is `@wix/sdk`'s
`webhooks.process`, which reads the same layers):

    claims        {"data": "<json>", ...}
    claims.data   {"eventType", "instanceId", "data": "<json>", "identity": "<json>", "accountInfo"}
    the event     {"id", "entityFqdn", "slug", "entityId", "eventTime", "entityEventSequence",
                   "actionEvent": {"body": {...}} | {"bodyAsJson": ...}}

File Ready's body is `{file, externalInfo, triggeredByUndelete}`; File Failed's is
`{externalInfo, error: {code, description, data}}` with the file id only in `entityId` [doc].
Each layer may arrive as a JSON string or as an object (the SDK parses strings; accepting both
costs nothing). Unknown event types decode to `UnknownEvent` (the route acknowledges them).

Errors: `EventMalformed` (400) for anything that is not the documented shape,
`EventSignatureInvalid` (401) for a token that is not authentic, `EventTooLarge` (400) for a body
over the limit — raised before any parsing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wix_relay.domain.errors import InvalidInput, Unauthenticated

__all__ = [
    "ENTITY_FQDN",
    "FILE_FAILED",
    "FILE_READY",
    "EventMalformed",
    "EventSignatureInvalid",
    "EventTooLarge",
    "ExternalInfo",
    "FileFailed",
    "FileReady",
    "UnknownEvent",
    "WixEvent",
    "decode_event",
]

FILE_READY = "wix.media.site_media.v1.file_descriptor_file_ready"
FILE_FAILED = "wix.media.site_media.v1.file_descriptor_file_failed"
ENTITY_FQDN = "wix.media.site_media.v1.file_descriptor"
_INT64 = re.compile(r"-?[0-9]{1,19}")


@dataclass
class EventMalformed(InvalidInput):
    """400: the (authentic or not yet verified) body is not a Wix event of the documented shape."""

    code: str = "INVALID_EVENT"


@dataclass
class EventTooLarge(InvalidInput):
    """400: the body is over the configured limit; nothing was parsed."""

    code: str = "EVENT_TOO_LARGE"


@dataclass
class EventSignatureInvalid(Unauthenticated):
    """401: not signed by the Wix app's key with RS256 (or expired, wrong iss/aud)."""

    code: str = "INVALID_EVENT_SIGNATURE"


@dataclass(frozen=True)
class ExternalInfo:
    """What the relay put in `externalInfo` when it asked Wix for the file; echoed in events."""

    origin: str | None = None
    external_ids: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, value: Any) -> ExternalInfo | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise EventMalformed("externalInfo must be an object")
        origin = value.get("origin")
        ids = value.get("externalIds", [])
        if origin is not None and not isinstance(origin, str):
            raise EventMalformed("externalInfo.origin must be a string")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise EventMalformed("externalInfo.externalIds must be a list of strings")
        return cls(origin=origin, external_ids=tuple(ids))


@dataclass(frozen=True)
class WixEvent:
    """What every event has: the metadata of the envelope and of the domain event."""

    id: str
    event_type: str
    entity_id: str | None
    event_time: str | None
    sequence: int | None
    """`entityEventSequence` (an int64, a decimal string on the wire): higher is newer."""
    slug: str | None = None
    entity_fqdn: str | None = None
    instance_id: str | None = None
    identity: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    account_info: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class FileReady(WixEvent):
    file: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The Wix FileDescriptor (REST names); `file_id` is its id (or the entityId)."""
    external_info: ExternalInfo | None = None
    triggered_by_undelete: bool = False

    @property
    def file_id(self) -> str:
        return str(self.file.get("id") or self.entity_id or "")


@dataclass(frozen=True)
class FileFailed(WixEvent):
    external_info: ExternalInfo | None = None
    error_code: str | None = None
    error_description: str | None = None

    @property
    def file_id(self) -> str:
        return self.entity_id or ""


@dataclass(frozen=True)
class UnknownEvent(WixEvent):
    """An event type the relay does not act on: acknowledged, logged, counted."""


def decode_event(claims: Mapping[str, Any]) -> WixEvent:
    """The typed event for verified JWT claims; `EventMalformed` when a layer is missing/wrong."""
    envelope = _layer(claims.get("data"), "the token's data claim")
    event_type = envelope.get("eventType")
    if not isinstance(event_type, str) or not event_type:
        raise EventMalformed("the event has no eventType")
    payload = _layer(envelope.get("data"), "the event's data")
    identity = envelope.get("identity")
    account_info = envelope.get("accountInfo", claims.get("accountInfo"))
    event_id = payload.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise EventMalformed("the event has no id")
    entity_id = _optional_str(payload, "entityId")
    common: dict[str, Any] = {
        "id": event_id,
        "event_type": event_type,
        "entity_id": entity_id,
        "event_time": _optional_str(payload, "eventTime"),
        "sequence": _sequence(payload.get("entityEventSequence")),
        "slug": _optional_str(payload, "slug"),
        "entity_fqdn": _optional_str(payload, "entityFqdn"),
        "instance_id": _optional_str(envelope, "instanceId"),
        "identity": None if identity in (None, "") else _layer(identity, "the event's identity"),
        "account_info": account_info if isinstance(account_info, Mapping) else None,
    }
    if event_type not in (FILE_READY, FILE_FAILED):
        return UnknownEvent(**common)
    body = _action_body(payload)
    external_info = ExternalInfo.from_json(body.get("externalInfo"))
    if event_type == FILE_READY:
        file = body.get("file")
        if not isinstance(file, Mapping) or not (file.get("id") or entity_id):
            raise EventMalformed("a File Ready event must carry the file descriptor")
        if file.get("id") and entity_id and str(file["id"]) != entity_id:
            raise EventMalformed("the File Ready event's file id and entityId differ")
        return FileReady(
            **common,
            file=dict(file),
            external_info=external_info,
            triggered_by_undelete=body.get("triggeredByUndelete") is True,
        )
    if not entity_id:
        raise EventMalformed("a File Failed event must name the file in entityId")
    error = body.get("error") or {}
    if not isinstance(error, Mapping):
        raise EventMalformed("the File Failed event's error must be an object")
    return FileFailed(
        **common,
        external_info=external_info,
        error_code=_optional_str(error, "code"),
        error_description=_optional_str(error, "description"),
    )


def _layer(value: Any, what: str) -> Mapping[str, Any]:
    """One layer of the envelope: a JSON string holding an object (or the object itself)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise EventMalformed(f"{what} is not JSON") from None
    if not isinstance(value, Mapping):
        raise EventMalformed(f"{what} must be a JSON object")
    return value


def _action_body(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    action = payload.get("actionEvent")
    if not isinstance(action, Mapping):
        raise EventMalformed("the event has no actionEvent")
    for key in ("body", "bodyAsJson"):
        if action.get(key) is not None:
            return _layer(action[key], f"actionEvent.{key}")
    raise EventMalformed("the event's actionEvent has neither body nor bodyAsJson")


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EventMalformed(f"{key} must be a string")
    return value


def _sequence(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise EventMalformed("entityEventSequence must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT64.fullmatch(value):
        return int(value)
    raise EventMalformed("entityEventSequence must be an integer")
