"""DynamoDB writes per relayed object, counted at the worker's store ports (moto in server mode,
the emulator; Wix events off, so a delayed readiness check ends the job). The worker writes the
claim (carrying `sending` in upload and import mode) and `uploaded`; resumable mode marks
`sending` separately before the finalize; readiness writes the file's owner item and `ready`."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.fixtures.worker import JPEG, WorkerRig

EXPECTED = {
    "upload": {"job": 3, "file owner": 1},
    "import": {"job": 3, "file owner": 1},
    "resumable": {"job": 4, "file owner": 1},
}


@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_writes_per_relayed_object(worker_rig: WorkerRig, mode: str) -> None:
    worker = worker_rig.make_worker(RELAY_DEFAULT_MODE=mode)
    writes: Counter[str] = Counter()

    def counted(store: Any, method: str, kind: str) -> None:
        real = getattr(store, method)

        def write(*args: Any, **kwargs: Any) -> Any:
            writes[kind] += 1
            return real(*args, **kwargs)

        setattr(store, method, write)

    for method in ("create", "claim", "save"):  # every write of integrations/job_store.py
        counted(worker.jobs, method, "job")
    counted(worker.upload_store, "replace_job", "job")  # the readiness transition
    counted(worker.upload_store, "claim_owner", "file owner")
    worker_rig.put(f"writes/{mode}.jpg", JPEG * 8)
    worker_rig.drain(worker=worker)
    (job,) = worker_rig.jobs()
    assert (job.mode, job.status) == (mode, "ready")
    assert dict(writes) == EXPECTED[mode]
