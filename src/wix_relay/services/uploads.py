"""Upload URLs for browsers and partners: validate the body against Wix's limits → the caller's
policy (the relay decides the folder) → one Wix call; a Wix error becomes the relay's error
(the statuses in docs/api.md). Metrics: `UploadUrlIssued`, `UploadUrlRefused{reason}`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wix_relay.domain.errors import (
    FieldProblem,
    InvalidInput,
    NotFound,
    RelayError,
    Throttled,
    UpstreamFailed,
    UpstreamTimeout,
)
from wix_relay.domain.readiness import UploadKind, UploadRecord, external_info
from wix_relay.domain.upload_requests import RESUMABLE_UPLOAD_URL, UPLOAD_URL, RequestModel
from wix_relay.observability import emit, logger

RETRY_AFTER_S = 2
"""`Retry-After` on a retryable Wix failure when Wix did not send one."""

if TYPE_CHECKING:
    from wix_relay.domain.callers import Caller
    from wix_relay.integrations.upload_store import UploadStore
    from wix_relay.integrations.wix import ResumableTarget, WixError, WixMediaClient


@dataclass(frozen=True)
class IssuedUpload:
    """An upload URL (or resumable target) and, when readiness is configured, its record."""

    url: str
    record: UploadRecord | None = None
    target: ResumableTarget | None = None

    def answer(self) -> dict[str, Any]:
        """`uploadId` and `statusUrl` next to what the route answers (when there is a record)."""
        if self.record is None:
            return {}
        return {"uploadId": self.record.id, "statusUrl": f"/v1/uploads/{self.record.id}"}


class Uploads:
    def __init__(
        self,
        wix: Callable[[], WixMediaClient],
        records: Callable[[], UploadStore | None] = lambda: None,
    ) -> None:
        self._wix = wix  # built on the first valid request
        self._records = records

    def upload_url(self, caller: Caller, body: Mapping[str, Any]) -> IssuedUpload:
        fields = _wix_fields(UPLOAD_URL, caller, body)
        record, store = self._record(caller, "upload", fields)
        if record is not None:  # Wix echoes it in File Ready / File Failed [doc]
            given = fields.get("externalInfo") or {}
            fields["externalInfo"] = external_info(record.id, tuple(given.get("externalIds") or ()))
        with _saving(store, record), wix_errors_as_relay_errors():
            url = self._wix().generate_upload_url(fields)
        _issued("upload-url", fields)
        return IssuedUpload(url, record)

    def resumable_upload_url(self, caller: Caller, body: Mapping[str, Any]) -> IssuedUpload:
        fields = _wix_fields(RESUMABLE_UPLOAD_URL, caller, body)
        record, store = self._record(caller, "resumable", fields)  # no externalInfo here [doc]
        with _saving(store, record), wix_errors_as_relay_errors():
            target = self._wix().generate_resumable_upload_url(fields)
        _issued("resumable-upload-url", fields)
        return IssuedUpload(target.upload_url, record, target)

    def _record(
        self, caller: Caller, kind: UploadKind, fields: Mapping[str, Any]
    ) -> tuple[UploadRecord | None, UploadStore | None]:
        store = self._records()
        if store is None:
            return None, None
        request = {k: fields[k] for k in RECORDED_FIELDS if fields.get(k) is not None}
        record = UploadRecord.issued(
            caller_id=caller.id, kind=kind, request=request, callback_ref=caller.callback_ref
        )
        return record, store


@contextmanager
def _saving(store: UploadStore | None, record: UploadRecord | None) -> Iterator[None]:
    """Write the upload record in a thread while the block makes the Wix call: the answer waits
    for the slower of the two, not for both (the record is needed only after the caller has the
    URL: by its status reads and by Wix's events). If the Wix call fails, the record of a URL
    nobody received stays until its TTL. A failed write is a 503 (retryable): the caller never
    gets a URL whose status the relay could not keep."""
    if store is None or record is None:
        yield
        return
    failure: list[BaseException] = []

    def save() -> None:
        try:
            store.create(record)
        except Exception as exc:
            failure.append(exc)

    writer = threading.Thread(target=save, name="upload-record", daemon=True)
    writer.start()
    try:
        yield
    finally:
        writer.join()
    if failure:
        logger.error("could not record the upload", exc_info=failure[0])
        raise RelayError(
            "the upload could not be recorded; retry later",
            status=503,
            code="SERVICE_UNAVAILABLE",
            retryable=True,
        ) from None


RECORDED_FIELDS = ("mimeType", "fileName", "sizeInBytes", "filePath", "parentFolderId", "private")


def _wix_fields(model: RequestModel, caller: Caller, body: Mapping[str, Any]) -> dict[str, Any]:
    """Parse, validate and authorize the request; return the Wix fields to send."""
    request = model.parse(body)
    file_path = caller.policy.authorize_destination(
        file_path=request.file_path,
        mime_type=request.mime_type,
        size_bytes=request.size_bytes,
        private=request.private,
        parent_folder_id=request.parent_folder_id,
    )
    if file_path is not None and len(file_path) > 100:  # [doc] Wix: filePath ≤ 100
        raise InvalidInput(
            "filePath must be at most 100 characters",
            [FieldProblem("filePath", "must be at most 100 characters", "MAX_LENGTH")],
        )
    return request.wix_fields(file_path)


def _issued(operation: str, fields: dict[str, Any]) -> None:
    emit("UploadUrlIssued")
    logger.info(
        "upload URL issued",
        extra={
            "operation": operation,
            "mime_type": fields["mimeType"],
            "size_bytes": fields.get("sizeInBytes"),
            "file_path": fields.get("filePath"),
            "private": fields.get("private", False),
        },
    )


def record_refused(reason: str) -> None:
    emit("UploadUrlRefused", reason=reason)


@contextmanager
def wix_errors_as_relay_errors() -> Iterator[None]:
    """Turn a `WixError` into the RelayError the caller sees (the statuses in docs/api.md)."""
    try:
        yield
    except Exception as exc:
        from wix_relay.integrations.wix import WixError

        if isinstance(exc, WixError):
            raise relay_error_from_wix(exc) from None
        raise


def relay_error_from_wix(exc: WixError) -> RelayError:
    from wix_relay.integrations.wix import (
        UploadHostNotAllowed,
        WixAuthError,
        WixRateLimited,
        WixTimeout,
        WixValidationError,
    )

    logger.warning(
        "wix call failed",
        extra={
            "wix_operation": exc.operation,
            "wix_status": exc.status,
            "wix_error": exc.code,
            "wix_rules": list(exc.rule_names),
            "wix_request_id": exc.request_id,
        },
    )
    if isinstance(exc, WixValidationError):
        rules = [rule for rule in exc.rule_names if rule]
        details = [
            FieldProblem(v.field, v.description or "refused by Wix", v.rule_name or v.violated_rule)
            for v in exc.field_violations
        ]
        code = rules[0] if rules else (exc.code if exc.code.isupper() else "WIX_VALIDATION_ERROR")
        return InvalidInput(f"Wix refused the request ({code})", details, code=code)
    # The retry budget is spent (WIX_API_RETRY_BUDGET_SECONDS): tell the caller when to try again.
    retry_after = RETRY_AFTER_S if exc.retry_after_s is None else math.ceil(exc.retry_after_s)
    if isinstance(exc, WixRateLimited):
        return Throttled("Wix is throttling uploads; retry later", retry_after_s=retry_after)
    if isinstance(exc, WixTimeout):
        return UpstreamTimeout("Wix did not answer in time", retry_after_s=retry_after)
    if isinstance(exc, UploadHostNotAllowed):
        logger.error(
            "Wix answered an upload URL outside WIX_UPLOAD_HOSTS", extra={"reason": str(exc)}
        )
        return UpstreamFailed(
            "the upload service answered an upload URL this relay does not hand out",
            code="UPLOAD_URL_REFUSED",
            retryable=False,
        )
    if exc.status == 404:  # what the request names does not exist (e.g. FOLDER_NOT_FOUND)
        code = exc.code if exc.code.isupper() else "NOT_FOUND"
        return NotFound(f"Wix has no such resource ({code})", code=code)
    if isinstance(exc, WixAuthError):
        logger.error("Wix refused the relay's credential", extra={"wix_status": exc.status})
        return UpstreamFailed("the upload service is unavailable")
    return UpstreamFailed("Wix failed to answer; retry later", retry_after_s=retry_after)
