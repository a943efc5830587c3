"""The local gateway over real HTTP: the event it builds has API Gateway's payload v2 shape, and
the handler's response comes back as API Gateway would write it."""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from local_stack.gateway import LocalGateway

from tests.e2e.local_stack.local_stack_shapes import drop, sam_event, shape

# Keys SAM's sample has that API Gateway only sends in some set-ups; our $default route has none:
# mTLS client certificate, an authorizer, path parameters of a parametrised route, stage vars.
ABSENT_IN_DEFAULT_ROUTE = (
    "requestContext.authentication",
    "requestContext.authorizer",
    "pathParameters",
    "stageVariables",
)
FREE_MAPS = frozenset({"headers", "queryStringParameters"})


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.reply: Any = {"statusCode": 204}

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def gateway(recorder: Recorder) -> Iterator[LocalGateway]:
    gw = LocalGateway(recorder, function_name="relay-api", access_log=False).start()
    try:
        yield gw
    finally:
        gw.stop()


def send(gw: LocalGateway, method: str, target: str, headers: list[tuple[str, str]], body: bytes):
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    conn.putrequest(method, target)
    for name, value in headers:
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def test_event_has_the_shape_sam_generates(gateway: LocalGateway, recorder: Recorder) -> None:
    body = bytes(range(256))  # not UTF-8 → base64, as API Gateway does for binary media
    send(
        gateway,
        "POST",
        "/v1/upload-url?parameter1=value1&parameter1=value2&parameter2=value",
        [
            ("Content-Type", "image/png"),
            ("X-Multi", "a"),
            ("X-Multi", "b"),
            ("Cookie", "cookie1=1; cookie2=2"),
            ("User-Agent", "agent"),
        ],
        body,
    )
    (event,) = recorder.events
    reference = sam_event("sam-apigateway-http-api-proxy.json", "apigateway", "http-api-proxy")
    for key in ABSENT_IN_DEFAULT_ROUTE:
        drop(reference, key)  # KeyError here means SAM's sample changed: revisit the list
    assert shape(event, FREE_MAPS) == shape(reference, FREE_MAPS)

    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/v1/upload-url"
    assert event["rawQueryString"] == "parameter1=value1&parameter1=value2&parameter2=value"
    assert event["queryStringParameters"] == {"parameter1": "value1,value2", "parameter2": "value"}
    assert event["cookies"] == ["cookie1=1", "cookie2=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "a,b"
    assert all(name == name.lower() for name in event["headers"])
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["http"]["userAgent"] == "agent"
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_text_body_is_passed_as_is_and_absent_parts_are_left_out(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    requests.post(f"{gateway.url}/v1/health", json={"é": 1}, timeout=10)
    requests.get(f"{gateway.url}/v1/health", timeout=10)
    posted, got = recorder.events
    assert posted["isBase64Encoded"] is False
    assert json.loads(posted["body"]) == {"é": 1}
    assert "body" not in got
    assert "cookies" not in got
    assert "queryStringParameters" not in got
    assert got["rawQueryString"] == ""


def test_context_is_lambda_like(gateway: LocalGateway, recorder: Recorder) -> None:
    requests.get(f"{gateway.url}/v1/health", timeout=10)
    requests.get(f"{gateway.url}/v1/health", timeout=10)
    first, second = recorder.contexts
    assert first.function_name == "relay-api"
    assert first.invoked_function_arn.endswith(":function:relay-api")
    assert first.memory_limit_in_mb > 0
    assert 0 < first.get_remaining_time_in_millis() <= 30_000
    assert first.aws_request_id != second.aws_request_id


def test_response_is_written_back(gateway: LocalGateway, recorder: Recorder) -> None:
    recorder.reply = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/octet-stream", "X-Thing": "1"},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": base64.b64encode(b"\x00\xffbinary").decode(),
        "isBase64Encoded": True,
    }
    response, data = send(gateway, "GET", "/x", [], b"")
    assert response.status == 201
    assert response.getheader("X-Thing") == "1"
    assert response.msg.get_all("Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert (
        response.getheader("apigw-requestid") == recorder.events[0]["requestContext"]["requestId"]
    )
    assert data == b"\x00\xffbinary"


def test_plain_return_value_becomes_json_200(gateway: LocalGateway, recorder: Recorder) -> None:
    recorder.reply = {"status": "ok"}
    response = requests.get(f"{gateway.url}/x", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_function_error_is_a_500_like_api_gateway(
    gateway: LocalGateway, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder.reply = RuntimeError("boom")
    response = requests.get(f"{gateway.url}/x", timeout=10)
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_oversized_payload_is_refused_before_the_function_runs(
    gateway: LocalGateway, recorder: Recorder
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    conn.putrequest("POST", "/v1/upload-url")
    conn.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413
    conn.close()
    assert recorder.events == []
