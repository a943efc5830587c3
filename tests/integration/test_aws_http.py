"""GetSecretValue through the container's Secrets Manager client (boto3-free with environment
credentials, boto3 without), against moto in server mode."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.fixtures.net import closed_port_url
from wix_relay.integrations.aws_clients import aws_client
from wix_relay.integrations.aws_services import SecretsManagerHttpClient
from wix_relay.integrations.secrets import Reader, SecretUnavailable, secrets_manager_reader


def _reader(aws: str) -> tuple[Any, Reader]:
    client = aws_client("secretsmanager", session=requests.Session(), endpoint_url=aws)
    return client, secrets_manager_reader(lambda: client)


def test_reads_a_secret_from_moto(aws: str) -> None:
    boto3.client("secretsmanager").create_secret(Name="relay/wix", SecretString='{"k": "v"}')
    client, read = _reader(aws)
    assert isinstance(client, SecretsManagerHttpClient)  # Lambda's credentials are in the env
    assert read("relay/wix") == '{"k": "v"}'


def test_missing_secret_is_a_configuration_error_without_secret_material(
    aws: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "canary-aws-secret-123")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "canary-token-456")
    _, read = _reader(aws)
    with caplog.at_level(logging.ERROR), pytest.raises(SecretUnavailable) as caught:
        read("relay/absent")
    assert (caught.value.status, caught.value.code) == (500, "CONFIGURATION_ERROR")
    (record,) = [r for r in caplog.records if r.getMessage() == "secret read failed"]
    assert record.__dict__["reason"] == "ResourceNotFoundException"
    assert record.__dict__["secret_id"] == "relay/absent"
    for canary in ("canary-aws-secret-123", "canary-token-456"):
        assert canary not in str(caught.value) and canary not in repr(caught.value)
        assert canary not in caplog.text


def test_an_unreachable_secrets_manager_is_retryable(aws: str) -> None:
    _, read = _reader(closed_port_url())  # the environment is moto's (`aws`), the address not
    with pytest.raises(SecretUnavailable) as caught:
        read("relay/wix")
    assert (caught.value.status, caught.value.code) == (503, "SERVICE_UNAVAILABLE")


def test_without_environment_credentials_boto3_finds_them_elsewhere(
    aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    boto3.client("secretsmanager").create_secret(Name="relay/other", SecretString="plain")
    shared = tmp_path / "credentials"
    shared.write_text("[default]\naws_access_key_id = fromfile\naws_secret_access_key = s\n")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(shared))
    client, read = _reader(aws)
    assert not isinstance(client, SecretsManagerHttpClient)  # a boto3 client
    assert read("relay/other") == "plain"
