"""policy_versions: CreatePolicyVersion / SetDefaultPolicyVersion on a managed policy -> grant its holders."""

from __future__ import annotations

from pathlib import Path

from iamgraph.edges.base import EdgeKind

from .estate_builder import Account, allow, arn, deny, doc, graph, none, one, sids

ATTACKER = arn("user", "attacker")


def test_create_policy_version_on_own_policy(tmp_path: Path) -> None:
    a = Account()
    mine = a.managed("Mine", doc(allow("iam:CreatePolicyVersion", f"arn:aws:iam::{a.id}:policy/Mine", sid="Edit")))
    a.user("attacker", managed=(mine,))
    a.user("holder", managed=(mine,))
    g = graph(tmp_path, a)
    e = one(g, ATTACKER, ATTACKER, "iam:CreatePolicyVersion")
    assert e.kind is EdgeKind.GRANT and e.via == (mine,) and sids(e) == {"Edit"}
    assert g.node(ATTACKER)["admin"]
    none(g, ATTACKER, arn("user", "holder"))  # a one-step admin: only its self grant is kept


def test_create_policy_version_on_a_policy_others_hold(tmp_path: Path) -> None:
    a = Account()
    theirs = a.managed("Theirs", doc(allow("s3:GetObject")))
    a.user("attacker", allow("iam:CreatePolicyVersion", f"arn:aws:iam::{a.id}:policy/Theirs", sid="Edit"))
    a.group("team", managed=(theirs,))
    a.user("holder", groups=("team",))
    runner = a.role("runner", {"Version": "2012-10-17", "Statement": []}, managed=(theirs,))
    g = graph(tmp_path, a)
    assert one(g, ATTACKER, arn("user", "holder"), "iam:CreatePolicyVersion").via == (theirs, arn("group", "team"))
    assert sids(one(g, ATTACKER, runner, "iam:CreatePolicyVersion")) == {"Edit"}
    none(g, ATTACKER, ATTACKER)


def test_five_versions_need_delete_policy_version(tmp_path: Path) -> None:
    a = Account()
    versions = tuple(doc(allow("s3:GetObject")) for _ in range(4))
    mine = a.managed("Mine", doc(allow("iam:CreatePolicyVersion")), others=versions)
    a.user("attacker", managed=(mine,))
    none(graph(tmp_path, a), ATTACKER, ATTACKER)


def test_create_policy_version_denied(tmp_path: Path) -> None:
    a = Account()
    mine = a.managed("Mine", doc(allow("iam:CreatePolicyVersion"), deny("iam:CreatePolicyVersion")))
    a.user("attacker", managed=(mine,))
    none(graph(tmp_path, a), ATTACKER, ATTACKER)


def test_set_default_to_a_broader_version(tmp_path: Path) -> None:
    a = Account()
    mine = a.managed("Mine", doc(allow("iam:SetDefaultPolicyVersion", sid="Switch")), others=(doc(allow("*")),))
    a.user("attacker", managed=(mine,))
    a.user("holder", managed=(mine,))
    g = graph(tmp_path, a)
    e = one(g, ATTACKER, ATTACKER, "iam:SetDefaultPolicyVersion")
    assert "v2" in e.note and sids(e) == {"Switch"}
    assert "v2" in one(g, ATTACKER, arn("user", "holder"), "iam:SetDefaultPolicyVersion").note


def test_set_default_to_a_narrower_version(tmp_path: Path) -> None:
    a = Account()
    mine = a.managed("Mine", doc(allow("iam:SetDefaultPolicyVersion")), others=(doc(allow("s3:GetObject")),))
    a.user("attacker", managed=(mine,))
    none(graph(tmp_path, a), ATTACKER, ATTACKER)


def test_set_default_onto_others_only_where_a_version_makes_them_admin(tmp_path: Path) -> None:
    """Switching a policy others hold to a version that grants less than admin gives the source no say over
    what they get: no grant. A version that makes one holder admin is a grant onto that holder only."""
    a = Account()
    narrow = a.managed("Narrow", doc(allow("s3:ListAllMyBuckets")), others=(doc(allow("s3:GetObject")),))
    broad = a.managed("Broad", doc(allow("s3:ListAllMyBuckets")), others=(doc(allow("s3:GetObject")), doc(allow("*"))))
    # Broad as the boundary of a user whose own policies allow little: admin neither before nor after
    capped = a.managed("Capped", doc(allow("s3:ListAllMyBuckets")))
    a.user("attacker", allow("iam:SetDefaultPolicyVersion", sid="Switch"))
    a.user("narrow-holder", managed=(narrow,))
    a.user("broad-holder", managed=(broad,))
    a.user("bounded", managed=(capped,), boundary=broad)
    g = graph(tmp_path, a)
    none(g, ATTACKER, arn("user", "narrow-holder"))
    none(g, ATTACKER, arn("user", "bounded"))
    e = one(g, ATTACKER, arn("user", "broad-holder"), "iam:SetDefaultPolicyVersion")
    assert e.kind is EdgeKind.GRANT and "version v3" in e.note and sids(e) == {"Switch"}


def test_create_policy_version_on_a_boundary_grants_only_what_the_holder_already_has(tmp_path: Path) -> None:
    """Rewriting a policy that is only a holder's permissions boundary lifts the cap and adds nothing: a
    grant onto the holder only when its own policies make it admin without the cap."""
    a = Account()
    cap = a.managed("Cap", doc(allow("s3:*")))
    a.user("attacker", allow("iam:CreatePolicyVersion", f"arn:aws:iam::{a.id}:policy/Cap", sid="Edit"))
    a.user("reader", allow("s3:GetObject"), boundary=cap)
    a.user("capped-admin", managed=(a.admin_policy(),), boundary=cap)
    g = graph(tmp_path, a)
    none(g, ATTACKER, arn("user", "reader"))
    e = one(g, ATTACKER, arn("user", "capped-admin"), "iam:CreatePolicyVersion")
    assert e.kind is EdgeKind.GRANT and "boundary" in e.note and sids(e) == {"Edit"}
