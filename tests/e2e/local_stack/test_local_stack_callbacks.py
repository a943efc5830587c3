"""Partner callbacks under `make run`: the local stack has the template's callback queue + DLQ and
runs the callback function on it, and the dev key's callback goes to the stack's loopback
receiver, which verifies each delivery with the `standardwebhooks` package. An import through the
stack reaches ready and the receiver gets exactly one verified callback, under the webhook-id
the transition wrote into the job's outbox."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from local_stack import resources as r
from local_stack.bootstrap import aws_client
from local_stack.sample import sample_png

from tests.fixtures.local_stack import DEV_API_KEY, function_logs, wait_for

KEY = {"x-api-key": DEV_API_KEY}


def deliveries(stack: Any, subject: str, wait_s: float = 0) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{stack.receiver.base_url}/deliveries",
        params={"subject": subject, "waitSeconds": wait_s},
        timeout=wait_s + 10,
    )
    answer.raise_for_status()
    found: list[dict[str, Any]] = answer.json()["deliveries"]
    return found


def queue_is_empty(stack: Any, url: str) -> bool:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    sqs = aws_client("sqs", stack.aws_url)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)
    return all(attrs["Attributes"][name] == "0" for name in names)


def test_an_import_reaches_ready_and_the_receiver_gets_one_verified_callback(
    local_stack: Any,
) -> None:
    stack = local_stack
    key = f"callbacks/{uuid.uuid4().hex[:8]}.png"
    aws_client("s3", stack.aws_url).put_object(
        Bucket=stack.deployed.inbox_bucket, Key=key, Body=sample_png(6, 6), ContentType="image/png"
    )
    body = {"bucket": stack.deployed.inbox_bucket, "key": key}
    created = requests.post(f"{stack.relay_url}/v1/imports", json=body, headers=KEY, timeout=30)
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]

    def ended() -> dict[str, Any] | None:
        doc: dict[str, Any] = requests.get(
            f"{stack.relay_url}/v1/imports/{job_id}", headers=KEY, timeout=30
        ).json()
        return doc if doc["status"] in {"ready", "failed"} else None

    final = wait_for(ended, f"import {job_id} to end", stack)
    assert final["status"] == "ready", final
    (delivery,) = deliveries(stack, job_id, wait_s=20) or [function_logs(stack)]
    assert delivery["verified"] is True, delivery
    assert delivery["type"] == "import.ready" and delivery["data"] == final
    assert delivery["path"] == "/hooks/"

    item = aws_client("dynamodb", stack.aws_url).get_item(
        TableName=stack.deployed.jobs_table, Key={"id": {"S": job_id}}, ConsistentRead=True
    )["Item"]
    outbox = item["callbackOutbox"]["M"]
    assert outbox["webhookId"]["S"] == delivery["webhookId"]  # the id the transition wrote
    assert outbox["state"]["S"] == "queued"
    wait_for(
        lambda: queue_is_empty(stack, stack.deployed.callback_queue_url),
        "the callback queue to drain",
        stack,
    )
    assert queue_is_empty(stack, stack.deployed.callback_dlq_url)
    assert len(deliveries(stack, job_id)) == 1  # exactly one, nothing left to retry


def test_the_callback_function_runs_on_the_callback_queue(local_stack: Any) -> None:
    env = local_stack.function_env
    assert env["api"]["RELAY_CALLBACK_QUEUE_URL"] == local_stack.deployed.callback_queue_url
    assert env["worker"]["RELAY_CALLBACK_QUEUE_URL"] == local_stack.deployed.callback_queue_url
    callbacks = env[r.CALLBACK_FUNCTION.key]
    assert callbacks["RELAY_CALLBACK_DLQ_URL"] == local_stack.deployed.callback_dlq_url
    assert callbacks["RELAY_CALLBACK_ALLOW_LOOPBACK"] == "true"  # local only
    assert "RELAY_CALLBACK_ALLOW_LOOPBACK" not in env["api"]
    assert r.CALLBACK_QUEUE_NAME in local_stack.deployed.callback_queue_url
