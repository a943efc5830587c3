"""Partner imports: POST /v1/imports (relay one S3 object into Wix) and GET /v1/imports/{id}.

The caller is in `router.context["caller"]`, the per-container services in
`router.context["runtime"]` (both put there by handlers/api.py); the use case is
`services/imports.py`. POST answers 202 + `Location`; an `Idempotency-Key` header makes a retried
POST return the first job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wix_relay.domain.import_requests import IMPORT_REQUEST
from wix_relay.web.openapi import status_document
from wix_relay.web.powertools import APIGatewayHttpRouter, Response
from wix_relay.web.request_body import json_object
from wix_relay.web.responses import JSON

if TYPE_CHECKING:  # the use case loads with the first import request, not at cold start
    from wix_relay.domain.jobs import Job
    from wix_relay.services.imports import Imports

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

IMPORTS_PATH = "/v1/imports"
IMPORT_PATH = "/v1/imports/<job_id>"


def _imports() -> Imports:
    imports: Imports = router.context["runtime"].imports
    return imports


def _accepted(job: Job, status: int = 202) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=job.to_public(),
        headers={"Location": f"{IMPORTS_PATH}/{job.id}"},
    )


@router.post(IMPORTS_PATH)
def create_import() -> Response[Any]:
    event = router.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    body = json_object(event.raw_event, router.context["max_body_bytes"])
    job = _imports().submit(router.context["caller"], body, headers.get("idempotency-key"))
    return _accepted(job)


@router.get(IMPORT_PATH)
def get_import(job_id: str) -> dict[str, Any]:
    return _imports().get(router.context["caller"], job_id).to_public()


_JOB_SCHEMA = status_document(
    ["queued", "running", "uploaded", "ready", "failed"],
    {
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
    },
    required=["source"],
)

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
