"""Wix's file rules [doc: rule names from the SDK typings; the checks are guesses]:
UNSUPPORTED_FILE_FORMAT, MISMATCH_MIME_TYPE, ZERO_FILE_SIZE, FILE_SIZE_OVER_LIMIT,
SITE_QUOTA_EXCEEDED.
Applied at generate time on what the request declares, and at upload time on the real bytes.
"""

from __future__ import annotations

from . import errors as e
from . import mediatypes as mt
from .state import Store


def check_declared(mime: str, name: str | None, field: str = "mimeType") -> None:
    """Type rules on a declared MIME type and file name."""
    if mt.is_refused(mime, mt.extension(name)):
        raise e.rule_error(
            field, e.UNSUPPORTED_FILE_FORMAT, f"file format {mime!r} is not supported"
        )
    if mime != mt.OCTET_STREAM and mt.mismatch(mime, name):
        raise e.rule_error(
            field,
            e.MISMATCH_MIME_TYPE,
            f"mime type {mime!r} does not match the file name {name!r}",
        )


def check_generated(mime: str, generated: str, field: str = "mimeType") -> None:
    """[guess] The type sent with the bytes must not contradict the generate-time mimeType
    (octet-stream is always allowed: Wix sniffs)."""
    declared = mt.category_of_mime(mime)
    if mime != mt.OCTET_STREAM and mt.category_of_mime(generated) not in (None, declared):
        raise e.rule_error(
            field,
            e.MISMATCH_MIME_TYPE,
            f"mime type {mime!r} contradicts the generated mimeType {generated!r}",
        )


def check_content(mime: str, head: bytes, field: str = "file") -> None:
    """Type rules on the first bytes of the real content."""
    sniffed = mt.sniff(head)
    if sniffed and mt.is_refused(sniffed):
        raise e.rule_error(
            field, e.UNSUPPORTED_FILE_FORMAT, f"file format {sniffed!r} is not supported"
        )
    if mime != mt.OCTET_STREAM and mt.content_mismatch(mime, head):
        raise e.rule_error(
            field, e.MISMATCH_MIME_TYPE, f"the content is {sniffed!r}, not the declared {mime!r}"
        )


def check_size(
    store: Store,
    ftype: mt.FileType,
    size: int,
    *,
    field: str = "sizeInBytes",
    quota: bool = True,
    final: bool = True,
) -> None:
    """Size rules. `final=False` while bytes are still arriving (no zero check yet)."""
    if final and size == 0:
        raise e.rule_error(field, e.ZERO_FILE_SIZE, "the file is empty")
    limit = ftype.size_limit(store.cfg.size_limits)
    if size > limit:
        raise e.rule_error(
            field,
            e.FILE_SIZE_OVER_LIMIT,
            f"{ftype.media_type.lower()} files may be at most {limit} bytes",
            maxSizeInBytes=str(limit),
            mediaType=ftype.media_type,
        )
    check_quota(store, size, field=field, enabled=quota)


def check_quota(
    store: Store, size: int, *, field: str = "sizeInBytes", enabled: bool = True
) -> None:
    quota = store.cfg.site_quota_bytes
    if enabled and quota and store.used_bytes() + size > quota:
        # [doc: SDK typings] SiteQuotaExceededError carries {quota: {storage}}.
        raise e.rule_error(
            field,
            e.SITE_QUOTA_EXCEEDED,
            "the site's storage quota is used up",
            quota={"storage": str(quota)},
        )
