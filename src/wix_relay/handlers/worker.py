"""The worker Lambda: S3 objects and partner import jobs → Wix, exactly once.

Triggers (all end in `wix_relay.domain.transfer.run_job`):
- SQS batches (the default wiring): S3 notifications, EventBridge events or `{"jobId"}` partner
  imports as message bodies. Records run concurrently on a bounded thread pool; the answer is
  `{"batchItemFailures": [...]}` naming only messages worth redelivering (retryable failures,
  malformed bodies, a duplicate still in progress). Permanent failures are recorded on the job
  and acknowledged.
- Direct S3 notifications and EventBridge "Object Created" events: a retryable failure raises, so
  Lambda's asynchronous retries apply.
- `s3:TestEvent` and non-creation events are logged and acknowledged.

Exactly once: Powertools idempotency on DynamoDB keyed by the object version (bucket, key,
versionId — or ETag + sequencer when unversioned), in-progress expiry tied to the Lambda's
remaining time; and the job (deterministic id per object version) refuses to upload twice.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from wix_relay.config import Settings
from wix_relay.domain.callers import normalize_folder
from wix_relay.domain.destinations import Route, parse_routes
from wix_relay.domain.jobs import Job, ObjectRef
from wix_relay.domain.transfer import (
    Ignored,
    ImportRequested,
    ObjectCreated,
    Outcome,
    Ports,
    RetryLater,
    TransferOptions,
    WorkItem,
    parse_message,
    run_job,
)
from wix_relay.observability import MetricUnit, instrumented, logger, metrics
from wix_relay.runtime import Runtime

if TYPE_CHECKING:
    from wix_relay.integrations.job_store import JobStore

SETTINGS = Settings.from_env()
_metrics_lock = threading.Lock()


class DuplicateInProgress(Exception):
    """The same object version is being relayed right now by another invocation."""


class Worker:
    """Everything the worker needs, built once per container (lazily, thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime = Runtime.for_worker(settings)
        transfer = settings.transfer
        self.options = TransferOptions(
            upload_threshold_bytes=transfer.upload_threshold_bytes,
            chunk_bytes=transfer.tus_chunk_bytes,
            presign_expiry_s=transfer.presign_expiry_s,
            ready_wait_s=transfer.ready_wait_s,
            routes=parse_routes(transfer.routes_json),
            default_route=Route(folder_root=normalize_folder(transfer.folder_root, "folderRoot")),
        )
        self.pool = ThreadPoolExecutor(
            max_workers=transfer.worker_concurrency, thread_name_prefix="relay"
        )
        self._ports: Ports | None = None

    # --- resources --------------------------------------------------------------------------
    def ports(self) -> Ports:
        with self.runtime.lock:
            if self._ports is None:
                runtime = self.runtime
                self._ports = Ports(source=runtime.source, media=runtime.wix, jobs=runtime.jobs)
            return self._ports

    @property
    def store(self) -> JobStore:
        return self.runtime.jobs

    # --- entry ------------------------------------------------------------------------------
    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        self.ports()
        once = _idempotency(self.settings)
        if once is not None and context is not None:
            once.config.register_lambda_context(context)
        records = event.get("Records")
        if isinstance(records, list) and records and records[0].get("eventSource") == "aws:sqs":
            return self._handle_sqs(event, context)
        items = parse_message(event)
        failures = [
            str(exc)
            for exc in self.pool.map(lambda i: self._safely(i, last_attempt=False), items)
            if exc is not None
        ]
        if failures:  # asynchronous invocation: Lambda retries, then its on-failure destination
            raise RuntimeError(f"{len(failures)} of {len(items)} objects will be retried")
        return {"processed": len(items)}

    def _handle_sqs(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.batch import process_partial_response

        processor = _threaded_processor(self.pool)
        response = process_partial_response(
            event=dict(event), record_handler=self._sqs_record, processor=processor, context=context
        )
        return dict(response)

    def _sqs_record(self, record: Any) -> None:
        receive_count = int(record.attributes.approximate_receive_count or 1)
        last_attempt = receive_count >= self.settings.transfer.max_receive_count
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

    # --- one object -------------------------------------------------------------------------
    def run_item(self, item: WorkItem, *, last_attempt: bool) -> dict[str, Any] | None:
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

    def _once(self, identity: dict[str, str], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        once = _idempotency(self.settings)
        if once is None:
            return work()
        try:
            result: dict[str, Any] = once.function(identity=identity, work=work)
        except once.in_progress_error as exc:
            logger.info("the same object is being relayed right now; will retry later")
            raise DuplicateInProgress(str(exc)) from None
        if result.get("duplicate"):
            logger.info("duplicate delivery skipped", extra={"job_id": result.get("jobId")})
            _count("DuplicateEventSkipped")
        return result

    def _relay_object(self, ref: ObjectRef, last_attempt: bool) -> dict[str, Any]:
        job, _ = self.store.create(Job.for_s3_object(ref, self.settings.transfer.default_mode))
        return self._run(job, last_attempt)

    def _relay_import(self, job_id: str, last_attempt: bool) -> dict[str, Any]:
        job = self.store.get(job_id)
        if job is None:
            logger.error("import job not found; message dropped")
            return {"jobId": job_id, "status": "missing"}
        logger.thread_safe_append_keys(s3_bucket=job.source.bucket, s3_key=job.source.key)
        return self._run(job, last_attempt)

    def _run(self, job: Job, last_attempt: bool) -> dict[str, Any]:
        logger.thread_safe_append_keys(job_id=job.id)
        try:
            outcome = run_job(job, self.ports(), self.options, last_attempt=last_attempt)
        except RetryLater as retry:
            logger.warning(
                "relay failed; will be retried" if not last_attempt else "relay failed for good",
                extra={"reason": retry.error.code, "detail": retry.error.message},
            )
            _count("RelayFailed", reason=retry.error.code)
            raise
        _record(outcome)
        return {"jobId": outcome.job.id, "status": outcome.job.status}


def _record(outcome: Outcome) -> None:
    job = outcome.job
    if outcome.skipped:
        logger.info("job already finished; nothing sent", extra={"status": job.status})
        _count("DuplicateEventSkipped")
    elif job.status == "failed" and job.error is not None:
        logger.warning(
            "relay failed permanently",
            extra={"reason": job.error.code, "detail": job.error.message},
        )
        _count("RelayFailed", reason=job.error.code)
    else:
        extra: dict[str, Any] = {"status": job.status, "mode": job.mode, "bytes": outcome.bytes}
        if job.file is not None:
            extra["wix_file_id"] = job.file.id
        if outcome.ready_problem:
            extra["ready_problem"] = outcome.ready_problem
        logger.info("object relayed", extra=extra)
        _count("ObjectRelayed")
        _count("BytesRelayed", outcome.bytes, MetricUnit.Bytes)


def _count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dims: str) -> None:
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


# --- Powertools pieces, imported lazily (idempotency alone imports boto3: ~280 ms) -----------
class _Idempotency:
    def __init__(self, settings: Settings) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
        )
        from botocore.config import Config

        assert settings.aws.idempotency_table is not None
        self.in_progress_error = IdempotencyAlreadyInProgressError
        self.config = IdempotencyConfig(
            expires_after_seconds=settings.transfer.idempotency_expiry_s,
            response_hook=_mark_duplicate,
        )
        store = DynamoDBPersistenceLayer(
            table_name=settings.aws.idempotency_table,
            key_attr="id",
            boto_config=Config(max_pool_connections=settings.transfer.worker_concurrency + 2),
        )
        # Configure once, up front: Powertools configures lazily on first use, which threads
        # starting together could observe half-done.
        store.configure(self.config, f"{_relay_once.__module__}.{_relay_once.__qualname__}")
        self.function: Callable[..., Any] = idempotent_function(
            _relay_once,
            data_keyword_argument="identity",
            persistence_store=store,
            config=self.config,
        )


def _relay_once(*, identity: dict[str, str], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The unit of exactly-once: one object version (or one import job)."""
    del identity  # hashed by Powertools into the idempotency key
    return work()


def _mark_duplicate(response: Any, idempotent_data: Any) -> Any:
    del idempotent_data
    return {**(response or {}), "duplicate": True}


_idempotency_lock = threading.Lock()


@functools.cache
def _idempotency_for(settings: Settings) -> _Idempotency:
    return _Idempotency(settings)


def _idempotency(settings: Settings) -> _Idempotency | None:
    if not settings.aws.idempotency_table:
        return None
    with _idempotency_lock:
        return _idempotency_for(settings)


@functools.cache
def _threaded_processor_class() -> type:
    from aws_lambda_powertools.utilities.batch import BatchProcessor

    class ThreadedBatchProcessor(BatchProcessor):
        """Powertools' SQS partial-batch processor, records run on a bounded thread pool."""

        pool: ThreadPoolExecutor

        def process(self) -> list[tuple[Any, ...]]:
            return list(self.pool.map(self._process_record, self.records))

    return ThreadedBatchProcessor


def _threaded_processor(pool: ThreadPoolExecutor) -> Any:
    from aws_lambda_powertools.utilities.batch import EventType

    processor = _threaded_processor_class()(
        event_type=EventType.SQS, raise_on_entire_batch_failure=False
    )
    processor.pool = pool
    return processor


_worker: Worker | None = None


def default_worker() -> Worker:
    global _worker  # noqa: PLW0603 - one per container
    if _worker is None:
        _worker = Worker(SETTINGS)
    return _worker


@instrumented()
def handler(event: dict[str, Any], context: Any) -> Any:
    return default_worker().handle(event, context)
