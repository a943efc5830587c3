"""What Wix returns, typed. Unknown fields are ignored (kept in `raw`) [doc]."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wix_relay.integrations.wix.errors import WixProtocolError


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _size(value: Any) -> int | None:
    # sizeInBytes is a decimal string on the wire [doc]; accept a number too.
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class FileDescriptor:
    """A Wix Media Manager file (REST names; the SDK's `_id` is `id` here) [doc]."""

    id: str
    display_name: str | None = None
    url: str | None = None
    parent_folder_id: str | None = None
    hash: str | None = None
    size_in_bytes: int | None = None
    private: bool | None = None
    media_type: str | None = None
    operation_status: str | None = None
    source_url: str | None = None
    thumbnail_url: str | None = None
    labels: tuple[str, ...] = ()
    created_date: str | None = None
    updated_date: str | None = None
    site_id: str | None = None
    state: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_ready(self) -> bool:
        return self.operation_status == "READY"

    @property
    def is_failed(self) -> bool:
        return self.operation_status == "FAILED"

    @property
    def is_final(self) -> bool:
        return self.operation_status in ("READY", "FAILED")

    @classmethod
    def from_json(cls, data: Any) -> FileDescriptor:
        if not isinstance(data, Mapping) or not data.get("id"):
            raise WixProtocolError("Wix returned a file descriptor without an id")
        labels = data.get("labels")
        private = data.get("private")
        return cls(
            id=str(data["id"]),
            display_name=_str(data, "displayName"),
            url=_str(data, "url"),
            parent_folder_id=_str(data, "parentFolderId"),
            hash=_str(data, "hash"),
            size_in_bytes=_size(data.get("sizeInBytes")),
            private=private if isinstance(private, bool) else None,
            media_type=_str(data, "mediaType"),
            operation_status=_str(data, "operationStatus"),
            source_url=_str(data, "sourceUrl"),
            thumbnail_url=_str(data, "thumbnailUrl"),
            labels=tuple(str(x) for x in labels) if isinstance(labels, list) else (),
            created_date=_str(data, "createdDate"),
            updated_date=_str(data, "updatedDate"),
            site_id=_str(data, "siteId"),
            state=_str(data, "state"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class ResumableTarget:
    """generate-resumable-upload-url's answer: the tus endpoint and the single-use token [doc]."""

    upload_url: str
    upload_token: str = field(repr=False)
    protocol: str = "TUS"


@dataclass(frozen=True)
class FileList:
    """One page of `GET /site-media/v1/files`; `next_cursor` is None on the last page [doc]."""

    files: tuple[FileDescriptor, ...]
    next_cursor: str | None = None
