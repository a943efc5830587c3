"""The upload side (upload.wixmp.com): the one-shot PUT, the TUS 1.0.0 server and the finalize PUT.

The token in the URL is the only credential [doc]. Bodies are streamed to disk in 1 MiB blocks
and hashed on the way; nothing is buffered whole.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from pathlib import Path
from typing import Any

from . import errors as e
from . import mediatypes as mt
from . import rules
from .httpbody import BLOCK, PipelinedSink, Sink
from .server import Request, route
from .state import StoredFile, Ticket, TusUpload, image_dims

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination"
OFFSET_STREAM = "application/offset+octet-stream"


# --- shared ----------------------------------------------------------------------------------
def _store_file(
    req: Request,
    ticket: Ticket,
    tmp: Path,
    ftype: mt.FileType,
    name: str | None,
    size: int,
    md5: str,
    head: bytes,
    source: str,
) -> StoredFile:
    """Consume the token, keep the bytes, start processing; returns the new file."""
    store = req.store
    store.consume(ticket)
    fields = ticket.fields
    display = (name or (f"upload.{ftype.ext}" if ftype.ext else "upload"))[:255]
    f = StoredFile(
        id=store.new_file_id(ftype),
        display_name=display,
        folder_id=ticket.folder_id,
        type=ftype,
        private=bool(fields.get("private", False)),
        labels=list(fields.get("labels", [])),
        created=store.now(),
        source=source,
        path=Path(),
        size=size,
        md5=md5,
        external_info=fields.get("externalInfo"),
        dims=image_dims(head),
        md5_pending=not md5,
    )
    f.path = store.stored_path(f.id)
    tmp.replace(f.path)
    store.add_file(f)
    store.schedule_processing(f)
    return f


def _check_final(req: Request, mime: str, name: str | None, size: int, head: bytes) -> mt.FileType:
    """Rules on the received bytes; the type Wix settles on."""
    if size == 0:
        raise e.rule_error("file", e.ZERO_FILE_SIZE, "the file is empty")
    rules.check_content(mime, head)
    ftype = mt.resolve(mime, name, head)
    rules.check_size(req.store, ftype, size, field="file")
    return ftype


# --- the one-shot upload ---------------------------------------------------------------------
@route("PUT", r"/upload/([^/]+)", "upload", "upload")
def upload(req: Request, token: str) -> None:
    """[doc] PUT <uploadUrl>[?filename=] with the raw bytes → {"file": FileDescriptor}."""
    ticket = req.store.ticket(token, "upload")
    fields = ticket.fields
    name = req.query1("filename") or fields.get("fileName")
    # [guess] without a Content-Type the type given at generate time is used.
    mime = mt.base_mime(req.headers.get("Content-Type")) or mt.base_mime(fields["mimeType"])
    rules.check_declared(mime, name)
    rules.check_generated(mime, mt.base_mime(fields["mimeType"]))
    expected = mt.resolve(mime, name)
    if req.body.length is not None:
        if req.body.length == 0:
            raise e.rule_error("file", e.ZERO_FILE_SIZE, "the file is empty")
        if mime != mt.OCTET_STREAM:
            rules.check_size(req.store, expected, req.body.length, field="file")
    limit = (
        expected.size_limit(req.cfg.size_limits)
        if mime != mt.OCTET_STREAM
        else max(req.cfg.size_limits.values())
    )
    tmp = req.store.incoming_path()
    deferred = req.cfg.hash_after_answer
    try:
        with tmp.open("wb", buffering=0) as fh, PipelinedSink(fh, hashing=not deferred) as sink:
            _receive(req, sink, limit)
        ftype = _check_final(req, mime, name, sink.written, sink.head)
        md5 = "" if deferred else sink.md5.hexdigest()
        f = _store_file(req, ticket, tmp, ftype, name, sink.written, md5, sink.head, "upload")
    finally:
        tmp.unlink(missing_ok=True)
    req.send_json(200, {"file": req.store.descriptor(f, hash_if_known=True)})


def _receive(req: Request, sink: Sink, limit: int, room: int | None = None) -> None:
    """Copy the body into `sink`. Honours a connection-cut fault (K bytes kept, then RST).
    `room` caps the bytes accepted (TUS Upload-Length); more is a 413."""
    cut = req.cut_after
    while True:
        want = BLOCK
        if cut is not None:
            want = min(want, cut - sink.written)
            if want <= 0:
                req.cut_connection()
        if room is not None:
            want = min(want, room - sink.written) or 1  # 1 byte to detect an overflow
        buf = sink.buffer()
        n = req.body.readinto(buf[:want])
        if not n:
            return
        if room is not None and sink.written + n > room:
            raise e.WixApiError(413, None)
        sink.commit(buf, n)
        if sink.written > limit:
            raise e.rule_error(
                "file",
                e.FILE_SIZE_OVER_LIMIT,
                f"files of this type may be at most {limit} bytes",
                maxSizeInBytes=str(limit),
            )
        rules.check_quota(req.store, sink.written, field="file")


# --- TUS 1.0.0 -------------------------------------------------------------------------------
def _tus_headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, **extra}


def _tus_required(req: Request) -> None:
    if req.headers.get("Tus-Resumable") != TUS_VERSION:
        raise e.WixApiError(412, None, {"Tus-Version": TUS_VERSION})


def _max_size(req: Request) -> int:
    return max(req.cfg.size_limits.values())


def _upload_of(req: Request, upload_id: str) -> TusUpload:
    with req.store.lock:
        upload = req.store.tus.get(upload_id)
    if upload is None:
        raise e.WixApiError(404, None, _tus_headers())
    return upload


def _parse_metadata(raw: str) -> dict[str, str]:
    """`key b64,key b64` → dict; 400 on bad base64 [tus 1.0.0]."""
    out: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = pair.partition(" ")
        try:
            out[key] = base64.b64decode(value.strip(), validate=True).decode() if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise e.WixApiError(
                400, {"message": f"Upload-Metadata value of {key!r} is not base64"}
            ) from None
    return out


@route("OPTIONS", r"/upload(?:/.*)?", "tus-options", "upload")
def options(req: Request) -> None:
    """TUS discovery and the browsers' CORS preflight, in one answer."""
    headers = _tus_headers(
        **{
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Max-Size": str(_max_size(req)),
            "Access-Control-Allow-Methods": "POST, GET, HEAD, PATCH, DELETE, PUT, OPTIONS",
            "Access-Control-Allow-Headers": req.headers.get("Access-Control-Request-Headers")
            or "Content-Type, Upload-Length, Upload-Offset, Upload-Metadata, Tus-Resumable",
            "Access-Control-Max-Age": "86400",
        }
    )
    req.send_empty(204, headers)


@route("POST", r"/upload/tus", "tus-create", "upload")
def tus_create(req: Request) -> None:
    """Creation: Upload-Length + Upload-Metadata (filename, contentType, token [doc])."""
    _tus_required(req)
    if req.headers.get("Upload-Defer-Length") is not None:
        raise e.WixApiError(
            400, {"message": "Upload-Defer-Length is not supported"}, _tus_headers()
        )
    raw_length = req.headers.get("Upload-Length", "")
    if not raw_length.isdigit():
        raise e.WixApiError(400, {"message": "Upload-Length is required"}, _tus_headers())
    length = int(raw_length)
    if length > _max_size(req):
        raise e.WixApiError(413, None, _tus_headers())
    metadata = _parse_metadata(req.headers.get("Upload-Metadata", ""))
    ticket = req.store.ticket(metadata.get("token", ""), "tus")
    name = metadata.get("filename") or ticket.fields.get("fileName")
    mime = mt.base_mime(metadata.get("contentType")) or mt.base_mime(ticket.fields["mimeType"])
    rules.check_declared(mime, name)
    rules.check_generated(mime, mt.base_mime(ticket.fields["mimeType"]))
    rules.check_size(req.store, mt.resolve(mime, name), length, field="Upload-Length")
    upload = TusUpload(
        id=uuid.uuid4().hex,
        token=ticket.token,
        length=length,
        metadata=metadata,
        path=req.store.incoming_path(),
        created=req.store.now(),
    )
    upload.path.touch()
    with req.store.lock:
        req.store.tus[upload.id] = upload
    path = f"/upload/tus/{upload.id}"
    location = path if req.cfg.tus_relative_location else req.upload_base() + path
    req.send_empty(201, _tus_headers(Location=location, **{"Upload-Offset": "0"}))


@route("HEAD", r"/upload/tus/([^/]+)", "tus-head", "upload")
def tus_head(req: Request, upload_id: str) -> None:
    _tus_required(req)
    upload = _upload_of(req, upload_id)
    req.send_empty(
        200,
        _tus_headers(
            **{
                "Upload-Offset": str(upload.offset),
                "Upload-Length": str(upload.length),
                "Cache-Control": "no-store",
            }
        ),
    )


@route("PATCH", r"/upload/tus/([^/]+)", "tus-patch", "upload")
def tus_patch(req: Request, upload_id: str) -> None:
    _tus_required(req)
    upload = _upload_of(req, upload_id)
    if mt.base_mime(req.headers.get("Content-Type")) != OFFSET_STREAM:
        raise e.WixApiError(415, None, _tus_headers())  # nothing is appended
    raw_offset = req.headers.get("Upload-Offset", "")
    if not raw_offset.isdigit():
        raise e.WixApiError(400, {"message": "Upload-Offset is required"}, _tus_headers())
    with req.store.lock:
        if upload.busy or int(raw_offset) != upload.offset:
            raise e.WixApiError(409, None, _tus_headers(**{"Upload-Offset": str(upload.offset)}))
        upload.busy = True
    start = upload.offset
    try:
        room = upload.length - start
        if req.body.length is not None and req.body.length > room:
            raise e.WixApiError(413, None, _tus_headers())
        with upload.path.open("r+b", buffering=0) as fh:
            fh.seek(start)
            sink = _OffsetSink(fh, upload, start)
            try:
                _receive(req, sink, limit=upload.length, room=room)
            except e.WixApiError:
                fh.truncate(start)  # an overflowing PATCH appends nothing
                upload.offset = start
                raise
            finally:
                _keep_whole_chunks(req, upload, fh, start)
    finally:
        upload.busy = False
    req.send_empty(204, _tus_headers(**{"Upload-Offset": str(upload.offset)}))


class _OffsetSink(Sink):
    """Writes at the upload's offset and moves it forward as bytes land (a cut keeps them)."""

    def __init__(self, fh: Any, upload: TusUpload, start: int) -> None:
        super().__init__(fh)
        self.upload = upload
        self.start = start

    def commit(self, buf: memoryview, n: int) -> None:
        self.fh.write(buf[:n])
        self.written += n
        self.upload.offset = self.start + self.written


def _keep_whole_chunks(req: Request, upload: TusUpload, fh: Any, start: int) -> None:
    """[guess] With tus_chunk_multiple set, a non-final PATCH persists only whole multiples."""
    multiple = req.cfg.tus_chunk_multiple
    if multiple and upload.offset < upload.length:
        kept = max(start, upload.offset // multiple * multiple)
        if kept != upload.offset:
            fh.truncate(kept)
            upload.offset = kept


@route("DELETE", r"/upload/tus/([^/]+)", "tus-delete", "upload")
def tus_delete(req: Request, upload_id: str) -> None:
    _tus_required(req)
    upload = _upload_of(req, upload_id)
    with req.store.lock:
        req.store.tus.pop(upload.id, None)
    upload.path.unlink(missing_ok=True)
    req.send_empty(204, _tus_headers())


@route("PUT", r"/upload/tus/([^/]+)", "finalize", "upload")
def finalize(req: Request, token: str) -> None:
    """[doc] PUT <uploadUrl>/<uploadToken>[?filename=] (body {}) → {"file": FileDescriptor}."""
    ticket = req.store.ticket(token, "tus")
    req.body.drain()
    with req.store.lock:
        uploads = [u for u in req.store.tus.values() if u.token == token]
    complete = [u for u in uploads if u.offset == u.length and not u.busy]
    if not complete:
        got = max((u.offset for u in uploads), default=0)
        raise e.application_error(
            400,
            "UPLOAD_NOT_COMPLETED",  # [guess]
            "no completed TUS upload for this token",
            {"uploadOffset": str(got), "uploads": len(uploads)},
        )
    upload = max(complete, key=lambda u: u.created)
    name = (
        req.query1("filename") or upload.metadata.get("filename") or ticket.fields.get("fileName")
    )
    mime = mt.base_mime(upload.metadata.get("contentType")) or mt.base_mime(
        ticket.fields["mimeType"]
    )
    with upload.path.open("rb") as fh:
        head = fh.read(512)
    ftype = _check_final(req, mime, name, upload.length, head)
    # hashed from the stored file (Store.md5_of): before the answer, or with hash_after_answer
    # (as for the one-shot PUT) by the first read that shows it
    f = _store_file(req, ticket, upload.path, ftype, name, upload.length, "", head, "tus")
    with req.store.lock:
        for u in uploads:
            req.store.tus.pop(u.id, None)
            if u is not upload:
                u.path.unlink(missing_ok=True)
    deferred = req.cfg.hash_after_answer
    req.send_json(200, {"file": req.store.descriptor(f, hash_if_known=deferred)})


# --- the files' static URLs ------------------------------------------------------------------
@route("GET", r"/_emulator/static/media/(.+)", "static", "public")
def static(req: Request, file_id: str) -> None:
    f = req.store.find_file(file_id)
    if f is None or not f.path.is_file():
        raise e.WixApiError(404, None)
    req.send_file(f.path, f.type.mime)
