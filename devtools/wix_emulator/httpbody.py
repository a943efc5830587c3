"""Streaming request bodies (Content-Length or `Transfer-Encoding: chunked`), never buffered."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from email.message import Message
from typing import BinaryIO

BLOCK = 1024 * 1024  # read/write/hash in 1 MiB blocks


class ClientGone(Exception):
    """The client closed the connection before the body ended."""


class BadBody(Exception):
    """Malformed framing (bad Content-Length or chunk header)."""


class BodyReader:
    """Reads one request body from the connection's buffered reader."""

    def __init__(
        self, rfile: BinaryIO, headers: Message, on_start: Callable[[], None] | None = None
    ) -> None:
        self._rfile = rfile
        self._on_start = on_start
        self.chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        self.length: int | None = None
        self._left = 0  # bytes left in the body (Content-Length) or in the current chunk
        self.done = False
        self.received = 0
        if not self.chunked:
            raw = headers.get("Content-Length")
            try:
                self.length = int(raw) if raw not in (None, "") else 0
            except ValueError:
                raise BadBody("Content-Length is not a number") from None
            if self.length < 0:
                raise BadBody("Content-Length is negative")
            self._left = self.length
            self.done = self.length == 0

    @classmethod
    def empty(cls) -> BodyReader:
        reader = cls.__new__(cls)
        reader.chunked, reader.length, reader._left = False, 0, 0
        reader.done, reader.received, reader._on_start = True, 0, None
        return reader

    def _next_chunk(self) -> None:
        line = self._rfile.readline(1024)
        if not line:
            raise ClientGone
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadBody("bad chunk size line") from None
        if size == 0:
            while True:  # trailers until the blank line
                trailer = self._rfile.readline(8192)
                if not trailer:
                    raise ClientGone
                if trailer in (b"\r\n", b"\n"):
                    break
            self.done = True
        self._left = size

    def readinto(self, buf: memoryview) -> int:
        """Fill up to len(buf) bytes; 0 at the end of the body. Raises ClientGone."""
        if self._on_start is not None and not self.done:
            self._on_start()  # e.g. answer "Expect: 100-continue"
            self._on_start = None
        while not self.done and self._left == 0:
            self._next_chunk()
        if self.done:
            return 0
        n = self._rfile.readinto(buf[: min(len(buf), self._left)])  # type: ignore[attr-defined]
        if not n:
            raise ClientGone
        self._left -= n
        self.received += n
        if self._left == 0:
            if self.chunked:
                if self._rfile.readline(8) not in (b"\r\n", b"\n"):
                    raise BadBody("chunk not followed by CRLF")
            else:
                self.done = True
        return n

    def drain(self, limit: int = 64 * BLOCK) -> bool:
        """Discard the rest of the body, up to `limit` bytes; True if it was all read."""
        buf = memoryview(bytearray(BLOCK))
        read = 0
        try:
            while not self.done and read < limit:
                read += self.readinto(buf)
        except (ClientGone, BadBody, OSError):
            return False
        return self.done

    def read_small(self, limit: int = BLOCK) -> bytes:
        """Whole body of a JSON request, refusing more than `limit` bytes."""
        out = bytearray()
        buf = memoryview(bytearray(64 * 1024))
        while True:
            n = self.readinto(buf)
            if not n:
                return bytes(out)
            out += buf[:n]
            if len(out) > limit:
                raise BadBody("body too large")


class Sink:
    """Writes blocks to a file while hashing them (MD5 [guess: Wix's `hash` is an MD5 hex])."""

    def __init__(self, fh: BinaryIO, md5: hashlib._Hash | None = None) -> None:
        self.fh = fh
        self.md5 = md5 or hashlib.md5(usedforsecurity=False)
        self.written = 0
        self.head = b""

    def write(self, block: memoryview) -> None:
        if len(self.head) < 512:
            self.head += bytes(block[: 512 - len(self.head)])
        self.md5.update(block)
        self.fh.write(block)
        self.written += len(block)
