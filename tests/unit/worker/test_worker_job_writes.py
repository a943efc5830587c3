"""What the relay writes to the jobs table, step by step (in-memory ports: the transfer itself is
covered end to end over moto and the emulator in tests/e2e/worker)."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wix_relay.config import TransferSettings
from wix_relay.domain.jobs import ClaimLost, Job, ObjectInfo, ObjectRef
from wix_relay.domain.triggers import ImportRequested, ObjectCreated
from wix_relay.integrations.wix import FileDescriptor
from wix_relay.services.relay import Relay
from wix_relay.services.transfer import Ports, TransferOptions

DATA = b"\x89PNG" + b"x" * 1000
REF = ObjectRef(bucket="inbox", key="a/b.png", etag="e", sequencer="01", size=len(DATA))
OPTIONS = TransferOptions(
    upload_threshold_bytes=1 << 20, chunk_bytes=1 << 20, presign_expiry_s=60, ready_wait_s=5
)


class Source:
    def head(self, ref: ObjectRef) -> ObjectInfo:
        return ObjectInfo(ref=ref, size=len(DATA), content_type="image/png")

    def open(self, ref: ObjectRef, offset: int = 0) -> io.BytesIO:
        return io.BytesIO(DATA[offset:])

    def presign_get(self, ref: ObjectRef, expires_s: int) -> str:
        raise AssertionError("upload mode never presigns")


class Media:
    """Accepts the bytes as PENDING; READY when waited for."""

    def __init__(self) -> None:
        self.received = b""
        self.fields: list[Mapping[str, Any]] = []

    def generate_upload_url(self, fields: Mapping[str, Any]) -> str:
        self.fields.append(fields)
        return "https://upload.wixmp.com/upload/token"

    def upload(self, upload_url: str, source: Callable[[], io.BytesIO], **_: Any) -> Any:
        self.received = source().read()
        return FileDescriptor("f1", url="https://static/f1", operation_status="PENDING")

    def wait_until_ready(self, file_id: str, timeout_s: float) -> Any:
        return FileDescriptor(file_id, url="https://static/f1", operation_status="READY")

    def generate_resumable_upload_url(self, fields: Mapping[str, Any]) -> Any:
        raise AssertionError("not resumable")

    def upload_resumable(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("not resumable")

    def import_file(self, url: str, fields: Mapping[str, Any] | None = None, **_: Any) -> Any:
        raise AssertionError("not import")


class Jobs:
    """The jobs table in memory, with its conditional writes."""

    def __init__(self) -> None:
        self.items: dict[str, Job] = {}
        self.saved: list[tuple[str, int, str | None]] = []

    def get(self, job_id: str) -> Job | None:
        return self.items.get(job_id)

    def create(self, job: Job) -> tuple[Job, bool]:
        if job.id in self.items:
            return self.items[job.id], False
        self._write(job)
        return job, True

    def claim(self, job: Job, expected: Job | None) -> bool:
        if self.items.get(job.id) != expected:
            return False
        self._write(job)
        return True

    def save(self, job: Job, *, owner: str | None = None) -> None:
        stored = self.items.get(job.id)
        if owner is not None and (
            stored is None or stored.claim is None or stored.claim.owner != owner
        ):
            raise ClaimLost(job.id)
        self._write(job)

    def _write(self, job: Job) -> None:
        self.items[job.id] = job
        self.saved.append((job.status, job.attempts, job.stage))


def relay_with(jobs: Jobs) -> tuple[Relay, Media]:
    media = Media()
    pool = ThreadPoolExecutor(1)
    relay = Relay(Ports(Source(), media, jobs), OPTIONS, TransferSettings(), pool=pool)
    return relay, media


def test_a_new_s3_job_is_claimed_marked_sending_then_recorded() -> None:
    jobs = Jobs()
    relay, media = relay_with(jobs)
    result = relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    assert result is not None and result["status"] == "ready"
    # the claim (created running), the mark just before the upload PUT, the file, readiness
    assert jobs.saved == [
        ("running", 1, None),
        ("running", 1, "sending"),
        ("uploaded", 1, None),
        ("ready", 1, None),
    ]
    assert media.received == DATA
    (job,) = jobs.items.values()
    assert media.fields[0]["externalInfo"] == {"origin": "wix-media-relay", "externalIds": [job.id]}


def test_an_existing_job_records_its_new_attempt_first() -> None:
    jobs = Jobs()
    queued = Job.for_s3_object(REF, "upload")
    jobs.items[queued.id] = queued
    relay, _ = relay_with(jobs)
    relay.run_item(ImportRequested(queued.id), last_attempt=False)
    assert jobs.saved == [
        ("running", 1, None),
        ("running", 1, "sending"),
        ("uploaded", 1, None),
        ("ready", 1, None),
    ]


def test_a_finished_job_is_not_written_again() -> None:
    jobs = Jobs()
    relay, media = relay_with(jobs)
    relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    before = list(jobs.saved)
    relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    assert jobs.saved == before and len(media.fields) == 1
