"""Create in moto what a deployment of template.yaml has: secrets, tables, queue + DLQ, the inbox
bucket and its notification to the queue, the callback queue + DLQ."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from local_stack import resources as r
from local_stack.lambda_context import ACCOUNT_ID


@dataclass(frozen=True)
class Deployed:
    """Names and URLs of what `bootstrap` created."""

    inbox_bucket: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    jobs_table: str
    wix_secret_id: str
    callers_secret_id: str
    callback_queue_url: str = ""
    callback_dlq_url: str = ""


def aws_client(service: str, endpoint_url: str) -> Any:
    import boto3

    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        region_name=r.REGION,
        aws_access_key_id=r.DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=r.DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


DEV_POLICY: dict[str, Any] = {
    "folders": ["/dev"],
    "defaultFolder": "/dev",
    "mimeTypes": [
        "image/*",
        "video/*",
        "audio/*",
        "text/plain",
        "text/csv",
        "application/pdf",
        "application/zip",
        "application/octet-stream",
    ],
    "maxSizeBytes": 1024 * 1024 * 1024,
    "allowPrivate": True,
}


def dev_caller_registry(
    key_sha256: str,
    inbox_bucket: str,
    jwt_issuer: dict[str, Any] | None = None,
    callback: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The registry with one partner: the development key (stored only as its SHA-256), with
    `callback` ({url, secret}: the dev webhook receiver) when given, and the demo page's issuer
    (local_stack.dev_identity) when given."""
    policy: dict[str, Any] = {
        **DEV_POLICY,
        "importSources": [{"bucket": inbox_bucket, "prefix": ""}],
    }
    entry: dict[str, Any] = {"id": "dev", "sha256": key_sha256, "policy": policy}
    if callback is not None:
        entry["callback"] = dict(callback)
        policy["callbackUrls"] = [callback["url"]]  # imports may name a URL under it
    registry: dict[str, Any] = {"apiKeys": [entry]}
    if jwt_issuer is not None:
        registry["jwt"] = [jwt_issuer]
    return registry


def _put_secret(client: Any, name: str, document: dict[str, Any]) -> str:
    value = json.dumps(document)
    try:
        return str(client.create_secret(Name=name, SecretString=value)["ARN"])
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=value)
        return str(client.describe_secret(SecretId=name)["ARN"])


def _create_table(client: Any, name: str, ttl_attribute: str | None) -> None:
    try:
        client.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": r.TABLE_KEY, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": r.TABLE_KEY, "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except client.exceptions.ResourceInUseException:
        return
    if ttl_attribute:
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute},
        )


def _create_queues(
    client: Any,
    name: str,
    dlq_name: str,
    *,
    visibility_timeout_s: int,
    retention_s: int,
    max_receive_count: int,
) -> tuple[str, str, str]:
    """A queue with its dead-letter queue (redrive after `max_receive_count` receives):
    (queue URL, queue ARN, DLQ URL)."""
    dlq_url = client.create_queue(
        QueueName=dlq_name, Attributes={"MessageRetentionPeriod": str(r.DLQ_RETENTION_S)}
    )["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    redrive = {
        "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
        "maxReceiveCount": str(max_receive_count),
    }
    queue_url = client.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout_s),
            "MessageRetentionPeriod": str(retention_s),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    attrs = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return queue_url, attrs["Attributes"]["QueueArn"], dlq_url


def _allow_s3_to_send(client: Any, queue_url: str, queue_arn: str, bucket: str) -> None:
    """The queue policy a deployment needs for S3 notifications (moto does not enforce it)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"},
                    "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                },
            }
        ],
    }
    client.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})


def _create_inbox(client: Any, bucket: str, queue_arn: str) -> None:
    """Versioned, notifying the queue. Not mirrored: encryption, public-access block, lifecycle,
    and the deny-non-TLS bucket policy (the local endpoints are plain http)."""
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    client.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": f"{bucket}-object-created",
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                }
            ]
        },
    )


def bootstrap(
    endpoint_url: str,
    *,
    wix_credentials: dict[str, str],
    dev_key_sha256: str,
    inbox_bucket: str = r.DEFAULT_INBOX_BUCKET,
    visibility_timeout_s: int = r.QUEUE_VISIBILITY_TIMEOUT_S,
    jwt_issuer: dict[str, Any] | None = None,
    callback: dict[str, str] | None = None,
) -> Deployed:
    """Idempotent: running it twice against the same moto leaves one of everything."""
    secrets = aws_client("secretsmanager", endpoint_url)
    _put_secret(secrets, r.WIX_CREDENTIALS_SECRET, wix_credentials)
    registry = dev_caller_registry(dev_key_sha256, inbox_bucket, jwt_issuer, callback)
    _put_secret(secrets, r.CALLERS_SECRET, registry)
    dynamodb = aws_client("dynamodb", endpoint_url)
    _create_table(dynamodb, r.JOBS_TABLE, r.JOBS_TTL_ATTRIBUTE)
    sqs = aws_client("sqs", endpoint_url)
    queue_url, queue_arn, dlq_url = _create_queues(
        sqs,
        r.QUEUE_NAME,
        r.DLQ_NAME,
        visibility_timeout_s=visibility_timeout_s,
        retention_s=r.QUEUE_RETENTION_S,
        max_receive_count=r.MAX_RECEIVE_COUNT,
    )
    callback_queue_url, _, callback_dlq_url = _create_queues(
        sqs,
        r.CALLBACK_QUEUE_NAME,
        r.CALLBACK_DLQ_NAME,
        visibility_timeout_s=r.CALLBACK_VISIBILITY_TIMEOUT_S,
        retention_s=r.CALLBACK_RETENTION_S,
        max_receive_count=r.CALLBACK_MAX_ATTEMPTS,
    )
    _allow_s3_to_send(sqs, queue_url, queue_arn, inbox_bucket)
    _create_inbox(aws_client("s3", endpoint_url), inbox_bucket, queue_arn)
    return Deployed(
        inbox_bucket=inbox_bucket,
        queue_url=queue_url,
        queue_arn=queue_arn,
        dlq_url=dlq_url,
        jobs_table=r.JOBS_TABLE,
        wix_secret_id=r.WIX_CREDENTIALS_SECRET,
        callers_secret_id=r.CALLERS_SECRET,
        callback_queue_url=callback_queue_url,
        callback_dlq_url=callback_dlq_url,
    )
