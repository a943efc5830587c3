"""S3 as the relay's object source: HEAD, streamed and ranged GETs, presigned GET URLs.

Read-only: nothing here writes, tags or deletes the source object. Bodies are streamed
(`read(n)` on the GetObject body); an object is never read whole. The client (boto3's, or the
boto3-free `aws_services.S3HttpClient` with environment credentials: same methods, same error
shape) is created once per container by `runtime.Runtime` (lazily, thread-safe).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wix_relay.domain.errors import (
    SourceChanged,
    SourceForbidden,
    SourceNotFound,
    SourceUnavailable,
)
from wix_relay.domain.jobs import ObjectInfo, ObjectRef
from wix_relay.integrations.aws_clients import LazyClient

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchBucket"})
_FORBIDDEN = frozenset({"403", "AccessDenied", "Forbidden", "InvalidObjectState"})
_CHANGED = frozenset({"412", "PreconditionFailed"})


def _strip_etag(etag: Any) -> str | None:
    return str(etag).strip('"') or None if etag else None


def _versioned(ref: ObjectRef) -> bool:
    return bool(ref.version_id) and ref.version_id != "null"


class S3Source:
    """The `ObjectSource` port over S3."""

    def __init__(self, client: S3Client | None = None) -> None:
        self._client = client

    client: LazyClient[S3Client] = LazyClient("s3")

    def _params(self, ref: ObjectRef) -> dict[str, Any]:
        params: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
        if _versioned(ref):
            params["VersionId"] = ref.version_id
        return params

    def head(self, ref: ObjectRef) -> ObjectInfo:
        try:
            head = self.client.head_object(**self._params(ref))
        except Exception as exc:
            raise source_error(exc, ref) from exc
        return _info(ref, head)

    def read(self, ref: ObjectRef) -> tuple[ObjectInfo, _Body]:
        """The HEAD and the GET in one request: the version S3 answers with (the fields a HEAD
        gives) and its body, streamed; the caller closes it."""
        try:
            response = self.client.get_object(**self._params(ref))
        except Exception as exc:
            raise source_error(exc, ref) from exc
        info = _info(ref, response)
        return info, _Body(response["Body"], info.ref)

    def open(self, ref: ObjectRef, offset: int = 0) -> _Body | io.BytesIO:
        """A readable stream of the object from `offset` (a ranged GET when offset > 0)."""
        if ref.size is not None and offset >= ref.size:
            return io.BytesIO(b"")
        params = self._params(ref)
        if offset:
            params["Range"] = f"bytes={offset}-"
        if not _versioned(ref) and ref.etag:
            params["IfMatch"] = f'"{ref.etag}"'  # the bytes must be the version the job saw
        try:
            response = self.client.get_object(**params)
        except Exception as exc:
            raise source_error(exc, ref) from exc
        return _Body(response["Body"], ref)

    def presign_get(self, ref: ObjectRef, expires_s: int) -> str:
        return str(
            self.client.generate_presigned_url(
                "get_object", Params=self._params(ref), ExpiresIn=expires_s
            )
        )


def _info(ref: ObjectRef, head: Mapping[str, Any]) -> ObjectInfo:
    """HeadObject's (or GetObject's) fields → the object version they name."""
    resolved = ObjectRef(
        bucket=ref.bucket,
        key=ref.key,
        version_id=head.get("VersionId") or ref.version_id,
        etag=_strip_etag(head.get("ETag")) or ref.etag,
        sequencer=ref.sequencer,
        size=int(head["ContentLength"]),
    )
    return ObjectInfo(
        ref=resolved,
        size=int(head["ContentLength"]),
        content_type=head.get("ContentType"),
        metadata=dict(head.get("Metadata") or {}),
    )


class _Body:
    """The GetObject body: `read(n)` only, S3/network errors turned into `SourceUnavailable`."""

    def __init__(self, body: Any, ref: ObjectRef) -> None:
        self._body = body
        self._ref = ref

    def read(self, size: int = -1, /) -> bytes:
        try:
            return bytes(self._body.read(None if size is None or size < 0 else size))
        except Exception as exc:
            raise source_error(exc, self._ref) from exc

    def close(self) -> None:
        self._body.close()


def source_error(exc: Exception, ref: ObjectRef) -> Exception:
    """botocore's (or `aws_http.AwsError`'s) exceptions → the domain's source errors."""
    where = f"s3://{ref.bucket}/{ref.key}" + (
        f"?versionId={ref.version_id}" if ref.version_id else ""
    )
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        status = str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        if code in _MISSING or status == "404":
            return SourceNotFound(f"{where} does not exist")
        if code in _CHANGED or status == "412":
            return SourceChanged(f"{where} changed since the job was created")
        if code in _FORBIDDEN or status == "403":
            return SourceForbidden(f"the relay may not read {where} ({code or status})")
        return SourceUnavailable(f"S3 failed reading {where}: {code or status}")
    return SourceUnavailable(f"S3 failed reading {where}: {type(exc).__name__}")
