"""The upload-URL request model: one declarative field table drives both validation and the JSON
Schema published in the OpenAPI document (no pydantic: it costs cold start).

Limits are Wix's own (docs/wix-facts.md, "Upload URLs" [doc]) so a bad request is
refused here, before Wix is called:

- `fileName` ≤ 200: the REST reference says 200; newer SDK typings allow 1000 but Wix truncates to
  255, so 200 is the limit every documented version accepts.
- `labels` ≤ 50 items of ≤ 200 characters (≤ 500 labels for the resumable URL, which has no
  `externalInfo`).
- `sizeInBytes` may be a JSON number or a decimal string; Wix wants a decimal string [doc].
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from wix_relay.domain.callers import folder_path_pattern
from wix_relay.domain.errors import FieldProblem, InvalidInput
from wix_relay.domain.media import MIME_TYPE

Kind = Literal["string", "size", "boolean", "string_list", "object"]
MAX_SIZE_BYTES = 2**63 - 1
_DECIMAL = re.compile(r"[0-9]{1,19}")
# The string rules of `_check_string` as JSON Schema patterns: no C0/C1 control characters,
# and (required fields) not only whitespace.
_NO_CONTROL = r"^[^\u0000-\u001f\u007f-\u009f]*$"
_NO_CONTROL_NOT_BLANK = r"^(?=[\s\S]*\S)[^\u0000-\u001f\u007f-\u009f]*$"


@dataclass(frozen=True)
class Field:
    """One request field: its type, Wix's limits and its documentation."""

    name: str
    kind: Kind
    description: str
    required: bool = False
    max_length: int | None = None
    """Strings: maximum characters. Lists: maximum characters of each item."""
    max_items: int | None = None
    pattern: re.Pattern[str] | None = None
    pattern_hint: str = ""
    enum: tuple[str, ...] = ()
    properties: tuple[Field, ...] = ()
    """Nested fields of an `object` (closed: other keys are refused)."""
    example: Any = None
    control_chars_checked: bool = True
    """False for `filePath`: the path rules refuse control characters (code INVALID_PATH)."""


def _external_info() -> Field:
    return Field(
        "externalInfo",
        "object",
        "Echoed back in Wix's File Ready / File Failed events.",
        properties=(
            Field("origin", "string", "Where the file comes from.", max_length=1000),
            Field(
                "externalIds",
                "string_list",
                "Your ids for this file.",
                max_items=30,
                max_length=4000,
            ),
        ),
    )


def _common_fields(labels_max: int) -> tuple[Field, ...]:
    return (
        Field(
            "mimeType",
            "string",
            "MIME type of the file, e.g. image/jpeg; must be allowed by your policy.",
            required=True,
            max_length=100,
            pattern=MIME_TYPE,
            pattern_hint="type/subtype",
            example="image/jpeg",
        ),
        Field(
            "fileName",
            "string",
            "File name shown in the Media Manager.",
            max_length=200,
            example="summer 2024.jpg",
        ),
        Field(
            "sizeInBytes",
            "size",
            "File size in bytes (number or decimal string); required when your policy has a "
            "maximum size.",
            example="2048000",
        ),
        Field(
            "filePath",
            "string",
            "Destination folder, e.g. /partners/acme/2024; default: your policy's default folder. "
            "Must be inside your policy's folders; '..', '//', '\\\\' and %-encoding are refused.",
            max_length=100,
            example="/partners/acme/2024",
            control_chars_checked=False,
        ),
        Field(
            "parentFolderId",
            "string",
            "Wix folder id; refused unless your policy allows it (it bypasses the folder rules).",
            max_length=100,
        ),
        Field("private", "boolean", "Private file (only if your policy allows it)."),
        Field(
            "labels", "string_list", "Labels for the file.", max_items=labels_max, max_length=200
        ),
    )


@dataclass(frozen=True)
class RequestModel:
    name: str
    fields: tuple[Field, ...]
    description: str = ""

    def json_schema(self) -> dict[str, Any]:
        return _object_schema(self.fields, self.description)

    def validate(self, document: Mapping[str, Any]) -> Mapping[str, Any]:
        """The request's JSON object, validated; InvalidInput lists every problem."""
        problems = validate_object(self.fields, document, "")
        if problems:
            raise InvalidInput(_summary(problems), problems)
        return document

    def parse(self, document: Mapping[str, Any]) -> UploadRequest:
        """Validate the request's JSON object; InvalidInput lists every problem."""
        return UploadRequest.from_document(self.validate(document))


UPLOAD_URL = RequestModel(
    "UploadUrlRequest",
    (*_common_fields(labels_max=50), _external_info()),
    "Wix's generate-upload-url fields; validated against Wix's limits before Wix is called.",
)
RESUMABLE_UPLOAD_URL = RequestModel(
    "ResumableUploadUrlRequest",
    (
        *_common_fields(labels_max=500),
        Field("uploadProtocol", "string", "Only TUS is supported (the default).", enum=("TUS",)),
    ),
    "Wix's generate-resumable-upload-url fields (no externalInfo, up to 500 labels).",
)


@dataclass(frozen=True)
class UploadRequest:
    mime_type: str
    file_name: str | None = None
    size_bytes: int | None = None
    file_path: str | None = None
    parent_folder_id: str | None = None
    private: bool | None = None
    labels: tuple[str, ...] | None = None
    external_info: Mapping[str, Any] | None = field(default=None, compare=False)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> UploadRequest:
        labels = doc.get("labels")
        return cls(
            mime_type=doc["mimeType"],
            file_name=doc.get("fileName"),
            size_bytes=None if doc.get("sizeInBytes") is None else int(doc["sizeInBytes"]),
            file_path=doc.get("filePath"),
            parent_folder_id=doc.get("parentFolderId"),
            private=doc.get("private"),
            labels=None if labels is None else tuple(labels),
            external_info=doc.get("externalInfo"),
        )

    def wix_fields(self, file_path: str | None) -> dict[str, Any]:
        """Wix's field names; `file_path` is the destination the relay decided."""
        out: dict[str, Any] = {"mimeType": self.mime_type}
        optional: dict[str, Any] = {
            "fileName": self.file_name,
            # [doc] sizeInBytes is a decimal string in Wix's API.
            "sizeInBytes": None if self.size_bytes is None else str(self.size_bytes),
            "filePath": file_path,
            "parentFolderId": self.parent_folder_id,
            "private": self.private,
            "labels": None if self.labels is None else list(self.labels),
            "externalInfo": None if self.external_info is None else dict(self.external_info),
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        return out


# --- parsing and validation -------------------------------------------------------------------


def validate_object(
    fields: tuple[Field, ...], document: Mapping[str, Any], prefix: str
) -> list[FieldProblem]:
    known = {f.name: f for f in fields}
    problems = [
        FieldProblem(prefix + name, "is not a known field", "UNKNOWN_FIELD")
        for name in document
        if name not in known
    ]
    for spec in fields:
        name = prefix + spec.name
        if spec.name not in document or document[spec.name] is None:
            if spec.required:
                problems.append(FieldProblem(name, "is required", "REQUIRED"))
            continue
        problems.extend(_check(spec, document[spec.name], name))
    return problems


def _check(spec: Field, value: Any, name: str) -> list[FieldProblem]:
    match spec.kind:
        case "string":
            return _check_string(spec, value, name)
        case "boolean":
            ok = isinstance(value, bool)
            return [] if ok else [FieldProblem(name, "must be true or false", "TYPE")]
        case "size":
            return _check_size(value, name)
        case "string_list":
            if not isinstance(value, list):
                return [FieldProblem(name, "must be a list of strings", "TYPE")]
            problems = []
            if spec.max_items is not None and len(value) > spec.max_items:
                problems.append(
                    FieldProblem(name, f"must have at most {spec.max_items} items", "MAX_ITEMS")
                )
            for index, item in enumerate(value):
                problems.extend(_check_string(spec, item, f"{name}[{index}]"))
            return problems
        case "object":
            if not isinstance(value, dict):
                return [FieldProblem(name, "must be an object", "TYPE")]
            return validate_object(spec.properties, value, name + ".")


def _check_string(spec: Field, value: Any, name: str) -> list[FieldProblem]:
    if not isinstance(value, str):
        return [FieldProblem(name, "must be a string", "TYPE")]
    if spec.max_length is not None and len(value) > spec.max_length:
        return [FieldProblem(name, f"must be at most {spec.max_length} characters", "MAX_LENGTH")]
    if spec.required and not value.strip():
        return [FieldProblem(name, "must not be empty", "REQUIRED")]
    if spec.control_chars_checked and any(unicodedata.category(ch) == "Cc" for ch in value):
        return [FieldProblem(name, "must not contain control characters", "FORMAT")]
    if spec.pattern is not None and not spec.pattern.fullmatch(value):
        return [FieldProblem(name, f"must look like {spec.pattern_hint}", "FORMAT")]
    if spec.enum and value not in spec.enum:
        return [FieldProblem(name, f"must be one of {', '.join(spec.enum)}", "ENUM")]
    return []


def _check_size(value: Any, name: str) -> list[FieldProblem]:
    if isinstance(value, bool):
        return [FieldProblem(name, "must be a number or a decimal string", "TYPE")]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if 0 <= value <= MAX_SIZE_BYTES:
            return []
        return [FieldProblem(name, f"must be between 0 and {MAX_SIZE_BYTES}", "RANGE")]
    if isinstance(value, str) and _DECIMAL.fullmatch(value) and int(value) <= MAX_SIZE_BYTES:
        return []
    return [
        FieldProblem(name, "must be a whole number of bytes (number or decimal string)", "TYPE")
    ]


def _summary(problems: list[FieldProblem]) -> str:
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{first.field} {first.message}{more}"


# --- JSON Schema ------------------------------------------------------------------------------


def _object_schema(fields: tuple[Field, ...], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: _field_schema(f) for f in fields},
    }
    required = [f.name for f in fields if f.required]
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema


def _field_schema(spec: Field) -> dict[str, Any]:
    schema: dict[str, Any]
    match spec.kind:
        case "string":
            schema = _string_schema(spec)
        case "boolean":
            schema = {"type": "boolean"}
        case "size":
            schema = {
                "oneOf": [
                    {"type": "integer", "minimum": 0, "maximum": MAX_SIZE_BYTES},
                    {"type": "string", "pattern": "^[0-9]{1,19}$"},
                ]
            }
        case "string_list":
            schema = {"type": "array", "items": _string_schema(spec)}
            if spec.max_items is not None:
                schema["maxItems"] = spec.max_items
        case "object":
            schema = _object_schema(spec.properties)
    schema["description"] = spec.description
    if spec.example is not None:
        schema["example"] = spec.example
    return schema


def _string_schema(spec: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if spec.max_length is not None:
        schema["maxLength"] = spec.max_length
    if spec.required:
        schema["minLength"] = 1
    if spec.enum:
        schema["enum"] = list(spec.enum)
    if spec.pattern is not None:
        schema["pattern"] = f"^{spec.pattern.pattern}$"
    elif not spec.control_chars_checked:  # a folder path: the path rules decide
        schema["pattern"] = folder_path_pattern()
    elif not spec.enum:
        schema["pattern"] = _NO_CONTROL_NOT_BLANK if spec.required else _NO_CONTROL
    return schema
