"""moto in server mode in a process of its own: moto's backends are global to a process, so an
in-process server would share (and a test's reset would wipe) the stack's resources.

    python -m local_stack.moto_process --port P --ready-fd R --lifeline-fd L
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import threading

from local_stack.child import exit_when_parent_goes, signal_ready


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local_stack.moto_process")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--lifeline-fd", type=int, required=True)
    args = parser.parse_args(argv)
    exit_when_parent_goes(args.lifeline_fd)
    from moto.server import ThreadedMotoServer

    from local_stack.moto_atomic import make_moto_atomic

    make_moto_atomic()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access-log line per AWS call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    signal_ready(args.ready_fd, str(server.get_host_and_port()[1]))
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    server.stop()


if __name__ == "__main__":
    main()
