"""Authorization headers for Wix API calls (never for upload URLs: their token is in the URL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from wix_relay.integrations.wix._http import Http
from wix_relay.integrations.wix.credentials import ApiKeyCredentials, AppCredentials, Credentials
from wix_relay.integrations.wix.errors import WixAuthError, WixError, WixProtocolError

TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path, not a password
# [doc] tokens last expires_in seconds (14400); refresh this long before they expire.
REFRESH_MARGIN_S = 300.0
# [guess] used only if the token response omits expires_in.
DEFAULT_TOKEN_LIFETIME_S = 3600.0


class Authenticator:
    """Resolves the (possibly refreshed) credentials and caches the app's access token."""

    def __init__(
        self,
        credentials: Credentials | Callable[[], Credentials],
        http: Http,
        api_base_url: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._provider = credentials if callable(credentials) else (lambda: credentials)
        self._http = http
        self._token_url = api_base_url.rstrip("/") + TOKEN_PATH
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_for: AppCredentials | None = None
        self._expires_at = 0.0
        self._last: Credentials | None = None

    def credentials(self) -> Credentials:
        creds = self._provider()
        if not isinstance(creds, ApiKeyCredentials | AppCredentials):
            raise WixError("the Wix credentials provider returned no credentials")
        self._last = creds
        return creds

    def secrets(self) -> tuple[str, ...]:
        """The secret values last used, which must never appear in a message (for redaction)."""
        found = self._last.secrets() if self._last else ()
        return (*found, self._token) if self._token else found

    def headers(self) -> dict[str, str]:
        creds = self.credentials()
        if isinstance(creds, ApiKeyCredentials):
            # [doc] `Authorization: <key>` with no Bearer prefix, plus the site header.
            return {"Authorization": creds.api_key, "wix-site-id": creds.site_id}
        return {"Authorization": self._access_token(creds)}

    def invalidate(self) -> bool:
        """After a 401: drop the cached token so the next call fetches a fresh one (and re-reads
        the credentials). Returns True: the caller should re-send once."""
        with self._lock:
            self._token = None
            self._token_for = None
        return True

    def _access_token(self, creds: AppCredentials) -> str:
        with self._lock:
            now = self._clock()
            if self._token and self._token_for == creds and now < self._expires_at:
                return self._token
            token, lifetime = self._fetch(creds)
            margin = min(REFRESH_MARGIN_S, lifetime / 10)
            self._token, self._token_for = token, creds
            self._expires_at = now + lifetime - margin
            return token

    def _fetch(self, creds: AppCredentials) -> tuple[str, float]:
        # [doc] client-credentials grant; the token goes in `Authorization` as is.
        try:
            response = self._http.request(
                "oauth2-token",
                "POST",
                self._token_url,
                json_body={
                    "grant_type": "client_credentials",
                    "client_id": creds.app_id,
                    "client_secret": creds.app_secret,
                    "instance_id": creds.instance_id,
                },
            )
        except WixError as exc:
            if exc.status not in (400, 401, 403):
                raise
            # A refused client-credentials grant is an authentication failure, whatever the status.
            raise WixAuthError(
                exc.message,
                status=exc.status,
                code=exc.code,
                rule_names=exc.rule_names,
                field_violations=exc.field_violations,
                request_id=exc.request_id,
                operation=exc.operation,
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise WixProtocolError("Wix oauth2-token answered without an access_token")
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        try:
            lifetime = float(expires_in) if expires_in is not None else DEFAULT_TOKEN_LIFETIME_S
        except (TypeError, ValueError):
            lifetime = DEFAULT_TOKEN_LIFETIME_S
        if lifetime <= 0:
            raise WixAuthError("Wix oauth2-token answered an already expired token")
        return token, lifetime
