"""Jobs in DynamoDB (`RELAY_JOBS_TABLE`, partition key `id`): the `JobRepository` port.

The item shape is the domain's (`Job.to_item`); this module only (de)serialises and does the
conditional writes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from wix_relay.domain.jobs import Job
from wix_relay.integrations.aws_clients import aws_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class JobStore:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        if not table_name:
            raise ValueError("RELAY_JOBS_TABLE is not configured")
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            self._client = aws_client("dynamodb")
        return self._client

    def get(self, job_id: str) -> Job | None:
        response = self.client.get_item(
            TableName=self.table_name, Key={"id": {"S": job_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return Job.from_item(_decode(item)) if item else None

    def create(self, job: Job) -> tuple[Job, bool]:
        """Put the job unless its id exists; returns (the stored job, whether it was created)."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_encode(job.to_item()),
                ConditionExpression="attribute_not_exists(id)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            existing = self.get(job.id)
            if existing is None:  # deleted in between: try once more
                return self.create(job)
            return existing, False
        return job, True

    def save(self, job: Job) -> None:
        self.client.put_item(TableName=self.table_name, Item=_encode(job.to_item()))


def _encode(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in item.items() if v is not None}


def _decode(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: _plain(deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the domain wants int."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value
