"""Relaying the worker's events (SQS batches, direct S3 / EventBridge events) into Wix, exactly
once: each work item (an S3 object or a partner import job) → its job → `run_job`.

Around `services.transfer.run_job`: the job (created for an S3 object, loaded for an import), the
exactly-once guard, SQS partial-batch answers, and every outcome recorded as a log line and a
metric (`ObjectRelayed`, `BytesRelayed`, `RelayFailed{reason}`, `DuplicateEventSkipped`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from wix_relay.config import Settings, TransferSettings
from wix_relay.domain.callers import normalize_folder
from wix_relay.domain.destinations import Route, parse_routes
from wix_relay.domain.jobs import Job, ObjectRef
from wix_relay.domain.triggers import (
    Ignored,
    ImportRequested,
    ObjectCreated,
    WorkItem,
    parse_message,
)
from wix_relay.integrations.idempotency import InProgress
from wix_relay.observability import MetricUnit, logger, metrics
from wix_relay.services.transfer import (
    Outcome,
    Ports,
    RetryLater,
    TransferOptions,
    run_job,
)

Result = dict[str, Any]
_metrics_lock = threading.Lock()


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
        options: TransferOptions,
        settings: TransferSettings,
        *,
        once: Once | None,
        pool: ThreadPoolExecutor,
    ) -> None:
        self.ports, self.options = ports, options
        self.default_mode = settings.default_mode
        self.max_receive_count = settings.max_receive_count
        self.once, self.pool = once, pool

    # --- events -------------------------------------------------------------------------------
    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """An SQS batch → `{"batchItemFailures"}`; a direct S3 / EventBridge event → processed,
        or raises for Lambda's asynchronous retries."""
        if self.once is not None and context is not None:
            self.once.register(context)
        records = event.get("Records")
        if isinstance(records, list) and records and records[0].get("eventSource") == "aws:sqs":
            from wix_relay.integrations.batch import process_sqs_batch

            return process_sqs_batch(event, self._sqs_record, self.pool, context)
        items = parse_message(event)
        failures = [
            str(exc)
            for exc in self.pool.map(lambda i: self._safely(i, last_attempt=False), items)
            if exc is not None
        ]
        if failures:  # asynchronous invocation: Lambda retries, then its on-failure destination
            raise RuntimeError(f"{len(failures)} of {len(items)} objects will be retried")
        return {"processed": len(items)}

    def _sqs_record(self, record: Any) -> None:
        receive_count = int(record.attributes.approximate_receive_count or 1)
        last_attempt = receive_count >= self.max_receive_count
        try:
            items = parse_message(record.body)
        except ValueError as exc:
            logger.error("malformed message", extra={"message_id": record.message_id})
            raise ValueError(f"message {record.message_id}: {exc}") from exc
        for item in items:
            self.run_item(item, last_attempt=last_attempt)

    def _safely(self, item: WorkItem, *, last_attempt: bool) -> BaseException | None:
        try:
            self.run_item(item, last_attempt=last_attempt)
        except Exception as exc:
            return exc
        return None

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
            count("DuplicateEventSkipped")
        return result

    def _relay_object(self, ref: ObjectRef, last_attempt: bool) -> Result:
        # Nobody queued an S3-event job: it is stored already running (one DynamoDB write less
        # per object). A job that exists from an earlier delivery starts a new attempt instead.
        job, created = self.ports.jobs.create(Job.for_s3_object(ref, self.default_mode).start())
        return self._run(job, last_attempt, started=created)

    def _relay_import(self, job_id: str, last_attempt: bool) -> Result:
        job = self.ports.jobs.get(job_id)
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
            count("RelayFailed", reason=retry.error.code)
            raise
        record(outcome)
        return {"jobId": outcome.job.id, "status": outcome.job.status}


def record(outcome: Outcome) -> None:
    """The outcome as one log line and its metrics."""
    job = outcome.job
    if outcome.skipped:
        logger.info("job already finished; nothing sent", extra={"status": job.status})
        count("DuplicateEventSkipped")
    elif job.status == "failed" and job.error is not None:
        logger.warning(
            "relay failed permanently",
            extra={"reason": job.error.code, "detail": job.error.message},
        )
        count("RelayFailed", reason=job.error.code)
    else:
        extra: dict[str, Any] = {"status": job.status, "mode": job.mode, "bytes": outcome.bytes}
        if job.file is not None:
            extra["wix_file_id"] = job.file.id
        if outcome.ready_problem:
            extra["ready_problem"] = outcome.ready_problem
        logger.info("object relayed", extra=extra)
        count("ObjectRelayed")
        count("BytesRelayed", outcome.bytes, MetricUnit.Bytes)


def count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dims: str) -> None:
    """Thread-safe metrics; a dimensioned metric is its own EMF blob (dims stay per metric)."""
    with _metrics_lock:
        if not dims:
            metrics.add_metric(name=name, unit=unit, value=value)
            return
        from aws_lambda_powertools.metrics import single_metric

        with single_metric(
            name=name, unit=unit, value=value, namespace=metrics.namespace
        ) as metric:
            for key, dim in dims.items():
                metric.add_dimension(name=key, value=dim)
