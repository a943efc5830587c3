"""Wix's error bodies [doc], raised as one exception type and written by the server."""

from __future__ import annotations

from typing import Any

# [doc] Wix's ValidationError rule types (violatedRule); custom rules use OTHER + ruleName.
REQUIRED_FIELD = "REQUIRED_FIELD"
MAX_LENGTH = "MAX_LENGTH"
MIN_LENGTH = "MIN_LENGTH"
MAX_SIZE = "MAX_SIZE"
MIN_SIZE = "MIN_SIZE"
FORMAT = "FORMAT"
DECIMAL_FORMAT = "DECIMAL_FORMAT"
MAX = "MAX"
OTHER = "OTHER"

# [doc: SDK typings] rule names of generate(-resumable)-upload-url and import.
MISMATCH_MIME_TYPE = "MISMATCH_MIME_TYPE"
ZERO_FILE_SIZE = "ZERO_FILE_SIZE"
UNSUPPORTED_FILE_FORMAT = "UNSUPPORTED_FILE_FORMAT"
FILE_SIZE_OVER_LIMIT = "FILE_SIZE_OVER_LIMIT"
SITE_QUOTA_EXCEEDED = "SITE_QUOTA_EXCEEDED"
# [doc: SDK typings] get-file-by-id / get-files with an unknown id (HTTP 400).
RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
# [doc] 429's application code family.
RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"


class WixApiError(Exception):
    """An HTTP error answer: status, JSON body (None = empty body) and extra headers."""

    def __init__(
        self,
        status: int,
        body: dict[str, Any] | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {body.get('message', '') if body else ''}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def violation(
    field: str,
    description: str,
    violated_rule: str = OTHER,
    rule_name: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of fieldViolations [doc shape]."""
    item: dict[str, Any] = {
        "field": field,
        "description": description,
        "violatedRule": violated_rule,
    }
    if rule_name:
        item["ruleName"] = rule_name
    if data is not None:
        item["data"] = data
    return item


def validation_error(violations: list[dict[str, Any]], status: int = 400) -> WixApiError:
    first = violations[0]
    message = f"{first['field']}: {first['description']}"
    return WixApiError(
        status,
        {"message": message, "details": {"validationError": {"fieldViolations": violations}}},
    )


def rule_error(field: str, rule_name: str, description: str, **data: Any) -> WixApiError:
    """A 400 for one of Wix's named rules (MISMATCH_MIME_TYPE, ...)."""
    return validation_error([violation(field, description, OTHER, rule_name, data or {})])


def application_error(
    status: int, code: str, description: str, data: dict[str, Any] | None = None
) -> WixApiError:
    """[doc] {"message", "details": {"applicationError": {"code", "description", "data"}}}."""
    return WixApiError(
        status,
        {
            "message": description,
            "details": {
                "applicationError": {"code": code, "description": description, "data": data or {}}
            },
        },
    )


def rate_limited(description: str = "rate limit exceeded") -> WixApiError:
    """[doc] 429 "Resource exhausted"."""
    return application_error(429, RESOURCE_EXHAUSTED, description)


def oauth_error(status: int, error: str, description: str) -> WixApiError:
    """[doc, moderately sure] OAuth token errors follow the IETF conventions (RFC 6749 §5.2):
    `{"error", "error_description"}`, not a Wix application error."""
    return WixApiError(status, {"error": error, "error_description": description})


def server_error(status: int = 500) -> WixApiError:
    """[doc] 5xx bodies are empty."""
    return WixApiError(status, None)
