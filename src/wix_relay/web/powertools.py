"""Powertools' HTTP resolver, router and Response, without the rest of its `event_handler` package.

`aws_lambda_powertools/event_handler/__init__.py` imports every resolver Powertools has (AppSync,
AppSync Events, Bedrock agents, VPC Lattice, ...), and with them `asyncio`: about 55 modules and
7 % of the API's cold start (init + first request) that the HTTP API never uses. Importing a
submodule runs its package's `__init__` first, so this module registers the package without
running it, and runs it on the first access to a name that is not a submodule (e.g.
`from aws_lambda_powertools.event_handler import AppSyncResolver` still works, it only pays the
full import then). Nothing is patched in the resolver itself; if the package was already imported
(e.g. by a test) this is a no-op.

Import `APIGatewayHttpResolver`, `APIGatewayHttpRouter` and `Response` from here.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

PACKAGE = "aws_lambda_powertools.event_handler"


def defer_package_init(name: str) -> None:
    """Make `name` importable as a package whose `__init__` runs only when a name that is not one
    of its submodules is first read from it."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not a package we can defer: import it normally
    loader = spec.loader
    module = importlib.util.module_from_spec(spec)

    def __getattr__(attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if importlib.util.find_spec(f"{name}.{attr}") is not None:
            return importlib.import_module(f"{name}.{attr}")
        # A name the package's __init__ defines: run it now, once.
        del module.__dict__["__getattr__"]
        loader.exec_module(module)
        return getattr(module, attr)

    module.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = module
    parent_name, _, child = name.rpartition(".")
    parent: types.ModuleType = importlib.import_module(parent_name)
    setattr(parent, child, module)


defer_package_init(PACKAGE)

from aws_lambda_powertools.event_handler.api_gateway import (  # noqa: E402
    APIGatewayHttpResolver,
    Response,
)
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter  # noqa: E402

__all__ = ["APIGatewayHttpResolver", "APIGatewayHttpRouter", "Response"]
