"""What the API does with Wix's answers, over the real emulator: an upload URL outside the
allow-list is never handed to a caller (502 UPLOAD_URL_REFUSED), and a failing Wix is retried
within the API's short budget, then answered with a clear 502/504/429 and `Retry-After`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fixtures.api import OPEN_PARTNER_KEY, RelayApi

BODY = {"mimeType": "image/png", "sizeInBytes": 10}
HOSTILE_URLS = [
    "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://upload.evil.example/upload/abc",
    "https://user:pass@upload.wixmp.com/upload/abc",
    "http://upload.wixmp.com/upload/abc",
    "not a url",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
@pytest.mark.parametrize(
    ("path", "endpoint", "extra"),
    [
        ("/v1/upload-url", "generate-upload-url", {}),
        (
            "/v1/resumable-upload-url",
            "generate-resumable-upload-url",
            {"uploadToken": "t", "uploadProtocol": "TUS"},
        ),
    ],
    ids=["upload-url", "resumable-upload-url"],
)
def test_an_upload_url_outside_the_allow_list_is_never_handed_out(
    deployed_relay: RelayApi,
    canary_emulator: Any,
    url: str,
    path: str,
    endpoint: str,
    extra: dict[str, str],
) -> None:
    canary_emulator.add_fault(
        endpoint,
        status=200,
        body=json.dumps({"uploadUrl": url, **extra}),
        content_type="application/json",
    )
    response = deployed_relay.request("POST", path, BODY, api_key=OPEN_PARTNER_KEY)
    assert (response.status, response.error_code) == (502, "UPLOAD_URL_REFUSED"), response.body
    assert url not in response.body
    assert "Retry-After" not in response.headers  # retrying will not help
    # the emulator's own URLs are still handed out
    again = deployed_relay.request("POST", path, BODY, api_key=OPEN_PARTNER_KEY)
    assert again.status == 200, again.body
    assert again.json()["uploadUrl"].startswith(canary_emulator.url + "/")


def test_the_api_retries_a_couple_of_times_within_its_budget(
    deployed_relay: RelayApi, canary_emulator: Any
) -> None:
    deployed_relay.configure(WIX_API_RETRY_BUDGET_SECONDS="30", WIX_API_MAX_RETRIES="2")
    canary_emulator.add_fault("generate-upload-url", status=503, count=2)
    ok = deployed_relay.request("POST", "/v1/upload-url", BODY, api_key=OPEN_PARTNER_KEY)
    assert ok.status == 200, ok.body  # two failures, two retries, then Wix answered
    canary_emulator.add_fault("generate-upload-url", status=503, count=3)
    failed = deployed_relay.request("POST", "/v1/upload-url", BODY, api_key=OPEN_PARTNER_KEY)
    assert (failed.status, failed.error_code) == (502, "WIX_UPSTREAM_ERROR")
    assert failed.headers["Retry-After"] == "2"
    calls = [r for r in canary_emulator.requests() if "generate-upload-url" in r.get("path", "")]
    assert len(calls) == 3 + 3  # 1 + 2 retries each time, never more
    assert canary_emulator.faults()["faults"] == []


def test_the_worker_keeps_its_long_budget(deployed_relay: RelayApi) -> None:
    from wix_relay.runtime import Runtime

    settings = deployed_relay.runtime.settings
    assert Runtime.for_worker(settings).wix.settings.retry_budget_s == 1.0  # WIX_RETRY_BUDGET
    assert Runtime.for_worker(settings).wix.settings.max_retries is None
    assert deployed_relay.runtime.wix.settings.max_retries == 2


@pytest.mark.parametrize(
    ("fault", "status", "code", "retry_after"),
    [
        ({"status": 429, "retry_after": 7, "count": 3}, 429, "THROTTLED", "7"),
        ({"status": 429, "count": 3}, 429, "THROTTLED", "2"),
        ({"status": 500, "count": 3}, 502, "WIX_UPSTREAM_ERROR", "2"),
        ({"status": 503, "retry_after": 4, "count": 3}, 502, "WIX_UPSTREAM_ERROR", "4"),
    ],
    ids=["429 with Retry-After", "429", "500", "503 with Retry-After"],
)
def test_a_spent_budget_answers_retry_after(
    deployed_relay: RelayApi,
    canary_emulator: Any,
    fault: dict[str, Any],
    status: int,
    code: str,
    retry_after: str,
) -> None:
    canary_emulator.add_fault("generate-upload-url", **fault)
    response = deployed_relay.request("POST", "/v1/upload-url", BODY, api_key=OPEN_PARTNER_KEY)
    assert (response.status, response.error_code) == (status, code), response.body
    assert response.headers["Retry-After"] == retry_after
