"""Relaying one work item (an S3 object or a partner import job) into Wix, exactly once.

The orchestration around `domain.transfer.run_job`: the job (created for an S3 object, loaded
for an import), the exactly-once guard, and every outcome recorded as a log line and a metric
(`ObjectRelayed`, `BytesRelayed`, `RelayFailed{reason}`, `DuplicateEventSkipped`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from wix_relay.config import Settings
from wix_relay.domain.callers import normalize_folder
from wix_relay.domain.destinations import Route, parse_routes
from wix_relay.domain.jobs import Job, ModeName, ObjectRef
from wix_relay.domain.transfer import (
    Ignored,
    ImportRequested,
    ObjectCreated,
    Outcome,
    Ports,
    RetryLater,
    TransferOptions,
    WorkItem,
    run_job,
)
from wix_relay.integrations.idempotency import InProgress
from wix_relay.observability import MetricUnit, emit, logger

if TYPE_CHECKING:
    from wix_relay.integrations.job_store import JobStore

Result = dict[str, Any]


class DuplicateInProgress(Exception):
    """The same object version is being relayed right now by another invocation."""


class Once(Protocol):
    """The exactly-once guard (`integrations.idempotency.Idempotency`)."""

    def register(self, context: Any) -> None: ...

    def run_once(self, identity: dict[str, str], work: Callable[[], Result]) -> Result: ...


def transfer_options(settings: Settings) -> TransferOptions:
    transfer = settings.transfer
    return TransferOptions(
        upload_threshold_bytes=transfer.upload_threshold_bytes,
        chunk_bytes=transfer.tus_chunk_bytes,
        presign_expiry_s=transfer.presign_expiry_s,
        ready_wait_s=transfer.ready_wait_s,
        routes=parse_routes(transfer.routes_json),
        default_route=Route(folder_root=normalize_folder(transfer.folder_root, "folderRoot")),
    )


class Relay:
    def __init__(
        self,
        ports: Ports,
        jobs: JobStore,
        options: TransferOptions,
        default_mode: ModeName,
        once: Once | None,
    ) -> None:
        self.ports, self.jobs, self.options = ports, jobs, options
        self.default_mode, self.once = default_mode, once

    def run_item(self, item: WorkItem, *, last_attempt: bool) -> Result | None:
        """Relay one work item; raises when it should be redelivered."""
        if isinstance(item, Ignored):
            logger.info("event ignored", extra={"reason": item.reason})
            return None
        try:
            if isinstance(item, ObjectCreated):
                ref = item.ref
                logger.thread_safe_append_keys(s3_bucket=ref.bucket, s3_key=ref.key)
                return self._once(ref.identity(), lambda: self._relay_object(ref, last_attempt))
            assert isinstance(item, ImportRequested)
            job_id = item.job_id
            logger.thread_safe_append_keys(job_id=job_id)
            return self._once({"jobId": job_id}, lambda: self._relay_import(job_id, last_attempt))
        finally:
            logger.thread_safe_clear_keys()

    def _once(self, identity: dict[str, str], work: Callable[[], Result]) -> Result:
        if self.once is None:
            return work()
        try:
            result = self.once.run_once(identity, work)
        except InProgress as exc:
            logger.info("the same object is being relayed right now; will retry later")
            raise DuplicateInProgress(str(exc)) from None
        if result.get("duplicate"):
            logger.info("duplicate delivery skipped", extra={"job_id": result.get("jobId")})
            emit("DuplicateEventSkipped")
        return result

    def _relay_object(self, ref: ObjectRef, last_attempt: bool) -> Result:
        # Nobody queued an S3-event job: it is stored already running (one DynamoDB write less
        # per object). A job that exists from an earlier delivery starts a new attempt instead.
        job, created = self.jobs.create(Job.for_s3_object(ref, self.default_mode).start())
        return self._run(job, last_attempt, started=created)

    def _relay_import(self, job_id: str, last_attempt: bool) -> Result:
        job = self.jobs.get(job_id)
        if job is None:
            logger.error("import job not found; message dropped")
            return {"jobId": job_id, "status": "missing"}
        logger.thread_safe_append_keys(s3_bucket=job.source.bucket, s3_key=job.source.key)
        return self._run(job, last_attempt)

    def _run(self, job: Job, last_attempt: bool, *, started: bool = False) -> Result:
        logger.thread_safe_append_keys(job_id=job.id)
        try:
            outcome = run_job(
                job, self.ports, self.options, last_attempt=last_attempt, started=started
            )
        except RetryLater as retry:
            logger.warning(
                "relay failed; will be retried" if not last_attempt else "relay failed for good",
                extra={"reason": retry.error.code, "detail": retry.error.message},
            )
            emit("RelayFailed", reason=retry.error.code)
            raise
        record(outcome)
        return {"jobId": outcome.job.id, "status": outcome.job.status}


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
        if outcome.ready_problem:
            extra["ready_problem"] = outcome.ready_problem
        logger.info("object relayed", extra=extra)
        emit("ObjectRelayed")
        emit("BytesRelayed", outcome.bytes, MetricUnit.Bytes)
