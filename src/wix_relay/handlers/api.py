"""The public HTTP API (API Gateway HTTP API payload v2, or a Lambda Function URL).

handler(event, context): CORS preflight and the body-size limit first, then Powertools'
`APIGatewayHttpResolver` with one global middleware that authenticates every route except
`/v1/health` and `/v1/openapi.json` and puts the caller in `app.context["caller"]`.
Every error, including 404/405, is the PRODUCT.md envelope with the API request id.

Cold start: only the resolver, the observability module and pure-Python domain modules load at
import time. `requests`, PyJWT, the Wix client and the secret readers load on the first request
that needs them; the Wix client (and its keep-alive session) is created once per container.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from wix_relay.config import Settings
from wix_relay.domain.errors import (
    NotFound,
    PayloadTooLarge,
    RelayError,
    Throttled,
    error_body,
)
from wix_relay.handlers import imports_routes, uploads_routes
from wix_relay.observability import instrumented, logger

if TYPE_CHECKING:
    import requests

    from wix_relay.integrations.identity import JwksCache
    from wix_relay.integrations.secrets import CallerRegistrySource, TtlCache
    from wix_relay.integrations.wix import WixMediaClient

HEALTH_PATH = "/v1/health"
OPENAPI_PATH = "/v1/openapi.json"
PUBLIC_PATHS = frozenset({HEALTH_PATH, OPENAPI_PATH})
CORS_ALLOW_METHODS = "GET, POST, OPTIONS"
CORS_ALLOW_HEADERS = "authorization, content-type, idempotency-key, x-api-key"
CORS_EXPOSE_HEADERS = "location, retry-after, x-request-id"
CORS_MAX_AGE_S = 600
JSON = "application/json"


class Runtime:
    """Per-container services, each built on first use and then reused across invocations."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def session(self) -> requests.Session:
        import requests

        return requests.Session()

    @cached_property
    def secrets(self) -> TtlCache:
        from wix_relay.integrations.secrets import TtlCache, secrets_manager_reader

        return TtlCache(
            secrets_manager_reader(self.settings, self.session), self.settings.secrets_ttl_s
        )

    @cached_property
    def callers(self) -> CallerRegistrySource:
        from wix_relay.integrations.secrets import CallerRegistrySource

        return CallerRegistrySource(self.settings, lambda: self.secrets)

    @cached_property
    def jwks(self) -> JwksCache:
        from wix_relay.integrations.identity import JwksCache, http_jwks_fetcher

        return JwksCache(
            http_jwks_fetcher(self.session, (self.settings.wix.connect_timeout_s, 5.0))
        )

    @cached_property
    def _wix(self) -> WixMediaClient:
        from wix_relay.integrations.secrets import WixCredentialSource
        from wix_relay.integrations.wix import WixMediaClient

        credentials = WixCredentialSource(self.settings.wix.credentials_secret_id, self.secrets)
        return WixMediaClient(credentials, self.settings.wix, session=self.session)

    def wix_client(self) -> WixMediaClient:
        return self._wix


SETTINGS = Settings.from_env()
RUNTIME = Runtime(SETTINGS)

app = APIGatewayHttpResolver()
app.include_router(uploads_routes.router)
app.include_router(imports_routes.router)


# --- responses --------------------------------------------------------------------------------


def _request_id(event: Mapping[str, Any]) -> str | None:
    context = event.get("requestContext") or {}
    value = context.get("requestId") if isinstance(context, Mapping) else None
    return str(value) if value else None


def _error_response(error: RelayError, request_id: str | None) -> Response[str]:
    headers: dict[str, str] = {}
    if isinstance(error, Throttled) and error.retry_after_s is not None:
        headers["Retry-After"] = str(int(error.retry_after_s))
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="wix-media-relay"'
    return Response(
        status_code=error.status,
        content_type=JSON,
        body=json.dumps(error_body(error, request_id)),
        headers=headers,
    )


def _event_response(error: RelayError, event: Mapping[str, Any]) -> dict[str, Any]:
    """An error answered before the resolver runs (the body-size limit)."""
    response = _error_response(error, _request_id(event))
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": JSON, **{k: str(v) for k, v in response.headers.items()}},
        "body": response.body,
        "isBase64Encoded": False,
    }


def _registered_routes() -> list[Any]:
    # Powertools keeps no public list of the routes; these two hold every registered one.
    return [*getattr(app, "_static_routes", []), *getattr(app, "_dynamic_routes", [])]


@app.exception_handler(RelayError)  # type: ignore[untyped-decorator]
def _on_relay_error(error: RelayError) -> Response[str]:
    route = app.context.get("_route")
    if route is not None and route.path in uploads_routes.UPLOAD_PATHS:
        uploads_routes.record_refused(error.code)
    log = logger.error if error.status >= 500 else logger.info
    log("request refused", extra={"status": error.status, "error_code": error.code})
    return _error_response(error, _request_id(app.current_event.raw_event))


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _on_unexpected(error: Exception) -> Response[str]:
    logger.exception("unexpected error")
    internal = RelayError("internal error; retry later or report the request id")
    return _error_response(internal, _request_id(app.current_event.raw_event))


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
        response = _error_response(error, _request_id(event.raw_event))
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return _error_response(
        NotFound(f"no such route: {method} {path}"), _request_id(event.raw_event)
    )


# --- authentication ---------------------------------------------------------------------------


def _authenticate(resolver: APIGatewayHttpResolver, next_middleware: Callable[..., Any]) -> Any:
    """Global middleware: every registered route except the public ones needs a caller."""
    route = resolver.context.get("_route")
    if route is None or route.path in PUBLIC_PATHS:
        return next_middleware(resolver)
    if not any(route is r for r in _registered_routes()):  # unknown route: let it 404
        return next_middleware(resolver)
    from wix_relay.integrations.identity import authenticate

    event = resolver.current_event
    runtime: Runtime = resolver.context["runtime"]
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    authorizer = event.raw_event.get("requestContext", {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") if isinstance(authorizer, dict) else None
    caller = authenticate(headers, claims, runtime.callers.registry(), runtime.jwks)
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


_OPENAPI_CACHE: list[str] = []


def _openapi_json() -> str:
    """Built on the first request for it, from the routes' field tables; then cached."""
    if not _OPENAPI_CACHE:
        operations = {
            **OPENAPI_OPERATIONS,
            **uploads_routes.OPENAPI_OPERATIONS,
            **getattr(imports_routes, "OPENAPI_OPERATIONS", {}),
        }
        routes = {(r.method.lower(), r.path) for r in _registered_routes()}
        _OPENAPI_CACHE.append(json.dumps(build_openapi(routes, operations, PUBLIC_PATHS)))
    return _OPENAPI_CACHE[0]


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


# --- CORS -------------------------------------------------------------------------------------


def _header(event: Mapping[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _cors_headers(origin: str | None, settings: Settings) -> dict[str, str]:
    if origin is None or origin not in settings.api.cors_origins:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
    }


def _preflight(event: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """Answer OPTIONS ourselves (API Gateway does it when deployed; a Function URL does not)."""
    origin = _header(event, "origin")
    headers = {"Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
    requested = (_header(event, "access-control-request-method") or "").upper()
    if origin in settings.api.cors_origins and requested in {"GET", "POST"}:
        headers |= {
            "Access-Control-Allow-Origin": str(origin),
            "Access-Control-Allow-Methods": CORS_ALLOW_METHODS,
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": str(CORS_MAX_AGE_S),
        }
    return {"statusCode": 204, "headers": headers, "body": "", "isBase64Encoded": False}


def _finish(response: dict[str, Any], event: Mapping[str, Any], settings: Settings) -> None:
    headers = response.setdefault("headers", {})
    headers.update(_cors_headers(_header(event, "origin"), settings))
    headers["Vary"] = "Origin"
    request_id = _request_id(event)
    if request_id:
        headers["X-Request-Id"] = request_id
    if not (event.get("rawPath") or "").endswith(OPENAPI_PATH):
        headers.setdefault("Cache-Control", "no-store")


def _body_too_large(event: Mapping[str, Any], limit: int) -> bool:
    """The raw body as delivered (base64 text included) against the limit."""
    body = event.get("body")
    if not body:
        return False
    return len(body) > limit or len(str(body).encode("utf-8")) > limit


# --- entry point ------------------------------------------------------------------------------


@instrumented(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    runtime = RUNTIME
    settings = runtime.settings
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if method == "OPTIONS":
        return _preflight(event, settings)
    if _body_too_large(event, settings.api.max_body_bytes):
        limit = settings.api.max_body_bytes
        if str(event.get("rawPath", "")).endswith(tuple(uploads_routes.UPLOAD_PATHS)):
            uploads_routes.record_refused(PayloadTooLarge.code)
        response = _event_response(
            PayloadTooLarge(f"the request body must be at most {limit} bytes"), event
        )
    else:
        app.append_context(runtime=runtime)  # type: ignore[no-untyped-call]
        response = app.resolve(event, context)
    _finish(response, event, settings)
    return response
