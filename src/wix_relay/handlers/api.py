"""The public HTTP API (API Gateway HTTP API payload v2, or a Lambda Function URL).

handler(event, context): CORS preflight first, then Powertools' `APIGatewayHttpResolver` with one
global middleware that authenticates every route except `/v1/health` and `/v1/openapi.json` and
puts the caller in `app.context["caller"]`. Routes read their body through `web/request_body.py`.
Every error, including 404/405, is the docs/api.md envelope with the API request id
(`web/responses.py`; CORS in `web/cors.py`, the OpenAPI document in `web/openapi.py`).

Cold start: only the resolver, the observability module and pure-Python domain modules load at
import time. `requests`, PyJWT, the Wix client and the secret readers load on the first request
that needs them; the Wix client (and its keep-alive session) is created once per container
(`wix_relay.runtime.Runtime`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from wix_relay import snapstart
from wix_relay.config import Settings
from wix_relay.domain.errors import NotFound, RelayError
from wix_relay.handlers import imports_routes, readiness_routes, uploads_routes
from wix_relay.observability import instrumented, logger
from wix_relay.runtime import Runtime
from wix_relay.services.uploads import record_refused
from wix_relay.web.cors import preflight
from wix_relay.web.openapi import build_openapi
from wix_relay.web.powertools import APIGatewayHttpResolver, Response
from wix_relay.web.responses import JSON, error_response, finish, request_id

HEALTH_PATH = "/v1/health"
OPENAPI_PATH = "/v1/openapi.json"
PUBLIC_PATHS = frozenset({HEALTH_PATH, OPENAPI_PATH, *readiness_routes.PUBLIC_PATHS})

SETTINGS = Settings.from_env()
RUNTIME = Runtime.for_api(SETTINGS)
PRIMED = (
    # What the first authenticated request imports: with SnapStart they are in the snapshot.
    # Nothing is built before it (wix_relay.snapstart).
    "requests",
    "jwt",
    "jwt.algorithms",
    "wix_relay.integrations.aws_services",  # the upload record (DynamoDB without boto3)
    "wix_relay.integrations.identity",
    "wix_relay.integrations.secrets",
    "wix_relay.integrations.upload_store",
    "wix_relay.integrations.wix",
    "wix_relay.integrations.wix.events",
    "wix_relay.services.imports",
    "wix_relay.services.readiness",
    "wix_relay.services.uploads",
)

app = APIGatewayHttpResolver()
app.include_router(uploads_routes.router)
app.include_router(imports_routes.router)
app.include_router(readiness_routes.router)


# --- errors, 404/405 -------------------------------------------------------------------------


def _registered_routes() -> list[Any]:
    # Powertools keeps no public list of the routes; these two hold every registered one.
    return [*getattr(app, "_static_routes", []), *getattr(app, "_dynamic_routes", [])]


@app.exception_handler(RelayError)  # type: ignore[untyped-decorator]
def _on_relay_error(error: RelayError) -> Response[str]:
    route = app.context.get("_route")
    if route is not None and route.path in uploads_routes.UPLOAD_PATHS:
        record_refused(error.code)
    log = logger.error if error.status >= 500 else logger.info
    log("request refused", extra={"status": error.status, "error_code": error.code})
    return error_response(error, request_id(app.current_event.raw_event))


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _on_unexpected(error: Exception) -> Response[str]:
    logger.exception("unexpected error")
    internal = RelayError("internal error; retry later or report the request id")
    return error_response(internal, request_id(app.current_event.raw_event))


@app.not_found
def _on_not_found(_: Exception) -> Response[str]:
    event = app.current_event
    path, method = event.path, event.http_method.upper()
    allowed = sorted({r.method for r in _registered_routes() if r.rule.match(path)})
    if allowed:
        error = RelayError(
            f"{method} is not allowed on {path}; use {', '.join(allowed)}",
            status=405,
            code="METHOD_NOT_ALLOWED",
        )
        response = error_response(error, request_id(event.raw_event))
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return error_response(NotFound(f"no such route: {method} {path}"), request_id(event.raw_event))


# --- authentication ---------------------------------------------------------------------------


def _authenticate(resolver: APIGatewayHttpResolver, next_middleware: Callable[..., Any]) -> Any:
    """Global middleware: every registered route except the public ones needs a caller."""
    route = resolver.context.get("_route")
    if route is None or route.path in PUBLIC_PATHS:
        return next_middleware(resolver)
    if not any(route is r for r in _registered_routes()):  # unknown route: let it 404
        return next_middleware(resolver)
    event = resolver.current_event
    runtime: Runtime = resolver.context["runtime"]
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    authorizer = event.raw_event.get("requestContext", {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") if isinstance(authorizer, dict) else None
    caller = runtime.authenticate(headers, claims)
    resolver.append_context(caller=caller)  # type: ignore[no-untyped-call]
    logger.append_keys(caller_id=caller.id)
    return next_middleware(resolver)


app.use(middlewares=[_authenticate])


# --- public routes ----------------------------------------------------------------------------


@app.get(HEALTH_PATH)
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get(OPENAPI_PATH)
def openapi() -> Response[str]:
    return Response(
        status_code=200,
        content_type=JSON,
        body=_openapi_json(),
        headers={"Cache-Control": "public, max-age=300"},
    )


@functools.cache
def _openapi_json() -> str:
    """Built on the first request for it, from the routes' operation facts; then cached."""
    operations = {
        **OPENAPI_OPERATIONS,
        **uploads_routes.OPENAPI_OPERATIONS,
        **imports_routes.OPENAPI_OPERATIONS,
        **readiness_routes.OPENAPI_OPERATIONS,
    }
    routes = {(r.method.lower(), r.path) for r in _registered_routes()}
    return json.dumps(build_openapi(routes, operations, PUBLIC_PATHS))


OPENAPI_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", HEALTH_PATH): {
        "summary": "Liveness check (no credential, no Wix call)",
        "operationId": "health",
        "responses": {
            "200": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string", "enum": ["ok"]}},
            }
        },
    },
    ("get", OPENAPI_PATH): {
        "summary": "This OpenAPI document",
        "operationId": "openapi",
        "responses": {"200": {"type": "object"}},
    },
}
# --- entry point ------------------------------------------------------------------------------


@instrumented(SETTINGS.observability, correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    runtime = RUNTIME
    api = runtime.settings.api
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if method == "OPTIONS":
        return preflight(event, api.cors_origins)
    app.append_context(runtime=runtime, max_body_bytes=api.max_body_bytes)  # type: ignore[no-untyped-call]
    response = app.resolve(event, context)
    finish(response, event, api.cors_origins, OPENAPI_PATH)
    return response


def restored() -> None:
    """After a SnapStart restore: a new runtime (session, secrets, Wix client and token, JWKS
    cache) for this environment, and its own `random` seed."""
    global RUNTIME  # one per container
    stale, RUNTIME = RUNTIME, Runtime.for_api(SETTINGS)
    stale.close()
    snapstart.renew()


snapstart.register(lambda: snapstart.import_all(PRIMED), restored)
