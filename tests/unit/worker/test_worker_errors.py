"""Which failures are retried and which fail the job for good (the job's error)."""

from __future__ import annotations

import pytest

from wix_relay.domain.destinations import InvalidDestination
from wix_relay.domain.errors import SourceNotFound, SourceUnavailable
from wix_relay.domain.media import fallback_file_name, is_mime_refusal
from wix_relay.integrations.secrets import SecretUnavailable
from wix_relay.integrations.wix import (
    SourceError,
    WixNetworkError,
    WixRateLimited,
    WixServerError,
    WixValidationError,
)
from wix_relay.services.transfer import job_error


def test_wix_errors_keep_their_rule_and_retryability() -> None:
    refused = job_error(
        WixValidationError("too big", status=400, rule_names=["FILE_SIZE_OVER_LIMIT"])
    )
    assert (refused.code, refused.retryable) == ("FILE_SIZE_OVER_LIMIT", False)
    assert job_error(WixServerError("down", status=503)).retryable
    assert job_error(WixRateLimited("slow down", status=429)).code == "HTTP_429"
    assert job_error(WixNetworkError("reset")).retryable


def test_source_errors_and_configuration_problems() -> None:
    assert job_error(SourceNotFound("gone")) == job_error(SourceNotFound("gone"))
    assert not job_error(SourceNotFound("gone")).retryable
    assert job_error(SourceUnavailable("slow")).retryable
    assert not job_error(InvalidDestination("fileName is too long")).retryable
    # a secret that cannot be read is fixed by an operator: retry, don't lose the object
    misconfigured = SecretUnavailable("not configured", status=500, code="CONFIGURATION_ERROR")
    assert job_error(misconfigured).retryable


def test_an_s3_failure_inside_the_wix_client_is_judged_by_its_cause() -> None:
    try:
        try:
            raise SourceUnavailable("S3 reset the connection")
        except SourceUnavailable as cause:
            raise SourceError("the upload source failed") from cause
    except SourceError as exc:
        error = job_error(exc)
    assert (error.code, error.retryable) == ("SOURCE_UNAVAILABLE", True)


def test_unknown_exceptions_are_retried() -> None:
    error = job_error(KeyError("x"))
    assert (error.code, error.retryable) == ("INTERNAL_ERROR", True)


def test_mime_refusals() -> None:
    assert is_mime_refusal(WixValidationError("x", status=400, rule_names=["MISMATCH_MIME_TYPE"]))
    assert is_mime_refusal(WixValidationError("x", status=415))
    assert not is_mime_refusal(
        WixValidationError("x", status=400, rule_names=["FILE_SIZE_OVER_LIMIT"])
    )


@pytest.mark.parametrize(
    ("file_name", "mime", "expected"),
    [
        ("photo.heic", "image/heic", "photo.heic"),  # already carries its extension
        ("photo", "image/png", "photo.png"),
        ("report", "application/pdf", "report.pdf"),
        ("blob", "application/x-unknown-thing", "blob"),  # nothing to add: Wix sniffs the bytes
    ],
)
def test_the_fallback_name_carries_an_extension(file_name: str, mime: str, expected: str) -> None:
    assert fallback_file_name(file_name, mime) == expected


def test_a_throttle_is_recognised_through_the_retry_and_its_delay_is_short_and_jittered() -> None:
    from wix_relay.domain.jobs import JobError
    from wix_relay.services.relay import THROTTLE_DELAY_CAP_S, throttle_delay, throttle_retry_after
    from wix_relay.services.transfer import RetryLater

    def retried(exc: Exception) -> RetryLater:
        try:
            raise RetryLater(None, JobError("HTTP_429", "slow")) from exc  # type: ignore[arg-type]
        except RetryLater as retry:
            return retry

    assert throttle_retry_after(retried(WixRateLimited("slow", status=429))) == 0.0
    assert throttle_retry_after(retried(WixRateLimited("s", status=429, retry_after_s=7))) == 7
    assert throttle_retry_after(retried(WixServerError("down", status=503))) is None
    # 10 s on the first receive, doubling to 60 s, ±25 %; Retry-After wins when longer; capped.
    assert [throttle_delay(0, n, lambda: 0.5) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    assert throttle_delay(0, 1, lambda: 0.0) == 8 and throttle_delay(0, 1, lambda: 1.0) == 12
    assert throttle_delay(90, 1, lambda: 0.5) == 90
    assert throttle_delay(10_000, 1, lambda: 0.5) == THROTTLE_DELAY_CAP_S
