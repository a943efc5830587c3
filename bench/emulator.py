"""Talking to the Wix emulator directly: upload URLs for the copy pipeline, and its control API
(`/_emulator/`: reset, faults, files)."""

from __future__ import annotations

import time
from typing import Any

import requests

from bench.stack import WIX_API_KEY, WIX_SITE_ID, Stack

HEADERS = {"Authorization": WIX_API_KEY, "wix-site-id": WIX_SITE_ID}


def _base(stack: Stack) -> str:
    if not stack.emulator_url:
        raise RuntimeError(f"Wix emulator unavailable: {stack.emulator_error}")
    return stack.emulator_url


def upload_url(stack: Stack, name: str, size: int, mime: str = "application/octet-stream") -> str:
    response = requests.post(
        f"{_base(stack)}/site-media/v1/files/generate-upload-url",
        json={"mimeType": mime, "fileName": name, "sizeInBytes": str(size), "filePath": "/bench"},
        headers=HEADERS,
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["uploadUrl"])


def control(stack: Stack, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(
        method, f"{_base(stack)}/_emulator/{path.lstrip('/')}", json=body, timeout=30
    )
    response.raise_for_status()
    return response.json() if response.content else None


def reset(stack: Stack) -> None:
    """Forget files (and free their disk space) and faults."""
    control(stack, "POST", "reset", {})


def files(stack: Stack) -> list[dict[str, Any]]:
    answer = control(stack, "GET", "files")
    if isinstance(answer, dict):
        return list(answer.get("files", []))
    return list(answer or [])


def wait_settled(stack: Stack, timeout_s: float = 120.0) -> None:
    """Wait until no file is PENDING (an import still pulling its URL, or processing)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(f.get("operationStatus") == "PENDING" for f in files(stack)):
            return
        time.sleep(0.1)
    raise RuntimeError("emulator files still PENDING after the timeout")


def set_api_latency(stack: Stack, ms: int) -> None:
    """Persistent latency on every Wix API call (not on the upload endpoints)."""
    control(stack, "PUT", "latency", {"ms": ms, "includeUploads": False})


def requests_log(stack: Stack) -> list[dict[str, Any]]:
    """The emulator's log of recent Wix calls (endpoint, status, body bytes, ms)."""
    return list(control(stack, "GET", "requests").get("requests", []))
