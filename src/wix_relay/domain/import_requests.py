"""The partner import request (POST /v1/imports): one field table that drives both the
validation (field-named 400s) and the JSON Schema in the OpenAPI document, as for uploads."""

from __future__ import annotations

import re

from wix_relay.domain.media import MIME_TYPE, MODES
from wix_relay.domain.upload_requests import Field, RequestModel

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")

IMPORT_REQUEST = RequestModel(
    "ImportRequest",
    (
        Field("bucket", "string", "S3 bucket of the object.", required=True, max_length=63,
              pattern=_BUCKET, pattern_hint="an S3 bucket name", example="wix-relay-inbox"),
        Field("key", "string", "S3 key of the object (as stored, not URL-encoded).",
              required=True, max_length=1024, example="imports/summer 2024/beach day.jpg"),
        Field("versionId", "string", "S3 version of the object (default: the current one).",
              max_length=1024),
        Field("fileName", "string", "File name in the Media Manager (default: the key's name).",
              max_length=200),
        Field("mimeType", "string", "MIME type (default: the object's Content-Type, else the "
              "extension).", max_length=100, pattern=MIME_TYPE, pattern_hint="type/subtype"),
        Field("filePath", "string", "Destination folder (default: your policy's default "
              "folder); must be inside your policy's folders.", max_length=100,
              control_chars_checked=False, example="/partners/acme/2024"),
        Field("parentFolderId", "string", "Wix folder id (only if your policy allows it).",
              max_length=100),
        Field("labels", "string_list", "Labels for the file.", max_items=50, max_length=200),
        Field("private", "boolean", "Private file (only if your policy allows it)."),
        Field("mode", "string", "How the bytes move: auto (default), upload, resumable, import.",
              enum=MODES),
        Field("callbackUrl", "string", "Where to POST the signed import.ready / import.failed "
              "callback (default: your registry callback URL); must be under one of your "
              "policy's callbackUrls.", max_length=2048,
              example="https://partner.example/hooks/wix"),
    ),
    "Relay one S3 object into Wix; poll the job at the returned Location.",
)  # fmt: skip
