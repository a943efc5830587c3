"""Secrets Manager's GetSecretValue over the shared `requests` session, signed with SigV4.

Why not boto3 here: the API function's first request needs exactly one AWS call (the Wix
credential), and `import boto3` + creating a client costs ~0.4-0.6 s of cold start
(docs/benchmarks.md, cold start) — more than the rest of the request. The signing below is the
documented AWS Signature Version 4 algorithm; tests/unit/test_aws_http.py checks it against
botocore's own `SigV4Auth` byte for byte, and the integration tests read real secrets from moto.

Credentials come from the environment, as Lambda provides them (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). Where they are absent (a developer's profile, SSO…),
`read_secret_string` falls back to boto3, which knows every credential source.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:  # never print the secret part
        return f"AwsCredentials(access_key_id={self.access_key_id[:4]}…)"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> AwsCredentials | None:
        env = os.environ if environ is None else environ
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            return None
        return cls(key, secret, env.get("AWS_SESSION_TOKEN") or None)


class SecretReadError(RuntimeError):
    """A secret could not be read. The message names the secret id and AWS's error type only."""

    def __init__(self, secret_id: str, reason: str, *, not_found: bool = False) -> None:
        super().__init__(f"cannot read secret {secret_id!r}: {reason}")
        self.not_found = not_found


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def sign_v4(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    service: str,
    region: str,
    credentials: AwsCredentials,
    now: datetime | None = None,
) -> dict[str, str]:
    """Return `headers` plus Host, X-Amz-Date, X-Amz-Security-Token and Authorization.

    Every given header is signed; `url` is already percent-encoded, as on the wire.
    """
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    parts = urlsplit(url)
    signed = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    signed["host"] = parts.netloc
    signed["x-amz-date"] = moment
    if credentials.session_token:
        signed["x-amz-security-token"] = credentials.session_token
    names = sorted(signed)
    # As botocore does: the URL's query pairs are already encoded and are only sorted; the
    # (already encoded) path is encoded once more. (S3 signs differently; not supported here.)
    query = "&".join(
        sorted(pair if "=" in pair else pair + "=" for pair in parts.query.split("&") if pair)
    )
    path = parts.path or "/"
    canonical = "\n".join(
        [
            method.upper(),
            quote(path, safe="/~"),
            query,
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{moment[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", moment, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(("AWS4" + credentials.secret_access_key).encode(), moment[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = dict(headers)
    out["Host"] = parts.netloc
    out["X-Amz-Date"] = moment
    if credentials.session_token:
        out["X-Amz-Security-Token"] = credentials.session_token
    out["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out


def secretsmanager_endpoint(region: str, endpoint_url: str | None) -> str:
    return (endpoint_url or f"https://secretsmanager.{region}.amazonaws.com").rstrip("/") + "/"


def read_secret_string(
    secret_id: str,
    *,
    region: str,
    endpoint_url: str | None,
    session: requests.Session,
    timeout: tuple[float, float] = (3.05, 10.0),
    credentials: AwsCredentials | None = None,
) -> str:
    """GetSecretValue → SecretString. Raises SecretReadError (no secret material in it)."""
    creds = credentials or AwsCredentials.from_environment()
    if creds is None:
        return _read_with_boto3(secret_id, region, endpoint_url)
    url = secretsmanager_endpoint(region, endpoint_url)
    body = json.dumps({"SecretId": secret_id}).encode()
    headers = sign_v4(
        "POST",
        url,
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "secretsmanager.GetSecretValue",
        },
        body,
        service="secretsmanager",
        region=region,
        credentials=creds,
    )
    headers.pop("Host")  # requests sets it from the URL, identically
    try:
        response = session.post(url, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise SecretReadError(secret_id, type(exc).__name__) from None
    payload: Any = _json_or_empty(response)
    if response.status_code != 200:
        error_type = str(payload.get("__type", f"HTTP {response.status_code}")).rsplit("#")[-1]
        raise SecretReadError(
            secret_id, error_type, not_found=error_type == "ResourceNotFoundException"
        )
    secret = payload.get("SecretString")
    if not isinstance(secret, str):
        raise SecretReadError(secret_id, "the secret has no SecretString")
    return secret


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _read_with_boto3(secret_id: str, region: str, endpoint_url: str | None) -> str:
    import boto3  # only without environment credentials: boto3 knows every other source
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url)
    try:
        secret = client.get_secret_value(SecretId=secret_id).get("SecretString")
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "ClientError"))
        raise SecretReadError(
            secret_id, code, not_found=code == "ResourceNotFoundException"
        ) from None
    except BotoCoreError as exc:
        raise SecretReadError(secret_id, type(exc).__name__) from None
    if not isinstance(secret, str):
        raise SecretReadError(secret_id, "the secret has no SecretString")
    return secret
