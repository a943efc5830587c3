"""Start the emulator in-process (tests, local stack) and drive its control API over HTTP."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import api, control, uploads  # noqa: F401  (register the routes)
from .config import EmulatorConfig
from .server import EmulatorServer
from .state import Store


@dataclass
class RunningEmulator:
    """A started emulator. `url` is both the API base (WIX_API_BASE_URL) and the upload base."""

    config: EmulatorConfig
    server: EmulatorServer = field(repr=False)
    thread: threading.Thread = field(repr=False)
    data_dir: Path
    owns_data_dir: bool = False

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def upload_host(self) -> str:
        """The value for WIX_UPLOAD_HOSTS."""
        return f"{self.config.host}:{self.port}"

    # credentials it accepts
    @property
    def api_key(self) -> str:
        return self.config.api_key

    @property
    def site_id(self) -> str:
        return self.config.site_id

    @property
    def app_id(self) -> str:
        return self.config.app_id

    @property
    def app_secret(self) -> str:
        return self.config.app_secret

    @property
    def instance_id(self) -> str:
        return self.config.instance_id

    def api_key_headers(self) -> dict[str, str]:
        """[doc] Authorization: <key> (no Bearer) + wix-site-id."""
        return {"Authorization": self.api_key, "wix-site-id": self.site_id}

    def credentials_document(self, kind: str = "apiKey") -> dict[str, str]:
        """The Wix credential secret's JSON (docs/architecture.md) for this emulator."""
        if kind == "apiKey":
            return {"apiKey": self.api_key, "siteId": self.site_id}
        return {"appId": self.app_id, "appSecret": self.app_secret, "instanceId": self.instance_id}

    # --- control API (over HTTP, like any other client) ---------------------------------
    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_emulator/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def add_fault(
        self,
        endpoint: str,
        *,
        count: int = 1,
        status: int | None = None,
        retry_after: int | float | str | None = None,
        delay_ms: int = 0,
        cut_after_bytes: int | None = None,
        body: str | None = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """Answer the next `count` calls of `endpoint` ('*' = any) with a status, after a
        delay, or by cutting the connection after `cut_after_bytes` bytes of the body."""
        spec: dict[str, Any] = {"endpoint": endpoint, "count": count, "delayMs": delay_ms}
        for key, value in (
            ("status", status),
            ("retryAfter", retry_after),
            ("cutAfterBytes", cut_after_bytes),
            ("body", body),
            ("contentType", content_type),
        ):
            if value is not None:
                spec[key] = value
        result: dict[str, Any] = self.control("POST", "faults", spec)
        return result

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", "faults")
        return result

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def set_latency(self, ms: int, *, include_uploads: bool = False) -> None:
        self.control("PUT", "latency", {"ms": ms, "includeUploads": include_uploads})

    def fail_next(self, count: int = 1) -> None:
        self.control("POST", "fail-next", {"count": count})

    def advance_clock(self, seconds: float) -> None:
        self.control("POST", "clock", {"advanceSeconds": seconds})

    def files(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.control("GET", "files")["files"]
        return result

    def requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.control("GET", "requests")["requests"]
        return result

    def reset(self, *, tokens: bool = False) -> None:
        self.control("POST", "reset", {"tokens": tokens})

    # --- webhooks ---------------------------------------------------------------------------
    @property
    def webhook_public_key(self) -> str:
        """PEM of the key that verifies File Ready / File Failed deliveries."""
        return self.server.webhooks.public_pem

    def webhooks(self) -> list[dict[str, Any]]:
        """The delivery log (GET /_emulator/webhooks)."""
        result: list[dict[str, Any]] = self.control("GET", "webhooks")["deliveries"]
        return result

    def set_webhook_urls(self, *urls: str) -> None:
        self.control("PUT", "webhooks/urls", {"urls": list(urls)})

    def webhook_switch(
        self, action: str, *, count: int = 1, delay_ms: int = 0, hold_ms: int = 10000
    ) -> None:
        """duplicate | delay | reorder | drop the next `count` events."""
        spec = {"action": action, "count": count, "delayMs": delay_ms, "holdMs": hold_ms}
        self.control("POST", "webhooks/faults", spec)

    def stop(self) -> None:
        self.server.webhooks.stop()
        self.server.shutdown()
        self.server.close_connections()
        self.server.server_close()
        self.thread.join(timeout=5)
        if self.owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(config: EmulatorConfig | None = None, port: int = 0) -> RunningEmulator:
    """Bind (port 0 = a free port; else `port`, else config.port when port is None) and serve
    in a background thread."""
    cfg = config or EmulatorConfig()
    owns = cfg.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="wix-emulator-")) if owns else Path(cfg.data_dir or "")
    store = Store(cfg, data_dir)
    server = EmulatorServer(cfg, store, port)
    running = RunningEmulator(cfg, server, threading.Thread(), data_dir, owns)
    store.base_url = running.url
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="wix-emulator", daemon=True
    )
    running.thread = thread
    thread.start()
    server.webhooks.start()
    return running
