"""The emulator's File Ready / File Failed deliveries, verified and decoded by the official SDK's
own parser: `createClient({modules: {files}, auth: AppStrategy({appId, publicKey})})
.webhooks.process(body)` with `files.onFileDescriptorFileReady/FileFailed` registered."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from wix_emulator import EmulatorConfig, RunningEmulator, start_emulator

from tests.integration.emulator.emulator_helpers import API, WixCalls
from tests.integration.emulator.webhook_receiver import WebhookReceiver
from tests.wix_sdk_oracle.sdk_oracle import run_oracle

READY = "wix.media.site_media.v1.file_descriptor_file_ready"
FAILED = "wix.media.site_media.v1.file_descriptor_file_failed"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000040000000308060000009b5b3d1a"
    "0000001049444154789c63f8cfc0f09f8181e13f0300150506fb3a3f4e1d000000"
    "0049454e44ae426082"
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def tus_upload(wix: WixCalls, data: bytes, name: str, mime: str) -> dict[str, Any]:
    """Generate a resumable URL, one tus creation + PATCH, then the finalize PUT."""
    target = wix.resumable(mimeType=mime, fileName=name, uploadProtocol="TUS").json()
    meta = f"filename {b64(name)},contentType {b64(mime)},token {b64(target['uploadToken'])}"
    tus = {"Tus-Resumable": "1.0.0"}
    created = requests.post(
        target["uploadUrl"],
        headers={**tus, "Upload-Length": str(len(data)), "Upload-Metadata": meta},
        timeout=10,
    )
    location = created.headers["Location"]
    patched = requests.patch(
        location,
        data=data,
        headers={**tus, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        timeout=10,
    )
    assert patched.status_code == 204, patched.text
    final = requests.put(f"{target['uploadUrl']}/{target['uploadToken']}", json={}, timeout=10)
    assert final.status_code == 200, final.text
    return dict(final.json()["file"])


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


@pytest.fixture(scope="module")
def emulator(receiver: WebhookReceiver) -> Iterator[RunningEmulator]:
    cfg = EmulatorConfig(processing_ms=20, webhook_urls=(receiver.url,), webhook_retry_ms=(50,))
    em = start_emulator(cfg, port=0)
    try:
        yield em
    finally:
        em.stop()


@pytest.fixture(scope="module")
def deliveries(emulator: RunningEmulator, receiver: WebhookReceiver) -> dict[str, Any]:
    """One file through each path that ends READY or FAILED; the bodies as they arrived."""
    wix = WixCalls(emulator)
    external = {"origin": "relay", "externalIds": ["job-1"]}
    upload_url = wix.upload_url(mimeType="image/png", fileName="a.png", externalInfo=external)
    uploaded = wix.put(upload_url, PNG, "image/png").json()["file"]
    resumable = tus_upload(wix, PNG, "b.png", "image/png")
    static = wix.wait(uploaded["id"])["url"]
    imported = wix.post(
        API + "/import",
        {"url": static, "mimeType": "image/png", "displayName": "c.png", "externalInfo": external},
    ).json()["file"]
    bulk = wix.post(
        "/site-media/v1/bulk/files/import-v2",
        {"importFileRequests": [{"url": static, "mimeType": "image/png", "displayName": "d.png"}]},
    ).json()["results"][0]["item"]
    for file in (imported, bulk):  # fetched and processed before fail-next is armed
        assert wix.wait(file["id"])["operationStatus"] == "READY"
    emulator.fail_next()
    failed_url = wix.upload_url(mimeType="image/png", fileName="e.png", externalInfo=external)
    failed = wix.put(failed_url, PNG, "image/png").json()["file"]
    bodies = receiver.wait_for(5)
    return {
        "ids": {
            "upload": uploaded["id"],
            "resumable": resumable["id"],
            "import": imported["id"],
            "bulk": bulk["id"],
            "failed": failed["id"],
        },
        "external": external,
        "bodies": [b.decode() for b in bodies],
        "headers": list(receiver.headers),
    }


def process(emulator: RunningEmulator, bodies: list[str], tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "bodies.json"
    path.write_text(json.dumps(bodies))
    key = requests.get(emulator.url + "/_emulator/webhook-public-key", timeout=10).text
    result: list[dict[str, Any]] = run_oracle(
        emulator, "webhooks", str(path), ORACLE_PUBLIC_KEY=key
    )
    return result


def test_the_sdk_accepts_every_delivery(
    emulator: RunningEmulator, deliveries: dict[str, Any], tmp_path: Path
) -> None:
    results = process(emulator, deliveries["bodies"], tmp_path)
    by_file: dict[str, dict[str, Any]] = {}
    for result in results:
        assert "ok" in result["processed"], result["processed"]
        assert result["processed"]["ok"]["instanceId"] == emulator.instance_id
        (seen,) = result["seen"]  # exactly one registered handler ran
        by_file[seen["event"]["metadata"]["entityId"]] = {
            "type": result["processed"]["ok"]["eventType"],
            **seen,
        }
    ids = deliveries["ids"]
    assert set(by_file) == set(ids.values())
    for path in ("upload", "resumable", "import", "bulk"):
        event = by_file[ids[path]]
        assert (event["type"], event["handler"]) == (READY, "ready")
        file = event["event"]["data"]["file"]  # SDK names: `_id`, media as a wix: URL
        assert file["_id"] == ids[path] and file["operationStatus"] == "READY"
        assert file["media"]["image"]["image"].startswith(f"wix:image://v1/{ids[path]}/")
    for path in ("upload", "import"):  # externalInfo echoed from the creating call
        assert by_file[ids[path]]["event"]["data"]["externalInfo"] == deliveries["external"]
    failed = by_file[ids["failed"]]
    assert (failed["type"], failed["handler"]) == (FAILED, "failed")
    assert failed["event"]["data"]["error"]["code"]
    assert failed["event"]["data"]["externalInfo"] == deliveries["external"]
    metadata = failed["event"]["metadata"]
    assert metadata["entityFqdn"] == "wix.media.site_media.v1.file_descriptor"
    assert metadata["slug"] == "file_failed" and metadata["_id"] and metadata["eventTime"]
    assert metadata["accountInfo"]["siteId"] == emulator.site_id


def test_the_sdk_refuses_a_tampered_delivery(
    emulator: RunningEmulator, deliveries: dict[str, Any], tmp_path: Path
) -> None:
    header, payload, signature = deliveries["bodies"][0].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["data"] = claims["data"].replace('"file_ready"', '"file_failed"')
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    results = process(
        emulator,
        [f"{header}.{forged}.{signature}", f"{header}.{payload}.{flipped}", "not-a-jwt"],
        tmp_path,
    )
    for result in results:
        assert "error" in result["processed"], result
        assert result["seen"] == []


def test_the_delivery_log(emulator: RunningEmulator, deliveries: dict[str, Any]) -> None:
    log = emulator.webhooks()
    assert {d["fileId"] for d in log} == set(deliveries["ids"].values())
    for entry in log:
        assert entry["state"] == "delivered" and entry["attempts"] == 1
        assert entry["lastStatus"] == 200 and entry["eventId"]
    assert len({d["eventId"] for d in log}) == len(log)
