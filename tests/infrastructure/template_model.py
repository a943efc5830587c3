"""The SAM template, translated offline, and a small evaluator for its conditions.

CloudFormation decides `Fn::If` at deploy time; `resolve_variant` does the same for a given set of
parameter values so each deployment variant (created vs existing bucket, JWT authorizer on/off,
...) can be inspected and linted on its own.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from scripts.transform_template import load, translate

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
NO_VALUE = {"Ref": "AWS::NoValue"}


@cache
def _sam() -> dict[str, Any]:
    return load(TEMPLATE)


def sam_template() -> dict[str, Any]:
    return copy.deepcopy(_sam())


@cache
def _cfn() -> str:
    return json.dumps(translate(sam_template()))


def cfn_template() -> dict[str, Any]:
    """The translated CloudFormation template (a fresh copy each call)."""
    parsed: dict[str, Any] = json.loads(_cfn())
    return parsed


def resources_of_type(cfn: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == kind}


PSEUDO_PARAMETERS = {"AWS::Partition": "aws"}
"""What CloudFormation fills in; a variant may override them (e.g. another partition)."""


def parameter_values(cfn: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    values = {name: str(p["Default"]) for name, p in cfn["Parameters"].items() if "Default" in p}
    values.update(PSEUDO_PARAMETERS)
    values.update(overrides)
    return values


def evaluate(expr: Any, conditions: Mapping[str, Any], params: Mapping[str, str]) -> bool:
    """A CloudFormation condition expression → bool (Equals/Not/And/Or/Condition)."""
    ((fn, args),) = expr.items()
    if fn == "Condition":
        return evaluate(conditions[args], conditions, params)
    if fn == "Fn::Equals":
        left, right = (_scalar(a, params) for a in args)
        return left == right
    if fn == "Fn::Not":
        return not evaluate(args[0], conditions, params)
    if fn == "Fn::And":
        return all(evaluate(a, conditions, params) for a in args)
    if fn == "Fn::Or":
        return any(evaluate(a, conditions, params) for a in args)
    raise ValueError(f"unsupported condition function {fn}")


def _scalar(value: Any, params: Mapping[str, str]) -> str:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return params[value["Ref"]]
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _choose(node: Any, truth: Mapping[str, bool]) -> Any:
    if isinstance(node, list):
        return [c for c in (_choose(item, truth) for item in node) if c != NO_VALUE]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Fn::If"}:
        name, when_true, when_false = node["Fn::If"]
        return _choose(when_true if truth[name] else when_false, truth)
    chosen = {key: _choose(value, truth) for key, value in node.items()}
    return {key: value for key, value in chosen.items() if value != NO_VALUE}


def resolve_variant(cfn: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    """The template as CloudFormation would deploy it with these parameter values: resources and
    outputs whose condition is false removed, every Fn::If decided, AWS::NoValue dropped."""
    params = parameter_values(cfn, overrides)
    conditions = cfn.get("Conditions", {})
    truth = {name: evaluate(expr, conditions, params) for name, expr in conditions.items()}
    out = copy.deepcopy(dict(cfn))
    out.pop("Conditions", None)
    for name, value in overrides.items():  # so linters resolve Refs to the variant's values
        if name not in PSEUDO_PARAMETERS:
            out["Parameters"][name]["Default"] = value
    for section in ("Resources", "Outputs"):
        kept = {}
        for name, item in out.get(section, {}).items():
            condition = item.pop("Condition", None)
            if condition is None or truth[condition]:
                kept[name] = _choose(item, truth)
        out[section] = kept
    return out


def both_branches(node: Any) -> Iterator[Any]:
    """Every concrete value a node can take (each Fn::If branch, NoValue skipped)."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        _, when_true, when_false = node["Fn::If"]
        for branch in (when_true, when_false):
            if branch != NO_VALUE:
                yield from both_branches(branch)
    else:
        yield node


def policy_statements(role: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Inline policy statements of an AWS::IAM::Role, with conditional statements expanded."""
    statements: list[dict[str, Any]] = []
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            statements.extend(both_branches(statement))
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
