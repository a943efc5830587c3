"""Conventional API function: POST /v1/upload-url, doing what the relay's API handler does
(authenticate the API key against the caller registry secret, validate the body, fetch the Wix
credential secret, call generate-upload-url) in the tutorial style."""

import hashlib
import hmac
import os
from typing import Annotated, Any

import boto3
import requests
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.exceptions import (
    ForbiddenError,
    InternalServerError,
    UnauthorizedError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)

s3 = boto3.client("s3")
dynamodb = boto3.resource("dynamodb")
jobs_table = dynamodb.Table(os.environ["RELAY_JOBS_TABLE"])
sqs = boto3.client("sqs")
persistence_layer = DynamoDBPersistenceLayer(table_name=os.environ["RELAY_IDEMPOTENCY_TABLE"])
idempotency_config = IdempotencyConfig(event_key_jmespath='headers."idempotency-key"')
session = requests.Session()

WIX_API_BASE_URL = os.environ.get("WIX_API_BASE_URL", "https://www.wixapis.com")
WIX_SECRET_ID = os.environ["WIX_CREDENTIALS_SECRET_ID"]
CALLERS_SECRET_ID = os.environ["RELAY_CALLERS_SECRET_ID"]


class UploadUrlRequest(BaseModel):
    mimeType: str = Field(min_length=1, max_length=100)
    fileName: str | None = Field(default=None, max_length=200)
    sizeInBytes: int | str | None = None
    parentFolderId: str | None = Field(default=None, max_length=100)
    filePath: str | None = Field(default=None, max_length=100)
    private: bool | None = None
    labels: list[Annotated[str, Field(max_length=200)]] | None = Field(default=None, max_length=50)


class UploadUrlResponse(BaseModel):
    uploadUrl: str


def authenticate() -> dict[str, Any]:
    key = app.current_event.headers.get("x-api-key")
    if not key:
        raise UnauthorizedError("missing API key")
    registry = parameters.get_secret(CALLERS_SECRET_ID, transform="json", max_age=300)
    digest = hashlib.sha256(key.encode()).hexdigest()
    for entry in registry.get("apiKeys", []):
        if hmac.compare_digest(entry["sha256"], digest):
            return entry
    raise UnauthorizedError("bad API key")


@app.post("/v1/upload-url")
@tracer.capture_method
def upload_url(request: Annotated[UploadUrlRequest, Body()]) -> UploadUrlResponse:
    caller = authenticate()
    folder = caller["policy"]["defaultFolder"]
    if request.filePath and not request.filePath.startswith(folder):
        raise ForbiddenError("filePath outside the caller's folders")
    credentials = parameters.get_secret(WIX_SECRET_ID, transform="json", max_age=300)
    fields = request.model_dump(exclude_none=True)
    fields.setdefault("filePath", folder)
    if "sizeInBytes" in fields:
        fields["sizeInBytes"] = str(fields["sizeInBytes"])
    response = session.post(
        f"{WIX_API_BASE_URL}/site-media/v1/files/generate-upload-url",
        json=fields,
        headers={"Authorization": credentials["apiKey"], "wix-site-id": credentials["siteId"]},
        timeout=(3.05, 30),
    )
    if response.status_code != 200:
        logger.error("Wix refused", extra={"status": response.status_code})
        raise InternalServerError("Wix refused the request")
    metrics.add_metric(name="UploadUrlIssued", unit=MetricUnit.Count, value=1)
    return UploadUrlResponse(uploadUrl=response.json()["uploadUrl"])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)


handler = lambda_handler
