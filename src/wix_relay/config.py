"""The relay's configuration, modelled once.

`Settings.from_env()` reads the process environment exactly once per cold start (the handlers call
it at module level), validates every variable and raises `ConfigError` naming *all* the bad ones.
Everything else receives a `Settings` (or a part of it) as an argument and never reads
`os.environ` itself. Secrets are not configuration: only the *names* of the secrets live here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from wix_relay.domain.media import MODES, ModeName

DEFAULT_WIX_API_BASE_URL = "https://www.wixapis.com"
# [doc] upload URLs returned by generate-upload-url point at upload.wixmp.com.
DEFAULT_WIX_UPLOAD_HOSTS = ("upload.wixmp.com",)
MIB = 1024 * 1024


class ConfigError(ValueError):
    """The environment is not a valid relay configuration; the message names every bad variable."""


def required(name: str, value: str | None) -> str:
    """A setting the part being built cannot work without (a table, a queue): its value, else a
    `ConfigError` naming the variable. The one check for every store and queue."""
    if not value:
        raise ConfigError(f"invalid configuration: {name} is not set")
    return value


@dataclass(frozen=True)
class WixSettings:
    api_base_url: str = DEFAULT_WIX_API_BASE_URL
    upload_hosts: tuple[str, ...] = DEFAULT_WIX_UPLOAD_HOSTS
    credentials_secret_id: str | None = None
    """Secrets Manager id of `{"apiKey","siteId"}` or `{"appId","appSecret","instanceId"}`."""
    connect_timeout_s: float = 3.05
    read_timeout_s: float = 30.0
    retry_budget_s: float = 20.0
    """Total time the client may spend retrying one call (429 / 5xx / network): the worker's."""
    max_retries: int | None = None
    """Retries of one call at most (None: as many as fit in `retry_budget_s`)."""
    api_retry_budget_s: float = 2.5
    """The API's budget: a browser is waiting for its upload URL (see `for_api`)."""
    api_max_retries: int = 2
    calls_per_minute: float = 0.0
    """Client-side pacing: at most this many Wix calls a minute per container (0: off; Wix
    allows 200 a minute per app instance [doc], shared by every container)."""

    def for_api(self) -> WixSettings:
        """The settings the API's client uses: the short, interactive retry budget."""
        return replace(
            self, retry_budget_s=self.api_retry_budget_s, max_retries=self.api_max_retries
        )


@dataclass(frozen=True)
class ApiSettings:
    cors_origins: tuple[str, ...] = ()
    callers_secret_id: str | None = None
    """Secrets Manager id of the caller registry (deployed mode)."""
    callers_file: str | None = None
    """Path of the caller registry JSON document (local mode)."""
    callers_json: str | None = None
    """The caller registry JSON document itself (local mode, highest precedence)."""
    max_body_bytes: int = 64 * 1024


@dataclass(frozen=True)
class TransferSettings:
    upload_threshold_bytes: int = 10 * MIB
    tus_chunk_bytes: int = 8 * MIB
    default_mode: ModeName = "auto"
    folder_root: str = "/"
    """Wix folder under which the S3 key's folders are recreated."""
    routes_json: str | None = None
    """Per bucket/prefix routes (JSON list); parsed by the domain."""
    presign_expiry_s: int = 900
    ready_checks: int = 10
    """Without Wix events: delayed readiness checks of an uploaded job (one get-file each)."""
    ready_check_delay_s: int = 5
    """The first check's delay; each next one doubles, at most SQS's 900 s."""
    worker_concurrency: int = 10
    """Records of one SQS batch relayed at once (threads; also sizes the HTTP pools)."""
    max_receive_count: int = 5
    """The queue's redrive maxReceiveCount: on that delivery a retryable failure fails the job."""


AWS_TIMEOUTS_S = (5.0, 60.0)
"""Connect and read timeouts of the worker's AWS calls: the boto3 clients' defaults."""
API_AWS_TIMEOUTS_S = (3.05, 10.0)
"""The API's AWS calls (Secrets Manager, DynamoDB, SQS): at most 10 s without an answer."""


@dataclass(frozen=True)
class AwsSettings:
    jobs_table: str | None = None
    job_retention_s: int = 30 * 24 * 3600
    """How long a job record lives after its last write (the table's TTL on `expiresAt`)."""
    queue_url: str | None = None
    endpoint_url: str | None = None
    """Only set in local mode (moto server); botocore also honours AWS_ENDPOINT_URL itself."""
    region: str = "us-east-1"
    timeouts_s: tuple[float, float] = AWS_TIMEOUTS_S
    """Connect and read timeouts of every AWS call."""

    def for_api(self) -> AwsSettings:
        """The API's: it answers within API Gateway's 30 s, so a hung call is cut sooner."""
        return replace(self, timeouts_s=API_AWS_TIMEOUTS_S)


# --- Wix events in, partner callbacks out (issue 12) -----------------------------------------
@dataclass(frozen=True)
class EventSettings:
    public_key_secret_id: str | None = None
    """Secrets Manager id of the Wix app's public key (PEM or base64 of the PEM), deployed."""
    public_key: str | None = None
    """The key itself (local mode: the emulator's); wins over the secret."""
    app_id: str | None = None
    verify_caller_claims: bool = False
    """Also require `iss == "wix.com"` and `aud` = `app_id` (the SDK's webhooks do not)."""
    max_body_bytes: int = 256 * 1024
    table: str | None = None
    """DynamoDB table of seen-event markers and latest file states (may be the jobs table)."""
    dedupe_ttl_s: int = 7 * 24 * 3600


MAX_SQS_VISIBILITY_S = 12 * 3600


@dataclass(frozen=True)
class CallbackSettings:
    queue_url: str | None = None
    dead_letter_queue_url: str | None = None
    """Where permanently undeliverable callbacks go at once (bad URL, unknown caller)."""
    max_attempts: int = 8
    """Must equal the callback queue's redrive maxReceiveCount."""
    backoff_base_s: float = 30.0
    backoff_max_s: float = 900.0
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 5.0
    max_response_bytes: int = 16 * 1024
    allow_loopback: bool = False
    """Local stack only: http and loopback receivers allowed."""


@dataclass(frozen=True)
class ObservabilitySettings:
    """Powertools reads its own POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL (the logger is
    created before any Settings); these are the rest."""

    metrics_namespace: str = "WixMediaRelay"
    tracing: bool = False
    """The Powertools Tracer: in Lambda, unless POWERTOOLS_TRACE_DISABLED is true."""


@dataclass(frozen=True)
class Settings:
    secrets_ttl_s: int = 300
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    wix: WixSettings = field(default_factory=WixSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    transfer: TransferSettings = field(default_factory=TransferSettings)
    aws: AwsSettings = field(default_factory=AwsSettings)
    events: EventSettings = field(default_factory=EventSettings)
    callbacks: CallbackSettings = field(default_factory=CallbackSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = _Reader(os.environ if environ is None else environ)
        settings = cls(
            secrets_ttl_s=env.integer("RELAY_SECRETS_TTL_SECONDS", 300, minimum=0),
            observability=ObservabilitySettings(
                metrics_namespace=env.text("POWERTOOLS_METRICS_NAMESPACE", "WixMediaRelay"),
                tracing=env.optional("AWS_LAMBDA_FUNCTION_NAME") is not None
                and env.text("POWERTOOLS_TRACE_DISABLED", "").lower() not in {"1", "true"},
            ),
            wix=WixSettings(
                api_base_url=env.url("WIX_API_BASE_URL", DEFAULT_WIX_API_BASE_URL),
                upload_hosts=env.csv("WIX_UPLOAD_HOSTS", DEFAULT_WIX_UPLOAD_HOSTS),
                credentials_secret_id=env.optional("WIX_CREDENTIALS_SECRET_ID"),
                connect_timeout_s=env.number("WIX_CONNECT_TIMEOUT_SECONDS", 3.05),
                read_timeout_s=env.number("WIX_READ_TIMEOUT_SECONDS", 30.0),
                retry_budget_s=env.number("WIX_RETRY_BUDGET_SECONDS", 20.0),
                api_retry_budget_s=env.number("WIX_API_RETRY_BUDGET_SECONDS", 2.5),
                api_max_retries=env.integer("WIX_API_MAX_RETRIES", 2, minimum=0),
                calls_per_minute=max(0.0, env.number("WIX_CALLS_PER_MINUTE", 0.0)),
            ),
            api=ApiSettings(
                cors_origins=env.csv("RELAY_CORS_ORIGINS", ()),
                callers_secret_id=env.optional("RELAY_CALLERS_SECRET_ID"),
                callers_file=env.optional("RELAY_CALLERS_FILE"),
                callers_json=env.optional("RELAY_CALLERS_JSON"),
                max_body_bytes=env.integer("RELAY_MAX_BODY_BYTES", 64 * 1024, minimum=1),
            ),
            transfer=TransferSettings(
                upload_threshold_bytes=env.integer(
                    "RELAY_UPLOAD_THRESHOLD_BYTES", 10 * MIB, minimum=1
                ),
                tus_chunk_bytes=env.integer("RELAY_TUS_CHUNK_BYTES", 8 * MIB, minimum=256 * 1024),
                default_mode=env.choice("RELAY_DEFAULT_MODE", "auto", MODES),
                folder_root=env.text("RELAY_FOLDER_ROOT", "/"),
                routes_json=env.json_document("RELAY_ROUTES"),
                presign_expiry_s=env.integer("RELAY_PRESIGN_EXPIRY_SECONDS", 900, minimum=60),
                ready_checks=env.integer("RELAY_READY_CHECKS", 10, minimum=0),
                ready_check_delay_s=env.integer("RELAY_READY_CHECK_DELAY_SECONDS", 5, minimum=0),
                worker_concurrency=env.integer("RELAY_WORKER_CONCURRENCY", 10, minimum=1),
                max_receive_count=env.integer("RELAY_MAX_RECEIVE_COUNT", 5, minimum=1),
            ),
            aws=AwsSettings(
                jobs_table=env.optional("RELAY_JOBS_TABLE"),
                job_retention_s=env.integer("RELAY_JOB_RETENTION_DAYS", 30, minimum=1) * 86400,
                queue_url=env.optional("RELAY_QUEUE_URL"),
                endpoint_url=env.optional("AWS_ENDPOINT_URL"),
                region=env.optional("AWS_REGION")
                or env.optional("AWS_DEFAULT_REGION")
                or "us-east-1",
            ),
            events=EventSettings(
                public_key_secret_id=env.optional("WIX_EVENTS_PUBLIC_KEY_SECRET_ID"),
                public_key=env.optional("WIX_EVENTS_PUBLIC_KEY"),
                app_id=env.optional("WIX_APP_ID"),
                verify_caller_claims=env.choice(
                    "WIX_EVENTS_VERIFY_ISS_AUD", "false", ("true", "false")
                )
                == "true",
                max_body_bytes=env.integer("RELAY_MAX_EVENT_BYTES", 256 * 1024, minimum=1024),
                table=env.optional("RELAY_EVENTS_TABLE"),
                dedupe_ttl_s=env.integer(
                    "RELAY_EVENT_DEDUPE_TTL_SECONDS", 7 * 24 * 3600, minimum=60
                ),
            ),
            callbacks=CallbackSettings(
                queue_url=env.optional("RELAY_CALLBACK_QUEUE_URL"),
                dead_letter_queue_url=env.optional("RELAY_CALLBACK_DLQ_URL"),
                max_attempts=env.integer("RELAY_CALLBACK_MAX_ATTEMPTS", 8, minimum=1),
                backoff_base_s=env.number("RELAY_CALLBACK_BACKOFF_BASE_SECONDS", 30.0),
                backoff_max_s=env.number("RELAY_CALLBACK_BACKOFF_MAX_SECONDS", 900.0),
                connect_timeout_s=env.number("RELAY_CALLBACK_CONNECT_TIMEOUT_SECONDS", 3.0),
                read_timeout_s=env.number("RELAY_CALLBACK_READ_TIMEOUT_SECONDS", 5.0),
                max_response_bytes=env.integer(
                    "RELAY_CALLBACK_MAX_RESPONSE_BYTES", 16 * 1024, minimum=0
                ),
                allow_loopback=env.choice(
                    "RELAY_CALLBACK_ALLOW_LOOPBACK", "false", ("true", "false")
                )
                == "true",
            ),
        )
        if settings.events.verify_caller_claims and not settings.events.app_id:
            env.problems.append("WIX_EVENTS_VERIFY_ISS_AUD=true needs WIX_APP_ID")
        if settings.callbacks.backoff_max_s > MAX_SQS_VISIBILITY_S:
            env.problems.append(
                f"RELAY_CALLBACK_BACKOFF_MAX_SECONDS must be at most {MAX_SQS_VISIBILITY_S}"
            )
        if env.problems:
            raise ConfigError("invalid configuration: " + "; ".join(env.problems))
        if settings.api.cors_origins and "*" in settings.api.cors_origins:
            raise ConfigError("invalid configuration: RELAY_CORS_ORIGINS must list origins, not *")
        return settings


class _Reader:
    """Reads typed values and collects every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._env = environ
        self.problems: list[str] = []

    def optional(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def _parse[T](self, name: str, default: T, parse: Callable[[str], T], what: str) -> T:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except (ValueError, TypeError):
            self.problems.append(f"{name} must be {what}")
            return default

    def integer(self, name: str, default: int, minimum: int | None = None) -> int:
        value = self._parse(name, default, int, "an integer")
        if minimum is not None and value < minimum:
            self.problems.append(f"{name} must be at least {minimum}")
        return value

    def number(self, name: str, default: float) -> float:
        value = self._parse(name, default, float, "a number")
        if value < 0:
            self.problems.append(f"{name} must not be negative")
        return value

    def csv(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        raw = self.optional(name)
        if raw is None:
            return default
        return tuple(item.strip() for item in raw.split(",") if item.strip())

    def url(self, name: str, default: str) -> str:
        value = self.text(name, default).rstrip("/")
        if not value.startswith(("https://", "http://")):
            self.problems.append(f"{name} must be an http(s) URL")
        return value

    def choice[C: str](self, name: str, default: C, choices: tuple[C, ...]) -> C:
        raw = self.optional(name)
        if raw is None:
            return default
        for choice in choices:
            if raw == choice:
                return choice
        self.problems.append(f"{name} must be one of {', '.join(choices)}")
        return default

    def json_document(self, name: str) -> str | None:
        """The raw text, once it is known to parse (its meaning is the domain's to check)."""
        raw = self.optional(name)
        if raw is None:
            return None
        try:
            json.loads(raw)
        except ValueError:
            self.problems.append(f"{name} must be a JSON document")
            return None
        return raw
