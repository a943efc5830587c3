"""scripts/transform_template.py: the offline SAM → CloudFormation step of `make validate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.transform_template import main
from tests.infrastructure.template_model import TEMPLATE


def test_prints_cloudformation_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(TEMPLATE)]) == 0
    cfn = json.loads(capsys.readouterr().out)
    assert "Transform" not in cfn
    assert cfn["Resources"]["WorkerFunction"]["Type"] == "AWS::Lambda::Function"


def test_invalid_template_exits_1_naming_the_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      CodeUri: src/\n"
        "      Handler: a.b\n"
        "      Runtime: python3.13\n"
        "      Events:\n"
        "        Queue:\n"
        "          Type: SQS\n"
        "          Properties: {BatchSize: 5}\n",
        encoding="utf-8",
    )
    assert main([str(broken)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "broken.yaml" in captured.err and "Queue" in captured.err
