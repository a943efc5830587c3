"""Exactly-once for one unit of work: Powertools idempotency on DynamoDB
(`RELAY_IDEMPOTENCY_TABLE`, partition key `id`).

`run_once(identity, work)` runs `work()` the first time an identity is seen and returns its
result (marked `"duplicate": True`) on every later call; while another invocation holds the same
identity it raises `InProgress`. In-progress records expire with the Lambda's remaining time
(`register(context)`). Powertools' idempotency imports boto3 (~280 ms), so all of it loads on
first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wix_relay.config import Settings

Work = Callable[[], dict[str, Any]]


class InProgress(Exception):
    """The same identity is being worked on right now by another invocation."""


class Idempotency:
    def __init__(self, settings: Settings, client: Any) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
        )

        assert settings.aws.idempotency_table is not None
        self._in_progress = IdempotencyAlreadyInProgressError
        self.config = IdempotencyConfig(
            expires_after_seconds=settings.transfer.idempotency_expiry_s,
            response_hook=_mark_duplicate,
        )
        store = DynamoDBPersistenceLayer(
            table_name=settings.aws.idempotency_table,
            key_attr="id",
            # The container's one DynamoDB client (the job store's too): a client of its own
            # would cost another ~60 ms of the first request.
            boto3_client=client,
        )
        # Configure once, up front: Powertools configures lazily on first use, which threads
        # starting together could observe half-done.
        store.configure(self.config, f"{_relay_once.__module__}.{_relay_once.__qualname__}")
        self._function: Callable[..., Any] = idempotent_function(
            _relay_once,
            data_keyword_argument="identity",
            persistence_store=store,
            config=self.config,
        )

    def register(self, context: Any) -> None:
        """In-progress records expire when this invocation would time out."""
        self.config.register_lambda_context(context)

    def run_once(self, identity: dict[str, str], work: Work) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self._function(identity=identity, work=work)
        except self._in_progress as exc:
            raise InProgress(str(exc)) from None
        return result


def _relay_once(*, identity: dict[str, str], work: Work) -> dict[str, Any]:
    """The unit of exactly-once: one object version (or one import job)."""
    del identity  # hashed by Powertools into the idempotency key
    return work()


# Powertools puts this function's module and name in every idempotency key: keep the name it had
# in handlers/worker.py so records written before the move still match.
_relay_once.__module__ = "wix_relay.handlers.worker"


def _mark_duplicate(response: Any, idempotent_data: Any) -> Any:
    del idempotent_data
    return {**(response or {}), "duplicate": True}
