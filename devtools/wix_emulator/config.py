"""Emulator configuration: one dataclass, filled from WIX_EMULATOR_* environment variables."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .ratelimit import DEFAULT_BURST

MIB = 1024 * 1024

# [guess] Wix's per-type limits, from a second-hand copy of its help article (docs/wix-facts.md,
# "File types and sizes"). "MB" is read as MiB. Keys are media categories (see mediatypes.py);
# "gif" and "svg" are the two per-format exceptions. Override with WIX_EMULATOR_SIZE_LIMITS
# (a JSON object of category -> bytes).
DEFAULT_SIZE_LIMITS: dict[str, int] = {
    "image": 50 * MIB,
    "gif": 15 * MIB,
    "svg": 250 * 1024,
    "video": 4096 * MIB,
    "audio": 50 * MIB,
    "document": 1000 * MIB,
    "archive": 4000 * MIB,
    "model3d": 25 * MIB,
    "other": 4000 * MIB,  # [guess] no published limit for other types
}


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes the emulator's behaviour. Defaults are development values."""

    host: str = "127.0.0.1"
    port: int = 3001
    # Credentials it accepts (development defaults; never real secrets).
    api_key: str = "dev-wix-api-key"
    site_id: str = "dev-site-id"
    app_id: str = "dev-app-id"
    app_secret: str = "dev-app-secret"
    instance_id: str = "dev-instance-id"
    # [doc] OAuth access tokens last 14400 s.
    token_expires_in: int = 14400
    # [guess] upload tokens last about 24 h (from sample tokens).
    upload_token_ttl_s: int = 86400
    # Time from a completed upload/import to READY (or FAILED).
    processing_ms: int = 100
    # Where stored bytes go; None = a fresh temporary directory, removed on stop.
    data_dir: str | None = None
    # Site storage quota in bytes; 0 = unlimited.
    site_quota_bytes: int = 0
    size_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_SIZE_LIMITS))
    # [doc: SDK typings] fileName/displayName <= 1000 chars, the stored name truncated to 255.
    # (The REST reference says 200; set 200 to be stricter.)
    file_name_max_length: int = 1000
    # Base URL for upload URLs and TUS Locations; None = the emulator's own http://host:port.
    public_base_url: str | None = None
    # [guess] Location of a TUS upload: absolute by default; the doc says it "may be relative".
    tus_relative_location: bool = False
    # [guess] Wix's TUS backend may persist only whole multiples of this many bytes per non-final
    # PATCH (a cloud-storage resumable session does, at 256 KiB). 0 = persist every byte.
    tus_chunk_multiple: int = 0
    # [doc] 200 requests per minute per app instance, then 429. 0 = no rate limit.
    rate_limit_per_minute: int = 0
    # [guess] The limit is a token bucket holding at most this many calls (ratelimit.py).
    rate_limit_burst: int = DEFAULT_BURST
    # Print one access-log line per request to stderr.
    access_log: bool = False
    # Processing time per media category (image, video, audio, ...), overriding processing_ms.
    processing_ms_by_type: Mapping[str, int] = field(default_factory=dict)
    # [guess] Wix's errors page gives "a previously used one-time token" as a 429 example: with
    # this on, a reused upload token answers 429 RESOURCE_EXHAUSTED instead of 403.
    reused_token_429: bool = False
    # Answer a one-shot upload (or a TUS finalize) before hashing its bytes: `hash` is "", the MD5
    # is computed from the stored file by the first read that shows it (get/list/query, the control
    # API, a webhook), so every `hash` read after the answer is right. For benchmarks: the MD5
    # (~1.4 CPU-s per GiB here) is then off the upload's path, and the emulator is not what
    # a large-transfer figure measures.
    hash_after_answer: bool = False
    # --- webhooks (File Ready / File Failed) ---------------------------------------------------
    # Where events are POSTed; empty = no deliveries.
    webhook_urls: tuple[str, ...] = ()
    # PEM of the RSA private key that signs deliveries; None = a fresh key pair at start.
    webhook_private_key: str | None = None
    # accountInfo of the events [guess: any ids do; Wix sends the site owner's account].
    account_id: str = "dev-account-id"
    # Delays before each retry of a failed delivery (non-2xx or no answer), in ms; the number of
    # entries is the number of retries (set the variable empty for none). [guess] Wix documents
    # at-least-once delivery, not its schedule.
    webhook_retry_ms: tuple[int, ...] = (1000, 2000, 4000, 8000, 16000)
    # Per-attempt timeout and the delivery threads.
    webhook_timeout_ms: int = 5000
    webhook_workers: int = 4
    # At most this many deliveries waiting (memory bound); more are logged as dropped.
    webhook_queue_max: int = 10000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EmulatorConfig:
        """Read WIX_EMULATOR_* variables; unset ones keep the defaults."""
        env = os.environ if env is None else env
        d = cls()

        def text(name: str, default: str) -> str:
            return env.get(f"WIX_EMULATOR_{name}") or default

        def integer(name: str, default: int) -> int:
            raw = env.get(f"WIX_EMULATOR_{name}")
            if raw in (None, ""):
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ValueError(f"WIX_EMULATOR_{name} must be an integer, got {raw!r}") from None
            if value < 0:
                raise ValueError(f"WIX_EMULATOR_{name} must be >= 0")
            return value

        def flag(name: str, default: bool) -> bool:
            raw = env.get(f"WIX_EMULATOR_{name}")
            if raw in (None, ""):
                return default
            return raw.strip().lower() in ("1", "true", "yes", "on")

        limits = dict(DEFAULT_SIZE_LIMITS)
        raw_limits = env.get("WIX_EMULATOR_SIZE_LIMITS")
        if raw_limits:
            parsed = json.loads(raw_limits)
            if not isinstance(parsed, dict) or not all(
                isinstance(v, int) and v >= 0 for v in parsed.values()
            ):
                raise ValueError("WIX_EMULATOR_SIZE_LIMITS must be a JSON object of name -> bytes")
            limits.update(parsed)

        def mapping(name: str) -> dict[str, int]:
            raw = env.get(f"WIX_EMULATOR_{name}")
            if not raw:
                return {}
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in parsed.values()
            ):
                raise ValueError(f"WIX_EMULATOR_{name} must be a JSON object of name -> integer")
            return parsed

        def listing(name: str) -> tuple[str, ...]:
            raw = env.get(f"WIX_EMULATOR_{name}") or ""
            return tuple(p.strip() for p in raw.split(",") if p.strip())

        retry_raw = listing("WEBHOOK_RETRY_MS")
        if retry_raw and not all(p.isdigit() for p in retry_raw):
            raise ValueError("WIX_EMULATOR_WEBHOOK_RETRY_MS must be a comma list of milliseconds")
        return cls(
            host=text("HOST", d.host),
            port=integer("PORT", d.port),
            api_key=text("API_KEY", d.api_key),
            site_id=text("SITE_ID", d.site_id),
            app_id=text("APP_ID", d.app_id),
            app_secret=text("APP_SECRET", d.app_secret),
            instance_id=text("INSTANCE_ID", d.instance_id),
            token_expires_in=integer("TOKEN_EXPIRES_IN", d.token_expires_in),
            upload_token_ttl_s=integer("UPLOAD_TOKEN_TTL", d.upload_token_ttl_s),
            processing_ms=integer("PROCESSING_MS", d.processing_ms),
            data_dir=env.get("WIX_EMULATOR_DATA_DIR") or None,
            site_quota_bytes=integer("SITE_QUOTA_BYTES", d.site_quota_bytes),
            size_limits=limits,
            file_name_max_length=integer("FILE_NAME_MAX_LENGTH", d.file_name_max_length),
            public_base_url=env.get("WIX_EMULATOR_PUBLIC_BASE_URL") or None,
            tus_relative_location=flag("TUS_RELATIVE_LOCATION", d.tus_relative_location),
            tus_chunk_multiple=integer("TUS_CHUNK_MULTIPLE", d.tus_chunk_multiple),
            rate_limit_per_minute=integer("RATE_LIMIT_PER_MINUTE", d.rate_limit_per_minute),
            rate_limit_burst=max(1, integer("RATE_LIMIT_BURST", d.rate_limit_burst)),
            access_log=flag("ACCESS_LOG", d.access_log),
            processing_ms_by_type=mapping("PROCESSING_MS_BY_TYPE"),
            reused_token_429=flag("REUSED_TOKEN_429", d.reused_token_429),
            hash_after_answer=flag("HASH_AFTER_ANSWER", d.hash_after_answer),
            webhook_urls=listing("WEBHOOK_URL"),
            webhook_private_key=env.get("WIX_EMULATOR_WEBHOOK_PRIVATE_KEY") or None,
            account_id=text("ACCOUNT_ID", d.account_id),
            webhook_retry_ms=(
                tuple(int(p) for p in retry_raw)
                if "WIX_EMULATOR_WEBHOOK_RETRY_MS" in env
                else d.webhook_retry_ms
            ),
            webhook_timeout_ms=integer("WEBHOOK_TIMEOUT_MS", d.webhook_timeout_ms),
            webhook_workers=max(1, integer("WEBHOOK_WORKERS", d.webhook_workers)),
            webhook_queue_max=integer("WEBHOOK_QUEUE_MAX", d.webhook_queue_max),
        )

    def processing_ms_for(self, category: str) -> int:
        """Processing time of a file of this media category (image, video, audio, ...)."""
        return self.processing_ms_by_type.get(category, self.processing_ms)
