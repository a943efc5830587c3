"""The OpenAPI 3.1 document, built from the registered routes and the facts each route module
contributes (`OPENAPI_OPERATIONS`: summary, operationId, request model, response schemas)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from wix_relay.web.responses import JSON

ERROR_STATUSES = {
    "400": "Invalid input; details name the field (or Wix's rule, e.g. FILE_SIZE_OVER_LIMIT)",
    "401": "No credential, or a bad one",
    "403": "Outside the caller's policy",
    "404": "No such route or resource",
    "413": "Request body too large",
    "429": "Throttled",
    "502": "Wix refused or failed",
    "504": "Wix timed out",
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


def build_openapi(
    routes: set[tuple[str, str]],
    operations: Mapping[tuple[str, str], Mapping[str, Any]],
    public_paths: frozenset[str],
) -> dict[str, Any]:
    """OpenAPI 3.1 from the registered routes; request schemas from the field tables."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for method, path in sorted(routes, key=lambda route: (route[1], route[0])):
        facts = operations.get((method, path), {})
        public = path in public_paths
        operation: dict[str, Any] = {
            "summary": facts.get("summary", f"{method.upper()} {path}"),
            "operationId": facts.get("operationId", f"{method}{path}".replace("/", "_")),
            "security": [] if public else [{"apiKey": []}, {"bearerJwt": []}],
            "responses": {},
        }
        names = re.findall(r"<(\w+)>", path)
        if names:
            operation["parameters"] = [
                {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                for n in names
            ]
        model = facts.get("requestModel")
        if model is not None:
            schemas[model.name] = model.json_schema()
            operation["requestBody"] = {
                "required": True,
                "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{model.name}"}}},
            }
        for status, schema in facts.get("responses", {"200": {"type": "object"}}).items():
            operation["responses"][status] = {
                "description": "OK" if status.startswith("2") else status,
                "content": {JSON: {"schema": schema}},
            }
        wanted = ("404",) if public else tuple(ERROR_STATUSES)
        for status in wanted:
            operation["responses"][status] = {
                "description": ERROR_STATUSES[status],
                "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        paths.setdefault(re.sub(r"<(\w+)>", r"{\1}", path), {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Wix Media Relay",
            "version": "1",
            "description": "Upload URLs and imports into a Wix site's Media Manager; the Wix "
            "credential stays in the relay. Errors: {error: {code, message, details?, requestId}}.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "bearerJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }
