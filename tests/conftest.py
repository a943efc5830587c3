"""Shared pytest set-up. Fixtures live one module per concern in tests/fixtures/ and are all
registered here, so a test anywhere can use any of them."""

from __future__ import annotations

from pathlib import Path

pytest_plugins = sorted(
    f"tests.fixtures.{path.stem}"
    for path in (Path(__file__).parent / "fixtures").glob("*.py")
    if path.stem != "__init__"
)
