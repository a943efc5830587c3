"""One HTTP call to Wix with timeouts, bounded retries and typed errors; upload bodies; host checks.

Retries: 429, 5xx and network errors only, never other 4xx [doc]; exponential backoff with full
jitter, `Retry-After` honoured (seconds or HTTP-date), all within `WixSettings.retry_budget_s` and
at most `WixSettings.max_retries` times (the API's client gets the short budget: `for_api()`).

Throttling is shared: one `ThrottleGate` per transport (per container). A 429 closes it for the
retry's wait, and every thread waits for it to open before its next call, so the container slows
down as a whole instead of each thread finding the limit on its own; `WixSettings.calls_per_minute`
paces the API's calls to a rate (off by default; upload-host calls take no slot).
"""

from __future__ import annotations

import ipaddress
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from wix_relay.config import WixSettings
from wix_relay.integrations.wix.errors import (
    SourceError,
    UploadHostNotAllowed,
    WixAuthError,
    WixError,
    WixNetworkError,
    WixProtocolError,
    WixRateLimited,
    WixTimeout,
    error_from_response,
)
from wix_relay.observability import logger

PIECE_BYTES = 1024 * 1024
"""Upload bodies are sent in pieces of at most this size (memory stays bounded)."""


class ReadableStream(Protocol):
    """A binary stream: an open file, `io.BytesIO`, botocore's StreamingBody, …"""

    def read(self, size: int, /) -> bytes: ...


class Sleeper(Protocol):
    def __call__(self, seconds: float, /) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    budget_s: float
    base_s: float = 0.25
    cap_s: float = 8.0
    max_retries: int | None = None

    def delay(self, attempt: int, rng: Callable[[], float]) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return float(rng() * min(self.cap_s, self.base_s * (2**attempt)))


class ThrottleGate:
    """Shared by a transport's threads: closed for a while after a 429, and (with pacing) one
    call every `60 / calls_per_minute` seconds."""

    def __init__(
        self,
        calls_per_minute: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleeper = time.sleep,
    ) -> None:
        self._interval = 60.0 / calls_per_minute if calls_per_minute > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._open_at = 0.0
        self._next_slot = 0.0

    def close_for(self, seconds: float) -> None:
        """Wix said 429: no thread calls it for `seconds` (a later opening is kept)."""
        with self._lock:
            self._open_at = max(self._open_at, self._clock() + seconds)

    def wait(self, deadline: float, *, paced: bool = True) -> bool:
        """Block until this thread may call Wix; False (at once) when that is after `deadline`
        (a `clock()` time). `paced=False` (a call outside the API's rate limit: the upload host,
        the OAuth token) takes no pacing slot, but still waits while the gate is closed."""
        with self._lock:
            now = self._clock()
            pacing = bool(self._interval) and paced
            start = max(now, self._open_at, self._next_slot if pacing else now)
            if start > now and start > deadline:  # an open gate never refuses
                return False
            if pacing:
                self._next_slot = start + self._interval
        while start > now:
            self._sleep(start - now)
            with self._lock:  # another 429 may have closed the gate for longer meanwhile
                now, start = start, max(start, self._open_at)
            if start > deadline and start > now:
                return False
        return True


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP-date); None when absent or unparsable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_upload_url(url: str, allowed_hosts: Iterable[str]) -> None:
    """Raise `UploadHostNotAllowed` unless `url` is https (or loopback) on an allow-listed host.

    Allow-list entries are netlocs (`upload.wixmp.com`, `127.0.0.1:3001`); an entry without a port
    matches the scheme's default port. The message names the host, never the URL (it holds a token).
    """
    parts = urlsplit(url)
    try:
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        raise UploadHostNotAllowed("upload URL has an invalid port") from None
    if parts.scheme not in ("https", "http") or not host:
        raise UploadHostNotAllowed("upload URL must be an absolute http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise UploadHostNotAllowed("upload URL must not contain user information")
    if parts.scheme == "http" and not _is_loopback(host):
        raise UploadHostNotAllowed(f"upload URL for host '{host}' must use https")
    default = 443 if parts.scheme == "https" else 80
    for entry in allowed_hosts:
        allowed = urlsplit("//" + entry.strip().lower())
        try:
            allowed_port = allowed.port or default
        except ValueError:
            continue
        if allowed.hostname == host and allowed_port == (port or default):
            return
    shown = host if port is None else f"{host}:{port}"
    raise UploadHostNotAllowed(f"upload host '{shown}' is not in WixSettings.upload_hosts")


class SizedBody:
    """An upload body of known length streamed from pieces; `requests` sends it with
    Content-Length and urllib3 writes each piece as it comes. Guards against a source that
    ends early or overruns `size`."""

    def __init__(self, pieces: Iterable[bytes], size: int) -> None:
        self._pieces = pieces
        self._size = size
        self.sent = 0

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._pieces:
            if not piece:
                continue
            self.sent += len(piece)
            if self.sent > self._size:
                raise SourceError(f"upload source gave more than the declared {self._size} bytes")
            yield piece
        if self.sent != self._size:
            raise SourceError(f"upload source ended after {self.sent} of {self._size} bytes")


def read_pieces(
    stream: ReadableStream, limit: int | None = None, piece: int = PIECE_BYTES
) -> Iterator[bytes]:
    """Read `stream` in pieces of ≤ `piece` bytes, at most `limit` bytes (all when None)."""
    remaining = limit
    while remaining is None or remaining > 0:
        want = piece if remaining is None else min(piece, remaining)
        data = stream.read(want)
        if not data:
            return
        if remaining is not None:
            remaining -= len(data)
        yield data


def network_reason(exc: BaseException) -> str:
    """`ConnectionError: ConnectionResetError`: the exception chain's class names, no message
    (requests' messages quote the URL)."""
    names = [type(exc).__name__]
    current: object = exc
    for _ in range(6):
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            args = getattr(current, "args", ())
            inner = next((a for a in reversed(args) if isinstance(a, BaseException)), None)
        if inner is None and isinstance(current, BaseException):
            inner = current.__cause__ or current.__context__
        if inner is None:
            break
        names.append(type(inner).__name__)
        current = inner
    return ": ".join(dict.fromkeys(names))


AuthHeaders = Callable[[], Mapping[str, str]]


class Http:
    """The transport shared by the client and the TUS uploader."""

    def __init__(
        self,
        session: requests.Session,
        settings: WixSettings,
        *,
        retry: RetryPolicy,
        sleep: Sleeper = time.sleep,
        rng: Callable[[], float] = random.random,
        secrets: Callable[[], Iterable[str]] = tuple,
        gate: ThrottleGate | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.retry = retry
        self.sleep = sleep
        self.gate = gate or ThrottleGate(settings.calls_per_minute, sleep=sleep)
        self.rng = rng
        self.secrets = secrets
        self.timeout = (settings.connect_timeout_s, settings.read_timeout_s)

    def backoff(self, attempt: int, deadline: float, error: WixError) -> None:
        """Sleep before retry `attempt` (0-based) or raise `error` if that would pass `deadline`."""
        wait = self.retry.delay(attempt, self.rng)
        if error.retry_after_s is not None:
            wait = error.retry_after_s
        if time.monotonic() + wait > deadline:
            raise error
        logger.info(
            "wix call retried",
            extra={
                "wix_operation": error.operation,
                "wix_error": error.code,
                "wix_request_id": error.request_id,
                "attempt": attempt + 1,
                "delay_s": round(wait, 3),
            },
        )
        if isinstance(error, WixRateLimited):
            self.gate.close_for(wait)  # the other threads wait (in `request`) as this one does
        self.sleep(wait)

    def request(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        auth: AuthHeaders | None = None,
        on_unauthorized: Callable[[], bool] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        body: Callable[[], Any] | None = None,
        retry: bool = True,
        final: Callable[[WixError, Sequence[WixError]], WixError | None] | None = None,
    ) -> requests.Response:
        """Send one call, retrying per policy. `body()` builds a fresh body for every attempt;
        `on_unauthorized()` may refresh the credential once and return True to re-send;
        `final(error, earlier)` (`earlier`: this call's previous attempts' errors) may turn an
        error into one that is raised at once, never retried."""
        deadline = time.monotonic() + self.retry.budget_s
        attempt = 0
        refreshed = False
        earlier: list[WixError] = []
        backed_off = False  # this thread has just waited out its own 429: the gate is open
        while True:
            # The per-minute limit is documented for API requests [doc]; that the upload host's
            # calls (token in the URL, no `auth`) are outside it is a [guess] (docs/wix-facts.md):
            # pacing spaces the API's calls only.
            if not backed_off and not self.gate.wait(deadline, paced=auth is not None):
                raise WixRateLimited(
                    f"Wix {operation} not sent: Wix is throttling this client (retry budget spent)",
                    status=429,
                    operation=operation,
                )
            started = time.monotonic()
            send_headers = dict(headers or {})
            if auth is not None:
                send_headers.update(auth())
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=send_headers,
                    params=params,
                    json=json_body,
                    data=body() if body is not None else None,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.Timeout as exc:
                error: WixError = WixTimeout(
                    f"Wix {operation} timed out ({network_reason(exc)})", operation=operation
                )
            except requests.ConnectionError as exc:
                error = WixNetworkError(
                    f"Wix {operation} failed: network error ({network_reason(exc)})",
                    operation=operation,
                )
            else:
                request_id = response.headers.get("x-wix-request-id")
                logger.debug(
                    "wix response",
                    extra={
                        "wix_operation": operation,
                        "status": response.status_code,
                        "wix_request_id": request_id,
                        "attempt": attempt + 1,
                        "elapsed_ms": round((time.monotonic() - started) * 1000),
                    },
                )
                if 200 <= response.status_code < 300:
                    return response
                if 300 <= response.status_code < 400:
                    response.close()
                    raise WixProtocolError(
                        f"Wix {operation} answered a redirect (HTTP {response.status_code}), "
                        "which is not followed",
                        status=response.status_code,
                        request_id=request_id,
                        operation=operation,
                    )
                error = error_from_response(
                    response,
                    operation,
                    secrets=self.secrets(),
                    retry_after_s=retry_after_seconds(response.headers.get("Retry-After")),
                )
                if (
                    isinstance(error, WixAuthError)
                    and error.status == 401
                    and on_unauthorized is not None
                    and not refreshed
                ):
                    refreshed = True
                    if on_unauthorized():
                        continue
            # `from None`: requests' own messages quote the URL, and upload URLs hold a token.
            if final is not None and (stop := final(error, earlier)) is not None:
                raise stop from None
            earlier.append(error)
            if not (retry and error.retryable) or attempt == self.retry.max_retries:
                raise error from None
            try:
                self.backoff(attempt, deadline, error)
            except WixError:
                raise error from None
            backed_off = isinstance(error, WixRateLimited)
            attempt += 1
