"""One S3 request per relayed object: in upload and resumable mode the GET that names the
object's version (instead of a HEAD) is the body the upload streams (`ObjectSource.read`,
`services.transfer.opened`); a fresh GET whenever that body does not fit, and an unused one is
always closed. In-memory ports; the transfer over moto and the emulator is in tests/e2e/worker
and the request count in `make bench` (section 8)."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from wix_relay.config import TransferSettings
from wix_relay.domain.errors import SourceNotFound
from wix_relay.domain.jobs import Claim, ClaimHeld, Job, ObjectInfo, ObjectRef
from wix_relay.domain.triggers import ImportRequested, ObjectCreated
from wix_relay.services.relay import Relay
from wix_relay.services.transfer import OpenedSource, Ports

from .test_worker_job_writes import DATA, OPTIONS, REF, AnyMode, Jobs, Presigning


class CountingSource(Presigning):
    """Records every S3 request (`HEAD`, `GET@offset`) and every body it handed out."""

    def __init__(self, fail: Exception | None = None, etag: str | None = None) -> None:
        self.requests: list[str] = []
        self.bodies: list[io.BytesIO] = []
        self.fail = fail
        self.etag = etag

    def _answer(self, ref: ObjectRef) -> ObjectInfo:
        if self.fail is not None:
            raise self.fail
        return ObjectInfo(ref=replace(ref, etag=self.etag or ref.etag), size=len(DATA))

    def head(self, ref: ObjectRef) -> ObjectInfo:
        self.requests.append("HEAD")
        return self._answer(ref)

    def open(self, ref: ObjectRef, offset: int = 0) -> io.BytesIO:
        self.requests.append(f"GET@{offset}")
        self._answer(ref)
        body = io.BytesIO(DATA[offset:])
        self.bodies.append(body)
        return body

    def read(self, ref: ObjectRef) -> tuple[ObjectInfo, io.BytesIO]:
        self.requests.append("GET@0")
        info = self._answer(ref)
        body = io.BytesIO(DATA)
        self.bodies.append(body)
        return info, body


def relay_on(source: CountingSource, mode: str) -> tuple[Relay, AnyMode, Jobs]:
    jobs, media = Jobs(), AnyMode()
    settings = TransferSettings(default_mode=mode)  # type: ignore[arg-type]
    relay = Relay(Ports(source, media, jobs), OPTIONS, settings, pool=ThreadPoolExecutor(1))
    return relay, media, jobs


def relay_once(relay: Relay) -> str | None:
    result = relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    return None if result is None else str(result["status"])


@pytest.mark.parametrize("mode", ["upload", "resumable", "auto"])
def test_a_streamed_object_costs_one_get_and_no_head(mode: str) -> None:
    source = CountingSource()
    relay, media, _ = relay_on(source, mode)
    assert relay_once(relay) == "uploaded"
    assert media.received == DATA
    assert source.requests == ["GET@0"]  # named the version, then streamed to Wix


def test_import_mode_heads_and_never_gets() -> None:
    source = CountingSource()
    relay, _, _ = relay_on(source, "import")
    assert relay_once(relay) == "uploaded"
    assert source.requests == ["HEAD"]


def test_a_duplicate_delivery_closes_its_unused_get() -> None:
    source = CountingSource()
    relay, media, jobs = relay_on(source, "upload")
    relay_once(relay)
    before = list(jobs.saved)
    assert relay_once(relay) == "uploaded"  # already done: nothing sent, nothing written
    assert jobs.saved == before and media.received == DATA
    assert source.requests == ["GET@0", "GET@0"]
    assert source.bodies[1].closed


def test_an_object_changed_since_its_event_closes_the_get_and_fails_the_job() -> None:
    source = CountingSource(etag="other")  # S3 now holds another version than the event's
    relay, media, jobs = relay_on(source, "upload")
    assert relay_once(relay) == "failed"
    (job,) = jobs.items.values()
    assert job.error is not None and job.error.code == "SOURCE_CHANGED"
    assert media.received == b"" and source.bodies[0].closed


def test_a_read_that_fails_for_good_fails_the_job_the_event_names() -> None:
    source = CountingSource(fail=SourceNotFound("s3://inbox/a/b.png does not exist"))
    relay, _, jobs = relay_on(source, "upload")
    assert relay_once(relay) == "failed"
    (job,) = jobs.items.values()
    assert job.error is not None and job.error.code == "SOURCE_NOT_FOUND"


def test_the_opened_body_serves_only_its_version_at_offset_zero_once() -> None:
    source = CountingSource()
    ref = replace(REF, version_id="v1")
    _, body = source.read(ref)
    opened = OpenedSource(source, ref, body)
    assert opened.open(ref, 5).read() == DATA[5:]  # a resumed chunk: a GET of its own
    assert opened.open(ref) is body
    assert opened.open(ref).read() == DATA  # a re-send: a fresh GET
    assert opened.open(replace(ref, version_id="v2")).read() == DATA  # another version
    assert source.requests == ["GET@0", "GET@5", "GET@0", "GET@0"]
    opened.close()
    assert not any(b.closed for b in source.bodies)  # the ones handed out are the caller's


@pytest.mark.parametrize("mode", ["upload", "resumable"])
def test_a_partner_import_that_streams_costs_one_get_too(mode: str) -> None:
    source = CountingSource()
    relay, media, jobs = relay_on(source, mode)
    queued = Job.for_s3_object(REF, mode)  # type: ignore[arg-type]
    jobs.items[queued.id] = queued
    result = relay.run_item(ImportRequested(queued.id), last_attempt=False)
    assert result is not None and result["status"] == "uploaded"
    assert media.received == DATA and source.requests == ["GET@0"]


def test_a_held_import_reads_nothing() -> None:
    source = CountingSource()
    relay, _, jobs = relay_on(source, "upload")
    held = Job.for_s3_object(REF, "upload").start(claim=Claim("other", int(time.time()) + 600))
    jobs.items[held.id] = held
    with pytest.raises(ClaimHeld):
        relay.run_item(ImportRequested(held.id), last_attempt=False)
    assert source.requests == []


def test_an_import_whose_get_fails_is_recorded_by_the_head_as_before() -> None:
    source = CountingSource(fail=SourceNotFound("s3://inbox/a/b.png does not exist"))
    relay, _, jobs = relay_on(source, "upload")
    queued = Job.for_s3_object(REF, "upload")
    jobs.items[queued.id] = queued
    assert relay.run_item(ImportRequested(queued.id), last_attempt=False) == {
        "jobId": queued.id,
        "status": "failed",
    }
    assert source.requests == ["GET@0", "HEAD"]
    assert jobs.items[queued.id].error is not None
    assert jobs.items[queued.id].error.code == "SOURCE_NOT_FOUND"  # type: ignore[union-attr]
