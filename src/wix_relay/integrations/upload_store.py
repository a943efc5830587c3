"""Upload records and file owners in the jobs table (partition key `id`, TTL `expiresAt`).

Key prefixes keep the item kinds apart: jobs `imp-…`/`s3-…`, upload records `upl-…`, file owners
`file#<file id>`, and the event store's `wix-event#…`/`wix-file#…`. Every write stamps
`expiresAt` (now + the retention), so DynamoDB's TTL removes records the relay no longer needs.

- `create` puts a new record (`attribute_not_exists(id)`).
- `replace(new, expected)` writes only while the stored record still has `expected`'s status and
  `updatedAt` — the one conditional write every transition goes through (exactly once).
- `replace_job(new, expected)` is the same conditional write for a job moving `uploaded →
  ready | failed` (the worker's own writes are `integrations/job_store.py`'s).
- `claim_owner` writes `file#<id>` only if no other upload or job owns the file yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wix_relay.domain.jobs import Job
from wix_relay.domain.readiness import FILE_OWNER_PREFIX, FileOwner, UploadRecord
from wix_relay.integrations.aws_clients import LazyClient
from wix_relay.integrations.aws_services import deserialize_item, put_if
from wix_relay.integrations.job_store import DEFAULT_RETENTION_S, PLACEHOLDERS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class UploadStore:
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        retention_s: int = DEFAULT_RETENTION_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.retention_s = retention_s
        self._client = client
        self._clock = clock

    client: LazyClient[DynamoDBClient] = LazyClient("dynamodb")

    # --- upload records ---------------------------------------------------------------------
    def get(self, upload_id: str) -> UploadRecord | None:
        item = self._get(upload_id)
        return None if item is None else UploadRecord.from_item(item)

    def create(self, record: UploadRecord) -> bool:
        return self._put(record.to_item(), "attribute_not_exists(id)", {})

    def replace(self, record: UploadRecord, expected: UploadRecord) -> bool:
        """Write `record` only if the stored one is still `expected` (status and updatedAt)."""
        return self._put(
            record.to_item(),
            "#status = :status AND updatedAt = :updated",
            {":status": expected.status, ":updated": expected.updated_at},
        )

    # --- jobs: the readiness transition only (the worker's writes are integrations/job_store) --
    def get_job(self, job_id: str) -> Job | None:
        item = self._get(job_id)
        return None if item is None or "source" not in item else Job.from_item(item)

    def replace_job(self, job: Job, expected: Job) -> bool:
        """Write `job` only if the stored job still has `expected`'s status and updatedAt."""
        return self._put(
            job.to_item(),
            "#status = :status AND updatedAt = :updated",
            {":status": expected.status, ":updated": expected.updated_at},
        )

    # --- file owners -------------------------------------------------------------------------
    def owner(self, file_id: str) -> FileOwner | None:
        item = self._get(FILE_OWNER_PREFIX + file_id)
        return None if item is None else FileOwner.from_item(item)

    def claim_owner(self, owner: FileOwner) -> FileOwner:
        """The file's owner: `owner` if it was free (or already this one), else the other."""
        if self._put(owner.to_item(), "attribute_not_exists(id)", {}):
            return owner
        existing = self.owner(owner.file_id)
        return owner if existing is None else existing

    # --- plumbing ----------------------------------------------------------------------------
    def _get(self, key: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name, Key={"id": {"S": key}}, ConsistentRead=True
        )
        item = response.get("Item")
        return deserialize_item(item) if item else None

    def _put(self, item: dict[str, Any], condition: str, values: dict[str, Any]) -> bool:
        item = {**item, "expiresAt": int(self._clock()) + self.retention_s}
        return put_if(
            self.client, self.table_name, item, condition, values=values, names=PLACEHOLDERS
        )
