"""Helpers for the Wix client's integration tests: a TCP proxy that cuts one connection after a
given number of upstream bytes (a real broken connection), counting sources, and the tus
reference server (@tus/server under node) started on a free port."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TUS_REFERENCE_DIR = Path(__file__).resolve().parents[2] / "tus_reference"


class CuttingProxy:
    """Forwards 127.0.0.1:<port> to a target. Once `arm(n)` was called, the connection carrying
    the n-th upstream byte (counted from the arm call) is cut: both sockets are shut down."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._cut_after: int | None = None
        self.upstream_bytes = 0
        self.cuts = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    def arm(self, cut_after_bytes: int) -> None:
        with self._lock:
            self.upstream_bytes = 0
            self._cut_after = cut_after_bytes

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            threading.Thread(target=self._pump_up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump_down, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _shut(*socks: socket.socket) -> None:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _pump_up(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while data := client.recv(65536):
                with self._lock:
                    cut = None
                    if self._cut_after is not None:
                        room = self._cut_after - self.upstream_bytes
                        if room < len(data):
                            cut, data = True, data[: max(room, 0)]
                            self._cut_after = None
                            self.cuts += 1
                    self.upstream_bytes += len(data)
                upstream.sendall(data)
                if cut:
                    break
        except OSError:
            pass
        self._shut(client, upstream)

    def _pump_down(self, upstream: socket.socket, client: socket.socket) -> None:
        try:
            while data := upstream.recv(65536):
                client.sendall(data)
        except OSError:
            pass
        self._shut(client, upstream)


class CountingFile:
    """`open_at` over a local file that counts every byte it serves (to measure re-sends)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.served = 0
        self.opens: list[int] = []
        self._trigger: tuple[int, Callable[[], object]] | None = None

    def when_served(self, threshold: int, action: Callable[[], object]) -> None:
        """Run `action` once, as soon as `threshold` bytes were served in total."""
        self._trigger = (threshold, action)

    def _count(self, n: int) -> None:
        self.served += n
        if self._trigger and self.served >= self._trigger[0]:
            action, self._trigger = self._trigger[1], None
            action()

    def __call__(self, offset: int) -> CountingFile.Reader:
        self.opens.append(offset)
        handle = self.path.open("rb")
        handle.seek(offset)
        return CountingFile.Reader(handle, self)

    class Reader:
        def __init__(self, handle: io.BufferedReader, owner: CountingFile) -> None:
            self._handle = handle
            self._owner = owner

        def read(self, size: int = -1, /) -> bytes:
            data = self._handle.read(size)
            self._owner._count(len(data))
            return data

        def close(self) -> None:
            self._handle.close()


def random_file(path: Path, size: int) -> str:
    """Write `size` random bytes in 1 MiB pieces; returns their sha256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            piece = os.urandom(min(left, 1 << 20))
            digest.update(piece)
            out.write(piece)
            left -= len(piece)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


@dataclass
class TusReference:
    port: int
    store: Path

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def files_url(self) -> str:
        return f"http://{self.netloc}/files"

    def stored(self, location: str) -> Path:
        return self.store / location.rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture(scope="session")
def tus_reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TusReference]:
    """@tus/server 2.4.5 + @tus/file-store on a free loopback port (installed by `make pytest`)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the tus reference server needs it")
    if not (TUS_REFERENCE_DIR / "node_modules" / "@tus" / "server").is_dir():
        pytest.skip("tests/tus_reference/node_modules missing: run `make pytest` (npm install)")
    store = tmp_path_factory.mktemp("tus-store")
    process = subprocess.Popen(
        [node, "server.mjs", "0", str(store)],
        cwd=TUS_REFERENCE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "listening <port>"
        if not line.startswith("listening "):
            pytest.fail(f"tus reference server did not start: {line!r}")
        yield TusReference(int(line.split()[1]), store)
    finally:
        process.terminate()
        process.wait(timeout=10)
