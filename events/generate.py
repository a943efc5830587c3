# ruff: noqa: T201, S603 - a command-line script that runs the sam CLI
"""Regenerate the event bank in events/ (run from the repository root).

    .venv/bin/python events/generate.py [--out DIR]   # needs .venv-sam (sam local generate-event)

The base shapes come from `sam local generate-event` (HTTP API v2, S3 put, SQS receive-message);
they are then edited to look like what AWS really delivers to this stack (bucket
`wix-relay-inbox`, region us-east-1, header names lower-cased by API Gateway, S3 keys
form-URL-encoded the way S3 notifications encode them). EventBridge "Object Created",
`s3:TestEvent` and the Lambda Function URL request have no SAM generator; their shapes follow the
AWS documentation (S3 user guide "EventBridge event message structure", "Event message
structure"; Lambda "Invoking Lambda function URLs"). Output is deterministic.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parent
SAM = os.environ.get("SAM", str(ROOT.parent / ".venv-sam" / "bin" / "sam"))

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "wix-relay-inbox"
QUEUE = "wix-relay-events"
API_KEY = "${RELAY_DEV_API_KEY}"  # substituted by the reader (string.Template / envsubst)
BEARER = "${RELAY_DEV_JWT}"
JOB_ID = "${RELAY_JOB_ID}"
UPLOAD_ID = "${RELAY_UPLOAD_ID}"
FILE_ID = "${WIX_FILE_ID}"
EVENT_JWT = "${WIX_EVENT_JWT}"  # a Wix event is a JWT sent as text/plain
ORIGIN = "http://127.0.0.1:8000"
TIME = "21/Nov/2026:12:00:00 +0000"
EPOCH_MS = 1795089600000
ISO = "2026-11-21T12:00:00.000Z"

# Object keys as uploaded (decoded). S3 notifications carry them form-URL-encoded: space → "+",
# "+" → "%2B", non-ASCII → UTF-8 percent escapes, "/" left alone (observed S3 behaviour).
AWKWARD_KEYS = [
    "photos/summer 2024/beach day.jpg",
    "photos/c++ tips+tricks.png",
    "photos/café/Ünïcødé 日本語 ✓.jpeg",
    "partners/acme/2026/11/21/deep/er/and/deeper/report (1) [final].pdf",
    "no-extension-file",
    "docs/50% off & more=yes.txt",
]


def s3_encode(key: str) -> str:
    return quote_plus(key, safe="/")


def sam_event(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [SAM, "local", "generate-event", *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
    ).stdout
    event: dict[str, Any] = json.loads(out)
    return event


OUT = ROOT  # main(--out) changes it


def write(relative: str, event: Any) -> None:
    path = OUT / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote", path)


# --- HTTP API (payload format 2.0) ---------------------------------------------------------------


def http_event(
    base: dict[str, Any],
    method: str,
    path: str,
    *,
    route: str,
    headers: dict[str, str],
    body: Any = None,
    path_parameters: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    request_id: str,
) -> dict[str, Any]:
    event = copy.deepcopy(base)
    host = f"a1b2c3d4e5.execute-api.{REGION}.amazonaws.com"
    all_headers = {
        "accept": "application/json",
        "content-length": "0",
        "host": host,
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": "Root=1-673f2a00-0123456789abcdef01234567",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **headers,
    }
    event.update(
        routeKey=route,
        rawPath=path,
        rawQueryString="",
        headers=all_headers,
        isBase64Encoded=False,
    )
    for absent in ("cookies", "queryStringParameters", "stageVariables", "pathParameters"):
        event.pop(absent, None)
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is None:
        event.pop("body", None)
    else:
        plain = isinstance(body, str)
        text = body if plain else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        event["body"] = text
        all_headers["content-type"] = "text/plain" if plain else "application/json"
        all_headers["content-length"] = str(len(text.encode()))
    ctx = event["requestContext"]
    ctx.update(
        accountId=ACCOUNT,
        apiId="a1b2c3d4e5",
        domainName=host,
        domainPrefix="a1b2c3d4e5",
        requestId=request_id,
        routeKey=route,
        stage="$default",
        time=TIME,
        timeEpoch=EPOCH_MS,
    )
    ctx.pop("authentication", None)
    if claims is None:
        ctx.pop("authorizer", None)
    else:
        ctx["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    ctx["http"] = {
        "method": method,
        "path": path,
        "protocol": "HTTP/1.1",
        "sourceIp": "203.0.113.10",
        "userAgent": all_headers["user-agent"],
    }
    return event


def api_events() -> None:
    base = sam_event("apigateway", "http-api-proxy", "--account-id", ACCOUNT)
    key = {"x-api-key": API_KEY}
    upload_body = {
        "mimeType": "image/jpeg",
        "fileName": "summer 2024.jpg",
        "sizeInBytes": "2048000",
    }
    write(
        "api/health.json",
        http_event(
            base, "GET", "/v1/health", route="GET /v1/health", headers={}, request_id="R0-health"
        ),
    )
    write(
        "api/openapi.json",
        http_event(
            base,
            "GET",
            "/v1/openapi.json",
            route="GET /v1/openapi.json",
            headers={},
            request_id="R1-openapi",
        ),
    )
    write(
        "api/upload-url.json",
        http_event(
            base,
            "POST",
            "/v1/upload-url",
            route="POST /v1/upload-url",
            headers=key,
            body=upload_body,
            request_id="R2-upload-url",
        ),
    )
    write(
        "api/upload-url-jwt.json",
        http_event(
            base,
            "POST",
            "/v1/upload-url",
            route="POST /v1/upload-url",
            headers={
                "authorization": f"Bearer {BEARER}",
                "origin": ORIGIN,
                "referer": f"{ORIGIN}/",
                "sec-fetch-mode": "cors",
            },
            body={**upload_body, "private": False, "labels": ["from-browser"]},
            # What API Gateway's JWT authorizer adds when it is switched on (claims as strings).
            claims={
                "sub": "user-0001",
                "iss": "https://issuer.example.com/",
                "aud": "relay-browser-client",
                "exp": "1795093200",
                "iat": "1795089600",
            },
            request_id="R3-upload-url-jwt",
        ),
    )
    write(
        "api/resumable-upload-url.json",
        http_event(
            base,
            "POST",
            "/v1/resumable-upload-url",
            route="POST /v1/resumable-upload-url",
            headers=key,
            body={
                "mimeType": "video/mp4",
                "fileName": "holiday video.mp4",
                "sizeInBytes": 734003200,
            },
            request_id="R4-resumable-upload-url",
        ),
    )
    write(
        "api/imports-post.json",
        http_event(
            base,
            "POST",
            "/v1/imports",
            route="POST /v1/imports",
            headers={**key, "idempotency-key": "3f1c2b9e-6a47-4c1e-9d0b-5b1f7e2a9c11"},
            body={
                "bucket": BUCKET,
                "key": "imports/summer 2024/beach day.jpg",
                "fileName": "beach day.jpg",
                "mode": "auto",
            },
            request_id="R5-imports-post",
        ),
    )
    write(
        "api/imports-get.json",
        http_event(
            base,
            "GET",
            f"/v1/imports/{JOB_ID}",
            route="GET /v1/imports/{id}",
            headers=key,
            path_parameters={"id": JOB_ID},
            request_id="R6-imports-get",
        ),
    )
    readiness = [
        ("uploads-get", "GET", f"/v1/uploads/{UPLOAD_ID}", "/v1/uploads/{uploadId}", None),
        (
            "uploads-file-post",
            "POST",
            f"/v1/uploads/{UPLOAD_ID}/file",
            "/v1/uploads/{uploadId}/file",
            {"fileId": FILE_ID},
        ),
        ("files-get", "GET", f"/v1/files/{FILE_ID}", "/v1/files/{fileId}", None),
    ]
    for n, (name, method, path, route, body) in enumerate(readiness, start=8):
        params = {"fileId": FILE_ID} if "{fileId}" in route else {"uploadId": UPLOAD_ID}
        write(
            f"api/{name}.json",
            http_event(
                base,
                method,
                path,
                route=f"{method} {route}",
                headers=key,
                body=body,
                path_parameters=params,
                request_id=f"R{n}-{name}",
            ),
        )
    write(  # public: Wix signs the body, no caller credential
        "api/wix-events-post.json",
        http_event(
            base,
            "POST",
            "/v1/wix/events",
            route="POST /v1/wix/events",
            headers={"user-agent": "Wix-Webhooks"},
            body=EVENT_JWT,
            request_id="R11-wix-events",
        ),
    )


def function_url_events() -> None:
    """Lambda Function URL: payload 2.0 with sentinel routeKey/stage and no route matching."""
    url_id = "abcdefghijklmnopqrstuvwxyz012345"
    host = f"{url_id}.lambda-url.{REGION}.on.aws"

    def event(method: str, path: str, headers: dict[str, str], body: Any, rid: str) -> Any:
        all_headers = {
            "host": host,
            "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
            "x-amzn-tls-version": "TLSv1.3",
            "x-amzn-tls-cipher-suite": "TLS_AES_128_GCM_SHA256",
            "x-amzn-trace-id": "Root=1-673f2a00-89abcdef0123456789abcdef",
            "x-forwarded-for": "203.0.113.20",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            "origin": ORIGIN,
            "accept": "*/*",
            **headers,
        }
        ev: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": "",
            "headers": all_headers,
            "requestContext": {
                "accountId": "anonymous",
                "apiId": url_id,
                "domainName": host,
                "domainPrefix": url_id,
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "203.0.113.20",
                    "userAgent": all_headers["user-agent"],
                },
                "requestId": rid,
                "routeKey": "$default",
                "stage": "$default",
                "time": TIME,
                "timeEpoch": EPOCH_MS,
            },
            "isBase64Encoded": False,
        }
        if body is not None:
            # Function URLs base64-encode bodies unless the content type is textual; JSON is
            # passed as text, so this mirrors what Lambda delivers for application/json.
            text = json.dumps(body, separators=(",", ":"))
            ev["body"] = text
            all_headers["content-type"] = "application/json"
            all_headers["content-length"] = str(len(text))
        return ev

    write(
        "function-url/upload-url.json",
        event(
            "POST",
            "/v1/upload-url",
            {"x-api-key": API_KEY},
            {"mimeType": "image/png", "fileName": "logo.png", "sizeInBytes": 52311},
            "F0-upload-url",
        ),
    )
    write(
        "function-url/preflight.json",
        event(
            "OPTIONS",
            "/v1/upload-url",
            {
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type,x-api-key",
                "sec-fetch-mode": "cors",
            },
            None,
            "F1-preflight",
        ),
    )


# --- S3 notifications ----------------------------------------------------------------------------


def etag(seed: str, parts: int = 0) -> str:
    digest = hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest()
    return f"{digest}-{parts}" if parts else digest


def s3_record(
    base: dict[str, Any],
    key: str,
    *,
    size: int,
    event_name: str = "ObjectCreated:Put",
    parts: int = 0,
    version_id: str | None = None,
    sequence: int = 1,
) -> dict[str, Any]:
    record = copy.deepcopy(base["Records"][0])
    record.update(
        eventVersion="2.1",
        awsRegion=REGION,
        eventTime=ISO,
        eventName=event_name,
        userIdentity={"principalId": "AWS:AIDAEXAMPLEUPLOADER1"},
        requestParameters={"sourceIPAddress": "203.0.113.30"},
        responseElements={
            "x-amz-request-id": f"EXAMPLE{sequence:09d}",
            "x-amz-id-2": "EXAMPLEabc123/5678abcdefghijklmnopqrstuvwxyzABCDEFGH0123456789=",
        },
    )
    s3 = record["s3"]
    s3["configurationId"] = "wix-relay-inbox-object-created"
    s3["bucket"] = {
        "name": BUCKET,
        "ownerIdentity": {"principalId": "A3EXAMPLEOWNER"},
        "arn": f"arn:aws:s3:::{BUCKET}",
    }
    obj: dict[str, Any] = {"key": s3_encode(key), "size": size, "eTag": etag(key, parts)}
    if version_id:
        obj["versionId"] = version_id
    obj["sequencer"] = f"00673F2A00{sequence:08X}"
    s3["object"] = obj
    return record


def s3_events() -> dict[str, dict[str, Any]]:
    base = sam_event("s3", "put", "--bucket", BUCKET, "--key", "x", "--region", REGION)
    put = {"Records": [s3_record(base, "uploads/photo.jpg", size=48213)]}
    awkward = {
        "Records": [
            s3_record(
                base, key, size=1024 * (i + 1), version_id=f"v{i}Example.Version_Id", sequence=i
            )
            for i, key in enumerate(AWKWARD_KEYS, start=10)
        ]
    }
    multipart = {
        "Records": [
            s3_record(
                base,
                "videos/2026/big upload.mp4",
                size=734003200,
                event_name="ObjectCreated:CompleteMultipartUpload",
                parts=88,
                version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
                sequence=99,
            )
        ]
    }
    write("s3/put.json", put)
    write("s3/put-awkward-keys.json", awkward)
    write("s3/put-multipart.json", multipart)
    write(
        "s3/awkward-keys.expected.json",
        [{"encoded": s3_encode(key), "decoded": key} for key in AWKWARD_KEYS],
    )
    return {"put": put, "awkward": awkward, "multipart": multipart}


# --- SQS -----------------------------------------------------------------------------------------


def sqs_record(base: dict[str, Any], body: Any, n: int, sender: str) -> dict[str, Any]:
    record = copy.deepcopy(base["Records"][0])
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    record.update(
        messageId=f"c0ffee00-0000-4000-8000-{n:012d}",
        receiptHandle=base64.b64encode(f"receipt-handle-{n}".encode()).decode(),
        body=text,
        md5OfBody=hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(),
        eventSourceARN=f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}",
        awsRegion=REGION,
    )
    record["attributes"] = {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": str(EPOCH_MS + n),
        "SenderId": sender,
        "ApproximateFirstReceiveTimestamp": str(EPOCH_MS + n + 5),
    }
    return record


S3_SENDER = "AIDAJHIPRHEMV73VRJEBU"  # the id S3 uses when it sends notifications to SQS
API_SENDER = "AROAEXAMPLEAPIROLE:wix-media-relay-ApiFunction"


def sqs_events(s3: dict[str, dict[str, Any]]) -> None:
    base = sam_event("sqs", "receive-message", "--account-id", ACCOUNT, "--queue-name", QUEUE)
    test_event = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": ISO,
        "Bucket": BUCKET,
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }
    one_each = [{"Records": [record]} for record in s3["awkward"]["Records"]]
    write("sqs/s3-put.json", {"Records": [sqs_record(base, s3["put"], 1, S3_SENDER)]})
    write(
        "sqs/s3-batch.json",
        {
            "Records": [
                sqs_record(base, body, n, S3_SENDER)
                for n, body in enumerate([*one_each, s3["multipart"]], start=2)
            ]
        },
    )
    write("sqs/s3-test-event.json", {"Records": [sqs_record(base, test_event, 20, S3_SENDER)]})
    write(
        "sqs/partner-import.json",
        {"Records": [sqs_record(base, {"jobId": JOB_ID}, 21, API_SENDER)]},
    )
    write(
        "sqs/mixed-batch.json",
        {
            "Records": [
                sqs_record(base, s3["put"], 30, S3_SENDER),
                sqs_record(base, {"jobId": JOB_ID}, 31, API_SENDER),
                sqs_record(base, test_event, 32, S3_SENDER),
                sqs_record(base, "this is not JSON", 33, API_SENDER),
            ]
        },
    )


# --- EventBridge ---------------------------------------------------------------------------------


def eventbridge_events() -> None:
    def event(key: str, size: int, reason: str, n: int, parts: int = 0) -> dict[str, Any]:
        return {
            "version": "0",
            "id": f"17793124-05d4-b198-2fde-7ededc63b1{n:02d}",
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": ACCOUNT,
            "time": "2026-11-21T12:00:00Z",
            "region": REGION,
            "resources": [f"arn:aws:s3:::{BUCKET}"],
            "detail": {
                "version": "0",
                "bucket": {"name": BUCKET},
                "object": {
                    # [guess] EventBridge carries the key as stored (not form-URL-encoded like
                    # S3 notifications); the AWS examples only use plain keys.
                    "key": key,
                    "size": size,
                    "etag": etag(key, parts),
                    "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
                    "sequencer": f"617f08299329d1{n:02x}",
                },
                "request-id": "N4N7GDK58NMKJ12R",
                "requester": ACCOUNT,
                "source-ip-address": "203.0.113.30",
                "reason": reason,
            },
        }

    write(
        "eventbridge/object-created.json",
        event("photos/summer 2024/beach day.jpg", 48213, "PutObject", 1),
    )
    write(
        "eventbridge/object-created-multipart.json",
        event("videos/2026/big upload.mp4", 734003200, "CompleteMultipartUpload", 2, parts=88),
    )


def main(argv: list[str] | None = None) -> int:
    global OUT  # noqa: PLW0603 - a script's output directory
    parser = argparse.ArgumentParser(description="Regenerate the event bank.")
    parser.add_argument("--out", type=Path, default=ROOT, help="directory (default: events/)")
    OUT = parser.parse_args(argv).out
    if not Path(SAM).exists():
        print(f"sam not found at {SAM}; run `make .venv-sam/.installed` first", file=sys.stderr)
        return 1
    api_events()
    function_url_events()
    s3 = s3_events()
    sqs_events(s3)
    eventbridge_events()
    return 0


if __name__ == "__main__":
    sys.exit(main())
