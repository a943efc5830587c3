"""How many File Ready deliveries per second the emulator sends (a measurement, not a test).

    python tests/integration/emulator/webhook_bench.py [N] [--workers W]

Uploads N small PNGs with a long processing time, then advances the emulator's clock so all N
become READY at once, and times until the local receiver has N deliveries (finisher, RS256
signing, queue and POSTs included). PYTHONPATH=src:devtools:. (set by the Makefile).
"""

from __future__ import annotations

import argparse
import time

from wix_emulator import EmulatorConfig, start_emulator

from tests.integration.emulator.emulator_helpers import WixCalls
from tests.integration.emulator.webhook_receiver import WebhookReceiver

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000040000000308060000009b5b3d1a"
    "0000001049444154789c63f8cfc0f09f8181e13f0300150506fb3a3f4e1d000000"
    "0049454e44ae426082"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=EmulatorConfig().webhook_workers)
    args = parser.parse_args()
    with WebhookReceiver() as receiver:
        cfg = EmulatorConfig(
            processing_ms=3_600_000, webhook_urls=(receiver.url,), webhook_workers=args.workers
        )
        with start_emulator(cfg, port=0) as em:
            wix = WixCalls(em)
            for i in range(args.n):
                url = wix.upload_url(mimeType="image/png", fileName=f"f{i}.png")
                assert wix.put(url, PNG, "image/png").status_code == 200
            started = time.perf_counter()
            em.advance_clock(3601)
            receiver.wait_for(args.n, timeout=600)
            elapsed = time.perf_counter() - started
            log = em.webhooks()
    delivered = sum(1 for d in log if d["state"] == "delivered")
    print(
        f"{args.n} events, {args.workers} delivery threads: {elapsed:.2f} s, "
        f"{args.n / elapsed:.0f} deliveries/s ({delivered} delivered, "
        f"{sum(d['attempts'] for d in log)} attempts)"
    )


if __name__ == "__main__":
    main()
