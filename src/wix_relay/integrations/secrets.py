"""The Wix credential and the caller registry, read from Secrets Manager (or a local file / env
variable for the registry) and cached per container with a TTL (`Settings.secrets_ttl_s`).

Secrets Manager is read with the container's client (`aws_clients.aws_client`: SigV4 over
`requests` when Lambda's credentials are in the environment), not Powertools `parameters`:
importing `parameters` imports boto3, which would add ~0.3-0.5 s to the first request of every
cold container. The cache gives the same semantics as `get_secret(max_age=ttl)`.
Secret values never appear in a log line or an error message: errors name the secret id only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wix_relay.domain.callers import CallerRegistry, RegistryError
from wix_relay.domain.errors import RelayError
from wix_relay.observability import logger

if TYPE_CHECKING:
    from wix_relay.config import Settings
    from wix_relay.integrations.wix import Credentials

Reader = Callable[[str], str]


class SecretUnavailable(RelayError):
    """A secret could not be read (503) or is missing / malformed (500); no secret material."""


def _unavailable(what: str, *, transient: bool) -> SecretUnavailable:
    if transient:
        return SecretUnavailable(
            f"{what} is temporarily unavailable; retry later",
            status=503,
            code="SERVICE_UNAVAILABLE",
            retryable=True,
        )
    return SecretUnavailable(
        "the relay is not configured correctly", status=500, code="CONFIGURATION_ERROR"
    )


class TtlCache:
    """`name → text`, each entry re-read after `ttl_s` (0: every time). Thread-safe."""

    def __init__(
        self, read: Reader, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._read = read
        self._ttl = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, str]] = {}

    def get(self, name: str) -> str:
        with self._lock:
            now = self._clock()
            hit = self._entries.get(name)
            if hit is not None and now - hit[0] < self._ttl:
                return hit[1]
            value = self._read(name)
            self._entries[name] = (now, value)
            return value

    def invalidate(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)


def secrets_manager_reader(client: Callable[[], Any]) -> Reader:
    """GetSecretValue → SecretString through the container's Secrets Manager client
    (`aws_clients.aws_client`: boto3-free with environment credentials), mapped to
    SecretUnavailable. The log names the secret id and the error code, never a value."""

    def read(secret_id: str) -> str:
        try:
            secret = client().get_secret_value(SecretId=secret_id).get("SecretString")
        except Exception as exc:  # AwsError / ClientError (`.response`), a transport error
            error = getattr(exc, "response", None) or {}
            code = str(error.get("Error", {}).get("Code") or type(exc).__name__)
            logger.error("secret read failed", extra={"secret_id": secret_id, "reason": code})
            raise _unavailable("a secret", transient=code != NOT_FOUND) from None
        if not isinstance(secret, str):
            logger.error("the secret has no SecretString", extra={"secret_id": secret_id})
            raise _unavailable("a secret", transient=True)
        return secret

    return read


NOT_FOUND = "ResourceNotFoundException"


def _json_object(text: str, what: str) -> Mapping[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        logger.error(f"{what} is not a JSON object")
        raise _unavailable(what, transient=False)
    return value


class WixCredentialSource:
    """Callable for `WixMediaClient(credentials=…)`: the credential, re-read after the TTL."""

    def __init__(self, secret_id: str | None, cache: TtlCache) -> None:
        self._secret_id = secret_id
        self._cache = cache
        self._parsed: tuple[str, Credentials] | None = None

    def __call__(self) -> Credentials:
        from wix_relay.integrations.wix import WixCredentialsError, credentials_from_document

        if not self._secret_id:
            logger.error("WIX_CREDENTIALS_SECRET_ID is not set")
            raise _unavailable("the Wix credential", transient=False)
        text = self._cache.get(self._secret_id)
        if self._parsed is not None and self._parsed[0] is text:
            return self._parsed[1]
        try:
            credentials = credentials_from_document(_json_object(text, "the Wix credential"))
        except WixCredentialsError as exc:  # names the missing key, never a value
            logger.error("the Wix credential secret is incomplete", extra={"reason": str(exc)})
            raise _unavailable("the Wix credential", transient=False) from None
        self._parsed = (text, credentials)
        return credentials


class CallerRegistrySource:
    """The caller registry: `RELAY_CALLERS_JSON`, else `RELAY_CALLERS_FILE`, else the secret
    `RELAY_CALLERS_SECRET_ID`; parsed once per distinct document."""

    def __init__(self, settings: Settings, cache_for_secrets: Callable[[], TtlCache]) -> None:
        api = settings.api
        self._static = api.callers_json
        self._file_cache: TtlCache | None = None
        self._secrets = cache_for_secrets
        self._file = api.callers_file
        self._secret_id = api.callers_secret_id
        if self._static is None and self._file is not None:
            self._file_cache = TtlCache(_read_file, settings.secrets_ttl_s)
        self._parsed: tuple[str, CallerRegistry] | None = None
        self._warned = False

    def _text(self) -> str | None:
        if self._static is not None:
            return self._static
        if self._file_cache is not None and self._file is not None:
            return self._file_cache.get(self._file)
        if self._secret_id:
            return self._secrets().get(self._secret_id)
        return None

    def registry(self) -> CallerRegistry:
        text = self._text()
        if text is None:
            if not self._warned:
                logger.warning("no caller registry configured: every credential is refused")
                self._warned = True
            return CallerRegistry()
        if self._parsed is not None and self._parsed[0] == text:
            return self._parsed[1]
        try:
            registry = CallerRegistry.from_document(_json_object(text, "the caller registry"))
        except RegistryError as exc:  # names a path in the document, never a key
            logger.error("the caller registry is invalid", extra={"reason": str(exc)})
            raise _unavailable("the caller registry", transient=False) from None
        self._parsed = (text, registry)
        return registry


def _read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        logger.error("cannot read the caller registry file", extra={"reason": type(exc).__name__})
        raise _unavailable("the caller registry", transient=False) from None
