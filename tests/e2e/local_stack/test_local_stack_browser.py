"""A real browser (Debian's Chromium, headless, driven by Playwright) loads the demo page from its
own origin, gets an upload URL from the relay (CORS), PUTs the file to the Wix emulator (CORS),
and the file arrives byte for byte."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from local_stack.sample import sample_png

from tests.fixtures.local_stack import emulator_files, function_logs

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    )
    if path is None:
        reason = "Debian's chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must have it")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def test_demo_page_uploads_a_file_through_the_relay(local_stack: Any, chromium: Any) -> None:
    assert local_stack.demo_url != local_stack.relay_url  # its own origin: CORS is exercised
    data = sample_png(48, 24)
    folder = f"/dev/browser-{uuid.uuid4().hex[:8]}"
    page = chromium.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        page.goto(f"{local_stack.demo_url}/")
        page.set_input_files(
            "#file", files=[{"name": "browser.png", "mimeType": "image/png", "buffer": data}]
        )
        page.fill("#folder", folder)
        page.click("button[type=submit]")
        page.wait_for_function(
            "['done', 'error'].includes(document.getElementById('status').dataset.state)",
            timeout=30_000,
        )
        state = page.eval_on_selector("#status", "el => el.dataset.state")
        status = page.text_content("#status")
        assert state == "done", f"{status}\nconsole: {console}\n{function_logs(local_stack)}"
        shown = page.text_content("#result") or ""
    finally:
        page.close()

    (entry,) = [
        f
        for f in emulator_files(local_stack)
        if f["folderPath"] == folder and f["displayName"] == "browser.png"
    ]
    assert entry["md5"] == hashlib.md5(data).hexdigest()
    assert entry["size"] == len(data)
    assert entry["id"] in shown  # the page shows the Wix file descriptor
