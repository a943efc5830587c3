from __future__ import annotations

import boto3


def test_moto_server_answers_real_s3_calls(aws: str) -> None:
    s3 = boto3.client("s3", endpoint_url=aws)
    s3.create_bucket(Bucket="fixture-check")
    s3.put_object(Bucket="fixture-check", Key="a b/ü.txt", Body=b"hello")
    assert s3.get_object(Bucket="fixture-check", Key="a b/ü.txt")["Body"].read() == b"hello"
