"""boto3 clients, one per service per container, created on first use (boto3 is imported then,
not at cold start). They honour `AWS_ENDPOINT_URL` (moto in local mode)."""

from __future__ import annotations

import threading
from typing import Any

DEFAULT_POOL_CONNECTIONS = 16
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def aws_client(service: str, max_pool_connections: int = DEFAULT_POOL_CONNECTIONS) -> Any:
    """One botocore client per service per container. boto3 is imported on first use only."""
    client = _clients.get(service)
    if client is not None:
        return client
    with _clients_lock:  # creating clients from several threads at once is not thread-safe
        if service not in _clients:
            import boto3
            from botocore.config import Config

            config = Config(
                max_pool_connections=max_pool_connections,
                connect_timeout=5,
                read_timeout=60,
                retries={"mode": "standard", "max_attempts": 4},
            )
            session: Any = boto3.session.Session()  # own session: the default isn't thread-safe
            _clients[service] = session.client(service, config=config)
        return _clients[service]


def reset_clients() -> None:
    """Forget the cached clients (tests that change the endpoint)."""
    with _clients_lock:
        _clients.clear()
