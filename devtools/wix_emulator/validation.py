"""Request-body validation with Wix's field limits and its validationError shape.

Limits are from docs/wix-facts.md's table and the SDK typings it names [doc]; where the REST
reference and the typings differ the typings win, with the REST value one config switch away.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from . import errors as e
from .config import EmulatorConfig

_DECIMAL = re.compile(r"^[0-9]+$")
MEDIA_TYPE_VALUES = ("IMAGE", "VIDEO", "AUDIO", "DOCUMENT", "VECTOR", "ARCHIVE", "MODEL3D")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "string" | "bool" | "labels" | "decimal" | "externalInfo" | "object" | "url" | enum
    max_length: int = 0
    max_items: int = 0
    required: bool = False
    choices: tuple[str, ...] = ()


def _upload_fields(cfg: EmulatorConfig, resumable: bool) -> tuple[Field, ...]:
    fields = [
        Field("mimeType", "string", max_length=100, required=True),
        Field("fileName", "string", max_length=cfg.file_name_max_length),
        Field("sizeInBytes", "decimal"),
        Field("parentFolderId", "string", max_length=100),
        Field("private", "bool"),
        # [doc] labels <= 50 items (<= 500 for resumable), each <= 200 chars.
        Field("labels", "labels", max_length=200, max_items=500 if resumable else 50),
        Field("filePath", "string", max_length=100),
    ]
    if resumable:
        fields.append(Field("uploadProtocol", "enum", choices=("TUS",)))
    else:
        fields.append(Field("externalInfo", "externalInfo"))
    return tuple(fields)


def _import_fields(cfg: EmulatorConfig) -> tuple[Field, ...]:
    return (
        Field("url", "url", required=True),
        Field("mediaType", "enum", choices=MEDIA_TYPE_VALUES),
        Field("displayName", "string", max_length=cfg.file_name_max_length),
        Field("parentFolderId", "string", max_length=100),
        Field("private", "bool"),
        Field("labels", "labels", max_length=200, max_items=500),
        Field("mimeType", "string", max_length=100),
        Field("externalInfo", "externalInfo"),
        Field("urlParams", "object"),
        Field("urlHeaders", "object"),
        Field("filePath", "string", max_length=100),
    )


def _max_length(path: str, value: str, limit: int) -> list[dict[str, Any]]:
    if limit and len(value) > limit:
        return [
            e.violation(
                path, f"must be at most {limit} characters", e.MAX_LENGTH, data={"threshold": limit}
            )
        ]
    return []


def _string_list(path: str, value: Any, max_items: int, max_length: int) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return [e.violation(path, "must be an array of strings", e.FORMAT)]
    found: list[dict[str, Any]] = []
    if max_items and len(value) > max_items:
        found.append(
            e.violation(
                path,
                f"must have at most {max_items} items",
                e.MAX_SIZE,
                data={"threshold": max_items},
            )
        )
    for index, item in enumerate(value):
        found += _max_length(f"{path}[{index}]", item, max_length)
    return found


def _check(spec: Field, value: Any, path: str) -> list[dict[str, Any]]:
    kind = spec.kind
    if kind in ("string", "url"):
        if not isinstance(value, str):
            return [e.violation(path, "must be a string", e.FORMAT)]
        if kind == "url":
            parts = urlsplit(value)
            if len(value) < 2 or parts.scheme not in ("http", "https") or not parts.netloc:
                return [e.violation(path, "must be a valid http(s) URL", e.FORMAT)]
        return _max_length(path, value, spec.max_length)
    if kind == "bool":
        return [] if isinstance(value, bool) else [e.violation(path, "must be a boolean", e.FORMAT)]
    if kind == "decimal":
        # [doc] a decimal string. [guess] Wix's JSON parser coerces a JSON integer the way
        # protobuf JSON does for int64, so a non-negative integer number is accepted too.
        ok = (isinstance(value, str) and _DECIMAL.match(value)) or (
            isinstance(value, int) and not isinstance(value, bool) and value >= 0
        )
        if ok:
            return []
        return [e.violation(path, "must be a non-negative whole number", e.DECIMAL_FORMAT)]
    if kind == "labels":
        return _string_list(path, value, spec.max_items, spec.max_length)
    if kind == "enum":
        if value in spec.choices:
            return []
        return [
            e.violation(
                path,
                f"must be one of {', '.join(spec.choices)}",
                e.FORMAT,
                data={"allowedValues": list(spec.choices)},
            )
        ]
    if kind == "object":
        return [] if isinstance(value, dict) else [e.violation(path, "must be an object", e.FORMAT)]
    if kind == "externalInfo":
        if not isinstance(value, dict):
            return [e.violation(path, "must be an object", e.FORMAT)]
        found: list[dict[str, Any]] = []
        origin = value.get("origin")
        if origin is not None:
            found += (
                _max_length(f"{path}.origin", origin, 1000)
                if isinstance(origin, str)
                else [e.violation(f"{path}.origin", "must be a string", e.FORMAT)]
            )
        if value.get("externalIds") is not None:
            found += _string_list(f"{path}.externalIds", value["externalIds"], 30, 4000)
        return found
    raise AssertionError(kind)


def _validate(body: Any, fields: tuple[Field, ...], prefix: str = "") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise e.validation_error([e.violation(prefix or "body", "must be a JSON object", e.FORMAT)])
    found: list[dict[str, Any]] = []
    for spec in fields:
        value = body.get(spec.name)
        path = f"{prefix}{spec.name}"
        if value is None or (spec.required and value == ""):
            if spec.required:
                found.append(e.violation(path, "is required", e.REQUIRED_FIELD))
            continue
        found += _check(spec, value, path)
    if found:
        raise e.validation_error(found)
    # Unknown fields are ignored, as protobuf JSON parsing does [guess].
    return {spec.name: body[spec.name] for spec in fields if body.get(spec.name) is not None}


def upload_request(body: Any, cfg: EmulatorConfig, *, resumable: bool) -> dict[str, Any]:
    """Validated generate(-resumable)-upload-url fields; sizeInBytes normalised to int."""
    fields = _validate(body, _upload_fields(cfg, resumable))
    if "sizeInBytes" in fields:
        fields["sizeInBytes"] = int(fields["sizeInBytes"])
    return fields


def import_request(body: Any, cfg: EmulatorConfig, prefix: str = "") -> dict[str, Any]:
    return _validate(body, _import_fields(cfg), prefix)


def file_ids(body: Mapping[str, Any] | Any) -> list[str]:
    """get-files: fileIds, 1..100 strings of <= 1000 chars [doc: SDK typings]."""
    if not isinstance(body, dict):
        raise e.validation_error([e.violation("body", "must be a JSON object", e.FORMAT)])
    ids = body.get("fileIds")
    if not ids:
        raise e.validation_error([e.violation("fileIds", "is required", e.REQUIRED_FIELD)])
    found = _string_list("fileIds", ids, 100, 1000)
    if found:
        raise e.validation_error(found)
    return list(ids)
