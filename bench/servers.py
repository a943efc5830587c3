"""Run one local server in its own process, so it never shares the harness's GIL:

    python -m bench.servers moto
    python -m bench.servers emulator
    python -m bench.servers gateway    (the API handler behind local_stack's HTTP gateway)

Prints one JSON line `{"url": ...}` once the server listens on a free loopback port, then serves
until its standard input closes (so it dies with the harness).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any


def _moto() -> tuple[str, Callable[[], None]]:
    """moto as the local stack runs it: its DynamoDB writes and SQS receives made atomic."""
    from local_stack.moto_atomic import make_moto_atomic
    from moto.server import ThreadedMotoServer

    make_moto_atomic()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}", server.stop


def _emulator() -> tuple[str, Callable[[], None]]:
    """The Wix emulator with its config from WIX_EMULATOR_* (the harness sets port 0 and the
    bench credentials)."""
    import wix_emulator

    config_cls = getattr(wix_emulator, "EmulatorConfig", None)
    if config_cls is None:
        from wix_emulator.config import EmulatorConfig as config_cls
    config = config_cls.from_env()
    running: Any = wix_emulator.start_emulator(config, port=0)
    url = getattr(running, "url", None) or getattr(running, "base_url", None)
    if url is None:
        url = f"http://127.0.0.1:{running.port}"
    stop = getattr(running, "stop", None) or getattr(running, "close", None) or (lambda: None)
    return str(url).rstrip("/"), stop


def _gateway() -> tuple[str, Callable[[], None]]:
    """The API handler behind devtools/local_stack's HTTP gateway (its env from the harness)."""
    from local_stack.gateway import LocalGateway

    from wix_relay.handlers.api import handler

    gateway = LocalGateway(handler, function_name="bench-api", access_log=False).start()
    return gateway.url, gateway.stop


def main(argv: list[str]) -> int:
    kind = argv[1] if len(argv) > 1 else ""
    starters = {"moto": _moto, "emulator": _emulator, "gateway": _gateway}
    if kind not in starters:
        print(json.dumps({"error": f"unknown server {kind!r}"}), flush=True)
        return 2
    try:
        url, stop = starters[kind]()
    except Exception as exc:  # reported to the harness as data
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    print(json.dumps({"url": url}), flush=True)
    # Nobody reads our stdout after this line: send later output (handler logs) to /dev/null so
    # a full pipe can never block the server.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    try:
        sys.stdin.read()  # block until the harness closes our stdin (or dies)
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
