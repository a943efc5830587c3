"""HTTP plumbing: the threading server, routing, auth, faults, responses.

Endpoint logic lives in api.py (Wix REST), uploads.py (upload PUT, TUS, finalize) and control.py
(/_emulator/*). Every handler gets the request object below.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import re
import secrets
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import errors as e
from .config import EmulatorConfig
from .faults import Fault, Faults
from .httpbody import BLOCK, BadBody, BodyReader, ClientGone
from .ratelimit import TokenBucket, retry_after_header
from .state import Store
from .webhooks import Webhooks


def new_request_id() -> str:
    return f"{int(time.time())}.{secrets.token_hex(10)}"  # [guess] opaque to clients


class ConnectionCut(Exception):
    """Raised after the socket was closed on purpose (fault injection)."""


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    endpoint: str  # fault/log name
    handler: Callable[..., None]
    kind: str  # "api" (Wix auth), "public" (Wix, no auth), "upload" (token in URL), "control"


CORS_EXPOSE = (
    "Location, Upload-Offset, Upload-Length, Upload-Metadata, Tus-Resumable, Tus-Version, "
    "Tus-Extension, Tus-Max-Size, x-wix-request-id, Retry-After"
)


class Request(BaseHTTPRequestHandler):
    """One HTTP exchange. `server` is the EmulatorServer."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY the body waits for the
    # client's delayed ACK (~40 ms per call on loopback), which real Wix servers do not add.
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive / stalled body: close after this many seconds
    server: EmulatorServer
    request_id = ""
    cors = False

    # --- BaseHTTPRequestHandler hooks ---------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = do_DELETE = do_GET

    def handle_expect_100(self) -> bool:
        # Defer "100 Continue" until the handler first reads the body, so an early refusal
        # (fault, bad token, rule error) is answered without inviting the body.
        self._expect_continue = True
        return True

    def send_response(self, code: int, message: str | None = None) -> None:
        self.status_sent = code
        if hasattr(self, "_logged"):
            self._log()
        super().send_response(code, message)
        # [code] every Wix response carries one, even the stdlib's own error answers.
        self.send_header("x-wix-request-id", self.request_id or new_request_id())
        if self.cors:
            self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
            self.send_header("Access-Control-Expose-Headers", CORS_EXPOSE)
            self.send_header("Vary", "Origin")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.cfg.access_log:
            sys.stderr.write(f"wix-emulator {self.address_string()} {format % args}\n")

    # --- shared state -------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self.server.store

    @property
    def cfg(self) -> EmulatorConfig:
        return self.server.cfg

    @property
    def faults(self) -> Faults:
        return self.server.faults

    @property
    def webhooks(self) -> Webhooks:
        return self.server.webhooks

    def upload_base(self) -> str:
        return (self.cfg.public_base_url or self.store.base_url).rstrip("/")

    def query1(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    # --- dispatch -----------------------------------------------------------------------
    def _dispatch(self) -> None:
        self._started = time.monotonic()
        self._logged = False
        self._generation = self.store.generation
        self.request_id = new_request_id()
        self.status_sent = 0
        self.identity = ""
        self.cut_after: int | None = None
        self._expect_continue = getattr(self, "_expect_continue", False)
        self._continue_sent = False
        parts = urlsplit(self.path)
        self.route_path = parts.path
        self.query = parse_qs(parts.query, keep_blank_values=True)
        route, groups = self._route()
        self.endpoint = route.endpoint if route else "unknown"
        self.cors = route is not None and (route.kind == "upload" or route.endpoint == "static")
        try:
            try:
                self.body = BodyReader(self.rfile, self.headers, self._send_continue)
            except BadBody as exc:
                self.body = BodyReader.empty()
                self.close_connection = True  # the framing is unknown: do not reuse
                raise e.validation_error([e.violation("body", str(exc), e.FORMAT)]) from None
            if route is None:
                raise e.application_error(
                    404, "NOT_FOUND", f"no route for {self.command} {parts.path}"
                )
            if route.kind != "control":
                self._before_wix_call(route)
            if route.kind == "api":
                self._authenticate()
            route.handler(self, *groups)
        except e.WixApiError as err:
            self.send_error_answer(err)
        except ConnectionCut:
            pass
        except (ClientGone, ConnectionError, TimeoutError):
            self.close_connection = True
        except BadBody as exc:
            self.close_connection = True
            self.send_error_answer(e.validation_error([e.violation("body", str(exc), e.FORMAT)]))
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if not self.status_sent:
                self.send_error_answer(e.server_error(500))
        finally:
            self._expect_continue = False
            self._log()  # no answer was sent (cut, client gone)

    def _log(self) -> None:
        """Record the call once, before its answer goes out (so a client that got the answer
        finds the entry), or at the end when there was no answer."""
        if self._logged:
            return
        self._logged = True
        if self._generation != self.store.generation:
            return  # began before a reset: not part of what the log now describes
        self.store.requests.append(
            {
                "requestId": self.request_id,
                "endpoint": self.endpoint,
                "method": self.command,
                "path": self.route_path,
                "status": self.status_sent or None,
                "auth": self.identity or None,
                "bodyBytes": self.body.received if hasattr(self, "body") else 0,
                "ms": round((time.monotonic() - self._started) * 1000, 1),
            }
        )

    def _route(self) -> tuple[Route | None, tuple[str, ...]]:
        method = self.command
        for route in ROUTES:
            if route.method == method or (route.method == "GET" and method == "HEAD"):
                m = route.pattern.fullmatch(self.route_path)
                if m:
                    return route, tuple(unquote(g) for g in m.groups())
        return None, ()

    def _send_continue(self) -> None:
        if self._expect_continue and not self._continue_sent:
            self._continue_sent = True
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    # --- faults, latency, rate limit ----------------------------------------------------
    def _before_wix_call(self, route: Route) -> None:
        latency = self.faults.latency_for(route.endpoint)
        if latency:
            self._sleep(latency / 1000)
        fault = self.faults.take(route.endpoint)
        if fault is not None:
            self._apply_fault(fault)

    def _sleep(self, seconds: float) -> None:
        """An injected wait; a reset during it cuts the call, which then changes nothing (a
        late call from an earlier test never lands in the next one's state or request log)."""
        time.sleep(seconds)
        if self._generation != self.store.generation:
            self.cut_connection()

    def _apply_fault(self, fault: Fault) -> None:
        if fault.delay_ms:
            self._sleep(fault.delay_ms / 1000)
        if fault.cut_after_bytes is not None:
            if self.endpoint in ("upload", "tus-patch"):
                self.cut_after = fault.cut_after_bytes  # the endpoint stores K bytes, then cuts
                return
            self._read_some(fault.cut_after_bytes)
            self.cut_connection()
        if fault.status is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            if fault.body is not None:
                ctype = fault.content_type or "text/html; charset=utf-8"
                self.send_bytes(fault.status, fault.body.encode(), ctype, headers)
                raise ConnectionCut  # answered; skip the handler
            if fault.status >= 500:
                raise e.WixApiError(fault.status, None, headers)  # [doc] 5xx bodies are empty
            codes = {
                429: e.RESOURCE_EXHAUSTED,
                401: "UNAUTHENTICATED",
                403: "PERMISSION_DENIED",
            }
            err = e.application_error(
                fault.status, codes.get(fault.status, "INJECTED_FAULT"), "injected fault"
            )
            err.headers.update(headers)
            raise err

    def _read_some(self, limit: int) -> None:
        buf = memoryview(bytearray(min(max(limit, 1), BLOCK)))
        read = 0
        while read < limit:
            n = self.body.readinto(buf[: min(len(buf), limit - read)])
            if not n:
                break
            read += n

    def cut_connection(self) -> None:
        """Close the socket abruptly (RST), without an answer."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        raise ConnectionCut

    def _rate_limit(self) -> None:
        per_minute = self.cfg.rate_limit_per_minute
        if not per_minute:
            return
        with self.store.lock:
            bucket = self.store.rate_bucket
            if bucket is None:
                bucket = TokenBucket(per_minute, self.cfg.rate_limit_burst)
                self.store.rate_bucket = bucket
        wait_s = bucket.admit(self.store.now())
        if wait_s is not None:
            err = e.rate_limited()
            err.headers["Retry-After"] = retry_after_header(wait_s)
            raise err

    # --- authentication -----------------------------------------------------------------
    def _authenticate(self) -> None:
        """[doc] `Authorization: <api key>` + `wix-site-id`, or an OAuth access token this
        emulator issued (a `Bearer ` prefix is accepted for those [code])."""
        raw = (self.headers.get("Authorization") or "").strip()
        if not raw:
            raise e.application_error(401, "UNAUTHENTICATED", "missing Authorization header")
        bearer = raw[:7].lower() == "bearer "
        token = raw[7:].strip() if bearer else raw
        if not bearer and hmac.compare_digest(token.encode(), self.cfg.api_key.encode()):
            site = self.headers.get("wix-site-id")
            if not site:
                # [guess] site-level call without the site header.
                raise e.application_error(403, "PERMISSION_DENIED", "missing wix-site-id header")
            if not hmac.compare_digest(site.encode(), self.cfg.site_id.encode()):
                raise e.application_error(
                    403, "PERMISSION_DENIED", "the API key has no access to this site"
                )
            self.identity = "apiKey"
        else:
            state = self.store.token_state(token)
            if state == "expired":
                raise e.application_error(401, "EXPIRED_TOKEN", "access token has expired")
            if state != "valid":
                raise e.application_error(401, "UNAUTHENTICATED", "invalid credentials")
            self.identity = "oauth"
        self._rate_limit()

    # --- bodies and answers -------------------------------------------------------------
    def json_body(self, *, required: bool = True) -> Any:
        raw = self.body.read_small()
        if not raw.strip():
            if required:
                raise e.validation_error([e.violation("body", "a JSON body is required", e.FORMAT)])
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise e.validation_error([e.violation("body", "is not valid JSON", e.FORMAT)]) from None

    def _finish_body(self) -> None:
        """Before answering: drain what the client still sends, or plan to close."""
        if self.body.done:
            return
        if self._expect_continue and not self._continue_sent:
            self.close_connection = True  # the client is waiting; it will not send the body
            return
        if not self.body.drain():
            self.close_connection = True

    def send_bytes(
        self,
        status: int,
        payload: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._finish_body()
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(obj, separators=(",", ":")).encode()
        self.send_bytes(status, payload, "application/json", headers)

    def send_empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, b"", None, headers)

    def send_error_answer(self, err: e.WixApiError) -> None:
        if err.body is None:
            self.send_empty(err.status, err.headers)
        else:
            self.send_json(err.status, err.body, err.headers)

    def send_file(self, path: Path, content_type: str) -> None:
        self._finish_body()
        size = path.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        with path.open("rb") as fh:
            while block := fh.read(BLOCK):
                self.wfile.write(block)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, cfg: EmulatorConfig, store: Store, port: int) -> None:
        self.cfg = cfg
        self.store = store
        self.faults = Faults()
        self.webhooks = Webhooks(cfg, store)
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__((cfg.host, port), Request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (reset, broken pipe) is normal here; print the rest."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


ROUTES: list[Route] = []


def route(method: str, pattern: str, endpoint: str, kind: str) -> Callable[[Any], Any]:
    """Register a handler `fn(request, *path_groups)`."""

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        ROUTES.append(Route(method, re.compile(pattern), endpoint, fn, kind))
        return fn

    return register
