"""The bench's counting forwarder (bench/awscount.py) in front of a real moto server: boto3 calls
sent through it get their answers unchanged, and each is counted once under its service and
operation (what the "requests per relayed object" rows report)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
import requests

from bench.awscount import CountingForwarder, tally


@pytest.fixture
def forwarder(aws: str) -> Iterator[CountingForwarder]:
    with CountingForwarder(aws) as running:
        yield running


def client(service: str, url: str) -> object:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_every_request_is_forwarded_and_counted_once(forwarder: CountingForwarder) -> None:
    ddb, s3, sqs = (client(s, forwarder.url) for s in ("dynamodb", "s3", "sqs"))
    ddb.create_table(  # type: ignore[attr-defined]
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="t", Item={"id": {"S": "a"}})  # type: ignore[attr-defined]
    item = ddb.get_item(TableName="t", Key={"id": {"S": "a"}})  # type: ignore[attr-defined]
    assert item["Item"] == {"id": {"S": "a"}}
    s3.create_bucket(Bucket="count-bucket")  # type: ignore[attr-defined]
    body = bytes(range(256)) * 1024
    s3.put_object(Bucket="count-bucket", Key="k/x.bin", Body=body)  # type: ignore[attr-defined]
    assert s3.head_object(Bucket="count-bucket", Key="k/x.bin")["ContentLength"] == len(body)  # type: ignore[attr-defined]
    assert s3.get_object(Bucket="count-bucket", Key="k/x.bin")["Body"].read() == body  # type: ignore[attr-defined]
    url = s3.generate_presigned_url(  # type: ignore[attr-defined]
        "get_object", Params={"Bucket": "count-bucket", "Key": "k/x.bin"}, ExpiresIn=60
    )
    assert requests.get(url, timeout=10).content == body
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]  # type: ignore[attr-defined]
    sqs.send_message(QueueUrl=queue, MessageBody="m")  # type: ignore[attr-defined]

    counted = tally(forwarder.snapshot())
    assert counted == {
        "dynamodb CreateTable": 1,
        "dynamodb PutItem": 1,
        "dynamodb GetItem": 1,
        "s3 PUT bucket": 1,
        "s3 PUT object": 1,
        "s3 HEAD object": 1,
        "s3 GET object": 1,
        "s3 presigned GET object": 1,
        "sqs CreateQueue": 1,
        "sqs SendMessage": 1,
    }
    assert all(entry["status"] == 200 for entry in forwarder.snapshot())
    log = requests.get(f"{forwarder.url}/_aws-count", timeout=10).json()["requests"]
    assert [e["seq"] for e in log] == list(range(len(counted)))  # reading it is not counted
