"""Fault injection and the rest of the control API, over HTTP."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
import time
from urllib.parse import urljoin

import pytest
import requests
from wix_emulator import RunningEmulator

from tests.integration.emulator.emulator_helpers import API, WixCalls, app_error


@pytest.mark.parametrize("retry_after", [2, None], ids=["Retry-After", "no Retry-After"])
def test_429_for_the_next_call_only(
    wix: WixCalls, wix_emulator: RunningEmulator, retry_after
) -> None:
    wix_emulator.add_fault("generate-upload-url", status=429, retry_after=retry_after)
    r = wix.generate(mimeType="image/png")
    assert r.status_code == 429
    assert r.headers.get("Retry-After") == (str(retry_after) if retry_after else None)
    assert app_error(r)["code"] == "RESOURCE_EXHAUSTED"
    assert r.headers["x-wix-request-id"]
    assert wix.generate(mimeType="image/png").status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_bodies_are_empty(wix: WixCalls, wix_emulator: RunningEmulator, status: int) -> None:
    wix_emulator.add_fault("get-file", status=status, count=2)
    for _ in range(2):
        r = wix.file("anything")
        assert r.status_code == status
        assert r.content == b""
        assert r.headers["x-wix-request-id"]
    assert wix.file("anything").status_code == 400  # the fault is used up: RESOURCE_NOT_FOUND


def test_star_matches_every_wix_endpoint_but_not_control(
    wix: WixCalls, wix_emulator: RunningEmulator
) -> None:
    wix_emulator.add_fault("*", status=503, count=2)
    assert wix_emulator.files() == []  # control calls are never faulted
    assert wix.generate(mimeType="image/png").status_code == 503
    oauth = requests.post(wix.url + "/oauth2/token", json={}, timeout=10)
    assert oauth.status_code == 503
    assert wix.generate(mimeType="image/png").status_code == 200


def test_fault_on_the_upload_put_keeps_the_token(
    wix: WixCalls, wix_emulator: RunningEmulator
) -> None:
    url = wix.upload_url(mimeType="image/png")
    wix_emulator.add_fault("upload", status=503)
    assert wix.put(url, os.urandom(2 * 1024 * 1024), "image/png").status_code == 503
    assert wix.put(url, b"png", "image/png").status_code == 200


def test_delay(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    wix_emulator.add_fault("generate-upload-url", delay_ms=3000)
    with pytest.raises(requests.Timeout):
        requests.post(
            wix.url + API + "/generate-upload-url",
            json={"mimeType": "image/png"},
            headers=wix.headers,
            timeout=0.5,
        )


def test_delay_then_status(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    wix_emulator.add_fault("import", delay_ms=50, status=500)
    assert wix.post(API + "/import", {"url": "http://127.0.0.1:9/a.jpg"}).status_code == 500


def test_persistent_latency(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    url = wix.upload_url(mimeType="image/png")
    wix_emulator.set_latency(3000)
    with pytest.raises(requests.Timeout):
        wix.get(API + "?paging.limit=1", timeout=0.5)
    # Uploads are not delayed unless asked.
    assert requests.put(url, data=b"x", timeout=2).status_code == 200
    wix_emulator.set_latency(3000, include_uploads=True)
    with pytest.raises(requests.Timeout):
        requests.put(wix.url + "/upload/x", data=b"x", timeout=0.5)
    assert wix_emulator.faults()["latencyMs"] == 3000
    wix_emulator.set_latency(0)
    assert wix.get(API + "?paging.limit=1").status_code == 200


def test_cut_during_upload_keeps_nothing(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    url = wix.upload_url(mimeType="video/mp4")
    wix_emulator.add_fault("upload", cut_after_bytes=100_000)
    with pytest.raises(requests.ConnectionError):
        wix.put(url, os.urandom(3 * 1024 * 1024), "video/mp4")
    assert wix_emulator.files() == []
    [entry] = [r for r in wix_emulator.requests() if r["endpoint"] == "upload"]
    assert entry["bodyBytes"] == 100_000
    assert entry["status"] is None  # no answer was sent
    assert wix.put(url, b"\0\0\0\x18ftypmp42", "video/mp4").status_code == 200  # token intact


def test_cut_during_tus_patch_keeps_the_bytes(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    t = wix.resumable(mimeType="video/mp4", fileName="a.mp4").json()
    meta = "token " + base64.b64encode(t["uploadToken"].encode()).decode()
    data = os.urandom(1_000_000)
    tus = {"Tus-Resumable": "1.0.0"}
    created = requests.post(
        t["uploadUrl"],
        headers={**tus, "Upload-Length": str(len(data)), "Upload-Metadata": meta},
        timeout=10,
    )
    loc = urljoin(t["uploadUrl"], created.headers["Location"])
    wix_emulator.add_fault("tus-patch", cut_after_bytes=300_000)
    patch = {**tus, "Content-Type": "application/offset+octet-stream"}
    with pytest.raises(requests.ConnectionError):
        requests.patch(loc, data=data, headers={**patch, "Upload-Offset": "0"}, timeout=10)
    offset = int(requests.head(loc, headers=tus, timeout=10).headers["Upload-Offset"])
    assert offset == 300_000
    rest = requests.patch(
        loc, data=data[offset:], headers={**patch, "Upload-Offset": str(offset)}, timeout=10
    )
    assert rest.status_code == 204
    done = requests.put(f"{t['uploadUrl']}/{t['uploadToken']}", json={}, timeout=10)
    assert done.json()["file"]["hash"] == hashlib.md5(data).hexdigest()


def test_cut_on_a_json_endpoint(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    wix_emulator.add_fault("generate-upload-url", cut_after_bytes=0)
    with pytest.raises(requests.ConnectionError):
        wix.generate(mimeType="image/png")
    assert wix.generate(mimeType="image/png").status_code == 200


def test_html_403_like_a_gateway(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    """[doc] visitor/member identities get 403, sometimes with an HTML body."""
    wix_emulator.add_fault("get-files", status=403, body="<html><body>Forbidden</body></html>")
    r = wix.post(API + "/get-files", {"fileIds": ["a"]})
    assert r.status_code == 403
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.text.startswith("<html>")


@pytest.mark.parametrize(
    "spec",
    [
        {"endpoint": "nope", "status": 500},
        {"endpoint": "upload"},
        {"endpoint": "upload", "status": 700},
        {"endpoint": "upload", "status": 500, "cutAfterBytes": 5},
        {"endpoint": "upload", "status": 500, "count": 0},
        {"endpoint": "upload", "delayMs": -1},
    ],
)
def test_fault_spec_validation(wix_emulator: RunningEmulator, spec) -> None:
    r = requests.post(wix_emulator.url + "/_emulator/faults", json=spec, timeout=10)
    assert r.status_code == 400, r.text


def test_fault_listing_clear_and_reset(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    fault = wix_emulator.add_fault("finalize", status=500, count=3)
    assert fault["remaining"] == 3
    assert [f["endpoint"] for f in wix_emulator.faults()["faults"]] == ["finalize"]
    wix_emulator.clear_faults()
    assert wix_emulator.faults()["faults"] == []
    wix_emulator.add_fault("upload", status=500)
    wix_emulator.set_latency(10)
    wix_emulator.fail_next(2)
    wix.put(wix.upload_url(mimeType="image/png"), b"x", "image/png")  # faulted
    wix_emulator.reset()
    state = wix_emulator.faults()
    assert state == {"faults": [], "latencyMs": 0, "latencyIncludesUploads": False, "failNext": 0}
    assert wix_emulator.requests() == []
    url = wix.upload_url(mimeType="image/png")
    assert wix.put(url, b"x", "image/png").status_code == 200
    assert len(wix_emulator.files()) == 1
    wix_emulator.reset()
    assert wix_emulator.files() == []


def test_a_call_still_waiting_at_a_reset_is_cut_and_forgotten(
    wix: WixCalls, wix_emulator: RunningEmulator
) -> None:
    """A call held by an injected delay when the test that made it ends must not show up in the
    next test's request log or state (the session emulator is shared)."""
    wix_emulator.add_fault("generate-upload-url", delay_ms=1500)
    outcome: list[object] = []

    def late_call() -> None:
        try:
            outcome.append(wix.generate(mimeType="image/png").status_code)
        except requests.ConnectionError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=late_call)
    caller.start()
    deadline = time.monotonic() + 5
    while wix_emulator.faults()["faults"] and time.monotonic() < deadline:
        time.sleep(0.02)  # the fault was taken: the call is inside its delay
    wix_emulator.reset()
    caller.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], requests.ConnectionError)
    assert wix_emulator.requests() == []
    assert wix.generate(mimeType="image/png").status_code == 200  # a new call is served
    assert [r["status"] for r in wix_emulator.requests()] == [200]


def test_request_log_and_request_ids(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    ids = set()
    for r in (
        wix.generate(mimeType="image/png"),
        wix.file("missing"),
        requests.get(wix.url + "/no/such/route", timeout=10),
        requests.get(wix.url + "/_emulator/health", timeout=10),
    ):
        ids.add(r.headers["x-wix-request-id"])
    assert len(ids) == 4
    log = wix_emulator.requests()
    assert [(e["endpoint"], e["status"], e["auth"]) for e in log] == [
        ("generate-upload-url", 200, "apiKey"),
        ("get-file", 400, "apiKey"),
        ("unknown", 404, None),
    ]


def test_clock_moves_processing_along(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    file = wix.put(wix.upload_url(mimeType="image/png"), b"x", "image/png").json()["file"]
    assert file["operationStatus"] == "PENDING"
    wix_emulator.advance_clock(1)
    assert wix.file(file["id"]).json()["file"]["operationStatus"] == "READY"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"BREW /x HTTP/1.1\r\nHost: x\r\n\r\n", "501"),
        (b"PUT /upload/abc HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n", "400"),
    ],
    ids=["unknown method", "bad Content-Length"],
)
def test_request_id_even_on_malformed_requests(wix_emulator: RunningEmulator, raw, status) -> None:
    with socket.create_connection(("127.0.0.1", wix_emulator.port), timeout=5) as sock:
        sock.sendall(raw)
        head = sock.recv(65536).decode("latin-1").split("\r\n\r\n")[0].lower()
    assert head.startswith(f"http/1.1 {status}")
    assert "\r\nx-wix-request-id: " in head


def test_a_call_is_logged_before_its_answer(wix: WixCalls, wix_emulator: RunningEmulator) -> None:
    for _ in range(20):
        r = wix.generate(mimeType="image/png")
        assert wix_emulator.requests()[-1]["requestId"] == r.headers["x-wix-request-id"]
