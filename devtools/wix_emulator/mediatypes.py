"""File types: extension and MIME tables, content sniffing, Wix media categories and size limits.

All [guess] unless noted: Wix publishes a list of supported formats in a help article (second-hand
copy in docs/wix-facts.md, "File types and sizes"); the exact MIME handling is not documented.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

OCTET_STREAM = "application/octet-stream"

# category -> Wix mediaType enum value [doc: the enum]; the category names are the `media` keys.
MEDIA_TYPES = {
    "image": "IMAGE",
    "vector": "VECTOR",
    "video": "VIDEO",
    "audio": "AUDIO",
    "document": "DOCUMENT",
    "archive": "ARCHIVE",
    "model3d": "MODEL3D",
    "other": "OTHER",
}

# extension -> (canonical MIME type, category)
EXTENSIONS: dict[str, tuple[str, str]] = {
    "jpg": ("image/jpeg", "image"),
    "jpeg": ("image/jpeg", "image"),
    "jfif": ("image/jpeg", "image"),
    "png": ("image/png", "image"),
    "gif": ("image/gif", "image"),
    "webp": ("image/webp", "image"),
    "bmp": ("image/bmp", "image"),
    "tif": ("image/tiff", "image"),
    "tiff": ("image/tiff", "image"),
    "ico": ("image/x-icon", "image"),
    "heic": ("image/heic", "image"),
    "heif": ("image/heif", "image"),
    "avif": ("image/avif", "image"),
    "svg": ("image/svg+xml", "vector"),
    "mp4": ("video/mp4", "video"),
    "m4v": ("video/x-m4v", "video"),
    "mov": ("video/quicktime", "video"),
    "avi": ("video/x-msvideo", "video"),
    "wmv": ("video/x-ms-wmv", "video"),
    "mpg": ("video/mpeg", "video"),
    "mpeg": ("video/mpeg", "video"),
    "webm": ("video/webm", "video"),
    "mkv": ("video/x-matroska", "video"),
    "flv": ("video/x-flv", "video"),
    "3gp": ("video/3gpp", "video"),
    "mts": ("video/mp2t", "video"),
    "m2ts": ("video/mp2t", "video"),
    "ogv": ("video/ogg", "video"),
    "mp3": ("audio/mpeg", "audio"),
    "wav": ("audio/wav", "audio"),
    "aac": ("audio/aac", "audio"),
    "m4a": ("audio/mp4", "audio"),
    "flac": ("audio/flac", "audio"),
    "ogg": ("audio/ogg", "audio"),
    "oga": ("audio/ogg", "audio"),
    "wma": ("audio/x-ms-wma", "audio"),
    "aif": ("audio/aiff", "audio"),
    "aiff": ("audio/aiff", "audio"),
    "pdf": ("application/pdf", "document"),
    "doc": ("application/msword", "document"),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "document",
    ),
    "xls": ("application/vnd.ms-excel", "document"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "document"),
    "ppt": ("application/vnd.ms-powerpoint", "document"),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "document",
    ),
    "odt": ("application/vnd.oasis.opendocument.text", "document"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "document"),
    "odp": ("application/vnd.oasis.opendocument.presentation", "document"),
    "rtf": ("application/rtf", "document"),
    "txt": ("text/plain", "document"),
    "csv": ("text/csv", "document"),
    "epub": ("application/epub+zip", "document"),
    "zip": ("application/zip", "archive"),
    "rar": ("application/vnd.rar", "archive"),
    "7z": ("application/x-7z-compressed", "archive"),
    "tar": ("application/x-tar", "archive"),
    "gz": ("application/gzip", "archive"),
    "glb": ("model/gltf-binary", "model3d"),
    "gltf": ("model/gltf+json", "model3d"),
    "ttf": ("font/ttf", "other"),
    "otf": ("font/otf", "other"),
    "woff": ("font/woff", "other"),
    "woff2": ("font/woff2", "other"),
}

# Extra MIME spellings seen in the wild -> category.
MIME_ALIASES: dict[str, str] = {
    "image/jpg": "image",
    "image/pjpeg": "image",
    "image/x-png": "image",
    "image/x-ms-bmp": "image",
    "video/avi": "video",
    "audio/mp3": "audio",
    "audio/x-wav": "audio",
    "audio/wave": "audio",
    "audio/x-aiff": "audio",
    "audio/x-m4a": "audio",
    "audio/x-flac": "audio",
    "application/x-zip-compressed": "archive",
    "application/x-rar-compressed": "archive",
    "application/x-gzip": "archive",
    "model/obj": "model3d",
}
MIME_CATEGORIES: dict[str, str] = {mime: cat for mime, cat in EXTENSIONS.values()} | MIME_ALIASES

# [doc] Wix refuses text/html; the others are the same risk class (active content) [guess].
REFUSED_MIME_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/x-msdownload",
        "application/x-sh",
        "application/x-executable",
    }
)
REFUSED_EXTENSIONS = frozenset({"html", "htm", "xhtml", "js", "mjs", "exe", "sh", "bat", "cmd"})


def base_mime(value: str | None) -> str:
    """`image/JPEG; charset=x` -> `image/jpeg`; None -> ''."""
    return (value or "").split(";", 1)[0].strip().lower()


def extension(name: str | None) -> str:
    """Lower-case extension without the dot ('' when none)."""
    if not name:
        return ""
    _, ext = posixpath.splitext(posixpath.basename(name.rstrip("/")))
    return ext[1:].lower()


def is_refused(mime: str, ext: str = "") -> bool:
    return mime in REFUSED_MIME_TYPES or ext in REFUSED_EXTENSIONS


def category_of_mime(mime: str) -> str | None:
    """Category for a declared MIME type; None for octet-stream / unknown-but-generic."""
    if not mime or mime == OCTET_STREAM:
        return None
    if mime in MIME_CATEGORIES:
        return MIME_CATEGORIES[mime]
    major = mime.split("/", 1)[0]
    # [guess] unknown subtypes of a known family are accepted as that family.
    return {"image": "image", "video": "video", "audio": "audio", "model": "model3d"}.get(
        major, "other"
    )


def category_of_extension(ext: str) -> str | None:
    entry = EXTENSIONS.get(ext)
    return entry[1] if entry else None


def mime_of_extension(ext: str) -> str | None:
    entry = EXTENSIONS.get(ext)
    return entry[0] if entry else None


# (offset, magic bytes, MIME type); enough to tell the common formats apart.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"OggS", "audio/ogg"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
    (0, b"glTF", "model/gltf-binary"),
    (4, b"ftyp", "video/mp4"),
)


def sniff(head: bytes) -> str | None:
    """MIME type from the first bytes, or None when not recognised."""
    for offset, magic, mime in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return mime
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}[head[8:12]]
    stripped = head.lstrip()[:256].lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if stripped.startswith(b"<svg") or (stripped.startswith(b"<?xml") and b"<svg" in stripped):
        return "image/svg+xml"
    return None


@dataclass(frozen=True)
class FileType:
    """The type Wix settles on for a file."""

    mime: str
    category: str
    ext: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.category]

    def size_limit(self, limits: Mapping[str, int]) -> int:
        """Per-type maximum (GIF and SVG have their own [guess])."""
        if self.mime == "image/gif" and "gif" in limits:
            return limits["gif"]
        if self.category == "vector" and "svg" in limits:
            return limits["svg"]
        return limits.get(self.category, limits.get("other", 0))


def resolve(mime: str, name: str | None, head: bytes | None = None) -> FileType:
    """Decide a file's type from the declared MIME type, its name and (if given) its first bytes.

    A declared type wins; octet-stream (or nothing) is resolved from the content, then the name's
    extension [doc: Wix "sniffs the type" when told application/octet-stream]; failing all that the
    file is OTHER [guess].
    """
    ext = extension(name)
    category = category_of_mime(mime)
    if category is not None:
        return FileType(mime, category, ext or _ext_for(mime))
    sniffed = sniff(head) if head else None
    if sniffed and sniffed in MIME_CATEGORIES:
        return FileType(sniffed, MIME_CATEGORIES[sniffed], ext or _ext_for(sniffed))
    if ext in EXTENSIONS:
        ext_mime, ext_category = EXTENSIONS[ext]
        return FileType(ext_mime, ext_category, ext)
    return FileType(mime or OCTET_STREAM, "other", ext)


def _ext_for(mime: str) -> str:
    for ext, (known, _) in EXTENSIONS.items():
        if known == mime:
            return ext
    return ""


def mismatch(mime: str, name: str | None) -> bool:
    """[guess] A declared type contradicts the name when the two belong to different categories
    (image/jpeg for clip.mp4). Same-family differences (image/png for a .jpg) pass: Wix sniffs."""
    declared = category_of_mime(mime)
    by_name = category_of_extension(extension(name))
    return declared is not None and by_name is not None and declared != by_name


def content_mismatch(mime: str, head: bytes) -> bool:
    """[guess] The bytes are recognisably of another category than the declared type."""
    declared = category_of_mime(mime)
    sniffed = sniff(head)
    if declared is None or sniffed is None or sniffed not in MIME_CATEGORIES:
        return False
    actual = MIME_CATEGORIES[sniffed]
    # A zip container is also the shape of docx/xlsx/epub: not a contradiction.
    if actual == "archive" and declared == "document":
        return False
    return declared != actual
