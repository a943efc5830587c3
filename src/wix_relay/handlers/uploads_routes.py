"""Browsers and partners: POST /v1/upload-url and POST /v1/resumable-upload-url.

The authenticated caller is in `router.context["caller"]` and the per-container services in
`router.context["runtime"]` (both put there by handlers/api.py). Flow: validate the body against
Wix's limits → apply the caller's policy (the relay decides the folder) → one Wix call.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from wix_relay.domain.errors import (
    FieldProblem,
    InvalidInput,
    RelayError,
    Throttled,
    UpstreamFailed,
    UpstreamTimeout,
)
from wix_relay.domain.upload_requests import (
    RESUMABLE_UPLOAD_URL,
    UPLOAD_URL,
    RequestModel,
    UploadRequest,
)
from wix_relay.observability import MetricUnit, logger, metrics

if TYPE_CHECKING:
    from wix_relay.domain.callers import Caller
    from wix_relay.integrations.wix import WixError
    from wix_relay.runtime import Runtime

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

UPLOAD_URL_PATH = "/v1/upload-url"
RESUMABLE_UPLOAD_URL_PATH = "/v1/resumable-upload-url"
UPLOAD_PATHS = frozenset({UPLOAD_URL_PATH, RESUMABLE_UPLOAD_URL_PATH})


def _prepare(model: RequestModel) -> tuple[Runtime, UploadRequest, dict[str, Any]]:
    """Parse, validate and authorize the request; return the Wix fields to send."""
    runtime: Runtime = router.context["runtime"]
    caller: Caller = router.context["caller"]
    request = model.parse(request_body())
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
    return runtime, request, request.wix_fields(file_path)


def request_body() -> str | None:
    """The body as text (Function URLs may base64-encode it)."""
    try:
        return router.current_event.decoded_body
    except ValueError:  # binascii.Error / UnicodeDecodeError
        raise InvalidInput("the request body is not valid base64", code="INVALID_JSON") from None


def _issued(operation: str, fields: dict[str, Any]) -> None:
    metrics.add_metric(name="UploadUrlIssued", unit=MetricUnit.Count, value=1)
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


@router.post(UPLOAD_URL_PATH)
def upload_url() -> dict[str, Any]:
    runtime, _, fields = _prepare(UPLOAD_URL)
    with wix_errors_as_relay_errors():
        url = runtime.wix_client().generate_upload_url(fields)
    _issued("upload-url", fields)
    return {"uploadUrl": url}


@router.post(RESUMABLE_UPLOAD_URL_PATH)
def resumable_upload_url() -> dict[str, Any]:
    runtime, _, fields = _prepare(RESUMABLE_UPLOAD_URL)
    with wix_errors_as_relay_errors():
        target = runtime.wix_client().generate_resumable_upload_url(fields)
    _issued("resumable-upload-url", fields)
    return {
        "uploadProtocol": target.protocol,
        "uploadUrl": target.upload_url,
        "uploadToken": target.upload_token,
    }


def record_refused(reason: str) -> None:
    """`UploadUrlRefused` with a `reason` dimension, emitted at once (its own EMF blob)."""
    from aws_lambda_powertools.metrics import single_metric

    with single_metric(
        name="UploadUrlRefused",
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="reason", value=reason)


class wix_errors_as_relay_errors:
    """Turn a `WixError` into the RelayError the caller sees (PRODUCT.md statuses)."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if exc is None:
            return
        from wix_relay.integrations.wix import WixError

        if isinstance(exc, WixError):
            raise relay_error_from_wix(exc) from None


def relay_error_from_wix(exc: WixError) -> RelayError:
    from wix_relay.integrations.wix import (
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
    if isinstance(exc, WixRateLimited):
        retry_after = None if exc.retry_after_s is None else math.ceil(exc.retry_after_s)
        return Throttled("Wix is throttling uploads; retry later", retry_after_s=retry_after)
    if isinstance(exc, WixTimeout):
        return UpstreamTimeout("Wix did not answer in time")
    if isinstance(exc, WixAuthError):
        logger.error("Wix refused the relay's credential", extra={"wix_status": exc.status})
        return UpstreamFailed("the upload service is unavailable")
    return UpstreamFailed("Wix failed to answer; retry later")


OPENAPI_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", UPLOAD_URL_PATH): {
        "summary": "Get a Wix upload URL (PUT the file's bytes to it)",
        "operationId": "createUploadUrl",
        "requestModel": UPLOAD_URL,
        "responses": {
            "200": {
                "type": "object",
                "required": ["uploadUrl"],
                "properties": {"uploadUrl": {"type": "string", "format": "uri"}},
            }
        },
    },
    ("post", RESUMABLE_UPLOAD_URL_PATH): {
        "summary": "Get a Wix resumable (TUS) upload URL and token",
        "operationId": "createResumableUploadUrl",
        "requestModel": RESUMABLE_UPLOAD_URL,
        "responses": {
            "200": {
                "type": "object",
                "required": ["uploadProtocol", "uploadUrl", "uploadToken"],
                "properties": {
                    "uploadProtocol": {"type": "string", "enum": ["TUS"]},
                    "uploadUrl": {"type": "string", "format": "uri"},
                    "uploadToken": {"type": "string"},
                },
            }
        },
    },
}
"""OpenAPI facts for api.py's generated document (request schemas come from the field tables)."""
