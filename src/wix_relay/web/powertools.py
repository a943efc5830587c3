"""Powertools' HTTP resolver, router and Response, without the rest of the packages they sit in.

Two Powertools packages are pure re-export `__init__`s that import far more than the HTTP API
uses: `event_handler` imports every resolver (AppSync, AppSync Events, Bedrock agents, VPC
Lattice, ...) and with them `asyncio`; `utilities.data_classes` imports the data class of every
event source (Kinesis, SES, CodePipeline, ...), which `event_handler.api_gateway` reads five names
from. Together ~100 modules and ~15 % of the API's init + first request. Importing a submodule
runs its package's `__init__` first, so this module registers each package without running it:
a name the `__init__` re-exports (`from .alb_event import ALBEvent`) is read from its submodule on
first access; any other name (`__all__`, ...) runs the real `__init__` then, once. So
`from aws_lambda_powertools.event_handler import AppSyncResolver` still works and costs only the
AppSync module. A package whose `__init__` does anything but docstring, imports and `__all__` is
imported normally; so is one that is already imported (e.g. by a test). Nothing is patched.

Import `APIGatewayHttpResolver`, `APIGatewayHttpRouter` and `Response` from here.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from typing import Any

PACKAGES = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")


def reexports(name: str, source: str) -> dict[str, tuple[str, str]] | None:
    """{exported name: (submodule, name in it)} for a package `__init__` made only of a
    docstring, `from <submodule> import ...` and `__all__`; None for anything else."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstring
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]:
            continue
        if not isinstance(node, ast.ImportFrom) or node.module is None:
            return None
        module = f"{name}.{node.module}" if node.level == 1 else node.module
        if node.level > 1 or not module.startswith(f"{name}."):
            return None
        for alias in node.names:
            found[alias.asname or alias.name] = (module, alias.name)
    return found


def defer_package_init(name: str) -> None:
    """Make `name` a package whose re-exports load one submodule each, on first access."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.origin is None:
        return
    if spec.submodule_search_locations is None:
        return
    with open(spec.origin, encoding="utf-8") as fh:
        names = reexports(name, fh.read())
    if names is None:
        return  # not a pure re-export package: import it normally
    loader = spec.loader
    module = importlib.util.module_from_spec(spec)

    def __getattr__(attr: str) -> Any:
        if attr in names:
            submodule, original = names[attr]
            value = getattr(importlib.import_module(submodule), original)
            setattr(module, attr, value)
            return value
        if attr.startswith("__") and attr != "__all__":
            raise AttributeError(attr)
        if importlib.util.find_spec(f"{name}.{attr}") is not None:
            return importlib.import_module(f"{name}.{attr}")  # a submodule, not re-exported
        # Anything else the real __init__ would define: run it now, once.
        del module.__dict__["__getattr__"]
        loader.exec_module(module)
        return getattr(module, attr)

    module.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = module
    parent_name, _, child = name.rpartition(".")
    setattr(importlib.import_module(parent_name), child, module)


for _package in PACKAGES:
    defer_package_init(_package)

from aws_lambda_powertools.event_handler.api_gateway import (  # noqa: E402
    APIGatewayHttpResolver,
    Response,
)
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter  # noqa: E402

__all__ = ["APIGatewayHttpResolver", "APIGatewayHttpRouter", "Response"]
