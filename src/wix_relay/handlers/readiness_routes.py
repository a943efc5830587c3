"""Readiness over HTTP: Wix events in, the status of uploads and the files callers put there.

- `POST /v1/wix/events` — public (no caller credential): the body is Wix's RS256 JWT, verified
  as received (base64-decoded when API Gateway encoded it). 200 for every authentic delivery the
  relay has taken in (also unknown types and files); 400/401 for anything else; 5xx makes Wix
  retry.
- `GET /v1/uploads/{uploadId}[?waitSeconds=]` — the caller's upload record.
- `POST /v1/uploads/{uploadId}/file` `{"fileId"}` — which Wix file the upload became (resumable
  uploads: Wix echoes no `externalInfo` for them, so the browser reports the finalize answer).
- `GET /v1/files/{fileId}[?waitSeconds=]` — the file document of a file this caller put there.

The use case is `services/readiness.py`; the caller and the runtime are in `router.context`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from wix_relay.domain.errors import FieldProblem, InvalidInput, PayloadTooLarge
from wix_relay.domain.upload_requests import Field, RequestModel
from wix_relay.domain.wix_events import EventMalformed, EventTooLarge
from wix_relay.web.openapi import status_document
from wix_relay.web.request_body import body_text, json_object

if TYPE_CHECKING:
    from wix_relay.services.readiness import Readiness

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

EVENTS_PATH = "/v1/wix/events"
UPLOAD_PATH = "/v1/uploads/<upload_id>"
UPLOAD_FILE_PATH = "/v1/uploads/<upload_id>/file"
FILE_PATH = "/v1/files/<file_id>"
PUBLIC_PATHS = frozenset({EVENTS_PATH})

FILE_REPORT = RequestModel(
    "UploadFileReport",
    (
        Field(
            "fileId",
            "string",
            "The Wix file id your upload's finalize (or PUT) answered (`file.id`).",
            required=True,
            max_length=200,
        ),
    ),
    "Which Wix file this upload became (resumable uploads carry no externalInfo).",
)


def _readiness() -> Readiness:
    readiness: Readiness = router.context["runtime"].readiness
    return readiness


def event_body() -> str:
    """The delivery's body as sent (base64-decoded when API Gateway encoded it), through the one
    body reader; its problems are the event's (400), with the events' own size limit."""
    limit = router.context["runtime"].settings.events.max_body_bytes
    try:
        return body_text(router.current_event.raw_event, limit)
    except PayloadTooLarge:
        raise EventTooLarge(f"the event is larger than {limit} bytes") from None
    except InvalidInput as exc:
        raise EventMalformed(exc.message) from None


def wait_seconds() -> float:
    raw = router.current_event.get_query_string_value("waitSeconds")
    if raw is None:
        return 0.0
    from wix_relay.services.readiness import MAX_WAIT_S

    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_WAIT_S:
        problem = f"must be a number of seconds from 0 to {MAX_WAIT_S:g}"
        raise InvalidInput(
            f"waitSeconds {problem}", [FieldProblem("waitSeconds", problem, "RANGE")]
        )
    return value


@router.post(EVENTS_PATH)
def wix_event() -> dict[str, Any]:
    outcome = _readiness().accept_event(event_body())
    return {"status": "accepted", "outcome": outcome}


@router.get(UPLOAD_PATH)
def get_upload(upload_id: str) -> dict[str, Any]:
    record = _readiness().upload_status(router.context["caller"], upload_id, wait_seconds())
    return record.to_public()


@router.post(UPLOAD_FILE_PATH)
def report_upload_file(upload_id: str) -> dict[str, Any]:
    body = FILE_REPORT.validate(
        json_object(router.current_event.raw_event, router.context["max_body_bytes"])
    )
    record = _readiness().report_file(router.context["caller"], upload_id, body)
    return record.to_public()


@router.get(FILE_PATH)
def get_file(file_id: str) -> dict[str, Any]:
    return dict(_readiness().file_for(router.context["caller"], file_id, wait_seconds()))


_FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "string"},
        "displayName": {"type": "string"},
        "url": {"type": "string", "description": "Browser-loadable URL (static.wixstatic.com)"},
        "wixUrl": {
            "type": "string",
            "description": "Wix media identifier (wix:image://v1/…) for $w elements and Wix APIs",
        },
        "mediaType": {"type": "string"},
        "operationStatus": {"type": "string", "enum": ["PENDING", "READY", "FAILED"]},
        "sizeInBytes": {"type": "string"},
        "private": {"type": "boolean"},
        "createdDate": {"type": "string"},
        "updatedDate": {"type": "string"},
    },
}
_UPLOAD_SCHEMA = status_document(["pending", "uploaded", "ready", "failed"], {"file": _FILE_SCHEMA})

OPENAPI_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", EVENTS_PATH): {
        "summary": "Wix File Ready / File Failed events (the body is Wix's RS256 JWT; no caller "
        "credential)",
        "operationId": "wixEvent",
        "requestBody": {
            "required": True,
            "content": {
                "text/plain": {
                    "schema": {"type": "string", "description": "An RS256 JWT signed by Wix"}
                }
            },
        },
        "responses": {
            "200": {
                "type": "object",
                "properties": {"status": {"type": "string"}, "outcome": {"type": "string"}},
            }
        },
    },
    ("get", UPLOAD_PATH): {
        "summary": "The status of an upload you asked a URL for (waitSeconds: long-poll ≤ 8 s)",
        "operationId": "getUpload",
        "responses": {"200": _UPLOAD_SCHEMA},
    },
    ("post", UPLOAD_FILE_PATH): {
        "summary": "Report the Wix file id your (resumable) upload's finalize answered",
        "operationId": "reportUploadFile",
        "requestModel": FILE_REPORT,
        "responses": {"200": _UPLOAD_SCHEMA},
    },
    ("get", FILE_PATH): {
        "summary": "A file you put into Wix: its URLs and status (waitSeconds: long-poll ≤ 8 s)",
        "operationId": "getFile",
        "responses": {"200": _FILE_SCHEMA},
    },
}
