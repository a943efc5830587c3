"""`python -m wix_emulator`: serve in the foreground until Ctrl-C (WIX_EMULATOR_* settings)."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

from .config import EmulatorConfig
from .running import start_emulator


def main() -> int:
    cfg = EmulatorConfig.from_env()
    emulator = start_emulator(cfg, port=cfg.port)
    print(
        f"Wix emulator on {emulator.url}\n"
        f"  WIX_API_BASE_URL={emulator.url}\n"
        f"  WIX_UPLOAD_HOSTS={emulator.upload_host}\n"
        f"  API key: Authorization: {cfg.api_key}  +  wix-site-id: {cfg.site_id}\n"
        f"  OAuth app: client_id={cfg.app_id} instance_id={cfg.instance_id} "
        f"(client_secret from WIX_EMULATOR_APP_SECRET)\n"
        f"  data dir: {emulator.data_dir}\n"
        f"  webhooks: {', '.join(cfg.webhook_urls) or 'none (WIX_EMULATOR_WEBHOOK_URL)'}; "
        f"public key at {emulator.url}/_emulator/webhook-public-key\n"
        f"  control API: {emulator.url}/_emulator/ (see docs/emulator.md)",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
