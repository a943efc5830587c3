from __future__ import annotations

import pytest

from wix_relay.config import MIB, ConfigError, Settings


def test_defaults_need_no_environment() -> None:
    settings = Settings.from_env({})
    assert settings.wix.api_base_url == "https://www.wixapis.com"
    assert settings.wix.upload_hosts == ("upload.wixmp.com",)
    assert settings.transfer.upload_threshold_bytes == 10 * MIB
    assert settings.transfer.default_mode == "auto"
    assert settings.api.cors_origins == ()


def test_values_are_parsed_and_typed() -> None:
    settings = Settings.from_env(
        {
            "WIX_API_BASE_URL": "http://127.0.0.1:3001/",
            "WIX_UPLOAD_HOSTS": "127.0.0.1:3001, localhost:3001",
            "RELAY_CORS_ORIGINS": "http://127.0.0.1:8000",
            "RELAY_UPLOAD_THRESHOLD_BYTES": "1048576",
            "RELAY_DEFAULT_MODE": "resumable",
            "RELAY_ROUTES": '[{"bucket": "b"}]',
        }
    )
    assert settings.wix.api_base_url == "http://127.0.0.1:3001"
    assert settings.wix.upload_hosts == ("127.0.0.1:3001", "localhost:3001")
    assert settings.api.cors_origins == ("http://127.0.0.1:8000",)
    assert settings.transfer.upload_threshold_bytes == MIB
    assert settings.transfer.default_mode == "resumable"
    assert settings.transfer.routes_json == '[{"bucket": "b"}]'


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {
                "RELAY_UPLOAD_THRESHOLD_BYTES": "ten",
                "RELAY_DEFAULT_MODE": "teleport",
                "WIX_API_BASE_URL": "ftp://x",
                "RELAY_ROUTES": "{not json",
                "RELAY_TUS_CHUNK_BYTES": "1024",
            }
        )
    message = str(caught.value)
    for name in (
        "RELAY_UPLOAD_THRESHOLD_BYTES",
        "RELAY_DEFAULT_MODE",
        "WIX_API_BASE_URL",
        "RELAY_ROUTES",
        "RELAY_TUS_CHUNK_BYTES",
    ):
        assert name in message


def test_wildcard_cors_origin_is_refused() -> None:
    with pytest.raises(ConfigError, match="RELAY_CORS_ORIGINS"):
        Settings.from_env({"RELAY_CORS_ORIGINS": "*"})


@pytest.mark.parametrize("credentials", [True, False], ids=["boto3-free", "boto3"])
def test_the_apis_aws_calls_give_up_sooner_than_the_workers(
    credentials: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """API Gateway answers 504 after 30 s: the API's AWS clients (secrets, upload records) wait
    at most 10 s for an answer, the worker's keep the boto3 clients' 60 s."""
    from wix_relay.config import API_AWS_TIMEOUTS_S, AWS_TIMEOUTS_S
    from wix_relay.runtime import Runtime

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    if credentials:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    else:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env({})

    def timeouts(runtime: Runtime) -> tuple[float, float]:
        client = runtime._aws("secretsmanager")
        if credentials:
            return client._http.endpoint.timeout  # type: ignore[no-any-return]
        return (client.meta.config.connect_timeout, client.meta.config.read_timeout)

    assert timeouts(Runtime.for_api(settings)) == API_AWS_TIMEOUTS_S == (3.05, 10.0)
    assert timeouts(Runtime.for_worker(settings)) == AWS_TIMEOUTS_S == (5.0, 60.0)
