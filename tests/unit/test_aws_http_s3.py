"""S3's signing against botocore's: header auth (`S3SigV4Auth`) for every request the S3 client
sends, and presigned GET URLs against botocore's presigner, byte for byte at a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import boto3
import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from wix_relay.integrations.aws_http import AwsCredentials, presign_v4, sign_v4
from wix_relay.integrations.aws_services import S3HttpClient, http_client

MOMENT = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
KEYS = ["plain.jpg", "deep/fold er/ü + plus.bin", "100%/a+b=c&d?.png", "~tilde/😀/x'(1)*!.gif"]
BUCKETS = ["my-bucket", "my.dotted.bucket"]
ENDPOINTS = [None, "http://127.0.0.1:5000"]
TOKENS = [None, "session-token-value"]


def s3(region: str, endpoint: str | None) -> S3HttpClient:
    import requests

    client = http_client("s3", region=region, endpoint_url=endpoint, session=requests.Session())
    assert isinstance(client, S3HttpClient)
    return client


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(
    ("method", "headers", "version"),
    [
        ("HEAD", {}, None),
        ("GET", {}, "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"),
        ("GET", {"Range": "bytes=1000-", "If-Match": '"0123abcd"'}, None),
    ],
)
def test_s3_request_signature_equals_botocore(
    method: str,
    headers: dict[str, str],
    version: str | None,
    key: str,
    bucket: str,
    endpoint: str | None,
    token: str | None,
) -> None:
    url = s3("eu-west-1", endpoint).object_url(bucket, key, version)
    reference = AWSRequest(method=method, url=url, data=b"", headers=dict(headers))
    with mock.patch("botocore.auth.get_current_datetime", return_value=MOMENT.replace(tzinfo=None)):
        S3SigV4Auth(
            Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token), "s3", "eu-west-1"
        ).add_auth(reference)
    ours = sign_v4(
        method,
        url,
        headers,
        b"",
        service="s3",
        region="eu-west-1",
        credentials=AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token),
        now=MOMENT,
    )
    for name in ("Authorization", "X-Amz-Content-SHA256", "X-Amz-Date", "X-Amz-Security-Token"):
        assert ours.get(name) == reference.headers.get(name), name


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("version", [None, "v/1+2"])
def test_presigned_url_equals_botocore_presigner_on_a_custom_endpoint(
    version: str | None, key: str, bucket: str, token: str | None
) -> None:
    """moto's endpoint: the same URL as boto3's `generate_presigned_url` (SigV4), character for
    character."""
    params = {"Bucket": bucket, "Key": key} | ({"VersionId": version} if version else {})
    boto = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:5000",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG",
        aws_session_token=token,
        config=Config(signature_version="s3v4"),
    )
    env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG"}
    if token:
        env["AWS_SESSION_TOKEN"] = token
    naive = MOMENT.replace(tzinfo=None)
    with (
        mock.patch("botocore.auth.get_current_datetime", return_value=naive),
        mock.patch.dict("os.environ", env),
        mock.patch("wix_relay.integrations.aws_http.datetime") as clock,
    ):
        clock.now.return_value = MOMENT
        expected = boto.generate_presigned_url("get_object", Params=params, ExpiresIn=900)
        ours = s3("us-east-1", "http://127.0.0.1:5000").generate_presigned_url(
            "get_object", Params=params, ExpiresIn=900
        )
    assert ours == expected


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1"])
def test_presigned_url_on_aws_equals_botocore_query_signer(
    region: str, key: str, bucket: str, token: str | None
) -> None:
    """On AWS our URLs are regional (boto3's presigner writes the legacy global host): the same
    URL signed by botocore's `S3SigV4QueryAuth` gives the same query string."""
    url = s3(region, None).object_url(bucket, key, "v/1+2")
    reference = AWSRequest(method="GET", url=url)
    with mock.patch("botocore.auth.get_current_datetime", return_value=MOMENT.replace(tzinfo=None)):
        S3SigV4QueryAuth(
            Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token), "s3", region, expires=60
        ).add_auth(reference)
    ours = presign_v4(
        url,
        service="s3",
        region=region,
        credentials=AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token),
        expires_s=60,
        now=MOMENT,
    )
    assert ours == reference.url


def test_object_urls_are_path_style_on_a_custom_endpoint_and_virtual_hosted_on_aws() -> None:
    assert s3("eu-west-1", None).object_url("b-1", "a b/ü") == (
        "https://b-1.s3.eu-west-1.amazonaws.com/a%20b/%C3%BC"
    )
    assert (
        s3("eu-west-1", None).object_url("a.b", "k") == "https://s3.eu-west-1.amazonaws.com/a.b/k"
    )
    assert s3("us-east-1", "http://127.0.0.1:5000/").object_url("b-1", "+%", "v") == (
        "http://127.0.0.1:5000/b-1/%2B%25?versionId=v"
    )
