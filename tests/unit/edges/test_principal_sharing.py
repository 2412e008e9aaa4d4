"""Decisions shared between principals that present the engine with the same inputs: the admin probes
(``Estate.evaluate_anywhere``, also shared between hypothetical identities of one principal) and role
assumption (``Estate.evaluate_alike``). The graph must be the one of evaluating every request on its own
(edges, proofs, conditions and admin marks, byte for byte)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from iamgraph.edges.base import EdgeKind
from iamgraph.edges.techniques import passrole
from iamgraph.edges.techniques._decide import Decider
from iamgraph.evaluation.decision import Decision
from iamgraph.graph import build as build_module
from iamgraph.graph.build import build_graph
from iamgraph.graph.estate import Estate, PrincipalEntry
from iamgraph.graph.model import AccessGraph
from iamgraph.ingest import load_snapshot
from iamgraph.model.snapshot import Snapshot

from .estate_builder import ACCOUNT, Account, allow, arn, doc, load, trust_service

ROOT = Path(__file__).resolve().parents[3]
GENERATOR = ROOT / "bench" / "generate.py"


def _plain(self: Estate, principal: PrincipalEntry, action: str, *, org_policies: bool) -> Decision:
    """The reference: every probe evaluated on its own."""
    return self.evaluate(principal, action, "*", resource_account=principal.account, org_policies=org_policies)


def _plain_alike(self: Estate, principal: PrincipalEntry, action: str, resource: str) -> Decision:
    return self.evaluate(principal, action, resource)


def _plain_decide_alike(self: Decider, p: PrincipalEntry, action: str, resource: str) -> Decision:
    return self.decide(p, action, resource)


def _plain_in_class(self: Decider, p: PrincipalEntry, action: str, arn: str, extra: Any, key: Any) -> Decision:
    return self.estate.evaluate(p, action, arn, extra=extra)


def _plain_passrole_class(*args: Any) -> None:
    """The reference: every PassRole source derives its own edges."""
    return None


def _lines(g: AccessGraph) -> Iterator[str]:
    for node, data in g.graph.nodes(data=True):
        yield json.dumps([node, data], sort_keys=True, default=str)
    for e in g.edges():
        yield json.dumps(e.to_json(), sort_keys=True, default=str)


def _both(snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch) -> tuple[AccessGraph, list[str], list[str]]:
    shared = build_graph(snapshot)
    with monkeypatch.context() as m:
        m.setattr(Estate, "evaluate_anywhere", _plain)
        m.setattr(Estate, "evaluate_alike", _plain_alike)
        m.setattr(Decider, "decide_alike", _plain_decide_alike)
        m.setattr(Decider, "_in_class", _plain_in_class)
        m.setattr(passrole, "_source_class", _plain_passrole_class)
        plain = build_graph(snapshot)
    return shared, list(_lines(shared)), list(_lines(plain))


def _estate(order: str) -> Account:
    """Users attached to the same managed policies whose conditions read principal keys (tag, user name,
    ARN) or a policy variable, so that only the key values tell their admin probes apart."""
    a = Account()
    if_tag = {"StringEquals": {"aws:PrincipalTag/team": "platform"}}
    platform = a.managed("platform-admin", doc(allow("*", Condition=if_tag)))
    carol_only = a.managed("carol-admin", doc(allow("*", Condition={"StringEquals": {"aws:username": "carol"}})))
    ops_arn = {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:*/ops-*"}}
    ops = a.managed("ops-admin", doc(allow("*", Condition=ops_arn)))
    if_owner = {"StringEquals": {"aws:PrincipalTag/owner": "${aws:username}"}}
    own = a.managed("self-owned", doc(allow("*", Condition=if_owner)))
    mfa = a.managed("mfa-admin", doc(allow("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})))
    rest = a.managed("everything-else", doc(allow(["s3:*", "ec2:*", "kms:*", "lambda:*", "sts:AssumeRole"])))
    own_roles = a.managed("own-roles", doc(allow("sts:AssumeRole", arn("role", "${aws:username}-*"))))
    if_mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    mfa_assume = a.managed("mfa-assume", doc(allow("sts:AssumeRole", Condition=if_mfa)))
    a.group("platform", managed=(platform,))
    users: list[tuple[str, tuple[str, ...], dict[str, str]]] = [
        ("alice", (platform,), {"team": "platform"}),
        ("bob", (platform,), {"team": "data"}),
        ("carol", (carol_only,), {}),
        ("erin", (carol_only,), {}),
        ("ops-dave", (ops,), {}),
        ("frank", (ops,), {}),
        ("gina", (own, rest), {"owner": "gina"}),
        ("hank", (own, rest), {"owner": "gina"}),
        ("ivan", (mfa,), {}),
        ("judy", (mfa,), {"team": "platform"}),
        ("kim", (rest,), {"team": "platform"}),
        ("lee", (rest,), {"team": "data"}),
        ("mona", (own_roles,), {}),
        ("ned", (own_roles,), {}),
        ("oscar", (mfa_assume,), {}),
        ("pia", (mfa_assume,), {}),
    ]
    for name, managed, tags in users if order == "forward" else reversed(users):
        a.user(name, managed=managed)
        a.users[-1]["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    a.user("helpdesk", allow("iam:AddUserToGroup", arn("group", "platform")))
    for name, team in (("ops-runner", None), ("platform-runner", "platform"), ("data-runner", "data")):
        a.role(name, trust_service("ec2.amazonaws.com"), managed=(platform, ops))
        if team:
            a.roles[-1]["Tags"] = [{"Key": "team", "Value": team}]
    root = f"arn:aws:iam::{ACCOUNT}:root"
    if_platform = {"StringEquals": {"aws:PrincipalTag/team": "platform"}}
    trust = {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "sts:AssumeRole", "Condition": if_platform}
    a.role("platform-deploy", doc(trust))
    a.role("mona-ops", doc({"Effect": "Allow", "Principal": {"AWS": root}, "Action": "sts:AssumeRole"}))
    named = {"Effect": "Allow", "Principal": {"AWS": [arn("user", "oscar"), root]}, "Action": "sts:AssumeRole"}
    a.role("oscar-named", doc(named))
    return a


def _assumers(g: AccessGraph, role: str) -> dict[str, bool]:
    """Who may assume ``role``, each with whether its edge is conditional."""
    return {e.source.rsplit("/", 1)[-1]: e.conditional for e in g.edges() if e.target == arn("role", role)}


@pytest.mark.parametrize("order", ["forward", "reversed"])
def test_principal_keys_keep_principals_apart(tmp_path: Path, order: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whichever principal is probed first, a shared answer never reaches a principal whose tag, user
    name or ARN reads differently; a policy variable (hank's owner tag is gina's name, not his) keeps a
    principal's probes its own."""
    g, shared, plain = _both(load(tmp_path, _estate(order)), monkeypatch)
    assert shared == plain
    admins = {a.rsplit("/", 1)[-1] for a in g.admins()}
    assert {"alice", "carol", "ops-dave", "gina", "ivan", "judy", "platform-runner", "ops-runner"} <= admins
    assert not admins & {"bob", "erin", "frank", "hank", "kim", "lee", "data-runner"}
    joins = {e.target.rsplit("/", 1)[-1] for e in g.edges() if e.source == arn("user", "helpdesk")}
    assert "kim" in joins and "lee" not in joins  # the group's policy makes admin only those tagged platform
    assert {"kim", "lee"} & set(_assumers(g, "platform-deploy")) == {"kim"}  # the trust reads the caller's tag
    assert {"mona", "ned"} & set(_assumers(g, "mona-ops")) == {"mona"}  # a policy variable: the caller's own
    # named by its ARN, oscar needs no identity grant (nor MFA); pia, trusted as one of the account, does
    named = _assumers(g, "oscar-named")
    assert (named["oscar"], named["pia"]) == (False, True)


def _counted(probes: list[int]) -> Callable[..., AccessGraph]:
    """``graph.build._build`` that starts a new count of probes for every build."""
    inner = build_module._build

    def run(*args: Any, **kwargs: Any) -> AccessGraph:
        probes.append(0)
        return inner(*args, **kwargs)

    return run


@pytest.mark.parametrize("seed", [2, 7])
def test_generated_estates(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Conditions on principal tags and MFA, boundaries, SCPs, Deny guards, one-step admins, group joins."""
    out = tmp_path / "estate"
    args = ["--principals", "120", "--accounts", "2", "--resources", "40", "--seed", str(seed), "--out", str(out)]
    subprocess.run([sys.executable, str(GENERATOR), *args], check=True, capture_output=True)
    probes: list[int] = []
    evaluate = Estate.evaluate

    def counting(self: Estate, *args: Any, **kwargs: Any) -> Decision:
        probes[-1] += args[2] == "*"
        return evaluate(self, *args, **kwargs)

    monkeypatch.setattr(Estate, "evaluate", counting)
    snapshot = load_snapshot(out)
    with monkeypatch.context() as m:
        m.setattr(build_module, "_build", _counted(probes))
        g, shared, plain = _both(snapshot, monkeypatch)
    assert shared == plain
    assert len(g.admins()) > 5 and len(shared) > 1000
    assert probes[0] < probes[1] / 2  # the sharing is in use (shared build first, then the reference)


def test_entries_with_other_keys_are_evaluated_on_their_own(tmp_path: Path) -> None:
    """The memos are keyed by ARN for what an ARN fixes (tags, SCPs): an entry that differs from the
    estate's in those is evaluated, not answered from its ARN's entries."""
    estate = Estate(load(tmp_path, _estate("forward")))
    alice, bob = estate.principals[arn("user", "alice")], estate.principals[arn("user", "bob")]
    tagged_bob = replace(bob, context_values=alice.context_values)  # bob with alice's team tag
    action, role = "iam:PutRolePolicy", arn("role", "platform-deploy")
    assert not estate.evaluate_anywhere(bob, action, org_policies=False).possible
    assert estate.evaluate_anywhere(tagged_bob, action, org_policies=False).possible
    assert not estate.evaluate_alike(bob, "sts:AssumeRole", role).possible  # no sts:AssumeRole Allow
    kim = estate.principals[arn("user", "kim")]
    assert estate.evaluate_alike(kim, "sts:AssumeRole", role).possible
    untagged_kim = replace(kim, context_values=bob.context_values)
    assert not estate.evaluate_alike(untagged_kim, "sts:AssumeRole", role).possible


def test_principals_that_meet_the_same_conditions_share_one_evaluation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trust whose condition reads ``aws:PrincipalArn`` (a value of each principal's own) keeps apart only
    the principals it decides differently: those it admits share one evaluation, those it refuses another;
    a condition left to the request (``aws:SourceIp``) stays on every edge."""
    a = Account()
    assume = a.managed("assume-any", doc(allow("sts:AssumeRole")))
    ci, others = ["ci-build", "ci-deploy", "ci-test", "ci-lint"], ["alice", "bob", "carol"]
    for name in ci + others:
        a.user(name, managed=(assume,))
    root = f"arn:aws:iam::{ACCOUNT}:root"
    condition = {
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/ci-*"},
        "IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
    }
    trust = {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "sts:AssumeRole", "Condition": condition}
    a.role("ci-runner", doc(trust))
    snapshot = load(tmp_path, a)
    role = arn("role", "ci-runner")
    asked: list[str] = []
    evaluate = Estate.evaluate

    def counting(self: Estate, principal: Any, action: str, resource: str, **kwargs: Any) -> Decision:
        if action == "sts:AssumeRole" and resource == role:
            asked.append(principal.arn)
        return evaluate(self, principal, action, resource, **kwargs)

    monkeypatch.setattr(Estate, "evaluate", counting)
    g, shared, plain = _both(snapshot, monkeypatch)
    assert shared == plain
    shared_asks, plain_asks = asked[: len(asked) - len(ci + others)], asked[len(asked) - len(ci + others) :]
    assert sorted(p.rsplit("/", 1)[-1] for p in plain_asks) == sorted(ci + others)
    assert len(shared_asks) == 2  # one for the principals the trust admits, one for those it refuses
    assumers = _assumers(g, "ci-runner")
    assert set(assumers) == set(ci) and all(assumers.values())  # each under the request's source IP


def _deploy_functions(a: Account, roles: str) -> str:
    """A managed policy passing ``roles`` and creating and invoking functions, the latter for the
    principals tagged team=platform only."""
    if_platform = {"StringEquals": {"aws:PrincipalTag/team": "platform"}}
    functions = allow(["lambda:CreateFunction", "lambda:InvokeFunction"], Condition=if_platform)
    return a.managed("deploy-functions", doc(allow("iam:PassRole", roles), functions))


def test_passrole_service_requests_are_shared_by_principals_of_a_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service requests of a PassRole recipe (a new function: no inventory entry) are decided once per
    class of principals: those with the same policies whose conditions they meet alike. A condition on a
    principal tag keeps apart the principals it decides differently; the graph is the one of deciding
    every principal's requests on its own."""
    a = Account()
    deploy = _deploy_functions(a, arn("role", "fn-*"))
    teams = {"alice": "platform", "kim": "platform", "omar": "platform", "bob": "data", "lee": "data"}
    for name, team in teams.items():
        a.user(name, managed=(deploy,))
        a.users[-1]["Tags"] = [{"Key": "team", "Value": team}]
    a.role("fn-runner", trust_service("lambda.amazonaws.com"))
    snapshot = load(tmp_path, a)
    asked: list[str] = []
    evaluate = Estate.evaluate

    def counting(self: Estate, principal: Any, action: str, resource: str, **kwargs: Any) -> Decision:
        if action == "lambda:CreateFunction":
            asked.append(principal.arn)
        return evaluate(self, principal, action, resource, **kwargs)

    monkeypatch.setattr(Estate, "evaluate", counting)
    g, shared, plain = _both(snapshot, monkeypatch)
    assert shared == plain
    shared_asks, plain_asks = asked[: len(asked) - len(teams)], asked[len(asked) - len(teams) :]
    assert sorted(p.rsplit("/", 1)[-1] for p in plain_asks) == sorted(teams)
    assert len(shared_asks) == 2  # one per team: the condition passes for one class, fails for the other
    runners = {e.source.rsplit("/", 1)[-1] for e in g.edges(EdgeKind.ESCALATE) if e.target == arn("role", "fn-runner")}
    assert runners == {"alice", "kim", "omar"}


def _asked_on_instances(
    snapshot: Snapshot, asked_action: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[AccessGraph, list[str], list[str]]:
    """The graph, and who was evaluated for ``asked_action`` on an EC2 instance: in the shared build, then
    in the reference (``_both``, whose graph must be the shared one, byte for byte)."""
    asked: list[str] = []
    evaluate = Estate.evaluate

    def counting(self: Estate, principal: Any, action: str, resource: str, **kwargs: Any) -> Decision:
        if action == asked_action and resource.startswith("arn:aws:ec2:"):
            asked.append(principal.arn)
        return evaluate(self, principal, action, resource, **kwargs)

    monkeypatch.setattr(Estate, "evaluate", counting)
    shared_graph = build_graph(snapshot)
    shared_asks = list(asked)
    g, shared, plain = _both(snapshot, monkeypatch)
    assert shared == plain == list(_lines(shared_graph))
    return g, shared_asks, asked[2 * len(shared_asks) :]


def test_requests_on_resources_of_an_account_are_shared_by_principals_of_a_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request on a resource of the principal's own account that no resource policy bears on is decided
    once per class of principals for the action (``Decider._in_class``), even for principals whose other
    requests differ: alice's own policy keeps her takeover source class apart, not her SendCommand."""
    a = Account()
    if_platform = {"StringEquals": {"aws:PrincipalTag/team": "platform"}}
    operate = a.managed("operate-instances", doc(allow("ssm:SendCommand", Condition=if_platform)))
    teams = {"alice": "platform", "kim": "platform", "omar": "platform", "bob": "data", "lee": "data"}
    for name, team in teams.items():
        extra = (allow("ec2:StartInstances", "*"),) if name == "alice" else ()
        a.user(name, *extra, managed=(operate,))
        a.users[-1]["Tags"] = [{"Key": "team", "Value": team}]
    a.role("app", trust_service("ec2.amazonaws.com"))
    a.resource(
        f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123456789abcdef0", "AWS::EC2::Instance", arn("role", "app")
    )
    g, shared_asks, plain_asks = _asked_on_instances(load(tmp_path, a), "ssm:SendCommand", monkeypatch)
    assert len(shared_asks) == 2  # one per team: the condition passes for one class, fails for the other
    assert len(plain_asks) == 3  # one per takeover source class: alice, kim's and bob's
    runners = {e.source.rsplit("/", 1)[-1] for e in g.edges(EdgeKind.ESCALATE) if e.target == arn("role", "app")}
    assert runners == {"alice", "kim", "omar"}


def test_principal_tag_variables_share_by_their_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ABAC policy (``aws:ResourceTag/team`` equals ``${aws:PrincipalTag/team}``) no longer keeps every
    principal's requests its own: the clause is unknown for every principal until the resource is known, so
    the class carries the variable's value, and principals of the same team share one decision per
    instance while those of another team never get it (alice's extra grant splits her takeover source class,
    not her ec2:StopInstances class). The graph is the one of deciding each principal on its own."""
    a = Account()
    same_team = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    steps = ["ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances"]
    instances = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/*"
    operate = a.managed("operate-own-team", doc(allow(steps, instances, Condition=same_team)))
    teams = {"alice": "platform", "kim": "platform", "omar": "platform", "bob": "data", "lee": "data"}
    for name, team in teams.items():
        extra = (allow("ec2:ModifyInstanceAttribute", "*"),) if name == "alice" else ()
        a.user(name, *extra, managed=(operate,))
        a.users[-1]["Tags"] = [{"Key": "team", "Value": team}]
    for team in ("platform", "data"):
        a.role(f"{team}-app", trust_service("ec2.amazonaws.com"))
        instance = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-{team}"
        a.resource(instance, "AWS::EC2::Instance", arn("role", f"{team}-app"), tags={"team": team})
    g, shared_asks, plain_asks = _asked_on_instances(load(tmp_path, a), "ec2:StopInstances", monkeypatch)
    # the platform class on both instances (alice may modify any instance, so she asks on data's too), the
    # data class on its own; six, one per principal and instance asked, when a variable kept them apart
    assert len(shared_asks) == 3
    assert len(plain_asks) == 4  # one per takeover source class (alice's own, kim's, bob's) and instance asked
    for team, members in (("platform", {"alice", "kim", "omar"}), ("data", {"bob", "lee"})):
        role = arn("role", f"{team}-app")
        runners = {e.source.rsplit("/", 1)[-1] for e in g.edges(EdgeKind.ESCALATE) if e.target == role}
        assert runners == members


def test_passrole_sources_of_a_class_share_their_edges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PassRole's sources that the engine cannot tell apart (same policies, conditions met alike) derive
    their edges once per class, copied for the others but for the edge onto the source itself: two
    deployer roles that trust lambda and may pass each other get each other's role, never their own. A
    tag condition keeps the classes apart; the graph is the one of deriving every source on its own."""
    a = Account()
    deploy = _deploy_functions(a, arn("role", "*"))
    teams = {"alice": "platform", "kim": "platform", "bob": "data", "lee": "data"}
    for name, team in teams.items():
        a.user(name, managed=(deploy,))
        a.users[-1]["Tags"] = [{"Key": "team", "Value": team}]
    for name in ("deployer-a", "deployer-b"):
        a.role(name, trust_service("lambda.amazonaws.com"), managed=(deploy,))
        a.roles[-1]["Tags"] = [{"Key": "team", "Value": "platform"}]
    a.role("fn-runner", trust_service("lambda.amazonaws.com"))
    snapshot = load(tmp_path, a)
    derived: list[str] = []
    source_edges = passrole._source_edges

    def counting(idx: Any, p: PrincipalEntry, *args: Any, **kwargs: Any) -> Iterator[Any]:
        derived.append(p.arn.rsplit("/", 1)[-1])
        return source_edges(idx, p, *args, **kwargs)

    monkeypatch.setattr(passrole, "_source_edges", counting)
    g = build_graph(snapshot, workers=1)
    shared = list(_lines(g))
    shared_derived = list(derived)
    with monkeypatch.context() as m:
        m.setattr(passrole, "_source_class", _plain_passrole_class)
        plain = list(_lines(build_graph(snapshot, workers=1)))
    assert shared == plain
    assert sorted(derived[len(shared_derived) :]) == sorted([*teams, "deployer-a", "deployer-b"])
    assert len(shared_derived) == 3  # the platform users, the data users, the deployer roles
    escalations = {
        (e.source.rsplit("/", 1)[-1], e.target.rsplit("/", 1)[-1])
        for e in g.edges(EdgeKind.ESCALATE)
        if e.technique.startswith("iam:PassRole")
    }
    assert {t for s, t in escalations if s == "deployer-a"} == {"deployer-b", "fn-runner"}
    assert {t for s, t in escalations if s == "deployer-b"} == {"deployer-a", "fn-runner"}
    assert {s for s, t in escalations if t == "fn-runner"} == {"alice", "kim", "deployer-a", "deployer-b"}
