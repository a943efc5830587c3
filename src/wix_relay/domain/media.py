"""What goes to Wix and how: MIME detection, Wix's MIME refusals and the octet-stream fallback
name, the MIME-type syntax, and the transfer modes. Pure Python; one definition of each.
"""

from __future__ import annotations

import mimetypes
import re
from functools import cache
from typing import Literal

ModeName = Literal["auto", "upload", "resumable", "import"]
ConcreteMode = Literal["upload", "resumable", "import"]
MODES: tuple[ModeName, ...] = ("auto", "upload", "resumable", "import")

MIME_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
"""A concrete `type/subtype` (RFC 6838 restricted-name characters)."""

OCTET_STREAM = "application/octet-stream"
# Content-Types that say nothing: S3's default for uploads without one, and the generic one.
_UNINFORMATIVE_TYPES = frozenset({"", "binary/octet-stream", OCTET_STREAM})
# Wix refuses the declared type with these rules; the documented fallback is octet-stream with
# the extension in `filename` so Wix sniffs the type [doc: docs/wix-facts.md "the single PUT"].
# [guess] the last three: other spellings of the same refusal.
MIME_REFUSAL_RULES = frozenset(
    {
        "MISMATCH_MIME_TYPE",
        "UNSUPPORTED_FILE_FORMAT",
        "UNSUPPORTED_MIME_TYPE",
        "INVALID_MIME_TYPE",
        "MIME_TYPE_NOT_SUPPORTED",
    }
)


@cache
def _mime_table() -> mimetypes.MimeTypes:
    # Python's built-in table only: the host's /etc/mime.types must not change behaviour.
    return mimetypes.MimeTypes(filenames=())


def detect_mime(content_type: str | None, file_name: str) -> str:
    """The object's Content-Type unless uninformative, then the extension, then octet-stream."""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared not in _UNINFORMATIVE_TYPES and "/" in declared and len(declared) <= 100:
        return declared
    guessed, _ = _mime_table().guess_type(file_name, strict=False)
    return guessed or OCTET_STREAM


def fallback_file_name(file_name: str, mime_type: str) -> str:
    """The name sent with octet-stream: it must carry an extension so Wix can sniff [doc]."""
    if "." in file_name.lstrip("."):
        return file_name
    extension = _mime_table().guess_extension(mime_type, strict=False)
    return file_name + (extension or "")


def is_mime_refusal(exc: BaseException) -> bool:
    """Wix refused the declared type: a 415, or a 400 naming a MIME rule [doc + guess]."""
    if getattr(exc, "status", None) == 415:
        return True
    names = {str(getattr(exc, "code", "")), *rule_names(exc)}
    return bool(names & MIME_REFUSAL_RULES)


def rule_names(exc: BaseException) -> tuple[str, ...]:
    """The Wix rule names an error carries (`WixError.rule_names`), else ()."""
    names = getattr(exc, "rule_names", ())
    return tuple(str(n) for n in names) if isinstance(names, (list, tuple)) else ()


def plan_mode(mode: ModeName, size: int, upload_threshold_bytes: int) -> ConcreteMode:
    if mode == "auto":
        return "upload" if size <= upload_threshold_bytes else "resumable"
    return mode
