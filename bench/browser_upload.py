"""`python -m bench.browser_upload [--mib 60]`: the browser library in Chromium against `curl -T`,
one run each, on a local stack of its own (free ports): the same random file

- through the demo page's TUS flow (8 MiB chunks, then finalize),
- through the library's single PUT (resumableThreshold raised above the file),
- with `curl -T` to an upload URL from the relay (the same emulator),
- through TUS again with the emulator cutting the 4th PATCH after 3 MiB: bytes re-sent
  (what the emulator received beyond the file's size; Chromium itself re-sends a PATCH that was
  cut on a reused keep-alive connection, which the emulator answers 409 and tus-js-client then
  resumes from HEAD's offset).

After one warm-up upload per flow (the relay's first request pays the function's cold start).

Prints a table; a measurement, not a test (nothing is asserted)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from local_stack.stack import start_stack

from tests.e2e.local_stack.test_local_stack_browser import CHROMIUM_ARGS, chromium_path
from tests.fixtures.local_stack import DEV_API_KEY, ephemeral_config

MIB = 1024 * 1024


def _calls(emulator: str) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = requests.get(f"{emulator}/_emulator/requests", timeout=10).json()[
        "requests"
    ]
    return log


def _in_browser(page: Any, path: Path, folder: str, extra: str = "{}") -> float:
    """Upload `path` through window.demoUpload; seconds from the start to the descriptor."""
    handle = page.evaluate_handle("document.createElement('input')")
    handle.evaluate("el => { el.type = 'file'; document.body.append(el); }")
    handle.as_element().set_input_files(str(path))
    seconds: float = page.evaluate(
        f"""async ([input, folder]) => {{
          const started = performance.now();
          const record = await window.demoUpload(input.files[0], folder, {extra});
          if (record.state !== "ready") throw new Error(JSON.stringify(record.error));
          return (performance.now() - started) / 1000;
        }}""",
        [handle, folder],
    )
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=60)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    size = args.mib * MIB
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        base = Path(tmp)
        path = base / "bench.mp4"
        path.write_bytes(os.urandom(size))
        stack = start_stack(ephemeral_config(base))
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            emulator = str(stack.emulator_url)
            page = browser.new_page()
            page.goto(f"{stack.demo_url}/")
            page.wait_for_function("typeof window.demoUpload === 'function'")
            rows: list[tuple[str, float, str]] = []
            warm = base / "warm.mp4"  # the relay's first request pays the function's cold start
            warm.write_bytes(path.read_bytes()[: MIB + 1])
            for extra in ("{resumableThreshold: 0}", "{}"):
                _in_browser(page, warm, f"/dev/bench-{uuid.uuid4().hex[:6]}", extra)

            tus_s = _in_browser(page, path, f"/dev/bench-{uuid.uuid4().hex[:6]}")
            rows.append(("Chromium, library, TUS 8 MiB chunks + finalize", tus_s, ""))
            put_s = _in_browser(
                page, path, f"/dev/bench-{uuid.uuid4().hex[:6]}", "{resumableThreshold: 1e12}"
            )
            rows.append(("Chromium, library, single XHR PUT", put_s, ""))

            answer = requests.post(
                f"{stack.relay_url}/v1/upload-url",
                headers={"x-api-key": DEV_API_KEY},
                json={"mimeType": "video/mp4", "fileName": "bench.mp4", "sizeInBytes": size},
                timeout=30,
            ).json()
            started = time.monotonic()
            curl = ["curl", "-s", "-o", "/dev/null", "-H", "content-type: video/mp4"]
            subprocess.run([*curl, "-T", str(path), answer["uploadUrl"]], check=True)
            rows.append(("curl -T (single PUT)", time.monotonic() - started, ""))

            before = len(_calls(emulator))
            for fault in (
                {"endpoint": "tus-patch", "delayMs": 1, "count": 3},
                {"endpoint": "tus-patch", "cutAfterBytes": 3 * MIB + 12345},
            ):
                requests.post(f"{emulator}/_emulator/faults", json=fault, timeout=10)
            cut_s = _in_browser(page, path, f"/dev/bench-{uuid.uuid4().hex[:6]}")
            patches = [c for c in _calls(emulator)[before:] if c["endpoint"] == "tus-patch"]
            resent = sum(c["bodyBytes"] for c in patches) - size
            note = f"re-sent {resent} B after the cut ({len(patches)} PATCHes)"
            rows.append(("Chromium, library, TUS with a cut at 27 MiB", cut_s, note))
        finally:
            browser.close()
            stack.stop()

    print(f"{args.mib} MiB random file, one run each, loopback, emulator of the local stack")
    for what, seconds, note in rows:
        print(f"  {what:<48} {seconds:6.2f} s  {size / MIB / seconds:7.1f} MiB/s  {note}")
    print(json.dumps({what: round(seconds, 3) for what, seconds, _ in rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
