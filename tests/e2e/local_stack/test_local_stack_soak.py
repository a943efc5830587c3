"""`make soak` in small: objects through the local stack while the Wix emulator injects 429s,
5xx and connection cuts and some S3 notifications are delivered twice (right away and after the
first was handled; one run with identical re-deliveries, one where the duplicate carries no
`versionId`, as a replay through moto or S3 -> SQS does). Every object arrives in the emulator
exactly once; nothing ends in the dead-letter queue (the run has no permanent refusals)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from local_stack.stack import RunningStack, start_stack
from soak import run_soak, soak_config

from tests.fixtures.local_stack import function_logs

OBJECTS = 12


@pytest.fixture(scope="module")
def soak_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with start_stack(soak_config(Path(tmp_path_factory.mktemp("soak")))) as stack:
        yield stack


@pytest.mark.parametrize("mixed_duplicates", [False, True], ids=["identical", "without-versionId"])
def test_nothing_lost_nothing_twice_under_faults_and_duplicates(
    soak_stack: RunningStack, mixed_duplicates: bool
) -> None:
    result = run_soak(
        soak_stack, OBJECTS, seed=7, duplicate_share=0.5, mixed_duplicates=mixed_duplicates
    )
    report = f"\n{result.table()}\n{function_logs(soak_stack)[-4000:]}"
    assert result.duplicates_sent > 0 and sum(result.faults_injected.values()) > 0, report
    assert sum(n for status, n in result.wix_answers.items() if status != "200") > 0, report
    counts = (result.arrived, result.lost, result.duplicated, result.dlq)
    assert counts == (OBJECTS, 0, 0, 0), report


def test_burst_counts_what_it_reports(tmp_path: Path) -> None:
    """`python -m soak --burst` in small: two worker processes on a queue with the template's
    visibility timeout; every object arrives and is counted, nothing is stranded or dead-lettered
    (the timing target is the benchmark's, not this test's)."""
    from soak import burst_config, run_burst

    with start_stack(burst_config(tmp_path, rate_per_minute=600, workers=2)) as stack:
        result = run_burst(stack, 6, timeout_s=120)
    assert (result.arrived, result.stranded, result.dlq) == (6, 0, 0), result.table()
    assert result.api_calls >= 6 and result.workers == 2 and result.floor_s > 0
    assert stack.config.visibility_timeout_s == 5400


def test_burst_pacing_is_each_worker_process_share_of_the_limit(tmp_path: Path) -> None:
    from soak import burst_config

    paced = burst_config(tmp_path, rate_per_minute=600, workers=4, pace=True)
    assert paced.relay_env["WIX_CALLS_PER_MINUTE"] == "150"
    assert paced.emulator.rate_limit_per_minute == 600 and paced.worker_instances == 4
    assert "WIX_CALLS_PER_MINUTE" not in burst_config(tmp_path, 600, 4).relay_env
