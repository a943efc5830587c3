"""A tus 1.0.0 client (creation + core protocol) that streams chunks and resumes from the server.

Wix's resumable flow is standard tus [doc for the metadata keys; wire details are standard tus]:
creation POST → `Location` (may be relative) → PATCH chunks → (HEAD after a failure) → done.
The source is `open_at(offset)`, a function returning a binary stream positioned at `offset`
(a file seek or an S3 ranged GET), so a resume re-opens at the server's offset and re-sends at
most the one chunk that was in flight.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from urllib.parse import urljoin

from wix_relay.integrations.wix._http import (
    Http,
    ReadableStream,
    SizedBody,
    check_upload_url,
    read_pieces,
)
from wix_relay.integrations.wix.errors import WixConflict, WixError, WixProtocolError
from wix_relay.observability import logger

TUS_VERSION = "1.0.0"
# [guess] Wix's backend is a cloud-storage resumable session: chunks are multiples of 256 KiB.
TUS_CHUNK_ALIGN = 256 * 1024
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"

OpenAt = Callable[[int], ReadableStream]


def aligned_chunk_size(chunk_size: int) -> int:
    """`chunk_size` rounded down to a multiple of 256 KiB (at least 256 KiB)."""
    return max(TUS_CHUNK_ALIGN, chunk_size // TUS_CHUNK_ALIGN * TUS_CHUNK_ALIGN)


def encode_metadata(metadata: Mapping[str, str]) -> str:
    """`Upload-Metadata`: comma-separated `key base64(value)` pairs."""
    for key in metadata:
        if not key or any(c in key for c in " ,"):
            raise ValueError(f"tus metadata key {key!r} must be non-empty without spaces or commas")
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode('ascii')}"
        for key, value in metadata.items()
    )


def _close(stream: object) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        close()


class TusUploader:
    """Runs one tus upload over `Http` (no Wix credential is ever sent: tus URLs carry a token)."""

    def __init__(self, http: Http, upload_hosts: tuple[str, ...]) -> None:
        self._http = http
        self._hosts = upload_hosts

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Tus-Resumable": TUS_VERSION, **extra}

    def create(self, create_url: str, size: int, metadata: Mapping[str, str]) -> str:
        """Creation POST; returns the absolute upload location (checked against the allow-list)."""
        check_upload_url(create_url, self._hosts)
        response = self._http.request(
            "tus-create",
            "POST",
            create_url,
            headers=self._headers(
                **{"Upload-Length": str(size), "Upload-Metadata": encode_metadata(metadata)}
            ),
        )
        location = response.headers.get("Location")
        response.close()
        if not location:
            raise WixProtocolError(
                "tus creation answered without a Location",
                status=response.status_code,
                request_id=response.headers.get("x-wix-request-id"),
                operation="tus-create",
            )
        absolute = urljoin(create_url, location)
        check_upload_url(absolute, self._hosts)
        return absolute

    def offset(self, location: str) -> int:
        """HEAD: the server's `Upload-Offset` (where to resume)."""
        response = self._http.request(
            "tus-head", "HEAD", location, headers=self._headers(**{"Cache-Control": "no-store"})
        )
        response.close()
        return self._offset_header(response.headers.get("Upload-Offset"), "tus-head")

    @staticmethod
    def _offset_header(value: str | None, operation: str) -> int:
        try:
            offset = int(value or "")
        except ValueError:
            raise WixProtocolError(
                f"tus {operation} answered without a valid Upload-Offset", operation=operation
            ) from None
        if offset < 0:
            raise WixProtocolError(f"tus {operation} answered a negative Upload-Offset")
        return offset

    def _patch(self, location: str, offset: int, stream: ReadableStream, length: int) -> int:
        response = self._http.request(
            "tus-patch",
            "PATCH",
            location,
            headers=self._headers(
                **{"Upload-Offset": str(offset), "Content-Type": OFFSET_CONTENT_TYPE}
            ),
            body=lambda: SizedBody(read_pieces(stream, length), length),
            retry=False,  # a failed PATCH resumes from HEAD instead (see upload()).
        )
        response.close()
        return self._offset_header(response.headers.get("Upload-Offset"), "tus-patch")

    def upload(
        self,
        create_url: str,
        open_at: OpenAt,
        *,
        size: int,
        metadata: Mapping[str, str],
        chunk_size: int,
        location: str | None = None,
    ) -> str:
        """Upload `size` bytes; returns the upload location. Pass `location` to resume an upload
        created earlier (its offset is asked with HEAD first)."""
        if size < 0:
            raise ValueError("size must not be negative")
        chunk = aligned_chunk_size(chunk_size)
        if location is None:
            location = self.create(create_url, size, metadata)
            offset = 0
        else:
            location = urljoin(create_url, location)
            check_upload_url(location, self._hosts)
            offset = self.offset(location)
        deadline = time.monotonic() + self._http.retry.budget_s
        failures = 0
        while offset < size:
            stream = open_at(offset)
            try:
                while offset < size:
                    length = min(chunk, size - offset)
                    new_offset = self._patch(location, offset, stream, length)
                    if new_offset > size or new_offset <= offset:
                        raise WixProtocolError(
                            f"tus PATCH moved the offset from {offset} to {new_offset}",
                            operation="tus-patch",
                        )
                    # progress: the stall budget and the backoff start over.
                    deadline = time.monotonic() + self._http.retry.budget_s
                    failures = 0
                    if new_offset != offset + length:
                        offset = new_offset  # the server kept part of the chunk: re-open there
                        break
                    offset = new_offset
            except WixError as error:  # a SourceError is not retryable: raised here
                if not (error.retryable or isinstance(error, WixConflict)):
                    raise
                self._http.backoff(failures, deadline, error)
                failures += 1
                offset = self.offset(location)
                logger.info(
                    "tus upload resumes",
                    extra={"offset": offset, "size": size, "wix_error": error.code},
                )
            finally:
                _close(stream)
        return location
