"""The handlers only parse, call and shape: none of them imports an integration (they reach
identity, Wix and AWS through the runtime and the use cases)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HANDLERS = Path(__file__).resolve().parents[3] / "src" / "wix_relay" / "handlers"


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


EVERY_HANDLER = sorted(p.name for p in HANDLERS.glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("name", EVERY_HANDLER)
def test_api_handlers_import_no_integration(name: str) -> None:
    modules = imported_modules(HANDLERS / name)
    assert modules, name
    assert not {m for m in modules if m.startswith("wix_relay.integrations")}
