"""Helpers for the emulator's own tests: Wix calls over real HTTP with `requests`."""

from __future__ import annotations

import time
from typing import Any

import requests
from wix_emulator import RunningEmulator

API = "/site-media/v1/files"


class WixCalls:
    """Thin wrappers over the emulator's Wix endpoints (API-key auth unless told otherwise)."""

    def __init__(self, emulator: RunningEmulator) -> None:
        self.em = emulator
        self.url = emulator.url
        self.headers = emulator.api_key_headers()

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        kw.setdefault("headers", self.headers)
        kw.setdefault("timeout", 10)
        return requests.post(self.url + path, json=body, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("headers", self.headers)
        kw.setdefault("timeout", 10)
        return requests.get(self.url + path, **kw)

    def generate(self, **fields: Any) -> requests.Response:
        return self.post(API + "/generate-upload-url", fields)

    def upload_url(self, **fields: Any) -> str:
        r = self.generate(**fields)
        assert r.status_code == 200, r.text
        return str(r.json()["uploadUrl"])

    def resumable(self, **fields: Any) -> requests.Response:
        return self.post(API + "/generate-resumable-upload-url", fields)

    def put(self, url: str, data: Any, mime: str | None = None, **kw: Any) -> requests.Response:
        headers = {"Content-Type": mime} if mime else {}
        return requests.put(url, data=data, headers=headers, timeout=30, **kw)

    def file(self, file_id: str) -> requests.Response:
        return self.get(API + "/get-file-by-id", params={"fileId": file_id})

    def wait(self, file_id: str, timeout: float = 5) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            r = self.file(file_id)
            assert r.status_code == 200, r.text
            file: dict[str, Any] = r.json()["file"]
            if file["operationStatus"] != "PENDING" or time.monotonic() > deadline:
                return file
            time.sleep(0.02)


def violations(r: requests.Response) -> list[dict[str, Any]]:
    body = r.json()
    assert set(body) >= {"message", "details"}, body
    found: list[dict[str, Any]] = body["details"]["validationError"]["fieldViolations"]
    return found


def rule_names(r: requests.Response) -> list[str]:
    return [v.get("ruleName") or v["violatedRule"] for v in violations(r)]


def app_error(r: requests.Response) -> dict[str, Any]:
    body = r.json()
    error: dict[str, Any] = body["details"]["applicationError"]
    assert {"code", "description", "data"} <= set(error)
    return error
