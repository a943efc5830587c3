"""Relay jobs: one S3 object version moving into Wix, and its lifecycle.

    queued → running → uploaded (Wix accepted the bytes) → ready | failed

The job record is the lock: an attempt *claims* the job (status `running`, a claim owner and an
expiry, written conditionally), and before the one Wix call that creates the file the job carries
`stage: "sending"` (written with the claim in upload and import mode, just before the finalize,
conditional on still owning the claim, in resumable mode). A `running` job whose claim
holds is refused; one whose claim expired is taken over only if it never reached `sending`,
otherwise Wix may already have the file and the job fails loudly (`WIX_OUTCOME_UNKNOWN`).

A retryable failure (Wix 429/5xx, network, S3 throttling) puts the job back to `queued` with the
reason in `error` and the queue redelivers it; on the last allowed attempt it becomes `failed`
with that reason. A permanent failure (validation, object gone, policy, bad path) is `failed` at
once. Jobs for S3 events have a deterministic id (bucket, key, version), so a repeated event finds
the same job (its identity is resolved by the HEAD, see `object_version`). Pure Python: the
store's item shape is built here, the I/O lives in job_store.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast

from wix_relay.domain.media import ModeName

JobStatus = Literal["queued", "running", "uploaded", "ready", "failed"]
JobOrigin = Literal["s3", "import"]

DONE_STATUSES: frozenset[str] = frozenset({"uploaded", "ready"})
"""Wix holds the bytes: the job must never upload again."""
OUTCOME_UNKNOWN = "WIX_OUTCOME_UNKNOWN"
"""The code of a job that may already have reached Wix but cannot tell: never re-sent blindly."""
SENDING = "sending"

ClaimState = Literal["finished", "held", "unknown", "free"]


class ClaimHeld(Exception):
    """Another attempt holds the job (or won the race to claim it): redeliver later."""


class ClaimLost(Exception):
    """This attempt's claim was taken over: it must stop before sending anything to Wix."""


@dataclass(frozen=True)
class Claim:
    """Who runs the job, until when (epoch seconds)."""

    owner: str
    until: int

    def as_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "until": self.until}


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class ObjectRef:
    """One S3 object version. `etag` + `sequencer` identify it when the bucket is unversioned."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    sequencer: str | None = None
    size: int | None = None

    def identity(self) -> dict[str, str]:
        """What makes two deliveries "the same object version" (the idempotency payload)."""
        out = {"bucket": self.bucket, "key": self.key}
        if self.version_id and self.version_id != "null":
            out["versionId"] = self.version_id
        else:
            out["etag"] = self.etag or ""
            out["sequencer"] = self.sequencer or ""
        return out

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bucket": self.bucket, "key": self.key}
        for name, value in (
            ("versionId", self.version_id),
            ("etag", self.etag),
            ("sequencer", self.sequencer),
            ("size", self.size),
        ):
            if value is not None:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ObjectRef:
        size = doc.get("size")
        return cls(
            bucket=str(doc["bucket"]),
            key=str(doc["key"]),
            version_id=opt_str(doc.get("versionId")),
            etag=opt_str(doc.get("etag")),
            sequencer=opt_str(doc.get("sequencer")),
            size=int(size) if size is not None else None,
        )


@dataclass(frozen=True)
class ObjectInfo:
    """HEAD of the object: `ref` carries the resolved version id, ETag and size."""

    ref: ObjectRef
    size: int
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Destination:
    """Where the file goes in Wix (Wix field names in `as_dict`). `file_path` None = media root
    (or `parent_folder_id`); `mime_type` None = detect from the object."""

    file_name: str
    file_path: str | None = None
    mime_type: str | None = None
    labels: tuple[str, ...] = ()
    private: bool = False
    parent_folder_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "fileName": self.file_name,
            "labels": list(self.labels),
            "private": self.private,
        }
        for name, value in (
            ("filePath", self.file_path),
            ("mimeType", self.mime_type),
            ("parentFolderId", self.parent_folder_id),
        ):
            if value is not None:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Destination:
        return cls(
            file_name=str(doc["fileName"]),
            file_path=opt_str(doc.get("filePath")),
            mime_type=opt_str(doc.get("mimeType")),
            labels=tuple(str(label) for label in doc.get("labels") or ()),
            private=bool(doc.get("private", False)),
            parent_folder_id=opt_str(doc.get("parentFolderId")),
        )


@dataclass(frozen=True)
class JobError:
    code: str
    message: str
    retryable: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


@dataclass(frozen=True)
class WixFileRef:
    id: str
    url: str | None = None
    operation_status: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.url:
            out["url"] = self.url
        if self.operation_status:
            out["operationStatus"] = self.operation_status
        return out


@dataclass(frozen=True)
class Job:
    id: str
    status: JobStatus
    source: ObjectRef
    origin: JobOrigin
    mode: ModeName
    created_at: str
    updated_at: str
    caller_id: str | None = None
    destination: Destination | None = None
    file: WixFileRef | None = None
    error: JobError | None = None
    attempts: int = 0
    idempotency_key: str | None = None
    claim: Claim | None = None
    stage: str | None = None
    """`sending`: the Wix call that creates the file was (about to be) sent by `claim.owner`."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Unknown stored attributes, kept so a save never drops what another version wrote."""

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def for_s3_object(cls, source: ObjectRef, mode: ModeName, now: str | None = None) -> Job:
        stamp = now or utc_now()
        return cls(
            id=s3_job_id(source),
            status="queued",
            source=source,
            origin="s3",
            mode=mode,
            created_at=stamp,
            updated_at=stamp,
        )

    @classmethod
    def for_import(
        cls,
        *,
        caller_id: str,
        source: ObjectRef,
        destination: Destination,
        mode: ModeName,
        idempotency_key: str | None = None,
        now: str | None = None,
    ) -> Job:
        stamp = now or utc_now()
        return cls(
            id=import_job_id(caller_id, idempotency_key),
            status="queued",
            source=source,
            origin="import",
            mode=mode,
            created_at=stamp,
            updated_at=stamp,
            caller_id=caller_id,
            destination=destination,
            idempotency_key=idempotency_key,
        )

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        """Nothing left to do: Wix has the bytes, or it failed for a reason a retry won't fix."""
        if self.status in DONE_STATUSES:
            return True
        return self.status == "failed" and not (self.error and self.error.retryable)

    def claim_state(self, now_s: float) -> ClaimState:
        """What a new attempt may do: nothing (finished), wait (held), nothing blind (unknown:
        an earlier attempt may have reached Wix), or claim it (free)."""
        if self.finished:
            return "finished"
        if self.status != "running":
            return "free"
        if self.claim is not None and self.claim.until > now_s:
            return "held"
        # Expired (or written by a version without claims): did it reach Wix?
        return "free" if self.claim is not None and self.stage != SENDING else "unknown"

    def start(
        self, now: str | None = None, claim: Claim | None = None, *, sending: bool = False
    ) -> Job:
        """A new attempt (with `sending`: its claim is also the `sending` mark)."""
        stage = SENDING if sending else None
        return self._to("running", now, attempts=self.attempts + 1, claim=claim, stage=stage)

    def sending(self, now: str | None = None) -> Job:
        return replace(self, stage=SENDING, updated_at=now or utc_now())

    def uploaded(self, file: WixFileRef, now: str | None = None) -> Job:
        return self._to("uploaded", now, file=file, error=None)

    def ready(self, file: WixFileRef, now: str | None = None) -> Job:
        return self._to("ready", now, file=file, error=None)

    def failed(
        self, error: JobError, now: str | None = None, file: WixFileRef | None = None
    ) -> Job:
        return self._to("failed", now, error=error, file=file or self.file)

    def retry_later(self, error: JobError, now: str | None = None) -> Job:
        return self._to("queued", now, error=error)

    def _to(self, status: JobStatus, now: str | None, **changes: Any) -> Job:
        if status != "running":  # the claim and stage only mean something while running
            changes.setdefault("claim", None)
            changes.setdefault("stage", None)
        return replace(self, status=status, updated_at=now or utc_now(), **changes)

    # --- shapes ----------------------------------------------------------------------------
    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item (plain JSON types; the store serialises)."""
        item: dict[str, Any] = dict(self.extra)
        item.update(
            {
                "id": self.id,
                "status": self.status,
                "origin": self.origin,
                "mode": self.mode,
                "source": self.source.as_dict(),
                "attempts": self.attempts,
                "createdAt": self.created_at,
                "updatedAt": self.updated_at,
            }
        )
        optional = {
            "callerId": self.caller_id,
            "destination": self.destination.as_dict() if self.destination else None,
            "file": self.file.as_dict() if self.file else None,
            "error": self.error.as_dict() if self.error else None,
            "idempotencyKey": self.idempotency_key,
            "claim": self.claim.as_dict() if self.claim else None,
            "stage": self.stage,
        }
        for name, value in optional.items():
            if value is None:
                item.pop(name, None)
            else:
                item[name] = value
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Job:
        known = {
            "id",
            "status",
            "origin",
            "mode",
            "source",
            "attempts",
            "createdAt",
            "updatedAt",
            "callerId",
            "destination",
            "file",
            "error",
            "idempotencyKey",
            "claim",
            "stage",
            "expiresAt",  # the store's TTL, rewritten on every write
        }
        claim_doc = item.get("claim")
        file_doc = item.get("file")
        error_doc = item.get("error")
        dest_doc = item.get("destination")
        return cls(
            id=str(item["id"]),
            status=cast(JobStatus, str(item["status"])),
            source=ObjectRef.from_dict(item["source"]),
            origin=cast(JobOrigin, str(item.get("origin", "s3"))),
            mode=cast(ModeName, str(item.get("mode", "auto"))),
            created_at=str(item["createdAt"]),
            updated_at=str(item["updatedAt"]),
            caller_id=opt_str(item.get("callerId")),
            destination=Destination.from_dict(dest_doc) if dest_doc else None,
            file=WixFileRef(
                id=str(file_doc["id"]),
                url=opt_str(file_doc.get("url")),
                operation_status=opt_str(file_doc.get("operationStatus")),
            )
            if file_doc
            else None,
            error=JobError(
                code=str(error_doc["code"]),
                message=str(error_doc["message"]),
                retryable=bool(error_doc.get("retryable", False)),
            )
            if error_doc
            else None,
            attempts=int(item.get("attempts", 0)),
            idempotency_key=opt_str(item.get("idempotencyKey")),
            claim=Claim(str(claim_doc["owner"]), int(claim_doc["until"])) if claim_doc else None,
            stage=opt_str(item.get("stage")),
            extra={k: v for k, v in item.items() if k not in known},
        )

    def to_public(self) -> dict[str, Any]:
        """`GET /v1/imports/{id}`: id, status, source, file?, error?, createdAt, updatedAt."""
        source = {"bucket": self.source.bucket, "key": self.source.key}
        if self.source.version_id:
            source["versionId"] = self.source.version_id
        out: dict[str, Any] = {"id": self.id, "status": self.status, "source": source}
        if self.source.size is not None:
            out["source"]["size"] = self.source.size
        if self.file:
            out["file"] = self.file.as_dict()
        if self.error:
            out["error"] = {"code": self.error.code, "message": self.error.message}
        out["createdAt"] = self.created_at
        out["updatedAt"] = self.updated_at
        return out


def object_version(event: ObjectRef, info: ObjectInfo) -> ObjectRef:
    """The object version a delivery names, resolved by its HEAD, so that every delivery of it
    agrees whatever fields it carried: the version id when the bucket is versioned, else the
    ETag (the event's when it names one: a mismatch is then SOURCE_CHANGED, not another job)."""
    version = info.ref.version_id
    versioned = bool(version) and version != "null"
    return ObjectRef(
        bucket=event.bucket,
        key=event.key,
        version_id=version if versioned else None,
        etag=event.etag or info.ref.etag,
        size=info.size,
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


def s3_job_id(source: ObjectRef) -> str:
    """Deterministic: the same object version always maps to the same job."""
    identity = source.identity()
    return "s3-" + _digest(*(f"{k}={v}" for k, v in sorted(identity.items())))


def import_job_id(caller_id: str, idempotency_key: str | None) -> str:
    """Random, or derived from (caller, Idempotency-Key) so a retried POST lands on the same id."""
    if idempotency_key is None:
        return "imp-" + uuid.uuid4().hex
    return "imp-" + _digest(caller_id, idempotency_key)


def opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


__all__ = [
    "Claim",
    "ClaimHeld",
    "ClaimLost",
    "Destination",
    "Job",
    "JobError",
    "JobStatus",
    "ModeName",
    "ObjectInfo",
    "ObjectRef",
    "WixFileRef",
    "import_job_id",
    "object_version",
    "opt_str",
    "s3_job_id",
    "utc_now",
]
