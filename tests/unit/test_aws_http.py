"""Our SigV4 signer against botocore's (the reference implementation), byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from wix_relay.integrations.aws_http import AwsCredentials, sign_v4

CASES = [
    ("POST", "https://secretsmanager.us-east-1.amazonaws.com/", "secretsmanager", None),
    ("POST", "http://127.0.0.1:4566/", "secretsmanager", "session-token-value"),
    ("GET", "https://example.eu-west-1.amazonaws.com/a%20b/%C3%BC.txt", "execute-api", None),
    ("GET", "https://example.amazonaws.com/path?b=2&a=1&c=x%2Fy", "execute-api", "tok"),
]


@pytest.mark.parametrize(("method", "url", "service", "token"), CASES)
def test_signature_equals_botocore(method: str, url: str, service: str, token: str | None) -> None:
    body = b'{"SecretId": "relay/wix"}' if method == "POST" else b""
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "x.Y"}
    region = "eu-west-1" if "eu-west-1" in url else "us-east-1"

    reference = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token), service, region).add_auth(
        reference
    )
    moment = datetime.strptime(reference.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=UTC
    )

    ours = sign_v4(
        method,
        url,
        headers,
        body,
        service=service,
        region=region,
        credentials=AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token),
        now=moment,
    )
    assert ours["Authorization"] == reference.headers["Authorization"]
    assert ours.get("X-Amz-Security-Token") == reference.headers.get("X-Amz-Security-Token")


def test_credentials_repr_hides_the_secret() -> None:
    creds = AwsCredentials("AKIDEXAMPLE", "very-secret-value", "token-value")
    assert "very-secret-value" not in repr(creds)
    assert "token-value" not in repr(creds)
