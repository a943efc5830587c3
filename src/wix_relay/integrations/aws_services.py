"""DynamoDB, SQS, Secrets Manager and S3 over `aws_http` (SigV4 + `requests`, botocore retries),
for a process whose environment holds credentials (Lambda's): no boto3 on the first request.

Each client offers the boto3 low-level methods the stores, queues and the S3 source call, with
the same parameters and response shapes (`client.put_item(TableName=…)`, `client.exceptions.
ConditionalCheckFailedException`, `client.meta.endpoint_url`), so those modules work with either.
DynamoDB, SQS and Secrets Manager are JSON protocols: the boto3 parameters are the request body.
`aws_clients.aws_client` chooses between these and boto3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from wix_relay.config import AWS_TIMEOUTS_S
from wix_relay.integrations.aws_http import (
    AwsEndpoint,
    AwsError,
    AwsHttp,
    json_error,
    presign_v4,
    xml_error,
)


# --- DynamoDB's attribute values (the types the items hold: str, int, bool, None, maps, lists) --
def serialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain item → DynamoDB's attribute values, as boto3's `TypeSerializer` writes them
    (top-level None values are left out)."""
    return {k: serialize(v) for k, v in item.items() if v is not None}


def serialize(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, Decimal)):
        return {"N": str(Decimal(value))}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Mapping):
        return {"M": {str(k): serialize(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [serialize(v) for v in value]}
    raise TypeError(f"Unsupported type {type(value)} for value {value!r}")


def deserialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB's attribute values → a plain item (numbers as int, or float if not integral)."""
    return {k: deserialize(v) for k, v in item.items()}


def deserialize(value: Mapping[str, Any]) -> Any:
    ((tag, inner),) = value.items()
    if tag in {"S", "BOOL"}:
        return inner
    if tag == "NULL":
        return None
    if tag == "N":
        number = Decimal(inner)
        return int(number) if number == number.to_integral_value() else float(number)
    if tag == "M":
        return {k: deserialize(v) for k, v in inner.items()}
    if tag == "L":
        return [deserialize(v) for v in inner]
    if tag in {"SS", "NS"}:
        return [deserialize({tag[0]: v}) for v in inner]
    raise TypeError(f"Unsupported DynamoDB type {tag}")


def put_if(
    client: Any,
    table_name: str,
    item: Mapping[str, Any],
    condition: str | None = None,
    *,
    values: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> bool:
    """PutItem of a plain item under `condition` (plain `values`, `#name` placeholders); False
    when DynamoDB refuses the condition. Either kind of DynamoDB client (`aws_clients`)."""
    request: dict[str, Any] = {"TableName": table_name, "Item": serialize_item(item)}
    if condition is not None:
        request["ConditionExpression"] = condition
        used = {k: v for k, v in (names or {}).items() if k in condition}
        if used:
            request["ExpressionAttributeNames"] = used
        if values:
            request["ExpressionAttributeValues"] = serialize_item(values)
    try:
        client.put_item(**request)
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


# --- the JSON-protocol services ----------------------------------------------------------------
class ConditionalCheckFailedException(AwsError):
    """DynamoDB refused a conditional write."""


@dataclass(frozen=True)
class ClientMeta:
    endpoint_url: str
    region_name: str


class _Exceptions:
    ConditionalCheckFailedException = ConditionalCheckFailedException


class JsonClient:
    """POST `/` with `X-Amz-Target: <prefix>.<Operation>` and the parameters as JSON."""

    target_prefix: ClassVar[str] = ""
    content_type: ClassVar[str] = "application/x-amz-json-1.0"
    extra_headers: ClassVar[Mapping[str, str]] = {}
    errors: ClassVar[Mapping[str, type[AwsError]]] = {}

    def __init__(self, http: AwsHttp) -> None:
        self._http = http
        self.meta = ClientMeta(http.endpoint.url, http.endpoint.region)

    def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        headers = {
            "X-Amz-Target": f"{self.target_prefix}.{operation}",
            "Content-Type": self.content_type,
            **self.extra_headers,
        }
        response = self._http.send(
            operation,
            "POST",
            self.meta.endpoint_url + "/",
            headers,
            json.dumps(params).encode(),
            parse_error=json_error,
            errors=self.errors,
        )
        payload: Any = json.loads(response.content) if response.content else {}
        return payload if isinstance(payload, dict) else {}


class DynamoDBHttpClient(JsonClient):
    target_prefix = "DynamoDB_20120810"
    errors: ClassVar[Mapping[str, type[AwsError]]] = {
        "ConditionalCheckFailedException": ConditionalCheckFailedException
    }
    exceptions = _Exceptions

    def get_item(self, **params: Any) -> dict[str, Any]:
        return self.call("GetItem", params)

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self.call("PutItem", params)

    def delete_item(self, **params: Any) -> dict[str, Any]:
        return self.call("DeleteItem", params)


class SQSHttpClient(JsonClient):
    target_prefix = "AmazonSQS"
    extra_headers: ClassVar[Mapping[str, str]] = {"x-amzn-query-mode": "true"}  # as botocore

    def send_message(self, **params: Any) -> dict[str, Any]:
        return self.call("SendMessage", params)

    def change_message_visibility(self, **params: Any) -> dict[str, Any]:
        return self.call("ChangeMessageVisibility", params)


class SecretsManagerHttpClient(JsonClient):
    target_prefix = "secretsmanager"
    content_type = "application/x-amz-json-1.1"

    def get_secret_value(self, **params: Any) -> dict[str, Any]:
        return self.call("GetSecretValue", params)


# --- S3 (REST: the object's URL, headers in and out) --------------------------------------------
META_PREFIX = "x-amz-meta-"


_DNS_LABEL = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


def _virtual_hostable(bucket: str) -> bool:
    """A DNS-label bucket name without dots (TLS certificates cover one level only)."""
    return _DNS_LABEL.fullmatch(bucket) is not None


class StreamingBody:
    """The GetObject body: `read(n)` straight from the socket (at most `n` bytes in memory),
    and, as botocore's, an error when the stream ends short of Content-Length."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response
        length = response.headers.get("Content-Length")
        self._expected = int(length) if length is not None else None
        self._read = 0

    def read(self, amt: int | None = None) -> bytes:
        chunk: bytes = self._response.raw.read(amt, decode_content=False)
        self._read += len(chunk)
        if (amt is None or (amt and not chunk)) and self._expected not in (None, self._read):
            raise requests.exceptions.ChunkedEncodingError(
                f"the S3 body ended after {self._read} of {self._expected} bytes"
            )
        return chunk

    def close(self) -> None:
        self._response.close()


class S3HttpClient:
    """HeadObject, GetObject (streamed; Range, IfMatch) and presigned GetObject URLs. Path-style
    URLs on a custom endpoint (moto), virtual-hosted ones on AWS."""

    def __init__(self, http: AwsHttp, *, custom_endpoint: bool) -> None:
        self._http = http
        self._custom = custom_endpoint
        self.meta = ClientMeta(http.endpoint.url, http.endpoint.region)

    def object_url(self, bucket: str, key: str, version_id: str | None = None) -> str:
        path = quote(key, safe="/~")
        region = self.meta.region_name
        if self._custom:
            url = f"{self.meta.endpoint_url}/{quote(bucket, safe='')}/{path}"
        elif _virtual_hostable(bucket):
            url = f"https://{bucket}.s3.{region}.amazonaws.com/{path}"
        else:
            url = f"https://s3.{region}.amazonaws.com/{quote(bucket, safe='')}/{path}"
        return url + (f"?versionId={quote(version_id, safe='-_.~')}" if version_id else "")

    def head_object(self, *, Bucket: str, Key: str, VersionId: str | None = None) -> dict[str, Any]:
        response = self._http.send(
            "HeadObject", "HEAD", self.object_url(Bucket, Key, VersionId), {}, parse_error=xml_error
        )
        return _object_fields(response)

    def get_object(
        self,
        *,
        Bucket: str,
        Key: str,
        VersionId: str | None = None,
        Range: str | None = None,
        IfMatch: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Range": Range, "If-Match": IfMatch}
        response = self._http.send(
            "GetObject",
            "GET",
            self.object_url(Bucket, Key, VersionId),
            {k: v for k, v in headers.items() if v is not None},
            parse_error=xml_error,
            stream=True,
        )
        return {**_object_fields(response), "Body": StreamingBody(response)}

    def generate_presigned_url(
        self, client_method: str, Params: Mapping[str, Any], ExpiresIn: int = 3600
    ) -> str:
        if client_method != "get_object" or set(Params) - {"Bucket", "Key", "VersionId"}:
            raise ValueError(f"only get_object(Bucket, Key, VersionId) is presigned: {Params}")
        url = self.object_url(Params["Bucket"], Params["Key"], Params.get("VersionId"))
        return presign_v4(
            url,
            service="s3",
            region=self.meta.region_name,
            credentials=self._http.credentials(),
            expires_s=ExpiresIn,
        )


def _object_fields(response: requests.Response) -> dict[str, Any]:
    """The HeadObject/GetObject fields the relay reads, named as boto3 names them."""
    headers = response.headers
    fields: dict[str, Any] = {
        "ContentLength": int(headers.get("Content-Length", 0)),
        "Metadata": {
            name[len(META_PREFIX) :]: value
            for name, value in headers.items()
            if name.lower().startswith(META_PREFIX)
        },
        "ResponseMetadata": {"HTTPStatusCode": response.status_code},
    }
    for field, header in (
        ("ContentType", "Content-Type"),
        ("ETag", "ETag"),
        ("VersionId", "x-amz-version-id"),
        ("ContentRange", "Content-Range"),
        ("ContentEncoding", "Content-Encoding"),
    ):
        if header in headers:
            fields[field] = headers[header]
    return fields


# --- construction --------------------------------------------------------------------------------
CLIENTS: dict[str, type[JsonClient]] = {
    "dynamodb": DynamoDBHttpClient,
    "sqs": SQSHttpClient,
    "secretsmanager": SecretsManagerHttpClient,
}


def http_client(
    service: str,
    *,
    region: str,
    endpoint_url: str | None,
    session: requests.Session,
    timeouts_s: tuple[float, float] = AWS_TIMEOUTS_S,
) -> JsonClient | S3HttpClient:
    """The boto3-free client for `service` (dynamodb, sqs, secretsmanager or s3)."""
    url = (endpoint_url or f"https://{service}.{region}.amazonaws.com").rstrip("/")
    http = AwsHttp(AwsEndpoint(service, region, url, session, timeouts_s))
    if service == "s3":
        return S3HttpClient(http, custom_endpoint=endpoint_url is not None)
    return CLIENTS[service](http)
