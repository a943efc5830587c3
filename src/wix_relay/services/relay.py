"""Relaying the worker's events (SQS batches, direct S3 / EventBridge events) into Wix, exactly
once: each work item (an S3 object or a partner import job) → its job → `run_job`.

Around `services.transfer.run_job`: the job (created for an S3 object, loaded for an import), the
exactly-once guard, SQS partial-batch answers, and every outcome recorded as a log line and a
metric (`ObjectRelayed`, `BytesRelayed`, `RelayFailed{reason}`, `DuplicateEventSkipped`).

After the upload the job is `uploaded` and the worker does not wait for Wix's processing. The
readiness service (`services/readiness.py`, the one transition) moves it: by Wix's File Ready /
File Failed event when events are configured (the worker only `settle`s an event that came
first), else by delayed readiness checks — an SQS message to this worker's own queue with
`DelaySeconds` doubling from `RELAY_READY_CHECK_DELAY_SECONDS`, one get-file call each, at most
`RELAY_READY_CHECKS`; after the last the job stays `uploaded` with the reason
(`READINESS_UNCONFIRMED`). Metric `ReadinessCheck{reason=pending|ready|failed|gave_up|error}`.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol

from wix_relay.config import Settings, TransferSettings
from wix_relay.domain.callbacks import CallbackNotQueued
from wix_relay.domain.callers import normalize_folder
from wix_relay.domain.destinations import Route, parse_routes
from wix_relay.domain.jobs import (
    OUTCOME_UNKNOWN,
    Claim,
    ClaimHeld,
    ClaimLost,
    Job,
    JobError,
    ObjectInfo,
    ObjectRef,
    object_version,
    utc_now,
)
from wix_relay.domain.readiness import Outcome as FileOutcome
from wix_relay.domain.readiness import SubjectKind
from wix_relay.domain.triggers import (
    Ignored,
    ImportRequested,
    ObjectCreated,
    ReadinessCheck,
    WorkItem,
    parse_message,
)
from wix_relay.observability import MetricUnit, emit, logger
from wix_relay.services.transfer import (
    Outcome,
    Ports,
    Readable,
    RetryLater,
    TransferOptions,
    job_error,
    opened,
    run_job,
    sends_at_once,
    streams,
)

Result = dict[str, Any]
BatchRunner = Callable[[Mapping[str, Any], Callable[[Any], None], Any], dict[str, Any]]
"""(SQS event, record handler, context) → `{"batchItemFailures"}`: `Runtime.sqs_batch`."""


class Redelivery(Protocol):
    """SQS records back on the queue sooner (`integrations.batch.MessageVisibility`)."""

    def delay(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        """The received record becomes visible again after `seconds`."""

    def requeue(
        self, queue_arn: str, body: str, seconds: int, attributes: Mapping[str, str]
    ) -> None:
        """A fresh copy of the message (receive count 0, with `attributes`), visible after
        `seconds`."""


THROTTLE_DELAY_S = (10.0, 60.0)
"""A throttled record comes back after 10 s on its first receive, doubling to 60 s (or Wix's
Retry-After when longer), ±25 % jitter, never more than `THROTTLE_DELAY_CAP_S`."""
THROTTLE_DELAY_CAP_S = 300
THROTTLE_REQUEUE_LIMIT = 20
"""A throttle never makes a receive the last one (which would fail the job and dead-letter a
good object): a record throttled on its second-to-last receive is sent again as a fresh message
and acknowledged, up to this many times per object; then its receives count as any failure."""
THROTTLES_ATTRIBUTE = "relayThrottles"


def _throttles(record: Any) -> int:
    """How often this object was requeued after a throttle (the message attribute)."""
    attributes = record.message_attributes
    attribute = attributes[THROTTLES_ATTRIBUTE] if attributes else None
    value = getattr(attribute, "string_value", None)
    return int(value) if isinstance(value, str) and value.isdigit() else 0


def throttle_retry_after(exc: BaseException) -> float | None:
    """Was this failure Wix throttling (a retryable 429)? Its Retry-After in seconds (0 when
    absent), or None when it was not a throttle."""
    cause: BaseException | None = exc
    while cause is not None:
        if getattr(cause, "status", None) == 429 and getattr(cause, "retryable", False) is True:
            retry_after = getattr(cause, "retry_after_s", None)
            return float(retry_after) if isinstance(retry_after, (int, float)) else 0.0
        cause = cause.__cause__ or cause.__context__
    return None


def throttle_delay(
    retry_after_s: float, receive_count: int, rng: Callable[[], float] = random.random
) -> int:
    """Seconds until a throttled record's next receive (see `THROTTLE_DELAY_S`)."""
    first, longest = THROTTLE_DELAY_S
    backoff = min(longest, first * 2.0 ** min(8, max(0, receive_count - 1)))
    wait = max(backoff, retry_after_s) * (0.75 + 0.5 * rng())
    return max(1, min(THROTTLE_DELAY_CAP_S, round(wait)))


def transfer_options(settings: Settings) -> TransferOptions:
    transfer = settings.transfer
    return TransferOptions(
        upload_threshold_bytes=transfer.upload_threshold_bytes,
        chunk_bytes=transfer.tus_chunk_bytes,
        presign_expiry_s=transfer.presign_expiry_s,
        routes=parse_routes(transfer.routes_json),
        default_route=Route(folder_root=normalize_folder(transfer.folder_root, "folderRoot")),
    )


class ReadinessService(Protocol):
    """The part of `services.readiness.Readiness` the worker uses."""

    def file_reached(
        self, subject: tuple[SubjectKind, str], file_id: str, outcome: FileOutcome
    ) -> bool: ...

    def settle(self, subject: tuple[SubjectKind, str], file_id: str) -> bool: ...

    def job_ended(self, job_id: str, *, ended_here: bool) -> None: ...


class CheckQueue(Protocol):
    def send_check(self, job_id: str, check: int, delay_s: int) -> str: ...


@dataclass(frozen=True)
class ReadinessHooks:
    """How an `uploaded` job reaches `ready | failed` (built by the runtime, lazily)."""

    service: Callable[[], ReadinessService]
    events_configured: Callable[[], bool]
    """A Wix public key is configured: the events move jobs, no checks."""
    checks: Callable[[], CheckQueue]
    max_checks: int = 10
    first_delay_s: int = 5


UNCONFIRMED = "READINESS_UNCONFIRMED"
CALLBACK_RETRY_S = 10
"""A record whose job ended but whose callback could not be queued comes back this soon."""


def check_delay(first_delay_s: int, check: int) -> int:
    """Check `check` (from 1) comes this long after the previous one: doubling, at most 900 s."""
    return int(min(first_delay_s * 2 ** (check - 1), 900))


class Relay:
    def __init__(
        self,
        ports: Ports,
        options: TransferOptions,
        settings: TransferSettings,
        *,
        pool: ThreadPoolExecutor,
        batch: BatchRunner | None = None,
        readiness: ReadinessHooks | None = None,
        redelivery: Redelivery | None = None,
    ) -> None:
        self.ports, self.options = ports, options
        self.default_mode = settings.default_mode
        self.max_receive_count = settings.max_receive_count
        self.pool, self.batch = pool, batch
        self.readiness = readiness
        self.redelivery = redelivery

    # --- events -------------------------------------------------------------------------------
    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """An SQS batch → `{"batchItemFailures"}`; a direct S3 / EventBridge event → processed,
        or raises for Lambda's asynchronous retries."""
        until = claim_until(context)
        records = event.get("Records")
        if isinstance(records, list) and records and records[0].get("eventSource") == "aws:sqs":
            if self.batch is None:
                raise RuntimeError("an SQS batch needs the runtime's batch runner")
            return self.batch(event, lambda record: self._sqs_record(record, until), context)
        items = parse_message(event)
        failures = [
            str(exc)
            for exc in self.pool.map(lambda i: self._safely(i, until), items)
            if exc is not None
        ]
        if failures:  # asynchronous invocation: Lambda retries, then its on-failure destination
            raise RuntimeError(f"{len(failures)} of {len(items)} objects will be retried")
        return {"processed": len(items)}

    def _sqs_record(self, record: Any, until: int) -> None:
        receive_count = int(record.attributes.approximate_receive_count or 1)
        last_attempt = receive_count >= self.max_receive_count
        try:
            items = parse_message(record.body)
        except ValueError as exc:
            logger.error("malformed message", extra={"message_id": record.message_id})
            raise ValueError(f"message {record.message_id}: {exc}") from exc
        try:
            for item in items:
                self.run_item(item, last_attempt=last_attempt, until=until)
        except CallbackNotQueued:
            if self.redelivery is not None:
                self._delay(record, CALLBACK_RETRY_S)
            raise
        except RetryLater as retry:
            retry_after = throttle_retry_after(retry)
            if retry_after is None or self.redelivery is None:
                raise
            delay = throttle_delay(retry_after, receive_count)
            throttles = _throttles(record) + 1
            if receive_count >= self.max_receive_count - 1 and throttles <= THROTTLE_REQUEUE_LIMIT:
                self._requeue(record, delay, throttles, retry)
                return  # acknowledged: the fresh copy carries on
            self._delay(record, delay)
            raise

    def _requeue(self, record: Any, seconds: int, throttles: int, retry: RetryLater) -> None:
        assert self.redelivery is not None
        try:
            self.redelivery.requeue(
                record.event_source_arn,
                record.body,
                seconds,
                {THROTTLES_ATTRIBUTE: str(throttles)},
            )
        except Exception:
            logger.exception("could not requeue a throttled record")
            raise retry from None
        logger.info("throttled record requeued", extra={"delay_s": seconds, "throttles": throttles})
        emit("ThrottledRecordRequeued")

    def _delay(self, record: Any, seconds: int) -> None:
        """A throttled record comes back in seconds, not after the queue's visibility timeout;
        if that fails, it waits the timeout (the record is redelivered either way)."""
        assert self.redelivery is not None
        try:
            self.redelivery.delay(record.event_source_arn, record.receipt_handle, seconds)
        except Exception:
            logger.exception("could not shorten a throttled record's visibility")
            return
        logger.info("throttled record comes back early", extra={"delay_s": seconds})
        emit("ThrottledRecordDelayed")

    def _safely(self, item: WorkItem, until: int) -> BaseException | None:
        try:
            self.run_item(item, last_attempt=False, until=until)
        except Exception as exc:
            return exc
        return None

    # --- one work item ------------------------------------------------------------------------
    def run_item(
        self, item: WorkItem, *, last_attempt: bool, until: int | None = None
    ) -> Result | None:
        """Relay one work item; raises when it should be redelivered. `until`: when this
        attempt's claim on the job expires (epoch seconds)."""
        if isinstance(item, Ignored):
            logger.info("event ignored", extra={"reason": item.reason})
            return None
        deadline = until if until is not None else claim_until(None)
        try:
            if isinstance(item, ObjectCreated):
                ref = item.ref
                logger.thread_safe_append_keys(s3_bucket=ref.bucket, s3_key=ref.key)
                return self._relay_object(ref, last_attempt, deadline)
            if isinstance(item, ReadinessCheck):
                logger.thread_safe_append_keys(job_id=item.job_id)
                return self._check(item)
            assert isinstance(item, ImportRequested)
            job_id = item.job_id
            logger.thread_safe_append_keys(job_id=job_id)
            return self._relay_import(job_id, last_attempt, deadline)
        finally:
            logger.thread_safe_clear_keys()

    def _relay_object(self, ref: ObjectRef, last_attempt: bool, until: int) -> Result:
        """The object's version first (the job's identity), whatever fields the event carried:
        in upload and resumable mode the object's GET names it, and the upload then streams
        that very body (one S3 request per object); in import mode a HEAD. A read that fails
        retryably is logged, counted and redelivered (the message ends in the DLQ if it never
        succeeds); a permanent one fails the job the event names."""
        body = None
        try:
            if streams(Job.for_s3_object(ref, self.default_mode), self.options):
                info, body = self.ports.source.read(ref)
            else:
                info = self.ports.source.head(ref)
        except Exception as exc:
            error = job_error(exc)
            if error.retryable:
                logger.warning(
                    "reading the object failed; will be retried",
                    extra={"reason": error.code, "detail": error.message},
                )
                emit("RelayFailed", reason=error.code)
                raise
            named = object_version(ref, ObjectInfo(ref=ref, size=ref.size or 0))
            failed = Job.for_s3_object(named, self.default_mode).failed(error)
            job, created = self.ports.jobs.create(failed)
            outcome = Outcome(job, skipped=not created and job.finished)
            if not created and not job.finished:  # another attempt owns it: let it decide
                raise ClaimHeld(f"job {job.id} is {job.status}") from exc
            return self._recorded(outcome)
        job = Job.for_s3_object(object_version(ref, info), self.default_mode)
        return self._run(job, None, last_attempt, until, info=info, body=body)

    def _relay_import(self, job_id: str, last_attempt: bool, until: int) -> Result:
        job = self.ports.jobs.get(job_id)
        if job is None:
            logger.error("import job not found; message dropped")
            return {"jobId": job_id, "status": "missing"}
        logger.thread_safe_append_keys(s3_bucket=job.source.bucket, s3_key=job.source.key)
        info = body = None
        if job.claim_state(time.time()) == "free" and streams(job, self.options):
            # as for an S3 event: the GET that the upload streams also reads the version
            with contextlib.suppress(Exception):  # else run_job's HEAD meets it and records it
                info, body = self.ports.source.read(job.source)
        return self._run(None, job, last_attempt, until, info=info, body=body)

    def _run(
        self,
        fresh: Job | None,
        stored: Job | None,
        last_attempt: bool,
        until: int,
        *,
        info: ObjectInfo | None = None,
        body: Readable | None = None,
    ) -> Result:
        named = fresh or stored
        assert named is not None
        logger.thread_safe_append_keys(job_id=named.id)
        try:
            with opened(self.ports, named, info, body) as ports:  # the upload streams `body`
                claimed = self._claim(fresh, stored, until, info)
                if isinstance(claimed, Outcome):
                    self._ended(claimed)
                    return self._recorded(claimed)
                outcome = run_job(
                    claimed, ports, self.options, last_attempt=last_attempt, info=info
                )
            self._follow_up(outcome)
        except (ClaimHeld, ClaimLost) as exc:
            logger.info(
                "another attempt holds the job; will retry later", extra={"detail": str(exc)}
            )
            raise
        except RetryLater as retry:
            if retry.job.status == "failed":  # the last attempt: failed for good
                self._ended(Outcome(retry.job))
            logger.warning(
                "relay failed; will be retried" if not last_attempt else "relay failed for good",
                extra={"reason": retry.error.code, "detail": retry.error.message},
            )
            emit("RelayFailed", reason=retry.error.code)
            raise
        return self._recorded(outcome)

    def _claim(
        self, fresh: Job | None, stored: Job | None, until: int, info: ObjectInfo | None
    ) -> Job | Outcome:
        """The job record is the lock: claim it with a conditional write, or say why not.
        `fresh`: a new job to create (S3 events); `stored`: the record as read (imports). In
        upload and import mode the claim is also the `sending` mark (`sends_at_once`)."""
        claim = Claim(f"{uuid.uuid4().hex}", until)
        jobs = self.ports.jobs
        named = fresh or stored
        assert named is not None
        sending = sends_at_once(named, info, self.options)
        if fresh is not None:
            started = fresh.start(claim=claim, sending=sending)
            if jobs.claim(started, None):
                return started
            stored = jobs.get(fresh.id)
        if stored is None:
            raise ClaimHeld("the job changed while being claimed")
        state = stored.claim_state(time.time())
        if state == "finished":
            return Outcome(stored, skipped=True)
        if state == "held":
            raise ClaimHeld(f"job {stored.id} is running (attempt {stored.attempts})")
        if state == "unknown":  # an earlier attempt may have reached Wix: never re-send blindly
            failed = stored.failed(JobError(OUTCOME_UNKNOWN, INTERRUPTED))
            if not jobs.claim(failed, stored):
                raise ClaimHeld("the job changed while being claimed")
            logger.error("relay interrupted after sending to Wix; not sent again")
            return Outcome(failed)
        started = stored.start(claim=claim, sending=sending)
        if not jobs.claim(started, stored):
            raise ClaimHeld("another attempt claimed the job first")
        return started

    def _recorded(self, outcome: Outcome) -> Result:
        record(outcome)
        return {"jobId": outcome.job.id, "status": outcome.job.status}

    # --- after the upload: readiness ----------------------------------------------------------
    def _follow_up(self, outcome: Outcome) -> None:
        """The job is `uploaded`: hand it to the readiness service (Wix answered READY/FAILED
        already) or leave it to the events (`settle` one that came first), else schedule the
        first delayed check. Never fails the relay: the upload is recorded."""
        self._ended(outcome)
        hooks, job = self.readiness, outcome.job
        if hooks is None or job.status != "uploaded" or job.file is None:
            return
        subject: tuple[SubjectKind, str] = ("job", job.id)
        try:
            done = FileOutcome.from_descriptor(outcome.descriptor or {})
            if done is not None:
                hooks.service().file_reached(subject, job.file.id, done)
            elif hooks.events_configured():
                hooks.service().settle(subject, job.file.id)
            elif hooks.max_checks > 0:
                hooks.checks().send_check(job.id, 1, check_delay(hooks.first_delay_s, 1))
        except CallbackNotQueued:
            raise  # the job has ended; its redelivery queues the callback (same webhook-id)
        except Exception:
            logger.exception("readiness follow-up failed; the job stays uploaded")
            emit("ReadinessCheck", reason="error")

    def _ended(self, outcome: Outcome) -> None:
        """An import that ended in this attempt (a failure), or was found ended (a redelivery
        after its callback could not be queued): its callback is queued now, through the
        outbox (services/readiness.py). Raises CallbackNotQueued: the record is redelivered."""
        hooks, job = self.readiness, outcome.job
        if hooks is not None and job.status in ("ready", "failed") and "callbackRef" in job.extra:
            hooks.service().job_ended(job.id, ended_here=not outcome.skipped)

    def _check(self, item: ReadinessCheck) -> Result:
        """One delayed readiness check (events off): one get-file call, then the transition,
        the next check, or — after the last — the job stays `uploaded` with the reason."""
        hooks = self.readiness
        job = self.ports.jobs.get(item.job_id)
        if job is not None:
            self._ended(Outcome(job, skipped=True))
        if hooks is None or job is None or job.status != "uploaded" or job.file is None:
            return {"jobId": item.job_id, "status": job.status if job else "missing"}
        file_id = job.file.id
        try:
            done = FileOutcome.from_descriptor(self.ports.media.get_file(file_id).raw)
        except Exception as exc:  # counted as a check: Wix may be down for a while
            logger.warning("readiness check failed", extra={"detail": str(exc)[:300]})
            done, reason = None, "error"
        else:
            reason = "pending" if done is None else done.status
        if done is not None:
            hooks.service().file_reached(("job", job.id), file_id, done)
        elif item.check < hooks.max_checks:
            delay = check_delay(hooks.first_delay_s, item.check + 1)
            hooks.checks().send_check(job.id, item.check + 1, delay)
        else:
            reason = "gave_up"
            waited = sum(check_delay(hooks.first_delay_s, n) for n in range(1, item.check + 1))
            error = JobError(
                UNCONFIRMED,
                f"Wix had not finished processing file {file_id} after {item.check} checks "
                f"over {waited} s; the job stays uploaded (Wix events are not configured: "
                "docs/readiness.md)",
                retryable=False,
            )
            noted = replace(job, error=error, updated_at=utc_now())
            if not self.ports.jobs.claim(noted, job):
                logger.info("the job changed during its last readiness check")
        emit("ReadinessCheck", reason=reason)
        logger.info("readiness check", extra={"check": item.check, "outcome": reason})
        return {"jobId": job.id, "status": job.status, "check": item.check}


INTERRUPTED = (
    "an earlier attempt stopped after (or while) sending the file to Wix, so Wix may hold it; "
    "it is not sent again: check the Media Manager (externalInfo names this job)"
)
CLAIM_GRACE_S = 30
"""A claim outlives its invocation's deadline by this much (clock skew between containers)."""
DEFAULT_CLAIM_S = 900
"""Without a Lambda context: the longest a Lambda invocation may run."""


def claim_until(context: Any) -> int:
    """When this invocation's claims expire: its deadline (Lambda's remaining time) + grace."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    seconds = remaining_ms() / 1000 if callable(remaining_ms) else DEFAULT_CLAIM_S
    return int(time.time() + seconds) + CLAIM_GRACE_S


def record(outcome: Outcome) -> None:
    """The outcome as one log line and its metrics."""
    job = outcome.job
    if outcome.skipped:
        logger.info("job already finished; nothing sent", extra={"status": job.status})
        emit("DuplicateEventSkipped")
    elif job.status == "failed" and job.error is not None:
        logger.warning(
            "relay failed permanently",
            extra={"reason": job.error.code, "detail": job.error.message},
        )
        emit("RelayFailed", reason=job.error.code)
    else:
        extra: dict[str, Any] = {"status": job.status, "mode": job.mode, "bytes": outcome.bytes}
        if job.file is not None:
            extra["wix_file_id"] = job.file.id
        logger.info("object relayed", extra=extra)
        emit("ObjectRelayed")
        emit("BytesRelayed", outcome.bytes, MetricUnit.Bytes)
