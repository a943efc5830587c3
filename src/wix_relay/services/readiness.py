"""Readiness: the ONE place where an upload or a job moves `uploaded → ready | failed`.

Every source of "Wix finished this file" calls `file_reached` — Wix's File Ready / File Failed
events (`accept_event`, `POST /v1/wix/events`), a caller reporting the file its resumable upload
became (`report_file`), a read that finds Wix already done (`file_for`), and the worker's
delayed checks (`settle`, `file_reached`). Each transition is one conditional write on the state
that was read, so duplicates, retries and races move a record exactly once; the winner of that
write (and only it) gives the record its callback outbox (a webhook-id, state `sending`) in that
same write, when the caller has a callback.

The callback is then queued and the outbox marked `queued`. When the SQS send fails, it is marked
`failed` and the request that made the transition fails with `CallbackNotQueued` (503,
retryable): the Wix event route answers 503 and forgets the event's dedupe marker, so Wix's
redelivery comes through; the worker's record is redelivered; a caller's report is retried.
Each of these retries finds the record ended with its callback not yet queued and queues it,
under the same webhook-id. A status read (`GET /v1/uploads/{id}`) of such a record also queues
it (best effort: the read answers).
A duplicate after the callback was queued queues nothing.

Events: verified (RS256, the Wix app's public key) before anything else; de-duplicated on the
event id (a conditional put with a TTL; forgotten again when processing fails, so Wix's retry
is processed); the latest state per file kept by `entityEventSequence` (a stale event changes
nothing). Correlation: `externalInfo` (origin + the relay's id) when Wix echoes it, else the file
owner item `file#<file id>`. An event the relay cannot place is acknowledged (200), logged and
counted (`WixEventUnmatched`) — its state stays stored, so a later report or worker write finds
it (`settle`). No Wix call on this path.

Metrics: `WixEventAccepted{reason=<outcome>}`, `ReadinessTransition{reason=<kind>.<status>}`,
`CallbackNotQueued`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from wix_relay.domain.callbacks import (
    OUTBOX_FIELD,
    CallbackNotQueued,
    CallbackOutbox,
    OutboxState,
)
from wix_relay.domain.errors import InvalidInput, NotFound, RelayError
from wix_relay.domain.jobs import Job, JobError, WixFileRef
from wix_relay.domain.readiness import (
    ENDED,
    FileOwner,
    Outcome,
    SubjectKind,
    UploadRecord,
    check_reported_file,
    file_document,
    folder_chain,
    parse_time,
    subject_of,
)
from wix_relay.domain.wix_events import FileFailed, FileReady, WixEvent
from wix_relay.observability import emit, logger
from wix_relay.services.uploads import wix_errors_as_relay_errors

if TYPE_CHECKING:
    from wix_relay.domain.callbacks import CallbackTarget
    from wix_relay.domain.callbacks import SubjectKind as CallbackKind
    from wix_relay.domain.callers import Caller
    from wix_relay.integrations.event_store import EventStore
    from wix_relay.integrations.upload_store import UploadStore
    from wix_relay.integrations.wix import WixMediaClient
    from wix_relay.integrations.wix.events import WixEventVerifier
    from wix_relay.services.callbacks import Queue

MAX_WAIT_S = 8.0
"""Bound of `?waitSeconds=`: well under API Gateway's 30 s (and the fuzz stage's 10 s limit);
the Lambda is billed while it holds a request, so a client re-asks rather than waits long."""
POLL_S = (0.25, 0.5, 1.0)
TRANSITION_ATTEMPTS = 4
ROOT_FOLDER_IDS = frozenset({"media-root", "visitor-uploads-root", "trash-root"})


@dataclass
class EventEndpointNotConfigured(RelayError):
    """503: no public key is configured; Wix retries the delivery later."""

    status: int = 503
    code: str = "EVENTS_NOT_CONFIGURED"
    retryable: bool = True


@dataclass(frozen=True)
class ReadinessPorts:
    uploads: UploadStore
    events: EventStore
    callbacks: Queue | None = None
    callback_target: Callable[[str], CallbackTarget | None] = lambda _ref: None


@dataclass(frozen=True)
class ReadinessOptions:
    dedupe_ttl_s: int = 7 * 24 * 3600
    state_ttl_s: int = 30 * 24 * 3600
    report_max_age_s: int = 24 * 3600
    """A resumable upload may report its file for this long after its URL was issued."""


Subject = tuple[SubjectKind, str]


class Readiness:
    def __init__(
        self,
        ports: Callable[[], ReadinessPorts],
        *,
        verifier: Callable[[], WixEventVerifier | None] = lambda: None,
        wix: Callable[[], WixMediaClient] | None = None,
        options: ReadinessOptions | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._ports = ports
        self._verifier = verifier
        self._wix = wix
        self.options = options or ReadinessOptions()
        self._clock = clock
        self._sleep = sleep

    @property
    def ports(self) -> ReadinessPorts:
        return self._ports()

    # --- events in ---------------------------------------------------------------------------
    def accept_event(self, raw_body: bytes | str) -> str:
        """Verify, de-duplicate and apply one delivery; the outcome's name (for logs/tests):
        ignored | duplicate | stale | unmatched | moved | unchanged."""
        verifier = self._verifier()
        if verifier is None:
            raise EventEndpointNotConfigured("Wix events are not configured on this relay")
        event = verifier.event(raw_body)
        outcome = self._accept(event)
        emit("WixEventAccepted", reason=outcome)
        logger.info(
            "wix event",
            extra={"event_id": event.id, "event_type": event.event_type, "outcome": outcome},
        )
        return outcome

    def _accept(self, event: WixEvent) -> str:
        if not isinstance(event, FileReady | FileFailed):
            return "ignored"
        file_id = event.file_id
        ports = self.ports
        if not ports.events.first_sighting(event.id, self.options.dedupe_ttl_s):
            return "duplicate"
        try:
            outcome = _event_outcome(event)
            if not self._record_state(event, file_id, outcome):
                return "stale"
            info = event.external_info
            subject = subject_of(info.origin, info.external_ids) if info else None
            if subject is None:
                owner = ports.uploads.owner(file_id)
                subject = None if owner is None else (owner.kind, owner.subject_id)
            if subject is None:
                return "unmatched"
            return "moved" if self.file_reached(subject, file_id, outcome) else "unchanged"
        except Exception:
            ports.events.forget(event.id)  # Wix retries the delivery: let it be processed then
            raise

    def _record_state(self, event: FileReady | FileFailed, file_id: str, outcome: Outcome) -> bool:
        """Store the event's state as the file's latest; False when a newer one is there."""
        events = self.ports.events
        sequence = event.sequence if event.sequence is not None else 0
        ttl = self.options.state_ttl_s
        if events.advance(file_id, sequence, outcome.as_state(), ttl, event_id=event.id):
            return True
        latest = events.latest(file_id)
        return latest is not None and latest.event_id == event.id  # a retry of this very event

    # --- the one transition ------------------------------------------------------------------
    def file_reached(self, subject: Subject, file_id: str, outcome: Outcome) -> bool:
        """Move the upload or job to `outcome` if it is waiting for this file; True only for
        the call that made the move (then its callback is queued)."""
        kind, subject_id = subject
        if kind == "upload":
            return self._upload_reached(subject_id, file_id, outcome)
        return self._job_reached(subject_id, file_id, outcome)

    def settle(self, subject: Subject, file_id: str) -> bool:
        """Apply an event that arrived before the record was ready for it (the worker calls
        this right after it wrote `uploaded`)."""
        latest = self.ports.events.latest(file_id)
        outcome = None if latest is None else Outcome.from_state(latest.state)
        return outcome is not None and self.file_reached(subject, file_id, outcome)

    def _upload_reached(self, upload_id: str, file_id: str, outcome: Outcome) -> bool:
        uploads = self.ports.uploads
        for _ in range(TRANSITION_ATTEMPTS):
            record = uploads.get(upload_id)
            if record is None:
                return False
            if record.ended:  # e.g. the retry of a transition whose callback was not queued
                self._send_upload_callback(record)
                return False
            if record.file_id not in (None, file_id):
                logger.warning(
                    "event for another file of an upload",
                    extra={"upload_id": upload_id, "file_id": file_id},
                )
                return False
            if not self._owns(FileOwner(file_id, "upload", upload_id, record.caller_id)):
                return False
            moved = replace(
                record.reach(outcome), callback_outbox=self._outbox(record.callback_ref)
            )
            if uploads.replace(moved, record):
                self._moved("upload", moved.id, outcome.status)
                self._send_upload_callback(moved, retry=False)
                return True
        return False

    def _job_reached(self, job_id: str, file_id: str, outcome: Outcome) -> bool:
        store = self.ports.uploads
        for _ in range(TRANSITION_ATTEMPTS):
            job = store.get_job(job_id)
            if job is not None and job.status in ENDED:
                self._send_job_callback(job)
                return False
            # Only an `uploaded` job waits for Wix; before that the worker has not recorded the
            # file yet (it calls `settle` after it has), after it the job has ended.
            if job is None or job.status != "uploaded":
                return False
            if job.file is not None and job.file.id != file_id:
                return False
            owner = FileOwner(
                file_id,
                "job",
                job.id,
                caller_id=job.caller_id,
                bucket=job.source.bucket if job.origin == "s3" else None,
                key=job.source.key if job.origin == "s3" else None,
            )
            if not self._owns(owner):
                return False
            url = outcome.file.get("url")
            ref = WixFileRef(file_id, str(url) if url else None, _wix_status(outcome))
            if outcome.status == "ready":
                moved = job.ready(ref)
            else:
                error = outcome.error() or {}
                moved = job.failed(
                    JobError(
                        error.get("code", "FILE_PROCESSING_FAILED"),
                        error.get("message", "Wix could not process the file"),
                    ),
                    file=ref,
                )
            moved = _with_outbox(moved, self._outbox(_opt(job.extra.get("callbackRef"))))
            if store.replace_job(moved, job):
                self._moved("job", moved.id, outcome.status)
                self._send_job_callback(moved, retry=False)
                return True
        return False

    def job_ended(self, job_id: str, *, ended_here: bool) -> None:
        """The worker's side of the outbox, for a job it found or left `ready | failed`:
        queue a callback that is due and not queued yet (a retry after a failed send), and —
        `ended_here`: this attempt wrote the end itself (a failure before Wix had the file) —
        first give it its outbox. Raises `CallbackNotQueued` when the send fails."""
        store = self.ports.uploads
        job = store.get_job(job_id)
        if job is None or job.status not in ENDED:
            return
        ref = _opt(job.extra.get("callbackRef"))
        if ended_here and ref is not None and OUTBOX_FIELD not in job.extra:
            due = _with_outbox(job, self._outbox(ref))
            if due is job or not store.replace_job(due, job):
                return  # no queue, or another attempt got there first (it sends it)
            self._send_job_callback(due, retry=False)
            return
        self._send_job_callback(job)

    def _owns(self, owner: FileOwner) -> bool:
        """Claim the file for this upload/job; False (logged) when another one owns it."""
        current = self.ports.uploads.claim_owner(owner)
        if (current.kind, current.subject_id) == (owner.kind, owner.subject_id):
            return True
        logger.warning(
            "a file already belongs to another upload or job",
            extra={"file_id": owner.file_id, "subject_id": owner.subject_id},
        )
        return False

    def _moved(self, kind: str, subject_id: str, status: str) -> None:
        emit("ReadinessTransition", reason=f"{kind}.{status}")
        logger.info("readiness", extra={"subject_id": subject_id, "kind": kind, "status": status})

    # --- the callback outbox (domain/callbacks.py) -----------------------------------------
    def _outbox(self, callback_ref: str | None) -> CallbackOutbox | None:
        """The outbox a transition writes: a fresh webhook-id when the caller has callbacks."""
        if callback_ref is None:
            return None
        if self.ports.callbacks is None:
            logger.error("a callback is due but RELAY_CALLBACK_QUEUE_URL is not set")
            return None
        return CallbackOutbox.due()

    def _send_upload_callback(self, record: UploadRecord, *, retry: bool = True) -> None:
        outbox, ref = record.callback_outbox, record.callback_ref
        if outbox is None or ref is None:
            return
        uploads = self.ports.uploads

        def write(state: OutboxState) -> bool:
            return uploads.replace(replace(record, callback_outbox=outbox.to(state)), record)

        self._deliver(outbox, "upload", ref, record.callback_url, record, write=write, retry=retry)

    def _send_job_callback(self, job: Job, *, retry: bool = True) -> None:
        outbox = CallbackOutbox.from_dict(job.extra.get(OUTBOX_FIELD))
        ref = _opt(job.extra.get("callbackRef"))
        if outbox is None or ref is None:
            return
        store = self.ports.uploads

        def write(state: OutboxState) -> bool:
            return store.replace_job(_with_outbox(job, outbox.to(state)), job)

        url = _opt(job.extra.get("callbackUrl"))
        self._deliver(outbox, "import", ref, url, job, write=write, retry=retry)

    def _deliver(
        self,
        outbox: CallbackOutbox,
        kind: CallbackKind,
        callback_ref: str,
        url: str | None,
        ended: UploadRecord | Job,
        *,
        write: Callable[[OutboxState], bool],
        retry: bool,
    ) -> None:
        """Queue the outbox's callback: the transition's writer (`retry=False`) always; a
        retry only when the writer's send failed or never happened (`retry_due`). The event is
        built from the ended record (its `updatedAt` is the event's timestamp), so a re-send is
        the same event. Then the outbox is marked (`queued` / `failed`) with a write on the same
        status and updatedAt; `CallbackNotQueued` when SQS refused the send."""
        if retry and not outbox.retry_due(parse_time(ended.updated_at), self._clock()):
            return
        queue = self.ports.callbacks
        if url is None:
            target = self.ports.callback_target(callback_ref)
            url = None if target is None else target.url
        context = {"webhook_id": outbox.webhook_id, "subject_id": ended.id}
        if queue is None or url is None:
            logger.error("a due callback has no queue or no URL; not sent", extra=context)
            return
        from wix_relay.services.callbacks import queue_callback

        try:
            queue_callback(
                queue,
                callback_ref=callback_ref,
                url=url,
                kind=kind,
                status_document=ended.to_public(),
                timestamp=ended.updated_at,
                webhook_id=outbox.webhook_id,
            )
        except Exception as exc:
            emit("CallbackNotQueued")
            logger.exception("the callback could not be queued; a retry queues it", extra=context)
            self._mark(write, "failed", context)
            raise CallbackNotQueued(
                "the status is stored, but its callback could not be queued yet; retry"
            ) from exc
        self._mark(write, "queued", context)

    @staticmethod
    def _mark(
        write: Callable[[OutboxState], bool], state: OutboxState, context: Mapping[str, Any]
    ) -> None:
        """Best effort: a `queued` mark that fails means one more send under the same
        webhook-id (receivers de-duplicate); a `failed` one, a retry after `OUTBOX_STALE_S`."""
        try:
            write(state)
        except Exception:
            logger.warning(
                "the callback outbox could not be marked",
                extra={**context, "state": state},
                exc_info=True,
            )

    # --- what callers read -------------------------------------------------------------------
    def upload_status(self, caller: Caller, upload_id: str, wait_s: float = 0) -> UploadRecord:
        """The caller's upload record (another caller's does not exist for them); with
        `wait_s`, held until it has ended or the time is up."""
        deadline = self._clock() + min(max(wait_s, 0.0), MAX_WAIT_S)
        for delay in _delays():
            record = self._own_record(caller, upload_id)
            if record.ended:
                with contextlib.suppress(CallbackNotQueued):  # logged; the read still answers
                    self._send_upload_callback(record)
                return record
            if self._clock() + delay > deadline:
                return record
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def report_file(self, caller: Caller, upload_id: str, body: Mapping[str, Any]) -> UploadRecord:
        """The caller says which Wix file its upload became (the finalize answer's `file.id`):
        checked against Wix (one get-file call), then the file is this upload's."""
        file_id = body.get("fileId")
        if not isinstance(file_id, str) or not file_id or len(file_id) > 200:
            raise InvalidInput("fileId must be the Wix file id the upload answered")
        record = self._own_record(caller, upload_id)
        if record.file_id == file_id:  # a repeated report (a retry after CALLBACK_NOT_QUEUED)
            self._send_upload_callback(record)
            return record
        if record.file_id is not None or record.ended:
            raise RelayError(
                "this upload already has its file", status=409, code="UPLOAD_ALREADY_REPORTED"
            )
        descriptor = self._wix_descriptor(file_id)
        unknown = NotFound(f"no file {file_id[:200]!r} for this upload")
        if descriptor is None:
            raise unknown
        problem = check_reported_file(
            record, descriptor, self._clock(), self.options.report_max_age_s
        )
        if problem is None and not self._in_folder(descriptor, record):
            problem = "the file is not in the upload's folder"
        if problem is not None:
            logger.info("reported file refused", extra={"upload_id": upload_id, "reason": problem})
            raise unknown
        if not self._owns(FileOwner(file_id, "upload", record.id, record.caller_id)):
            raise unknown
        outcome = Outcome.from_descriptor(descriptor)
        if outcome is not None:
            self.file_reached(("upload", record.id), file_id, outcome)
        elif self.ports.uploads.replace(record.uploaded(file_document(descriptor)), record):
            self.settle(("upload", record.id), file_id)  # an event may have come first
        return self._own_record(caller, upload_id)

    def file_for(self, caller: Caller, file_id: str, wait_s: float = 0) -> Mapping[str, Any]:
        """The file document of a file this caller put there (else 404, whether or not it
        exists); with `wait_s`, held until Wix has finished with it or the time is up."""
        ports = self.ports
        owner = ports.uploads.owner(file_id) if len(file_id) <= 200 else None
        if owner is None or not _may_read(caller, owner):
            raise NotFound(f"no file {file_id[:200]!r}")
        deadline = self._clock() + min(max(wait_s, 0.0), MAX_WAIT_S)
        for delay in _delays():
            latest = ports.events.latest(file_id)
            outcome = None if latest is None else Outcome.from_state(latest.state)
            if outcome is not None:
                return outcome.file
            if self._clock() + delay > deadline:
                break
            self._sleep(delay)
        descriptor = self._wix_descriptor(file_id)
        if descriptor is None:
            raise NotFound(f"no file {file_id[:200]!r}")
        outcome = Outcome.from_descriptor(descriptor)
        if outcome is not None:  # Wix is done but no event said so (yet): reconcile
            self.file_reached((owner.kind, owner.subject_id), file_id, outcome)
        return file_document(descriptor)

    def _in_folder(self, descriptor: Mapping[str, Any], record: UploadRecord) -> bool:
        """The file's folder is the one the relay chose for the upload: walk up from its parent
        folder, one Wix "Get Folder" call per level, comparing names (stops at a mismatch)."""
        root, names = folder_chain(record.request)
        folder = str(descriptor.get("parentFolderId") or "media-root")
        for name in reversed(names):
            if folder == root or folder in ROOT_FOLDER_IDS:
                return False
            with wix_errors_as_relay_errors():
                doc = self._client().get_folder(folder)
            if doc.get("displayName") != name:
                return False
            folder = str(doc.get("parentFolderId") or "media-root")
        return folder == root

    def _client(self) -> WixMediaClient:
        if self._wix is None:
            raise RelayError("the Wix client is not configured", code="CONFIGURATION_ERROR")
        return self._wix()

    def _own_record(self, caller: Caller, upload_id: str) -> UploadRecord:
        record = self.ports.uploads.get(upload_id) if len(upload_id) <= 100 else None
        if record is None or record.caller_id != caller.id:
            raise NotFound(f"no upload {upload_id[:100]!r}")
        return record

    def _wix_descriptor(self, file_id: str) -> Mapping[str, Any] | None:
        from wix_relay.integrations.wix import WixNotFound

        with wix_errors_as_relay_errors():
            try:
                return self._client().get_file(file_id).raw
            except WixNotFound:
                return None


def _event_outcome(event: FileReady | FileFailed) -> Outcome:
    if isinstance(event, FileReady):
        return Outcome("ready", file_document({**event.file, "id": event.file_id}))
    return Outcome(
        "failed",
        {"id": event.file_id, "operationStatus": "FAILED"},
        error_code=event.error_code,
        error_message=event.error_description,
    )


def _may_read(caller: Caller, owner: FileOwner) -> bool:
    if owner.caller_id is not None:
        return owner.caller_id == caller.id
    if owner.bucket is not None and owner.key is not None:  # an S3 route: its importSources
        return caller.policy.allows_import(owner.bucket, owner.key)
    return False


def _wix_status(outcome: Outcome) -> str:
    return "READY" if outcome.status == "ready" else "FAILED"


def _delays() -> Any:
    yield from POLL_S
    while True:
        yield POLL_S[-1]


def _with_outbox(job: Job, outbox: CallbackOutbox | None) -> Job:
    if outbox is None:
        return job
    return replace(job, extra={**job.extra, OUTBOX_FIELD: outbox.to_dict()})


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
