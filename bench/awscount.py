"""A counting forwarder in front of moto: the AWS requests a relay process makes, counted at the
HTTP level (so the count holds whether boto3 or signed `requests` calls make them).

A child given `AWS_ENDPOINT_URL=<forwarder>` sends every AWS call through it; each request is
forwarded to moto unchanged (streamed, bounded memory) and logged with its service and
operation, read from what every SigV4 request carries: the credential scope
(`Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request`, or
`X-Amz-Credential` in a presigned URL; a SigV2 presigned URL is S3's), `X-Amz-Target` for the
JSON protocols (DynamoDB, SQS, Secrets Manager), `Action=` for the query protocol, and the
method for S3 (HEAD / GET / PUT ...).
A presigned request (Wix pulling an object in import mode) is logged as such.

`GET /_aws-count` (not a valid S3 bucket name) answers the log: `{"requests": [{seq, service,
operation, method, presigned, status}, ...]}`.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections import Counter
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOG_PATH = "/_aws-count"
BLOCK = 64 * 1024
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(r"^[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request$")
DYNAMODB_WRITES = {
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
}


def classify(method: str, target: str, headers: Any, body: bytes) -> dict[str, Any]:
    """Service and operation of one AWS request."""
    split = urlsplit(target)
    query = parse_qs(split.query)
    service, presigned = "", False
    match = _SCOPE.search(headers.get("Authorization") or "")
    if match:
        service = match.group(1)
    elif "X-Amz-Credential" in query:
        presigned = True
        scope = _QUERY_SCOPE.match(query["X-Amz-Credential"][0])
        service = scope.group(1) if scope else ""
    elif "AWSAccessKeyId" in query and "Signature" in query:  # a SigV2 presigned S3 URL
        presigned, service = True, "s3"
    amz_target = headers.get("X-Amz-Target") or ""
    if amz_target:
        operation = amz_target.rsplit(".", 1)[-1]
    elif service == "s3":
        operation = f"{method} {'bucket' if split.path.count('/') < 2 else 'object'}"
    else:
        action = query.get("Action") or parse_qs(body.decode("latin-1")).get("Action")
        operation = action[0] if action else method
    return {"service": service, "operation": operation, "method": method, "presigned": presigned}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CountingForwarder

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _upstream(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self, "_conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.server.upstream_host, timeout=300)
            self._conn = conn
        return conn

    def _body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve_log(self) -> None:
        payload = json.dumps({"requests": self.server.snapshot()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _forward(self) -> None:
        if self.path.startswith(LOG_PATH):
            self._serve_log()
            return
        body = self._body()  # AWS API bodies are small; object PUTs go to moto directly
        entry = classify(self.command, self.path, self.headers, body)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("PUT", "POST"):
            headers["Content-Length"] = str(len(body))
        conn = self._upstream()
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException):
            conn.close()  # one retry on a fresh connection (moto closed a kept-alive one)
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
        self.server.record({**entry, "status": response.status})
        self.send_response(response.status)
        length = response.getheader("Content-Length")
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() not in ("content-length", "date"):
                self.send_header(name, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", length or "0")
            self.end_headers()
            response.read()
            return
        if length is None:  # unknown length: close after the body
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", length)
        self.end_headers()
        while chunk := response.read(BLOCK):
            self.wfile.write(chunk)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _forward


class CountingForwarder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream_url: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream_host = urlsplit(upstream_url).netloc
        self._lock = threading.Lock()
        self._log: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self.serve_forever, name="aws-count", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._log.append({"seq": len(self._log), **entry})

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def __enter__(self) -> CountingForwarder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def tally(entries: Iterable[dict[str, Any]]) -> Counter[str]:
    """`service operation` -> count (presigned requests as `s3 presigned GET object`)."""
    out: Counter[str] = Counter()
    for entry in entries:
        prefix = "presigned " if entry.get("presigned") else ""
        out[f"{entry['service']} {prefix}{entry['operation']}"] += 1
    return out
