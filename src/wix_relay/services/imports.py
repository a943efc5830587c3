"""Partner imports: relay one S3 object into Wix, asynchronously.

submit: validate the body (field-named 400s) → the caller's policy (import source, folder, type,
privacy, size from a HEAD of the real object) → the job, recorded → `{"jobId"}` on the worker's
queue. An `Idempotency-Key` makes a retried submit return the first job (per caller: the job id is
derived from caller + key and written with a conditional put). The worker does the transfer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from wix_relay.domain.destinations import checked_destination
from wix_relay.domain.errors import FieldProblem, InvalidInput, NotFound, RelayError
from wix_relay.domain.import_requests import IMPORT_REQUEST
from wix_relay.domain.jobs import Destination, Job, JobError, ModeName, ObjectRef, import_job_id
from wix_relay.domain.media import detect_mime
from wix_relay.observability import emit, logger

if TYPE_CHECKING:
    from wix_relay.domain.callers import Caller
    from wix_relay.integrations.job_store import JobStore
    from wix_relay.integrations.queue import JobQueue
    from wix_relay.integrations.s3_source import S3Source

IDEMPOTENCY_KEY_MAX = 200
ENQUEUE_FAILED = "ENQUEUE_FAILED"


@dataclass(frozen=True)
class ImportPorts:
    source: S3Source
    jobs: JobStore
    queue: JobQueue


class Imports:
    def __init__(self, ports: Callable[[], ImportPorts], default_mode: ModeName) -> None:
        self._ports = ports  # built on the first valid request (boto3 is lazy)
        self.default_mode = default_mode

    def submit(self, caller: Caller, body: Mapping[str, Any], idempotency_key: str | None) -> Job:
        """The job for this request: a new one (queued), or the first one for a retried key."""
        document = IMPORT_REQUEST.validate(body)
        bucket, key = str(document["bucket"]), str(document["key"])
        caller.policy.check_import_source(bucket, key)
        callback = _callback_of(caller, document.get("callbackUrl"))
        idempotency_key = _checked_idempotency_key(idempotency_key)
        ports = self._ports()
        if idempotency_key is not None:
            existing = ports.jobs.get(import_job_id(caller.id, idempotency_key))
            if existing is not None and existing.caller_id == caller.id:
                if existing.error is not None and existing.error.code == ENQUEUE_FAILED:
                    existing = existing.retry_later(existing.error)
                    ports.jobs.save(existing)
                    _enqueue(existing, ports)
                logger.info("idempotent replay of an import", extra={"job_id": existing.id})
                return existing

        info = ports.source.head(ObjectRef(bucket, key, version_id=document.get("versionId")))
        file_name = document.get("fileName") or key.rsplit("/", 1)[-1]
        mime_type = document.get("mimeType") or detect_mime(info.content_type, file_name)
        file_path = caller.policy.authorize_destination(
            file_path=document.get("filePath"),
            mime_type=mime_type,
            size_bytes=info.size,
            private=document.get("private"),
            parent_folder_id=document.get("parentFolderId"),
        )
        destination = checked_destination(
            Destination(
                file_name=file_name,
                file_path=file_path,
                mime_type=mime_type,
                labels=tuple(document.get("labels") or ()),
                private=bool(document.get("private", False)),
                parent_folder_id=document.get("parentFolderId"),
            )
        )
        mode: ModeName = document.get("mode") or self.default_mode
        job = Job.for_import(
            caller_id=caller.id,
            source=info.ref,
            destination=destination,
            mode=mode,
            idempotency_key=idempotency_key,
        )
        job, created = ports.jobs.create(replace(job, extra=callback) if callback else job)
        if created:
            _enqueue(job, ports)
            emit("ImportQueued")
            logger.info("import queued", extra={"job_id": job.id, "s3_key": key, "mode": mode})
        return job

    def get(self, caller: Caller, job_id: str) -> Job:
        """The caller's job; another caller's job does not exist for them."""
        jobs = self._ports().jobs
        job = jobs.get(job_id) if len(job_id) <= 100 else None
        if job is None or job.caller_id != caller.id:
            raise NotFound(f"no import {job_id[:100]!r}")
        return job


def _callback_of(caller: Caller, callback_url: object) -> dict[str, str]:
    """What the job keeps for its callback (services/readiness.py sends it when the job ends):
    the caller's `callbackRef` (the secret is looked up by it) and the import's `callbackUrl`,
    checked against the policy's `callbackUrls`. Without a callback secret there is none."""
    if callback_url is None:
        return {"callbackRef": caller.callback_ref} if caller.callback_ref else {}
    url = caller.policy.check_callback_url(callback_url)
    if caller.callback_ref is None:
        raise InvalidInput(
            "callbackUrl needs a callback secret for you in the caller registry",
            [FieldProblem("callbackUrl", "no callback secret is configured", "NO_CALLBACK")],
            code="CALLBACK_NOT_CONFIGURED",
        )
    return {"callbackRef": caller.callback_ref, "callbackUrl": url}


def _checked_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key.strip() or len(key) > IDEMPOTENCY_KEY_MAX or _has_control(key):
        problem = f"must be 1-{IDEMPOTENCY_KEY_MAX} printable characters"
        raise InvalidInput(
            f"Idempotency-Key {problem}", [FieldProblem("Idempotency-Key", problem, "FORMAT")]
        )
    return key


def _enqueue(job: Job, ports: ImportPorts) -> Job:
    """Put the job on the worker's queue; if SQS fails, the job says so (a retried POST with the
    same Idempotency-Key enqueues it again)."""
    try:
        ports.queue.send_job(job.id)
    except Exception:
        logger.exception("could not enqueue the import job")
        ports.jobs.save(job.failed(JobError(ENQUEUE_FAILED, "the job could not be queued", True)))
        raise RelayError(
            "the import could not be queued; retry later",
            status=503,
            code="SERVICE_UNAVAILABLE",
            retryable=True,
        ) from None
    return job


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in text)
