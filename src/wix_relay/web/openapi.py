"""The OpenAPI 3.1 document, built from the registered routes and the facts each route module
contributes (`OPENAPI_OPERATIONS`: summary, operationId, request model, response schemas)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from wix_relay.web.responses import JSON

ERROR_STATUSES = {
    "400": "Invalid input; details name the field (or Wix's rule, e.g. FILE_SIZE_OVER_LIMIT)",
    "401": "No credential, or a bad one (WWW-Authenticate names the scheme)",
    "403": "Outside the caller's policy",
    "404": "No such resource (or not the caller's)",
    "405": "Another method on this path; Allow lists the methods it has",
    "409": "In conflict with the resource's state",
    "413": "Request body larger than the relay accepts (RELAY_MAX_BODY_BYTES), refused unread",
    "429": "Wix throttled the relay beyond its retry budget; retry after Retry-After",
    "500": "Misconfigured relay or a bug; report the requestId",
    "502": "Wix (or the identity provider) refused or failed",
    "503": "Temporarily unavailable (a dependency of the relay); retry after Retry-After",
    "504": "Wix timed out",
}
"""What each error status means; the codes a route can answer with are in ROUTE_ERRORS."""

POLICY_CODES = (
    "FOLDER_NOT_ALLOWED",
    "MIME_TYPE_NOT_ALLOWED",
    "SIZE_NOT_ALLOWED",
    "PRIVATE_NOT_ALLOWED",
    "PARENT_FOLDER_NOT_ALLOWED",
    "SUBJECT_NOT_ALLOWED",
)
_EVERY_ROUTE: dict[str, tuple[str, ...]] = {
    "405": ("METHOD_NOT_ALLOWED",),
    "413": ("PAYLOAD_TOO_LARGE",),
    "500": ("INTERNAL_ERROR",),
}
_AUTHENTICATED: dict[str, tuple[str, ...]] = {
    "401": (
        "UNAUTHENTICATED",
        "INVALID_API_KEY",
        "INVALID_TOKEN",
        "TOKEN_EXPIRED",
        "TOKEN_NOT_YET_VALID",
    ),
    "500": ("CONFIGURATION_ERROR", "INTERNAL_ERROR"),
    "502": ("JWKS_UNAVAILABLE", "JWKS_INVALID"),
    "503": ("SERVICE_UNAVAILABLE",),
}
_UPLOAD_URL_ERRORS: dict[str, tuple[str, ...]] = {
    "400": ("INVALID_INPUT", "INVALID_JSON", "INVALID_PATH", "<Wix's rule name>"),
    "403": POLICY_CODES,
    "404": ("FOLDER_NOT_FOUND",),
    "429": ("THROTTLED",),
    "502": ("WIX_UPSTREAM_ERROR",),
    "504": ("WIX_TIMEOUT",),
}
ROUTE_ERRORS: dict[str, dict[str, tuple[str, ...]]] = {
    "createUploadUrl": _UPLOAD_URL_ERRORS,
    "createResumableUploadUrl": _UPLOAD_URL_ERRORS,
    "createImport": {
        "400": (
            "INVALID_INPUT",
            "INVALID_JSON",
            "INVALID_PATH",
            "INVALID_CALLBACK_URL",
            "CALLBACK_NOT_CONFIGURED",
        ),
        "403": (
            "IMPORT_SOURCE_NOT_ALLOWED",
            "SOURCE_FORBIDDEN",
            "CALLBACK_URL_NOT_ALLOWED",
            *POLICY_CODES,
        ),
        "404": ("SOURCE_NOT_FOUND",),
        "503": ("SOURCE_UNAVAILABLE",),
    },
    "getImport": {"404": ("NOT_FOUND",)},
    "wixEvent": {
        "400": ("INVALID_EVENT", "EVENT_TOO_LARGE"),
        "401": ("INVALID_EVENT_SIGNATURE",),
        "500": ("CONFIGURATION_ERROR",),
        "503": ("EVENTS_NOT_CONFIGURED", "SERVICE_UNAVAILABLE", "CALLBACK_NOT_QUEUED"),
    },
    "getUpload": {"400": ("INVALID_INPUT",), "404": ("NOT_FOUND",)},
    "reportUploadFile": {
        "400": ("INVALID_INPUT", "INVALID_JSON"),
        "404": ("NOT_FOUND",),
        "409": ("UPLOAD_ALREADY_REPORTED",),
        "429": ("THROTTLED",),
        "502": ("WIX_UPSTREAM_ERROR",),
        "503": ("CALLBACK_NOT_QUEUED",),
        "504": ("WIX_TIMEOUT",),
    },
    "getFile": {
        "400": ("INVALID_INPUT",),
        "404": ("NOT_FOUND",),
        "429": ("THROTTLED",),
        "502": ("WIX_UPSTREAM_ERROR",),
        "503": ("CALLBACK_NOT_QUEUED",),
        "504": ("WIX_TIMEOUT",),
    },
}
"""Per operationId, the error codes of each status beyond those every (authenticated) route has.
`<Wix's rule name>`: Wix's own rule passed on, e.g. FILE_SIZE_OVER_LIMIT."""

PATH_PARAMETERS: dict[str, tuple[str, str]] = {
    "job_id": ("id", "The job id from the POST's answer (its Location ends with it)."),
    "upload_id": ("uploadId", "The uploadId an upload-URL route answered."),
    "file_id": ("fileId", "A Wix file id (of a file you put there through the relay)."),
}
"""Route variable -> (name in the docs and this document, description)."""

HEADER_PARAMETERS: dict[str, list[dict[str, Any]]] = {
    "createImport": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Makes a retried POST return the first job instead of creating "
            "another (1-200 printable characters, per caller).",
            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
        }
    ]
}
_WAIT_SECONDS = {
    "name": "waitSeconds",
    "in": "query",
    "required": False,
    "description": "Hold the answer until Wix has finished with the file, at most this long "
    "(0-8 s; default 0: answer at once).",
    "schema": {"type": "number", "minimum": 0, "maximum": 8},
}
HEADER_PARAMETERS["getUpload"] = [_WAIT_SECONDS]
HEADER_PARAMETERS["getFile"] = [_WAIT_SECONDS]
_RETRY_AFTER = {
    "description": "Seconds to wait before retrying (when known)",
    "schema": {"type": "integer", "minimum": 0},
}
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "202": {
        "Location": {
            "description": "The accepted job's URL (GET it to poll the job)",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    "401": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    "405": {"Allow": {"required": True, "schema": {"type": "string"}}},
    "429": {"Retry-After": _RETRY_AFTER},
    "503": {"Retry-After": _RETRY_AFTER},
}
SUCCESS_DESCRIPTIONS = {
    "200": "OK",
    "202": "Accepted: the job is queued (or, with an Idempotency-Key used before, the first "
    "job); poll its Location",
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "requestId"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "requestId": {"type": ["string", "null"]},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {
                            "field": {"type": "string"},
                            "message": {"type": "string"},
                            "rule": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}


def status_document(
    statuses: Sequence[str], properties: Mapping[str, Any], required: Sequence[str] = ()
) -> dict[str, Any]:
    """The schema of a status document (an import job, an upload): id, status (one of
    `statuses`), the route's own `properties`, error?, createdAt, updatedAt."""
    return {
        "type": "object",
        "required": ["id", "status", *required, "createdAt", "updatedAt"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": list(statuses)},
            **properties,
            "error": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
            "createdAt": {"type": "string", "format": "date-time"},
            "updatedAt": {"type": "string", "format": "date-time"},
        },
    }


def _error_codes(operation_id: str, public: bool) -> dict[str, tuple[str, ...]]:
    codes: dict[str, tuple[str, ...]] = {}
    extra = ROUTE_ERRORS.get(operation_id, {})
    for table in (_EVERY_ROUTE, {} if public else _AUTHENTICATED, extra):
        for status, names in table.items():
            codes[status] = tuple(dict.fromkeys((*codes.get(status, ()), *names)))
    return dict(sorted(codes.items()))


def _response(status: str, description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if status in RESPONSE_HEADERS:
        response["headers"] = RESPONSE_HEADERS[status]
    response["content"] = {JSON: {"schema": schema}}
    return response


def build_openapi(
    routes: set[tuple[str, str]],
    operations: Mapping[tuple[str, str], Mapping[str, Any]],
    public_paths: frozenset[str],
) -> dict[str, Any]:
    """OpenAPI 3.1 from the registered routes; request schemas from the field tables."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    error_ref = {"$ref": "#/components/schemas/Error"}
    for method, path in sorted(routes, key=lambda route: (route[1], route[0])):
        facts = operations.get((method, path), {})
        public = path in public_paths
        operation_id = facts.get("operationId", f"{method}{path}".replace("/", "_"))
        operation: dict[str, Any] = {
            "summary": facts.get("summary", f"{method.upper()} {path}"),
            "operationId": operation_id,
            "security": [] if public else [{"apiKey": []}, {"bearerJwt": []}],
            "responses": {},
        }
        parameters = [
            {
                "name": PATH_PARAMETERS.get(n, (n, ""))[0],
                "in": "path",
                "required": True,
                "description": PATH_PARAMETERS.get(n, (n, n))[1],
                "schema": {"type": "string"},
            }
            for n in re.findall(r"<(\w+)>", path)
        ] + HEADER_PARAMETERS.get(operation_id, [])
        if parameters:
            operation["parameters"] = parameters
        model = facts.get("requestModel")
        if "requestBody" in facts:  # a body that is not one of the JSON request models
            operation["requestBody"] = facts["requestBody"]
        elif model is not None:
            schemas[model.name] = model.json_schema()
            operation["requestBody"] = {
                "required": True,
                "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{model.name}"}}},
            }
        for status, schema in facts.get("responses", {"200": {"type": "object"}}).items():
            operation["responses"][status] = _response(
                status, SUCCESS_DESCRIPTIONS.get(status, "OK"), schema
            )
        for status, codes in _error_codes(operation_id, public).items():
            described = f"{ERROR_STATUSES[status]}. Codes: {', '.join(codes)}"
            operation["responses"][status] = {
                **_response(status, described, error_ref),
                "x-error-codes": list(codes),
            }
        openapi_path = re.sub(
            r"<(\w+)>", lambda m: "{" + PATH_PARAMETERS.get(m[1], (m[1], ""))[0] + "}", path
        )
        paths.setdefault(openapi_path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Wix Media Relay",
            "version": "1",
            "description": "Upload URLs and imports into a Wix site's Media Manager; the Wix "
            "credential stays in the relay. Errors: {error: {code, message, details?, requestId}};"
            " each error response lists its codes (x-error-codes). Send either credential: an API "
            "key in x-api-key, or a user's JWT as Authorization: Bearer.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-api-key",
                    "description": "A partner API key from the caller registry",
                },
                "bearerJwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A user's JWT from an issuer in the caller registry",
                },
            },
        },
    }
