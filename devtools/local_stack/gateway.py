"""A small local API Gateway: HTTP request → HTTP API payload v2 event → the Lambda handler →
HTTP response, so the relay runs locally exactly the code that runs behind API Gateway.

Event shape: AWS "Working with AWS Lambda proxy integrations for HTTP APIs" (payload format 2.0)
and `sam local generate-event apigateway http-api-proxy`; tests/e2e/local_stack checks it.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_stack.lambda_context import ACCOUNT_ID, LambdaContext

Handler = Callable[[dict[str, Any], Any], Any]

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
"""HTTP API's request payload quota (10 MB); larger bodies get 413 before the function runs."""
API_ID = "local"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_SUFFIXES = ("+json", "+xml", "x-www-form-urlencoded")


def _is_text(content_type: str | None) -> bool:
    mime = (content_type or "").split(";")[0].strip().lower()
    return mime.startswith(_TEXT_TYPES) or mime.endswith(_TEXT_SUFFIXES)


def _request_id() -> str:
    # API Gateway's ids look like "JKJaXmPLvHcESHA=" (10 random bytes, base64).
    return base64.b64encode(secrets.token_bytes(10)).decode()


def build_event(
    *,
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    request_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The payload v2 event API Gateway would send for this request ($default route/stage)."""
    now = time.time() if now is None else now
    request_id = request_id or _request_id()
    split = urlsplit(target)
    raw_path = split.path or "/"
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":  # payload v2 moves cookies out of the headers
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        else:
            joined[key] = f"{joined[key]},{value}" if key in joined else value
    host = joined.get("host", "127.0.0.1")
    joined.setdefault("x-forwarded-for", source_ip)
    joined.setdefault("x-forwarded-proto", "http")
    joined.setdefault("x-forwarded-port", host.rpartition(":")[2] if ":" in host else "80")
    joined.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{uuid.uuid4().hex[:24]}")
    stamp = datetime.fromtimestamp(now, UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": split.query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = joined
    params: dict[str, str] = {}
    for name, value in parse_qsl(split.query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    if params:
        event["queryStringParameters"] = params
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": host,
        "domainPrefix": host.split(".")[0].split(":")[0],
        "http": {
            "method": method.upper(),
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": joined.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": stamp.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now * 1000),
    }
    if body:
        text = _is_text(joined.get("content-type"))
        if text:
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                text = False
        if not text:
            event["body"] = base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = not text
    else:
        event["isBase64Encoded"] = False
    return event


def render_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Turn the handler's return value into status, headers and body, as API Gateway does for
    payload v2 (a value without `statusCode` is a 200 JSON body)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body = result if isinstance(result, str) else json.dumps(result)
        return 200, [("content-type", "application/json")], body.encode()
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(str(name), str(v)) for v in values]
    headers += [("set-cookie", str(c)) for c in result.get("cookies") or ()]
    raw = result.get("body") or ""
    if result.get("isBase64Encoded"):
        payload = base64.b64decode(raw)
    else:
        payload = raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()
    return int(result["statusCode"]), headers, payload


class LocalGateway:
    """Serves one Lambda handler over HTTP on loopback. Invocations run one at a time, like a
    single warm Lambda instance (the handler's module state is shared)."""

    def __init__(
        self,
        handler: Handler,
        *,
        function_name: str,
        memory_mb: int = 512,
        timeout_s: float = 30.0,
        region: str = "us-east-1",
        port: int = 0,
        sock: socket.socket | None = None,
        access_log: bool = True,
    ) -> None:
        self.handler = handler
        self.function_name = function_name
        self.memory_mb = memory_mb
        self.timeout_s = timeout_s
        self.region = region
        self.access_log = access_log
        self._lock = threading.Lock()
        gateway = self

        class RequestHandler(_RequestHandler):
            owner = gateway

        self.server = ThreadingHTTPServer(
            ("127.0.0.1", port), RequestHandler, bind_and_activate=sock is None
        )
        if sock is not None:  # a listening socket inherited from the parent process
            self.server.socket.close()
            self.server.socket = sock
            self.server.server_address = sock.getsockname()
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def invoke(self, event: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        context = LambdaContext(self.function_name, self.memory_mb, self.timeout_s, self.region)
        with self._lock:
            try:
                result = self.handler(event, context)
            except Exception:  # API Gateway answers 500 when the function fails
                traceback.print_exc(file=sys.stderr)
                body = b'{"message":"Internal Server Error"}'
                return 500, [("content-type", "application/json")], body
        return render_response(result)

    def start(self) -> LocalGateway:
        self._thread = threading.Thread(
            target=self.server.serve_forever, name=f"gateway-{self.function_name}", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _RequestHandler(BaseHTTPRequestHandler):
    owner: LocalGateway
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY the body waits for the client's
    # delayed ACK (~40 ms a request on loopback), which API Gateway does not add.
    disable_nagle_algorithm = True

    def _handle(self) -> None:
        started = time.monotonic()
        request_id = _request_id()
        status, headers, payload = self._dispatch(request_id)
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("apigw-requestid", request_id)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        if self.owner.access_log:
            took = (time.monotonic() - started) * 1000
            print(
                f"[gateway] {self.command} {self.path} -> {status} ({took:.0f} ms)",
                file=sys.stderr,
            )

    def _dispatch(self, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        json_type = [("content-type", "application/json")]
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return 411, json_type, b'{"message":"Length Required"}'
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            self.close_connection = True  # the unread body makes the connection unusable
            return 413, json_type, b'{"message":"Request Entity Too Large"}'
        body = self.rfile.read(length) if length else b""
        event = build_event(
            method=self.command,
            target=self.path,
            headers=self.headers.items(),
            body=body,
            source_ip=self.client_address[0],
            request_id=request_id,
        )
        return self.owner.invoke(event)

    def __getattr__(self, name: str) -> Any:
        """`do_<METHOD>` for every method (a $default route): the relay answers one it does not
        support (TRACE, QUERY, …) with its own 405 + Allow, not http.server's HTML 501."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: `_handle` writes one access-log line per request."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self.close_connection = True
        super().send_error(code, message or HTTPStatus(code).phrase, explain)


def serve_function_forever(handler: Handler, **kwargs: Any) -> None:
    """Run a gateway in the foreground until interrupted (used by the function processes)."""
    gateway = LocalGateway(handler, **kwargs)
    try:
        gateway.serve_forever()
    finally:
        gateway.server.server_close()


__all__ = ["LocalGateway", "build_event", "render_response", "serve_function_forever"]
