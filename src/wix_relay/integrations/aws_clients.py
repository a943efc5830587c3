"""AWS clients, built on request (nothing AWS is imported at cold start). `runtime.Runtime` keeps
one per service per container; they honour `AWS_ENDPOINT_URL` (moto in local mode).

The one switch between the two kinds: with credentials in the environment (Lambda's), DynamoDB,
SQS, S3 and Secrets Manager get the boto3-free clients of `aws_services` (SigV4 over `requests`,
botocore's retries; ~0.3 s less on a worker's first object); without them, boto3 clients, which
find every other credential source (profiles, SSO, container roles).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from wix_relay.config import AWS_TIMEOUTS_S
from wix_relay.integrations.aws_http import AwsCredentials

if TYPE_CHECKING:
    import requests

DEFAULT_POOL_CONNECTIONS = 16
HTTP_SERVICES = frozenset({"dynamodb", "sqs", "s3", "secretsmanager"})
_build_lock = threading.Lock()


def aws_client(
    service: str,
    max_pool_connections: int = DEFAULT_POOL_CONNECTIONS,
    *,
    session: requests.Session | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    timeouts_s: tuple[float, float] = AWS_TIMEOUTS_S,
) -> Any:
    """A client for `service`: boto3-free when the environment has credentials (see above);
    `session` (the runtime's pooled one) carries its requests. Unset region and endpoint are
    read from the environment as botocore reads them. `timeouts_s`: connect and read."""
    env = os.environ
    region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if service in HTTP_SERVICES and region and AwsCredentials.available():
        import requests

        from wix_relay.integrations.aws_services import http_client

        endpoint = (
            endpoint_url
            or env.get(f"AWS_ENDPOINT_URL_{service.upper()}")
            or env.get("AWS_ENDPOINT_URL")
        )
        return http_client(
            service,
            region=region,
            endpoint_url=endpoint,
            session=session or requests.Session(),
            timeouts_s=timeouts_s,
        )
    return boto3_client(
        service,
        max_pool_connections,
        region=region,
        endpoint_url=endpoint_url,
        timeouts_s=timeouts_s,
    )


def boto3_client(
    service: str,
    max_pool_connections: int = DEFAULT_POOL_CONNECTIONS,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    timeouts_s: tuple[float, float] = AWS_TIMEOUTS_S,
) -> Any:
    """A new botocore client for `service`, on its own boto3 session."""
    with _build_lock:  # creating clients from several threads at once is not thread-safe
        import boto3
        from botocore.config import Config

        config = Config(
            max_pool_connections=max_pool_connections,
            connect_timeout=timeouts_s[0],
            read_timeout=timeouts_s[1],
            retries={"mode": "standard", "max_attempts": 4},
            # presigned URLs: SigV4, as the boto3-free client signs them (boto3 would sign
            # them with the deprecated SigV2 in the older regions)
            signature_version="s3v4" if service == "s3" else None,
        )
        session: Any = boto3.session.Session()  # own session: the default isn't thread-safe
        return session.client(service, config=config, region_name=region, endpoint_url=endpoint_url)


class LazyClient[T]:
    """`client = LazyClient("sqs")` on a port class: the instance's `_client` (injected by the
    runtime, or None), else one built on first use. One place for every store's and queue's
    client."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __get__(self, port: Any, owner: type | None = None) -> T:
        client: T | None = port._client
        if client is None:
            client = port._client = aws_client(self.service)
        return client
