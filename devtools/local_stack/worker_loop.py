"""What Lambda's SQS event source mapping does, locally: long-poll the queue, invoke the function
(the worker, or the callback function on the callback queue) with a batch event, delete what
succeeded and leave `batchItemFailures` to come back after the visibility timeout (and, after
maxReceiveCount receives, to move to the DLQ).

Event shape: AWS "Using Lambda with Amazon SQS" and `sam local generate-event sqs receive-message`.
"""

from __future__ import annotations

import base64
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from local_stack.lambda_context import LambdaContext
from local_stack.resources import REGION, SQS_BATCH_SIZE

Handler = Callable[[dict[str, Any], Any], Any]


def _message_attributes(raw: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute values → the lower-camel-case form Lambda puts in records."""
    out: dict[str, Any] = {}
    for name, value in raw.items():
        binary = value.get("BinaryValue")
        out[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
            "stringListValues": list(value.get("StringListValues", [])),
            "binaryListValues": [
                base64.b64encode(b).decode() for b in value.get("BinaryListValues", [])
            ],
            "dataType": value.get("DataType", "String"),
        }
    return out


def to_record(message: dict[str, Any], queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """One received SQS message as a record of Lambda's SQS event."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": _message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_ids(result: Any, batch_ids: set[str]) -> set[str]:
    """Message ids to leave on the queue, per ReportBatchItemFailures: an empty or missing list
    means all succeeded; an unknown or empty identifier fails the whole batch."""
    if not isinstance(result, dict) or not result.get("batchItemFailures"):
        return set()
    failed: set[str] = set()
    for item in result["batchItemFailures"]:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or ident not in batch_ids:
            return set(batch_ids)
        failed.add(ident)
    return failed


class WorkerLoop:
    def __init__(
        self,
        handler: Handler,
        *,
        sqs: Any,
        queue_url: str,
        function_name: str,
        memory_mb: int = 1024,
        timeout_s: float = 900.0,
        wait_time_s: int = 20,
        batch_size: int = SQS_BATCH_SIZE,
        batching_window_s: float = 0.0,
        label: str = "worker",
    ) -> None:
        self.handler = handler
        self.label = label
        self.sqs = sqs
        self.queue_url = queue_url
        self.function_name = function_name
        self.memory_mb = memory_mb
        self.timeout_s = timeout_s
        self.wait_time_s = wait_time_s
        self.batch_size = batch_size
        self.batching_window_s = batching_window_s
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.queue_arn: str = attrs["Attributes"]["QueueArn"]
        self.region = self.queue_arn.split(":")[3]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _receive(self, count: int, wait_s: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return messages

    def poll_once(self) -> int:
        """Receive one batch (filling it for up to the batching window once the first message
        is there) and process it; returns how many messages it received."""
        messages = self._receive(self.batch_size, self.wait_time_s)
        window_ends = time.monotonic() + self.batching_window_s
        while messages and len(messages) < self.batch_size and time.monotonic() < window_ends:
            messages += self._receive(self.batch_size - len(messages), 1)
        if messages:
            self.process(messages)
        return len(messages)

    def process(self, messages: list[dict[str, Any]]) -> set[str]:
        """Invoke the handler with one batch; returns the ids left for redelivery."""
        event = {"Records": [to_record(m, self.queue_arn, self.region) for m in messages]}
        ids = {m["MessageId"] for m in messages}
        context = LambdaContext(self.function_name, self.memory_mb, self.timeout_s, self.region)
        try:
            failed = failed_ids(self.handler(event, context), ids)
        except Exception:  # a failed invocation returns the whole batch to the queue
            traceback.print_exc(file=sys.stderr)
            failed = ids
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        print(
            f"[{self.label}] batch of {len(messages)}: {len(done)} done, "
            f"{len(failed)} left for retry",
            file=sys.stderr,
        )
        return failed

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # keep polling, as the event source mapping does
                if self._stop.is_set():
                    break
                traceback.print_exc(file=sys.stderr)
                self._stop.wait(1.0)

    def start(self) -> WorkerLoop:
        self._thread = threading.Thread(target=self.run_forever, name="worker-loop", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_time_s + 5)
