"""Cross-check: our tus client against the tus organisation's own server (@tus/server, node).

@tus/server has no Wix finalize step, so these tests drive `tus_upload` (the tus part alone).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.wix_client.wix_client_helpers import (
    CountingFile,
    CuttingProxy,
    TusReference,
    random_file,
    sha256_of,
    tus_reference,
)
from wix_relay.config import WixSettings
from wix_relay.integrations.wix import (
    ApiKeyCredentials,
    UploadHostNotAllowed,
    WixMediaClient,
    WixNetworkError,
)

__all__ = ["tus_reference"]  # the fixture, re-exported for pytest

MIB = 1024 * 1024
CHUNK = MIB  # a multiple of 256 KiB


@pytest.fixture
def proxy(tus_reference: TusReference) -> Iterator[CuttingProxy]:
    cutter = CuttingProxy("127.0.0.1", tus_reference.port)
    yield cutter
    cutter.close()


def make_client(netloc: str, retry_budget_s: float = 10.0) -> WixMediaClient:
    settings = WixSettings(
        api_base_url="http://127.0.0.1:9",  # never called: tus uploads carry no Wix credential
        upload_hosts=(netloc,),
        connect_timeout_s=2,
        read_timeout_s=10,
        retry_budget_s=retry_budget_s,
    )
    return WixMediaClient(ApiKeyCredentials("tus-test-key", "site"), settings, backoff_base_s=0.05)


def metadata() -> dict[str, str]:
    return {"filename": "clip.bin", "contentType": "application/octet-stream", "token": "t0k"}


def stored_metadata(tus: TusReference, location: str) -> dict[str, str]:
    info = json.loads(tus.stored(location).with_suffix(".json").read_text())
    return dict(info["metadata"])


def test_upload_in_chunks_matches_source(tus_reference: TusReference, tmp_path: Path) -> None:
    size = 3 * MIB + 12345
    source = tmp_path / "source.bin"
    expected = random_file(source, size)
    opener = CountingFile(source)
    client = make_client(tus_reference.netloc)

    location = client.tus_upload(
        tus_reference.files_url, opener, size=size, metadata=metadata(), chunk_size=CHUNK
    )

    assert location.startswith(tus_reference.files_url + "/")
    assert sha256_of(tus_reference.stored(location)) == expected
    assert opener.served == size  # nothing read twice
    assert opener.opens == [0]  # one stream for all chunks
    assert stored_metadata(tus_reference, location) == metadata()


def test_resume_after_cut_connection_resends_at_most_one_chunk(
    tus_reference: TusReference, proxy: CuttingProxy, tmp_path: Path
) -> None:
    size = 6 * MIB + 777
    source = tmp_path / "source.bin"
    expected = random_file(source, size)
    opener = CountingFile(source)
    client = make_client(proxy.netloc)
    proxy.arm(int(2.5 * MIB))  # in the middle of the third chunk

    location = client.tus_upload(
        f"http://{proxy.netloc}/files", opener, size=size, metadata=metadata(), chunk_size=CHUNK
    )

    assert proxy.cuts == 1
    assert sha256_of(tus_reference.stored(location)) == expected
    assert len(opener.opens) == 2 and opener.opens[0] == 0
    assert 2 * MIB <= opener.opens[1] <= 3 * MIB  # resumed from the server's offset, not from 0
    assert size < opener.served <= size + CHUNK


def test_resume_later_from_a_stored_location(
    tus_reference: TusReference, proxy: CuttingProxy, tmp_path: Path
) -> None:
    """A run that gives up (no retry budget) can be finished later by passing its location."""
    size = 4 * MIB
    source = tmp_path / "source.bin"
    expected = random_file(source, size)
    client = make_client(proxy.netloc, retry_budget_s=0)
    proxy.arm(int(1.5 * MIB))
    with pytest.raises(WixNetworkError) as failure:
        client.tus_upload(
            f"http://{proxy.netloc}/files",
            CountingFile(source),
            size=size,
            metadata={**metadata(), "filename": "resume-later.bin"},
            chunk_size=CHUNK,
        )
    assert failure.value.retryable
    infos = [json.loads(p.read_text()) for p in tus_reference.store.glob("*.json")]
    partial = [i["id"] for i in infos if i["metadata"]["filename"] == "resume-later.bin"]
    assert len(partial) == 1
    assert (tus_reference.store / partial[0]).stat().st_size < size  # cut: incomplete
    relative_location = f"/files/{partial[0]}"  # resolved against the create URL

    opener = CountingFile(source)
    location = make_client(tus_reference.netloc).tus_upload(
        tus_reference.files_url,
        opener,
        size=size,
        metadata={**metadata(), "filename": "resume-later.bin"},
        chunk_size=CHUNK,
        location=relative_location,
    )
    assert sha256_of(tus_reference.stored(location)) == expected
    assert opener.opens[0] > 0  # the server's offset (HEAD), not the start
    assert opener.served == size - opener.opens[0]


def test_metadata_is_base64_per_tus(tus_reference: TusReference, tmp_path: Path) -> None:
    source = tmp_path / "tiny.txt"
    source.write_bytes(b"hello")
    meta = {"filename": "naïve name, with comma.txt", "contentType": "text/plain", "token": "x"}
    location = make_client(tus_reference.netloc).tus_upload(
        tus_reference.files_url, CountingFile(source), size=5, metadata=meta, chunk_size=CHUNK
    )
    assert stored_metadata(tus_reference, location) == meta
    assert tus_reference.stored(location).read_bytes() == b"hello"


def test_upload_host_outside_allow_list_sends_nothing(
    tus_reference: TusReference, proxy: CuttingProxy, tmp_path: Path
) -> None:
    source = tmp_path / "s.bin"
    random_file(source, 1024)
    opener = CountingFile(source)
    client = make_client("upload.wixmp.com")  # the tus server's host is not allowed
    with pytest.raises(UploadHostNotAllowed):
        client.tus_upload(
            f"http://{proxy.netloc}/files", opener, size=1024, metadata=metadata(), chunk_size=CHUNK
        )
    assert proxy.upstream_bytes == 0
    assert opener.served == 0
