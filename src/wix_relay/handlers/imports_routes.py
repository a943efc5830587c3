"""Partner imports: POST /v1/imports (relay one S3 object into Wix) and GET /v1/imports/{id}.

The caller is in `router.context["caller"]`, the per-container services in
`router.context["runtime"]` (both put there by handlers/api.py). POST: validate the body
(field-named 400s) → the caller's policy (import source, folder, type, privacy, size from a HEAD
of the real object) → the job, recorded → `{"jobId"}` on the worker's queue → 202 + `Location`. An
`Idempotency-Key` header makes a retried POST return the first job (per caller: the job id is
derived from caller + key and written with a conditional put). The worker does the transfer.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from wix_relay.domain.destinations import checked_destination
from wix_relay.domain.errors import FieldProblem, InvalidInput, NotFound, RelayError
from wix_relay.domain.jobs import Destination, Job, JobError, ModeName, ObjectRef, import_job_id
from wix_relay.domain.transfer import detect_mime
from wix_relay.domain.upload_requests import (
    Field,
    RequestModel,
    parse_json_object,
    validate_object,
)
from wix_relay.observability import MetricUnit, logger, metrics

if TYPE_CHECKING:
    from wix_relay.domain.callers import Caller
    from wix_relay.integrations.job_store import JobStore
    from wix_relay.integrations.queue import JobQueue
    from wix_relay.integrations.s3_source import S3Source
    from wix_relay.runtime import Runtime

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

IMPORTS_PATH = "/v1/imports"
IMPORT_PATH = "/v1/imports/<job_id>"
IDEMPOTENCY_KEY_MAX = 200
ENQUEUE_FAILED = "ENQUEUE_FAILED"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MIME_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")

IMPORT_REQUEST = RequestModel(
    "ImportRequest",
    (
        Field("bucket", "string", "S3 bucket of the object.", required=True, max_length=63,
              pattern=_BUCKET, pattern_hint="an S3 bucket name", example="wix-relay-inbox"),
        Field("key", "string", "S3 key of the object (as stored, not URL-encoded).",
              required=True, max_length=1024, example="imports/summer 2024/beach day.jpg"),
        Field("versionId", "string", "S3 version of the object (default: the current one).",
              max_length=1024),
        Field("fileName", "string", "File name in the Media Manager (default: the key's name).",
              max_length=200),
        Field("mimeType", "string", "MIME type (default: the object's Content-Type, else the "
              "extension).", max_length=100, pattern=_MIME_TYPE, pattern_hint="type/subtype"),
        Field("filePath", "string", "Destination folder (default: your policy's default "
              "folder); must be inside your policy's folders.", max_length=100,
              control_chars_checked=False, example="/partners/acme/2024"),
        Field("parentFolderId", "string", "Wix folder id (only if your policy allows it).",
              max_length=100),
        Field("labels", "string_list", "Labels for the file.", max_items=50, max_length=200),
        Field("private", "boolean", "Private file (only if your policy allows it)."),
        Field("mode", "string", "How the bytes move: auto (default), upload, resumable, import.",
              enum=("auto", "upload", "resumable", "import")),
    ),
    "Relay one S3 object into Wix; poll the job at the returned Location.",
)  # fmt: skip


def _services(runtime: Runtime) -> tuple[S3Source, JobStore, JobQueue]:
    """S3, the jobs table and the queue: created on the first import request (boto3 is lazy)."""
    if not runtime.settings.aws.jobs_table or not runtime.settings.aws.queue_url:
        logger.error("imports need RELAY_JOBS_TABLE and RELAY_QUEUE_URL")
        raise RelayError("the import service is not configured", code="CONFIGURATION_ERROR")
    return runtime.source, runtime.jobs, runtime.queue


def _context() -> tuple[Caller, Runtime]:
    return router.context["caller"], router.context["runtime"]


def _idempotency_key() -> str | None:
    headers = {k.lower(): v for k, v in (router.current_event.headers or {}).items()}
    key = headers.get("idempotency-key")
    if key is None:
        return None
    if not key.strip() or len(key) > IDEMPOTENCY_KEY_MAX or _has_control(key):
        problem = f"must be 1-{IDEMPOTENCY_KEY_MAX} printable characters"
        raise InvalidInput(
            f"Idempotency-Key {problem}", [FieldProblem("Idempotency-Key", problem, "FORMAT")]
        )
    return key


def _accepted(job: Job, status: int = 202) -> Response[Any]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=job.to_public(),
        headers={"Location": f"{IMPORTS_PATH}/{job.id}"},
    )


def _enqueue(job: Job, store: JobStore, queue: JobQueue) -> Job:
    """Put the job on the worker's queue; if SQS fails, the job says so (a retried POST with the
    same Idempotency-Key enqueues it again)."""
    try:
        queue.send_job(job.id)
    except Exception:
        logger.exception("could not enqueue the import job")
        store.save(job.failed(JobError(ENQUEUE_FAILED, "the job could not be queued", True)))
        raise RelayError(
            "the import could not be queued; retry later",
            status=503,
            code="SERVICE_UNAVAILABLE",
            retryable=True,
        ) from None
    return job


@router.post(IMPORTS_PATH)
def create_import() -> Response[Any]:
    caller, runtime = _context()
    document = parse_json_object(router.current_event.decoded_body)
    problems = validate_object(IMPORT_REQUEST.fields, document, "")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InvalidInput(f"{problems[0].field} {problems[0].message}{more}", problems)
    bucket, key = str(document["bucket"]), str(document["key"])
    caller.policy.check_import_source(bucket, key)
    idempotency_key = _idempotency_key()
    source, store, queue = _services(runtime)
    if idempotency_key is not None:
        existing = store.get(import_job_id(caller.id, idempotency_key))
        if existing is not None and existing.caller_id == caller.id:
            if existing.error is not None and existing.error.code == ENQUEUE_FAILED:
                existing = existing.retry_later(existing.error)
                store.save(existing)
                _enqueue(existing, store, queue)
            logger.info("idempotent replay of an import", extra={"job_id": existing.id})
            return _accepted(existing)

    info = source.head(ObjectRef(bucket, key, version_id=document.get("versionId")))
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
    mode: ModeName = document.get("mode") or runtime.settings.transfer.default_mode
    job, created = store.create(
        Job.for_import(
            caller_id=caller.id,
            source=info.ref,
            destination=destination,
            mode=mode,
            idempotency_key=idempotency_key,
        )
    )
    if created:
        _enqueue(job, store, queue)
        metrics.add_metric(name="ImportQueued", unit=MetricUnit.Count, value=1)
        logger.info("import queued", extra={"job_id": job.id, "s3_key": key, "mode": mode})
    return _accepted(job)


@router.get(IMPORT_PATH)
def get_import(job_id: str) -> dict[str, Any]:
    caller, runtime = _context()
    _, store, _ = _services(runtime)
    job = store.get(job_id) if len(job_id) <= 100 else None
    if job is None or job.caller_id != caller.id:  # another caller's job does not exist for you
        raise NotFound(f"no import {job_id[:100]!r}")
    return job.to_public()


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in text)


_JOB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "source", "createdAt", "updatedAt"],
    "properties": {
        "id": {"type": "string"},
        "status": {"type": "string", "enum": ["queued", "running", "uploaded", "ready", "failed"]},
        "source": {
            "type": "object",
            "properties": {
                "bucket": {"type": "string"},
                "key": {"type": "string"},
                "versionId": {"type": "string"},
                "size": {"type": "integer"},
            },
        },
        "file": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "url": {"type": "string"},
                "operationStatus": {"type": "string"},
            },
        },
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        },
        "createdAt": {"type": "string", "format": "date-time"},
        "updatedAt": {"type": "string", "format": "date-time"},
    },
}

OPENAPI_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", IMPORTS_PATH): {
        "summary": "Relay an S3 object into Wix (asynchronous; Idempotency-Key supported)",
        "operationId": "createImport",
        "requestModel": IMPORT_REQUEST,
        "responses": {"202": _JOB_SCHEMA},
    },
    ("get", IMPORT_PATH): {
        "summary": "The state of an import you created",
        "operationId": "getImport",
        "responses": {"200": _JOB_SCHEMA},
    },
}
