"""The Wix REST endpoints (www.wixapis.com side): OAuth, upload URLs, import, reads."""

from __future__ import annotations

import base64
import hmac
import json
import posixpath
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

from . import errors as e
from . import mediatypes as mt
from . import rules, validation
from .httpbody import PipelinedSink
from .server import Request, route
from .state import ROOT_FOLDERS, Store, StoredFile, image_dims

SITE_MEDIA = "/site-media/v1"


# --- OAuth ---------------------------------------------------------------------------------
@route("POST", r"/oauth2/token", "oauth-token", "public")
def oauth_token(req: Request) -> None:
    """[doc] client_credentials → {access_token, token_type: Bearer, expires_in}."""
    ctype = mt.base_mime(req.headers.get("Content-Type"))
    if ctype == "application/x-www-form-urlencoded":
        raw = req.body.read_small().decode("utf-8", "replace")
        body: Any = {k: v[0] for k, v in parse_qs(raw).items()}
    else:
        body = req.json_body()
    # [doc, moderately sure] token errors are IETF-shaped (RFC 6749 §5.2); [guess] which error
    # and status: 400 invalid_request / unsupported_grant_type, 401 invalid_client, 400
    # invalid_grant for an instance the app is not installed on.
    if not isinstance(body, dict):
        raise e.oauth_error(400, "invalid_request", "the body must be a JSON object")
    missing = [
        name
        for name in ("grant_type", "client_id", "client_secret", "instance_id")
        if not isinstance(body.get(name), str) or not body.get(name)
    ]
    if missing:
        raise e.oauth_error(400, "invalid_request", f"missing {', '.join(missing)}")
    if body["grant_type"] != "client_credentials":
        raise e.oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
    cfg = req.cfg
    ok = hmac.compare_digest(body["client_id"].encode(), cfg.app_id.encode()) and (
        hmac.compare_digest(body["client_secret"].encode(), cfg.app_secret.encode())
    )
    if not ok:
        raise e.oauth_error(401, "invalid_client", "invalid client_id or client_secret")
    if not hmac.compare_digest(body["instance_id"].encode(), cfg.instance_id.encode()):
        raise e.oauth_error(400, "invalid_grant", "the app is not installed on this instance")
    token, expires_in = req.store.issue_token()
    req.send_json(200, {"access_token": token, "token_type": "Bearer", "expires_in": expires_in})


# --- upload URLs ---------------------------------------------------------------------------
def _upload_ticket(req: Request, *, resumable: bool) -> Any:
    fields = validation.upload_request(req.json_body(), req.cfg, resumable=resumable)
    mime = mt.base_mime(fields["mimeType"])
    name = fields.get("fileName")
    rules.check_declared(mime, name)
    size = fields.get("sizeInBytes")
    if size is not None:
        # [doc: SDK typings] resumable generate does not list SITE_QUOTA_EXCEEDED.
        rules.check_size(req.store, mt.resolve(mime, name), size, quota=not resumable)
    folder = req.store.resolve_folder(fields.get("parentFolderId"), fields.get("filePath"))
    return req.store.new_ticket("tus" if resumable else "upload", fields, folder)


@route("POST", SITE_MEDIA + r"/files/generate-upload-url", "generate-upload-url", "api")
def generate_upload_url(req: Request) -> None:
    ticket = _upload_ticket(req, resumable=False)
    # [doc] the answer is {"uploadUrl"} and nothing else.
    req.send_json(200, {"uploadUrl": f"{req.upload_base()}/upload/{ticket.token}"})


@route(
    "POST",
    SITE_MEDIA + r"/files/generate-resumable-upload-url",
    "generate-resumable-upload-url",
    "api",
)
def generate_resumable_upload_url(req: Request) -> None:
    ticket = _upload_ticket(req, resumable=True)
    req.send_json(
        200,
        {
            "uploadProtocol": "TUS",
            "uploadUrl": f"{req.upload_base()}/upload/tus",
            "uploadToken": ticket.token,
        },
    )


# --- import --------------------------------------------------------------------------------
def _url_name(url: str) -> str:
    return unquote(posixpath.basename(urlsplit(url).path))


def _type_name(fields: dict[str, Any]) -> str:
    """[doc] Wix tells an import's type from mimeType, or an extension in displayName or url."""
    display = fields.get("displayName") or ""
    return display if mt.extension(display) else _url_name(fields["url"])


def start_import(store: Store, fields: dict[str, Any]) -> StoredFile:
    """Create the PENDING descriptor and fetch the URL in a background thread."""
    rules.check_quota(store, 1, field="url")  # [doc: SDK typings] import may refuse on quota
    folder = store.resolve_folder(fields.get("parentFolderId"), fields.get("filePath"))
    url = fields["url"]
    name = fields.get("displayName") or _url_name(url) or "imported-file"
    mime = mt.base_mime(fields.get("mimeType"))
    ftype = mt.resolve(mime, _type_name(fields))
    hint = fields.get("mediaType")
    if hint and ftype.category == "other":
        category = {v: k for k, v in mt.MEDIA_TYPES.items()}.get(hint, "other")
        ftype = mt.FileType(ftype.mime, category, ftype.ext)
    f = store.add_file(
        StoredFile(
            id=store.new_file_id(ftype),
            display_name=name[:255],  # [doc] truncated to 255 characters
            folder_id=folder,
            type=ftype,
            private=bool(fields.get("private", False)),
            labels=list(fields.get("labels", [])),
            created=store.now(),
            source="import",
            path=Path(),
            source_url=url,
            external_info=fields.get("externalInfo"),
        )
    )
    threading.Thread(
        target=_fetch, args=(store, f, fields, mime), name=f"import-{f.id}", daemon=True
    ).start()
    return f


def _fetch(store: Store, f: StoredFile, fields: dict[str, Any], mime: str) -> None:
    """Stream the URL to disk, hashing; then READY after processing, or FAILED."""
    url = fields["url"]
    if fields.get("urlParams"):
        parts = urlsplit(url)
        extra = urlencode({k: str(v) for k, v in fields["urlParams"].items()})
        url = urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))
    headers = {str(k): str(v) for k, v in (fields.get("urlHeaders") or {}).items()}
    tmp = store.incoming_path()
    try:
        request = urllib.request.Request(url, headers=headers)
        with (
            urllib.request.urlopen(request, timeout=60) as resp,
            tmp.open("wb", buffering=0) as fh,
            PipelinedSink(fh) as sink,
        ):
            response_type = mt.base_mime(resp.headers.get("Content-Type"))
            while n := resp.readinto(buf := sink.buffer()):
                sink.commit(buf, n)
                if sink.written > max(store.cfg.size_limits.values()):
                    raise e.rule_error("url", e.FILE_SIZE_OVER_LIMIT, "the file is too large")
        declared = mime or response_type
        name = _type_name(fields)
        rules.check_declared(declared or mt.OCTET_STREAM, name)
        rules.check_content(declared or mt.OCTET_STREAM, sink.head)
        ftype = mt.resolve(declared, name, sink.head)
        if ftype.category == "other" and declared in ("", mt.OCTET_STREAM) and not ftype.ext:
            # [doc] "Wix must be able to tell the type": no mimeType, no extension, no clue.
            raise e.rule_error("mimeType", e.UNSUPPORTED_FILE_FORMAT, "cannot tell the file type")
        rules.check_size(store, ftype, sink.written, field="url")
        with store.lock:
            f.type = ftype
            f.size = sink.written
            f.md5 = sink.md5.hexdigest()
            f.dims = image_dims(sink.head)
            f.path = store.stored_path(f.id)
            tmp.replace(f.path)
        store.schedule_processing(f)
    except (e.WixApiError, urllib.error.URLError, OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        store.fail_now(f, _failure_code(exc), str(exc))


def _failure_code(exc: Exception) -> str:
    """The File Failed event's error.code [guess]: the rule name Wix would have refused the
    bytes with, else a fetch failure."""
    if isinstance(exc, e.WixApiError) and exc.body:
        violations = exc.body.get("details", {}).get("validationError", {}).get("fieldViolations")
        if violations and violations[0].get("ruleName"):
            return str(violations[0]["ruleName"])
    return "IMPORT_FETCH_FAILED"


@route("POST", SITE_MEDIA + r"/files/import", "import", "api")
def import_file(req: Request) -> None:
    fields = validation.import_request(req.json_body(), req.cfg)
    f = start_import(req.store, fields)
    req.send_json(200, {"file": req.store.descriptor(f)})


@route("POST", SITE_MEDIA + r"/bulk/files/import-v2", "bulk-import", "api")
def bulk_import(req: Request) -> None:
    """[code] {importFileRequests, returnEntity} → {results, bulkActionMetadata}; one bad item
    fails alone [guess]."""
    body = req.json_body()
    if not isinstance(body, dict):
        raise e.validation_error([e.violation("body", "must be a JSON object", e.FORMAT)])
    items = body.get("importFileRequests")
    if not isinstance(items, list) or not items:
        raise e.validation_error(
            [e.violation("importFileRequests", "is required (1 to 100 items)", e.REQUIRED_FIELD)]
        )
    if len(items) > 100:
        raise e.validation_error(
            [
                e.violation(
                    "importFileRequests",
                    "must have at most 100 items",
                    e.MAX_SIZE,
                    data={"threshold": 100},
                )
            ]
        )
    return_entity = body.get("returnEntity", True) is not False  # [doc] default true
    results: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            fields = validation.import_request(
                item, req.cfg, prefix=f"importFileRequests[{index}]."
            )
            f = start_import(req.store, fields)
        except e.WixApiError as err:
            results.append(
                {
                    "itemMetadata": {
                        "originalIndex": index,
                        "success": False,
                        "error": _item_error(err),
                    }
                }
            )
            continue
        result: dict[str, Any] = {
            "itemMetadata": {"id": f.id, "originalIndex": index, "success": True}
        }
        if return_entity:
            result["item"] = req.store.descriptor(f)
        results.append(result)
    successes = sum(1 for r in results if r["itemMetadata"]["success"])
    req.send_json(
        200,
        {
            "results": results,
            "bulkActionMetadata": {
                "totalSuccesses": successes,
                "totalFailures": len(results) - successes,
                "undetailedFailures": 0,
            },
        },
    )


def _item_error(err: e.WixApiError) -> dict[str, Any]:
    body = err.body or {}
    details = body.get("details", {})
    if "applicationError" in details:
        return dict(details["applicationError"])
    violations = details.get("validationError", {}).get("fieldViolations", [])
    code = (violations[0].get("ruleName") if violations else None) or "INVALID_ARGUMENT"
    return {
        "code": code,
        "description": body.get("message", ""),
        "data": {"fieldViolations": violations},
    }


# --- reads ---------------------------------------------------------------------------------
def _not_found(ids: list[str], field: str) -> e.WixApiError:
    """[doc: SDK typings + REST page] an unknown id is a 400 validation error whose rule name is
    RESOURCE_NOT_FOUND (not a 404). [guess] `data` names the ids."""
    return e.rule_error(field, e.RESOURCE_NOT_FOUND, "file not found", fileIds=ids)


def _get_one(req: Request, file_id: str) -> None:
    if not file_id:
        raise e.validation_error([e.violation("fileId", "is required", e.REQUIRED_FIELD)])
    f = req.store.find_file(file_id)
    if f is None:
        raise _not_found([file_id], "fileId")
    req.send_json(200, {"file": req.store.descriptor(f)})


@route("GET", SITE_MEDIA + r"/folders/([^/]+)", "get-folder", "api")
def get_folder(req: Request, folder_id: str) -> None:
    """[doc] "Get Folder": `{folder: {id, displayName, parentFolderId, ...}}`. [guess] an unknown
    id is answered as an unknown file id is (400, rule RESOURCE_NOT_FOUND); root folders have no
    parent."""
    store = req.store
    with store.lock:
        entry = store.folders.get(folder_id)
        if entry is None and folder_id not in ROOT_FOLDERS:
            raise e.rule_error("folderId", e.RESOURCE_NOT_FOUND, "folder not found")
    folder: dict[str, Any] = {"id": folder_id, "state": "OK"}
    if entry is None:
        folder["displayName"] = folder_id
    else:
        folder["parentFolderId"], folder["displayName"] = entry
    req.send_json(200, {"folder": folder})


@route("GET", SITE_MEDIA + r"/files/get-file-by-id", "get-file", "api")
def get_file_by_id(req: Request) -> None:
    _get_one(req, req.query1("fileId") or "")


@route("POST", SITE_MEDIA + r"/files/get-files", "get-files", "api")
def get_files(req: Request) -> None:
    """[doc] {fileIds: 1..100} → {files}. [guess] any unknown id fails the call, naming them."""
    ids = validation.file_ids(req.json_body())
    found = [req.store.find_file(i) for i in ids]
    missing = [i for i, f in zip(ids, found, strict=True) if f is None]
    if missing:
        raise _not_found(missing, "fileIds")
    req.send_json(200, {"files": [req.store.descriptor(f) for f in found if f is not None]})


SORT_FIELDS = {"displayName", "updatedDate", "sizeInBytes"}


def _list_query(req: Request) -> dict[str, Any]:
    """The list query from the parameters, or from the cursor that carries it."""
    cursor = req.query1("paging.cursor")
    if cursor:
        try:
            query = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            if not isinstance(query, dict) or not {"o", "t", "f", "m", "p", "s", "d"} <= set(query):
                raise ValueError
        except ValueError:
            raise e.validation_error(
                [e.violation("paging.cursor", "is not a valid cursor", e.FORMAT)]
            ) from None
        return query
    media_types = req.query.get("mediaTypes", [])
    bad = [m for m in media_types if m not in mt.MEDIA_TYPES.values()]
    if bad:
        raise e.rule_error(
            "mediaTypes", "UNSUPPORTED_MEDIA_TYPE", f"unsupported media type {bad[0]!r}"
        )
    sort_field = req.query1("sort.fieldName") or "updatedDate"
    if sort_field not in SORT_FIELDS:
        raise e.rule_error(
            "sort.fieldName", "UNSUPPORTED_SORT_VALUE", f"cannot sort by {sort_field!r}"
        )
    private = req.query1("private")
    return {
        "o": 0,
        "t": req.store.now(),  # a snapshot: later pages sort as the first one did
        "f": req.query1("parentFolderId") or "media-root",
        "m": media_types,
        "p": private if private in ("true", "false") else None,
        "s": sort_field,
        "d": (req.query1("sort.order") or "DESC").upper() != "ASC",
    }


@route("GET", SITE_MEDIA + r"/files", "list-files", "api")
def list_files(req: Request) -> None:
    """[doc] ?parentFolderId=&mediaTypes=&private=&sort.fieldName=&sort.order=&paging.limit=
    &paging.cursor= → {files, nextCursor: {cursors: {next}}}. Default sort updatedDate DESC.
    [guess] the cursor carries the query and a snapshot time, so pages never overlap."""
    store = req.store
    limit_raw = req.query1("paging.limit") or "50"  # [guess] default page size
    if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= 100:
        raise e.validation_error(
            [e.violation("paging.limit", "must be 1 to 100", e.MAX, data={"threshold": 100})]
        )
    limit = int(limit_raw)
    q = _list_query(req)
    with store.lock:
        files = [f for f in store.files.values() if f.folder_id == q["f"] and f.created <= q["t"]]
    if q["m"]:
        files = [f for f in files if f.type.media_type in q["m"]]
    if q["p"] is not None:
        files = [f for f in files if f.private == (q["p"] == "true")]

    def key(f: StoredFile) -> Any:
        snapshot = store.descriptor(f, at=q["t"])
        value = snapshot[q["s"]]
        return (int(value) if q["s"] == "sizeInBytes" else value, f.id)

    files.sort(key=key, reverse=q["d"])
    offset = int(q["o"])
    page = [store.descriptor(f) for f in files[offset : offset + limit]]
    cursors: dict[str, str] = {}
    if offset + limit < len(files):
        state = json.dumps({**q, "o": offset + limit}).encode()
        cursors["next"] = base64.urlsafe_b64encode(state).decode()
    req.send_json(200, {"files": page, "nextCursor": {"cursors": cursors}})


@route("GET", SITE_MEDIA + r"/files/(.+)", "get-file", "api")
def get_file_legacy(req: Request, file_id: str) -> None:
    """The older `GET /site-media/v1/files/<id>` [doc]."""
    _get_one(req, file_id)
