"""Wix's 404 on an upload-URL call (an unknown `parentFolderId`) is the caller's mistake: a 404
with Wix's code, not a 502 "Wix failed" (found by the fuzz stage)."""

from __future__ import annotations

from wix_relay.integrations.wix.errors import WixNotFound
from wix_relay.services.uploads import relay_error_from_wix


def test_wix_404_is_a_404_with_wixs_code() -> None:
    error = relay_error_from_wix(
        WixNotFound("folder not found", status=404, code="FOLDER_NOT_FOUND")
    )
    assert (error.status, error.code) == (404, "FOLDER_NOT_FOUND")
    assert not error.retryable
