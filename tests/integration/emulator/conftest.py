"""The `wix` fixture: WixCalls bound to the (reset-after-test) session emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from wix_emulator import RunningEmulator

from tests.integration.emulator.emulator_helpers import WixCalls


@pytest.fixture
def wix(wix_emulator: RunningEmulator) -> Iterator[WixCalls]:
    yield WixCalls(wix_emulator)
