"""Wix Media Manager client (see docs/wix-client.md)."""

from wix_relay.integrations.wix._http import ReadableStream, check_upload_url, retry_after_seconds
from wix_relay.integrations.wix.client import (
    DEFAULT_TUS_CHUNK_BYTES,
    OCTET_STREAM,
    UploadSource,
    WixMediaClient,
)
from wix_relay.integrations.wix.credentials import (
    ApiKeyCredentials,
    AppCredentials,
    Credentials,
    credentials_from_document,
)
from wix_relay.integrations.wix.errors import (
    FieldViolation,
    SourceError,
    UploadHostNotAllowed,
    WixAuthError,
    WixConflict,
    WixCredentialsError,
    WixError,
    WixNetworkError,
    WixNotFound,
    WixProtocolError,
    WixRateLimited,
    WixServerError,
    WixTimeout,
    WixUploadTokenSpent,
    WixValidationError,
)
from wix_relay.integrations.wix.models import FileDescriptor, FileList, ResumableTarget
from wix_relay.integrations.wix.tus import TUS_CHUNK_ALIGN, OpenAt, aligned_chunk_size

__all__ = [
    "DEFAULT_TUS_CHUNK_BYTES",
    "OCTET_STREAM",
    "TUS_CHUNK_ALIGN",
    "ApiKeyCredentials",
    "AppCredentials",
    "Credentials",
    "FieldViolation",
    "FileDescriptor",
    "FileList",
    "OpenAt",
    "ReadableStream",
    "ResumableTarget",
    "SourceError",
    "UploadHostNotAllowed",
    "UploadSource",
    "WixAuthError",
    "WixConflict",
    "WixCredentialsError",
    "WixError",
    "WixMediaClient",
    "WixNetworkError",
    "WixNotFound",
    "WixProtocolError",
    "WixRateLimited",
    "WixServerError",
    "WixTimeout",
    "WixUploadTokenSpent",
    "WixValidationError",
    "aligned_chunk_size",
    "check_upload_url",
    "credentials_from_document",
    "retry_after_seconds",
]
