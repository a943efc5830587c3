"""Conventional worker function: an SQS batch of S3 notifications; each object is streamed from S3
and PUT to a Wix upload URL once (idempotent on bucket/key/etag), and a job item is written — the
relay worker's `upload` path, in the tutorial style."""

from __future__ import annotations

import json
import os
import time
from typing import Any
from urllib.parse import unquote_plus

import boto3
import requests
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3Model
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)

s3 = boto3.client("s3")
dynamodb = boto3.resource("dynamodb")
jobs_table = dynamodb.Table(os.environ["RELAY_JOBS_TABLE"])
persistence_layer = DynamoDBPersistenceLayer(table_name=os.environ["RELAY_IDEMPOTENCY_TABLE"])
idempotency_config = IdempotencyConfig(event_key_jmespath="[bucket, key, etag]")
session = requests.Session()

WIX_API_BASE_URL = os.environ.get("WIX_API_BASE_URL", "https://www.wixapis.com")
WIX_SECRET_ID = os.environ["WIX_CREDENTIALS_SECRET_ID"]
FOLDER_ROOT = os.environ.get("RELAY_FOLDER_ROOT", "/")
CHUNK = 1024 * 1024


@idempotent_function(
    data_keyword_argument="source",
    persistence_store=persistence_layer,
    config=idempotency_config,
)
@tracer.capture_method
def relay_object(source: dict[str, Any]) -> dict[str, Any]:
    credentials = parameters.get_secret(WIX_SECRET_ID, transform="json", max_age=300)
    obj = s3.get_object(Bucket=source["bucket"], Key=source["key"])
    mime = obj.get("ContentType") or "application/octet-stream"
    folder, _, name = source["key"].rpartition("/")
    response = session.post(
        f"{WIX_API_BASE_URL}/site-media/v1/files/generate-upload-url",
        json={
            "mimeType": mime,
            "fileName": name,
            "sizeInBytes": str(obj["ContentLength"]),
            "filePath": FOLDER_ROOT.rstrip("/") + "/" + folder,
        },
        headers={"Authorization": credentials["apiKey"], "wix-site-id": credentials["siteId"]},
        timeout=(3.05, 30),
    )
    response.raise_for_status()
    put = session.put(
        response.json()["uploadUrl"],
        params={"filename": name},
        data=obj["Body"].iter_chunks(CHUNK),
        headers={"Content-Type": mime},
        timeout=(3.05, 300),
    )
    put.raise_for_status()
    file = put.json()["file"]
    jobs_table.put_item(
        Item={
            "id": f"{source['bucket']}/{source['key']}/{source['etag']}",
            "status": "uploaded",
            "fileId": file["id"],
            "updatedAt": int(time.time()),
        }
    )
    metrics.add_metric(name="ObjectRelayed", unit=MetricUnit.Count, value=1)
    return {"fileId": file["id"]}


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    event = parse(event=json.loads(record.body), model=S3Model)
    for s3_record in event.Records:
        relay_object(
            source={
                "bucket": s3_record.s3.bucket.name,
                "key": unquote_plus(s3_record.s3.object.key),
                "etag": s3_record.s3.object.eTag,
            }
        )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


handler = lambda_handler
