"""The emulator's in-memory state: files, folders, upload tokens, TUS uploads, OAuth tokens."""

from __future__ import annotations

import hashlib
import heapq
import itertools
import secrets
import shutil
import struct
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import errors as e
from .config import EmulatorConfig
from .httpbody import BLOCK
from .mediatypes import FileType
from .ratelimit import TokenBucket

ROOT_FOLDERS = ("media-root", "visitor-uploads-root")  # [doc] default parent is media-root


def iso(ts: float) -> str:
    """Wix date-time: `2023-07-23T10:33:00.000Z`."""
    return (
        datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{int(ts * 1000) % 1000:03d}Z"
    )


@dataclass
class Ticket:
    """An upload token from generate(-resumable)-upload-url."""

    token: str
    kind: str  # "upload" | "tus"
    fields: dict[str, Any]
    folder_id: str
    expires_at: float
    used: bool = False


@dataclass
class TusUpload:
    id: str
    token: str
    length: int
    metadata: dict[str, str]
    path: Path
    created: float
    offset: int = 0
    busy: bool = False


@dataclass
class StoredFile:
    id: str
    display_name: str
    folder_id: str
    type: FileType
    private: bool
    labels: list[str]
    created: float
    source: str  # "upload" | "tus" | "import"
    path: Path
    size: int = 0
    md5: str = ""
    md5_pending: bool = False  # hash_after_answer: computed from `path` on first read
    ready_at: float | None = None  # None while an import is still fetching
    will_fail: bool = False
    source_url: str | None = None
    external_info: dict[str, Any] | None = None
    dims: tuple[int, int] | None = None
    failure: str | None = None
    failure_code: str | None = None
    announced: bool = False  # its File Ready / File Failed event was emitted


def image_dims(head: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG or GIF header (enough for the descriptor's media.image)."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    return None


class Store:
    """All mutable state, guarded by one lock. Bytes live under `data_dir`."""

    def __init__(self, cfg: EmulatorConfig, data_dir: Path) -> None:
        self.cfg = cfg
        self.data_dir = data_dir
        self.lock = threading.RLock()
        self.base_url = ""  # set once the server is bound
        self.clock_offset = 0.0
        self.fail_next = 0
        self.files: dict[str, StoredFile] = {}
        self.folders: dict[str, tuple[str, str]] = {}  # id -> (parent id, name)
        self.folder_ids: dict[tuple[str, str], str] = {}  # (parent id, name) -> id
        self.tickets: dict[str, Ticket] = {}
        self.tus: dict[str, TusUpload] = {}
        self.oauth_tokens: dict[str, float] = {}  # token -> expiry
        self.requests: deque[dict[str, Any]] = deque(maxlen=2000)
        # Bumped by every reset: a call that began before it (e.g. one sleeping in an injected
        # delay) belongs to the forgotten era and must neither log nor change anything after it.
        self.generation = 0
        # One site, one app instance: every authenticated call shares one bucket.
        self.rate_bucket: TokenBucket | None = None
        # Files waiting to reach READY/FAILED: (ready_at, seq, file id), watched by the
        # finisher thread (webhooks.py), woken through `due_changed`.
        self.due: list[tuple[float, int, str]] = []
        self.due_changed = threading.Condition(self.lock)
        self._due_seq = itertools.count()
        self.site_prefix = hashlib.md5(cfg.site_id.encode(), usedforsecurity=False).hexdigest()[:6]
        (data_dir / "files").mkdir(parents=True, exist_ok=True)
        (data_dir / "incoming").mkdir(parents=True, exist_ok=True)

    # --- time -----------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.clock_offset

    # --- reset ----------------------------------------------------------------------------
    def reset(self, *, tokens: bool = False) -> None:
        """Forget every file, folder, upload token and TUS upload (OAuth tokens only if asked)."""
        with self.lock:
            self.generation += 1
            self.files.clear()
            self.folders.clear()
            self.folder_ids.clear()
            self.tickets.clear()
            self.tus.clear()
            self.requests.clear()
            self.rate_bucket = None
            self.fail_next = 0
            self.clock_offset = 0.0
            self.due.clear()
            if tokens:
                self.oauth_tokens.clear()
            for sub in ("files", "incoming"):
                shutil.rmtree(self.data_dir / sub, ignore_errors=True)
                (self.data_dir / sub).mkdir(parents=True, exist_ok=True)

    # --- paths ----------------------------------------------------------------------------
    def incoming_path(self) -> Path:
        return self.data_dir / "incoming" / uuid.uuid4().hex

    def stored_path(self, file_id: str) -> Path:
        return (
            self.data_dir
            / "files"
            / hashlib.sha1(file_id.encode(), usedforsecurity=False).hexdigest()
        )

    # --- folders --------------------------------------------------------------------------
    def folder_exists(self, folder_id: str) -> bool:
        return folder_id in ROOT_FOLDERS or folder_id in self.folders

    def resolve_folder(self, parent_id: str | None, file_path: str | None) -> str:
        """[doc] filePath is created under parentFolderId (default media-root); returns the leaf id.
        An unknown parentFolderId is a 404 [guess]."""
        parent = parent_id or "media-root"
        with self.lock:
            if not self.folder_exists(parent):
                raise e.application_error(
                    404,
                    "FOLDER_NOT_FOUND",
                    f"folder {parent!r} does not exist",
                    {"folderId": parent},
                )
            for name in (file_path or "").split("/"):
                if not name:
                    continue
                key = (parent, name)
                if key not in self.folder_ids:
                    folder_id = uuid.uuid4().hex  # [guess] Wix folder ids are 32 hex digits
                    self.folder_ids[key] = folder_id
                    self.folders[folder_id] = key
                parent = self.folder_ids[key]
        return parent

    def folder_path(self, folder_id: str) -> str:
        names: list[str] = []
        while folder_id in self.folders:
            folder_id, name = self.folders[folder_id]
            names.append(name)
        root = "" if folder_id == "media-root" else f"/{folder_id}"
        return root + "/" + "/".join(reversed(names))

    # --- upload tokens --------------------------------------------------------------------
    def new_ticket(self, kind: str, fields: dict[str, Any], folder_id: str) -> Ticket:
        ticket = Ticket(
            token=secrets.token_urlsafe(48),
            kind=kind,
            fields=fields,
            folder_id=folder_id,
            expires_at=self.now() + self.cfg.upload_token_ttl_s,
        )
        with self.lock:
            self.tickets[ticket.token] = ticket
        return ticket

    def ticket(self, token: str, kind: str) -> Ticket:
        """A usable token or a 403 [guess: status and codes are not documented]."""
        with self.lock:
            ticket = self.tickets.get(token)
        if ticket is None or ticket.kind != kind:
            raise e.application_error(403, "INVALID_UPLOAD_TOKEN", "upload token is not valid")
        if ticket.used:
            raise self.reused_token()
        if ticket.expires_at <= self.now():
            raise e.application_error(403, "UPLOAD_TOKEN_EXPIRED", "upload token has expired")
        return ticket

    def consume(self, ticket: Ticket) -> None:
        """[guess] Only a successful upload uses up the token, so a refused upload can be retried
        on the same URL (the documented octet-stream retry)."""
        with self.lock:
            if ticket.used:
                raise self.reused_token()
            ticket.used = True

    def reused_token(self) -> e.WixApiError:
        """403 UPLOAD_TOKEN_ALREADY_USED [guess], or with `reused_token_429` a 429 (Wix's errors
        page names "a previously used one-time token" as a 429 example [guess: weak])."""
        if self.cfg.reused_token_429:
            return e.rate_limited("the one-time upload token was already used")
        return e.application_error(
            403, "UPLOAD_TOKEN_ALREADY_USED", "upload token was already used"
        )

    # --- OAuth ----------------------------------------------------------------------------
    def issue_token(self) -> tuple[str, int]:
        token = "OauthNG.JWS." + secrets.token_urlsafe(96)  # [guess] opaque; shaped like Wix's
        with self.lock:
            self.oauth_tokens[token] = self.now() + self.cfg.token_expires_in
        return token, self.cfg.token_expires_in

    def token_state(self, token: str) -> str:
        """'valid' | 'expired' | 'unknown'."""
        with self.lock:
            expiry = self.oauth_tokens.get(token)
        if expiry is None:
            return "unknown"
        return "valid" if expiry > self.now() else "expired"

    # --- files ----------------------------------------------------------------------------
    def used_bytes(self) -> int:
        with self.lock:
            return sum(f.size for f in self.files.values() if not f.will_fail)

    def new_file_id(self, ftype: FileType) -> str:
        """[guess] Shapes seen in Wix samples: images `0abec0_<32 hex>~mv2.jpg`; video ids carry
        no extension; other types `<prefix>_<32 hex>.<ext>`. The prefix is from the site id."""
        core = f"{self.site_prefix}_{uuid.uuid4().hex}"
        if ftype.category in ("image", "vector"):
            return f"{core}~mv2.{ftype.ext or 'jpg'}"
        if ftype.category == "video" or not ftype.ext:
            return core
        return f"{core}.{ftype.ext}"

    def add_file(self, f: StoredFile) -> StoredFile:
        with self.lock:
            self.files[f.id] = f
        return f

    def schedule_processing(self, f: StoredFile) -> None:
        """PENDING now; READY (or FAILED if a failure was requested) after the processing time
        of its media type."""
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                f.will_fail = True
            self.finish_at(f, self.now() + self.cfg.processing_ms_for(f.type.category) / 1000)

    def fail_now(self, f: StoredFile, code: str, description: str) -> None:
        """FAILED at once (an import that could not be fetched or was refused)."""
        with self.lock:
            f.will_fail = True
            f.failure_code, f.failure = code, description
            self.finish_at(f, self.now())

    def finish_at(self, f: StoredFile, when: float) -> None:
        with self.lock:
            f.ready_at = when
            heapq.heappush(self.due, (when, next(self._due_seq), f.id))
            self.due_changed.notify_all()

    def advance(self, seconds: float) -> None:
        """Move the clock (the finisher re-checks what became due)."""
        with self.lock:
            self.clock_offset += seconds
            self.due_changed.notify_all()

    def status(self, f: StoredFile, at: float | None = None) -> str:
        """operationStatus now (or as it was at time `at`)."""
        if f.ready_at is None or f.ready_at > (self.now() if at is None else at):
            return "PENDING"
        return "FAILED" if f.will_fail else "READY"

    def find_file(self, file_id: str) -> StoredFile | None:
        # [doc] a Wix media URL is accepted as an id: wix:image://v1/<id>/<name>#...
        if file_id.startswith("wix:") and "://v1/" in file_id:
            file_id = file_id.split("://v1/", 1)[1].split("/", 1)[0].split("#", 1)[0]
        with self.lock:
            return self.files.get(file_id)

    def static_url(self, f: StoredFile) -> str:
        base = (self.cfg.public_base_url or self.base_url).rstrip("/")
        return f"{base}/_emulator/static/media/{f.id}"

    def md5_of(self, f: StoredFile) -> str:
        """The file's MD5 hex; with `hash_after_answer`, computed from the stored bytes by the
        first read that needs it (outside the store lock; two readers at once hash twice)."""
        if f.md5_pending:
            digest = hashlib.md5(usedforsecurity=False)
            with f.path.open("rb") as fh:
                while block := fh.read(BLOCK):
                    digest.update(block)
            f.md5, f.md5_pending = digest.hexdigest(), False
        return f.md5

    def descriptor(
        self, f: StoredFile, at: float | None = None, *, hash_if_known: bool = False
    ) -> dict[str, Any]:
        """The FileDescriptor as Wix's REST API returns it [doc field list]. `hash_if_known`:
        the upload's own answer, which does not wait for a deferred MD5 ("" until known)."""
        status = self.status(f, at)
        url = self.static_url(f)
        updated = f.created if status == "PENDING" or f.ready_at is None else f.ready_at
        out: dict[str, Any] = {
            "id": f.id,
            "displayName": f.display_name,
            "url": url,
            "parentFolderId": f.folder_id,
            "hash": f.md5 if hash_if_known else self.md5_of(f),
            "sizeInBytes": str(f.size),
            "private": f.private,
            "mediaType": f.type.media_type,
            "operationStatus": status,
            "labels": list(f.labels),
            "createdDate": iso(f.created),
            "updatedDate": iso(updated),
            "siteId": self.cfg.site_id,
            "state": "OK",
        }
        if status == "READY":
            # [doc] Import File's (PENDING) answer has no `media` key at all; [guess] no PENDING
            # or FAILED descriptor has one.
            out["media"] = self._media(f, url)
        if f.source_url:
            out["sourceUrl"] = f.source_url
        if f.type.category in ("image", "vector") and status == "READY":
            out["thumbnailUrl"] = url
        return out

    @staticmethod
    def _media(f: StoredFile, url: str) -> dict[str, Any]:
        """`media` holds one key named after the category [doc: SDK typings and its REST → SDK
        transformations]: image/vector `{image: {id, url, width, height, filename, sizeInBytes}}`,
        video `{id, resolutions: [{url, height, width, format}], filename}`, audio
        `{id, assets: [{id, url, filename}], format, sizeInBytes}`, document/archive/model3d
        `{id, url, filename, sizeInBytes}`. [guess] one resolution (the stored bytes) without
        width/height (the emulator does not decode video); no bitrate/duration."""
        category = f.type.category
        info: dict[str, Any] = {
            "id": f.id,
            "url": url,
            "filename": f.display_name,
            "sizeInBytes": str(f.size),
        }
        if category in ("image", "vector"):
            if f.dims:
                info["width"], info["height"] = f.dims
            return {category: {"image": info}}
        if category == "video":
            resolution = {"url": url, "format": f"original.{f.type.ext or 'mp4'}"}
            return {"video": {"id": f.id, "resolutions": [resolution], "filename": f.display_name}}
        if category == "audio":
            asset = {"id": f.id, "url": url, "filename": f.display_name}
            return {
                "audio": {
                    "id": f.id,
                    "assets": [asset],
                    "format": f.type.ext or "",
                    "sizeInBytes": str(f.size),
                }
            }
        if category == "other":
            return {}
        return {category: info}

    def control_entry(self, f: StoredFile) -> dict[str, Any]:
        """A row of GET /_emulator/files."""
        return {
            "id": f.id,
            "folderPath": self.folder_path(f.folder_id),
            "parentFolderId": f.folder_id,
            "displayName": f.display_name,
            "size": f.size,
            "mimeType": f.type.mime,
            "mediaType": f.type.media_type,
            "md5": self.md5_of(f),
            "operationStatus": self.status(f),
            "private": f.private,
            "labels": list(f.labels),
            "source": f.source,
            "sourceUrl": f.source_url,
            "externalInfo": f.external_info,
        }
