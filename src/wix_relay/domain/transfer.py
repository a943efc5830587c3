"""Moving one S3 object into Wix: trigger parsing, MIME detection, mode planning and the one
transfer function every trigger ends in (`run_job`).

The I/O sits behind three small ports (`ObjectSource`, `MediaService`, `JobRepository`) that the
integrations implement (S3, the Wix client, DynamoDB); this module stays pure Python.
"""

from __future__ import annotations

import json
import mimetypes
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Literal, Protocol

from wix_relay.domain.destinations import Route, match_route, object_destination
from wix_relay.domain.errors import RelayError, SourceChanged
from wix_relay.domain.jobs import Destination, Job, JobError, ModeName, ObjectRef, WixFileRef

OCTET_STREAM = "application/octet-stream"
# Content-Types that say nothing: S3's default for uploads without one, and the generic one.
_UNINFORMATIVE_TYPES = frozenset({"", "binary/octet-stream", OCTET_STREAM})
# Wix refuses the declared type with these rules; the documented fallback is octet-stream with
# the extension in `filename` so Wix sniffs the type [doc: docs/wix-facts.md "the single PUT"].
# [guess] the last three: other spellings of the same refusal (as in the Wix client).
MIME_REFUSAL_RULES = frozenset(
    {
        "MISMATCH_MIME_TYPE",
        "UNSUPPORTED_FILE_FORMAT",
        "UNSUPPORTED_MIME_TYPE",
        "INVALID_MIME_TYPE",
        "MIME_TYPE_NOT_SUPPORTED",
    }
)

ConcreteMode = Literal["upload", "resumable", "import"]


class RetryLater(Exception):
    """The job hit a retryable failure: the trigger must be redelivered."""

    def __init__(self, job: Job, error: JobError) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.job = job
        self.error = error


# --- ports ------------------------------------------------------------------------------------
class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ObjectInfo:
    """HEAD of the object: `ref` carries the resolved version id, ETag and size."""

    ref: ObjectRef
    size: int
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


class ObjectSource(Protocol):
    def head(self, ref: ObjectRef) -> ObjectInfo: ...

    def open(self, ref: ObjectRef, offset: int = 0) -> Readable: ...

    def presign_get(self, ref: ObjectRef, expires_s: int) -> str: ...


class MediaService(Protocol):
    """The part of `wix_relay.integrations.wix.WixMediaClient` the transfer uses."""

    def generate_upload_url(self, fields: Mapping[str, Any]) -> str: ...

    def upload(
        self,
        upload_url: str,
        source: Any,
        *,
        mime_type: str,
        filename: str | None = None,
        size: int | None = None,
        mime_fallback: bool = ...,
    ) -> Any: ...

    def generate_resumable_upload_url(self, fields: Mapping[str, Any]) -> Any: ...

    def upload_resumable(
        self,
        target: Any,
        open_at: Callable[[int], Any],
        *,
        size: int,
        mime_type: str,
        filename: str,
        chunk_size: int = ...,
    ) -> Any: ...

    def import_file(self, url: str, fields: Mapping[str, Any] | None = None) -> Any: ...

    def wait_until_ready(self, file_id: str, timeout_s: float) -> Any: ...


class JobRepository(Protocol):
    def save(self, job: Job) -> None: ...


# --- triggers ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObjectCreated:
    ref: ObjectRef
    event_name: str


@dataclass(frozen=True)
class ImportRequested:
    job_id: str


@dataclass(frozen=True)
class Ignored:
    reason: str


WorkItem = ObjectCreated | ImportRequested | Ignored


def decode_s3_key(raw: str) -> str:
    """S3 notifications URL-encode keys form-style: `+` is a space, `%2B` a plus [doc: S3 event
    message structure]."""
    return urllib.parse.unquote_plus(raw)


class MalformedMessage(ValueError):
    """A message no redelivery can make sense of (it should end in the dead-letter queue)."""


def parse_message(doc: Any) -> list[WorkItem]:
    """Every work item in one message body: an S3 notification (direct, through SQS or SNS), an
    EventBridge "Object Created" event, a partner import `{"jobId"}`, or an `s3:TestEvent`.
    Raises MalformedMessage for anything else."""
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            raise MalformedMessage("message body is not JSON") from None
    if not isinstance(doc, Mapping):
        raise MalformedMessage("message body is not a JSON object")
    if doc.get("Event") == "s3:TestEvent":
        return [Ignored(f"s3:TestEvent for bucket {doc.get('Bucket', '?')}")]
    if isinstance(doc.get("jobId"), str) and doc["jobId"]:
        return [ImportRequested(doc["jobId"])]
    if doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        return parse_message(doc["Message"])  # S3 → SNS → SQS
    if doc.get("source") == "aws.s3" and isinstance(doc.get("detail"), Mapping):
        return [_from_eventbridge(doc)]
    records = doc.get("Records")
    if isinstance(records, list) and records:
        return [_from_s3_record(r) for r in records]
    raise MalformedMessage("not an S3 notification, EventBridge event or import message")


def _from_s3_record(record: Any) -> WorkItem:
    if not isinstance(record, Mapping) or record.get("eventSource") != "aws:s3":
        raise MalformedMessage("not an S3 record")
    name = str(record.get("eventName", ""))
    if not name.startswith("ObjectCreated:"):
        return Ignored(f"event {name or '?'} is not an object creation")
    s3 = record.get("s3") or {}
    obj = s3.get("object") or {}
    bucket = (s3.get("bucket") or {}).get("name")
    if not bucket or not isinstance(obj.get("key"), str):
        raise MalformedMessage("S3 record without bucket or key")
    return ObjectCreated(
        ObjectRef(
            bucket=str(bucket),
            key=decode_s3_key(obj["key"]),
            version_id=_opt(obj.get("versionId")),
            etag=_opt(obj.get("eTag")),
            sequencer=_opt(obj.get("sequencer")),
            size=_int(obj.get("size")),
        ),
        name,
    )


def _from_eventbridge(doc: Mapping[str, Any]) -> WorkItem:
    detail_type = str(doc.get("detail-type", ""))
    if detail_type != "Object Created":
        return Ignored(f"EventBridge {detail_type or '?'} is not an object creation")
    detail = doc["detail"]
    obj = detail.get("object") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    if not bucket or not isinstance(obj.get("key"), str):
        raise MalformedMessage("EventBridge event without bucket or key")
    # [guess] EventBridge carries the key as stored (not form-encoded like S3 notifications).
    return ObjectCreated(
        ObjectRef(
            bucket=str(bucket),
            key=obj["key"],
            version_id=_opt(obj.get("version-id")),
            etag=_opt(obj.get("etag")),
            sequencer=_opt(obj.get("sequencer")),
            size=_int(obj.get("size")),
        ),
        "EventBridge:" + str(detail.get("reason", "Object Created")),
    )


# --- MIME and mode ----------------------------------------------------------------------------
@cache
def _mime_table() -> mimetypes.MimeTypes:
    # Python's built-in table only: the host's /etc/mime.types must not change behaviour.
    return mimetypes.MimeTypes(filenames=())


def detect_mime(content_type: str | None, file_name: str) -> str:
    """The object's Content-Type unless uninformative, then the extension, then octet-stream."""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared not in _UNINFORMATIVE_TYPES and "/" in declared and len(declared) <= 100:
        return declared
    guessed, _ = _mime_table().guess_type(file_name, strict=False)
    return guessed or OCTET_STREAM


def plan_mode(mode: ModeName, size: int, upload_threshold_bytes: int) -> ConcreteMode:
    if mode == "auto":
        return "upload" if size <= upload_threshold_bytes else "resumable"
    return mode


# --- the transfer -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TransferOptions:
    upload_threshold_bytes: int
    chunk_bytes: int
    presign_expiry_s: int
    ready_wait_s: float
    routes: Sequence[Route] = ()
    default_route: Route = field(default_factory=Route)


@dataclass(frozen=True)
class Outcome:
    job: Job
    skipped: bool = False
    """The job had already finished: nothing was sent to Wix."""
    bytes: int = 0
    ready_problem: str | None = None
    """Why readiness could not be confirmed (the job stays `uploaded`)."""


@dataclass(frozen=True)
class Ports:
    source: ObjectSource
    media: MediaService
    jobs: JobRepository


def run_job(
    job: Job, ports: Ports, options: TransferOptions, *, last_attempt: bool, started: bool = False
) -> Outcome:
    """Relay the job's object into Wix and record every step in the job.

    `started`: the job was stored `running` a moment ago (a new S3-event job), so this attempt's
    start is already recorded. Returns the outcome for a success or a permanent failure; raises
    `RetryLater` (after recording the reason) when a redelivery may succeed. Never modifies the
    source object."""
    if job.finished:
        return Outcome(job, skipped=True)
    if not started:
        job = job.start()
        ports.jobs.save(job)
    try:
        info = ports.source.head(job.source)
        job, mode = _prepare(job, info, options)
        file = _send_with_mime_fallback(job, mode, info, ports, options)
    except Exception as exc:
        error = job_error(exc)
        if error.retryable and not last_attempt:
            job = job.retry_later(error)
            ports.jobs.save(job)
            raise RetryLater(job, error) from exc
        job = job.failed(error)
        ports.jobs.save(job)
        if error.retryable:  # the last attempt: recorded as failed, then off to the DLQ
            raise RetryLater(job, error) from exc
        return Outcome(job)
    job = job.uploaded(file)
    ports.jobs.save(job)
    job, problem = _await_ready(job, ports.media, options.ready_wait_s)
    ports.jobs.save(job)
    return Outcome(job, bytes=info.size, ready_problem=problem)


def _prepare(job: Job, info: ObjectInfo, options: TransferOptions) -> tuple[Job, ConcreteMode]:
    """Pin the object version, decide the destination and the concrete mode."""
    expected = job.source
    if (
        expected.etag
        and info.ref.etag
        and expected.etag != info.ref.etag
        and not (expected.version_id and expected.version_id != "null")
    ):
        raise SourceChanged(
            f"s3://{expected.bucket}/{expected.key} changed since the job was created"
        )
    source = replace(
        expected,
        version_id=info.ref.version_id or expected.version_id,
        etag=expected.etag or info.ref.etag,
        size=info.size,
    )
    mode: ModeName = job.mode
    if job.destination is None:  # an S3 event: the route and the object decide
        route = match_route(options.routes, options.default_route, source.bucket, source.key)
        destination = object_destination(source.key, info.metadata, route)
        mode = route.mode or job.mode
    else:
        destination = job.destination
    if destination.mime_type is None:
        destination = replace(
            destination, mime_type=detect_mime(info.content_type, destination.file_name)
        )
    concrete = plan_mode(mode, info.size, options.upload_threshold_bytes)
    return replace(job, source=source, destination=destination, mode=concrete), concrete


def _send_with_mime_fallback(
    job: Job, mode: ConcreteMode, info: ObjectInfo, ports: Ports, options: TransferOptions
) -> WixFileRef:
    dest = job.destination
    assert dest is not None and dest.mime_type is not None
    try:
        return _send(mode, job.source, dest, dest.mime_type, info.size, ports, options)
    except Exception as exc:
        if dest.mime_type == OCTET_STREAM or not is_mime_refusal(exc):
            raise
        refusal = exc
    # With octet-stream, Wix needs the extension in the file name to sniff the type [doc].
    if "." not in dest.file_name.lstrip("."):
        extension = _mime_table().guess_extension(dest.mime_type, strict=False)
        dest = replace(dest, file_name=dest.file_name + (extension or ""))
    try:
        return _send(mode, job.source, dest, OCTET_STREAM, info.size, ports, options)
    except Exception as exc:
        if is_mime_refusal(exc):  # refused both ways: the first refusal says more
            raise refusal from exc
        raise


def is_mime_refusal(exc: BaseException) -> bool:
    """Wix refused the declared type: a 415, or a 400 naming a MIME rule [doc + guess]."""
    if getattr(exc, "status", None) == 415:
        return True
    names = {str(getattr(exc, "code", "")), *_rule_names(exc)}
    return bool(names & MIME_REFUSAL_RULES)


def wix_fields(dest: Destination, mime_type: str, size: int | None = None) -> dict[str, Any]:
    """Wix generate-upload-url / import fields for a destination [doc]."""
    fields: dict[str, Any] = {"mimeType": mime_type, "fileName": dest.file_name}
    if size is not None:
        fields["sizeInBytes"] = str(size)  # a decimal string [doc]
    if dest.file_path is not None:
        fields["filePath"] = dest.file_path
    elif dest.parent_folder_id is not None:
        fields["parentFolderId"] = dest.parent_folder_id
    if dest.labels:
        fields["labels"] = list(dest.labels)
    if dest.private:
        fields["private"] = True
    return fields


def _send(  # noqa: PLR0917 - one internal call site pair
    mode: ConcreteMode,
    ref: ObjectRef,
    dest: Destination,
    mime_type: str,
    size: int,
    ports: Ports,
    options: TransferOptions,
) -> WixFileRef:
    filename = dest.file_name
    media, source = ports.media, ports.source
    if mode == "import":
        fields = wix_fields(dest, mime_type)
        fields["displayName"] = fields.pop("fileName")
        url = source.presign_get(ref, options.presign_expiry_s)
        return file_ref(media.import_file(url, fields))
    if mode == "resumable":
        target = media.generate_resumable_upload_url(wix_fields(dest, mime_type, size))
        return file_ref(
            media.upload_resumable(
                target,
                lambda offset: source.open(ref, offset),
                size=size,
                mime_type=mime_type,
                filename=filename,
                chunk_size=options.chunk_bytes,
            )
        )
    upload_url = media.generate_upload_url(wix_fields(dest, mime_type, size))
    # A callable source is re-openable: the client may re-send it on 429/5xx (a fresh GET each
    # time, streamed in pieces). The MIME fallback is done once, by the caller, not the client.
    return file_ref(
        media.upload(
            upload_url,
            lambda: source.open(ref),
            mime_type=mime_type,
            filename=filename,
            size=size,
            mime_fallback=False,
        )
    )


def _await_ready(job: Job, media: MediaService, timeout_s: float) -> tuple[Job, str | None]:
    """Bounded wait for READY / FAILED; Wix already has the bytes, so problems here never fail or
    retry the job (it stays `uploaded`)."""
    file = job.file
    assert file is not None
    status = file.operation_status
    if status not in {"READY", "FAILED"} and timeout_s > 0:
        try:
            file = file_ref(media.wait_until_ready(file.id, timeout_s))
        except Exception as exc:
            return job, f"readiness not confirmed: {exc}"
        status = file.operation_status
    if status == "READY":
        return job.ready(file), None
    if status == "FAILED":
        error = JobError("WIX_PROCESSING_FAILED", "Wix accepted the bytes but could not process")
        return job.failed(error, file=file), None
    return replace(job, file=file), f"still {status or 'PENDING'} after {timeout_s:g}s"


def file_ref(descriptor: Any) -> WixFileRef:
    """A Wix FileDescriptor (mapping or object) → the job's file reference."""

    def get(*names: str) -> Any:
        for name in names:
            if isinstance(descriptor, Mapping) and descriptor.get(name) is not None:
                return descriptor[name]
            if getattr(descriptor, name, None) is not None:
                return getattr(descriptor, name)
        return None

    return WixFileRef(
        id=str(get("id", "_id")),
        url=_opt(get("url")),
        operation_status=_opt(get("operation_status", "operationStatus")),
    )


def job_error(exc: BaseException) -> JobError:
    """Any failure → the job's error. Unknown exceptions are retryable (a redelivery is safe)."""
    cause: BaseException | None = exc
    while cause is not None:  # e.g. an S3 read error surfacing through the Wix client
        if isinstance(cause, RelayError):
            # A 5xx-class problem (configuration, a secret unreadable) may be fixed: retry.
            return JobError(cause.code, cause.message, cause.retryable or cause.status >= 500)
        cause = cause.__cause__ or cause.__context__
    retryable = getattr(exc, "retryable", None)
    if isinstance(retryable, bool):  # a Wix client error
        rules = _rule_names(exc)
        code = rules[0] if rules else str(getattr(exc, "code", None) or type(exc).__name__)
        return JobError(code, f"Wix: {exc}", retryable)
    return JobError("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"[:500], True)


def _rule_names(exc: BaseException) -> tuple[str, ...]:
    names = getattr(exc, "rule_names", ())
    return tuple(str(n) for n in names) if isinstance(names, (list, tuple)) else ()


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
