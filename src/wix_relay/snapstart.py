"""Lambda SnapStart: what a function builds before its snapshot, and what every restore drops.

With SnapStart (template parameter `SnapStart`, docs/deploy.md "SnapStart"), Lambda initialises a
published version once, runs the `register_before_snapshot` hooks, snapshots the microVM and
resumes every later cold start from that snapshot, running the `register_after_restore` hooks
first. Everything in memory at the snapshot is shared by all environments resumed from it.

- Before the snapshot (`prime`): only imports — the modules the function's first event needs, so
  a restored environment does not import them on its first request. Nothing is *built*: no
  session or connection, no AWS client (a client resolves credentials when it is created), no
  secret read, no Wix token (its expiry would be computed before the restore), no claim owner.
- After each restore (`restore`): the handler drops its per-container runtime, so the first event
  builds a new pooled session, secret cache and Wix client, and `random` is reseeded from the OS
  (the retry jitter would otherwise repeat in every restored environment). `uuid.uuid4()`, which
  names claim owners and callback ids, reads `os.urandom` on every call and needs nothing.

`snapshot_restore_py` ships only in Lambda's managed Python runtimes: elsewhere (tests, `make
run`) `register` registers nothing. Without SnapStart, Lambda never calls the hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Hook = Callable[[], None]


def register(prime: Hook, restore: Hook) -> bool:
    """Register the function's hooks with Lambda's runtime; False where it has none."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found, unused-ignore]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    register_before_snapshot(prime)
    register_after_restore(restore)
    return True


def import_all(modules: Iterable[str]) -> None:
    """Import `modules` now (into the snapshot) instead of on the first event."""
    import importlib

    for name in modules:
        importlib.import_module(name)


def reseed() -> None:
    """A fresh `random` state from the OS for this restored environment."""
    import random

    random.seed()


def renew() -> None:
    """What no two restored environments may share: the `random` state and any cached
    container credentials (`aws_http.forget_credentials`; none are fetched before the
    snapshot, this makes sure)."""
    reseed()
    from wix_relay.integrations.aws_http import forget_credentials

    forget_credentials()
