"""template.yaml, translated offline by aws-sam-translator: what matters for a deployment."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest

from tests.infrastructure.template_model import (
    TEMPLATE,
    as_list,
    cfn_template,
    policy_statements,
    resources_of_type,
    sam_template,
)
from wix_relay.config import Settings

ROUTES = {
    ("get", "/v1/health"),
    ("get", "/v1/openapi.json"),
    ("post", "/v1/upload-url"),
    ("post", "/v1/resumable-upload-url"),
    ("post", "/v1/imports"),
    ("get", "/v1/imports/{id}"),
    ("post", "/v1/wix/events"),
    ("get", "/v1/uploads/{uploadId}"),
    ("post", "/v1/uploads/{uploadId}/file"),
    ("get", "/v1/files/{fileId}"),
}
JWT_ROUTES = {("post", "/v1/upload-url"), ("post", "/v1/resumable-upload-url")}
POWERTOOLS_VARIABLES = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_TRACE_DISABLED",
}


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return cfn_template()


@pytest.fixture(scope="module")
def resources(cfn: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = cfn["Resources"]
    return resources


def props(resources: Mapping[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = resources[name]["Properties"]
    return properties


# --- functions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "handler"),
    [
        ("ApiFunction", "wix_relay.handlers.api.handler"),
        ("WorkerFunction", "wix_relay.handlers.worker.handler"),
        ("CallbackFunction", "wix_relay.handlers.callbacks.handler"),
    ],
)
def test_function_runtime_architecture_handler_tracing_logs(
    resources: dict[str, Any], name: str, handler: str
) -> None:
    fn = props(resources, name)
    assert fn["Runtime"] == "python3.13"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Handler"] == handler
    assert fn["TracingConfig"] == {"Mode": "Active"}
    log_group = fn["LoggingConfig"]["LogGroup"]["Ref"]
    assert resources[log_group]["Type"] == "AWS::Logs::LogGroup"
    assert props(resources, log_group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    env = fn["Environment"]["Variables"]
    assert env["POWERTOOLS_TRACE_DISABLED"] == {"Ref": "TracingDisabled"}
    assert env["POWERTOOLS_SERVICE_NAME"] == "wix-media-relay"
    assert env["POWERTOOLS_METRICS_NAMESPACE"]
    assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_tracing_is_off_by_default_for_cold_start(cfn: dict[str, Any]) -> None:
    assert cfn["Parameters"]["TracingDisabled"]["Default"] == "true"


def test_timeouts_fit_their_triggers(resources: dict[str, Any]) -> None:
    api, worker = props(resources, "ApiFunction"), props(resources, "WorkerFunction")
    assert api["Timeout"] < 30, "HTTP API integrations time out at 30 s"
    assert worker["Timeout"] == 900, "a large resumable transfer needs the 15-minute maximum"
    assert worker["MemorySize"] >= api["MemorySize"] >= 256


def test_api_gives_up_on_wix_before_its_own_timeout(resources: dict[str, Any]) -> None:
    api = props(resources, "ApiFunction")
    env = api["Environment"]["Variables"]
    settings = Settings.from_env({k: v for k, v in env.items() if isinstance(v, str)}).wix.for_api()
    # The last retry starts before the budget ends and may take connect + read seconds.
    worst = settings.retry_budget_s + settings.connect_timeout_s + settings.read_timeout_s
    assert worst < api["Timeout"]


def test_environment_variables_are_the_ones_config_reads(resources: dict[str, Any]) -> None:
    read: set[str] = set()

    class Recorder(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            read.add(key)
            return super().get(key, default)

    Settings.from_env(Recorder())
    assert "RELAY_JOBS_TABLE" in read  # the recorder saw config.py's reads
    for name in FUNCTIONS:
        variables = set(props(resources, name)["Environment"]["Variables"])
        unknown = variables - read - POWERTOOLS_VARIABLES
        assert not unknown, f"{name} sets variables config.py never reads: {unknown}"


# The Settings fields each function's code path reads (runtime.py, services/, handlers/).
FUNCTIONS = ("ApiFunction", "WorkerFunction", "CallbackFunction")
WIX = {"WIX_API_BASE_URL", "WIX_UPLOAD_HOSTS", "WIX_CREDENTIALS_SECRET_ID"}
READINESS = {
    "WIX_EVENTS_PUBLIC_KEY_SECRET_ID",  # events on (the key) or off (the placeholder)
    "RELAY_CALLERS_SECRET_ID",  # a job's or upload's callback target
    "RELAY_CALLBACK_QUEUE_URL",  # the winner of a transition queues the callback
}


@pytest.mark.parametrize(
    ("name", "reads"),
    [
        (
            "ApiFunction",
            WIX
            | {
                "WIX_CONNECT_TIMEOUT_SECONDS",  # the API's tighter Wix budget
                "WIX_READ_TIMEOUT_SECONDS",
                "WIX_API_RETRY_BUDGET_SECONDS",
                "RELAY_CALLERS_SECRET_ID",
                "RELAY_CORS_ORIGINS",
                "RELAY_JOBS_TABLE",  # imports: the job, keyed by Idempotency-Key
                "RELAY_QUEUE_URL",  # imports: enqueued for the worker
                "RELAY_DEFAULT_MODE",  # imports: a job without "mode"
            }
            | READINESS,
        ),
        (
            "WorkerFunction",
            WIX
            | {
                "RELAY_JOBS_TABLE",
                "RELAY_DEFAULT_MODE",
                "RELAY_UPLOAD_THRESHOLD_BYTES",
                "RELAY_FOLDER_ROOT",
                "RELAY_ROUTES",
                "RELAY_MAX_RECEIVE_COUNT",
                "RELAY_WORKER_CONCURRENCY",
                "RELAY_QUEUE_URL",  # delayed readiness checks when events are off
                "RELAY_READY_CHECKS",
            }
            | READINESS,
        ),
        (
            "CallbackFunction",
            {
                "RELAY_CALLERS_SECRET_ID",  # each caller's signing secret
                "RELAY_CALLBACK_QUEUE_URL",
                "RELAY_CALLBACK_DLQ_URL",
                "RELAY_CALLBACK_MAX_ATTEMPTS",
            },
        ),
    ],
)
def test_each_function_gets_only_the_configuration_it_reads(
    resources: dict[str, Any], name: str, reads: set[str]
) -> None:
    variables = set(props(resources, name)["Environment"]["Variables"]) - POWERTOOLS_VARIABLES
    assert variables == reads, (variables - reads, reads - variables)


def test_worker_knows_the_queue_settings_it_depends_on(resources: dict[str, Any]) -> None:
    env = props(resources, "WorkerFunction")["Environment"]["Variables"]
    assert env["RELAY_MAX_RECEIVE_COUNT"] == {"Ref": "MaxReceiveCount"}
    assert env["RELAY_WORKER_CONCURRENCY"] == {"Ref": "WorkerBatchSize"}


# --- HTTP API --------------------------------------------------------------------------------


def api_body(resources: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = props(resources, "HttpApi")["Body"]
    return body


def test_http_api_routes_invoke_the_api_function(resources: dict[str, Any]) -> None:
    paths = api_body(resources)["paths"]
    routes = {(method, path) for path, methods in paths.items() for method in methods}
    assert routes == ROUTES
    for path, methods in paths.items():
        for method, operation in methods.items():
            integration = operation["x-amazon-apigateway-integration"]
            assert integration["type"] == "aws_proxy", (method, path)
            assert integration["payloadFormatVersion"] == "2.0"
            assert "/functions/${ApiFunctionAliaslive}/" in integration["uri"]["Fn::Sub"]
    permissions = resources_of_type({"Resources": resources}, "AWS::Lambda::Permission")
    assert len(permissions) == len(ROUTES)
    for permission in permissions.values():
        p = permission["Properties"]
        assert p["Principal"] == "apigateway.amazonaws.com"
        assert p["FunctionName"] == {"Ref": "ApiFunctionAliaslive"}


def test_cors_lists_origins_and_the_relays_headers(resources: dict[str, Any]) -> None:
    cors = api_body(resources)["x-amazon-apigateway-cors"]
    # SAM's CorsConfiguration collapses to a bare list when AllowOrigins is an intrinsic;
    # this catches that regression.
    assert isinstance(cors, dict)
    assert cors["allowOrigins"] == {"Fn::Split": [",", {"Ref": "CorsAllowedOrigins"}]}
    assert "*" not in json.dumps(cors)
    assert set(cors["allowMethods"]) == {"GET", "POST", "OPTIONS"}
    assert set(cors["allowHeaders"]) == {
        "authorization",
        "content-type",
        "idempotency-key",
        "x-api-key",
    }
    assert cors["allowCredentials"] is False
    assert "location" in cors["exposeHeaders"]


def test_cors_parameter_refuses_wildcards(cfn: dict[str, Any]) -> None:
    parameter = cfn["Parameters"]["CorsAllowedOrigins"]
    assert "Default" not in parameter, "the origins must be chosen at deploy time"
    pattern = re.compile(parameter["AllowedPattern"])
    for good in ["https://www.example.com", "https://a.example.com,http://127.0.0.1:8000"]:
        assert pattern.fullmatch(good), good
    for bad in ["*", "https://a.com,*", "https://*.a.com", "https://a.com/path", "a.com", ""]:
        assert not pattern.fullmatch(bad), bad


def test_default_route_throttling_and_json_access_logs(resources: dict[str, Any]) -> None:
    stage = props(resources, "HttpApiApiGatewayDefaultStage")
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
    }
    logs = stage["AccessLogSettings"]
    assert logs["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(logs["Format"])
    assert {"requestId", "status", "routeKey", "integrationError"} <= set(fields)
    assert props(resources, "ApiAccessLogGroup")["RetentionInDays"] == {"Ref": "LogRetentionDays"}


# --- queue, dead-letter queue, inbox ---------------------------------------------------------


def mapping_of(resources: dict[str, Any], target: str) -> dict[str, Any]:
    """The event source mapping invoking `target` (a function, or a function's alias)."""
    mappings = resources_of_type({"Resources": resources}, "AWS::Lambda::EventSourceMapping")
    (m,) = [
        m["Properties"]
        for m in mappings.values()
        if m["Properties"]["FunctionName"] == {"Ref": target}
    ]
    return m


def test_worker_consumes_the_queue_with_partial_batch_failures(resources: dict[str, Any]) -> None:
    m = mapping_of(resources, "WorkerFunctionAliaslive")
    assert m["EventSourceArn"] == {"Fn::GetAtt": ["EventsQueue", "Arn"]}
    assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert m["BatchSize"] == {"Ref": "WorkerBatchSize"}
    assert m["MaximumBatchingWindowInSeconds"] == {"Ref": "WorkerBatchingWindowSeconds"}
    assert m["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "WorkerConcurrency"}}


def test_callbacks_have_their_queue_dead_letter_queue_alarm_and_consumer(
    resources: dict[str, Any],
) -> None:
    m = mapping_of(resources, "CallbackFunction")
    assert m["EventSourceArn"] == {"Fn::GetAtt": ["CallbackQueue", "Arn"]}
    assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = props(resources, "CallbackQueue")
    assert queue["VisibilityTimeout"] >= 6 * props(resources, "CallbackFunction")["Timeout"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["CallbackDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "CallbackMaxAttempts"},
    }
    env = props(resources, "CallbackFunction")["Environment"]["Variables"]
    assert env["RELAY_CALLBACK_MAX_ATTEMPTS"] == {"Ref": "CallbackMaxAttempts"}  # = redrive
    alarm = props(resources, "CallbackDeadLetterQueueAlarm")
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["CallbackDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["MetricName"], alarm["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 0)


def test_the_wix_events_route_is_public(resources: dict[str, Any]) -> None:
    operation = api_body(resources)["paths"]["/v1/wix/events"]["post"]
    assert "security" not in operation  # the event's RS256 signature is its authentication


def test_queue_redrive_and_visibility_timeout(cfn: dict[str, Any], resources: dict) -> None:
    queue = props(resources, "EventsQueue")
    worker_timeout = props(resources, "WorkerFunction")["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * worker_timeout
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "MaxReceiveCount"},
    }
    assert 1 <= int(cfn["Parameters"]["MaxReceiveCount"]["Default"]) <= 10
    assert props(resources, "EventsDeadLetterQueue")["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_dead_letter_queue_depth_alarm(resources: dict[str, Any]) -> None:
    alarm = props(resources, "DeadLetterQueueAlarm")
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["EventsDeadLetterQueue", "QueueName"]}}
    ]
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_alarms_cover_api_5xx_function_errors_and_throttles(resources: dict[str, Any]) -> None:
    seen = set()
    for alarm in resources_of_type({"Resources": resources}, "AWS::CloudWatch::Alarm").values():
        p = alarm["Properties"]
        target = next(d["Value"] for d in p["Dimensions"] if d["Name"] != "Stage")
        seen.add((p["Namespace"], p["MetricName"], json.dumps(target, sort_keys=True)))

    def ref(name: str) -> str:
        return json.dumps({"Ref": name})

    assert ("AWS/ApiGateway", "5xx", ref("HttpApi")) in seen
    for function in ("ApiFunction", "WorkerFunction"):
        assert ("AWS/Lambda", "Errors", ref(function)) in seen
        assert ("AWS/Lambda", "Throttles", ref(function)) in seen


def test_inbox_notifications_go_to_the_queue_including_multipart(resources: dict) -> None:
    bucket = resources["InboxBucket"]
    assert bucket["Condition"] == "CreateInboxBucket"
    assert "EventsQueuePolicy" in as_list(bucket["DependsOn"])
    (config,) = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert config == {
        "Event": "s3:ObjectCreated:*",
        "Queue": {"Fn::GetAtt": ["EventsQueue", "Arn"]},
    }
    p = bucket["Properties"]
    assert p["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"], True
    )
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}


def test_queue_policy_admits_only_the_inbox_bucket_of_this_account(resources: dict) -> None:
    (statement,) = props(resources, "EventsQueuePolicy")["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    template, variables = statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"]
    assert template == "arn:${AWS::Partition}:s3:::${Bucket}"
    created, existing = variables["Bucket"]["Fn::If"][1:]
    # The same explicit name as the bucket itself, never a Ref to it (that is a cycle).
    assert created == props(resources, "InboxBucket")["BucketName"]
    assert existing == {"Ref": "ExistingInboxBucketName"}


# --- state -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "ttl"), [("JobsTable", "expiresAt")])
def test_tables_on_demand_ttl_point_in_time_recovery(
    resources: dict[str, Any], name: str, ttl: str
) -> None:
    table = props(resources, name)
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


# --- IAM -------------------------------------------------------------------------------------

# Sid → (actions, resources) for each role; resources are written as the intrinsic they are.
WIX_SECRET = {
    "Fn::If": [
        "CreateWixSecret",
        {"Ref": "WixCredentialsSecret"},
        {"Ref": "WixCredentialsSecretArn"},
    ]
}
CALLERS_SECRET = {
    "Fn::If": ["CreateCallersSecret", {"Ref": "CallersSecret"}, {"Ref": "CallersSecretArn"}]
}
EVENTS_KEY_SECRET = {
    "Fn::If": [
        "CreateWixEventsKeySecret",
        {"Ref": "WixEventsPublicKeySecret"},
        {"Ref": "WixEventsPublicKeySecretArn"},
    ]
}
GET_OBJECT = {"s3:GetObject", "s3:GetObjectVersion"}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
EXPECTED_POLICIES: dict[str, dict[str, tuple[set[str], list[Any] | None]]] = {
    "ApiFunctionRole": {
        "Logs": (LOGS, [{"Fn::GetAtt": ["ApiLogGroup", "Arn"]}]),
        "XRayRequiresWildcard": ({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, ["*"]),
        "ReadSecrets": (
            {"secretsmanager:GetSecretValue"}, [WIX_SECRET, CALLERS_SECRET, EVENTS_KEY_SECRET]
        ),
        "Jobs": (
            {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"},
            [{"Fn::GetAtt": ["JobsTable", "Arn"]}],
        ),
        "EnqueueImports": ({"sqs:SendMessage"}, [{"Fn::GetAtt": ["EventsQueue", "Arn"]}]),
        "EnqueueCallbacks": ({"sqs:SendMessage"}, [{"Fn::GetAtt": ["CallbackQueue", "Arn"]}]),
        "HeadImportSources": (GET_OBJECT, None),
        "ListImportSources": ({"s3:ListBucket"}, None),
    },
    "WorkerFunctionRole": {
        "Logs": (LOGS, [{"Fn::GetAtt": ["WorkerLogGroup", "Arn"]}]),
        "XRayRequiresWildcard": ({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, ["*"]),
        "ReadSecrets": (
            {"secretsmanager:GetSecretValue"}, [WIX_SECRET, CALLERS_SECRET, EVENTS_KEY_SECRET]
        ),
        "Jobs": ({"dynamodb:GetItem", "dynamodb:PutItem"}, [{"Fn::GetAtt": ["JobsTable", "Arn"]}]),
        "ConsumeQueue": (
            {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
            [{"Fn::GetAtt": ["EventsQueue", "Arn"]}],
        ),
        "EnqueueChecksAndCallbacks": (
            {"sqs:SendMessage"},
            [{"Fn::GetAtt": ["EventsQueue", "Arn"]}, {"Fn::GetAtt": ["CallbackQueue", "Arn"]}],
        ),
        "DelayThrottledRecords": (
            {"sqs:ChangeMessageVisibility"},
            [{"Fn::GetAtt": ["EventsQueue", "Arn"]}],
        ),
        "ReadInbox": (GET_OBJECT, None),
        "ListInbox": ({"s3:ListBucket"}, None),
        "ReadImportSources": (GET_OBJECT, None),
        "ListImportSources": ({"s3:ListBucket"}, None),
    },
    "CallbackFunctionRole": {
        "Logs": (LOGS, [{"Fn::GetAtt": ["CallbackLogGroup", "Arn"]}]),
        "XRayRequiresWildcard": ({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, ["*"]),
        "ReadCallersSecret": ({"secretsmanager:GetSecretValue"}, [CALLERS_SECRET]),
        "ConsumeCallbacks": (
            {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
             "sqs:ChangeMessageVisibility"},
            [{"Fn::GetAtt": ["CallbackQueue", "Arn"]}],
        ),
        "DeadLetterCallbacks": (
            {"sqs:SendMessage"}, [{"Fn::GetAtt": ["CallbackDeadLetterQueue", "Arn"]}]
        ),
    },
}  # fmt: skip


@pytest.mark.parametrize("role", sorted(EXPECTED_POLICIES))
def test_each_role_grants_exactly_what_its_function_uses(resources: dict, role: str) -> None:
    r = props(resources, role)
    assert "ManagedPolicyArns" not in r, "managed policies grant Resource '*' (logs, SQS)"
    assert r["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    statements = {s["Sid"]: s for s in policy_statements(resources[role])}
    assert set(statements) == set(EXPECTED_POLICIES[role])
    for sid, (actions, expected_resources) in EXPECTED_POLICIES[role].items():
        statement = statements[sid]
        assert statement["Effect"] == "Allow"
        assert set(as_list(statement["Action"])) == actions, sid
        if expected_resources is not None:
            assert as_list(statement["Resource"]) == expected_resources, sid


def test_no_wildcard_resource_or_action_except_x_ray(resources: dict[str, Any]) -> None:
    for role in EXPECTED_POLICIES:
        for statement in policy_statements(resources[role]):
            assert not any("*" in a for a in as_list(statement["Action"])), statement
            if "*" in as_list(statement["Resource"]):
                # X-Ray has no resource-level permissions; EMF metrics need no PutMetricData.
                assert all(a.startswith("xray:") for a in as_list(statement["Action"]))


def test_s3_grants_are_object_arns_except_list_bucket(resources: dict[str, Any]) -> None:
    """Object actions on `bucket/*` only; s3:ListBucket (needed so that a missing key is a 404,
    not a 403) on the bucket ARN itself and alone in its statement."""
    for role in EXPECTED_POLICIES:
        for statement in policy_statements(resources[role]):
            actions = as_list(statement["Action"])
            if not any(a.startswith("s3:") for a in actions):
                continue
            text = json.dumps(statement["Resource"])
            assert "arn:${AWS::Partition}:s3:::" in text, text
            if "s3:ListBucket" in actions:
                assert actions == ["s3:ListBucket"] and "/*" not in text, statement
            else:
                assert "/*" in text, text


# boto3 client methods (and SigV4 targets) found in src/ → the IAM action they need.
CODE_ACTIONS = {
    r"\.get_item\(": "dynamodb:GetItem",
    r"\.put_item\(": "dynamodb:PutItem",
    r"\.update_item\(": "dynamodb:UpdateItem",
    r"\.delete_item\(": "dynamodb:DeleteItem",
    r"\.query\(": "dynamodb:Query",
    r"\.scan\(": "dynamodb:Scan",
    r"\.transact_write_items\(": "dynamodb:TransactWriteItems",
    r"\.send_message\(": "sqs:SendMessage",
    r"\.send_message_batch\(": "sqs:SendMessage",
    r"\.change_message_visibility\(": "sqs:ChangeMessageVisibility",
    r"\.head_object\(": "s3:GetObject",
    r"\.get_object\(": "s3:GetObject",
    r"generate_presigned_url\(\s*\"get_object\"": "s3:GetObject",
    r"\.put_object\(": "s3:PutObject",
    r"\.delete_object\(": "s3:DeleteObject",
    r"\.copy_object\(": "s3:PutObject",
    r"\.get_secret_value\(|secretsmanager\.GetSecretValue": "secretsmanager:GetSecretValue",
}


def test_every_aws_call_in_the_code_is_granted(resources: dict[str, Any]) -> None:
    granted = {
        action
        for role in EXPECTED_POLICIES
        for statement in policy_statements(resources[role])
        for action in as_list(statement["Action"])
    }
    src = TEMPLATE.parent / "src"
    code = "\n".join(p.read_text(encoding="utf-8") for p in src.rglob("*.py"))
    used = {action for pattern, action in CODE_ACTIONS.items() if re.search(pattern, code)}
    assert "s3:GetObject" in used and "sqs:SendMessage" in used  # the scan sees the code
    assert used <= granted, f"the code calls AWS actions no role grants: {used - granted}"


# --- secrets ---------------------------------------------------------------------------------

KNOWN_SHAPES = re.compile(r"AKIA[0-9A-Z]{16}|-----BEGIN|\bIST\.|\b[0-9a-f]{40,}\b")
TOKEN = re.compile(r"[A-Za-z0-9+/_.=-]{24,}")


def looks_like_credential(text: str) -> bool:
    """An AWS key id, a PEM block, a Wix API key (IST.…), a long hex digest, or a long token
    mixing upper case, lower case and digits (base64/JWT-like)."""
    if KNOWN_SHAPES.search(text):
        return True
    return any(
        re.search(r"[A-Z]", t) and re.search(r"[a-z]", t) and re.search(r"[0-9]", t)
        for t in TOKEN.findall(text)
    )


def test_credential_detector() -> None:
    assert looks_like_credential("IST.eyJraWQiOiJQb3pIX2FDMiIsImFsZyI6IlJTMjU2In0")
    assert looks_like_credential("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert looks_like_credential("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert not looks_like_credential("ServerSideEncryptionConfiguration")
    assert not looks_like_credential("https://www.wixapis.com")


def test_no_credential_in_parameters_environment_or_secret_values(
    cfn: dict[str, Any], resources: dict[str, Any]
) -> None:
    for name, parameter in cfn["Parameters"].items():
        default = str(parameter.get("Default", ""))
        assert not looks_like_credential(default), name
        if re.search(r"secret|key|token|password", name, re.IGNORECASE):
            assert default == "", f"{name} must not have a default"
    for fn in FUNCTIONS:
        for var, value in props(resources, fn)["Environment"]["Variables"].items():
            assert not re.search(r"(?<!_ID)KEY$|TOKEN|PASSWORD|SECRET$", var), var
            if isinstance(value, str):
                assert not looks_like_credential(value), var
    for secret in resources_of_type(cfn, "AWS::SecretsManager::Secret").values():
        document = json.loads(secret["Properties"]["SecretString"])
        assert document in ({}, {"apiKeys": []}), "placeholders only: an empty document"
    assert not looks_like_credential(TEMPLATE.read_text(encoding="utf-8"))


def test_secrets_can_be_created_or_referenced(cfn: dict[str, Any]) -> None:
    for resource, parameter in [
        ("WixCredentialsSecret", "WixCredentialsSecretArn"),
        ("CallersSecret", "CallersSecretArn"),
    ]:
        condition = cfn["Resources"][resource]["Condition"]
        assert cfn["Conditions"][condition] == {"Fn::Equals": [{"Ref": parameter}, ""]}
        pattern = re.compile(cfn["Parameters"][parameter]["AllowedPattern"])
        arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:relay/wix-AbCdEf"
        assert pattern.fullmatch(arn) and pattern.fullmatch("")
        assert not pattern.fullmatch('{"apiKey": "IST.abc"}'), "a credential is not an ARN"


# --- outputs and parameters ------------------------------------------------------------------


def test_outputs_name_everything_an_operator_needs(cfn: dict[str, Any]) -> None:
    assert {
        "ApiUrl",
        "EventsQueueUrl",
        "EventsQueueArn",
        "DeadLetterQueueUrl",
        "JobsTableName",
        "WixCredentialsSecretArn",
        "CallersSecretArn",
        "InboxBucketName",
    } <= set(cfn["Outputs"])


def test_import_sources_pattern(cfn: dict[str, Any]) -> None:
    pattern = re.compile(cfn["Parameters"]["ImportSources"]["AllowedPattern"])
    for good in ["", "partner-drop", "partner-drop,shared-media/acme", "b.example/x/y"]:
        assert pattern.fullmatch(good), good
    for bad in ["*", "bucket/*", "bucket/acme/", "Bucket", "a,,b"]:
        assert not pattern.fullmatch(bad), bad


def test_every_parameter_is_used_and_grouped(cfn: dict[str, Any]) -> None:
    sam = sam_template()
    used = json.dumps({k: v for k, v in sam.items() if k not in {"Parameters", "Metadata"}})
    grouped = {
        p
        for group in sam["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        for p in group["Parameters"]
    }
    for name in cfn["Parameters"]:
        assert f'"Ref": "{name}"' in used, f"parameter {name} is never used"
        assert name in grouped, f"parameter {name} is missing from the console groups"


# --- SnapStart -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ApiFunction", "WorkerFunction"])
def test_snapstart_switch_and_the_live_alias(cfn: dict[str, Any], name: str) -> None:
    """SnapStart snapshots published versions only: the function is always published behind
    `live` (its triggers invoke the alias), and the parameter decides ApplyOn."""
    assert cfn["Parameters"]["SnapStart"]["Default"] == "false"
    resources = cfn["Resources"]
    assert props(resources, name)["SnapStart"] == {
        "ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}
    }
    alias = props(resources, f"{name}Aliaslive")
    assert alias["FunctionName"] == {"Ref": name}
    version = alias["FunctionVersion"]["Fn::GetAtt"][0]
    assert resources[version]["Type"] == "AWS::Lambda::Version"
    # SAM names the version after the template text: switching the parameter alone must still
    # publish a version (a changed Description replaces an AWS::Lambda::Version).
    assert props(resources, version)["Description"] == {"Fn::Sub": "SnapStart=${SnapStart}"}


def test_the_callback_consumer_has_no_snapstart(resources: dict[str, Any]) -> None:
    assert "SnapStart" not in props(resources, "CallbackFunction")
    assert "CallbackFunctionAliaslive" not in resources
