"""The stack's plumbing with stand-in handlers that report what they were given: each function
runs in its own process with exactly its Lambda configuration, an object put in the inbox bucket
reaches the worker as a Lambda SQS event, and the resources match a deployment."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from local_stack import resources
from local_stack.bootstrap import aws_client
from local_stack.stack import (
    RunningStack,
    StackConfig,
    StackError,
    real_wix_credentials,
    start_stack,
)

from tests.e2e.local_stack.local_stack_probe_handlers import PROBE_BUCKET
from tests.fixtures.local_stack import DEV_API_KEY, ephemeral_config, wait_for

PROBES = "tests.e2e.local_stack.local_stack_probe_handlers"
SHELL_ONLY = "LOCAL_STACK_TEST_SHELL_ONLY"


@pytest.fixture(scope="module")
def probe_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    os.environ[SHELL_ONLY] = "must not leak into a function"
    try:
        config = ephemeral_config(
            tmp_path_factory.mktemp("probe-stack"),
            handlers={"api": f"{PROBES}.api", "worker": f"{PROBES}.worker"},
        )
        with start_stack(config) as stack:
            yield stack
    finally:
        del os.environ[SHELL_ONLY]


def probe(stack: RunningStack) -> dict[str, Any]:
    response = requests.get(f"{stack.relay_url}/v1/health", timeout=10)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def test_api_function_sees_its_lambda_configuration_only(probe_stack: RunningStack) -> None:
    seen = probe(probe_stack)
    environ, context = seen["environ"], seen["context"]
    assert SHELL_ONLY not in environ
    api_name = resources.API_FUNCTION.name
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == context["function_name"] == api_name
    assert environ["AWS_ENDPOINT_URL"] == probe_stack.aws_url
    assert environ["WIX_API_BASE_URL"] == probe_stack.emulator_url
    assert environ["WIX_UPLOAD_HOSTS"] == probe_stack.emulator_url.split("://")[1]
    assert environ["RELAY_QUEUE_URL"] == probe_stack.deployed.queue_url
    assert environ["POWERTOOLS_TRACE_DISABLED"] == "true"
    port = probe_stack.demo_url.rsplit(":", 1)[1]
    assert set(environ["RELAY_CORS_ORIGINS"].split(",")) == {
        f"http://127.0.0.1:{port}",
        f"http://localhost:{port}",
    }
    assert context["invoked_function_arn"].endswith(f":function:{api_name}")
    assert "RELAY_IDEMPOTENCY_TABLE" not in environ  # the worker's, not the API's
    assert context["remaining_ms"] > 0
    # The relay's own configuration accepts it.
    from wix_relay.config import Settings

    settings = Settings.from_env(environ)
    assert settings.aws.jobs_table == probe_stack.deployed.jobs_table


def test_inbox_object_reaches_the_worker_as_a_lambda_sqs_event(probe_stack: RunningStack) -> None:
    s3 = aws_client("s3", probe_stack.aws_url)
    s3.put_object(Bucket=probe_stack.deployed.inbox_bucket, Key="any/folder/p.jpg", Body=b"p")

    def created_records() -> list[dict[str, Any]]:
        try:
            listed = s3.list_objects_v2(Bucket=PROBE_BUCKET).get("Contents", [])
        except s3.exceptions.NoSuchBucket:
            return []
        found = []
        for item in listed:
            body = json.loads(s3.get_object(Bucket=PROBE_BUCKET, Key=item["Key"])["Body"].read())
            if "any/folder/p.jpg" in body["record"]["body"].replace("%2F", "/"):
                found.append(body)
        return found

    (seen,) = wait_for(created_records, "the worker to receive the S3 notification", probe_stack)
    record = seen["record"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == probe_stack.deployed.queue_arn
    notification = json.loads(record["body"])["Records"][0]
    assert notification["eventName"] == "ObjectCreated:Put"
    assert notification["s3"]["bucket"]["name"] == probe_stack.deployed.inbox_bucket
    assert seen["context"]["function_name"] == resources.WORKER_FUNCTION.name


def test_resources_are_those_of_a_deployment(probe_stack: RunningStack) -> None:
    url = probe_stack.aws_url
    deployed = probe_stack.deployed
    secrets = aws_client("secretsmanager", url)
    registry = secrets.get_secret_value(SecretId=deployed.callers_secret_id)["SecretString"]
    assert DEV_API_KEY not in registry
    (entry,) = json.loads(registry)["apiKeys"]
    assert entry["sha256"] == hashlib.sha256(DEV_API_KEY.encode()).hexdigest()
    assert {"bucket": deployed.inbox_bucket, "prefix": ""} in entry["policy"]["importSources"]
    wix = json.loads(secrets.get_secret_value(SecretId=deployed.wix_secret_id)["SecretString"])
    assert set(wix) == {"apiKey", "siteId"}

    dynamodb = aws_client("dynamodb", url)
    schema = dynamodb.describe_table(TableName=deployed.jobs_table)["Table"]["KeySchema"]
    assert schema == [{"AttributeName": resources.TABLE_KEY, "KeyType": "HASH"}]
    ttl = dynamodb.describe_time_to_live(TableName=deployed.jobs_table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == resources.JOBS_TTL_ATTRIBUTE

    sqs = aws_client("sqs", url)
    attrs = sqs.get_queue_attributes(QueueUrl=deployed.queue_url, AttributeNames=["All"])
    redrive = json.loads(attrs["Attributes"]["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == resources.MAX_RECEIVE_COUNT
    assert redrive["deadLetterTargetArn"].endswith(f":{resources.DLQ_NAME}")

    notification = aws_client("s3", url).get_bucket_notification_configuration(
        Bucket=deployed.inbox_bucket
    )
    (queue_config,) = notification["QueueConfigurations"]
    assert queue_config["QueueArn"] == deployed.queue_arn
    assert queue_config["Events"] == ["s3:ObjectCreated:*"]


def test_env_file_and_demo_page(probe_stack: RunningStack) -> None:
    document = json.loads(probe_stack.env_file.read_text())
    assert document["devApiKey"] == DEV_API_KEY
    assert document["relayUrl"] == probe_stack.relay_url
    worker_env = document["functions"]["worker"]
    assert worker_env["AWS_LAMBDA_FUNCTION_NAME"] == resources.WORKER_FUNCTION.name
    assert "RELAY_IDEMPOTENCY_TABLE" not in worker_env  # the job record is the lock
    assert "RELAY_CALLERS_SECRET_ID" in worker_env  # who an import's callback goes to
    assert oct(probe_stack.env_file.stat().st_mode & 0o777) == "0o600"

    page = requests.get(f"{probe_stack.demo_url}/", timeout=10)
    assert page.status_code == 200
    assert '<script type="module" src="upload.js">' in page.text
    config_js = requests.get(f"{probe_stack.demo_url}/config.js", timeout=10).text
    assert json.dumps(probe_stack.relay_url) in config_js
    assert DEV_API_KEY not in config_js  # the page sends a dev JWT, as a real site would
    assert '"token": "ey' in config_js


def test_stop_releases_everything(tmp_path: Any) -> None:
    config = ephemeral_config(
        tmp_path, handlers={"api": f"{PROBES}.api", "worker": f"{PROBES}.worker"}
    )
    stack = start_stack(config)
    relay, env_file = stack.relay_url, stack.env_file
    assert env_file.exists()
    stack.stop()
    assert not env_file.exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{relay}/v1/health", timeout=5)


def test_configuration_from_the_environment() -> None:
    config = StackConfig.from_env(
        {
            "RELAY_PORT": "3100",
            "RELAY_DEV_API_KEY": "fixed",
            "RELAY_DEFAULT_MODE": "import",
            "WIX_API_KEY": "real-key",
            "WIX_SITE_ID": "real-site",
        }
    )
    assert config.relay_port == 3100
    assert (config.dev_api_key, config.dev_key_generated) == ("fixed", False)
    assert config.real_wix == {"apiKey": "real-key", "siteId": "real-site"}
    assert config.relay_env == {"RELAY_DEFAULT_MODE": "import"}  # no secrets, no stack vars
    assert StackConfig.from_env({}).dev_key_generated
    with pytest.raises(StackError, match="WIX_INSTANCE_ID"):
        real_wix_credentials({"WIX_APP_ID": "a", "WIX_APP_SECRET": "s"})
    with pytest.raises(StackError, match="RELAY_PORT"):
        StackConfig.from_env({"RELAY_PORT": "http"})
