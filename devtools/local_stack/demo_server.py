"""Serves the demo page (devtools/local_stack/demo/) from its own origin, plus `/config.js`
telling the page where the relay is and handing it a fresh dev JWT (local_stack.dev_identity),
the browser library under `/lib/` (clients/browser/src) and tus-js-client's browser build under
`/vendor/tus.min.js` (from clients/browser/node_modules: no bundler, no CDN)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from local_stack.child import REPO_ROOT

DEMO_DIR = Path(__file__).resolve().parent / "demo"
LIBRARY_DIR = REPO_ROOT / "clients" / "browser"
TUS_BROWSER_BUILD = LIBRARY_DIR / "node_modules" / "tus-js-client" / "dist" / "tus.min.js"
_MOUNTS: dict[str, Path] = {
    "/lib/index.js": LIBRARY_DIR / "src" / "index.js",
    "/vendor/tus.min.js": TUS_BROWSER_BUILD,
}


class _Handler(SimpleHTTPRequestHandler):
    settings: ClassVar[dict[str, Any]] = {}
    token: ClassVar[Callable[[], str] | None] = None

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/config.js":
            token = type(self).token
            settings = {**self.settings, "token": token() if token else None}
            self._send(f"window.RELAY_DEMO = {json.dumps(settings)};\n".encode())
        elif path in _MOUNTS:
            mounted = _MOUNTS[path]
            if not mounted.is_file():
                self.send_error(404, f"{mounted.name} is missing: run make run (npm install)")
                return
            self._send(mounted.read_bytes())
        else:
            super().do_GET()

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the page's requests are not interesting."""


class DemoServer:
    def __init__(
        self, port: int, *, relay_url: str, token: Callable[[], str] | None = None
    ) -> None:
        handler = type(
            "DemoHandler",
            (_Handler,),
            {"settings": {"relayUrl": relay_url}, "token": staticmethod(token) if token else None},
        )
        self.server = ThreadingHTTPServer(
            ("127.0.0.1", port), partial(handler, directory=str(DEMO_DIR))
        )
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="demo-page", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
