"""Compare our Lambda events with the ones `sam local generate-event` produces.

The reference is SAM CLI's own output when `.venv-sam/bin/sam` exists (and then the committed
copy in tests/events/ must still equal it), else the committed copy — never nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
SAM = ROOT / ".venv-sam" / "bin" / "sam"


def sam_event(committed: str, *generate_args: str) -> dict[str, Any]:
    copy = json.loads((ROOT / "tests" / "events" / committed).read_text())
    if not SAM.exists():
        return copy  # type: ignore[no-any-return]
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    out = subprocess.run(
        [str(SAM), "local", "generate-event", *generate_args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    ).stdout
    generated = json.loads(out)
    assert generated == copy, f"tests/events/{committed} is stale: regenerate it with sam"
    return generated  # type: ignore[no-any-return]


def shape(value: Any, free_maps: frozenset[str], path: str = "") -> Any:
    """Key sets and value types, recursively; `free_maps` are paths of string→string maps whose
    keys are data (header names, query parameters), compared by value type only."""
    if path in free_maps:
        assert isinstance(value, dict), path
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()), path
        return "map<str,str>"
    if isinstance(value, dict):
        return {k: shape(v, free_maps, f"{path}.{k}".lstrip(".")) for k, v in value.items()}
    if isinstance(value, list):
        return [
            sorted({json.dumps(shape(v, free_maps, path + "[]"), sort_keys=True) for v in value})
        ]
    return type(value).__name__


def drop(event: dict[str, Any], dotted: str) -> Any:
    """Remove a dotted key from a copy-owned dict and return its value (KeyError if missing)."""
    *parents, last = dotted.split(".")
    node = event
    for part in parents:
        node = node[part]
    return node.pop(last)
