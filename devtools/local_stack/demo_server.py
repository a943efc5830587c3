"""Serves the demo page (devtools/local_stack/demo/) from its own origin, plus `/config.js`
telling the page where the relay is and which development key to send."""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DEMO_DIR = Path(__file__).resolve().parent / "demo"


class _Handler(SimpleHTTPRequestHandler):
    config_js: bytes = b""

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/config.js":
            super().do_GET()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript; charset=utf-8")
        self.send_header("Content-Length", str(len(self.config_js)))
        self.end_headers()
        self.wfile.write(self.config_js)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the page's requests are not interesting."""


class DemoServer:
    def __init__(self, port: int, *, relay_url: str, api_key: str) -> None:
        settings = json.dumps({"relayUrl": relay_url, "apiKey": api_key})
        handler = type(
            "DemoHandler",
            (_Handler,),
            {"config_js": f"window.RELAY_DEMO = {settings};\n".encode()},
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
