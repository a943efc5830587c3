"""SQS for partner callbacks: the callback queue (retries by message visibility, dead-lettered by
the queue's redrive policy) and its dead-letter queue.

A retry re-uses the message: the consumer sets its visibility timeout to the backoff delay and
reports it failed, so SQS's `ApproximateReceiveCount` is the attempt number and the redrive
policy (`maxReceiveCount` = `RELAY_CALLBACK_MAX_ATTEMPTS`) moves it to the DLQ after the last.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wix_relay.domain.callbacks import CallbackMessage
from wix_relay.integrations.aws_clients import LazyClient

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900  # SQS DelaySeconds


class CallbackQueue:
    def __init__(
        self,
        queue_url: str,
        dead_letter_queue_url: str | None = None,
        client: SQSClient | None = None,
    ) -> None:
        self.queue_url = queue_url
        self.dead_letter_queue_url = dead_letter_queue_url
        self._client = client

    client: LazyClient[SQSClient] = LazyClient("sqs")

    def send(self, message: CallbackMessage, delay_s: int = 0) -> str:
        """Enqueue one callback; returns the SQS message id."""
        response = self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=message.to_json(),
            DelaySeconds=max(0, min(MAX_DELAY_SECONDS, delay_s)),
        )
        return str(response["MessageId"])

    def retry_later(self, receipt_handle: str, delay_s: int) -> None:
        """Hide the received message for `delay_s` seconds (the next attempt's backoff)."""
        self.client.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay_s
        )

    def dead_letter(self, body: str) -> bool:
        """Put an undeliverable message on the DLQ at once; False when no DLQ is configured."""
        if not self.dead_letter_queue_url:
            return False
        self.client.send_message(QueueUrl=self.dead_letter_queue_url, MessageBody=body)
        return True
