"""The object's GET started while the job is claimed (`services.transfer.prefetching`): one GET
per relayed object in the common case, a fresh one whenever the prefetched body does not fit,
and an unused one always closed (in-memory ports; the transfer over moto and the emulator is in
tests/e2e/worker)."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from wix_relay.config import TransferSettings
from wix_relay.domain.errors import SourceNotFound
from wix_relay.domain.jobs import Job, ObjectInfo, ObjectRef
from wix_relay.domain.triggers import ObjectCreated
from wix_relay.services.relay import Relay
from wix_relay.services.transfer import Ports, PrefetchedSource, prefetching

from .test_worker_job_writes import DATA, OPTIONS, REF, AnyMode, Jobs, Presigning


class Body(io.BytesIO):
    """A GET body that remembers whether it was closed."""


class CountingSource(Presigning):
    """Records every GET (offset, the thread that made it) and every body it handed out."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.gets: list[tuple[int, str]] = []
        self.bodies: list[Body] = []
        self.fail = fail

    def open(self, ref: ObjectRef, offset: int = 0) -> Body:
        self.gets.append((offset, threading.current_thread().name))
        if self.fail is not None:
            raise self.fail
        body = Body(DATA[offset:])
        self.bodies.append(body)
        return body


def relay_on(source: CountingSource, mode: str) -> tuple[Relay, AnyMode, Jobs]:
    jobs, media = Jobs(), AnyMode()
    settings = TransferSettings(default_mode=mode)  # type: ignore[arg-type]
    relay = Relay(Ports(source, media, jobs), OPTIONS, settings, pool=ThreadPoolExecutor(1))
    return relay, media, jobs


@pytest.mark.parametrize("mode", ["upload", "resumable"])
def test_a_relayed_object_is_read_by_the_one_prefetched_get(mode: str) -> None:
    source = CountingSource()
    relay, media, _ = relay_on(source, mode)
    result = relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    assert result is not None and result["status"] == "uploaded"
    assert media.received == DATA
    assert source.gets == [(0, "s3-prefetch")]  # started before the claim, used by the upload


def test_import_mode_starts_no_get() -> None:
    source = CountingSource()
    relay, _, _ = relay_on(source, "import")
    relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    assert source.gets == []


def test_a_duplicate_delivery_closes_its_unused_get() -> None:
    source = CountingSource()
    relay, media, jobs = relay_on(source, "upload")
    relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    before = list(jobs.saved)
    relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)  # finished
    assert jobs.saved == before  # nothing sent, nothing written
    assert len(source.gets) == 2
    assert source.bodies[1].closed and media.received == DATA


def test_the_prefetched_body_serves_only_its_version_at_offset_zero_once() -> None:
    source = CountingSource()
    ref = replace(REF, version_id="v1")
    prefetched = PrefetchedSource(source, ref)
    assert prefetched.open(ref, 5).read() == DATA[5:]  # a resumed chunk: a GET of its own
    first = prefetched.open(ref)
    assert first is source.bodies[0] and first.read() == DATA
    assert prefetched.open(ref).read() == DATA  # a re-send: a fresh GET
    assert prefetched.open(replace(ref, version_id="v2")).read() == DATA  # another version
    assert [offset for offset, _ in source.gets] == [0, 5, 0, 0]
    prefetched.close()
    assert not any(body.closed for body in source.bodies)  # the used ones are the caller's


def test_a_failed_prefetch_is_raised_where_the_body_is_asked_for() -> None:
    source = CountingSource(fail=SourceNotFound("s3://inbox/a/b.png does not exist"))
    prefetched = PrefetchedSource(source, REF)
    with pytest.raises(SourceNotFound):
        prefetched.open(REF)
    prefetched.close()  # nothing left to close, nothing raised

    unused = PrefetchedSource(CountingSource(fail=SourceNotFound("gone")), REF)
    unused.close()  # a failure nobody needed is dropped


def test_a_source_that_changed_under_the_job_starts_no_get() -> None:
    source = CountingSource()
    job = Job.for_s3_object(REF, "upload")
    moved = ObjectInfo(ref=replace(REF, etag="other"), size=len(DATA))
    ports = Ports(source, AnyMode(), Jobs())
    with prefetching(ports, job, moved, OPTIONS) as used:
        assert used is ports  # run_job finds and records SourceChanged
    assert source.gets == []
