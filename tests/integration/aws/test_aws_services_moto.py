"""The boto3-free DynamoDB, SQS and S3 clients against moto in server mode (real HTTP; moto does
not check signatures, tests/unit/test_aws_http*.py check them against botocore's), through the
stores, queues and the S3 source that use them."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import requests

from wix_relay.domain.errors import SourceChanged, SourceNotFound
from wix_relay.domain.jobs import Job, ObjectRef
from wix_relay.integrations.aws_clients import aws_client
from wix_relay.integrations.aws_http import AwsError
from wix_relay.integrations.aws_services import (
    ConditionalCheckFailedException,
    DynamoDBHttpClient,
    S3HttpClient,
    SecretsManagerHttpClient,
    SQSHttpClient,
)
from wix_relay.integrations.batch import MessageVisibility
from wix_relay.integrations.callback_queue import CallbackQueue
from wix_relay.integrations.event_store import EventStore
from wix_relay.integrations.job_store import JobStore
from wix_relay.integrations.s3_source import S3Source

AWKWARD_KEYS = [
    "deep/fold er/ü + plus.bin",
    "100%/a+b=c&d?#.png",
    "dots/./in/../the/key..jpg",
    "double//slash/~tilde/'(1)*!.gif",
    "😀/日本語 ファイル.mp4",
]


@pytest.fixture
def table(aws: str) -> str:
    boto3.client("dynamodb").create_table(
        TableName="relay-jobs",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return "relay-jobs"


@pytest.fixture
def bucket(aws: str) -> str:
    boto3.client("s3").create_bucket(Bucket="inbox")
    return "inbox"


def test_environment_credentials_choose_the_boto3_free_clients(aws: str) -> None:
    assert isinstance(aws_client("dynamodb"), DynamoDBHttpClient)
    assert isinstance(aws_client("sqs"), SQSHttpClient)
    assert isinstance(aws_client("s3"), S3HttpClient)
    assert isinstance(S3Source().client, S3HttpClient)
    assert isinstance(aws_client("secretsmanager"), SecretsManagerHttpClient)
    assert type(aws_client("cloudwatch")).__module__.startswith("botocore")  # any other one


def test_dynamodb_get_put_delete_and_a_refused_conditional_put(table: str) -> None:
    ddb = aws_client("dynamodb")
    item = {"id": {"S": "k"}, "n": {"N": "3"}, "m": {"M": {"l": {"L": [{"BOOL": True}]}}}}
    ddb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(id)")
    assert (
        ddb.get_item(TableName=table, Key={"id": {"S": "k"}}, ConsistentRead=True)["Item"] == item
    )
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as caught:
        ddb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(id)")
    assert isinstance(caught.value, ConditionalCheckFailedException)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    ddb.delete_item(TableName=table, Key={"id": {"S": "k"}})
    assert "Item" not in ddb.get_item(TableName=table, Key={"id": {"S": "k"}})
    with pytest.raises(AwsError) as missing:
        ddb.get_item(TableName="no-such-table", Key={"id": {"S": "k"}})
    assert missing.value.code == "ResourceNotFoundException"
    assert "testing" not in str(missing.value)  # the secret key is "testing": never in errors


def test_the_stores_over_the_boto3_free_client(table: str) -> None:
    jobs = JobStore(table)
    job = Job.for_s3_object(ObjectRef("b", "k ü", version_id="v", size=5), "auto")
    assert jobs.create(job) == (job, True)
    assert jobs.create(job) == (job, False)  # the conditional put was refused
    assert jobs.get(job.id) == job
    assert isinstance(jobs.client, DynamoDBHttpClient)
    events = EventStore(table)
    assert events.first_sighting("e-1", 60)
    assert not events.first_sighting("e-1", 60)
    events.forget("e-1")
    assert events.first_sighting("e-1", 60)
    assert events.advance("f-1", 2, {"state": "READY", "n": [1, None]}, 60)
    assert not events.advance("f-1", 1, {"state": "OLD"}, 60)
    latest = events.latest("f-1")
    assert latest is not None and latest.sequence == 2
    assert latest.state == {"state": "READY", "n": [1, None]}


def test_sqs_send_change_visibility_and_requeue(aws: str) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="callbacks")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    ours = aws_client("sqs")
    sent = ours.send_message(QueueUrl=url, MessageBody='{"a": "ü"}', DelaySeconds=0)
    assert sent["MessageId"]
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, VisibilityTimeout=30)[
        "Messages"
    ]
    assert message["Body"] == '{"a": "ü"}'
    CallbackQueue(url).retry_later(message["ReceiptHandle"], 0)  # visible again at once
    (again,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert again["MessageId"] == message["MessageId"]

    visibility = MessageVisibility(lambda: ours)
    visibility.requeue(arn["QueueArn"], "later", 0, {"relay-attempt": "2"})
    (requeued,) = sqs.receive_message(
        QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"]
    )["Messages"]
    assert requeued["Body"] == "later"
    assert requeued["MessageAttributes"]["relay-attempt"]["StringValue"] == "2"
    visibility.delay(arn["QueueArn"], requeued["ReceiptHandle"], 0)
    with pytest.raises(AwsError) as missing:
        ours.send_message(QueueUrl=url + "-absent", MessageBody="x")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_s3_head_ranged_get_and_presigned_get_of_awkward_keys(bucket: str, key: str) -> None:
    data = bytes(range(256)) * 1024
    boto3.client("s3").put_object(
        Bucket=bucket, Key=key, Body=data, ContentType="image/png", Metadata={"Wix-Labels": "a"}
    )
    source = S3Source()
    info = source.head(ObjectRef(bucket, key))
    assert (info.size, info.content_type, info.metadata) == (
        len(data),
        "image/png",
        {"wix-labels": "a"},
    )
    body = source.open(info.ref, 1000)
    assert body.read(5) == data[1000:1005]
    assert body.read() == data[1005:]
    body.close()
    url = source.presign_get(info.ref, 60)
    assert "X-Amz-Signature=" in url
    assert fetch(url) == data


def fetch(url: str) -> bytes:
    """GET with plain `requests`, but for keys with `.`/`..` segments, which `requests` (and
    browsers) would drop from the URL, as they would from boto3's presigned URL."""
    if "/./" not in url and "/../" not in url:
        return requests.get(url, timeout=10).content
    with requests.Session() as session:
        prepared = session.prepare_request(requests.Request("GET", url))
        prepared.url = url
        return session.send(prepared, timeout=10).content


def test_s3_missing_key_changed_object_and_versions(bucket: str) -> None:
    s3, source = boto3.client("s3"), S3Source()
    with pytest.raises(SourceNotFound):
        source.head(ObjectRef(bucket, "nope"))
    with pytest.raises(SourceNotFound):
        source.open(ObjectRef(bucket, "nope"))
    s3.put_object(Bucket=bucket, Key="k", Body=b"v1")
    with pytest.raises(SourceChanged):
        source.open(ObjectRef(bucket, "k", etag="0" * 32))
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v", Body=b"second")
    ref = source.head(ObjectRef(bucket, "v", version_id=v1)).ref
    assert source.open(ref).read() == b"first"
    assert requests.get(source.presign_get(ref, 60), timeout=10).content == b"first"


def test_without_environment_credentials_the_stores_use_boto3(
    table: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shared = tmp_path / "credentials"
    shared.write_text("[default]\naws_access_key_id = fromfile\naws_secret_access_key = s\n")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(shared))
    jobs = JobStore(table)
    job = Job.for_s3_object(ObjectRef("b", "k", size=1), "auto")
    assert jobs.create(job) == (job, True)
    assert jobs.create(job) == (job, False)
    assert type(jobs.client).__module__.startswith("botocore")
