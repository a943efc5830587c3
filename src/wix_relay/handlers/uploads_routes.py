"""Browsers and partners: POST /v1/upload-url and POST /v1/resumable-upload-url.

The authenticated caller is in `router.context["caller"]` and the per-container services in
`router.context["runtime"]` (both put there by handlers/api.py); the use case is
`services/uploads.py`.
"""

from __future__ import annotations

from typing import Any

from wix_relay.domain.upload_requests import RESUMABLE_UPLOAD_URL, UPLOAD_URL
from wix_relay.services.uploads import Uploads
from wix_relay.web.powertools import APIGatewayHttpRouter
from wix_relay.web.request_body import json_object

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

UPLOAD_URL_PATH = "/v1/upload-url"
RESUMABLE_UPLOAD_URL_PATH = "/v1/resumable-upload-url"
UPLOAD_PATHS = frozenset({UPLOAD_URL_PATH, RESUMABLE_UPLOAD_URL_PATH})


def _uploads() -> Uploads:
    uploads: Uploads = router.context["runtime"].uploads
    return uploads


def _body() -> dict[str, Any]:
    return json_object(router.current_event.raw_event, router.context["max_body_bytes"])


@router.post(UPLOAD_URL_PATH)
def upload_url() -> dict[str, Any]:
    issued = _uploads().upload_url(router.context["caller"], _body())
    return {"uploadUrl": issued.url, **issued.answer()}


@router.post(RESUMABLE_UPLOAD_URL_PATH)
def resumable_upload_url() -> dict[str, Any]:
    issued = _uploads().resumable_upload_url(router.context["caller"], _body())
    assert issued.target is not None
    return {
        "uploadProtocol": issued.target.protocol,
        "uploadUrl": issued.target.upload_url,
        "uploadToken": issued.target.upload_token,
        **issued.answer(),
    }


_STATUS: dict[str, Any] = {
    "uploadId": {"type": "string", "description": "The upload's id (when readiness is on)."},
    "statusUrl": {"type": "string", "description": "GET it for the upload's status."},
}

OPENAPI_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", UPLOAD_URL_PATH): {
        "summary": "Get a Wix upload URL (PUT the file's bytes to it)",
        "operationId": "createUploadUrl",
        "requestModel": UPLOAD_URL,
        "responses": {
            "200": {
                "type": "object",
                "required": ["uploadUrl"],
                "properties": {"uploadUrl": {"type": "string", "format": "uri"}, **_STATUS},
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
                    **_STATUS,
                },
            }
        },
    },
}
"""OpenAPI facts for api.py's generated document (request schemas come from the field tables)."""
