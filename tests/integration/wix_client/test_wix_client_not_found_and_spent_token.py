"""The client against the emulator's SDK-settled behaviour: 400 RESOURCE_NOT_FOUND reads as
not-found (and `wait_until_ready` keeps polling on it), and a 429 on an upload PUT or TUS
finalize — a token that may be spent — is raised as `WixUploadTokenSpent`, never retried."""

from __future__ import annotations

import pytest
from wix_emulator import EmulatorConfig, RunningEmulator, start_emulator

from tests.integration.wix_client.test_wix_client_emulator import (
    Sleeps,
    calls,
    client_for,
    png,
    upload_png,
    wix_emulator,  # the fixture that marks where this test's part of the request log starts
)
from wix_relay.integrations.wix import (
    AppCredentials,
    WixAuthError,
    WixNotFound,
    WixRateLimited,
    WixUploadTokenSpent,
)

__all__ = ["wix_emulator"]


def test_wait_until_ready_polls_through_not_found_then_raises(
    wix_emulator: RunningEmulator,
) -> None:
    client = client_for(wix_emulator)
    with pytest.raises(WixNotFound) as caught:
        client.wait_until_ready("not-there-yet", timeout_s=0.3, first_delay_s=0.05)
    assert caught.value.status == 400 and caught.value.code == "RESOURCE_NOT_FOUND"
    assert len(calls(wix_emulator, "get-file", 2)) >= 2  # polled again, not ended at once


def test_a_429_on_the_upload_put_is_not_retried(wix_emulator: RunningEmulator) -> None:
    sleeps = Sleeps()
    client = client_for(wix_emulator, sleeps=sleeps)
    url = client.generate_upload_url({"mimeType": "image/png", "fileName": "a.png"})
    wix_emulator.add_fault("upload", status=429, count=5)
    with pytest.raises(WixUploadTokenSpent) as caught:
        client.upload(url, png(512), mime_type="image/png", filename="a.png", size=512)
    assert caught.value.status == 429 and not caught.value.retryable
    assert not isinstance(caught.value, WixRateLimited)
    assert len(calls(wix_emulator, "upload", 1)) == 1 and sleeps.delays == []


def test_a_reused_token_answering_429_is_raised_as_spent() -> None:
    cfg = EmulatorConfig(processing_ms=0, reused_token_429=True)
    with start_emulator(cfg, port=0) as em:
        client = client_for(em)
        url = client.generate_upload_url({"mimeType": "image/png", "fileName": "a.png"})
        client.upload(url, png(512), mime_type="image/png", filename="a.png", size=512)
        with pytest.raises(WixUploadTokenSpent) as caught:
            client.upload(url, png(512), mime_type="image/png", filename="a.png", size=512)
        assert "RESOURCE_EXHAUSTED" in str(caught.value)
        assert [c["status"] for c in em.requests() if c["endpoint"] == "upload"] == [200, 429]


def test_api_calls_still_retry_a_429(wix_emulator: RunningEmulator) -> None:
    client = client_for(wix_emulator)
    wix_emulator.add_fault("generate-upload-url", status=429, count=1)
    assert upload_png(client).id
    assert [c["status"] for c in calls(wix_emulator, "generate-upload-url", 2)] == [429, 200]


def test_an_ietf_token_error_keeps_its_code(wix_emulator: RunningEmulator) -> None:
    creds = AppCredentials(wix_emulator.app_id, "wrong-secret", wix_emulator.instance_id)
    with pytest.raises(WixAuthError) as caught:
        client_for(wix_emulator, creds).generate_upload_url({"mimeType": "image/png"})
    assert caught.value.status == 401 and "invalid_client" in str(caught.value)
    assert "wrong-secret" not in str(caught.value)


def test_a_429_on_a_fresh_tokens_first_put_is_a_throttle(wix_emulator: RunningEmulator) -> None:
    """A URL generated just before and never presented: the 429 can only be a throttle (Wix did
    not process it), so it is retried with the same URL and the file arrives once."""
    sleeps = Sleeps()
    client = client_for(wix_emulator, sleeps=sleeps)
    url = client.generate_upload_url({"mimeType": "image/png", "fileName": "a.png"})
    wix_emulator.add_fault("upload", status=429, count=2)
    file = client.upload(
        url, png(512), mime_type="image/png", filename="a.png", size=512, fresh_token=True
    )
    assert [c["status"] for c in calls(wix_emulator, "upload", 3)] == [429, 429, 200]
    assert len(sleeps.delays) == 2
    assert [f.id for f in client.list_files().files].count(file.id) == 1


def test_a_429_after_an_attempt_of_unknown_outcome_is_spent(wix_emulator: RunningEmulator) -> None:
    """After a 503 (was it processed?), a 429 may mean the first attempt used the token: raised
    as spent, not retried, even for a fresh token."""
    sleeps = Sleeps()
    client = client_for(wix_emulator, sleeps=sleeps)
    url = client.generate_upload_url({"mimeType": "image/png", "fileName": "a.png"})
    wix_emulator.add_fault("upload", status=503, count=1)
    wix_emulator.add_fault("upload", status=429, count=1)
    with pytest.raises(WixUploadTokenSpent):
        client.upload(
            url, png(512), mime_type="image/png", filename="a.png", size=512, fresh_token=True
        )
    assert [c["status"] for c in calls(wix_emulator, "upload", 2)] == [503, 429]
