"""Our retry rules and error parsing against botocore's own (the oracle): the same raw answers
go through botocore's parsers and `botocore.retries.standard` classes and through ours."""

from __future__ import annotations

import json
import zlib

import botocore.session
import pytest
import requests
from botocore import exceptions as boto_errors
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser
from botocore.retries.standard import (
    ExponentialBackoff,
    RetryContext,
    RetryEventAdapter,
    StandardRetryConditions,
    ThrottlingErrorDetector,
)
from requests.structures import CaseInsensitiveDict

from tests.fixtures.net import closed_port_url
from wix_relay.integrations import aws_http
from wix_relay.integrations.aws_http import (
    MAX_ATTEMPTS,
    MODELED_ERRORS,
    MODELED_RETRYABLE,
    AwsCredentials,
    AwsEndpoint,
    AwsError,
    AwsHttp,
    Outcome,
    is_retryable,
    is_throttling,
    json_error,
    retry_delay,
    xml_error,
)

SESSION = botocore.session.get_session()
SERVICES = {"dynamodb": "json", "sqs": "json", "s3": "rest-xml"}


def ddb_error(code: str) -> bytes:
    return json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "m"}
    ).encode()


def s3_error(code: str) -> bytes:
    return f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>msg</Message></Error>".encode()


SQS_MISSING = json.dumps({"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "m"}).encode()
CRC_OK = {"x-amz-crc32": str(zlib.crc32(b"{}") & 0xFFFFFFFF)}
RESPONSES: list[tuple[str, str, int, dict[str, str], bytes]] = [
    # service, operation, status, headers, body
    ("dynamodb", "GetItem", 200, {}, b"{}"),
    ("dynamodb", "GetItem", 200, CRC_OK, b"{}"),
    ("dynamodb", "GetItem", 200, {"x-amz-crc32": "12345"}, b"{}"),
    ("dynamodb", "PutItem", 400, {}, ddb_error("ConditionalCheckFailedException")),
    ("dynamodb", "PutItem", 400, {}, ddb_error("ProvisionedThroughputExceededException")),
    ("dynamodb", "PutItem", 400, {}, ddb_error("ThrottlingException")),
    ("dynamodb", "PutItem", 400, {}, ddb_error("RequestLimitExceeded")),
    ("dynamodb", "PutItem", 400, {}, ddb_error("ReplicatedWriteConflictException")),
    ("dynamodb", "GetItem", 400, {}, ddb_error("ReplicatedWriteConflictException")),
    ("dynamodb", "DeleteItem", 400, {}, ddb_error("TransactionConflictException")),
    ("dynamodb", "GetItem", 400, {}, ddb_error("ValidationException")),
    ("dynamodb", "GetItem", 400, {}, ddb_error("ResourceNotFoundException")),
    ("dynamodb", "GetItem", 400, {}, ddb_error("RequestTimeoutException")),
    ("dynamodb", "GetItem", 500, {}, ddb_error("InternalServerError")),
    ("dynamodb", "GetItem", 503, {}, b""),
    ("dynamodb", "GetItem", 429, {}, b""),
    ("dynamodb", "GetItem", 429, {}, ddb_error("ThrottlingException")),
    ("dynamodb", "PutItem", 429, {}, ddb_error("ConditionalCheckFailedException")),
    ("dynamodb", "GetItem", 500, {"x-amz-retry-after": "3000"}, b""),
    ("dynamodb", "GetItem", 400, {"x-amz-retry-after": "900"}, ddb_error("ThrottlingException")),
    ("dynamodb", "GetItem", 500, {"x-amz-retry-after": "junk"}, b""),
    ("dynamodb", "GetItem", 502, {}, b"<html>bad gateway</html>"),
    ("sqs", "SendMessage", 200, {}, b'{"MessageId": "m"}'),
    (
        "sqs",
        "SendMessage",
        400,
        {"x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender"},
        SQS_MISSING,
    ),
    ("sqs", "SendMessage", 400, {}, SQS_MISSING),
    (
        "sqs",
        "SendMessage",
        400,
        {"x-amzn-query-error": "RequestThrottled;Sender"},
        json.dumps({"__type": "com.amazonaws.sqs#RequestThrottled"}).encode(),
    ),
    (
        "sqs",
        "SendMessage",
        429,
        {"x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender"},
        SQS_MISSING,
    ),
    (
        "sqs",
        "ChangeMessageVisibility",
        400,
        {"x-amzn-query-error": "ReceiptHandleIsInvalid;Sender"},
        json.dumps({"__type": "com.amazonaws.sqs#ReceiptHandleIsInvalid"}).encode(),
    ),
    ("sqs", "ChangeMessageVisibility", 429, {}, b"{}"),
    ("sqs", "SendMessage", 500, {}, json.dumps({"__type": "InternalFailure"}).encode()),
    ("s3", "HeadObject", 200, {}, b""),
    ("s3", "HeadObject", 404, {}, b""),
    ("s3", "HeadObject", 403, {}, b""),
    ("s3", "HeadObject", 503, {}, b""),
    ("s3", "HeadObject", 429, {}, b""),
    ("s3", "GetObject", 404, {}, s3_error("NoSuchKey")),
    ("s3", "GetObject", 403, {}, s3_error("AccessDenied")),
    ("s3", "GetObject", 403, {}, s3_error("InvalidObjectState")),
    ("s3", "GetObject", 412, {}, s3_error("PreconditionFailed")),
    ("s3", "GetObject", 416, {}, s3_error("InvalidRange")),
    ("s3", "GetObject", 503, {}, s3_error("SlowDown")),
    ("s3", "GetObject", 500, {}, s3_error("InternalError")),
    ("s3", "GetObject", 400, {}, s3_error("RequestTimeout")),
    ("s3", "GetObject", 400, {}, s3_error("ExpiredToken")),
    ("s3", "GetObject", 429, {}, s3_error("NoSuchKey")),
    ("s3", "GetObject", 500, {}, b"not xml"),
]


class _HttpResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code, self.content = status, body
        self.headers = HeadersDict(headers)


def botocore_verdict(
    service: str, operation: str, status: int, headers: dict[str, str], body: bytes
) -> tuple[str | None, bool, bool, list[float]]:
    """(error code, retryable, throttling, delays for attempts 1-3) by botocore."""
    model = SESSION.get_service_model(service).operation_model(operation)
    parsed = create_parser(SERVICES[service]).parse(
        {"status_code": status, "headers": HeadersDict(headers), "body": body},
        model.output_shape,
    )
    http = _HttpResponse(status, headers, body)
    detector = ThrottlingErrorDetector(RetryEventAdapter())
    backoff = ExponentialBackoff(
        random=lambda: 1.0, service_name=service, throttling_detector=detector
    )

    def context(attempt: int) -> RetryContext:
        return RetryContext(
            attempt, operation_model=model, parsed_response=parsed, http_response=http
        )

    code = parsed.get("Error", {}).get("Code") if status >= 300 else None
    return (
        code,
        StandardRetryConditions(max_attempts=MAX_ATTEMPTS).is_retryable(context(1)),
        detector.is_throttling_error_from_context(context(1)),
        [backoff.delay_amount(context(n)) for n in (1, 2, 3)],
    )


@pytest.mark.parametrize(("service", "operation", "status", "headers", "body"), RESPONSES)
def test_retry_rules_equal_botocore_standard_mode(
    service: str, operation: str, status: int, headers: dict[str, str], body: bytes
) -> None:
    code, retryable, throttling, delays = botocore_verdict(
        service, operation, status, headers, body
    )
    ours_code = None
    if status >= 300:
        parse = xml_error if service == "s3" else json_error
        ours_code, _ = parse(status, CaseInsensitiveDict(headers), body)
    outcome = Outcome(operation, status, ours_code, CaseInsensitiveDict(headers), body)
    assert ours_code == code
    assert is_retryable(outcome, service) == retryable
    assert is_throttling(outcome) == throttling
    assert [retry_delay(outcome, n, service, lambda: 1.0) for n in (1, 2, 3)] == delays


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (
            requests.ConnectionError("refused"),
            boto_errors.EndpointConnectionError(endpoint_url="u"),
        ),
        (requests.ConnectTimeout("slow"), boto_errors.ConnectTimeoutError(endpoint_url="u")),
        (requests.ReadTimeout("slow"), boto_errors.ReadTimeoutError(endpoint_url="u")),
        (requests.exceptions.SSLError("tls"), boto_errors.SSLError(endpoint_url="u", error="e")),
        (
            requests.exceptions.ChunkedEncodingError("reset"),
            boto_errors.ConnectionClosedError(endpoint_url="u"),
        ),
        (requests.exceptions.InvalidURL("bad"), boto_errors.ParamValidationError(report="bad")),
    ],
)
def test_transport_failures_are_retried_as_botocore_retries_its_own(
    ours: Exception, theirs: Exception
) -> None:
    model = SESSION.get_service_model("s3").operation_model("GetObject")
    context = RetryContext(1, operation_model=model, caught_exception=theirs)
    expected = StandardRetryConditions(max_attempts=MAX_ATTEMPTS).is_retryable(context)
    assert is_retryable(Outcome("GetObject", transport_error=ours), "s3") == expected


def test_modeled_error_tables_equal_the_service_models() -> None:
    services = {"GetItem": "dynamodb", "PutItem": "dynamodb", "DeleteItem": "dynamodb"}
    services |= {"HeadObject": "s3", "GetObject": "s3"}
    services |= {"SendMessage": "sqs", "ChangeMessageVisibility": "sqs"}
    services |= {"GetSecretValue": "secretsmanager"}
    assert set(MODELED_ERRORS) == set(services)
    retryable: set[str] = set()
    for operation, service in services.items():
        model = SESSION.get_service_model(service).operation_model(operation)
        codes = {s.metadata.get("error", {}).get("code") or s.name for s in model.error_shapes}
        assert MODELED_ERRORS[operation] == codes, operation
        retryable |= {s.name for s in model.error_shapes if s.metadata.get("retryable")}
    assert retryable == MODELED_RETRYABLE


def test_a_refused_connection_is_tried_four_times_with_botocore_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(aws_http.random, "random", lambda: 1.0)
    http = AwsHttp(
        AwsEndpoint("dynamodb", "us-east-1", closed_port_url(), requests.Session()),
        credentials=lambda: AwsCredentials("AKIDEXAMPLE", "secret-canary-value"),
        sleep=sleeps.append,
    )
    with pytest.raises(requests.ConnectionError) as caught:
        http.send("GetItem", "POST", http.endpoint.url + "/", {}, b"{}", parse_error=json_error)
    assert sleeps == [0.025, 0.05, 0.1]  # 3 retries, DynamoDB's 25 ms scale, doubling
    assert "secret-canary-value" not in str(caught.value)


def test_errors_look_like_botocore_client_errors() -> None:
    error = AwsError("PutItem", 400, "ValidationException", "bad key")
    assert error.response["Error"] == {"Code": "ValidationException", "Message": "bad key"}
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert str(error) == (
        "An error occurred (ValidationException) when calling the PutItem operation: bad key"
    )


def test_code_lists_equal_botocore_standard_mode_lists() -> None:
    from botocore.retries import standard

    assert (
        set(standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES) == aws_http.THROTTLING_CODES
    )
    assert (
        set(standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES) == aws_http.TRANSIENT_CODES
    )
    assert (
        set(standard.TransientRetryableChecker._TRANSIENT_STATUS_CODES) == aws_http.TRANSIENT_STATUS
    )
