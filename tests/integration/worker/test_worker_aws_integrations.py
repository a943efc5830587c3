"""S3 source, job store and queue against moto in server mode (real HTTP)."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest
import requests

from wix_relay.domain.errors import SourceChanged, SourceNotFound
from wix_relay.domain.jobs import Job, JobError, ObjectRef
from wix_relay.integrations.job_store import JobStore
from wix_relay.integrations.queue import JobQueue
from wix_relay.integrations.s3_source import S3Source


@pytest.fixture
def bucket(aws: str) -> str:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="source-bucket")
    return "source-bucket"


def test_head_stream_range_and_presign(bucket: str) -> None:
    s3 = boto3.client("s3")
    data = bytes(range(256)) * 4096  # 1 MiB
    key = "deep/fold er/ü + plus.bin"
    s3.put_object(
        Bucket=bucket, Key=key, Body=data, ContentType="image/png", Metadata={"wix-labels": "a"}
    )
    source = S3Source()
    info = source.head(ObjectRef(bucket, key))
    assert info.size == len(data)
    assert info.content_type == "image/png"
    assert info.metadata == {"wix-labels": "a"}
    assert info.ref.etag == hashlib.md5(data).hexdigest()

    body = source.open(info.ref)
    chunks = []
    while chunk := body.read(64 * 1024):
        assert len(chunk) <= 64 * 1024
        chunks.append(chunk)
    body.close()
    assert b"".join(chunks) == data
    assert source.open(info.ref, 1000).read() == data[1000:]
    assert source.open(info.ref, len(data)).read() == b""

    url = source.presign_get(info.ref, 60)
    assert requests.get(url, timeout=10).content == data


def test_missing_and_changed_objects_map_to_domain_errors(bucket: str) -> None:
    source = S3Source()
    with pytest.raises(SourceNotFound):
        source.head(ObjectRef(bucket, "nope"))
    boto3.client("s3").put_object(Bucket=bucket, Key="k", Body=b"v1")
    stale = ObjectRef(bucket, "k", etag="0" * 32)
    with pytest.raises(SourceChanged):
        source.open(stale).read()


def test_versioned_objects_are_read_at_the_event_version(bucket: str) -> None:
    s3 = boto3.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key="v", Body=b"second")
    source = S3Source()
    info = source.head(ObjectRef(bucket, "v", version_id=v1))
    assert info.ref.version_id == v1
    assert source.open(info.ref).read() == b"first"


def test_job_store_create_is_conditional_and_save_round_trips(aws: str) -> None:
    ddb = boto3.client("dynamodb")
    ddb.create_table(
        TableName="jobs",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    store = JobStore("jobs")
    job = Job.for_s3_object(ObjectRef("b", "k", version_id="v", size=5), "auto")
    stored, created = store.create(job)
    assert created and stored == job
    again, created = store.create(Job.for_s3_object(ObjectRef("b", "k", version_id="v"), "auto"))
    assert not created and again == job
    failed = job.start().retry_later(JobError("HTTP_503", "Wix: unavailable", retryable=True))
    store.save(failed)
    assert store.get(job.id) == failed
    assert store.get("missing") is None


def test_queue_sends_the_job_id(aws: str) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="relay")["QueueUrl"]
    JobQueue(url).send_job("imp-123")
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(message["Body"]) == {"jobId": "imp-123"}
