"""Role assumption decisions shared by roles whose trust policies have the same text
(``SharedDecisions._twin``): the decision made for one role is renamed for the other, so that its proof
and its conditions name the other role's own trust policy. The graph must be the one of evaluating every
request on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.export import to_json
from iamgraph.graph import shared as shared_module
from iamgraph.graph.build import build_graph
from iamgraph.graph.estate import Estate, PrincipalEntry
from iamgraph.ingest import load_snapshot
from iamgraph.model.policy import PolicyKind
from iamgraph.policy.logic import atoms

from .estate_builder import ACCOUNT, OTHER, Account, Doc, allow, arn, demo_or_generated, doc, graph, one

ASSUME = "sts:AssumeRole"
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def _plain_alike(self: Estate, principal: PrincipalEntry, action: str, resource: str) -> object:
    return self.evaluate(principal, action, resource)


@pytest.mark.parametrize("seed", [None, 5, 17])
def test_renamed_decisions_equal_evaluating_each_role(
    seed: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = demo_or_generated(tmp_path, seed, principals=150, accounts=3, resources=300)
    renamed = 0
    rename = shared_module._renamed

    def counted(*args: object) -> object:
        nonlocal renamed
        renamed += 1
        return rename(*args)  # type: ignore[arg-type]

    with monkeypatch.context() as m:
        m.setattr(shared_module, "_renamed", counted)
        twins = to_json(build_graph(load_snapshot(path), resource_access="eager"))
    with monkeypatch.context() as m:
        m.setattr(Estate, "evaluate_alike", _plain_alike)
        alone = to_json(build_graph(load_snapshot(path), resource_access="eager"))
    assert twins == alone
    if seed is not None:
        assert renamed > 0  # decisions were shared between roles: the comparison means something


def _estate() -> Account:
    """Three roles with one trust text (anyone of the account, with MFA); a caller allowed to assume only
    the deploy-* roles tagged env=dev, and one allowed to assume any role."""
    a = Account()
    root = f"arn:aws:iam::{ACCOUNT}:root"
    trust = doc({"Sid": "Team", "Effect": "Allow", "Principal": {"AWS": root}, "Action": ASSUME, "Condition": MFA})
    for name, env in (("deploy-a", "dev"), ("deploy-b", "prod"), ("audit-c", "dev")):
        a.role(name, trust)
        a.roles[-1]["Tags"] = [{"Key": "env", "Value": env}]
    dev_only = {"StringEquals": {"aws:ResourceTag/env": "dev"}}
    a.user("dev", allow(ASSUME, f"arn:aws:iam::{ACCOUNT}:role/deploy-*", Condition=dev_only))
    a.user("ops", allow(ASSUME))
    return a


def test_each_role_s_edge_names_its_own_trust_policy(tmp_path: Path) -> None:
    g = graph(tmp_path, _estate())
    for name in ("deploy-a", "deploy-b", "audit-c"):
        role = arn("role", name)
        edge = one(g, arn("user", "ops"), role, ASSUME)
        trusts = {m.ref.policy for m in edge.proof if m.ref.layer is PolicyKind.TRUST}
        assert trusts == {role}
        assert {a.source.policy for a in atoms(edge.conditions)} == {role}  # the MFA condition of its own trust


def test_a_caller_s_resource_patterns_and_tag_conditions_keep_roles_apart(tmp_path: Path) -> None:
    """deploy-a and deploy-b share a trust text, but only deploy-a is tagged env=dev; audit-c is tagged
    env=dev but its name is not deploy-*: dev may assume deploy-a only."""
    g = graph(tmp_path, _estate())
    assumed = {e.target for e in g.edges() if e.source == arn("user", "dev") and e.technique == ASSUME}
    assert assumed == {arn("role", "deploy-a")}


def test_an_rcp_of_one_role_s_account_keeps_its_callers_apart(tmp_path: Path) -> None:
    """Two roles with one trust text in two accounts; an RCP of the second denies sts:AssumeRole to callers
    not tagged team=ops. What a caller reads of the trust text is kept per account: the RCP's condition
    tells ops from dev on the second role only, though their reads on the first are the same."""
    deployer = "777788889999"
    a, b, c = Account(), Account(id=OTHER), Account(id=deployer)
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{deployer}:root"}, "Action": ASSUME})
    a.role("deploy", trust)
    b.role("deploy", trust)
    assumer = c.managed("assumer", doc(allow(ASSUME)))
    for name, team in (("ops", "ops"), ("dev", "dev")):
        c.user(name, managed=(assumer,))
        c.users[-1]["Tags"] = [{"Key": "team", "Value": team}]
    only_ops = {"StringNotEquals": {"aws:PrincipalTag/team": "ops"}}
    rcp = doc({"Effect": "Deny", "Principal": "*", "Action": ASSUME, "Resource": "*", "Condition": only_ops})
    accounts = [ACCOUNT, OTHER, deployer]
    organization = {
        "management_account": "999988887777",
        "roots": [{"id": "r-root"}],
        "organizational_units": [],
        "accounts": [{"id": x, "name": f"acct-{x}", "parent": "r-root"} for x in ["999988887777", *accounts]],
        "policies": [
            {"id": "p-full", "name": "FullAWSAccess", "type": "SERVICE_CONTROL_POLICY", "document": doc(allow("*")),
             "targets": ["r-root", "999988887777", *accounts]},
            {"id": "p-ops", "name": "OpsOnly", "type": "RESOURCE_CONTROL_POLICY", "document": rcp, "targets": [OTHER]},
        ],
    }  # fmt: skip
    g = graph(tmp_path, a, b, c, organization=organization)
    callers = {
        (e.source.rsplit("/", 1)[-1], e.target.split(":")[4])
        for e in g.edges()
        if e.technique == ASSUME and e.target.endswith(":role/deploy")
    }
    assert callers == {("ops", ACCOUNT), ("dev", ACCOUNT), ("ops", OTHER)}


def test_one_trust_text_in_two_accounts_is_two_decisions(tmp_path: Path) -> None:
    """A trust naming a user lets it in without an identity grant only in its own account: the role of the
    user's account and the role of another account with the same trust text get different decisions."""
    a, b = Account(), Account(id=OTHER)
    user = b.user("builder")
    trust = doc({"Effect": "Allow", "Principal": {"AWS": user}, "Action": ASSUME})
    a.role("build", trust)
    b.role("build", trust)
    g = graph(tmp_path, a, b)
    assumed = {e.target for e in g.edges() if e.source == user and e.technique == ASSUME}
    assert assumed == {arn("role", "build", OTHER)}


THIRD = "121212121212"
DEPLOYER = "777788889999"
MANAGEMENT = "999988887777"


def _org(*policies: Doc) -> Doc:
    """ACCOUNT and OTHER in two OUs, the deployer and the management account at the root; FullAWSAccess
    everywhere and RCPFullAWSAccess-like allows at every level, so that RCP statements (and their levels)
    are part of every proof of sts:AssumeRole."""
    everyone = ["r-root", "ou-apps", "ou-data", MANAGEMENT, ACCOUNT, OTHER, THIRD, DEPLOYER]
    full_rcp = doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
    return {
        "id": "o-twinsorg0001",
        "management_account": MANAGEMENT,
        "roots": [{"id": "r-root"}],
        "organizational_units": [
            {"id": "ou-apps", "name": "apps", "parent": "r-root"},
            {"id": "ou-data", "name": "data", "parent": "r-root"},
        ],
        "accounts": [
            {"id": MANAGEMENT, "name": "management", "parent": "r-root"},
            {"id": ACCOUNT, "name": "apps-1", "parent": "ou-apps"},
            {"id": THIRD, "name": "apps-2", "parent": "ou-apps"},
            {"id": OTHER, "name": "data-1", "parent": "ou-data"},
            {"id": DEPLOYER, "name": "deployer", "parent": "r-root"},
        ],
        "policies": [
            {"id": "p-full", "name": "FullAWSAccess", "type": "SERVICE_CONTROL_POLICY", "document": doc(allow("*")),
             "targets": everyone},
            {"id": "p-rcp-full", "name": "RCPFull", "type": "RESOURCE_CONTROL_POLICY", "document": full_rcp,
             "targets": everyone},
            *policies,
        ],
    }  # fmt: skip


def _deploy_roles(trust: Doc) -> tuple[Account, Account, Account, Account]:
    a, b, t, c = Account(), Account(id=OTHER), Account(id=THIRD), Account(id=DEPLOYER)
    for acct in (a, b, t):
        acct.role("deploy", trust)
    return a, b, t, c


def _assumers(g: object, target_name: str = "deploy") -> set[tuple[str, str]]:
    return {
        (e.source.rsplit("/", 1)[-1], e.target.split(":")[4])
        for e in g.edges()  # type: ignore[attr-defined]
        if e.technique == ASSUME and e.target.endswith(f":role/{target_name}")
    }


def test_twins_across_accounts_name_their_own_trust_and_rcp_levels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One trust text (the deployer account, with MFA) in three accounts of two OUs: a decision made for
    one role is reused for the others (they differ only by where they are, and the same RCPs apply at
    each level of their paths), its proof renamed: each edge names the role's own trust policy and the
    levels of the role's own path. The graph is the one of evaluating every request on its own."""
    trust = doc({"Sid": "Deployers", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEPLOYER}:root"},
                 "Action": ASSUME, "Condition": MFA})  # fmt: skip
    a, b, t, c = _deploy_roles(trust)
    c.user("ci", allow(ASSUME, "arn:aws:iam::*:role/deploy"))
    levels_renamed = 0
    names = shared_module._level_names

    def counted(*args: object) -> dict[str, str]:
        nonlocal levels_renamed
        out = names(*args)  # type: ignore[arg-type]
        levels_renamed += bool(out)
        return out

    with monkeypatch.context() as m:
        m.setattr(shared_module, "_level_names", counted)
        g = graph(tmp_path / "twins", a, b, t, c, organization=_org())
    assert levels_renamed > 0  # the three decisions were one, renamed
    with monkeypatch.context() as m:
        m.setattr(Estate, "evaluate_alike", _plain_alike)
        alone = graph(tmp_path / "alone", a, b, t, c, organization=_org())
    assert to_json(g) == to_json(alone)
    paths = {
        ACCOUNT: {"r-root", "ou-apps", ACCOUNT},
        THIRD: {"r-root", "ou-apps", THIRD},
        OTHER: {"r-root", "ou-data", OTHER},
    }
    for account, path in paths.items():
        role = arn("role", "deploy", account)
        edge = one(g, arn("user", "ci", DEPLOYER), role, ASSUME)
        assert {m.ref.policy for m in edge.proof if m.ref.layer is PolicyKind.TRUST} == {role}
        assert {m.level for m in edge.proof if m.ref.layer is PolicyKind.RCP} == path
        assert {a.source.policy for a in atoms(edge.conditions)} == {role}


def test_a_caller_condition_on_the_resource_account_keeps_twins_apart(tmp_path: Path) -> None:
    """The caller may assume deploy roles of ACCOUNT only (aws:ResourceAccount): the roles with the same
    trust text elsewhere are not assumable, though everything else about them is alike."""
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEPLOYER}:root"}, "Action": ASSUME})
    a, b, t, c = _deploy_roles(trust)
    c.user("ci", allow(ASSUME, Condition={"StringEquals": {"aws:ResourceAccount": ACCOUNT}}))
    c.user("any", allow(ASSUME))
    g = graph(tmp_path, a, b, t, c, organization=_org())
    assert _assumers(g) == {("ci", ACCOUNT), ("any", ACCOUNT), ("any", OTHER), ("any", THIRD)}


@pytest.mark.parametrize("where", ["trust", "rcp"])
def test_a_condition_on_the_resource_org_path_keeps_twins_apart(tmp_path: Path, where: str) -> None:
    """A trust or RCP condition on aws:ResourceOrgPaths (apps OU only) tells the twins apart by their path."""
    in_apps = {"ForAnyValue:StringLike": {"aws:ResourceOrgPaths": "*/ou-apps/*"}}
    statement = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEPLOYER}:root"}, "Action": ASSUME}
    policies: list[Doc] = []
    if where == "trust":
        statement["Condition"] = in_apps
    else:
        outside = {"ForAllValues:StringNotLike": {"aws:ResourceOrgPaths": "*/ou-apps/*"}}
        rcp = doc({"Effect": "Deny", "Principal": "*", "Action": ASSUME, "Resource": "*", "Condition": outside})
        policies.append({"id": "p-apps", "name": "AppsOnly", "type": "RESOURCE_CONTROL_POLICY", "document": rcp,
                         "targets": ["r-root"]})  # fmt: skip
    a, b, t, c = _deploy_roles(doc(statement))
    c.user("ci", allow(ASSUME))
    g = graph(tmp_path, a, b, t, c, organization=_org(*policies))
    assert _assumers(g) == {("ci", ACCOUNT), ("ci", THIRD)}
