"""The job record as the lock: what a new attempt may do with a stored job, and which failures
after the creating Wix call went out count as "Wix clearly made nothing"."""

from __future__ import annotations

import pytest

from wix_relay.domain.errors import SourceUnavailable
from wix_relay.domain.jobs import (
    Claim,
    Job,
    JobError,
    ObjectInfo,
    ObjectRef,
    object_version,
    s3_job_id,
)
from wix_relay.integrations.wix import (
    SourceError,
    WixNetworkError,
    WixRateLimited,
    WixServerError,
    WixUploadTokenSpent,
    WixValidationError,
)
from wix_relay.services.transfer import wix_refused

REF = ObjectRef("b", "k.jpg", etag="e1", size=3)
NOW = 1_000_000


def running(until: int, *, sending: bool = False) -> Job:
    job = Job.for_s3_object(REF, "auto").start(claim=Claim("a", until))
    return job.sending() if sending else job


def test_claim_states() -> None:
    queued = Job.for_s3_object(REF, "auto")
    assert queued.claim_state(NOW) == "free"
    assert running(NOW + 5).claim_state(NOW) == "held"
    assert running(NOW + 5, sending=True).claim_state(NOW) == "held"
    assert running(NOW - 5).claim_state(NOW) == "free"  # crashed before sending: take over
    assert running(NOW - 5, sending=True).claim_state(NOW) == "unknown"
    unclaimed = Job.for_s3_object(REF, "auto").start()  # written by a version without claims
    assert unclaimed.claim_state(NOW) == "unknown"
    retry = running(NOW + 5).retry_later(JobError("HTTP_503", "down", retryable=True))
    assert retry.claim is None and retry.stage is None and retry.claim_state(NOW) == "free"
    assert retry.failed(JobError("ZERO_FILE_SIZE", "empty")).claim_state(NOW) == "finished"


def test_claim_and_stage_round_trip_through_the_item() -> None:
    job = running(NOW + 5, sending=True)
    assert Job.from_item({**job.to_item(), "expiresAt": NOW}) == job


def test_the_version_is_the_heads_whatever_the_event_carried() -> None:
    head = ObjectInfo(ObjectRef("b", "k.jpg", version_id="v1", etag="e1"), size=3)
    bare = ObjectRef("b", "k.jpg")
    full = ObjectRef("b", "k.jpg", version_id="v1", etag="e1", sequencer="0A", size=3)
    assert s3_job_id(object_version(bare, head)) == s3_job_id(object_version(full, head))
    plain = ObjectInfo(ObjectRef("b", "k.jpg", etag="e1"), size=3)
    assert s3_job_id(object_version(bare, plain)) == s3_job_id(
        object_version(ObjectRef("b", "k.jpg", etag="e1", sequencer="FF"), plain)
    )
    changed = object_version(ObjectRef("b", "k.jpg", etag="old"), plain)
    assert changed.etag == "old"  # the event's version, which then fails as SOURCE_CHANGED


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (WixValidationError("bad", status=400, rule_names=["MISMATCH_MIME_TYPE"]), True),
        (WixValidationError("spent", status=403, code="UPLOAD_TOKEN_ALREADY_USED"), False),
        (WixRateLimited("slow", status=429, operation="upload"), True),  # a throttle: unsent
        (WixUploadTokenSpent("spent?", status=429, operation="upload"), False),
        (WixRateLimited("slow", status=429, operation="import-file"), True),
        (WixServerError("down", status=503), False),
        (WixNetworkError("reset"), False),
    ],
)
def test_what_counts_as_a_clear_refusal(error: Exception, refused: bool) -> None:
    assert wix_refused(error) is refused


def test_a_broken_source_body_created_nothing() -> None:
    try:
        try:
            raise SourceUnavailable("S3 reset the connection")
        except SourceUnavailable as cause:
            raise SourceError("the upload source failed") from cause
    except SourceError as exc:
        assert wix_refused(exc)
