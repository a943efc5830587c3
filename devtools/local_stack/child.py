"""Child processes of the stack: started with a ready pipe (the child writes `ready [info]`
once it serves) and a lifeline pipe (the child exits when the parent closes it or dies)."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

REPO_ROOT = Path(__file__).resolve().parents[2]


class ChildFailed(RuntimeError):
    """A child process exited or hung while starting."""


class ChildProcess:
    """`python -m <module> <args> --ready-fd R --lifeline-fd L` with `env`; output to
    <log_dir>/<name>.log, or to this terminal when log_dir is None."""

    def __init__(
        self,
        name: str,
        module: str,
        args: list[str],
        env: Mapping[str, str],
        *,
        pass_fds: tuple[int, ...] = (),
        log_dir: Path | None = None,
    ) -> None:
        self.name = name
        ready_r, ready_w = os.pipe()
        life_r, self._lifeline = os.pipe()
        command = [sys.executable, "-m", module, *args]
        command += ["--ready-fd", str(ready_w), "--lifeline-fd", str(life_r)]
        self._log: TextIO | None = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            self._log = (log_dir / f"{name}.log").open("a", encoding="utf-8")
        self.process = subprocess.Popen(
            command,
            env=dict(env),
            pass_fds=(ready_w, life_r, *pass_fds),
            stdout=self._log,
            stderr=self._log,
            cwd=REPO_ROOT,
        )
        os.close(ready_w)
        os.close(life_r)
        self._ready = ready_r

    def wait_ready(self, timeout_s: float = 60.0) -> str:
        """Block until the child says it is ready; returns what it said after `ready`."""
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                readable, _, _ = select.select([self._ready], [], [], 0.2)
                if readable:
                    line = os.read(self._ready, 256).decode()
                    if line.startswith("ready"):
                        return line[len("ready") :].strip()
                if self.process.poll() is not None:
                    raise ChildFailed(
                        f"{self.name} exited with code {self.process.returncode} while starting"
                        " (see its output above)"
                    )
            raise ChildFailed(f"{self.name} did not start within {timeout_s:.0f} s")
        finally:
            os.close(self._ready)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._lifeline)  # the child exits when this closes
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        if self._log is not None:
            self._log.close()


def exit_when_parent_goes(lifeline_fd: int) -> None:
    """In the child: exit as soon as the parent closes the lifeline or dies."""

    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(lifeline_fd, 1):
                pass
        os._exit(0)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def signal_ready(ready_fd: int, info: str = "") -> None:
    os.write(ready_fd, f"ready {info}".strip().encode() + b"\n")
    os.close(ready_fd)
