"""SQS partial-batch responses (Powertools' BatchProcessor) with records run on a thread pool.

`{"batchItemFailures": [...]}` names the messages whose handler raised; Lambda redelivers only
those. Powertools' batch utility loads on the first SQS batch. `MessageVisibility` shortens a
failed record's wait before its redelivery (a Wix throttle: seconds, not the queue's timeout).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def process_sqs_batch(
    event: Mapping[str, Any],
    record_handler: Callable[[Any], None],
    pool: ThreadPoolExecutor,
    context: Any,
) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import EventType, process_partial_response

    processor = _threaded_processor_class()(
        event_type=EventType.SQS, raise_on_entire_batch_failure=False
    )
    processor.pool = pool
    response = process_partial_response(
        event=dict(event), record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)


@functools.cache
def _threaded_processor_class() -> type:
    from aws_lambda_powertools.utilities.batch import BatchProcessor

    class ThreadedBatchProcessor(BatchProcessor):
        """Powertools' SQS partial-batch processor, records run on a bounded thread pool."""

        pool: ThreadPoolExecutor

        def process(self) -> list[tuple[Any, ...]]:
            return list(self.pool.map(self._process_record, self.records))

    return ThreadedBatchProcessor


class MessageVisibility:
    """`sqs:ChangeMessageVisibility` on a received record: it comes back after `seconds`
    instead of the queue's visibility timeout (the port `services.relay.Redelivery`)."""

    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = client

    def delay(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        client = self._client()
        client.change_message_visibility(
            QueueUrl=queue_url(queue_arn, str(client.meta.endpoint_url)),
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=seconds,
        )

    def requeue(
        self, queue_arn: str, body: str, seconds: int, attributes: Mapping[str, str]
    ) -> None:
        client = self._client()
        client.send_message(
            QueueUrl=queue_url(queue_arn, str(client.meta.endpoint_url)),
            MessageBody=body,
            DelaySeconds=min(seconds, MAX_DELAY_S),
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value}
                for name, value in attributes.items()
            },
        )


MAX_DELAY_S = 900
"""SQS's longest DelaySeconds."""


def queue_url(queue_arn: str, endpoint_url: str) -> str:
    """`arn:aws:sqs:<region>:<account>:<name>` → the queue's URL on the client's endpoint
    (`https://sqs.<region>.amazonaws.com/<account>/<name>`; moto's are shaped the same)."""
    parts = queue_arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise ValueError(f"not an SQS queue ARN: {queue_arn!r}")
    return f"{endpoint_url.rstrip('/')}/{parts[4]}/{parts[5]}"
