from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest


def test_moto_server_answers_real_s3_calls(aws: str) -> None:
    s3 = boto3.client("s3", endpoint_url=aws)
    s3.create_bucket(Bucket="fixture-check")
    s3.put_object(Bucket="fixture-check", Key="a b/ü.txt", Body=b"hello")
    assert s3.get_object(Bucket="fixture-check", Key="a b/ü.txt")["Body"].read() == b"hello"


def test_conditional_writes_are_atomic_as_in_dynamodb(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto checks a write's condition, then writes; the fixture's server holds each write under
    one lock (local_stack.moto_atomic), so of racing `attribute_not_exists` puts one wins, as in
    DynamoDB. The window between check and write is widened here to make the race certain."""
    import moto.dynamodb.models.table as moto_table

    real = moto_table.get_filter_expression

    def slow_condition(*args: Any, **kwargs: Any) -> Any:
        condition = real(*args, **kwargs)
        check = condition.expr

        def expr(item: Any) -> Any:
            verdict = check(item)
            time.sleep(0.02)
            return verdict

        condition.expr = expr
        return condition

    monkeypatch.setattr(moto_table, "get_filter_expression", slow_condition)
    dynamodb = boto3.client("dynamodb", endpoint_url=aws)
    dynamodb.create_table(
        TableName="atomic",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def put(n: int) -> bool:
        try:
            dynamodb.put_item(
                TableName="atomic",
                Item={"id": {"S": "one"}, "writer": {"N": str(n)}},
                ConditionExpression="attribute_not_exists(id)",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(put, range(8)))
    assert wins.count(True) == 1
    stored = dynamodb.get_item(TableName="atomic", Key={"id": {"S": "one"}})["Item"]
    assert int(stored["writer"]["N"]) == wins.index(True)


def test_a_message_goes_to_one_receiver_as_in_sqs(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto checks that a message is visible, then marks it received; the fixture's server makes
    the two one step, so of racing receivers one gets the message, as in SQS. The window is
    widened here; a long poll still gets a message sent while it waits."""
    from moto.sqs.models import Message

    real = Message.mark_received

    def slow_mark(self: Any, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.02)
        real(self, *args, **kwargs)

    monkeypatch.setattr(Message, "mark_received", slow_mark)
    sqs = boto3.client("sqs", endpoint_url=aws)
    url = sqs.create_queue(QueueName="atomic")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="one")

    def receive(_: int) -> int:
        return len(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []))

    with ThreadPoolExecutor(8) as pool:
        received = list(pool.map(receive, range(8)))
    assert sum(received) == 1

    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(sqs.receive_message, QueueUrl=url, WaitTimeSeconds=5)
        time.sleep(0.5)
        sqs.send_message(QueueUrl=url, MessageBody="two")
        assert [m["Body"] for m in waiting.result()["Messages"]] == ["two"]
