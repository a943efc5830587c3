"""Readiness: one status model for every upload, and the file documents callers read. Pure.

An upload URL the relay hands out gets an *upload record* (`upl-<32 hex>`), kept in the jobs
table next to the jobs (one table; the record's `expiresAt` is its TTL):

    pending (URL issued) → uploaded (Wix holds the bytes, not processed yet) → ready | failed

`pending → ready | failed` directly is normal: the bytes go from the browser to Wix, the relay
only sees Wix's File Ready / File Failed event. Every transition is a conditional write on the
status the record had when it was read (integrations/upload_store.py), so a duplicate or
concurrent event moves a record once.

Correlation: every generate-upload-url and import call the relay makes carries
`externalInfo {"origin": ORIGIN, "externalIds": [<upload or job id>, ...]}` [doc: Wix echoes it in
File Ready / File Failed]. Resumable URLs take no `externalInfo` [doc], so a resumable upload is
tied to its file by the caller reporting the finalize answer's file id (checked against Wix:
`check_reported_file`). Either way the relay writes a *file owner* item `file#<file id>` naming
the upload or job; `GET /v1/files/{id}` answers only the caller that owns it.

The file document (`file_document`) is the part of Wix's FileDescriptor a caller without a Wix
credential needs: id, displayName, url (the browser-loadable static URL), mediaType,
operationStatus, sizeInBytes, and `wixUrl`, the Wix media identifier (`wix:image://v1/...`) that
`$w` elements and other Wix APIs take, built as `@wix/sdk-runtime`'s REST→SDK transformations
build it (`build/transformations/{image,video-v2,audio,document}.js`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast
from urllib.parse import quote

from wix_relay.domain.callbacks import OUTBOX_FIELD, CallbackOutbox
from wix_relay.domain.jobs import utc_now

__all__ = [
    "FILE_OWNER_PREFIX",
    "ORIGIN",
    "UPLOAD_PREFIX",
    "FileOwner",
    "Outcome",
    "UploadRecord",
    "UploadStatus",
    "check_reported_file",
    "external_info",
    "file_document",
    "folder_chain",
    "new_upload_id",
    "parse_time",
    "subject_of",
    "wix_media_url",
]

ORIGIN = "wix-media-relay"
"""`externalInfo.origin` on every Wix call that creates a file; events naming another origin
are not the relay's."""
UPLOAD_PREFIX = "upl-"
JOB_PREFIXES = ("imp-", "s3-")
FILE_OWNER_PREFIX = "file#"
RECORD_TYPE = "upload"
UploadStatus = Literal["pending", "uploaded", "ready", "failed"]
UploadKind = Literal["upload", "resumable"]
SubjectKind = Literal["upload", "job"]
ENDED: frozenset[str] = frozenset({"ready", "failed"})
REPORT_CLOCK_SKEW_S = 60
"""How much earlier than its upload record a reported file may say it was created."""


def new_upload_id() -> str:
    return UPLOAD_PREFIX + secrets.token_hex(16)


def external_info(subject_id: str, extra_ids: tuple[str, ...] = ()) -> dict[str, Any]:
    """What the relay sends as `externalInfo`: its origin, its own id first (a caller's own
    externalIds, if it gave any, follow)."""
    return {"origin": ORIGIN, "externalIds": [subject_id, *extra_ids]}


def subject_of(origin: str | None, external_ids: tuple[str, ...]) -> tuple[SubjectKind, str] | None:
    """The upload or job an event's `externalInfo` names, or None when it is not the relay's."""
    if origin != ORIGIN or not external_ids:
        return None
    first = external_ids[0]
    if first.startswith(UPLOAD_PREFIX) and len(first) <= 100:
        return "upload", first
    if first.startswith(JOB_PREFIXES) and len(first) <= 100:
        return "job", first
    return None


def parse_time(text: Any) -> float | None:
    """Epoch seconds of an ISO-8601 time (`...Z` or with an offset), None when not one."""
    if not isinstance(text, str) or not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


# --- the file document ---------------------------------------------------------------------------


def _component(text: str) -> str:
    """JavaScript's encodeURIComponent."""
    return quote(text, safe="-_.!~*'()")


def wix_media_url(descriptor: Mapping[str, Any]) -> str | None:
    """The `wix:<kind>://v1/...` identifier of a READY descriptor's `media`, as the SDK builds
    it; None when `media` names none (PENDING/FAILED descriptors have no `media`)."""
    media = descriptor.get("media")
    if not isinstance(media, Mapping):
        return None
    for kind in ("image", "vector"):
        holder = media.get(kind)
        image = holder.get("image") if isinstance(holder, Mapping) else None
        if isinstance(image, Mapping) and image.get("id"):
            name = image.get("filename") or image.get("altText")
            path = f"/{_component(str(name))}" if name else ""
            return (
                f"wix:image://v1/{image['id']}{path}"
                f"#originWidth={_js(image.get('width'))}&originHeight={_js(image.get('height'))}"
            )
    video = media.get("video")
    if isinstance(video, Mapping) and video.get("id"):
        path = f"/{_component(str(video['filename']))}" if video.get("filename") else ""
        return f"wix:video://v1/{video['id']}{path}"
    audio = media.get("audio")
    if isinstance(audio, Mapping):
        # AudioV2: the SDK turns each of `assets[]` ({id, url, filename}) into a wix:audio URL;
        # the first asset is the file itself.
        assets = audio.get("assets")
        first = assets[0] if isinstance(assets, list) and assets else audio
        if isinstance(first, Mapping) and first.get("id"):
            path = f"/{_component(str(first['filename']))}" if first.get("filename") else ""
            duration = first.get("duration", audio.get("duration"))
            duration = 0 if duration is None else duration
            return f"wix:audio://v1/{first['id']}{path}#duration={_js(duration)}"
    for kind in ("document", "archive", "model3d"):
        doc = media.get(kind)
        if isinstance(doc, Mapping) and doc.get("id"):
            path = f"/{_component(str(doc['filename']))}" if doc.get("filename") else ""
            return f"wix:document://v1/{doc['id']}{path}" if kind == "document" else None
    return None


def _js(value: Any) -> str:
    """How a template literal prints a number or a missing value."""
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


FILE_FIELDS = ("id", "displayName", "url", "mediaType", "operationStatus", "sizeInBytes")


def file_document(descriptor: Mapping[str, Any]) -> dict[str, Any]:
    """What callers see of a Wix FileDescriptor (REST names), plus `wixUrl` once it is READY."""
    out: dict[str, Any] = {
        name: descriptor[name] for name in FILE_FIELDS if descriptor.get(name) is not None
    }
    for name in ("private", "createdDate", "updatedDate"):
        if descriptor.get(name) is not None:
            out[name] = descriptor[name]
    media_url = wix_media_url(descriptor)
    if media_url:
        out["wixUrl"] = media_url
    return out


# --- outcomes, owners, records -----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Where a file ended: `ready` with its document, or `failed` with Wix's error."""

    status: Literal["ready", "failed"]
    file: Mapping[str, Any]
    """The file document (`file_document`); for a failure at least `{"id"}`."""
    error_code: str | None = None
    error_message: str | None = None

    def error(self) -> dict[str, str] | None:
        if self.status != "failed":
            return None
        return {
            "code": self.error_code or "FILE_PROCESSING_FAILED",
            "message": self.error_message or "Wix could not process the file",
        }

    def as_state(self) -> dict[str, Any]:
        """The latest state stored per file (integrations/event_store.py)."""
        out: dict[str, Any] = {"status": self.status, "file": dict(self.file)}
        error = self.error()
        if error:
            out["error"] = error
        return out

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Outcome | None:
        status = state.get("status")
        if status not in ENDED or not isinstance(state.get("file"), Mapping):
            return None
        error = state.get("error") if isinstance(state.get("error"), Mapping) else {}
        return cls(
            status=cast(Literal["ready", "failed"], status),
            file=dict(state["file"]),
            error_code=error.get("code") if error else None,
            error_message=error.get("message") if error else None,
        )

    @classmethod
    def from_descriptor(cls, descriptor: Mapping[str, Any]) -> Outcome | None:
        """From a descriptor Wix answered (None while it is PENDING)."""
        status = descriptor.get("operationStatus")
        if status == "READY":
            return cls("ready", file_document(descriptor))
        if status == "FAILED":
            return cls("failed", file_document(descriptor))
        return None


@dataclass(frozen=True)
class FileOwner:
    """`file#<file id>`: which upload or job of the relay put the file there."""

    file_id: str
    kind: SubjectKind
    subject_id: str
    caller_id: str | None = None
    bucket: str | None = None
    key: str | None = None
    """For an S3 job: the object, so a caller whose importSources cover it may read the file."""

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": FILE_OWNER_PREFIX + self.file_id,
            "record": "file-owner",
            "fileId": self.file_id,
            "kind": self.kind,
            "subjectId": self.subject_id,
        }
        for name, value in (
            ("callerId", self.caller_id),
            ("bucket", self.bucket),
            ("key", self.key),
        ):
            if value is not None:
                item[name] = value
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> FileOwner:
        return cls(
            file_id=str(item["fileId"]),
            kind=cast(SubjectKind, str(item["kind"])),
            subject_id=str(item["subjectId"]),
            caller_id=_opt(item.get("callerId")),
            bucket=_opt(item.get("bucket")),
            key=_opt(item.get("key")),
        )


@dataclass(frozen=True)
class UploadRecord:
    id: str
    caller_id: str
    kind: UploadKind
    status: UploadStatus
    created_at: str
    updated_at: str
    request: Mapping[str, Any] = field(default_factory=dict)
    """What the relay asked Wix for: mimeType, fileName?, sizeInBytes?, filePath?, private?."""
    file: Mapping[str, Any] | None = None
    error: Mapping[str, str] | None = None
    callback_ref: str | None = None
    callback_url: str | None = None
    callback_outbox: CallbackOutbox | None = None
    """Written with the transition that ended the record when a callback is due
    (domain/callbacks.py, "The outbox")."""

    @classmethod
    def issued(
        cls,
        *,
        caller_id: str,
        kind: UploadKind,
        request: Mapping[str, Any],
        upload_id: str | None = None,
        callback_ref: str | None = None,
        callback_url: str | None = None,
        now: str | None = None,
    ) -> UploadRecord:
        stamp = now or utc_now()
        return cls(
            id=upload_id or new_upload_id(),
            caller_id=caller_id,
            kind=kind,
            status="pending",
            created_at=stamp,
            updated_at=stamp,
            request=dict(request),
            callback_ref=callback_ref,
            callback_url=callback_url,
        )

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def file_id(self) -> str | None:
        return None if self.file is None else _opt(self.file.get("id"))

    def reach(self, outcome: Outcome, now: str | None = None) -> UploadRecord:
        return replace(
            self,
            status=outcome.status,
            file=dict(outcome.file),
            error=outcome.error(),
            updated_at=now or utc_now(),
        )

    def uploaded(self, file: Mapping[str, Any], now: str | None = None) -> UploadRecord:
        return replace(self, status="uploaded", file=dict(file), updated_at=now or utc_now())

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": self.id,
            "record": RECORD_TYPE,
            "callerId": self.caller_id,
            "kind": self.kind,
            "status": self.status,
            "request": dict(self.request),
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }
        optional = {
            "file": None if self.file is None else dict(self.file),
            "error": None if self.error is None else dict(self.error),
            "callbackRef": self.callback_ref,
            "callbackUrl": self.callback_url,
            OUTBOX_FIELD: None if self.callback_outbox is None else self.callback_outbox.to_dict(),
        }
        item.update({k: v for k, v in optional.items() if v is not None})
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> UploadRecord | None:
        """None for an item of the table that is not an upload record."""
        if item.get("record") != RECORD_TYPE:
            return None
        return cls(
            id=str(item["id"]),
            caller_id=str(item["callerId"]),
            kind=cast(UploadKind, str(item.get("kind", "upload"))),
            status=cast(UploadStatus, str(item["status"])),
            created_at=str(item["createdAt"]),
            updated_at=str(item["updatedAt"]),
            request=dict(item.get("request") or {}),
            file=dict(item["file"]) if isinstance(item.get("file"), Mapping) else None,
            error=dict(item["error"]) if isinstance(item.get("error"), Mapping) else None,
            callback_ref=_opt(item.get("callbackRef")),
            callback_url=_opt(item.get("callbackUrl")),
            callback_outbox=CallbackOutbox.from_dict(item.get(OUTBOX_FIELD)),
        )

    def to_public(self, status_path: str | None = None) -> dict[str, Any]:
        """`GET /v1/uploads/{id}`: id, status, file?, error?, createdAt, updatedAt."""
        out: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.file:
            out["file"] = dict(self.file)
        if self.error:
            out["error"] = dict(self.error)
        out["createdAt"] = self.created_at
        out["updatedAt"] = self.updated_at
        return out


def check_reported_file(
    record: UploadRecord, descriptor: Mapping[str, Any], now_s: float, max_age_s: int
) -> str | None:
    """Why the file a caller reports for its resumable upload cannot be that upload's (None when
    it can): created after the record (minus clock skew) and within `max_age_s`, the declared
    size and privacy. Not the name: a resumable file is named after the tus metadata's
    `filename`, which the browser may have given an extension. The folder is checked against
    Wix's folders by the service (`folder_chain`)."""
    created = parse_time(descriptor.get("createdDate"))
    issued = parse_time(record.created_at)
    if created is None or issued is None:
        return "the file has no creation time"
    if created < issued - REPORT_CLOCK_SKEW_S or created > now_s + REPORT_CLOCK_SKEW_S:
        return "the file was not created by this upload"
    if now_s - issued > max_age_s:
        return "the upload is too old to report a file for"
    request = record.request
    size = request.get("sizeInBytes")
    if size is not None and str(descriptor.get("sizeInBytes")) != str(size):
        return "the file's size is not the declared one"
    if bool(descriptor.get("private", False)) != bool(request.get("private", False)):
        return "the file's privacy is not the requested one"
    return None


def folder_chain(request: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """Where the relay told Wix to put the file: the root folder id and the folder names under
    it, leaf last (`filePath` under `parentFolderId`, default `media-root` [doc])."""
    root = str(request.get("parentFolderId") or "media-root")
    names = tuple(name for name in str(request.get("filePath") or "").split("/") if name)
    return root, names


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
