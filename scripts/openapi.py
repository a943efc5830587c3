"""The committed copy of the API's OpenAPI document, docs/openapi.json.

    python scripts/openapi.py            # (re)write docs/openapi.json   (= make openapi)
    python scripts/openapi.py --check    # exit 1 if docs/openapi.json differs from the code

The document is what `GET /v1/openapi.json` serves: built by `wix_relay.web.openapi` from the
registered routes and their field tables. tests/unit/api/test_openapi_document.py fails when the
committed copy drifts from the code.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COMMITTED = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def document_text() -> str:
    """The served document, pretty-printed (keys in the order the builder gives them)."""
    from wix_relay.handlers import api

    served = api._openapi_json()  # what GET /v1/openapi.json answers
    return json.dumps(json.loads(served), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    text = document_text()
    if args.check:
        if not COMMITTED.exists() or COMMITTED.read_text() != text:
            print(f"{COMMITTED.name} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    COMMITTED.write_text(text)
    print(f"wrote {COMMITTED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
