"""The issue-12 settings: Wix events in, partner callbacks out."""

from __future__ import annotations

import pytest

from wix_relay.config import CallbackSettings, ConfigError, Settings


def test_callback_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "RELAY_CALLBACK_QUEUE_URL": "https://sqs/q",
            "RELAY_CALLBACK_DLQ_URL": "https://sqs/dlq",
            "RELAY_CALLBACK_MAX_ATTEMPTS": "5",
            "RELAY_CALLBACK_BACKOFF_BASE_SECONDS": "10",
            "RELAY_CALLBACK_BACKOFF_MAX_SECONDS": "600",
            "RELAY_CALLBACK_ALLOW_LOOPBACK": "true",
            "WIX_EVENTS_PUBLIC_KEY": "pem",
            "WIX_APP_ID": "app",
            "WIX_EVENTS_VERIFY_ISS_AUD": "true",
            "RELAY_EVENTS_TABLE": "events",
        }
    )
    assert settings.callbacks == CallbackSettings(
        queue_url="https://sqs/q",
        dead_letter_queue_url="https://sqs/dlq",
        max_attempts=5,
        backoff_base_s=10,
        backoff_max_s=600,
        allow_loopback=True,
    )
    assert (settings.events.public_key, settings.events.app_id, settings.events.table) == (
        "pem",
        "app",
        "events",
    )
    assert settings.events.verify_caller_claims is True
    assert Settings.from_env({}).callbacks.allow_loopback is False
    with pytest.raises(ConfigError) as info:
        Settings.from_env(
            {
                "WIX_EVENTS_VERIFY_ISS_AUD": "true",
                "RELAY_CALLBACK_BACKOFF_MAX_SECONDS": "99999",
                "RELAY_CALLBACK_ALLOW_LOOPBACK": "yes",
            }
        )
    for name in (
        "WIX_APP_ID",
        "RELAY_CALLBACK_BACKOFF_MAX_SECONDS",
        "RELAY_CALLBACK_ALLOW_LOOPBACK",
    ):
        assert name in str(info.value)
