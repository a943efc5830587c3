"""AWS calls over the shared `requests` session, signed with SigV4, retried as botocore does.

Why not boto3 here: `import boto3` and building a client cost ~0.15 s + ~0.07 s per service of
cold start (docs/benchmarks.md, cold start), more than the rest of a first request. The API reads
its secrets (Secrets Manager) and writes DynamoDB, the worker reads S3 and writes DynamoDB and
SQS through this module (`integrations/aws_services.py` holds the four small clients) when the
environment has credentials, as on Lambda (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN); elsewhere `aws_clients.aws_client` builds boto3 clients, which know every
credential source.

- Signing is the documented AWS Signature Version 4 algorithm, headers or query string (S3's
  presigned URLs); tests/unit/test_aws_http*.py check it against botocore's own `SigV4Auth`,
  `S3SigV4Auth` and `S3SigV4QueryAuth` byte for byte.
- Retries are botocore's "standard" mode (the boto3 clients' `retries={"mode": "standard",
  "max_attempts": 4}`): the same retryable conditions, backoff and retry quota as
  `botocore.retries.standard`, checked against those classes on a table of responses.
- Failures raise `AwsError`, shaped like botocore's `ClientError` (`.response["Error"]["Code"]`,
  `["ResponseMetadata"]["HTTPStatusCode"]`), so callers map both the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from wix_relay.config import AWS_TIMEOUTS_S

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:  # never print the secret part
        return f"AwsCredentials(access_key_id={self.access_key_id[:4]}…)"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> AwsCredentials | None:
        """The access-key variables (Lambda without SnapStart), else the container credentials
        endpoint (Lambda with SnapStart, ECS), else None (then boto3 finds the credentials)."""
        env = os.environ if environ is None else environ
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if key and secret:
            return cls(key, secret, env.get("AWS_SESSION_TOKEN") or None)
        return _CONTAINER.get(env) if container_credentials_uri(env) else None

    @staticmethod
    def available(environ: Mapping[str, str] | None = None) -> bool:
        """Whether `from_environment` has a source, without fetching anything."""
        env = os.environ if environ is None else environ
        keys = env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY")
        return bool(keys or container_credentials_uri(env))


# --- the container credentials endpoint (as botocore's ContainerProvider reads it) ----------
ECS_CREDENTIALS_HOST = "http://169.254.170.2"
REFRESH_BEFORE_S = 15 * 60  # botocore's advisory refresh: 15 minutes before expiry


def container_credentials_uri(env: Mapping[str, str]) -> str | None:
    if env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        return ECS_CREDENTIALS_HOST + env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
    return env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI") or None


class ContainerCredentials:
    """Credentials from `AWS_CONTAINER_CREDENTIALS_FULL_URI` (Lambda SnapStart provides its
    credentials only this way) with `AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`, kept until 15
    minutes before their `Expiration`, then fetched again; a failed fetch is an AwsError.
    Checked against botocore's ContainerProvider (tests/unit/test_aws_http_container.py).
    `forget()` drops them (a SnapStart restore)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[str, AwsCredentials, float] | None = None

    def forget(self) -> None:
        with self._lock:
            self._cached = None

    def get(self, env: Mapping[str, str]) -> AwsCredentials:
        uri = container_credentials_uri(env) or ""
        with self._lock:
            cached = self._cached
            if cached is not None and cached[0] == uri and self._clock() < cached[2]:
                return cached[1]
            creds, expires = self._fetch(uri, env)
            self._cached = (uri, creds, expires - REFRESH_BEFORE_S)
            return creds

    @staticmethod
    def _fetch(uri: str, env: Mapping[str, str]) -> tuple[AwsCredentials, float]:
        headers = {"Accept": "application/json"}
        token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
        if env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
            with open(env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], encoding="utf-8") as file:
                token = file.read().strip()
        if token:
            headers["Authorization"] = token
        last: Exception | None = None
        for _ in range(3):  # botocore: 3 attempts, 2 s timeout each
            try:
                response = requests.get(uri, headers=headers, timeout=2)
                if response.status_code == 200:
                    doc = response.json()
                    creds = AwsCredentials(
                        doc["AccessKeyId"], doc["SecretAccessKey"], doc.get("Token") or None
                    )
                    expiration = doc.get("Expiration")
                    expires = (
                        datetime.fromisoformat(expiration).timestamp()
                        if isinstance(expiration, str)
                        else time.time() + 3600
                    )
                    return creds, expires
                last = AwsError(
                    "Credentials", response.status_code, "CredentialsUnavailable", "refused"
                )
            except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                last = exc
        raise AwsError(
            "Credentials",
            0,
            "CredentialsUnavailable",
            f"the container credentials endpoint failed ({type(last).__name__})",
        )


_CONTAINER = ContainerCredentials()


def forget_credentials() -> None:
    """Drop cached container credentials (after a SnapStart restore)."""
    _CONTAINER.forget()


# --- SigV4 ------------------------------------------------------------------------------------
def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    """As botocore does: the (already encoded) pairs, sorted by key, then value."""
    pairs = [pair.partition("=") for pair in query.split("&") if pair]
    return "&".join(f"{k}={v}" for k, _, v in sorted(pairs, key=lambda p: (p[0], p[2])))


def _canonical_path(path: str, service: str) -> str:
    """S3 signs the path as sent; every other service its dot-segment-free path encoded again."""
    if service == "s3":
        return path or "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    normal = "/" + "/".join(segments) + ("/" if path.endswith("/") and segments else "")
    return quote(normal, safe="/~")


def _signature(
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload_hash: str,
    *,
    service: str,
    region: str,
    secret: str,
    moment: str,
) -> tuple[str, str]:
    """(signed header names, signature) of the request; `headers` are the ones to sign."""
    parts = urlsplit(url)
    signed = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    names = sorted(signed)
    canonical = "\n".join(
        [
            method.upper(),
            _canonical_path(parts.path, service),
            _canonical_query(parts.query),
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload_hash,
        ]
    )
    scope = _scope(moment, region, service)
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", moment, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(("AWS4" + secret).encode(), moment[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return ";".join(names), hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _timestamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def _scope(moment: str, region: str, service: str) -> str:
    return f"{moment[:8]}/{region}/{service}/aws4_request"


def sign_v4(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    service: str,
    region: str,
    credentials: AwsCredentials,
    now: datetime | None = None,
) -> dict[str, str]:
    """Return `headers` plus Host, X-Amz-Date, X-Amz-Security-Token, (S3) X-Amz-Content-SHA256
    and Authorization. Every given header is signed; `url` is percent-encoded, as on the wire."""
    moment = _timestamp(now)
    out = dict(headers)
    out["Host"] = urlsplit(url).netloc
    out["X-Amz-Date"] = moment
    if credentials.session_token:
        out["X-Amz-Security-Token"] = credentials.session_token
    payload_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    if service == "s3":
        out["X-Amz-Content-SHA256"] = payload_hash
    names, signature = _signature(
        method,
        url,
        out,
        payload_hash,
        service=service,
        region=region,
        secret=credentials.secret_access_key,
        moment=moment,
    )
    scope = _scope(moment, region, service)
    out["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    return out


def presign_v4(
    url: str,
    *,
    service: str,
    region: str,
    credentials: AwsCredentials,
    expires_s: int,
    now: datetime | None = None,
) -> str:
    """A GET URL signed in its query string (S3's presigned URL): `url` plus the X-Amz-* auth
    parameters, after the operation's own, as botocore's `S3SigV4QueryAuth` writes them."""
    moment = _timestamp(now)
    scope = _scope(moment, region, service)
    auth = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{credentials.access_key_id}/{scope}",
        "X-Amz-Date": moment,
        "X-Amz-Expires": str(expires_s),
        "X-Amz-SignedHeaders": "host",
    }
    if credentials.session_token:
        auth["X-Amz-Security-Token"] = credentials.session_token
    query = "&".join(f"{k}={quote(v, safe='-_.~')}" for k, v in auth.items())
    unsigned = f"{url}&{query}" if urlsplit(url).query else f"{url}?{query}"
    _, signature = _signature(
        "GET",
        unsigned,
        {"host": urlsplit(url).netloc},
        UNSIGNED_PAYLOAD,
        service=service,
        region=region,
        secret=credentials.secret_access_key,
        moment=moment,
    )
    return f"{unsigned}&X-Amz-Signature={signature}"


# --- errors -----------------------------------------------------------------------------------
class AwsError(Exception):
    """AWS answered with an error: `.response` is shaped like botocore `ClientError`'s."""

    def __init__(self, operation: str, status: int, code: str, message: str = "") -> None:
        super().__init__(
            f"An error occurred ({code}) when calling the {operation} operation: {message}"
        )
        self.operation_name = operation
        self.response: dict[str, Any] = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    @property
    def code(self) -> str:
        return str(self.response["Error"]["Code"])


def json_error(status: int, headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
    """(code, message) of a JSON-protocol error answer, as botocore's JSON parser finds them."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        payload = {"message": body.decode("utf-8", "replace")}
    if not isinstance(payload, dict):
        payload = {}
    code = str(payload.get("__type") or status).split(":", 1)[0].rsplit("#", 1)[-1]
    query_error = headers.get("x-amzn-query-error", "").split(";")
    if len(query_error) == 2 and query_error[0]:  # SQS, once a query-protocol service
        code = query_error[0]
    return code, str(payload.get("message", payload.get("Message", "")))


def xml_error(status: int, headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
    """(code, message) of an S3 error answer: `<Error><Code>`, else (a HEAD) the status."""
    if body:
        from xml.etree import ElementTree

        try:
            root = ElementTree.fromstring(body)  # noqa: S314 - AWS's own small answer
        except ElementTree.ParseError:
            root = None
        if root is not None:
            error = root if root.tag == "Error" else root.find("Error")
            if error is not None and error.findtext("Code"):
                return str(error.findtext("Code")), error.findtext("Message") or ""
    from http.client import responses

    return str(status), responses.get(status, "")


ErrorParser = Callable[[int, Mapping[str, str], bytes], tuple[str, str]]


# --- botocore's standard retry mode ------------------------------------------------------------
def _codes(names: str) -> frozenset[str]:
    return frozenset(names.split())


MAX_ATTEMPTS = 4
"""The boto3 clients' `retries={"mode": "standard", "max_attempts": 4}` (aws_clients.py)."""
TRANSIENT_CODES = _codes("RequestTimeout RequestTimeoutException PriorRequestNotComplete")
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
THROTTLING_CODES = _codes(
    "Throttling ThrottlingException ThrottledException RequestThrottledException "
    "TooManyRequestsException ProvisionedThroughputExceededException "
    "TransactionInProgressException RequestLimitExceeded BandwidthLimitExceeded "
    "LimitExceededException RequestThrottled SlowDown PriorRequestNotComplete "
    "EC2ThrottledException"
)
TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
"""What botocore's `ConnectionError`/`HTTPClientError` are in `requests`' terms."""

MODELED_ERRORS: dict[str, frozenset[str]] = {
    # The error codes each operation's model lists (a 429 carrying one of them is not throttling
    # by status alone), and the ones the model marks retryable; tests check both against
    # botocore's service models.
    "GetItem": _codes(
        "InternalServerError ProvisionedThroughputExceededException RequestLimitExceeded "
        "ResourceNotFoundException ThrottlingException"
    ),
    "PutItem": _codes(
        "ConditionalCheckFailedException InternalServerError "
        "ItemCollectionSizeLimitExceededException ProvisionedThroughputExceededException "
        "ReplicatedWriteConflictException RequestLimitExceeded ResourceNotFoundException "
        "ThrottlingException TransactionConflictException"
    ),
    "HeadObject": _codes("NoSuchKey"),
    "GetObject": _codes("InvalidObjectState NoSuchKey"),
    "SendMessage": _codes(
        "InvalidAddress InvalidMessageContents InvalidSecurity KmsAccessDenied KmsDisabled "
        "KmsInvalidKeyUsage KmsInvalidState KmsNotFound KmsOptInRequired KmsThrottled "
        "QueueDoesNotExist RequestThrottled UnsupportedOperation"
    ),
    "ChangeMessageVisibility": _codes(
        "InvalidAddress InvalidSecurity MessageNotInflight QueueDoesNotExist "
        "ReceiptHandleIsInvalid RequestThrottled UnsupportedOperation"
    ),
    "GetSecretValue": _codes(
        "DecryptionFailure InternalServiceError InvalidParameterException "
        "InvalidRequestException ResourceNotFoundException"
    ),
}
MODELED_ERRORS["DeleteItem"] = MODELED_ERRORS["PutItem"]
MODELED_RETRYABLE = frozenset({"ReplicatedWriteConflictException"})  # transient, not throttling


@dataclass(frozen=True)
class Outcome:
    """One attempt's result, as the retry rules see it."""

    operation: str
    status: int | None = None  # None: no answer (the transport failed)
    code: str | None = None  # the parsed error code, None on success
    headers: Mapping[str, str] | None = None
    body: bytes = b""
    transport_error: BaseException | None = None
    message: str = ""


def is_throttling(outcome: Outcome) -> bool:
    """botocore's `ThrottlingErrorDetector`."""
    if outcome.code in THROTTLING_CODES:
        return True
    modeled = MODELED_ERRORS.get(outcome.operation, frozenset())
    if outcome.code in MODELED_RETRYABLE and outcome.code in modeled:
        return False
    return outcome.status == 429 and outcome.code not in modeled


def is_retryable(outcome: Outcome, service: str) -> bool:
    """botocore's `StandardRetryConditions` (but the attempt count): transient, throttled, a
    throttling status, a modeled retryable error, DynamoDB's CRC32 mismatch."""
    if outcome.transport_error is not None:
        return isinstance(outcome.transport_error, TRANSPORT_ERRORS)
    if outcome.code in TRANSIENT_CODES or outcome.status in TRANSIENT_STATUS:
        return True
    if is_throttling(outcome):
        return True
    if outcome.code in MODELED_RETRYABLE and outcome.code in MODELED_ERRORS.get(
        outcome.operation, frozenset()
    ):
        return True
    if service == "dynamodb" and outcome.headers is not None:
        checksum = outcome.headers.get("x-amz-crc32")
        if checksum is not None and zlib.crc32(outcome.body) & 0xFFFFFFFF != int(checksum):
            return True
    return False


def retry_delay(
    outcome: Outcome, attempt: int, service: str, rand: Callable[[], float] | None = None
) -> float:
    """botocore's `ExponentialBackoff`: rand * min(scale * 2 ** (attempt - 1), 20) s, scale 1 s
    for throttling, else 50 ms (25 ms for DynamoDB); raised to `x-amz-retry-after` (ms), at
    most 5 s more. `attempt` is the failed attempt's number (1-based)."""
    scale = 1.0 if is_throttling(outcome) else 0.025 if service == "dynamodb" else 0.05
    delay = (rand or random.random)() * min(scale * 2.0 ** (attempt - 1), 20.0)
    retry_after = outcome.headers.get("x-amz-retry-after") if outcome.headers else None
    if retry_after is not None:
        try:
            value = int(retry_after) / 1000.0
        except ValueError:
            return delay
        if value >= 0:
            return max(delay, min(value, delay + 5))
    return delay


class RetryQuota:
    """botocore's retry quota: 500 tokens; a retry costs 14 (5 after a throttle); a success
    gives back what its retry took (1 when it needed none)."""

    def __init__(self, capacity: int = 500) -> None:
        self._max = self._available = capacity
        self._lock = threading.Lock()

    def acquire(self, throttling: bool) -> int | None:
        cost = 5 if throttling else 14
        with self._lock:
            if cost > self._available:
                return None
            self._available -= cost
            return cost

    def release(self, amount: int) -> None:
        with self._lock:
            self._available = min(self._max, self._available + amount)


@dataclass(frozen=True)
class AwsEndpoint:
    """Where and how one service is called: its URL, the region, the shared session."""

    service: str
    region: str
    url: str  # scheme://host[:port], no trailing slash
    session: requests.Session
    timeout: tuple[float, float] = AWS_TIMEOUTS_S


class AwsHttp:
    """Signed requests to one AWS service with botocore's standard retries (one retry quota
    per client, as botocore has). Credentials are looked up for every request: the access-key
    variables are read again, container credentials come from their cache until 15 minutes
    before they expire (a SnapStart restore forgets them, `wix_relay.snapstart.renew`)."""

    def __init__(
        self,
        endpoint: AwsEndpoint,
        *,
        credentials: Callable[[], AwsCredentials | None] = AwsCredentials.from_environment,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self._credentials = credentials
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._quota = RetryQuota()

    def credentials(self) -> AwsCredentials:
        creds = self._credentials()
        if creds is None:
            raise AwsError("Sign", 0, "NoCredentials", "no AWS credentials in the environment")
        return creds

    def send(
        self,
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes = b"",
        *,
        parse_error: ErrorParser,
        stream: bool = False,
        errors: Mapping[str, type[AwsError]] | None = None,
    ) -> requests.Response:
        """The first successful response, or raise: `AwsError` (or the subclass `errors` names
        for its code) for AWS's answer, the transport's exception (`requests.RequestException`)
        after the last attempt."""
        attempt, taken = 1, 0
        while True:
            response, outcome = self._attempt(
                operation,
                method,
                url,
                headers=headers,
                body=body,
                parse_error=parse_error,
                stream=stream,
            )
            service = self.endpoint.service
            if attempt < self._max_attempts and is_retryable(outcome, service):
                cost = self._quota.acquire(is_throttling(outcome))
                if cost is not None:
                    taken = cost
                    if response is not None:
                        response.close()
                    self._sleep(retry_delay(outcome, attempt, service))
                    attempt += 1
                    continue
            if outcome.transport_error is not None:
                raise outcome.transport_error
            assert response is not None and outcome.status is not None
            if outcome.code is not None:
                error = (errors or {}).get(outcome.code, AwsError)
                raise error(operation, outcome.status, outcome.code, outcome.message)
            self._quota.release(taken or 1)
            return response

    def _attempt(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes,
        parse_error: ErrorParser,
        stream: bool,
    ) -> tuple[requests.Response | None, Outcome]:
        signed = sign_v4(
            method,
            url,
            headers,
            body,
            service=self.endpoint.service,
            region=self.endpoint.region,
            credentials=self.credentials(),
        )
        del signed["Host"]  # requests sets it from the URL, identically
        signed["Accept-Encoding"] = "identity"  # unsigned, as urllib3 sends it for botocore
        session = self.endpoint.session
        prepared = session.prepare_request(
            requests.Request(method, url, headers=signed, data=body or None)
        )
        prepared.url = url  # as signed: requests would drop a key's `.`/`..` segments
        try:
            response = session.send(
                prepared,
                timeout=self.endpoint.timeout,
                **session.merge_environment_settings(url, {}, stream, None, None),
            )
        except requests.RequestException as exc:
            return None, Outcome(operation, transport_error=exc)
        status, answer = response.status_code, response.headers
        if status >= 300:
            content = response.content  # an error body is small
            code, message = parse_error(status, answer, content)
            return response, Outcome(operation, status, code, answer, content, message=message)
        return response, Outcome(
            operation, status, None, answer, b"" if stream else response.content
        )
