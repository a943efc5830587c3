"""A real browser (Debian's Chromium, headless, driven by Playwright) uses the demo page, which
runs on the browser library (clients/browser): from its own origin it gets upload URLs from the
relay with a dev JWT (CORS), sends the bytes to the Wix emulator (one PUT, or TUS + finalize),
and the files arrive byte for byte — also across a connection the emulator cuts mid-upload."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
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
MIB = 1024 * 1024
CHUNK = 8 * MIB  # the library's default chunk size
DONE = "['ready', 'error'].includes(document.querySelector({row!r})?.dataset.state)"


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


@pytest.fixture
def emulator(local_stack: Any) -> Iterator[str]:
    """The emulator's control API; faults and latency are cleared after the test."""
    url: str = local_stack.emulator_url
    yield url
    requests.delete(f"{url}/_emulator/faults", timeout=10).raise_for_status()


@pytest.fixture
def page(local_stack: Any, chromium: Any) -> Iterator[Any]:
    context = chromium.new_context()
    page = context.new_page()
    page.console_messages = []  # type: ignore[attr-defined]
    page.on("console", lambda message: page.console_messages.append(message.text))
    page.goto(f"{local_stack.demo_url}/")
    page.wait_for_function("typeof window.demoUpload === 'function'")
    try:
        yield page
    finally:
        context.close()


def _folder() -> str:
    return f"/dev/browser-{uuid.uuid4().hex[:8]}"


def _upload_by_picking(page: Any, local_stack: Any, folder: str, **file: Any) -> dict[str, Any]:
    """Pick one file in the page; wait for its row to end; return the page's record of it."""
    page.fill("#folder", folder)
    page.set_input_files("#files", files=file.pop("path", None) or [file])
    name = file.get("name") or "?"
    row = f".upload[data-name={name!r}]"
    page.wait_for_function(DONE.format(row=row) if "name" in file else "true", timeout=120_000)
    return _record(page, local_stack)


def _record(page: Any, local_stack: Any, index: int = -1) -> dict[str, Any]:
    record: dict[str, Any] = page.evaluate(
        f"(() => {{ const r = window.demoUploads.at({index}); "
        "return {...r, controller: undefined}; })()"
    )
    assert record, f"console: {page.console_messages}\n{function_logs(local_stack)}"
    return record


def _arrived(local_stack: Any, folder: str, name: str) -> list[dict[str, Any]]:
    return [
        f
        for f in emulator_files(local_stack)
        if f["folderPath"] == folder and f["displayName"] == name
    ]


def _requests(emulator: str) -> list[dict[str, Any]]:
    response = requests.get(f"{emulator}/_emulator/requests", timeout=10)
    response.raise_for_status()
    log: list[dict[str, Any]] = response.json()["requests"]
    return log


def _fault(emulator: str, **spec: Any) -> None:
    requests.post(f"{emulator}/_emulator/faults", json=spec, timeout=10).raise_for_status()


def _check_progress(record: dict[str, Any], size: int) -> None:
    progress = record["progress"]
    assert progress, "no progress events"
    assert progress == sorted(progress), "progress went backwards"
    assert progress[-1] == size  # 100 %


def test_a_small_image_goes_in_one_put_with_a_bearer_token(local_stack: Any, page: Any) -> None:
    assert local_stack.demo_url != local_stack.relay_url  # its own origin: CORS is exercised
    data = sample_png(48, 24)
    folder = _folder()
    sent: list[dict[str, str]] = []
    page.on(
        "request",
        lambda r: sent.append(r.headers) if r.url.endswith("/v1/upload-url") else None,
    )
    record = _upload_by_picking(
        page, local_stack, folder, name="browser.png", mimeType="image/png", buffer=data
    )
    assert record["state"] == "ready", f"{record}\n{function_logs(local_stack)}"
    assert record["flow"] == "single"
    _check_progress(record, len(data))
    (entry,) = _arrived(local_stack, folder, "browser.png")
    assert entry["md5"] == hashlib.md5(data).hexdigest()
    assert record["file"]["id"] == entry["id"]
    assert any(h.get("authorization", "").startswith("Bearer ") for h in sent)
    assert not any("x-api-key" in h for h in sent)
    shown = page.get_attribute(".upload[data-name='browser.png'] .url", "href")
    assert shown == record["file"]["url"]
    assert page.get_attribute(".upload[data-name='browser.png'] .preview", "src") == shown


def test_a_60_mib_file_resumes_over_tus_after_a_cut(
    local_stack: Any, page: Any, emulator: str, tmp_path: Path
) -> None:
    data = os.urandom(60 * MIB)
    path = tmp_path / "big.mp4"
    path.write_bytes(data)
    folder = _folder()
    before = len(_requests(emulator))
    _fault(emulator, endpoint="tus-patch", delayMs=1, count=3)  # three chunks go through,
    _fault(emulator, endpoint="tus-patch", cutAfterBytes=3 * MIB + 12345)  # the 4th is cut
    page.fill("#folder", folder)
    page.set_input_files("#files", files=[str(path)])
    page.wait_for_function(DONE.format(row=".upload[data-name='big.mp4']"), timeout=180_000)
    record = _record(page, local_stack)
    assert record["state"] == "ready", f"{record}\n{function_logs(local_stack)}"
    assert record["flow"] == "resumable"
    _check_progress(record, len(data))

    (entry,) = _arrived(local_stack, folder, "big.mp4")
    assert entry["md5"] == hashlib.md5(data).hexdigest()
    assert entry["size"] == len(data)
    calls = _requests(emulator)[before:]
    patches = [c for c in calls if c["endpoint"] == "tus-patch"]
    assert any(c["status"] is None for c in patches), "the connection was not cut"
    assert [c["endpoint"] for c in calls].count("tus-create") == 1  # resumed, not restarted
    resent = sum(c["bodyBytes"] for c in patches) - len(data)
    assert 0 <= resent <= CHUNK
    assert [c["endpoint"] for c in calls].count("finalize") == 1


def test_cancel_terminates_the_upload_and_leaves_no_file(
    local_stack: Any, page: Any, emulator: str
) -> None:
    folder = _folder()
    requests.put(
        f"{emulator}/_emulator/latency", json={"ms": 300, "includeUploads": True}, timeout=10
    ).raise_for_status()
    before = len(_requests(emulator))
    record = page.evaluate(
        """async (folder) => {
          const bytes = new Uint8Array(12 * 1024 * 1024);
          const file = new File([bytes], "cancel.mp4", {type: "video/mp4"});
          const pending = window.demoUpload(file, folder, {chunkSize: 1024 * 1024});
          const record = window.demoUploads.at(-1);
          while (!record.progress.some((n) => n > 0)) await new Promise((r) => setTimeout(r, 20));
          record.controller.abort();
          await pending;
          return {...record, controller: undefined};
        }""",
        folder,
    )
    assert record["state"] == "error"
    assert record["error"]["code"] == "ABORTED"
    assert page.get_attribute(".upload[data-name='cancel.mp4']", "data-code") == "ABORTED"
    assert 0 < record["progress"][-1] < 12 * MIB
    endpoints = [c["endpoint"] for c in _requests(emulator)[before:]]
    assert "tus-delete" in endpoints  # tus-js-client terminated the upload
    assert "finalize" not in endpoints
    assert not _arrived(local_stack, folder, "cancel.mp4")


def test_a_policy_refusal_is_shown_with_its_code(local_stack: Any, page: Any) -> None:
    record = _upload_by_picking(
        page,
        local_stack,
        "/not-a-dev-folder",
        name="refused.png",
        mimeType="image/png",
        buffer=sample_png(8, 8),
    )
    assert record["state"] == "error"
    assert record["error"]["code"] == "FOLDER_NOT_ALLOWED"
    assert record["error"]["status"] == 403
    assert record["error"]["requestId"]
    row = ".upload[data-name='refused.png']"
    assert page.get_attribute(row, "data-code") == "FOLDER_NOT_ALLOWED"
    assert "FOLDER_NOT_ALLOWED" in (page.text_content(f"{row} .status") or "")


def test_a_type_wix_refuses_falls_back_to_octet_stream(local_stack: Any, page: Any) -> None:
    data = sample_png(16, 16)  # PNG bytes declared as JPEG: Wix refuses the PUT
    folder = _folder()
    record = _upload_by_picking(
        page, local_stack, folder, name="mislabelled.jpg", mimeType="image/jpeg", buffer=data
    )
    assert record["state"] == "ready", f"{record}\n{function_logs(local_stack)}"
    (entry,) = _arrived(local_stack, folder, "mislabelled.jpg")
    assert entry["md5"] == hashlib.md5(data).hexdigest()


# The same 12 MiB on both page loads (the pattern repeats every MiB, so Python rebuilds it fast).
_SAME_FILE = """(name) => {
  const bytes = new Uint8Array(12 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 12)) & 255;
  return new File([bytes], name, {type: "video/mp4", lastModified: 1700000000000});
}"""


def test_a_page_reload_resumes_the_stored_tus_upload(
    local_stack: Any, page: Any, emulator: str
) -> None:
    folder = _folder()
    requests.put(
        f"{emulator}/_emulator/latency", json={"ms": 150, "includeUploads": True}, timeout=10
    ).raise_for_status()
    before = len(_requests(emulator))
    page.evaluate(
        f"""async (folder) => {{
          const file = ({_SAME_FILE})("reload.mp4");
          window.demoUpload(file, folder, {{chunkSize: 1024 * 1024}});
          const record = window.demoUploads.at(-1);
          while (!record.progress.some((n) => n >= 3 * 1024 * 1024))
            await new Promise((r) => setTimeout(r, 20));
        }}""",
        folder,
    )
    page.reload()  # the page, its upload and its XHR are gone; localStorage stays
    page.wait_for_function("typeof window.demoUpload === 'function'")
    requests.delete(f"{emulator}/_emulator/faults", timeout=10).raise_for_status()
    record = page.evaluate(
        f"""async (folder) => {{
          const file = ({_SAME_FILE})("reload.mp4");
          const record = await window.demoUpload(file, folder, {{chunkSize: 1024 * 1024}});
          return {{...record, controller: undefined}};
        }}""",
        folder,
    )
    data = bytes((i * 7 + (i >> 12)) & 255 for i in range(MIB)) * 12
    assert record["state"] == "ready", f"{record}\n{function_logs(local_stack)}"
    assert record["progress"][0] >= 3 * MIB  # it went on from where the first page stopped
    (entry,) = _arrived(local_stack, folder, "reload.mp4")
    assert entry["md5"] == hashlib.md5(bytes(data)).hexdigest()
    calls = _requests(emulator)[before:]
    endpoints = [c["endpoint"] for c in calls]
    assert endpoints.count("generate-resumable-upload-url") == 1  # the stored session was used
    assert endpoints.count("tus-create") == 1
    resent = sum(c["bodyBytes"] for c in calls if c["endpoint"] == "tus-patch") - len(data)
    assert 0 <= resent <= MIB
    assert page.evaluate("Object.keys(localStorage).length") == 0  # nothing left to resume
