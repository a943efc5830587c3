"""The API handler imports Powertools' HTTP resolver without the rest of its event_handler and
data_classes packages (web/powertools.py); both packages still work whole when asked for more."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from wix_relay.web.powertools import reexports

PROBE = """
import json, sys
import wix_relay.handlers.api
loaded = {"appsync": "aws_lambda_powertools.event_handler.appsync" in sys.modules,
          "asyncio": "asyncio" in sys.modules,
          "kinesis": "aws_lambda_powertools.utilities.data_classes.kinesis_firehose_event"
                     in sys.modules}
from aws_lambda_powertools.event_handler import AppSyncResolver, APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities import data_classes
import aws_lambda_powertools.event_handler as package
from wix_relay.web import powertools
loaded["same_resolver"] = APIGatewayHttpResolver is powertools.APIGatewayHttpResolver
loaded["appsync_after"] = AppSyncResolver.__module__
loaded["s3_after"] = S3Event.__module__
loaded["all"] = sorted(package.__all__)[:2]
loaded["data_classes_all"] = "SQSEvent" in data_classes.__all__
print(json.dumps(loaded))
"""


def test_the_handler_skips_the_unused_modules_and_the_packages_still_load_on_demand() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_REGION": "us-east-1",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == {
        "appsync": False,
        "asyncio": False,
        "kinesis": False,
        "same_resolver": True,
        "appsync_after": "aws_lambda_powertools.event_handler.appsync",
        "s3_after": "aws_lambda_powertools.utilities.data_classes.s3_event",
        "all": ["ALBResolver", "APIGatewayHttpResolver"],
        "data_classes_all": True,
    }


def test_only_a_pure_reexport_init_is_deferred() -> None:
    pure = '"""Doc."""\nfrom .alb import ALBEvent as A, B\n__all__ = ["A", "B"]\n'
    assert reexports("pkg", pure) == {"A": ("pkg.alb", "ALBEvent"), "B": ("pkg.alb", "B")}
    assert reexports("pkg", "from pkg.sub import C\n") == {"C": ("pkg.sub", "C")}
    assert reexports("pkg", pure + "setup()\n") is None
    assert reexports("pkg", "from os import path\n") is None
    assert reexports("pkg", "from ..other import D\n") is None
