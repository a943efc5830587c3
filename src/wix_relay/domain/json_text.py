"""JSON text from outside (request bodies, an identity provider's key set), parsed safely.

Python's `json.loads` recurses once per nesting level, so a 10,000-deep `[[[…]]]` raises
`RecursionError` deep inside the parser. `loads` counts the nesting first, in one linear pass over
the text (strings skipped), and refuses anything deeper than `max_depth` before the
parser runs. It also refuses duplicate keys and the non-JSON constants `NaN` / `Infinity`.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
"""Far more than any document the relay reads (its deepest request field is 3 levels down)."""

_SPECIAL = re.compile(r'[\\"\[\]{}]')


class JsonRefused(ValueError):
    """The text is not a JSON document the relay accepts; `field` names a duplicated key."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def nesting_depth(text: str, limit: int) -> int:
    """The deepest `[`/`{` nesting of `text` outside strings (one linear pass over the
    characters that matter); counting stops once it passes `limit`."""
    depth = deepest = 0
    in_string = False
    escaped_at = -1
    for match in _SPECIAL.finditer(text):
        at, char = match.start(), match.group()
        if at == escaped_at:
            continue
        if in_string:
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif char in "]}":
            depth -= 1
    return deepest


def loads(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of `text`, or `JsonRefused` saying why not (position, depth, duplicate)."""
    if nesting_depth(text, max_depth) > max_depth:
        raise JsonRefused(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except JsonRefused:
        raise
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise JsonRefused(str(exc)[:120] or type(exc).__name__) from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JsonRefused(f"duplicate field {key!r}", field=key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON value")
