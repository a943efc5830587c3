"""What `run_job` writes to the jobs table, step by step (in-memory ports: the transfer itself is
covered end to end over moto and the emulator in tests/e2e/worker)."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any

from wix_relay.domain.jobs import Job, ObjectInfo, ObjectRef
from wix_relay.integrations.wix import FileDescriptor
from wix_relay.services.transfer import Ports, TransferOptions, run_job

DATA = b"\x89PNG" + b"x" * 1000
REF = ObjectRef(bucket="inbox", key="a/b.png", etag='"e"', sequencer="01", size=len(DATA))
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

    def generate_upload_url(self, fields: Mapping[str, Any]) -> str:
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

    def import_file(self, url: str, fields: Mapping[str, Any] | None = None) -> Any:
        raise AssertionError("not import")


class Jobs:
    def __init__(self) -> None:
        self.saved: list[tuple[str, int]] = []

    def save(self, job: Job) -> None:
        self.saved.append((job.status, job.attempts))


def relay(job: Job, *, started: bool) -> tuple[list[tuple[str, int]], Media]:
    jobs, media = Jobs(), Media()
    outcome = run_job(
        job, Ports(Source(), media, jobs), OPTIONS, last_attempt=False, started=started
    )
    assert outcome.job.status == "ready"
    return jobs.saved, media


def test_a_new_s3_job_stored_running_is_not_written_again_before_the_transfer() -> None:
    saved, media = relay(Job.for_s3_object(REF, "upload").start(), started=True)
    assert saved == [("uploaded", 1), ("ready", 1)]
    assert media.received == DATA


def test_an_existing_job_records_its_new_attempt_first() -> None:
    saved, _ = relay(Job.for_s3_object(REF, "upload"), started=False)
    assert saved == [("running", 1), ("uploaded", 1), ("ready", 1)]
