"""Takeover of existing compute: run code inside a resource of resources.json that runs as role R.

Each entry of the inventory lists the roles its code runs with (``roles``: execution role, instance
profile role, stack role, service role). A source that can change or drive that code gets an
``escalate`` edge to each such role, ``via`` the resource. The requests name the resource itself (or,
where AWS authorises another resource, a pattern of it), so its resource policy, tags, the same- and
cross-account rules and RCPs all apply. No ``iam:PassRole`` is involved: the role is already attached.

Alternatives of one group are tried in order per (source, role); a later one is emitted only when it
is unconditional and the ones emitted for the pair are not. Of the resources running as one role, the
least conditional edge is kept (one is enough where every resource gets the same decisions). Launch
templates are special: a new default version may name any instance profile, so their targets are the
account's EC2 instance roles.

Sources of one account that the engine cannot tell apart on these requests (the same statements naming
the actions, the same condition outcomes, named by no resource policy: ``_source_class``) get the same
edges: they are made once per class and copied to its other sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.edges.registry import register
from iamgraph.edges.techniques._edges import SYNTHETIC, Alternatives, from_source, make_edge, naming_blocks, outright
from iamgraph.edges.techniques._privesc import PrivescIndex, index
from iamgraph.evaluation.decision import Decision
from iamgraph.graph.estate import Estate, PrincipalEntry, ResourceEntry
from iamgraph.model.policy import Effect, Policy, PolicyKind, PrincipalBlock
from iamgraph.model.snapshot import Role
from iamgraph.policy.logic import atoms
from iamgraph.policy.parse import parse_policy

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_ALLOW, _K_ESCALATE = Effect.ALLOW, EdgeKind.ESCALATE

__all__ = ["TAKEOVERS", "Takeover", "takeover_edges"]

SELF_GRANTED = "(self-granted)"  # suffix: allowed by a resource policy statement the source adds
_EC2 = "ec2.amazonaws.com"
_ARN = "{arn}"  # the request names the resource itself
_ACCOUNT_OF = re.compile(r"^(?:(\d{12})|arn:[\w-]+:(?:iam|sts)::(\d{12}):\S+)$")  # an AWS principal's account
_ANY = frozenset({"*"})  # every account


@dataclass(frozen=True, slots=True)
class Takeover:
    type: str  # CloudFormation type of the resource
    group: str
    steps: tuple[tuple[str, str], ...]  # (action, request resource template; "{arn}" is the resource)
    note: str = ""
    technique: str = field(init=False, compare=False)  # the actions joined by "+" (an edge's technique)

    def __post_init__(self) -> None:
        object.__setattr__(self, "technique", "+".join(a.removesuffix(SELF_GRANTED) for a, _ in self.steps))


def _t(rtype: str, group: str, *actions: str, on: str = _ARN, note: str = "", **other: str) -> Takeover:
    """A takeover whose actions all name ``on`` except those given a template in ``other``."""
    steps = tuple((a, other.get(a.split(":", 1)[1].removesuffix(SELF_GRANTED), on)) for a in actions)
    return Takeover(rtype, group, steps, note)


_FN = "AWS::Lambda::Function"
_EC2I = "AWS::EC2::Instance"
_AGENT = "bedrock-agentcore:"
TAKEOVERS: tuple[Takeover, ...] = (
    _t(_FN, "lambda", "lambda:UpdateFunctionCode", "lambda:InvokeFunction"),
    _t(_FN, "lambda", "lambda:UpdateFunctionCode", "lambda:AddPermission", "lambda:InvokeFunction" + SELF_GRANTED,
       note="invocation allowed by the function policy statement the source adds"),
    _t(_FN, "lambda", "lambda:UpdateFunctionCode", note="the new code runs when the function's triggers invoke it"),
    _t(_EC2I, "ec2-instance", "ssm:SendCommand",
       note="also needs ssm:SendCommand on the command document; the instance runs the SSM agent"),
    _t(_EC2I, "ec2-instance", "ssm:StartSession", note="the instance runs the SSM agent"),
    _t(_EC2I, "ec2-instance", "ec2-instance-connect:SendSSHPublicKey",
       note="needs network access to the instance's SSH port"),
    _t(_EC2I, "ec2-instance", "ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances",
       note="new user data runs when the instance starts again"),
    _t("AWS::CloudFormation::Stack", "cloudformation", "cloudformation:UpdateStack",
       note="the update keeps the stack's service role"),
    _t("AWS::CloudFormation::Stack", "cloudformation", "cloudformation:CreateChangeSet",
       "cloudformation:ExecuteChangeSet", note="the change set keeps the stack's service role"),
    _t("AWS::CodeBuild::Project", "codebuild", "codebuild:StartBuild", note="buildspec override"),
    _t("AWS::CodeBuild::Project", "codebuild", "codebuild:StartBuildBatch", note="buildspec override"),
    _t("AWS::Glue::DevEndpoint", "glue", "glue:UpdateDevEndpoint", note="adds an SSH public key"),
    _t("AWS::SageMaker::NotebookInstance", "sagemaker", "sagemaker:CreatePresignedNotebookInstanceUrl"),
    _t("AWS::SageMaker::NotebookInstance", "sagemaker", "sagemaker:CreateNotebookInstanceLifecycleConfig",
       "sagemaker:StopNotebookInstance", "sagemaker:UpdateNotebookInstance", "sagemaker:StartNotebookInstance",
       CreateNotebookInstanceLifecycleConfig="arn:aws:sagemaker:{region}:{account}:notebook-instance-lifecycle-config/*"),
    _t("AWS::ECS::Service", "ecs", "ecs:ExecuteCommand", "ecs:DescribeTasks",
       on="arn:aws:ecs:{region}:{account}:task/{cluster}/*", note="ECS Exec is enabled on the service's tasks"),
    _t("AWS::Batch::JobDefinition", "batch", "batch:SubmitJob", note="container command override; needs a job queue"),
    _t("AWS::CodeDeploy::DeploymentGroup", "codedeploy", "codedeploy:CreateDeployment",
       "codedeploy:RegisterApplicationRevision", "codedeploy:GetDeploymentConfig",
       RegisterApplicationRevision="arn:aws:codedeploy:{region}:{account}:application:{app}",
       GetDeploymentConfig="arn:aws:codedeploy:{region}:{account}:deploymentconfig:*",
       note="the deployment's lifecycle hooks run on the group's instances"),
    _t("AWS::AppRunner::Service", "apprunner", "apprunner:UpdateService"),
    _t("AWS::MWAA::Environment", "mwaa", "airflow:UpdateEnvironment", "airflow:CreateCliToken"),
    _t("AWS::BedrockAgentCore::CodeInterpreter", "agentcore", _AGENT + "StartCodeInterpreterSession",
       _AGENT + "InvokeCodeInterpreter"),
    _t("AWS::BedrockAgentCore::Runtime", "agentcore", _AGENT + "InvokeAgentRuntimeCommand"),
    _t("AWS::BedrockAgentCore::Harness", "agentcore", _AGENT + "InvokeAgentRuntimeCommand"),
    _t("AWS::BedrockAgentCore::BrowserCustom", "agentcore", _AGENT + "StartBrowserSession",
       _AGENT + "ConnectBrowserAutomationStream"),
    _t("AWS::EC2::LaunchTemplate", "launch-template", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate",
       note="instances launched from the template's default version (e.g. by an Auto Scaling group) run with "
       "the instance profile the new version names"),
)  # fmt: skip


def _fill(idx: PrivescIndex, template: str, res: ResourceEntry) -> str:
    """The request resource of a step for ``res`` (built once per estate; most steps name the resource)."""
    if template == _ARN:
        return res.arn
    filled: dict[tuple[str, str], str] = idx.memo("takeover-requests", dict)
    key = (template, res.arn)
    hit = filled.get(key)
    if hit is None:
        hit = filled[key] = _filled(template, res)
    return hit


def _filled(template: str, res: ResourceEntry) -> str:
    parts = res.arn.split(":", 5)
    region, account, rest = (parts[3], parts[4], parts[5]) if len(parts) == 6 else ("*", res.account, "")
    cluster = rest.split("/")[1] if rest.count("/") >= 2 else "*"
    app = rest.split(":", 1)[1].split("/", 1)[0] if ":" in rest else "*"
    return template.format(arn=res.arn, region=region or "*", account=account, cluster=cluster, app=app)


@register("takeover", "takeover", "take over existing compute (resources.json) that runs as a role")
def takeover_edges(estate: Estate) -> Iterator[DerivedEdge]:
    idx = index(estate)
    by_type: dict[str, list[Takeover]] = {}
    for t in TAKEOVERS:
        by_type.setdefault(t.type, []).append(t)
    for rtype, takeovers in by_type.items():
        resources = idx.resources_by_type.get(rtype, ())
        if resources:
            yield from _type_edges(idx, takeovers, resources)


def _targets(idx: PrivescIndex, res: ResourceEntry) -> list[tuple[str, Decision | None]]:
    """The roles the resource runs with (a launch template: every EC2 instance role of the account)."""
    if res.type == "AWS::EC2::LaunchTemplate":
        return [
            (role.arn, trust)
            for role, trust in idx.roles_trusting(res.account, _EC2)
            if isinstance(role.entity, Role) and role.entity.instance_profile_arns
        ]
    return [(arn, None) for arn in (res.resource.role_arns if res.resource else ())]


Runs = dict[str, list[tuple[ResourceEntry, Decision | None]]]  # role -> resources running as it (+ trust)


def _type_edges(
    idx: PrivescIndex, takeovers: list[Takeover], resources: Sequence[ResourceEntry]
) -> Iterator[DerivedEdge]:
    """Per account, each candidate source against each role the account's resources run as; then the
    resources whose policy may let principals of other accounts in."""
    first = frozenset(t.steps[0][0] for t in takeovers)
    candidates = idx.memo(("takeover-sources", first), lambda: _by_account(idx, first))
    actions = tuple(dict.fromkeys(a.removesuffix(SELF_GRANTED) for t in takeovers for a, _ in t.steps))
    by_account: dict[str, Runs] = {}
    for res in resources:
        runs = by_account.setdefault(res.account, {})
        for role, trust in _targets(idx, res):
            runs.setdefault(role, []).append((res, trust))
    for account, runs in by_account.items():
        blocks = _policy_principals(idx, takeovers, runs, actions)
        made: dict[tuple[object, ...], list[DerivedEdge]] = {}  # the edges of a class of sources, by its key
        for p in candidates.get(account, ()):
            if idx.skip(p, account):
                continue
            key = _source_class(idx, p, account, actions, blocks)
            if key is None:
                yield from _source_edges(idx, p, takeovers, runs)
                continue
            edges = made.get(key)
            if edges is None:
                edges = made[key] = list(_source_edges(idx, p, takeovers, runs, own_role=True))
            for edge in edges:
                if edge.target != p.arn:
                    yield from_source(edge, p.arn)
    for res in resources:
        named = _outside_accounts(res, first)
        if not named:
            continue
        runs = {role: [(res, trust)] for role, trust in _targets(idx, res)}
        for account, principals in candidates.items():
            if account != res.account and (named is _ANY or account in named):
                for p in principals:
                    yield from _source_edges(idx, p, takeovers, runs)


def _policy_principals(
    idx: PrivescIndex, takeovers: list[Takeover], runs: Runs, actions: tuple[str, ...]
) -> tuple[PrincipalBlock, ...] | None:
    """The Principal elements of the statements naming one of ``actions`` in the policies of the resources
    the requests name (the inventory entries in ``runs``, and those their steps' templates name): the
    sources those elements name get decisions of their own. None when such a statement has no Principal
    element or a NotPrincipal: it may bear on any source."""
    seen: set[str] = set()
    templates = {template for t in takeovers for _, template in t.steps if template != _ARN}
    policies: list[Policy] = []
    for places in runs.values():
        for res, _ in places:
            named = [res, *(idx.estate.resources.get(_fill(idx, template, res)) for template in templates)]
            for entry in named:
                if entry is None or entry.policy is None or entry.arn in seen:
                    continue
                seen.add(entry.arn)
                policies.append(entry.policy)
    return naming_blocks(policies, actions)


def _source_class(
    idx: PrivescIndex,
    p: PrincipalEntry,
    account: str,
    actions: tuple[str, ...],
    blocks: tuple[PrincipalBlock, ...] | None,
) -> tuple[object, ...] | None:
    """What the engine reads of ``p`` for the takeovers' requests on the account's resources, when no
    resource policy names ``p`` (``SharedDecisions.caller_number`` in the account, per action; numbers hold
    within the technique's run): sources with equal keys get equal decisions everywhere, so equal edges.
    None when ``p``'s edges are its own."""
    if blocks is None or any(idx.block_names(b, p) for b in blocks):
        return None
    key: list[object] = []
    number = idx.estate.shared.caller_number
    for action in actions:
        part = number(p, action, account)  # kept: the class's requests ask it again (Decider._in_class)
        if part is None:
            return None
        key.append(part)
    return tuple(key)


def _source_edges(
    idx: PrivescIndex, p: PrincipalEntry, takeovers: list[Takeover], runs: Runs, *, own_role: bool = False
) -> Iterator[DerivedEdge]:
    """``p``'s edges to the roles of ``runs`` (``own_role``: also to ``p`` itself, for the other sources of
    its class)."""
    kept: dict[str, Alternatives] = {}
    for takeover in takeovers:
        if not all(idx.estate.may_allow(p.arn, a) for a, _ in takeover.steps if not a.endswith(SELF_GRANTED)):
            continue
        group = kept.setdefault(takeover.group, Alternatives())
        uniform = _Uniform(idx, p, takeover)
        for role, places in runs.items():
            if (role == p.arn and not own_role) or group.settled(p.arn, role):
                continue
            firm_only = group.holds(p.arn, role)  # a conditional edge is kept: only an unconditional one counts
            edge = _best(idx, p, takeover, role, places, uniform, firm_only=firm_only)
            if edge is not None and group.keep(edge):
                yield edge


class _Uniform:
    """The steps of one takeover for one source on resources that all get the same decisions (no
    resource-specific statement, no resource policy naming the source): computed once."""

    def __init__(self, idx: PrivescIndex, p: PrincipalEntry, takeover: Takeover) -> None:
        self.idx, self.p, self.takeover = idx, p, takeover
        self.actions = [a.removesuffix(SELF_GRANTED) for a, _ in takeover.steps]
        self.done = False
        self.steps: dict[str, Decision] | None = None
        self._accounts: dict[str, bool] = {}  # account -> applies to its resources without a policy

    def applies(self, res: ResourceEntry) -> bool:
        if res.policy is None:  # then only the account counts: asked once, not once per resource
            hit = self._accounts.get(res.account)
            if hit is None:
                hit = self._accounts[res.account] = self._applies(res)
            return hit
        return self._applies(res)

    def _applies(self, res: ResourceEntry) -> bool:
        return all(self.idx.uniform(self.p, a, res) for a in self.actions)

    def steps_on(self, res: ResourceEntry) -> dict[str, Decision] | None:
        if not self.done:
            self.steps, self.done = _steps(self.idx, self.p, res, self.takeover), True
        return self.steps


def _best(
    idx: PrivescIndex,
    p: PrincipalEntry,
    takeover: Takeover,
    role: str,
    places: list[tuple[ResourceEntry, Decision | None]],
    uniform: _Uniform,
    *,
    firm_only: bool = False,
) -> DerivedEdge | None:
    """The least conditional edge to ``role`` through one of the resources running as it (``firm_only``:
    an unconditional one or None; the conditional ones are not made)."""
    best: DerivedEdge | None = None
    seen: set[tuple[int, ...]] = set()
    for res, trust in places:
        alike = uniform.applies(res)
        steps = uniform.steps_on(res) if alike else _steps(idx, p, res, takeover)
        if steps is None:
            continue
        same = tuple(id(d) for d in steps.values())
        if same in seen:
            continue  # the same decisions as through an earlier resource
        seen.add(same)
        if firm_only and not outright([trust, *steps.values()]):
            if alike:
                return None  # every other such resource would give the same conditional edge
            continue
        edge = make_edge(
            p.arn, role, _K_ESCALATE, takeover.technique, steps,
            support=(trust,) if trust is not None else (), via=(res.arn,), note=takeover.note,
        )  # fmt: skip
        if edge is None:
            continue
        if not edge.conditional or alike:
            return edge  # unconditional, or every other such resource would give the same edge
        if best is None or len(list(atoms(edge.conditions))) < len(list(atoms(best.conditions))):
            best = edge
    return best


def _by_account(idx: PrivescIndex, first: frozenset[str]) -> dict[str, list[PrincipalEntry]]:
    out: dict[str, list[PrincipalEntry]] = {}
    for p in idx.estate.acting_principals():
        if any(idx.estate.may_allow(p.arn, a.removesuffix(SELF_GRANTED)) for a in first):
            out.setdefault(p.account, []).append(p)
    return out


def _outside_accounts(res: ResourceEntry, first: frozenset[str]) -> frozenset[str]:
    """The accounts whose principals the Allow statements of the resource's policy naming a first step
    may name (a first step is never self-granted: without such a grant a source of another account gets
    no edge); ``_ANY``: every account (``*``, an entry that names no account). An Allow with NotPrincipal
    grants nothing (the evaluator ignores it, spec section 6.4)."""
    if res.policy is None:
        return frozenset()
    out: set[str] = set()
    for st in res.policy.statements:
        if st.ref.effect is not _ALLOW or st.principal is None or not any(map(st.action_matcher.matches, first)):
            continue
        if st.principal.wildcard:
            return _ANY
        for entry in st.principal.aws:
            m = _ACCOUNT_OF.match(entry)
            if m is None:
                return _ANY
            out.add(m.group(1) or m.group(2))
    return frozenset(out)


def _steps(idx: PrivescIndex, p: PrincipalEntry, res: ResourceEntry, takeover: Takeover) -> dict[str, Decision] | None:
    steps: dict[str, Decision] = {}
    for action, template in takeover.steps:
        name = action.removesuffix(SELF_GRANTED)
        resource = _fill(idx, template, res)
        d: Decision | None
        if action.endswith(SELF_GRANTED):
            d = idx.self_granted(p, name, res, partial(_with_grant, res, p, name))
        else:
            d = idx.on_resource(p, name, resource, res)
        if d is None:
            return None
        steps[name] = d
    return steps


def _with_grant(res: ResourceEntry, p: PrincipalEntry, action: str) -> Policy:
    """The resource policy with a statement the source adds, granting itself ``action``."""
    kept: list[dict[str, object]] = []
    if res.policy is not None:
        raw = res.policy.raw.get("Statement", [])
        kept = [dict(st) for st in (raw if isinstance(raw, list) else [raw])]
    added = {
        "Sid": "AddedBySource",
        "Effect": "Allow",
        "Principal": {"AWS": p.arn},
        "Action": action,
        "Resource": res.arn,
    }
    doc = {"Version": "2012-10-17", "Statement": [*kept, added]}
    return parse_policy(
        doc, name=f"{SYNTHETIC} resource policy with a statement the source adds", kind=PolicyKind.RESOURCE
    )
