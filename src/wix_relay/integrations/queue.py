"""SQS sender of the worker's queue: partner imports `{"jobId": "..."}` and, when Wix events are
off, delayed readiness checks `{"jobId", "readinessCheck": n}` (DelaySeconds)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from wix_relay.domain.triggers import readiness_check_message
from wix_relay.integrations.aws_clients import LazyClient

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class JobQueue:
    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._client = client

    client: LazyClient[SQSClient] = LazyClient("sqs")

    def send_job(self, job_id: str) -> str:
        """Enqueue the job; returns the SQS message id."""
        response = self.client.send_message(
            QueueUrl=self.queue_url, MessageBody=json.dumps({"jobId": job_id})
        )
        return str(response["MessageId"])

    def send_check(self, job_id: str, check: int, delay_s: int) -> str:
        """Enqueue readiness check number `check`, delivered after `delay_s` (SQS: at most 900)."""
        response = self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(readiness_check_message(job_id, check)),
            DelaySeconds=max(0, min(delay_s, MAX_DELAY_S)),
        )
        return str(response["MessageId"])


MAX_DELAY_S = 900
"""SQS's largest DelaySeconds."""
