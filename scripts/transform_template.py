"""Translate the SAM template to CloudFormation JSON offline (no AWS call, no credentials).

    AWS_DEFAULT_REGION=us-east-1 python scripts/transform_template.py template.yaml > cfn.json

`sam validate --lint` and `cfn-lint template.yaml` check the SAM template; only the translated
output shows CloudFormation-level problems such as circular dependencies, so `make validate`
lints this output too. Exits 1 and prints the causes when the template is invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

PLACEHOLDER_CODE_URI = "s3://placeholder-bucket/placeholder.zip"

# Managed policies SAM may attach by name; the translator would otherwise ask IAM for their ARNs.
MANAGED_POLICIES = {
    name: f"arn:aws:iam::aws:policy/{path}{name}"
    for path, name in [
        ("service-role/", "AWSLambdaBasicExecutionRole"),
        ("service-role/", "AWSLambdaSQSQueueExecutionRole"),
        ("", "AWSXrayWriteOnlyAccess"),
    ]
}


class OfflinePolicyLoader:
    def load(self) -> dict[str, str]:
        return MANAGED_POLICIES


def translate(
    sam: dict[str, Any], parameter_values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """SAM template (already parsed) → CloudFormation template. Raises InvalidDocumentException."""
    from samtranslator.translator.transform import transform

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for resource in sam.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.setdefault("Properties", {})
        # `sam build`/`sam package` replace a local CodeUri with an s3:// one; do the same.
        if not str(props.get("CodeUri", "s3://")).startswith("s3://"):
            props["CodeUri"] = PLACEHOLDER_CODE_URI
    globals_function = sam.get("Globals", {}).get("Function", {})
    if not str(globals_function.get("CodeUri", "s3://")).startswith("s3://"):
        globals_function["CodeUri"] = PLACEHOLDER_CODE_URI
    cfn: dict[str, Any] = transform(sam, parameter_values or {}, OfflinePolicyLoader())
    return cfn


def load(path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    parsed: dict[str, Any] = yaml_parse(path.read_text(encoding="utf-8"))
    return parsed


def main(argv: list[str] | None = None) -> int:
    from samtranslator.public.exceptions import InvalidDocumentException

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", type=Path, nargs="?", default=Path("template.yaml"))
    args = parser.parse_args(argv)
    try:
        cfn = translate(load(args.template))
    except InvalidDocumentException as exc:
        for cause in exc.causes:
            print(f"{args.template}: {cause.message}", file=sys.stderr)
        return 1
    json.dump(cfn, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
