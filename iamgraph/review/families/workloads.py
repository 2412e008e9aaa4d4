"""Workloads should use roles, not embedded user keys. What a snapshot can show: EC2 instances and Lambda
functions with or without a role (resources.json), access key ids written into their recorded
configuration (environment variables), and users that hold only access keys (credential report). It
cannot see keys on an instance's disk, in images or in parameter stores: the report says so."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from iamgraph.review.context import CREDENTIALS, RESOURCES, ReviewContext
from iamgraph.review.families._report import credentials
from iamgraph.review.model import Finding, Severity
from iamgraph.review.registry import register

FAMILY = "workloads"
WORKLOADS = frozenset(
    {
        "AWS::EC2::Instance",
        "AWS::Lambda::Function",
        "AWS::CodeBuild::Project",
        "AWS::ECS::TaskDefinition",
        "AWS::SageMaker::NotebookInstance",
        "AWS::Glue::DevEndpoint",
    }
)
_RUNS_AS = ("AWS::EC2::Instance", "AWS::Lambda::Function")
_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_LIMITS = "keys stored on disks, in images, user data or parameter stores are not part of a snapshot"


@register(
    "workload-without-role",
    family=FAMILY,
    severity=Severity.MEDIUM,
    title="EC2 instance or Lambda function without a role",
    description="An EC2 instance without an instance profile role, or a Lambda function whose execution role "
    "is not recorded: any AWS call it makes uses credentials stored with it.",
    remediation="Attach an instance profile (EC2) with the permissions the workload needs and remove any "
    "stored access keys.",
    reads="resources.json",
)
def workload_without_role(ctx: ReviewContext) -> Iterator[Finding]:
    for account in ctx.accounts():
        workloads = [r for r in account.resources.values() if r.type in _RUNS_AS]
        if not account.resources:
            ctx.skip(f"no {RESOURCES} (workloads unknown)", account=account.id)
        for res in workloads:
            if res.role_arns:
                continue
            what = "instance profile role" if res.type == "AWS::EC2::Instance" else "execution role"
            yield ctx.finding(
                subject=res.arn,
                title=f"{res.type.split('::')[-1]} {res.arn.rsplit(':', 1)[-1]} runs without an {what}",
                account=account.id,
                file=ctx.file(account.id, RESOURCES),
                resources=[res.arn],
                details={"type": res.type, "limits": _LIMITS},
            )


def _key_ids(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(JSON path, masked key id) for every access key id written in a configuration value."""
    if isinstance(value, str):
        for m in _KEY_ID.finditer(value):
            yield path, f"{m.group(0)[:4]}...{m.group(0)[-4:]}"
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _key_ids(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _key_ids(v, f"{path}[{i}]")


@register(
    "workload-embedded-keys",
    family=FAMILY,
    severity=Severity.HIGH,
    title="Access key embedded in a workload's configuration",
    description="An access key id (AKIA.../ASIA...) in the recorded configuration of a workload (environment "
    "variables of a function, a build project, a task): user keys shipped with the workload.",
    remediation="Give the workload a role (execution role, instance profile, task role), deactivate the key "
    "and remove it from the configuration.",
    reads="resources.json properties",
)
def embedded_keys(ctx: ReviewContext) -> Iterator[Finding]:
    for account in ctx.accounts():
        for res in account.resources.values():
            if res.type not in WORKLOADS:
                continue
            found = list(_key_ids(res.properties, "properties"))
            if found:
                yield ctx.finding(
                    subject=res.arn,
                    title=f"{res.type.split('::')[-1]} {res.arn.rsplit(':', 1)[-1]} carries "
                    f"{len(found)} access key id(s) in its configuration",
                    account=account.id,
                    file=ctx.file(account.id, RESOURCES),
                    resources=[res.arn],
                    principals=list(res.role_arns),
                    details={"found": [{"where": w, "key": k} for w, k in found], "roles": list(res.role_arns)},
                )


@register(
    "user-access-keys-only",
    family=FAMILY,
    severity=Severity.INFO,
    title="User with access keys and no console password",
    description="A programmatic IAM user: its long-term keys often serve a workload or a pipeline that a "
    "role (instance profile, execution role, OIDC federation for CI) would serve without stored secrets.",
    remediation="Replace the user by a role for the workload; if it must stay, rotate its keys and scope it.",
    reads="credential report",
)
def access_keys_only(ctx: ReviewContext) -> Iterator[Finding]:
    for c in credentials(ctx, root=False):
        if c.password_enabled or not c.active_keys:
            continue
        services = sorted({k.last_used_service for k in c.active_keys if k.last_used_service})
        yield ctx.finding(
            subject=c.arn,
            title=f"{c.user} uses long-term access keys only"
            + (f" (last used with {', '.join(services)})" if services else " (never used)"),
            account=c.account,
            file=ctx.file(c.account, CREDENTIALS),
            principals=[c.arn],
            details={"keys": [k.to_json() for k in c.active_keys], "limits": _LIMITS},
        )
