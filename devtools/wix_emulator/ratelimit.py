"""Wix's rate limit as the emulator applies it: a token bucket.

[doc] Wix admits 200 requests per minute per app instance, then answers 429; it documents neither
the algorithm nor a `Retry-After`. [guess] The emulator uses a token bucket that refills at
`per_minute / 60` calls a second and holds at most `burst` calls (default 10, never more than
`per_minute`). Why not a one-minute window: a fixed window admits the whole minute's allowance at
once (twice over at a window boundary), so a burst can drain faster than the rate — below the
floor `calls / rate` that a benchmark compares against. A bucket with a small burst admits at most
`burst + rate * t` calls in any interval `t`: the floor is then a real floor, the strictest reading
of "200 per minute", and a client that keeps pace with the rate is never refused.

A refused call takes no token; its answer carries `Retry-After`: the whole seconds until the bucket
holds a token again (at least 1), i.e. when the next call would be admitted.
"""

from __future__ import annotations

import math
import threading

DEFAULT_BURST = 10


class TokenBucket:
    """`admit(now)` → None when the call may go on, else the seconds until it would be admitted.
    `now` is the emulator's clock (`Store.now()`), so `POST /_emulator/clock` moves it."""

    def __init__(self, per_minute: int, burst: int = DEFAULT_BURST) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate_per_s = per_minute / 60.0
        self.capacity = float(max(1, min(burst, per_minute)))
        self._tokens = self.capacity
        self._at: float | None = None
        self._lock = threading.Lock()
        self.admitted = 0
        self.refused = 0

    def admit(self, now: float) -> float | None:
        with self._lock:
            if self._at is not None and now > self._at:  # a clock set back refills nothing
                elapsed = now - self._at
                self._tokens = min(self.capacity, self._tokens + elapsed * self.rate_per_s)
            if self._at is None or now > self._at:
                self._at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                self.admitted += 1
                return None
            self.refused += 1
            return (1.0 - self._tokens) / self.rate_per_s

    def counts(self) -> dict[str, float]:
        """What `GET /_emulator/rate-limit` shows: the settings and the calls so far."""
        with self._lock:
            return {
                "perMinute": self.rate_per_s * 60.0,
                "burst": self.capacity,
                "admitted": self.admitted,
                "refused": self.refused,
            }


def retry_after_header(wait_s: float) -> str:
    """`Retry-After` is whole seconds (RFC 9110 delta-seconds): rounded up, at least 1."""
    return str(max(1, math.ceil(wait_s - 1e-9)))
