"""The local stack mirrors template.yaml: same handlers and limits, same environment variable
names per function, same table keys and TTLs, same queue wiring and batch settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from local_stack import resources as r
from local_stack.bootstrap import Deployed
from local_stack.stack import StackConfig, function_environment

ROOT = Path(__file__).resolve().parents[3]
# Variables only the local stack sets: Lambda gets its AWS endpoint, region and credentials from
# the runtime and its role, not from the template.
LOCAL_ONLY = {
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    *r.CALLBACK_FUNCTION.local,  # http to the loopback receiver: local only, never deployed
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    parsed: dict[str, Any] = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    return parsed


def resource(template: dict[str, Any], name: str) -> dict[str, Any]:
    props: dict[str, Any] = template["Resources"][name]["Properties"]
    return props


def default(template: dict[str, Any], parameter: str) -> Any:
    return template["Parameters"][parameter]["Default"]


FUNCTIONS = [
    (r.API_FUNCTION, "ApiFunction"),
    (r.WORKER_FUNCTION, "WorkerFunction"),
    (r.CALLBACK_FUNCTION, "CallbackFunction"),
]


def local_env(spec: r.FunctionSpec) -> dict[str, str]:
    deployed = Deployed("b", "q", "arn:q", "dlq", "jobs", "wix", "callers")
    return function_environment(
        spec,
        StackConfig(),
        deployed,
        aws_url="http://127.0.0.1:1",
        wix_base_url="http://127.0.0.1:2",
        upload_hosts="127.0.0.1:2",
        demo_port=3,
    )


@pytest.mark.parametrize(("spec", "logical_id"), FUNCTIONS)
def test_functions_match(template: dict[str, Any], spec: r.FunctionSpec, logical_id: str) -> None:
    props = resource(template, logical_id)
    assert props["Handler"] == spec.handler
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_s
    global_vars = set(template["Globals"]["Function"]["Environment"]["Variables"])
    own_vars = set(props["Environment"]["Variables"])
    assert set(r.GLOBAL_VARIABLES) == global_vars
    assert set(spec.variables) | set(spec.fixed) == own_vars
    assert set(local_env(spec)) - LOCAL_ONLY == global_vars | own_vars


# Parameters a deployment must set; the local stack fills them with its own endpoints/origins.
RESOLVED_LOCALLY = {"WixApiBaseUrl", "WixUploadHosts", "CorsAllowedOrigins"}


@pytest.mark.parametrize(("spec", "logical_id"), FUNCTIONS)
def test_parameter_values_are_the_defaults(
    template: dict[str, Any], spec: r.FunctionSpec, logical_id: str
) -> None:
    variables = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **resource(template, logical_id)["Environment"]["Variables"],
    }
    env = local_env(spec)
    checked = 0
    for name, source in variables.items():
        ref = source.get("Ref") if isinstance(source, dict) else None
        if ref in template["Parameters"] and ref not in RESOLVED_LOCALLY:
            assert env[name] == str(default(template, ref)), name
            checked += 1
        elif not isinstance(source, dict):
            assert env[name] == str(source), name
            checked += 1
    assert checked >= 4


def test_tables_match(template: dict[str, Any]) -> None:
    for logical_id, ttl in (("JobsTable", r.JOBS_TTL_ATTRIBUTE),):
        props = resource(template, logical_id)
        assert props["KeySchema"] == [{"AttributeName": r.TABLE_KEY, "KeyType": "HASH"}]
        assert props["AttributeDefinitions"] == [
            {"AttributeName": r.TABLE_KEY, "AttributeType": "S"}
        ]
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}


def test_queue_and_inbox_wiring_match(template: dict[str, Any]) -> None:
    queue = resource(template, "EventsQueue")
    assert queue["VisibilityTimeout"] == r.QUEUE_VISIBILITY_TIMEOUT_S
    assert queue["MessageRetentionPeriod"] == r.QUEUE_RETENTION_S
    assert queue["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}
    assert default(template, "MaxReceiveCount") == r.MAX_RECEIVE_COUNT
    dlq = resource(template, "EventsDeadLetterQueue")
    assert dlq["MessageRetentionPeriod"] == r.DLQ_RETENTION_S

    inbox = resource(template, "InboxBucket")
    (notification,) = inbox["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Queue"] == {"Fn::GetAtt": ["EventsQueue", "Arn"]}
    assert inbox["VersioningConfiguration"] == {"Status": "Enabled"}

    sqs_event = resource(template, "WorkerFunction")["Events"]["Inbox"]["Properties"]
    assert sqs_event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert default(template, "WorkerBatchSize") == r.SQS_BATCH_SIZE
    assert default(template, "WorkerBatchingWindowSeconds") == r.SQS_BATCHING_WINDOW_S


def test_callback_queue_and_function_wiring_match(template: dict[str, Any]) -> None:
    queue = resource(template, "CallbackQueue")
    assert queue["VisibilityTimeout"] == r.CALLBACK_VISIBILITY_TIMEOUT_S
    assert queue["MessageRetentionPeriod"] == r.CALLBACK_RETENTION_S
    assert queue["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "CallbackMaxAttempts"}
    assert default(template, "CallbackMaxAttempts") == r.CALLBACK_MAX_ATTEMPTS
    dlq = resource(template, "CallbackDeadLetterQueue")
    assert dlq["MessageRetentionPeriod"] == r.DLQ_RETENTION_S
    sqs_event = resource(template, "CallbackFunction")["Events"]["Callbacks"]["Properties"]
    assert sqs_event["Queue"] == {"Fn::GetAtt": ["CallbackQueue", "Arn"]}
    assert sqs_event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert r.CALLBACK_FUNCTION.batch == (sqs_event["BatchSize"], 0.0)
    assert "MaximumBatchingWindowInSeconds" not in sqs_event


def test_secret_names_match(template: dict[str, Any]) -> None:
    for logical_id, local in (
        ("WixCredentialsSecret", r.WIX_CREDENTIALS_SECRET),
        ("CallersSecret", r.CALLERS_SECRET),
    ):
        name = resource(template, logical_id)["Name"]
        assert name == {"Fn::Sub": local.replace(r.STACK_NAME, "${AWS::StackName}")}
