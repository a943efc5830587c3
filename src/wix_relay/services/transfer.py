"""Moving one S3 object into Wix: the one transfer function every trigger ends in (`run_job`).

The I/O sits behind three small ports (`ObjectSource`, `MediaService`, `JobRepository`) that the
integrations implement (S3, the Wix client, DynamoDB).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from wix_relay.domain.destinations import Route, match_route, object_destination, wix_fields
from wix_relay.domain.errors import RelayError, SourceChanged
from wix_relay.domain.jobs import (
    OUTCOME_UNKNOWN,
    ClaimLost,
    Destination,
    Job,
    JobError,
    ObjectInfo,
    ObjectRef,
    WixFileRef,
)
from wix_relay.domain.media import (
    OCTET_STREAM,
    ConcreteMode,
    ModeName,
    detect_mime,
    fallback_file_name,
    is_mime_refusal,
    plan_mode,
    rule_names,
)
from wix_relay.domain.readiness import external_info
from wix_relay.observability import logger

if TYPE_CHECKING:
    from wix_relay.integrations.wix.models import FileDescriptor, ResumableTarget


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


class ObjectSource(Protocol):
    def head(self, ref: ObjectRef) -> ObjectInfo: ...

    def read(self, ref: ObjectRef) -> tuple[ObjectInfo, Readable]:
        """A GET that is also the HEAD: the version's info and its body (the caller closes)."""
        ...

    def open(self, ref: ObjectRef, offset: int = 0) -> Readable: ...

    def presign_get(self, ref: ObjectRef, expires_s: int) -> str: ...


class MediaService(Protocol):
    """The part of `wix_relay.integrations.wix.WixMediaClient` the transfer uses."""

    def generate_upload_url(self, fields: Mapping[str, Any]) -> str: ...

    def upload(
        self,
        upload_url: str,
        source: Callable[[], Readable],
        *,
        mime_type: str,
        filename: str | None = None,
        size: int | None = None,
        fresh_token: bool = ...,
    ) -> FileDescriptor: ...

    def generate_resumable_upload_url(self, fields: Mapping[str, Any]) -> ResumableTarget: ...

    def upload_resumable(
        self,
        target: ResumableTarget,
        open_at: Callable[[int], Readable],
        *,
        size: int,
        mime_type: str,
        filename: str,
        chunk_size: int = ...,
        before_finalize: Callable[[], None] | None = ...,
    ) -> FileDescriptor: ...

    def import_file(
        self, url: str, fields: Mapping[str, Any] | None = None, *, retry: bool = ...
    ) -> FileDescriptor: ...

    def get_file(self, file_id: str) -> FileDescriptor:
        """One get-file-by-id call (the worker's readiness checks when events are off)."""
        ...


class JobRepository(Protocol):
    """The jobs table (`integrations.job_store.JobStore`)."""

    def get(self, job_id: str) -> Job | None: ...

    def create(self, job: Job) -> tuple[Job, bool]:
        """Put the job unless its id exists → (the stored job, whether it was created)."""
        ...

    def claim(self, job: Job, expected: Job | None) -> bool:
        """Write `job` only if the stored record is still `expected` (None: no record)."""
        ...

    def save(self, job: Job, *, owner: str | None = None) -> None:
        """Write the job; with `owner` only while that attempt holds the claim (`ClaimLost`)."""
        ...


@dataclass(frozen=True)
class TransferOptions:
    upload_threshold_bytes: int
    chunk_bytes: int
    presign_expiry_s: int
    routes: Sequence[Route] = ()
    default_route: Route = field(default_factory=Route)


@dataclass(frozen=True)
class Outcome:
    job: Job
    skipped: bool = False
    """The job had already finished: nothing was sent to Wix."""
    bytes: int = 0
    descriptor: Mapping[str, Any] | None = None
    """What Wix answered for the file (`uploaded`): READY/FAILED already, or PENDING."""


@dataclass(frozen=True)
class Ports:
    source: ObjectSource
    media: MediaService
    jobs: JobRepository


class OpenedSource:
    """The source with one object's GET already answered: the read that named the object's
    version (`ObjectSource.read`, instead of a HEAD). `open` of that version at offset 0
    returns its body, once; every other read opens anew (a re-send after a 5xx, a resumed TUS
    chunk). `close` drops the body if nobody took it (a claim refused, a failure before the
    upload)."""

    def __init__(self, source: ObjectSource, ref: ObjectRef, body: Readable) -> None:
        self._source, self._ref = source, ref
        self._body: Readable | None = body

    def read(self, ref: ObjectRef) -> tuple[ObjectInfo, Readable]:
        return self._source.read(ref)

    def open(self, ref: ObjectRef, offset: int = 0) -> Readable:
        body = self._body
        if body is not None and (ref, offset) == (self._ref, 0):
            self._body = None
            return body
        return self._source.open(ref, offset)

    def head(self, ref: ObjectRef) -> ObjectInfo:
        return self._source.head(ref)

    def presign_get(self, ref: ObjectRef, expires_s: int) -> str:
        return self._source.presign_get(ref, expires_s)

    def close(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            body.close()


@contextlib.contextmanager
def opened(
    ports: Ports, job: Job, info: ObjectInfo | None, body: Readable | None
) -> Iterator[Ports]:
    """`ports` whose source serves `body` (the GET that named the job's version) to the job's
    upload; the body is closed when the block ends if the upload did not take it."""
    if body is None or info is None:
        yield ports
        return
    source = None
    try:
        with contextlib.suppress(SourceChanged):  # run_job finds and records it
            source = OpenedSource(ports.source, pinned_source(job.source, info), body)
        yield ports if source is None else replace(ports, source=source)
    finally:
        if source is not None:
            source.close()
        else:
            body.close()


SPENT_TOKEN_CODES = frozenset({"UPLOAD_TOKEN_ALREADY_USED", "UPLOAD_TOKEN_EXPIRED"})
"""[guess: the emulator's codes] a single-use URL already used: a file may exist."""
SAVE_RETRY_DELAYS_S = (0.2, 1.0, 3.0)
"""After Wix returned the file, recording it is retried this often (after the AWS client's own
retries)."""


class _Attempt:
    """Whether the Wix call that creates the file went out (then a failure is ambiguous)."""

    def __init__(self, job: Job, jobs: JobRepository) -> None:
        self.job, self.jobs, self.sent = job, jobs, False

    def sending(self) -> None:
        """Called just before the creating call: mark the job (only while we own it)."""
        claim = self.job.claim
        if self.job.stage is None and claim is not None:
            self.job = self.job.sending()
            self.jobs.save(self.job, owner=claim.owner)
        self.sent = True


def run_job(
    job: Job,
    ports: Ports,
    options: TransferOptions,
    *,
    last_attempt: bool,
    info: ObjectInfo | None = None,
) -> Outcome:
    """Relay a job this attempt has claimed (`running`, our claim) into Wix, recording every
    step in the job. `info`: the object's HEAD when the caller already has it.

    Returns the outcome for a success or a permanent failure; raises `RetryLater` (after
    recording the reason) when a redelivery may succeed, `ClaimLost` when another attempt took
    the job over. A failure after the creating call went out is never retried blindly: unless
    Wix clearly refused, the job fails as WIX_OUTCOME_UNKNOWN. Never modifies the source."""
    assert job.claim is not None, "run_job needs a claimed job"
    owner = job.claim.owner
    attempt = _Attempt(job, ports.jobs)
    try:
        if info is None:
            info = ports.source.head(job.source)
        attempt.job, mode = _prepare(job, info, options)
        descriptor = _send_with_mime_fallback(attempt, mode, info, ports, options)
    except ClaimLost:
        raise
    except Exception as exc:
        job = attempt.job
        error = job_error(exc)
        if attempt.sent and not wix_refused(exc):
            error = JobError(
                OUTCOME_UNKNOWN,
                f"Wix may already hold this file; not sent again ({error.code}: {error.message})"[
                    :500
                ],
            )
        if error.retryable and not last_attempt:
            job = job.retry_later(error)
            ports.jobs.save(job, owner=owner)
            raise RetryLater(job, error) from exc
        job = job.failed(error)
        ports.jobs.save(job, owner=owner)
        if error.retryable:  # the last attempt: recorded as failed, then off to the DLQ
            raise RetryLater(job, error) from exc
        return Outcome(job)
    # Wix has the bytes; processing is Wix's. The job stays `uploaded` until the readiness
    # service moves it (an event, or a delayed check): no invocation time spent waiting.
    job = attempt.job.uploaded(file_ref(descriptor))
    _record_file(job, ports.jobs)
    return Outcome(job, bytes=info.size, descriptor=descriptor.raw)


def _record_file(job: Job, jobs: JobRepository) -> None:
    """Wix has the file: record it whatever it takes (never a reason to upload again)."""
    assert job.file is not None
    for delay in (*SAVE_RETRY_DELAYS_S, None):
        try:
            jobs.save(job)
            return
        except Exception:
            logger.exception(
                "could not record the uploaded file", extra={"wix_file_id": job.file.id}
            )
            if delay is None:
                raise
            time.sleep(delay)


def wix_refused(exc: BaseException) -> bool:
    """After the creating call went out: did Wix clearly *not* create the file? A refusal (4xx
    that is not a possibly spent token; a plain throttle is one), or the source failed mid-body."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, RelayError):  # the S3 read broke the request body
            return True
        cause = cause.__cause__ or cause.__context__
    status = getattr(exc, "status", None)
    if not isinstance(status, int) or not 400 <= status < 500:
        return False
    if status == 429:  # a throttle was not processed; a 429 that may mean "spent" is not a refusal
        from wix_relay.integrations.wix import WixUploadTokenSpent

        return not isinstance(exc, WixUploadTokenSpent)
    spent = {str(getattr(exc, "code", "")), *rule_names(exc)} & SPENT_TOKEN_CODES
    return status not in {408, 409} and not spent


def _prepare(job: Job, info: ObjectInfo, options: TransferOptions) -> tuple[Job, ConcreteMode]:
    """Pin the object version, decide the destination and the concrete mode."""
    source = pinned_source(job.source, info)
    if job.destination is None:  # an S3 event: the route and the object decide
        route = match_route(options.routes, options.default_route, source.bucket, source.key)
        destination = object_destination(source.key, info.metadata, route)
    else:
        destination = job.destination
    if destination.mime_type is None:
        destination = replace(
            destination, mime_type=detect_mime(info.content_type, destination.file_name)
        )
    concrete = planned_mode(job, info.size, options)
    return replace(job, source=source, destination=destination, mode=concrete), concrete


def pinned_source(expected: ObjectRef, info: ObjectInfo) -> ObjectRef:
    """The job's object as read: the version the HEAD found (SourceChanged when an unversioned
    object's ETag is no longer the one the job was created for)."""
    if (
        expected.etag
        and info.ref.etag
        and expected.etag != info.ref.etag
        and not (expected.version_id and expected.version_id != "null")
    ):
        raise SourceChanged(
            f"s3://{expected.bucket}/{expected.key} changed since the job was created"
        )
    return replace(
        expected,
        version_id=info.ref.version_id or expected.version_id,
        etag=expected.etag or info.ref.etag,
        size=info.size,
    )


def planned_mode(job: Job, size: int, options: TransferOptions) -> ConcreteMode:
    """How the object goes into Wix: the job's mode (an S3 event's route may set it), `auto`
    decided by the size."""
    return plan_mode(_mode(job, options), size, options.upload_threshold_bytes)


def streams(job: Job, options: TransferOptions) -> bool:
    """Whether the job reads the object's bytes: upload and resumable mode (`auto` is one of
    them, whatever the size); import mode hands Wix a URL instead."""
    return _mode(job, options) != "import"


def _mode(job: Job, options: TransferOptions) -> ModeName:
    if job.destination is not None:  # a partner import: its own mode
        return job.mode
    source = job.source  # an S3 event: the route may set it
    route = match_route(options.routes, options.default_route, source.bucket, source.key)
    return route.mode or job.mode


def sends_at_once(job: Job, info: ObjectInfo | None, options: TransferOptions) -> bool:
    """Upload and import mode: only a step that creates nothing (generate-URL, presign) lies
    between the claim and the creating call, so the claim carries `sending` (one write fewer;
    the trade is in docs/s3-path.md). Not resumable: the whole TUS transfer lies between."""
    size = info.size if info is not None else job.source.size
    return size is not None and planned_mode(job, size, options) != "resumable"


def _send_with_mime_fallback(
    attempt: _Attempt, mode: ConcreteMode, info: ObjectInfo, ports: Ports, options: TransferOptions
) -> FileDescriptor:
    dest = attempt.job.destination
    assert dest is not None and dest.mime_type is not None
    try:
        return _send(mode, attempt, dest, dest.mime_type, info.size, ports, options)
    except Exception as exc:
        if dest.mime_type == OCTET_STREAM or not is_mime_refusal(exc):
            raise
        refusal = exc
    attempt.sent = False  # refused: Wix created nothing
    # With octet-stream, Wix needs the extension in the file name to sniff the type [doc].
    dest = replace(dest, file_name=fallback_file_name(dest.file_name, dest.mime_type))
    try:
        return _send(mode, attempt, dest, OCTET_STREAM, info.size, ports, options)
    except Exception as exc:
        if is_mime_refusal(exc):  # refused both ways: the first refusal says more
            raise refusal from exc
        raise


def _send(  # noqa: PLR0917 - one internal call site pair
    mode: ConcreteMode,
    attempt: _Attempt,
    dest: Destination,
    mime_type: str,
    size: int,
    ports: Ports,
    options: TransferOptions,
) -> FileDescriptor:
    """One way into Wix. `attempt.sending()` runs just before the call that creates the file
    (the upload PUT, the TUS finalize, the import); every retry of that call reuses the same
    single-use URL / token (the client's), never a new one."""
    ref, filename = attempt.job.source, dest.file_name
    media, source = ports.media, ports.source
    external = external_info(attempt.job.id)  # Wix echoes it in File Ready / File Failed
    if mode == "import":
        fields = {**wix_fields(dest, mime_type), "externalInfo": external}
        fields["displayName"] = fields.pop("fileName")
        url = source.presign_get(ref, options.presign_expiry_s)
        attempt.sending()
        return media.import_file(url, fields, retry=False)
    if mode == "resumable":  # no externalInfo on this one [doc]
        target = media.generate_resumable_upload_url(wix_fields(dest, mime_type, size))
        return media.upload_resumable(
            target,
            lambda offset: source.open(ref, offset),
            size=size,
            mime_type=mime_type,
            filename=filename,
            chunk_size=options.chunk_bytes,
            before_finalize=attempt.sending,
        )
    fields = {**wix_fields(dest, mime_type, size), "externalInfo": external}
    upload_url = media.generate_upload_url(fields)
    attempt.sending()
    # A callable source is re-openable: the client may re-send it on 5xx (a fresh GET each time,
    # streamed in pieces, the same URL). The MIME fallback is done once, here, not the client.
    return media.upload(
        upload_url,
        lambda: source.open(ref),
        mime_type=mime_type,
        filename=filename,
        size=size,
        fresh_token=True,  # generated just above, never presented before
    )


def file_ref(descriptor: FileDescriptor) -> WixFileRef:
    """A Wix file descriptor → the job's file reference."""
    return WixFileRef(descriptor.id, descriptor.url, descriptor.operation_status)


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
        rules = rule_names(exc)
        code = rules[0] if rules else str(getattr(exc, "code", None) or type(exc).__name__)
        return JobError(code, f"Wix: {exc}", retryable)
    return JobError("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"[:500], True)
