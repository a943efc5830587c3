"""GetSecretValue through our signed requests call, against moto in server mode."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import requests

from wix_relay.integrations.aws_http import AwsCredentials, SecretReadError, read_secret_string


def test_reads_a_secret_from_moto(aws: str) -> None:
    boto3.client("secretsmanager").create_secret(Name="relay/wix", SecretString='{"k": "v"}')
    with requests.Session() as session:
        value = read_secret_string(
            "relay/wix", region="us-east-1", endpoint_url=aws, session=session
        )
    assert value == '{"k": "v"}'


def test_missing_secret_is_a_typed_error_without_secret_material(aws: str) -> None:
    creds = AwsCredentials("AKIDEXAMPLE", "canary-aws-secret-123", "canary-token-456")
    with requests.Session() as session, pytest.raises(SecretReadError) as caught:
        read_secret_string(
            "relay/absent", region="us-east-1", endpoint_url=aws, session=session, credentials=creds
        )
    assert caught.value.not_found
    assert "relay/absent" in str(caught.value)
    assert "ResourceNotFoundException" in str(caught.value)
    for canary in ("canary-aws-secret-123", "canary-token-456"):
        assert canary not in str(caught.value)
        assert canary not in repr(caught.value)


def test_without_environment_credentials_boto3_finds_them_elsewhere(
    aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    boto3.client("secretsmanager").create_secret(Name="relay/other", SecretString="plain")
    shared = tmp_path / "credentials"
    shared.write_text("[default]\naws_access_key_id = fromfile\naws_secret_access_key = s\n")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(shared))
    assert AwsCredentials.from_environment() is None
    with requests.Session() as session:
        value = read_secret_string(
            "relay/other", region="us-east-1", endpoint_url=aws, session=session
        )
    assert value == "plain"
