"""A hypothetical admin check beside an Allow-everything policy keeps only the principal's policies with a
Deny (``beside_allow_all``): its verdict must be the one made with every policy. Checked for every
principal of the demo organisation and of generated estates (conditions, boundaries, SCPs, Denies), for the
written policy and for each holder of each customer managed policy with a version that allows everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.edges.techniques._edges import WRITTEN_POLICY
from iamgraph.edges.techniques._privesc import PrivescIndex, beside_allow_all
from iamgraph.graph.estate import Estate
from iamgraph.ingest import load_snapshot
from iamgraph.model.policy import Effect, PolicyKind
from iamgraph.policy.parse import parse_policy

from .estate_builder import demo_or_generated


def _fresh(snapshot_dir: Path) -> PrivescIndex:
    return PrivescIndex(Estate(load_snapshot(snapshot_dir)))


@pytest.mark.parametrize("seed", [None, 3, 11])
def test_the_shared_verdict_is_the_full_one(tmp_path: Path, seed: int | None) -> None:
    root = demo_or_generated(tmp_path, seed, principals=120, accounts=3, resources=120)
    shared, full = _fresh(root), _fresh(root)  # separate memos: no answer of one reaches the other
    allow_all = parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        name="version allowing everything",
        kind=PolicyKind.IDENTITY,
    )
    checked = dropped = 0
    for p in shared.estate.acting_principals():
        for org_policies in (False, True):
            got = shared.admin_with_written_policy(p, org_policies=org_policies)
            want = full.admin_if(
                p, ("every policy", org_policies), identity=(*p.identity, WRITTEN_POLICY), org_policies=org_policies
            )
            assert (got.admin, got.conditions) == (want.admin, want.conditions), p.arn
            checked += 1
        for pol in p.identity:  # a version of one of its policies that allows everything, in its place
            replaced = tuple(allow_all if q is pol else q for q in p.identity)
            kept = beside_allow_all(replaced, allow_all)
            dropped += len(replaced) - len(kept)
            assert all(q is allow_all or any(st.ref.effect is Effect.DENY for st in q.statements) for q in kept)
            got = shared.admin_if(p, ("version", pol.name, "shared"), identity=kept)
            want = full.admin_if(p, ("version", pol.name, "full"), identity=replaced)
            assert (got.admin, got.conditions) == (want.admin, want.conditions), (p.arn, pol.name)
    assert checked and dropped, "the estates have principals with Allow-only policies beside others"


def test_a_policy_not_in_the_identity_keeps_everything() -> None:
    """A version that is only the holder's boundary does not stand in the identity: nothing is dropped."""
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    mine = parse_policy(doc, name="mine", kind=PolicyKind.IDENTITY)
    allow_all = parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        name="all",
        kind=PolicyKind.IDENTITY,
    )
    assert beside_allow_all((mine,), allow_all) == (mine,)
    assert beside_allow_all((mine, allow_all), allow_all) == (allow_all,)
    conditional = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                }
            ],
        },
        name="conditional",
        kind=PolicyKind.IDENTITY,
    )
    assert beside_allow_all((mine, conditional), conditional) == (mine, conditional)  # not outright: all kept
