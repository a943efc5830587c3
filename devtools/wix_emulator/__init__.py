"""Wix emulator: a development stand-in for Wix's Media Manager REST API and upload endpoints.

`python -m wix_emulator` runs it in the foreground; tests use `start_emulator()`.
See docs/emulator.md.
"""

from .config import EmulatorConfig
from .running import RunningEmulator, start_emulator

__all__ = ["EmulatorConfig", "RunningEmulator", "start_emulator"]
