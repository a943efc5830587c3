"""Wix credentials: API key + site id, or an app's OAuth client credentials.

Secret values are excluded from `repr` and never formatted into messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wix_relay.integrations.wix.errors import WixCredentialsError


@dataclass(frozen=True)
class ApiKeyCredentials:
    """Site owner's API key: `Authorization: <key>` (no Bearer) plus `wix-site-id` [doc]."""

    api_key: str = field(repr=False)
    site_id: str

    def secrets(self) -> tuple[str, ...]:
        return (self.api_key,)


@dataclass(frozen=True)
class AppCredentials:
    """An app's client credentials, exchanged at `POST /oauth2/token` for an access token [doc]."""

    app_id: str
    app_secret: str = field(repr=False)
    instance_id: str

    def secrets(self) -> tuple[str, ...]:
        return (self.app_secret,)


Credentials = ApiKeyCredentials | AppCredentials

_API_KEY_KEYS = ("apiKey", "siteId")
_APP_KEYS = ("appId", "appSecret", "instanceId")


def credentials_from_document(doc: Mapping[str, Any]) -> Credentials:
    """Build credentials from the secret's JSON (`{"apiKey","siteId"}` or
    `{"appId","appSecret","instanceId"}`). Errors name the missing key, never a value."""
    if not isinstance(doc, Mapping):
        raise WixCredentialsError("Wix credential document must be a JSON object")
    if any(key in doc for key in _API_KEY_KEYS):
        api_key, site_id = _require(doc, _API_KEY_KEYS)
        return ApiKeyCredentials(api_key=api_key, site_id=site_id)
    if any(key in doc for key in _APP_KEYS):
        app_id, app_secret, instance_id = _require(doc, _APP_KEYS)
        return AppCredentials(app_id=app_id, app_secret=app_secret, instance_id=instance_id)
    raise WixCredentialsError(
        "Wix credential document must contain apiKey and siteId, or appId, appSecret and instanceId"
    )


def _require(doc: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
    values: list[str] = []
    for key in keys:
        if key not in doc:
            raise WixCredentialsError(f"Wix credential document is missing key '{key}'")
        value = doc[key]
        if not isinstance(value, str) or not value.strip():
            raise WixCredentialsError(f"Wix credential key '{key}' must be a non-empty string")
        values.append(value.strip())
    return values
