"""How much to measure: the full default, or `--quick` for fast iteration."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class BenchConfig:
    quick: bool
    cold_runs: int
    overhead_iterations: int
    gateway_iterations: int
    sizes_mib: tuple[int, ...]
    transfer_runs: dict[int, int]
    batch_runs: int
    ingest_mib: int
    ingest_runs: int
    fault_requests: int
    burst_objects: int
    burst_rate_per_minute: int
    per_object_runs: int
    readiness_objects: int

    @classmethod
    def make(cls, quick: bool) -> BenchConfig:
        if quick:
            return cls(
                quick=True,
                cold_runs=3,
                overhead_iterations=100,
                gateway_iterations=50,
                sizes_mib=(10, 100),
                transfer_runs={10: 3, 100: 2},
                batch_runs=1,
                ingest_mib=256,
                ingest_runs=2,
                fault_requests=200,
                burst_objects=40,
                burst_rate_per_minute=240,
                per_object_runs=2,
                readiness_objects=2,
            )
        return cls(
            quick=False,
            cold_runs=7,
            overhead_iterations=1000,
            gateway_iterations=200,
            sizes_mib=(10, 100, 1024),
            transfer_runs={10: 5, 100: 5, 1024: 3},
            batch_runs=3,
            ingest_mib=1024,
            ingest_runs=5,
            fault_requests=1000,
            burst_objects=120,
            burst_rate_per_minute=240,
            per_object_runs=5,
            readiness_objects=3,
        )
