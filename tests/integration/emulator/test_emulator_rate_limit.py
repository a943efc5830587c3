"""Wix's rate limit in the emulator: a token bucket (devtools/wix_emulator/ratelimit.py), checked
on its own with given times and over HTTP with the emulator's clock control (no sleeping)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from wix_emulator import EmulatorConfig, RunningEmulator, start_emulator
from wix_emulator.ratelimit import TokenBucket, retry_after_header

from tests.integration.emulator.emulator_helpers import API, app_error

LIST = API + "?paging.limit=1"


def test_the_bucket_admits_its_burst_then_one_call_per_interval() -> None:
    bucket = TokenBucket(per_minute=60, burst=3)  # one token a second
    assert [bucket.admit(100.0) for _ in range(3)] == [None, None, None]
    assert bucket.admit(100.0) == pytest.approx(1.0)
    assert bucket.admit(100.4) == pytest.approx(0.6)  # a refused call takes no token
    assert bucket.admit(101.0) is None
    assert bucket.admit(101.0) == pytest.approx(1.0)


def test_over_any_interval_at_most_burst_plus_rate_times_the_interval() -> None:
    bucket = TokenBucket(per_minute=600, burst=5)  # ten a second
    admitted = [step * 0.01 for step in range(600) if bucket.admit(step * 0.01) is None]
    # a call every 10 ms for 6 s (ten times the rate): the burst, then one every 100 ms
    assert len(admitted) == 5 + 59
    for start in (0.0, 1.0, 2.5):
        for length in (0.5, 1.0, 3.0):
            inside = [t for t in admitted if start <= t < start + length]
            assert len(inside) <= 5 + 10 * length + 1e-9


def test_a_long_pause_refills_only_up_to_the_burst() -> None:
    bucket = TokenBucket(per_minute=60, burst=2)
    assert bucket.admit(0.0) is None
    assert bucket.admit(3600.0) is None
    assert bucket.admit(3600.0) is None
    assert bucket.admit(3600.0) is not None


def test_the_burst_never_exceeds_the_minute_and_a_clock_set_back_refills_nothing() -> None:
    bucket = TokenBucket(per_minute=2, burst=10)
    assert bucket.capacity == 2
    assert bucket.admit(50.0) is None and bucket.admit(50.0) is None
    assert bucket.admit(10.0) == pytest.approx(30.0)
    assert bucket.admit(50.0) == pytest.approx(30.0)


@pytest.mark.parametrize(("wait", "header"), [(0.05, "1"), (1.0, "1"), (1.2, "2"), (29.9, "30")])
def test_retry_after_is_whole_seconds_rounded_up(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header


@pytest.fixture(scope="module")
def limited() -> Iterator[RunningEmulator]:
    cfg = EmulatorConfig.from_env(
        {"WIX_EMULATOR_RATE_LIMIT_PER_MINUTE": "6", "WIX_EMULATOR_RATE_LIMIT_BURST": "2"}
    )
    emulator = start_emulator(cfg)
    yield emulator
    emulator.stop()


def call(emulator: RunningEmulator) -> requests.Response:
    return requests.get(emulator.url + LIST, headers=emulator.api_key_headers(), timeout=10)


def test_over_http_retry_after_says_when_the_next_call_is_admitted(
    limited: RunningEmulator,
) -> None:
    limited.reset()  # a full bucket, the clock back at real time
    assert [call(limited).status_code for _ in range(2)] == [200, 200]
    refused = call(limited)
    assert refused.status_code == 429
    assert app_error(refused)["code"] == "RESOURCE_EXHAUSTED"
    assert refused.headers["Retry-After"] == "10"  # 6 a minute: one token every 10 s
    limited.advance_clock(9)
    again = call(limited)
    assert (again.status_code, again.headers["Retry-After"]) == (429, "1")
    limited.advance_clock(1)
    assert call(limited).status_code == 200
    assert call(limited).status_code == 429
    statuses = [r["status"] for r in limited.requests() if r["endpoint"] != "control"]
    assert statuses == [200, 200, 429, 429, 200, 429]
    counts = limited.control("GET", "rate-limit")
    assert counts == {"perMinute": 6, "burst": 2, "admitted": 3, "refused": 3}


def test_unauthenticated_calls_take_no_token(limited: RunningEmulator) -> None:
    limited.reset()
    for _ in range(5):
        assert requests.get(limited.url + LIST, timeout=10).status_code == 401
    assert [call(limited).status_code for _ in range(3)] == [200, 200, 429]
