"""Typed errors of the Wix client.

Every error carries the HTTP status (if any), Wix's code, the validation rule names and field
violations, and `x-wix-request-id`. Messages are built from Wix's JSON error body only (never from
HTML, never from a URL or a header) and credentials are scrubbed from them before they are raised.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

# Wix JSON error bodies are small; anything longer is not parsed.
_MAX_ERROR_BODY = 64 * 1024


@dataclass(frozen=True)
class FieldViolation:
    """One entry of `details.validationError.fieldViolations` [doc]."""

    field: str
    description: str = ""
    violated_rule: str | None = None
    rule_name: str | None = None
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class WixError(Exception):
    """Any failure talking to Wix. `retryable` says whether the same call may succeed later."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        rule_names: Iterable[str] = (),
        field_violations: Iterable[FieldViolation] = (),
        request_id: str | None = None,
        operation: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code or (f"HTTP_{status}" if status else type(self).__name__)
        self.rule_names = tuple(rule_names)
        self.field_violations = tuple(field_violations)
        self.request_id = request_id
        self.operation = operation
        self.retry_after_s = retry_after_s  # the answer's Retry-After in seconds (429, 503)

    def __str__(self) -> str:
        return self.message


class WixValidationError(WixError):
    """400: Wix refused a field (`rule_names` holds e.g. FILE_SIZE_OVER_LIMIT)."""


class WixAuthError(WixError):
    """401/403: the credential is wrong, expired or lacks "Manage Media Manager"."""


class WixNotFound(WixError):
    """404 (or 410 for an expired TUS upload), or Wix's 400 whose rule is `RESOURCE_NOT_FOUND`
    (get-file-by-id / get-files with an unknown id [doc: SDK typings]). Not a validation error:
    nothing about the request was refused."""


class WixConflict(WixError):
    """409: e.g. a TUS PATCH at the wrong offset."""


class WixRateLimited(WixError):
    """429: 200 requests per minute per app instance [doc]; no documented `Retry-After`, but it
    is honoured when present."""

    retryable = True


class WixUploadTokenSpent(WixError):
    """A 429 on an upload PUT or TUS finalize: Wix's errors page gives "a previously used one-time
    token" as a 429 example [guess: weak], so the token may have been consumed by an earlier
    attempt whose answer was lost. It is not retried (another PUT on a spent token can only burn
    the retry budget). The file may exist already: look for it (e.g. list the target folder)
    before uploading again with a fresh upload URL."""


class WixServerError(WixError):
    """5xx (bodies are empty [doc])."""

    retryable = True


class WixTimeout(WixError):
    """Connect or read timeout."""

    retryable = True


class WixNetworkError(WixError):
    """Connection refused, reset or cut."""

    retryable = True


class WixProtocolError(WixError):
    """Wix answered 2xx but not in the documented shape (or a redirect, which is never followed)."""


class UploadHostNotAllowed(WixError):
    """An upload or TUS URL points outside `WixSettings.upload_hosts`; nothing was sent."""


class WixCredentialsError(WixError, ValueError):
    """The credential document is incomplete; the message names the key, never a value."""


class SourceError(WixError):
    """The upload source misbehaved (ended early, gave more bytes than `size`, not re-openable)."""


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def _parse_json_error(response: requests.Response) -> Mapping[str, Any] | None:
    if "json" not in response.headers.get("Content-Type", "").lower():
        # Gateway-level 400/403 bodies can be HTML; 5xx bodies are empty [doc][code].
        return None
    try:
        parsed = json.loads(response.content[:_MAX_ERROR_BODY] or b"null")
    except ValueError:
        return None
    return parsed if isinstance(parsed, Mapping) else None


def _violations(details: Mapping[str, Any]) -> list[FieldViolation]:
    validation = details.get("validationError")
    raw = validation.get("fieldViolations") if isinstance(validation, Mapping) else None
    out: list[FieldViolation] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            continue
        data = item.get("data")
        out.append(
            FieldViolation(
                field=str(item.get("field", "")),
                description=str(item.get("description", "")),
                violated_rule=_opt_str(item.get("violatedRule")),
                rule_name=_opt_str(item.get("ruleName")),
                data=data if isinstance(data, Mapping) else {},
            )
        )
    return out


def _opt_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"


def _class_for(status: int, rules: Iterable[str]) -> type[WixError]:
    if status == 400 and RESOURCE_NOT_FOUND in rules:
        return WixNotFound
    if status == 400:
        return WixValidationError
    if status in (401, 403):
        return WixAuthError
    if status in (404, 410):
        return WixNotFound
    if status == 409:
        return WixConflict
    if status == 429:
        return WixRateLimited
    if status >= 500:
        return WixServerError
    return WixError


def error_from_response(
    response: requests.Response,
    operation: str,
    *,
    secrets: Iterable[str] = (),
    retry_after_s: float | None = None,
) -> WixError:
    """Turn a non-2xx response into the matching typed error."""
    status = response.status_code
    request_id = response.headers.get("x-wix-request-id")
    body = _parse_json_error(response)
    details = body.get("details") if body else None
    details = details if isinstance(details, Mapping) else {}
    app_error = details.get("applicationError")
    app_error = app_error if isinstance(app_error, Mapping) else {}
    violations = _violations(details)
    rule_names = [v.rule_name or v.violated_rule for v in violations]
    rules = [r for r in rule_names if r]
    code = _opt_str(app_error.get("code")) or (rules[0] if rules else None)
    if code is None and body:
        # `error` is the OAuth token endpoint's IETF shape (`invalid_client`, ...) [doc].
        code = _opt_str(body.get("code")) or _opt_str(body.get("error"))
    # Wix's own words, when it sent JSON; otherwise only the status (never HTML, never the body).
    wix_message = ""
    if body:
        wix_message = str(
            body.get("message")
            or app_error.get("description")
            or body.get("error_description")
            or ""
        )[:500]
    parts = [f"Wix {operation} failed: HTTP {status}"]
    if code:
        parts.append(code)
    if rules and rules != [code]:
        parts.append("rules " + ",".join(rules))
    text = " ".join(parts)
    if wix_message:
        text += f": {wix_message}"
    if violations:
        text += " (" + "; ".join(f"{v.field}: {v.description}" for v in violations[:10]) + ")"
    if request_id:
        text += f" [x-wix-request-id {request_id}]"
    cls = _class_for(status, rules)
    kw: dict[str, Any] = {
        "status": status,
        "code": code,
        "rule_names": rules,
        "field_violations": violations,
        "request_id": request_id,
        "operation": operation,
        "retry_after_s": retry_after_s,
    }
    return cls(redact(text, secrets), **kw)
