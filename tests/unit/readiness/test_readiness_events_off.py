"""The stack's placeholder public-key secret (`{}`) means Wix events are off: the events route
answers 503 and the worker schedules delayed readiness checks instead of waiting for events."""

from __future__ import annotations

import pytest

from wix_relay.config import Settings
from wix_relay.runtime import Runtime


@pytest.mark.parametrize("key", ["{}", " {} ", ""])
def test_the_placeholder_key_means_events_are_off(key: str) -> None:
    assert Runtime(Settings.from_env({"WIX_EVENTS_PUBLIC_KEY": key})).event_verifier() is None
