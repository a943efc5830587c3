"""boto3 clients, built on request (boto3 is imported then, not at cold start). They honour
`AWS_ENDPOINT_URL` (moto in local mode). `runtime.Runtime` keeps one per service per container."""

from __future__ import annotations

import threading
from typing import Any

DEFAULT_POOL_CONNECTIONS = 16
_build_lock = threading.Lock()


def aws_client(service: str, max_pool_connections: int = DEFAULT_POOL_CONNECTIONS) -> Any:
    """A new botocore client for `service`, on its own boto3 session."""
    with _build_lock:  # creating clients from several threads at once is not thread-safe
        import boto3
        from botocore.config import Config

        config = Config(
            max_pool_connections=max_pool_connections,
            connect_timeout=5,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 4},
        )
        session: Any = boto3.session.Session()  # own session: the default isn't thread-safe
        return session.client(service, config=config)


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
