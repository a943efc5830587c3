"""What the relay writes to the jobs table, step by step (in-memory ports: the transfer itself is
covered end to end over moto and the emulator in tests/e2e/worker)."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from wix_relay.config import TransferSettings
from wix_relay.domain.jobs import ClaimLost, Job, ObjectInfo, ObjectRef, WixFileRef
from wix_relay.domain.readiness import Outcome as FileOutcome
from wix_relay.domain.triggers import (
    ImportRequested,
    MalformedMessage,
    ObjectCreated,
    ReadinessCheck,
    parse_message,
)
from wix_relay.integrations.batch import process_sqs_batch
from wix_relay.integrations.wix import FileDescriptor
from wix_relay.integrations.wix.models import ResumableTarget
from wix_relay.services.relay import UNCONFIRMED, BatchRunner, ReadinessHooks, Relay, check_delay
from wix_relay.services.transfer import Ports, TransferOptions

DATA = b"\x89PNG" + b"x" * 1000
REF = ObjectRef(bucket="inbox", key="a/b.png", etag="e", sequencer="01", size=len(DATA))
OPTIONS = TransferOptions(upload_threshold_bytes=1 << 20, chunk_bytes=1 << 20, presign_expiry_s=60)


class Source:
    def head(self, ref: ObjectRef) -> ObjectInfo:
        return ObjectInfo(ref=ref, size=len(DATA), content_type="image/png")

    def open(self, ref: ObjectRef, offset: int = 0) -> io.BytesIO:
        return io.BytesIO(DATA[offset:])

    def read(self, ref: ObjectRef) -> tuple[ObjectInfo, io.BytesIO]:
        return self.head(ref), self.open(ref)

    def presign_get(self, ref: ObjectRef, expires_s: int) -> str:
        raise AssertionError("upload mode never presigns")


class Media:
    """Accepts the bytes as PENDING; get-file answers `status` (counted)."""

    def __init__(self) -> None:
        self.received = b""
        self.fields: list[Mapping[str, Any]] = []
        self.status = "PENDING"
        self.get_file_calls = 0

    def generate_upload_url(self, fields: Mapping[str, Any]) -> str:
        self.fields.append(fields)
        return "https://upload.wixmp.com/upload/token"

    def upload(self, upload_url: str, source: Callable[[], io.BytesIO], **_: Any) -> Any:
        self.received = source().read()
        return FileDescriptor("f1", url="https://static/f1", operation_status="PENDING")

    def get_file(self, file_id: str) -> Any:
        self.get_file_calls += 1
        raw = {"id": file_id, "url": "https://static/f1", "operationStatus": self.status}
        return FileDescriptor(
            file_id, url="https://static/f1", operation_status=self.status, raw=raw
        )

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


def sqs_batch_on(pool: ThreadPoolExecutor) -> BatchRunner:
    """What `Runtime.sqs_batch` does: Powertools' partial-batch processor on `pool`."""
    return lambda event, handler, context: process_sqs_batch(event, handler, pool, context)


def relay_with(jobs: Jobs) -> tuple[Relay, Media]:
    media = Media()
    pool = ThreadPoolExecutor(1)
    relay = Relay(Ports(Source(), media, jobs), OPTIONS, TransferSettings(), pool=pool)
    return relay, media


def test_a_new_s3_job_is_claimed_marked_sending_then_recorded() -> None:
    jobs = Jobs()
    relay, media = relay_with(jobs)
    result = relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    assert result is not None and result["status"] == "uploaded"
    # upload mode: the claim (created running) is the `sending` mark (only the generate-URL
    # call lies before the PUT), then the file; no waiting
    assert jobs.saved == [
        ("running", 1, "sending"),
        ("uploaded", 1, None),
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
        ("running", 1, "sending"),
        ("uploaded", 1, None),
    ]


class AnyMode(Media):
    """Also takes resumable uploads (finalize after `before_finalize`) and imports."""

    def generate_resumable_upload_url(self, fields: Mapping[str, Any]) -> Any:
        return ResumableTarget("https://upload.wixmp.com/tus", "token")

    def upload_resumable(self, target: Any, open_at: Any, **kwargs: Any) -> Any:
        self.received = open_at(0).read()
        kwargs["before_finalize"]()
        return FileDescriptor("f1", url="https://static/f1", operation_status="PENDING")

    def import_file(self, url: str, fields: Mapping[str, Any] | None = None, **_: Any) -> Any:
        return FileDescriptor("f1", url="https://static/f1", operation_status="PENDING")


class Presigning(Source):
    def presign_get(self, ref: ObjectRef, expires_s: int) -> str:
        return f"https://{ref.bucket}.s3.amazonaws.com/{ref.key}?X-Amz-Signature=x"


@pytest.mark.parametrize("mode", ["upload", "import", "resumable"])
def test_writes_per_relayed_object(mode: str) -> None:
    """Upload and import: the claim carries `sending`, then the file (2 writes). Resumable: the
    whole TUS transfer lies between the claim and the finalize, so `sending` is its own write
    just before the finalize (3). Then readiness writes the end (an event or a check)."""
    jobs = Jobs()
    settings = TransferSettings(default_mode=mode)  # type: ignore[arg-type]
    ports = Ports(Presigning(), AnyMode(), jobs)
    relay = Relay(ports, OPTIONS, settings, pool=ThreadPoolExecutor(1))
    result = relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    assert result is not None and result["status"] == "uploaded"
    claim = [("running", 1, "sending")] if mode != "resumable" else [("running", 1, None)]
    mark = [("running", 1, "sending")] if mode == "resumable" else []
    assert jobs.saved == [*claim, *mark, ("uploaded", 1, None)]


def test_a_finished_job_is_not_written_again() -> None:
    jobs = Jobs()
    relay, media = relay_with(jobs)
    relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    before = list(jobs.saved)
    relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    assert jobs.saved == before and len(media.fields) == 1


# --- after the upload: events or delayed checks (the readiness service is a recorder here; its
# transitions are covered over moto in tests/integration/readiness) -----------------------------
class Readiness:
    def __init__(self) -> None:
        self.reached: list[tuple[tuple[str, str], str, str]] = []
        self.settled: list[tuple[tuple[str, str], str]] = []

    def file_reached(self, subject: Any, file_id: str, outcome: FileOutcome) -> bool:
        self.reached.append((subject, file_id, outcome.status))
        return True

    def settle(self, subject: Any, file_id: str) -> bool:
        self.settled.append((subject, file_id))
        return False


class Checks:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int, int]] = []

    def send_check(self, job_id: str, check: int, delay_s: int) -> str:
        self.sent.append((job_id, check, delay_s))
        return "m"


def hooked(events: bool, max_checks: int = 3) -> tuple[Relay, Media, Jobs, Readiness, Checks]:
    jobs, media, readiness, checks = Jobs(), Media(), Readiness(), Checks()
    hooks = ReadinessHooks(
        service=lambda: readiness,
        events_configured=lambda: events,
        checks=lambda: checks,
        max_checks=max_checks,
        first_delay_s=5,
    )
    ports = Ports(Source(), media, jobs)
    relay = Relay(ports, OPTIONS, TransferSettings(), pool=ThreadPoolExecutor(1), readiness=hooks)
    return relay, media, jobs, readiness, checks


def test_with_events_the_worker_settles_and_neither_waits_nor_asks_wix() -> None:
    relay, media, _jobs, readiness, checks = hooked(events=True)
    result = relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)
    assert result is not None and result["status"] == "uploaded"
    assert readiness.settled == [(("job", result["jobId"]), "f1")]
    assert (checks.sent, media.get_file_calls, readiness.reached) == ([], 0, [])


def test_without_events_delayed_checks_back_off_then_the_job_is_moved() -> None:
    relay, media, _jobs, readiness, checks = hooked(events=False)
    job_id = relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)["jobId"]  # type: ignore[index]
    assert checks.sent == [(job_id, 1, 5)] and media.get_file_calls == 0
    relay.run_item(ReadinessCheck(job_id, 1), last_attempt=False)  # still PENDING
    assert checks.sent[-1] == (job_id, 2, 10) and media.get_file_calls == 1
    media.status = "READY"
    relay.run_item(ReadinessCheck(job_id, 2), last_attempt=False)
    assert readiness.reached == [(("job", job_id), "f1", "ready")]
    assert len(checks.sent) == 2 and media.get_file_calls == 2


def test_after_the_last_check_the_job_stays_uploaded_with_the_reason() -> None:
    relay, _media, jobs, readiness, checks = hooked(events=False, max_checks=2)
    job_id = relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)["jobId"]  # type: ignore[index]
    relay.run_item(ReadinessCheck(job_id, 1), last_attempt=False)
    relay.run_item(ReadinessCheck(job_id, 2), last_attempt=False)
    job = jobs.items[job_id]
    assert job.status == "uploaded" and job.error is not None
    assert job.error.code == UNCONFIRMED and "after 2 checks over 15 s" in job.error.message
    assert [c for _, c, _ in checks.sent] == [1, 2] and readiness.reached == []


def test_a_check_for_a_job_that_has_ended_asks_wix_nothing() -> None:
    relay, media, jobs, _readiness, _checks = hooked(events=False)
    job_id = relay.run_item(ObjectCreated(REF, "ObjectCreated:Put"), last_attempt=False)["jobId"]  # type: ignore[index]
    jobs.items[job_id] = jobs.items[job_id].ready(WixFileRef("f1"))
    assert relay.run_item(ReadinessCheck(job_id, 1), last_attempt=False) == {
        "jobId": job_id,
        "status": "ready",
    }
    assert media.get_file_calls == 0


def test_check_delays_double_up_to_sqs_maximum() -> None:
    assert [check_delay(5, n) for n in range(1, 10)] == [5, 10, 20, 40, 80, 160, 320, 640, 900]


def test_a_check_message_is_a_work_item() -> None:
    assert parse_message('{"jobId": "s3-x", "readinessCheck": 3}') == [ReadinessCheck("s3-x", 3)]
    assert parse_message('{"jobId": "imp-x"}') == [ImportRequested("imp-x")]
    for bad in (
        '{"jobId": "s3-x", "readinessCheck": 0}',
        '{"jobId": "s3-x", "readinessCheck": "1"}',
    ):
        with pytest.raises(MalformedMessage):
            parse_message(bad)
