"""Wire cross-check: the same TUS requests against the emulator and the tus organisation's
reference server (@tus/server, started by the wix_client tests' fixture); answers must agree."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urljoin

import pytest
import requests

from tests.integration.emulator.emulator_helpers import WixCalls
from tests.integration.wix_client.wix_client_helpers import (  # the @tus/server fixture
    TusReference,
    tus_reference,  # noqa: F401
)

TUS = {"Tus-Resumable": "1.0.0"}
STREAM = {**TUS, "Content-Type": "application/offset+octet-stream"}


@dataclass
class Peer:
    name: str
    create_url: str
    metadata: str

    def create(self, length: int, **extra: str) -> requests.Response:
        headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": self.metadata, **extra}
        return requests.post(self.create_url, headers=headers, timeout=10)

    def location(self, length: int) -> str:
        r = self.create(length)
        assert r.status_code == 201, (self.name, r.status_code, r.text)
        return urljoin(self.create_url, r.headers["Location"])


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


@pytest.fixture
def peers(wix: WixCalls, tus_reference: TusReference) -> list[Peer]:  # noqa: F811
    t = wix.resumable(mimeType="video/mp4", fileName="a.mp4").json()
    emulator = Peer(
        "emulator",
        t["uploadUrl"],
        f"filename {b64('a.mp4')},contentType {b64('video/mp4')},token {b64(t['uploadToken'])}",
    )
    reference = Peer("@tus/server", tus_reference.files_url, f"filename {b64('a.mp4')}")
    return [emulator, reference]


def both(peers: list[Peer], scenario) -> list[object]:
    return [scenario(p) for p in peers]


def test_options(peers: list[Peer]) -> None:
    def scenario(p: Peer) -> object:
        r = requests.options(p.create_url, timeout=10)
        return (
            r.status_code,
            r.headers.get("Tus-Resumable"),
            "1.0.0" in r.headers["Tus-Version"],
            "creation" in r.headers["Tus-Extension"],
        )

    assert both(peers, scenario) == [(204, "1.0.0", True, True)] * 2


def test_create_head_patch(peers: list[Peer]) -> None:
    def scenario(p: Peer) -> object:
        loc = p.location(10)
        h = requests.head(loc, headers=TUS, timeout=10)
        first = requests.patch(
            loc, data=b"abcd", headers={**STREAM, "Upload-Offset": "0"}, timeout=10
        )
        rest = requests.patch(
            loc, data=b"efghij", headers={**STREAM, "Upload-Offset": "4"}, timeout=10
        )
        return (
            h.status_code,
            h.headers["Upload-Offset"],
            h.headers["Upload-Length"],
            h.headers.get("Cache-Control"),
            first.status_code,
            first.headers["Upload-Offset"],
            first.headers["Tus-Resumable"],
            rest.status_code,
            rest.headers["Upload-Offset"],
        )

    emulator, reference = both(peers, scenario)
    assert emulator == reference == (200, "0", "10", "no-store", 204, "4", "1.0.0", 204, "10")


@pytest.mark.parametrize(
    ("name", "offset", "body", "headers", "expected"),
    [
        ("wrong offset", "0", b"xy", STREAM, 409),
        ("no Tus-Resumable", "4", b"xy", {"Content-Type": "application/offset+octet-stream"}, 412),
        ("past Upload-Length", "4", b"x" * 7, STREAM, 413),
    ],
)
def test_patch_refusals_agree(peers: list[Peer], name, offset, body, headers, expected) -> None:
    def scenario(p: Peer) -> object:
        loc = p.location(10)
        requests.patch(loc, data=b"abcd", headers={**STREAM, "Upload-Offset": "0"}, timeout=10)
        r = requests.patch(loc, data=body, headers={**headers, "Upload-Offset": offset}, timeout=10)
        after = requests.head(loc, headers=TUS, timeout=10).headers["Upload-Offset"]
        return r.status_code, after

    assert both(peers, scenario) == [(expected, "4")] * 2


def test_wrong_content_type_appends_nothing(peers: list[Peer]) -> None:
    """The spec says 415; @tus/server 2.4.5 answers 400. Both must append nothing."""

    def scenario(p: Peer) -> object:
        loc = p.location(10)
        headers = {**TUS, "Content-Type": "text/plain", "Upload-Offset": "0"}
        r = requests.patch(loc, data=b"abc", headers=headers, timeout=10)
        return r.status_code, requests.head(loc, headers=TUS, timeout=10).headers["Upload-Offset"]

    emulator, reference = both(peers, scenario)
    assert emulator == (415, "0")
    assert reference[1] == "0" and 400 <= reference[0] < 500


def test_unknown_missing_length_and_delete(peers: list[Peer]) -> None:
    def scenario(p: Peer) -> object:
        unknown = requests.head(p.create_url + "/0123456789abcdef0123", headers=TUS, timeout=10)
        no_length = requests.post(
            p.create_url, headers={**TUS, "Upload-Metadata": p.metadata}, timeout=10
        )
        loc = p.location(10)
        deleted = requests.delete(loc, headers=TUS, timeout=10)
        gone = requests.head(loc, headers=TUS, timeout=10)
        return unknown.status_code, no_length.status_code, deleted.status_code, gone.status_code

    emulator, reference = both(peers, scenario)
    assert emulator == reference == (404, 400, 204, 404)
