"""`make run`'s readiness wiring: the emulator's webhooks go to the relay's events route and the
API function verifies them with the emulator's key, so an upload URL's statusUrl reaches `ready`
with the file's URLs — no step beyond the browser's PUT."""

from __future__ import annotations

from typing import Any

import requests
from local_stack.sample import sample_png

from tests.fixtures.local_stack import DEV_API_KEY, function_logs, wait_for

KEY = {"x-api-key": DEV_API_KEY}


def test_an_upload_reaches_ready_through_the_emulators_event(local_stack: Any) -> None:
    png = sample_png()
    issued = requests.post(
        f"{local_stack.relay_url}/v1/upload-url",
        headers=KEY,
        json={"mimeType": "image/png", "fileName": "ready.png", "sizeInBytes": len(png)},
        timeout=30,
    )
    assert issued.status_code == 200, function_logs(local_stack)
    answer = issued.json()
    put = requests.put(
        answer["uploadUrl"], data=png, headers={"Content-Type": "image/png"}, timeout=30
    )
    assert put.status_code == 200
    file_id = put.json()["file"]["id"]

    def ready() -> dict[str, Any] | None:
        doc: dict[str, Any] = requests.get(
            f"{local_stack.relay_url}{answer['statusUrl']}", headers=KEY, timeout=30
        ).json()
        return doc if doc.get("status") == "ready" else None

    doc = wait_for(ready, "the upload to be ready", local_stack)
    assert doc["file"]["id"] == file_id
    assert doc["file"]["wixUrl"].startswith(f"wix:image://v1/{file_id}/ready.png")
    assert "WIX_EVENTS_PUBLIC_KEY" in local_stack.function_env["api"]
    # the worker too: with events on it leaves uploaded jobs to them (no readiness checks)
    assert "WIX_EVENTS_PUBLIC_KEY" in local_stack.function_env["worker"]
