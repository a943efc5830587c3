"""`WixMediaClient`: every Media Manager call the relay makes, over one keep-alive session.

Create one client per Lambda container (module level) and reuse it across invocations.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from wix_relay.config import WixSettings
from wix_relay.integrations.wix._auth import Authenticator
from wix_relay.integrations.wix._http import (
    Http,
    ReadableStream,
    RetryPolicy,
    SizedBody,
    Sleeper,
    check_upload_url,
    read_pieces,
)
from wix_relay.integrations.wix.credentials import Credentials
from wix_relay.integrations.wix.errors import (
    WixError,
    WixNotFound,
    WixProtocolError,
    WixUploadTokenSpent,
)
from wix_relay.integrations.wix.models import FileDescriptor, FileList, ResumableTarget
from wix_relay.integrations.wix.tus import OpenAt, TusUploader
from wix_relay.observability import logger

MEDIA = "/site-media/v1"
OCTET_STREAM = "application/octet-stream"
DEFAULT_TUS_CHUNK_BYTES = 8 * 1024 * 1024
GET_FILES_MAX_IDS = 100  # [doc] get-files takes 1..100 ids

UploadBody = bytes | bytearray | memoryview | ReadableStream | Iterable[bytes]
UploadSource = UploadBody | Callable[[], UploadBody]
"""What `upload()` sends. Re-openable (a retry or the MIME fallback can re-send it): bytes, a
seekable stream (re-read from its position at the call), a list/tuple of bytes, or a callable
returning a fresh stream/iterable each time. One-shot: an unseekable stream or an iterator."""


class _Opener:
    """Turns an `UploadSource` into fresh piece iterators, as often as the source allows."""

    def __init__(self, source: UploadSource) -> None:
        self._source = source
        self._start: int | None = None
        self.reopenable = True
        self._used = False
        if isinstance(source, bytes | bytearray | memoryview | list | tuple) or callable(source):
            return
        if hasattr(source, "read"):
            seekable, tell = getattr(source, "seekable", None), getattr(source, "tell", None)
            if callable(seekable) and seekable() and callable(tell):
                self._start = int(tell())
                return
        self.reopenable = False

    def open(self) -> tuple[Iterator[bytes], Callable[[], None]]:
        if self._used and not self.reopenable:
            raise WixError("a one-shot upload source cannot be sent twice")
        self._used = True
        source: Any = self._source
        close: Callable[[], None] = lambda: None  # noqa: E731
        if callable(source) and not hasattr(source, "read"):
            source = source()
            close = getattr(source, "close", close)
        if isinstance(source, bytes | bytearray | memoryview):
            return iter((bytes(source),) if not isinstance(source, bytes) else (source,)), close
        if hasattr(source, "read"):
            if self._start is not None:
                source.seek(self._start)
            return read_pieces(source), close
        return iter(source), close


class WixMediaClient:
    """Typed client for the Wix Media Manager REST API and its upload endpoints.

    `credentials` may be a callable (e.g. a TTL-cached Secrets Manager read): it is asked on every
    call and again after a 401, so rotated credentials are picked up.
    """

    def __init__(
        self,
        credentials: Credentials | Callable[[], Credentials],
        settings: WixSettings,
        session: requests.Session | None = None,
        *,
        sleep: Sleeper = time.sleep,
        backoff_base_s: float = 0.25,
        backoff_cap_s: float = 8.0,
    ) -> None:
        self.settings = settings
        self._base = settings.api_base_url.rstrip("/")
        self._session = session or requests.Session()
        self._http = Http(
            self._session,
            settings,
            retry=RetryPolicy(
                settings.retry_budget_s, backoff_base_s, backoff_cap_s, settings.max_retries
            ),
            sleep=sleep,
            secrets=self._secrets,
        )
        self._auth = Authenticator(credentials, self._http, self._base)
        self._tus = TusUploader(self._http, tuple(settings.upload_hosts))

    def _secrets(self) -> tuple[str, ...]:
        return self._auth.secrets()

    def __repr__(self) -> str:
        return f"WixMediaClient(api_base_url={self._base!r})"

    def close(self) -> None:
        self._session.close()

    # --- plumbing ---------------------------------------------------------------------------
    def _api(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        response = self._http.request(
            operation,
            method,
            self._base + path,
            auth=self._auth.headers,
            on_unauthorized=self._auth.invalidate,
            headers={"Content-Type": "application/json"} if json_body is not None else None,
            params=params,
            json_body=json_body,
            retry=retry,
        )
        return _json_object(response, operation)

    # --- upload URLs ------------------------------------------------------------------------
    def generate_upload_url(self, fields: Mapping[str, Any]) -> str:
        """`POST /files/generate-upload-url` with Wix's field names → the upload URL [doc];
        `UploadHostNotAllowed` if it points outside `WixSettings.upload_hosts`."""
        body = _wix_fields(fields)
        answer = self._api(
            "generate-upload-url", "POST", f"{MEDIA}/files/generate-upload-url", json_body=body
        )
        url = answer.get("uploadUrl")
        if not isinstance(url, str) or not url:
            raise WixProtocolError("Wix generate-upload-url answered without an uploadUrl")
        check_upload_url(url, self.settings.upload_hosts)  # before anyone is handed the URL
        return url

    def generate_resumable_upload_url(self, fields: Mapping[str, Any]) -> ResumableTarget:
        """`POST /files/generate-resumable-upload-url` (uploadProtocol TUS) [doc]."""
        body = {**_wix_fields(fields), "uploadProtocol": "TUS"}
        operation = "generate-resumable-upload-url"
        answer = self._api(operation, "POST", f"{MEDIA}/files/{operation}", json_body=body)
        url, token = answer.get("uploadUrl"), answer.get("uploadToken")
        if not isinstance(url, str) or not url or not isinstance(token, str) or not token:
            raise WixProtocolError(f"Wix {operation} answered without uploadUrl/uploadToken")
        check_upload_url(url, self.settings.upload_hosts)
        return ResumableTarget(url, token, str(answer.get("uploadProtocol") or "TUS"))

    # --- uploads ----------------------------------------------------------------------------
    def upload(
        self,
        upload_url: str,
        source: UploadSource,
        *,
        mime_type: str,
        filename: str | None = None,
        size: int | None = None,
        fresh_token: bool = False,
    ) -> FileDescriptor:
        """One streamed `PUT <uploadUrl>?filename=` with the raw bytes [doc].

        `fresh_token`: the caller has never presented this URL before, so a 429 before any
        attempt of unknown outcome is a plain throttle (retried); otherwise a 429 may mean the
        one-time token is spent and is raised as `WixUploadTokenSpent`, never retried.

        `size` (when known) is sent as Content-Length, else the body is chunked. A refused MIME
        type is raised (`WixValidationError`); the octet-stream fallback [doc] is the caller's
        (`services/transfer.py`: one fallback, in one place). Re-openable sources are retried on
        429/5xx/network errors with the same URL.
        """
        check_upload_url(upload_url, self.settings.upload_hosts)
        opener = _Opener(source)
        return self._put(upload_url, opener, mime_type, filename, size, fresh_token=fresh_token)

    def _put(
        self,
        url: str,
        opener: _Opener,
        mime_type: str,
        filename: str | None,
        size: int | None,
        *,
        fresh_token: bool,
    ) -> FileDescriptor:
        closers: list[Callable[[], None]] = []

        def body() -> Any:
            for close in closers:
                close()
            closers.clear()
            pieces, close = opener.open()
            closers.append(close)
            if size is None:
                return pieces  # chunked transfer encoding
            return SizedBody(pieces, size) if size else b""

        try:
            response = self._http.request(
                "upload",
                "PUT",
                url,
                headers={"Content-Type": mime_type},
                params={"filename": filename} if filename else None,
                body=body,
                retry=opener.reopenable,
                final=functools.partial(_spent_token, fresh=fresh_token),
            )
        finally:
            for close in closers:
                close()
        return _logged(_file_from(_json_object(response, "upload"), "upload"), response, "upload")

    def tus_upload(
        self,
        upload_url: str,
        open_at: OpenAt,
        *,
        size: int,
        metadata: Mapping[str, str],
        chunk_size: int = DEFAULT_TUS_CHUNK_BYTES,
        location: str | None = None,
    ) -> str:
        """The tus part alone (creation, PATCH chunks, HEAD-resume); returns the upload location.
        Works against any tus 1.0.0 server on an allow-listed host."""
        return self._tus.upload(
            upload_url,
            open_at,
            size=size,
            metadata=metadata,
            chunk_size=chunk_size,
            location=location,
        )

    def upload_resumable(
        self,
        target: ResumableTarget,
        open_at: OpenAt,
        *,
        size: int,
        mime_type: str,
        filename: str,
        chunk_size: int = DEFAULT_TUS_CHUNK_BYTES,
        location: str | None = None,
        before_finalize: Callable[[], None] | None = None,
    ) -> FileDescriptor:
        """Wix's resumable flow: tus upload with metadata `filename`, `contentType`, `token`
        (the key is `token`, not `uploadToken` [doc]), then the finalize
        `PUT <uploadUrl>/<uploadToken>?filename=` with body `{}` [doc] — the call that creates
        the file; `before_finalize()` runs just before it."""
        metadata = {"filename": filename, "contentType": mime_type, "token": target.upload_token}
        self.tus_upload(
            target.upload_url,
            open_at,
            size=size,
            metadata=metadata,
            chunk_size=chunk_size,
            location=location,
        )
        if before_finalize is not None:
            before_finalize()
        return self.finalize_resumable(target, filename, fresh_token=True)

    def finalize_resumable(
        self, target: ResumableTarget, filename: str | None, *, fresh_token: bool = False
    ) -> FileDescriptor:
        """The finalize PUT; `fresh_token` as in `upload` (True when this is its first send)."""
        url = f"{target.upload_url.rstrip('/')}/{quote(target.upload_token, safe='')}"
        check_upload_url(url, self.settings.upload_hosts)
        response = self._http.request(
            "tus-finalize",
            "PUT",
            url,
            headers={"Content-Type": "application/json"},
            params={"filename": filename} if filename else None,
            json_body={},
            final=functools.partial(_spent_token, fresh=fresh_token),
        )
        file = _file_from(_json_object(response, "tus-finalize"), "tus-finalize")
        return _logged(file, response, "tus-finalize")

    # --- import -----------------------------------------------------------------------------
    def import_file(
        self, url: str, fields: Mapping[str, Any] | None = None, *, retry: bool = True
    ) -> FileDescriptor:
        """`POST /files/import`: Wix pulls `url` itself (e.g. a presigned S3 GET) [doc].
        A retry after a read timeout may make Wix import twice (the call is not idempotent):
        `retry=False` sends it once."""
        body = {**_wix_fields(fields or {}), "url": url}
        answer = self._api(
            "import-file", "POST", f"{MEDIA}/files/import", json_body=body, retry=retry
        )
        return _file_from(answer, "import-file")

    def bulk_import(
        self, items: Sequence[Mapping[str, Any]], return_entity: bool = True
    ) -> dict[str, Any]:
        """`POST /bulk/files/import-v2` → `{results, bulkActionMetadata}` as Wix sent it [code]."""
        body = {
            "importFileRequests": [_wix_fields(item) for item in items],
            "returnEntity": return_entity,
        }
        return self._api("bulk-import", "POST", f"{MEDIA}/bulk/files/import-v2", json_body=body)

    # --- reads ------------------------------------------------------------------------------
    def get_file(self, file_id: str) -> FileDescriptor:
        """`GET /files/get-file-by-id?fileId=` → the descriptor; `WixNotFound` if unknown [doc]."""
        if not file_id:
            raise ValueError("file_id must not be empty")
        answer = self._api(
            "get-file", "GET", f"{MEDIA}/files/get-file-by-id", params={"fileId": file_id}
        )
        return _file_from(answer, "get-file")

    def get_folder(self, folder_id: str) -> Mapping[str, Any]:
        """`GET /folders/{id}` → `{id, displayName, parentFolderId, ...}` [doc "Get Folder"]."""
        if not folder_id:
            raise ValueError("folder_id must not be empty")
        answer = self._api("get-folder", "GET", f"{MEDIA}/folders/{quote(folder_id, safe='')}")
        folder = answer.get("folder")
        if not isinstance(folder, Mapping) or not folder.get("id"):
            raise WixProtocolError("Wix get-folder answered without a folder")
        return folder

    def get_files(self, file_ids: Sequence[str]) -> list[FileDescriptor]:
        """`POST /files/get-files`, in batches of 100 ids [doc]."""
        out: list[FileDescriptor] = []
        for start in range(0, len(file_ids), GET_FILES_MAX_IDS):
            batch = list(file_ids[start : start + GET_FILES_MAX_IDS])
            answer = self._api(
                "get-files", "POST", f"{MEDIA}/files/get-files", json_body={"fileIds": batch}
            )
            files = answer.get("files")
            if not isinstance(files, list):
                raise WixProtocolError("Wix get-files answered without files")
            out.extend(FileDescriptor.from_json(item) for item in files)
        return out

    def list_files(
        self,
        parent_folder_id: str | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> FileList:
        """`GET /files?parentFolderId=&paging.limit=&paging.cursor=`: one page [doc]."""
        params = {
            "parentFolderId": parent_folder_id,
            "paging.limit": limit,
            "paging.cursor": cursor,
        }
        answer = self._api(
            "list-files",
            "GET",
            f"{MEDIA}/files",
            params={k: str(v) for k, v in params.items() if v is not None},
        )
        files = answer.get("files") or []
        if not isinstance(files, list):
            raise WixProtocolError("Wix list-files answered without files")
        next_cursor = (answer.get("nextCursor") or {}).get("cursors", {}).get("next")
        return FileList(
            files=tuple(FileDescriptor.from_json(item) for item in files),
            next_cursor=str(next_cursor) if next_cursor else None,
        )

    def wait_until_ready(
        self,
        file_id: str,
        timeout_s: float,
        *,
        first_delay_s: float = 0.5,
        max_delay_s: float = 5.0,
    ) -> FileDescriptor:
        """Poll get-file-by-id until `operationStatus` is READY or FAILED [code]; after `timeout_s`
        returns the last (still PENDING) descriptor. Delays double from `first_delay_s`.
        The id came from Wix, so a not-found answer (400 RESOURCE_NOT_FOUND) is read as "not
        visible yet" [guess] and polled again; `WixNotFound` only if it lasts the whole wait."""
        deadline = time.monotonic() + timeout_s
        delay = first_delay_s
        while True:
            try:
                file: FileDescriptor | None = self.get_file(file_id)
            except WixNotFound:
                if time.monotonic() >= deadline:
                    raise
                file = None
            remaining = deadline - time.monotonic()
            if file is not None and (file.is_final or remaining <= 0):
                return file
            self._http.sleep(min(delay, remaining))
            delay = min(delay * 2, max_delay_s)


def _spent_token(
    error: WixError, earlier: Sequence[WixError], *, fresh: bool = False
) -> WixError | None:
    """A 429 from the upload host may mean the one-time token is spent [guess]: then it is never
    retried. A `fresh` token (never presented before this call) can only have been spent by an
    earlier attempt of this call whose outcome is unknown (a cut connection, a timeout, a 5xx);
    after none, or only after throttles (a 429 is not processed), the 429 is a plain throttle."""
    if error.status != 429 or (fresh and all(e.status == 429 for e in earlier)):
        return None
    return WixUploadTokenSpent(
        f"{error} (the upload token may already be used; not retried)",
        status=429,
        code=error.code,
        request_id=error.request_id,
        operation=error.operation,
    )


def _wix_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(fields)
    size = body.get("sizeInBytes")
    if isinstance(size, int) and not isinstance(size, bool):
        body["sizeInBytes"] = str(size)  # [doc] a decimal string on the wire
    return body


def _json_object(response: requests.Response, operation: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise WixProtocolError(
            f"Wix {operation} answered HTTP {response.status_code} without a JSON object",
            status=response.status_code,
            request_id=response.headers.get("x-wix-request-id"),
            operation=operation,
        )
    return body


def _logged(file: FileDescriptor, response: requests.Response, operation: str) -> FileDescriptor:
    logger.info(
        "wix accepted the file",
        extra={
            "wix_operation": operation,
            "file_id": file.id,
            "size": file.size_in_bytes,
            "operation_status": file.operation_status,
            "wix_request_id": response.headers.get("x-wix-request-id"),
        },
    )
    return file


def _file_from(answer: Mapping[str, Any], operation: str) -> FileDescriptor:
    try:
        return FileDescriptor.from_json(answer.get("file"))
    except WixProtocolError:
        raise WixProtocolError(f"Wix {operation} answered without a file descriptor") from None
