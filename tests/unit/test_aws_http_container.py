"""Container credentials (what Lambda SnapStart provides instead of access-key variables), read
by `aws_http` and by botocore's own ContainerProvider from the same local endpoint: the same
keys, the same Authorization header, a refresh before expiry, a clear error when it fails."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import ContainerProvider

from wix_relay.integrations.aws_http import (
    AwsCredentials,
    AwsError,
    ContainerCredentials,
    forget_credentials,
)

TOKEN = "container-token-canary"


class Endpoint:
    def __init__(self) -> None:
        self.seen: list[str | None] = []
        self.status = 200
        self.expires = datetime.now(UTC) + timedelta(hours=6)
        self.serial = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.seen.append(self.headers.get("Authorization"))
                endpoint.serial += 1
                body = json.dumps(
                    {
                        "AccessKeyId": f"ASIA{endpoint.serial:04d}",
                        "SecretAccessKey": "secret-canary",
                        "Token": "session-canary",
                        "Expiration": endpoint.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                ).encode()
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.uri = f"http://127.0.0.1:{self.server.server_port}/2023-01-01/credentials"


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    served = Endpoint()
    forget_credentials()
    try:
        yield served
    finally:
        forget_credentials()
        served.server.shutdown()


def test_the_same_credentials_as_botocore_reads(endpoint: Endpoint, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    for env in (
        {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.uri,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN,
        },
        {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.uri,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
        },
    ):
        forget_credentials()
        ours = AwsCredentials.from_environment(env)
        theirs = ContainerProvider(environ=env).load().get_frozen_credentials()
        assert ours is not None
        assert ours.secret_access_key == theirs.secret_key == "secret-canary"
        assert ours.session_token == theirs.token == "session-canary"
        assert ours.access_key_id.startswith("ASIA") and theirs.access_key.startswith("ASIA")
    assert endpoint.seen == [TOKEN] * 4  # both send the token as the Authorization header
    assert AwsCredentials.available({"AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.uri})
    assert not AwsCredentials.available({})


def test_access_keys_win_and_nothing_is_fetched(endpoint: Endpoint) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "AKIAKEYS",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.uri,
    }
    creds = AwsCredentials.from_environment(env)
    assert creds is not None and creds.access_key_id == "AKIAKEYS"
    assert endpoint.seen == []


def test_kept_until_shortly_before_expiry_then_fetched_again(endpoint: Endpoint) -> None:
    now = [datetime.now(UTC).timestamp()]
    cache = ContainerCredentials(clock=lambda: now[0])
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.uri}
    endpoint.expires = datetime.now(UTC) + timedelta(minutes=30)
    first = cache.get(env)
    assert cache.get(env) is first and len(endpoint.seen) == 1
    now[0] += 16 * 60  # within 15 minutes of the expiry: botocore refreshes too
    assert cache.get(env).access_key_id != first.access_key_id
    assert len(endpoint.seen) == 2
    cache.forget()  # a SnapStart restore
    cache.get(env)
    assert len(endpoint.seen) == 3


def test_a_failing_endpoint_is_a_clear_error_without_secrets(endpoint: Endpoint) -> None:
    endpoint.status = 500
    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.uri,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN,
    }
    with pytest.raises(AwsError) as caught:
        ContainerCredentials().get(env)
    assert caught.value.code == "CredentialsUnavailable"
    assert TOKEN not in str(caught.value) and "canary" not in str(caught.value)
    assert len(endpoint.seen) == 3  # botocore's three attempts
