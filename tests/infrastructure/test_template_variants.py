"""Each deployment variant of template.yaml, decided the way CloudFormation would decide it, and
the whole translated template through cfn-lint (what `make validate` runs)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.infrastructure.template_model import (
    as_list,
    cfn_template,
    policy_statements,
    resolve_variant,
)

EXISTING = "partner-owned-inbox"
VARIANTS = {
    "defaults": {},
    "existing-bucket+jwt+imports+unreserved": {
        "ExistingInboxBucketName": EXISTING,
        "JwtIssuer": "https://issuer.example.com/",
        "ImportSources": "partner-drop,shared-media/acme",
        "ReserveWorkerConcurrency": "false",
        "WixCredentialsSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:w-AbCdEf",
        "CallersSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:c-AbCdEf",
        "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops",
    },
    "created-bucket+jwt": {"JwtIssuer": "https://issuer.example.com/"},
    "existing-bucket": {"ExistingInboxBucketName": EXISTING},
    "snapstart": {"SnapStart": "true"},
}


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return cfn_template()


def variant(cfn: dict[str, Any], name: str) -> dict[str, Any]:
    return resolve_variant(cfn, VARIANTS[name])


def lint(template: dict[str, Any]) -> list[str]:
    api = pytest.importorskip("cfnlint.api", reason="cfn-lint is not installed in this venv")
    # W2001: a parameter only used inside a branch this variant did not take.
    config = api.ManualArgs(regions=["us-east-1"], ignore_checks=["W2001"])
    return [str(match) for match in api.lint(json.dumps(template), config=config)]


def test_translated_template_passes_cfn_lint(cfn: dict[str, Any]) -> None:
    """The check `make validate` runs on .aws-sam-transformed.json (catches cycles, E3004)."""
    api = pytest.importorskip("cfnlint.api", reason="cfn-lint is not installed in this venv")
    matches = api.lint(json.dumps(cfn), config=api.ManualArgs(regions=["us-east-1"]))
    assert [str(m) for m in matches] == []


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_lints_clean_and_has_no_dependency_cycle(cfn: dict[str, Any], name: str) -> None:
    template = variant(cfn, name)
    assert lint(template) == []
    assert find_cycle(template["Resources"]) is None


def test_created_bucket_variant(cfn: dict[str, Any]) -> None:
    template = variant(cfn, "defaults")
    resources = template["Resources"]
    assert {"InboxBucket", "InboxBucketPolicy", "WixCredentialsSecret", "CallersSecret"} <= set(
        resources
    )
    statements = {s["Sid"]: s for s in policy_statements(resources["WorkerFunctionRole"])}
    assert statements["ReadInbox"]["Resource"]["Fn::Sub"][1] == {"Bucket": {"Ref": "InboxBucket"}}
    assert resources["WorkerFunction"]["Properties"]["ReservedConcurrentExecutions"] == {
        "Ref": "WorkerConcurrency"
    }
    assert "AlarmActions" not in resources["DeadLetterQueueAlarm"]["Properties"]
    sids = {s["Sid"] for s in policy_statements(resources["WorkerFunctionRole"])}
    assert "ReadImportSources" not in sids, "no import sources configured, no grant"


def test_existing_bucket_variant_never_touches_a_bucket_it_does_not_own(cfn: dict) -> None:
    template = variant(cfn, "existing-bucket+jwt+imports+unreserved")
    resources = template["Resources"]
    assert not {"InboxBucket", "InboxBucketPolicy", "WixCredentialsSecret", "CallersSecret"} & set(
        resources
    )
    existing = {"Ref": "ExistingInboxBucketName"}
    env = resources["WorkerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["WIX_CREDENTIALS_SECRET_ID"] == {"Ref": "WixCredentialsSecretArn"}
    (queue_statement,) = resources["EventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    source_arn = queue_statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"]
    assert source_arn[1] == {"Bucket": existing}
    statements = {s["Sid"]: s for s in policy_statements(resources["WorkerFunctionRole"])}
    assert statements["ReadInbox"]["Resource"]["Fn::Sub"][1] == {"Bucket": existing}
    assert template["Outputs"]["InboxBucketName"]["Value"] == existing
    assert "ReservedConcurrentExecutions" not in resources["WorkerFunction"]["Properties"]
    assert resources["DeadLetterQueueAlarm"]["Properties"]["AlarmActions"] == [
        {"Ref": "AlarmTopicArn"}
    ]


def computed(node: Any, values: dict[str, str]) -> Any:
    """What CloudFormation computes for a Ref / Fn::Join / Fn::Split / Fn::Sub expression."""
    if isinstance(node, str):
        return node
    ((fn, args),) = node.items()
    if fn == "Ref":
        return values[args]
    if fn == "Fn::Join":
        return args[0].join(computed(args[1], values))
    if fn == "Fn::Split":
        return computed(args[1], values).split(args[0])
    assert fn == "Fn::Sub", fn
    text, variables = args
    for name, value in {**values, **variables}.items():
        text = text.replace("${" + name + "}", computed(value, values))
    return text


def computed_arns(resource: dict[str, Any], sources: str, partition: str) -> list[str]:
    arns: list[str] = computed(resource, {"ImportSources": sources, "AWS::Partition": partition})
    return arns


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_import_sources_become_arns_of_the_stacks_partition(
    cfn: dict[str, Any], partition: str
) -> None:
    parameters = VARIANTS["existing-bucket+jwt+imports+unreserved"]
    template = resolve_variant(cfn, {**parameters, "AWS::Partition": partition})
    resources = template["Resources"]
    sources = parameters["ImportSources"]  # "partner-drop,shared-media/acme"
    for role, objects in [
        ("ApiFunctionRole", "HeadImportSources"),
        ("WorkerFunctionRole", "ReadImportSources"),
    ]:
        statements = {s["Sid"]: s for s in policy_statements(resources[role])}
        assert computed_arns(statements[objects]["Resource"], sources, partition) == [
            f"arn:{partition}:s3:::partner-drop/*",
            f"arn:{partition}:s3:::shared-media/acme/*",
        ]
        listed = computed_arns(statements["ListImportSources"]["Resource"], sources, partition)
        # s3:ListBucket on each source's bucket (so that a missing key is a 404, not a 403);
        # the prefix becomes an ARN with no bucket, which grants nothing.
        assert listed == [
            f"arn:{partition}:s3:::partner-drop",
            f"arn:{partition}:s3:::shared-media",
            f"arn:{partition}:s3:::/acme",
        ]
        listing = statements["ListImportSources"]["Resource"]
        deep = computed_arns(listing, "b.example/x/y", partition)
        assert deep == [f"arn:{partition}:s3:::{arn}" for arn in ("b.example", "/x", "/y")]


@pytest.mark.parametrize(("name", "jwt"), [("defaults", False), ("created-bucket+jwt", True)])
def test_jwt_authorizer_switch(cfn: dict[str, Any], name: str, jwt: bool) -> None:
    body = variant(cfn, name)["Resources"]["HttpApi"]["Properties"]["Body"]
    schemes = body.get("components", {}).get("securitySchemes", {})
    for path, methods in body["paths"].items():
        for method, operation in methods.items():
            protected = path in {"/v1/upload-url", "/v1/resumable-upload-url"} and method == "post"
            expected = [{"RelayJwt": []}] if (jwt and protected) else []
            assert operation.get("security", []) == expected, (method, path)
    if jwt:
        authorizer = schemes["RelayJwt"]["x-amazon-apigateway-authorizer"]
        assert authorizer["type"] == "jwt"
        assert authorizer["identitySource"] == "$request.header.Authorization"
        assert authorizer["jwtConfiguration"] == {
            "issuer": {"Ref": "JwtIssuer"},
            "audience": {"Ref": "JwtAudience"},
        }
    else:
        assert schemes == {}


@pytest.mark.parametrize(
    ("name", "applied"), [("defaults", "None"), ("snapstart", "PublishedVersions")]
)
def test_snapstart_variant(cfn: dict[str, Any], name: str, applied: str) -> None:
    resources = variant(cfn, name)["Resources"]
    for function in ("ApiFunction", "WorkerFunction"):
        assert resources[function]["Properties"]["SnapStart"] == {"ApplyOn": applied}
    assert "SnapStart" not in resources["CallbackFunction"]["Properties"]


# --- dependency cycles -----------------------------------------------------------------------


def references(node: Any) -> set[str]:
    """Logical ids a resource depends on (Ref, GetAtt, ${X} in Sub, DependsOn)."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                local = set() if isinstance(value, str) else set(value[1])
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)} - local
                found |= references(value if isinstance(value, str) else value[1])
            else:
                found |= references(value)
    return found


def find_cycle(resources: dict[str, Any]) -> list[str] | None:
    graph = {
        name: (references(r.get("Properties", {})) | set(as_list(r.get("DependsOn", []))))
        & set(resources)
        for name, r in resources.items()
    }
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, node])):
                return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [])):
            return cycle
    return None


def test_cycle_finder_sees_the_classic_bucket_cycle(cfn: dict[str, Any]) -> None:
    """Referencing the bucket from the queue policy is the trap in tooling notes: prove the
    finder would catch it."""
    resources = variant(cfn, "defaults")["Resources"]
    statement = resources["EventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    statement["Condition"]["ArnEquals"]["aws:SourceArn"] = {"Fn::GetAtt": ["InboxBucket", "Arn"]}
    cycle = find_cycle(resources)
    assert cycle is not None and "InboxBucket" in cycle and "EventsQueuePolicy" in cycle
