"""SnapStart hooks (wix_relay.snapstart): registered only where Lambda's runtime offers them,
priming imports, and a restore that really drops the runtime the snapshot held."""

from __future__ import annotations

import importlib
import random
import sys
import types
from collections.abc import Callable

import pytest

from wix_relay import snapstart
from wix_relay.handlers import api, worker


def fake_runtime_hooks(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Callable[[], None]]]:
    hooks: dict[str, list[Callable[[], None]]] = {"before": [], "after": []}
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = hooks["before"].append  # type: ignore[attr-defined]
    module.register_after_restore = hooks["after"].append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return hooks


def test_hooks_are_registered_only_where_the_runtime_has_the_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def prime() -> None:
        pass

    def restore() -> None:
        pass

    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # absent: import fails
    assert snapstart.register(prime, restore) is False
    hooks = fake_runtime_hooks(monkeypatch)
    assert snapstart.register(prime, restore) is True
    assert hooks == {"before": [prime], "after": [restore]}


@pytest.mark.parametrize("handler", [api, worker])
def test_each_handler_registers_its_hooks_at_import(
    monkeypatch: pytest.MonkeyPatch, handler: types.ModuleType
) -> None:
    hooks = fake_runtime_hooks(monkeypatch)
    fresh = importlib.reload(handler)
    try:
        assert len(hooks["before"]) == len(hooks["after"]) == 1
        assert hooks["after"] == [fresh.restored]
        hooks["before"][0]()  # primes: every listed module is importable
        assert set(fresh.PRIMED) <= set(sys.modules)
    finally:
        monkeypatch.delitem(sys.modules, "snapshot_restore_py")
        importlib.reload(handler)


def test_the_api_primes_pyjwt_and_the_worker_does_not() -> None:
    assert "jwt" in api.PRIMED
    assert not [name for name in worker.PRIMED if name.partition(".")[0] in {"jwt", "cryptography"}]


def test_a_worker_restore_rebuilds_the_runtime_and_closes_the_old_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "RUNTIME", worker.Runtime.for_worker(worker.SETTINGS))
    before = worker.RUNTIME
    session, pool = before.session, before.pool
    closed: list[str] = []
    monkeypatch.setattr(session, "close", lambda: closed.append("session"))

    worker.restored()

    after = worker.RUNTIME
    assert after is not before
    assert "session" not in vars(after), "built again on the first record, not before"
    assert after.session is not session
    assert closed == ["session"]
    assert pool._shutdown  # the snapshot's threads are let go


def test_an_api_restore_replaces_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "RUNTIME", api.Runtime.for_api(api.SETTINGS))
    stale = api.RUNTIME
    session = stale.session
    closed: list[str] = []
    monkeypatch.setattr(session, "close", lambda: closed.append("session"))

    api.restored()

    assert api.RUNTIME is not stale
    assert "session" not in vars(api.RUNTIME), "built again on the first request, not before"
    assert closed == ["session"]


def test_a_restore_reseeds_random(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every environment resumed from one snapshot starts with the same `random` state; the
    retry jitter must differ between them."""
    monkeypatch.setattr(worker, "RUNTIME", worker.Runtime.for_worker(worker.SETTINGS))
    random.seed(1234)
    from_snapshot = random.random()
    random.seed(1234)
    worker.restored()
    assert random.random() != from_snapshot
