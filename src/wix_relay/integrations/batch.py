"""SQS partial-batch responses (Powertools' BatchProcessor) with records run on a thread pool.

`{"batchItemFailures": [...]}` names the messages whose handler raised; Lambda redelivers only
those. Powertools' batch utility loads on the first SQS batch.
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
