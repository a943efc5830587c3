"""Where an S3 object goes in Wix.

- The route: the longest matching `{bucket, prefix}` from `RELAY_ROUTES` (a JSON list), else the
  default route (`RELAY_FOLDER_ROOT`, `RELAY_DEFAULT_MODE`). A route gives the folder root, labels,
  privacy and transfer mode.
- The key (already URL-decoded) below the route's prefix: its folders become the Wix `filePath`
  under the route's root, its last segment the `fileName`.
- Object metadata may refine within the route: `x-amz-meta-wix-file-path` (a folder *relative to
  the route's root*; traversal refused), `x-amz-meta-wix-labels` (comma-separated, added to the
  route's), `x-amz-meta-wix-private` (`true` makes it private; cannot make a private route public).
- A destination Wix would refuse fails with a clear reason; nothing is silently cut.
Pure Python.
"""

from __future__ import annotations

import email.header
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from wix_relay.domain.callers import folder_within, normalize_folder
from wix_relay.domain.errors import FieldProblem, InvalidInput
from wix_relay.domain.jobs import Destination
from wix_relay.domain.media import MODES, ModeName

# Wix limits for generate-upload-url / import [doc: docs/wix-facts.md "Upload URLs"].
FILE_PATH_MAX = 100
FILE_NAME_MAX = 200  # REST reference; newer typings allow more, the stricter one wins
LABELS_MAX = 50
LABEL_MAX = 200

META_FILE_PATH = "wix-file-path"
META_LABELS = "wix-labels"
META_PRIVATE = "wix-private"


@dataclass
class InvalidDestination(InvalidInput):
    """The object cannot go to Wix as named/configured (permanent: a retry won't fix it)."""

    code: str = "INVALID_DESTINATION"


@dataclass(frozen=True)
class Route:
    bucket: str | None = None
    """None matches any bucket."""
    prefix: str = ""
    """Matched on whole key segments (`inbox` and `inbox/` both mean keys under `inbox/`)."""
    folder_root: str = "/"
    labels: tuple[str, ...] = ()
    private: bool = False
    mode: ModeName | None = None
    """None: the configured default mode."""

    def matches(self, bucket: str, key: str) -> bool:
        if self.bucket is not None and self.bucket != bucket:
            return False
        prefix = self.prefix.strip("/")
        return not prefix or key.startswith(prefix + "/")

    def relative_key(self, key: str) -> str:
        prefix = self.prefix.strip("/")
        return key[len(prefix) + 1 :] if prefix else key


def parse_routes(document: str | None) -> tuple[Route, ...]:
    """`RELAY_ROUTES`: `[{"bucket","prefix","folderRoot","labels","private","mode"}]`.
    Raises ValueError naming the bad entry (a configuration problem)."""
    if not document:
        return ()
    raw: Any = json.loads(document)
    if not isinstance(raw, list):
        raise ValueError("RELAY_ROUTES must be a JSON list of routes")
    routes = []
    for index, item in enumerate(raw):
        where = f"RELAY_ROUTES[{index}]"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where} must be an object")
        labels = item.get("labels", [])
        mode = item.get("mode")
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise ValueError(f"{where}.labels must be a list of strings")
        if mode is not None and mode not in MODES:
            raise ValueError(f"{where}.mode must be one of {', '.join(MODES)}")
        if not isinstance(item.get("private", False), bool):
            raise ValueError(f"{where}.private must be true or false")
        try:
            root = normalize_folder(str(item.get("folderRoot", "/")), f"{where}.folderRoot")
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        routes.append(
            Route(
                bucket=_opt(item.get("bucket")),
                prefix=str(item.get("prefix", "")),
                folder_root=root,
                labels=tuple(labels),
                private=bool(item.get("private", False)),
                mode=cast(ModeName | None, mode),
            )
        )
    return tuple(routes)


def match_route(routes: Sequence[Route], default: Route, bucket: str, key: str) -> Route:
    """The most specific matching route: a named bucket beats any bucket, then longest prefix."""
    candidates = [r for r in routes if r.matches(bucket, key)]
    if not candidates:
        return default
    return max(candidates, key=lambda r: (r.bucket is not None, len(r.prefix.strip("/"))))


def object_destination(
    key: str, metadata: Mapping[str, str], route: Route, mime_type: str | None = None
) -> Destination:
    """The Wix destination for an S3 object (key already decoded) under `route`."""
    meta = {_meta_name(k): _meta_value(v) for k, v in metadata.items()}
    segments = [s for s in route.relative_key(key).split("/") if s != ""]
    if not segments or key.endswith("/"):
        raise _invalid("key", "names a folder, not a file", "NOT_A_FILE")
    *folders, file_name = segments
    folder = _join(route.folder_root, "/".join(folders), "key")
    refine = meta.get(META_FILE_PATH)
    if refine:
        field_name = "x-amz-meta-" + META_FILE_PATH
        folder = _join(route.folder_root, normalize_folder(refine, field_name), field_name)
    labels = list(route.labels)
    for label in (meta.get(META_LABELS) or "").split(","):
        if label.strip() and label.strip() not in labels:
            labels.append(label.strip())
    private = route.private or _flag(meta.get(META_PRIVATE), "x-amz-meta-" + META_PRIVATE)
    return checked_destination(
        Destination(
            file_name=file_name,
            file_path=None if folder == "/" else folder,
            mime_type=mime_type,
            labels=tuple(labels),
            private=private,
        )
    )


def checked_destination(dest: Destination) -> Destination:
    """Refuse what Wix would refuse (lengths, counts, control characters), naming the field."""
    if not dest.file_name.strip():
        raise _invalid("fileName", "must not be empty", "REQUIRED")
    if len(dest.file_name) > FILE_NAME_MAX:
        raise _invalid(
            "fileName",
            f"is {len(dest.file_name)} characters; Wix allows at most {FILE_NAME_MAX}",
            "MAX_LENGTH",
        )
    if _has_control(dest.file_name) or "/" in dest.file_name or "\\" in dest.file_name:
        raise _invalid("fileName", "must not contain control characters or slashes", "UNSAFE_NAME")
    if dest.file_path is not None and len(dest.file_path) > FILE_PATH_MAX:
        raise _invalid(
            "filePath",
            f"is {len(dest.file_path)} characters; Wix allows at most {FILE_PATH_MAX}",
            "MAX_LENGTH",
        )
    if len(dest.labels) > LABELS_MAX:
        raise _invalid("labels", f"has {len(dest.labels)} items; Wix allows {LABELS_MAX}", "MAX")
    for label in dest.labels:
        if len(label) > LABEL_MAX or _has_control(label):
            raise _invalid(
                "labels", f"each label must be 1-{LABEL_MAX} printable characters", "MAX_LENGTH"
            )
    return dest


def _join(root: str, relative: str, field_name: str) -> str:
    if not relative.strip("/"):
        return root
    path = normalize_folder(root.rstrip("/") + "/" + relative.strip("/"), field_name)
    if not folder_within(path, root):  # cannot happen after normalize_folder; belt and braces
        raise _invalid(field_name, "leaves the route's folder", "UNSAFE_PATH")
    return path


def _flag(value: str | None, field_name: str) -> bool:
    if value is None or value.strip() == "":
        return False
    lowered = value.strip().lower()
    if lowered in {"true", "yes", "1"}:
        return True
    if lowered in {"false", "no", "0"}:
        return False
    raise _invalid(field_name, "must be true or false", "BOOLEAN")


def _meta_name(name: str) -> str:
    name = name.lower()
    return name.removeprefix("x-amz-meta-")


def _meta_value(value: str) -> str:
    """S3 user metadata is ASCII; SDKs send non-ASCII values RFC 2047-encoded (`=?UTF-8?…?=`)."""
    if "=?" not in value:
        return value
    try:
        parts = email.header.decode_header(value)
    except (ValueError, LookupError):
        return value
    return "".join(
        p.decode(enc or "ascii", "replace") if isinstance(p, bytes) else p for p, enc in parts
    )


def wix_fields(dest: Destination, mime_type: str, size: int | None = None) -> dict[str, Any]:
    """Wix generate-upload-url / import fields for a destination [doc]."""
    fields: dict[str, Any] = {"mimeType": mime_type, "fileName": dest.file_name}
    if size is not None:
        fields["sizeInBytes"] = str(size)  # a decimal string [doc]
    if dest.file_path is not None:
        fields["filePath"] = dest.file_path
    elif dest.parent_folder_id is not None:
        fields["parentFolderId"] = dest.parent_folder_id
    if dest.labels:
        fields["labels"] = list(dest.labels)
    if dest.private:
        fields["private"] = True
    return fields


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in text)


def _invalid(field_name: str, problem: str, rule: str) -> InvalidDestination:
    return InvalidDestination(f"{field_name} {problem}", [FieldProblem(field_name, problem, rule)])


def _opt(value: Any) -> str | None:
    return None if value in (None, "", "*") else str(value)
