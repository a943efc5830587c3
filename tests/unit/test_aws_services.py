"""The boto3-free clients' requests against botocore's own: the JSON bodies and headers its
serializer writes, the signatures its signers compute on what goes on the wire, and DynamoDB's
attribute values as boto3's TypeSerializer/TypeDeserializer write and read them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import botocore.session
import pytest
import requests
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from wix_relay.integrations.aws_services import deserialize_item, serialize_item

SESSION = botocore.session.get_session()


ITEMS: list[dict[str, Any]] = [
    {"id": "imp-1", "attempts": 0, "status": "queued", "createdAt": 1764590400},
    {"nested": {"a": [1, "two", True, None, {"b": -3}], "empty": {}, "list": []}, "flag": False},
    {"big": 10**30, "neg": -1, "dec": Decimal("1.50"), "unicode": "ü😀", "blank": ""},
    {"skipped": None, "kept": "x"},
]


@pytest.mark.parametrize("item", ITEMS)
def test_item_serializer_equals_boto3_type_serializer(item: dict[str, Any]) -> None:
    serializer, deserializer = TypeSerializer(), TypeDeserializer()
    expected = {k: serializer.serialize(v) for k, v in item.items() if v is not None}
    assert serialize_item(item) == expected

    def plain(value: Any) -> Any:  # what the stores want back: int (float if not integral)
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    assert deserialize_item(expected) == {
        k: plain(deserializer.deserialize(v)) for k, v in expected.items()
    }


def test_floats_are_refused_as_boto3_refuses_them() -> None:
    with pytest.raises(TypeError):
        TypeSerializer().serialize(1.5)
    with pytest.raises(TypeError):
        serialize_item({"x": 1.5})


class _Recorder(requests.Session):
    """A session that answers every request with 200 `{}` and keeps what was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        response = requests.Response()
        response.status_code, response._content = 200, b"{}"
        return response


@pytest.mark.parametrize(
    ("service", "method", "operation", "params"),
    [
        (
            "dynamodb",
            "put_item",
            "PutItem",
            {
                "TableName": "t",
                "Item": {"id": {"S": "ü"}, "n": {"N": "1"}, "m": {"M": {"x": {"NULL": True}}}},
                "ConditionExpression": "attribute_not_exists(id) OR #s = :s",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":s": {"S": "queued"}},
            },
        ),
        ("dynamodb", "get_item", "GetItem", {"TableName": "t", "Key": {"id": {"S": "k"}}}),
        ("dynamodb", "delete_item", "DeleteItem", {"TableName": "t", "Key": {"id": {"S": "k"}}}),
        (
            "sqs",
            "send_message",
            "SendMessage",
            {
                "QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
                "MessageBody": '{"jobId": "x"}',
                "DelaySeconds": 5,
                "MessageAttributes": {"a": {"DataType": "String", "StringValue": "2"}},
            },
        ),
        (
            "sqs",
            "change_message_visibility",
            "ChangeMessageVisibility",
            {"QueueUrl": "https://q", "ReceiptHandle": "r+/=", "VisibilityTimeout": 0},
        ),
        ("secretsmanager", "get_secret_value", "GetSecretValue", {"SecretId": "relay/wix"}),
    ],
)
def test_json_requests_are_what_botocore_serializes(
    service: str,
    method: str,
    operation: str,
    params: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The boto3 parameters are the JSON body as they are; target, content type and headers as
    botocore's serializer writes them."""
    from botocore.serialize import create_serializer

    from wix_relay.integrations.aws_services import http_client

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    session = _Recorder()
    client = http_client(service, region="us-east-1", endpoint_url=None, session=session)
    getattr(client, method)(**params)
    (sent,) = session.sent
    model = SESSION.get_service_model(service).operation_model(operation)
    expected = create_serializer("json").serialize_to_request(params, model)
    assert sent.url == f"https://{service}.us-east-1.amazonaws.com/"
    assert json.loads(sent.body or b"") == json.loads(expected["body"])
    for name, value in expected["headers"].items():
        assert sent.headers[name] == value


WIRE_CALLS = [
    ("dynamodb", "put_item", {"TableName": "t", "Item": {"id": {"S": "ü"}}}),
    ("sqs", "send_message", {"QueueUrl": "https://q", "MessageBody": "b", "DelaySeconds": 1}),
    (
        "sqs",
        "change_message_visibility",
        {"QueueUrl": "q", "ReceiptHandle": "r", "VisibilityTimeout": 0},
    ),
    ("secretsmanager", "get_secret_value", {"SecretId": "relay/ü wix"}),
    ("s3", "head_object", {"Bucket": "inbox", "Key": "a b/ü+%.jpg", "VersionId": "v/1"}),
    ("s3", "get_object", {"Bucket": "in.box", "Key": "k", "Range": "bytes=5-", "IfMatch": '"e"'}),
]


@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:5000"])
@pytest.mark.parametrize(("service", "method", "params"), WIRE_CALLS)
def test_requests_on_the_wire_carry_botocore_signatures(
    service: str,
    method: str,
    params: dict[str, Any],
    endpoint: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the clients really send (URL, body, the headers they signed) signed again by
    botocore's `SigV4Auth` / `S3SigV4Auth` at the same moment: the same Authorization."""
    from datetime import UTC, datetime
    from unittest import mock

    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from wix_relay.integrations.aws_services import http_client

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token/+=")
    moment = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    session = _Recorder()
    client = http_client(service, region="eu-west-1", endpoint_url=endpoint, session=session)
    with mock.patch("wix_relay.integrations.aws_http.datetime") as clock:
        clock.now.return_value = moment
        getattr(client, method)(**params)
    (sent,) = session.sent
    ours = sent.headers["Authorization"]
    names = ours.split("SignedHeaders=")[1].split(",")[0].split(";")
    headers = {k: v for k, v in sent.headers.items() if k.lower() in names and k.lower() != "host"}
    reference = AWSRequest(method=sent.method, url=sent.url, data=sent.body or b"", headers=headers)
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", "token/+=")
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment.replace(tzinfo=None)):
        signer(credentials, service, "eu-west-1").add_auth(reference)
    assert ours == reference.headers["Authorization"]
