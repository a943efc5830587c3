"""Jobs in DynamoDB (`RELAY_JOBS_TABLE`, partition key `id`): the `JobRepository` port.

The item shape is the domain's (`Job.to_item`); this module only (de)serialises, stamps the TTL
attribute `expiresAt` (epoch seconds, now + the retention) on every write, and does the
conditional writes that make the job record the lock (`claim`, `save(owner=)`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from wix_relay.domain.jobs import ClaimLost, Job
from wix_relay.integrations.aws_clients import LazyClient
from wix_relay.integrations.aws_services import deserialize_item, put_if

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


DEFAULT_RETENTION_S = 30 * 24 * 3600
PLACEHOLDERS = {"#status": "status", "#owner": "owner"}
"""The attribute names the stores' conditions spell as placeholders."""


class JobStore:
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        retention_s: int = DEFAULT_RETENTION_S,
    ) -> None:
        self.table_name = table_name
        self.retention_s = retention_s
        self._client = client

    client: LazyClient[DynamoDBClient] = LazyClient("dynamodb")

    def get(self, job_id: str) -> Job | None:
        response = self.client.get_item(
            TableName=self.table_name, Key={"id": {"S": job_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        if not item or "source" not in item:  # absent, or another kind of item (upl-…, file#…)
            return None
        return Job.from_item(deserialize_item(item))

    def create(self, job: Job) -> tuple[Job, bool]:
        """Put the job unless its id exists; returns (the stored job, whether it was created)."""
        if self.claim(job, None):
            return job, True
        existing = self.get(job.id)
        if existing is None:  # deleted in between: try once more
            return self.create(job)
        return existing, False

    def claim(self, job: Job, expected: Job | None) -> bool:
        """Write `job` only if the stored record is still `expected` (None: no record) — as far
        as a competing attempt can change it: status, attempts, claim owner and stage."""
        values: dict[str, Any] = {}
        if expected is None:
            condition = "attribute_not_exists(id)"
        else:
            condition = "#status = :status AND attempts = :attempts"
            values = {":status": expected.status, ":attempts": expected.attempts}
            if expected.claim is not None:
                condition += " AND claim.#owner = :owner"
                values[":owner"] = expected.claim.owner
            if expected.stage is None:
                condition += " AND attribute_not_exists(stage)"
        return self._put(job, condition, values)

    def save(self, job: Job, *, owner: str | None = None) -> None:
        """Write the job; with `owner`, only while that attempt still holds the claim (else
        `ClaimLost`)."""
        if owner is None:
            self._put(job)
        elif not self._put(job, "claim.#owner = :owner", {":owner": owner}):
            raise ClaimLost(f"job {job.id} was claimed by another attempt")

    def _put(
        self, job: Job, condition: str | None = None, values: dict[str, Any] | None = None
    ) -> bool:
        item = {**job.to_item(), "expiresAt": int(time.time()) + self.retention_s}
        return put_if(
            self.client, self.table_name, item, condition, values=values, names=PLACEHOLDERS
        )
