"""The API handler imports Powertools' HTTP resolver without the rest of its event_handler
package (web/powertools.py), and the package still works whole when something asks for more."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json, sys
import wix_relay.handlers.api
loaded = {"appsync": "aws_lambda_powertools.event_handler.appsync" in sys.modules,
          "asyncio": "asyncio" in sys.modules}
from aws_lambda_powertools.event_handler import AppSyncResolver, APIGatewayHttpResolver
import aws_lambda_powertools.event_handler as package
from wix_relay.web import powertools
loaded["same_resolver"] = APIGatewayHttpResolver is powertools.APIGatewayHttpResolver
loaded["appsync_after"] = AppSyncResolver.__module__
loaded["all"] = sorted(package.__all__)[:2]
print(json.dumps(loaded))
"""


def test_the_handler_skips_the_unused_resolvers_and_the_package_still_loads_on_demand() -> None:
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
    assert loaded["appsync"] is False
    assert loaded["asyncio"] is False
    assert loaded["same_resolver"] is True
    assert loaded["appsync_after"] == "aws_lambda_powertools.event_handler.appsync"
    assert loaded["all"] == ["ALBResolver", "APIGatewayHttpResolver"]
