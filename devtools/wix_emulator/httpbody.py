"""Streaming request bodies (Content-Length or `Transfer-Encoding: chunked`), never buffered."""

from __future__ import annotations

import hashlib
import io
import queue
import threading
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
        self, rfile: io.BufferedIOBase, headers: Message, on_start: Callable[[], None] | None = None
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
        """Fill up to len(buf) bytes (across chunks); 0 at the end of the body.
        Raises ClientGone."""
        if self._on_start is not None and not self.done:
            self._on_start()  # e.g. answer "Expect: 100-continue"
            self._on_start = None
        total = 0
        while total < len(buf):
            n = self._read_once(buf[total:])
            if not n:
                break
            total += n
            if not self.chunked:
                break  # the buffered reader already filled what it could
        return total

    def _read_once(self, buf: memoryview) -> int:
        while not self.done and self._left == 0:
            self._next_chunk()
        if self.done:
            return 0
        n = self._rfile.readinto(buf[: min(len(buf), self._left)])
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
    """Writes blocks to a file while hashing them (MD5 [guess: Wix's `hash` is an MD5 hex]).

    Use: `buf = sink.buffer()`, fill `n` bytes, `sink.commit(buf, n)`; `close()` at the end.
    """

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.written = 0
        self.head = b""
        self._buf = bytearray(BLOCK)

    def buffer(self) -> memoryview:
        return memoryview(self._buf)

    def _account(self, block: memoryview) -> None:
        if len(self.head) < 512:
            self.head += bytes(block[: 512 - len(self.head)])
        self.written += len(block)

    def commit(self, buf: memoryview, n: int) -> None:
        block = buf[:n]
        self._account(block)
        self.md5.update(block)
        self.fh.write(block)

    def close(self) -> None:
        """Wait for pending work; raises what a helper thread hit."""

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PipelinedSink(Sink):
    """A Sink whose hashing and writing run in two helper threads (both release the GIL), so
    receiving, hashing and writing overlap. Memory: `depth` blocks."""

    def __init__(self, fh: BinaryIO, depth: int = 8, *, hashing: bool = True) -> None:
        super().__init__(fh)
        self.hashing = hashing  # False: `md5` stays empty (the caller hashes the file later)
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(depth):
            self._free.put(bytearray(BLOCK))
        self._to_hash: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
        self._to_write: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._threads = [
            threading.Thread(target=self._hash_loop, daemon=True),
            threading.Thread(target=self._write_loop, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._closed = False

    def buffer(self) -> memoryview:
        if self._error is not None:
            raise self._error
        return memoryview(self._free.get())

    def commit(self, buf: memoryview, n: int) -> None:
        self._account(buf[:n])
        self._to_hash.put((buf.obj, n))  # type: ignore[arg-type]

    def _hash_loop(self) -> None:
        while (item := self._to_hash.get()) is not None:
            if self._error is None and self.hashing:
                self.md5.update(memoryview(item[0])[: item[1]])
            self._to_write.put(item)
        self._to_write.put(None)

    def _write_loop(self) -> None:
        while (item := self._to_write.get()) is not None:
            if self._error is None:
                try:
                    self.fh.write(memoryview(item[0])[: item[1]])
                except BaseException as exc:  # surfaced by buffer()/close()
                    self._error = exc
            self._free.put(item[0])

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._to_hash.put(None)
            for thread in self._threads:
                thread.join()
        if self._error is not None:
            raise self._error
