"""The dev key's partner callback receiver under `make run`: a loopback HTTP server standing in
for a partner's webhook endpoint. Every POST is verified with the `standardwebhooks` package (the
third-party verifier, not the relay's own code) against the dev callback secret, logged, kept.

    POST /hooks/...                       a callback: 204 when it verifies, else 400 (the relay
                                          retries it, then dead-letters it)
    GET  /deliveries[?subject=<id>][&waitSeconds=N]
        {"deliveries": [{"webhookId", "type", "verified", "path", "subject", "status",
                         "receivedAt", "data" | "error"}]}
        `subject`: only callbacks about that upload or import id; `waitSeconds` (at most 30):
        hold the answer until there is one.

The secret is made at start and lives only in this process and the dev caller registry.
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from standardwebhooks import Webhook, WebhookVerificationError

HOOKS_PATH = "/hooks/"
MAX_BODY_BYTES = 1024 * 1024
MAX_WAIT_S = 30.0


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class WebhookReceiver:
    def __init__(
        self, host: str, port: int = 0, *, log: Callable[[str], None] | None = None
    ) -> None:
        self.secret = new_secret()
        self.deliveries: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if not self.path.startswith(HOOKS_PATH) or length > MAX_BODY_BYTES:
                    self._answer(404 if length <= MAX_BODY_BYTES else 413, b"")
                    return
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = receiver.receive(self.path, headers, body)
                self._answer(204 if verified else 400, b"")

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/deliveries":
                    self._answer(404, b"")
                    return
                query = parse_qs(parts.query)
                subject = (query.get("subject") or [None])[0]
                try:
                    wait_s = min(MAX_WAIT_S, max(0.0, float((query.get("waitSeconds") or [0])[0])))
                except ValueError:
                    wait_s = 0.0
                found = receiver.wait_for(subject, wait_s)
                self._answer(200, json.dumps({"deliveries": found}).encode(), "application/json")

            def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """What the dev caller registry names as the callback (and the `callbackUrls` prefix)."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{HOOKS_PATH}"

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def receive(self, path: str, headers: dict[str, str], body: bytes) -> bool:
        """Verify one delivery with `standardwebhooks`, keep and log it; True when it verified."""
        entry: dict[str, Any] = {
            "webhookId": headers.get("webhook-id"),
            "path": path,
            "receivedAt": time.time(),
        }
        try:
            event = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            entry.update(verified=False, error=str(exc))
            self._log(f"[receiver] REFUSED {entry['webhookId']}: {exc}")
        else:
            data = event.get("data") if isinstance(event, dict) else None
            data = data if isinstance(data, dict) else {}
            entry.update(
                verified=True,
                type=event.get("type"),
                subject=data.get("id"),
                status=data.get("status"),
                data=data,
            )
            self._log(
                f"[receiver] verified {entry['type']} {entry['subject']} "
                f"webhook-id {entry['webhookId']}"
            )
        with self._changed:
            self.deliveries.append(entry)
            self._changed.notify_all()
        return bool(entry["verified"])

    def wait_for(self, subject: str | None, wait_s: float) -> list[dict[str, Any]]:
        """The deliveries (about `subject`), waiting up to `wait_s` for the first one."""
        deadline = time.monotonic() + wait_s
        with self._changed:
            while True:
                found = [d for d in self.deliveries if subject in (None, d.get("subject"))]
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return [dict(d) for d in found]
                self._changed.wait(remaining)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
