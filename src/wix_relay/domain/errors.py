"""Errors the relay reports to its callers.

Each error has an HTTP status and a stable machine-readable `code`; the API renders them as
`{"error": {"code", "message", "details"?, "requestId"}}` (docs/api.md). Messages are written for
the caller: they name the offending field and never contain a credential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str
    rule: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.rule:
            out["rule"] = self.rule
        return out


@dataclass
class RelayError(Exception):
    message: str
    details: list[FieldProblem] = field(default_factory=list)
    status: int = 500
    code: str = "INTERNAL_ERROR"
    retryable: bool = False
    retry_after_s: float | None = None
    """Sent back as `Retry-After` (whole seconds) when known."""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass
class InvalidInput(RelayError):
    """400: the request is malformed or a field breaks a rule (ours or Wix's)."""

    status: int = 400
    code: str = "INVALID_INPUT"


@dataclass
class Unauthenticated(RelayError):
    status: int = 401
    code: str = "UNAUTHENTICATED"


@dataclass
class Forbidden(RelayError):
    """403: authenticated, but outside the caller's policy."""

    status: int = 403
    code: str = "FORBIDDEN"


@dataclass
class NotFound(RelayError):
    status: int = 404
    code: str = "NOT_FOUND"


@dataclass
class PayloadTooLarge(RelayError):
    status: int = 413
    code: str = "PAYLOAD_TOO_LARGE"


@dataclass
class Throttled(RelayError):
    status: int = 429
    code: str = "THROTTLED"
    retryable: bool = True


@dataclass
class UpstreamFailed(RelayError):
    """502: Wix (or S3) refused or failed after retries."""

    status: int = 502
    code: str = "WIX_UPSTREAM_ERROR"
    retryable: bool = True


@dataclass
class UpstreamTimeout(RelayError):
    status: int = 504
    code: str = "WIX_TIMEOUT"
    retryable: bool = True


def error_body(error: RelayError, request_id: str | None) -> dict[str, Any]:
    """The docs/api.md envelope: `{"error": {"code", "message", "details"?, "requestId"}}`."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = [problem.as_dict() for problem in error.details]
    body["requestId"] = request_id
    return {"error": body}


# --- the S3 source of a relay (raised by the S3 port, recorded on the job) -----------------
@dataclass
class SourceNotFound(RelayError):
    status: int = 404
    code: str = "SOURCE_NOT_FOUND"


@dataclass
class SourceForbidden(RelayError):
    status: int = 403
    code: str = "SOURCE_FORBIDDEN"


@dataclass
class SourceChanged(RelayError):
    """The object is no longer the version the job was created for."""

    status: int = 409
    code: str = "SOURCE_CHANGED"


@dataclass
class SourceUnavailable(RelayError):
    """S3 throttled, timed out or broke the connection: try again later."""

    status: int = 503
    code: str = "SOURCE_UNAVAILABLE"
    retryable: bool = True
