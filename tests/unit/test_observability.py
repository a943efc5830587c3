"""Every metric shares the dimension set {service}; a reason adds {service, reason}."""

from __future__ import annotations

import json

import pytest

from wix_relay import observability
from wix_relay.config import ObservabilitySettings, Settings
from wix_relay.observability import MetricUnit, emit


def blobs(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]


def test_every_metric_shares_the_service_dimension_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(observability, "_settings", ObservabilitySettings())
    emit("ObjectRelayed")
    emit("BytesRelayed", 2048, MetricUnit.Bytes)
    emit("RelayFailed", reason="UNSUPPORTED_FILE_FORMAT")
    relayed, sent, failed = blobs(capsys.readouterr().out)
    for blob in (relayed, sent, failed):
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Dimensions"][0] == ["service"]
        assert directive["Namespace"] == "WixMediaRelay"
        assert blob["service"] == observability.logger.service
    assert relayed["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert (relayed["ObjectRelayed"], sent["BytesRelayed"]) == ([1], [2048])
    assert sent["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "BytesRelayed", "Unit": "Bytes"}
    ]
    assert failed["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["service"],
        ["service", "reason"],
    ]
    assert (failed["RelayFailed"], failed["reason"]) == ([1], "UNSUPPORTED_FILE_FORMAT")


def test_the_namespace_comes_from_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.from_env({"POWERTOOLS_METRICS_NAMESPACE": "Elsewhere"}).observability
    monkeypatch.setattr(observability, "_settings", settings)
    emit("ImportQueued")
    (blob,) = blobs(capsys.readouterr().out)
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Elsewhere"


@pytest.mark.parametrize(
    ("env", "tracing"),
    [
        ({}, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f"}, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "f", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({"POWERTOOLS_TRACE_DISABLED": "false"}, False),
    ],
)
def test_tracing_only_in_lambda_and_not_disabled(env: dict[str, str], tracing: bool) -> None:
    assert Settings.from_env(env).observability == ObservabilitySettings(tracing=tracing)
