"""privesc agrees with the plain per-principal search it replaced, on many small generated graphs.

The reference below is the former implementation: a full breadth-first walk from every principal, once
over the edges that hold outright and, when that finds nothing, again over every usable edge, then the
shortest way to an admin (or to a grant onto a principal it can act as) among all it reached. The fast
search must find the same principals with paths of the same length and the same ``conditional`` flag;
it keeps the same breadth-first order, so today it also picks the very same path among equally short
ones (the last check of ``_compare``; a change of tie-breaking may drop that check, not the others).

Since the reference was written, an admin may be one only under conditions (MFA present): the reference
takes its state under the what-if (``_admin_state``); only outright admins end a walk over the edges that
hold outright, and a path to an admin under conditions is conditional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.graph.model import AccessGraph, NodeKind
from iamgraph.graph.queries import privesc
from iamgraph.graph.queries.base import HopMemo, usable
from iamgraph.graph.queries.budget import Deadline, LimitExceeded
from iamgraph.graph.queries.privesc import ESCALATING_KINDS, _forward, escalation_json  # _forward: exposure's
from iamgraph.graph.queries.whatif import AssumeUnknown, WhatIf
from iamgraph.model.policy import ConditionClause, Effect, PolicyKind, StatementRef
from iamgraph.policy.logic import Atom, Expr, expr_to_json
from iamgraph.policy.stored import expr_from_json, expr_to_store

REF = StatementRef(policy="p", layer=PolicyKind.TRUST, index=0, sid=None, effect=Effect.ALLOW)
ACCOUNT = "111122223333"


def _atom(key: str, operator: str, value: str) -> Atom:
    clause = ConditionClause(
        operator=operator, base=operator, qualifier=None, if_exists=False, key=key, values=(value,)
    )
    return Atom(source=REF, clause=clause, reason=f"value of {key} is not known")


MFA = _atom("aws:MultiFactorAuthPresent", "Bool", "true")
IP = _atom("aws:SourceIp", "IpAddress", "10.0.0.0/8")
CONDITIONS: dict[str, Expr] = {"none": True, "mfa": MFA, "ip": IP}
WHATIFS = {
    "keep": WhatIf(),
    "mfa": WhatIf(values={"aws:MultiFactorAuthPresent": "true"}),
    "no-mfa": WhatIf(values={"aws:MultiFactorAuthPresent": "false"}),
    "allow": WhatIf(assume=AssumeUnknown.ALLOW),
    "deny": WhatIf(assume=AssumeUnknown.DENY),
}
_GRANT = frozenset({EdgeKind.GRANT})
Path = list[tuple[DerivedEdge, Expr]]


# --- the reference: the former per-principal search, with admins under conditions --------------------


def _admin_state(g: Any, node: str, whatif: WhatIf) -> Expr:
    data = g.nodes[node]
    if not data.get("admin"):
        return False
    return True if "admin_expr" not in data else whatif.resolve(expr_from_json(data["admin_expr"]))


def _escalation(analysis: Any, src: str, whatif: WhatIf, max_depth: int) -> tuple[Path, bool] | None:
    """The path, and whether it ends with a grant onto a principal the source becomes only conditionally or
    at an admin under conditions."""
    g = analysis.graph.graph
    firm: dict[str, Path] = {}
    for unconditional in (True, False):
        reach = _forward(analysis, src, whatif, max_depth, unconditional=unconditional)
        if unconditional:
            firm = reach
        best: Path | None = None
        for node, path in reach.items():
            state = _admin_state(g, node, whatif)
            goal = state is True if unconditional else state is not False
            if node != src and goal and (best is None or len(path) < len(best)):
                best = path
            if best is not None and len(path) + 1 >= len(best):
                continue
            for e in analysis.graph.out_edges_of(node, _GRANT):
                if e.target not in reach:
                    continue
                cond = usable(e, whatif)
                if cond is False or (unconditional and cond is not True):
                    continue
                best = [*path, (e, cond)]
                break
        if best is not None:
            last = best[-1][0]
            if last.kind is EdgeKind.GRANT:
                return best, last.target not in firm
            return best, _admin_state(g, last.target, whatif) is not True
    return None


def reference_privesc(analysis: Any, *, whatif: WhatIf | None = None, max_depth: int = 8) -> dict[str, Any]:
    whatif = whatif or WhatIf()
    hop_json = HopMemo()
    g = analysis.graph.graph
    states = {str(n): _admin_state(g, n, whatif) for n in sorted(g.nodes)}
    escalations = []
    for node in sorted(g.nodes):
        if g.nodes[node].get("kind") not in ESCALATING_KINDS or states[str(node)] is True:
            continue
        found = _escalation(analysis, str(node), whatif, max_depth)
        if found is not None:
            entry = escalation_json(str(node), *found, hop_json)
            if states[str(node)] is False or not entry["conditional"]:  # an admin under conditions: outright
                escalations.append(entry)
    return {
        "admins": [n for n, state in states.items() if state is not False],
        "admin_conditions": {n: [expr_to_json(state)] for n, state in states.items() if not isinstance(state, bool)},
        "escalations": escalations,
    }


# --- small graphs ------------------------------------------------------------------------------------


@dataclass
class View:
    graph: AccessGraph

    def resolve(self, ref: str, *, what: str = "") -> str:
        return ref


def node_id(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


Edge = tuple[str, str, EdgeKind, str]  # source, target, kind, conditions ("none", "mfa", "ip")


def view(
    edges: list[Edge],
    admins: set[str] | None = None,
    kinds: dict[str, NodeKind] | None = None,
    admin_if: dict[str, str] | None = None,
) -> Any:
    """A QueryView over just these nodes and edges (privesc reads only the graph); ``admin_if``: admins only
    under conditions ("mfa", "ip"), as the build marks them."""
    admins, admin_if = admins or set(), admin_if or {}
    g = AccessGraph()
    names = sorted({n for s, t, _, _ in edges for n in (s, t)} | set(admins) | set(kinds or {}) | set(admin_if))
    for name in names:
        kind = (kinds or {}).get(name, NodeKind.ROLE)
        conditional = {"admin_expr": expr_to_store(CONDITIONS[admin_if[name]])} if name in admin_if else {}
        admin = name in admins or name in admin_if
        g.add_node(node_id(name), kind, name=name, account=ACCOUNT, admin=admin, **conditional)
    for i, (s, t, kind, conditions) in enumerate(edges):
        g.add_edge(
            DerivedEdge(
                source=node_id(s),
                target=node_id(t),
                kind=kind,
                technique=f"t{i % 3}",  # some parallel edges between the same two nodes
                conditions=CONDITIONS[conditions],
            )
        )
    return View(g)


def add_access(v: View, source: str, resource: str, conditions: str, technique: str) -> None:
    """An access edge (s3:GetObject) from ``source`` onto ``resource`` (names), for the who-can and exposure
    tests that share these graphs."""
    v.graph.add_edge(
        DerivedEdge(
            source=node_id(source),
            target=node_id(resource),
            kind=EdgeKind.ACCESS,
            technique=technique,
            actions=("s3:GetObject",),
            conditions=CONDITIONS[conditions],
        )
    )


def _reach_all(v: View, src: str, whatif: WhatIf, max_depth: int) -> set[str]:
    return set(_forward(v, src, whatif, max_depth))


def _check_path(v: View, found: dict[str, Any], whatif: WhatIf, max_depth: int) -> None:
    """The path is made of real edges, starts at the principal, is contiguous and ends at an admin or with
    a grant onto a principal it reaches."""
    g = v.graph
    src = found["principal"]
    at = src
    for hop in found["path"]:
        assert hop["source"] == at
        edges = [
            e
            for e in g.edges_between(hop["source"], hop["target"])
            if e.kind.value == hop["kind"] and e.technique == hop["technique"] and usable(e, whatif) is not False
        ]
        assert edges, hop
        at = hop["target"]
    *walk, last = found["path"]
    assert all(h["kind"] in {"assume", "escalate"} for h in walk)
    if last["kind"] == "grant":
        assert last["target"] in _reach_all(v, src, whatif, max_depth)
    else:
        assert g.graph.nodes[last["target"]].get("admin") and last["target"] != src


def _compare(v: View, whatif: WhatIf, max_depth: int) -> None:
    fast = privesc(v, whatif=whatif, max_depth=max_depth)
    ref = reference_privesc(v, whatif=whatif, max_depth=max_depth)
    assert fast["admins"] == ref["admins"]
    assert [e["principal"] for e in fast["escalations"]] == [e["principal"] for e in ref["escalations"]]
    for f, r in zip(fast["escalations"], ref["escalations"], strict=True):
        assert len(f["path"]) == len(r["path"]), (f, r)
        assert f["conditional"] == r["conditional"], (f, r)
        _check_path(v, f, whatif, max_depth)
    assert fast == ref  # the same breadth-first order: the same path among equally short ones


_KINDS = [NodeKind.ROLE, NodeKind.ROLE, NodeKind.USER, NodeKind.EXTERNAL_ACCOUNT, NodeKind.SERVICE, NodeKind.GROUP]


def edge_lists(names: list[str], kinds: list[EdgeKind], max_size: int) -> st.SearchStrategy[list[Edge]]:
    """Lists of edges between ``names``, of ``kinds``, half of them without conditions."""
    edge = st.tuples(
        st.sampled_from(names),
        st.sampled_from(names),
        st.sampled_from(kinds),
        st.sampled_from(["none", "none", "mfa", "ip"]),
    )
    return st.lists(edge, max_size=max_size)


@st.composite
def graphs(draw: st.DrawFn) -> View:
    n = draw(st.integers(1, 8))
    names = [f"n{i}" for i in range(n)]
    kinds = {name: draw(st.sampled_from(_KINDS)) for name in names}
    admins = draw(st.sets(st.sampled_from(names), max_size=2))
    admin_if = draw(st.dictionaries(st.sampled_from(names), st.sampled_from(["mfa", "ip"]), max_size=2))
    edges = draw(edge_lists(names, [EdgeKind.ASSUME, EdgeKind.ASSUME, EdgeKind.ESCALATE, EdgeKind.GRANT], 4 * n))
    return view(edges, admins - set(admin_if), kinds, admin_if)


@settings(max_examples=400, deadline=None)
@given(v=graphs(), max_depth=st.sampled_from([0, 1, 2, 3, 8]), whatif=st.sampled_from(sorted(WHATIFS)))
def test_same_answers_as_the_per_principal_search(v: View, max_depth: int, whatif: str) -> None:
    _compare(v, WHATIFS[whatif], max_depth)


@settings(max_examples=100, deadline=None)
@given(v=graphs())
def test_same_answers_at_every_depth_on_one_graph(v: View) -> None:
    for max_depth in (1, 2, 4):
        _compare(v, WHATIFS["keep"], max_depth)


# --- hand-written cases --------------------------------------------------------------------------------


def _escalation_of(result: dict[str, Any], name: str) -> dict[str, Any] | None:
    found = [e for e in result["escalations"] if e["principal"] == node_id(name)]
    return found[0] if found else None


def _hops(found: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    assert found is not None
    return [(h["kind"], h["source"].rsplit("/", 1)[1], h["target"].rsplit("/", 1)[1]) for h in found["path"]]


@pytest.mark.parametrize("max_depth", [1, 2, 3, 8])
def test_a_grant_whose_target_is_found_deeper_than_the_grant(max_depth: int) -> None:
    # dev holds a grant onto c, which it can only act as three hops down; an admin is two hops away
    v = view(
        [
            ("dev", "a", EdgeKind.ASSUME, "none"),
            ("a", "b", EdgeKind.ASSUME, "none"),
            ("b", "c", EdgeKind.ASSUME, "none"),
            ("a", "adm", EdgeKind.ASSUME, "none"),
            ("dev", "c", EdgeKind.GRANT, "none"),
        ],
        admins={"adm"},
    )
    found = _escalation_of(privesc(v, max_depth=max_depth), "dev")
    if max_depth >= 3:  # c is within reach: the grant (one hop) is the shortest way
        assert _hops(found) == [("grant", "dev", "c")]
    elif max_depth == 2:  # c is not: the admin two hops down
        assert _hops(found) == [("assume", "dev", "a"), ("assume", "a", "adm")]
    else:
        assert found is None
    _compare(v, WhatIf(), max_depth)


def test_a_grant_onto_itself() -> None:
    v = view([("dev", "dev", EdgeKind.GRANT, "none"), ("dev", "ops", EdgeKind.ASSUME, "none")])
    for max_depth in (0, 1, 8):
        found = _escalation_of(privesc(v, max_depth=max_depth), "dev")
        assert _hops(found) == [("grant", "dev", "dev")]
        assert found is not None and found["conditional"] is False
        _compare(v, WhatIf(), max_depth)


def test_a_grant_onto_a_principal_it_becomes_only_with_mfa_is_conditional() -> None:
    # dev may rewrite ops's permissions outright, but can act as ops only with MFA: escalating needs MFA,
    # although the one hop shown (the grant) holds outright
    v = view([("dev", "ops", EdgeKind.GRANT, "none"), ("dev", "ops", EdgeKind.ASSUME, "mfa")])
    found = _escalation_of(privesc(v), "dev")
    assert _hops(found) == [("grant", "dev", "ops")]
    assert found is not None and found["conditional"] is True
    _compare(v, WhatIf(), 8)
    # with MFA known to be present it is unconditional
    found = _escalation_of(privesc(v, whatif=WhatIf({"aws:MultiFactorAuthPresent": "true"})), "dev")
    assert found is not None and found["conditional"] is False


def test_an_admin_reached_only_conditionally_loses_to_a_longer_unconditional_grant() -> None:
    # dev -(MFA)-> admin directly; without conditions dev -> a -> b, and b may rewrite a's permissions
    edges: list[Edge] = [
        ("dev", "adm", EdgeKind.ASSUME, "mfa"),
        ("dev", "a", EdgeKind.ASSUME, "none"),
        ("a", "b", EdgeKind.ESCALATE, "none"),
        ("b", "a", EdgeKind.GRANT, "none"),
    ]
    v = view(edges, admins={"adm"})
    found = _escalation_of(privesc(v), "dev")
    assert found is not None and found["conditional"] is False
    assert _hops(found) == [("assume", "dev", "a"), ("escalate", "a", "b"), ("grant", "b", "a")]
    _compare(v, WhatIf(), 8)
    # with the grant conditional too, only conditional ways are left: the shortest, straight to the admin
    v = view([(s, t, k, "mfa" if k is EdgeKind.GRANT else c) for s, t, k, c in edges], admins={"adm"})
    found = _escalation_of(privesc(v), "dev")
    assert found is not None and found["conditional"] is True
    assert _hops(found) == [("assume", "dev", "adm")]
    _compare(v, WhatIf(), 8)
    # and with MFA known to be present, the direct edge holds outright: one unconditional hop
    found = _escalation_of(privesc(v, whatif=WHATIFS["mfa"]), "dev")
    assert found is not None and found["conditional"] is False and _hops(found) == [("assume", "dev", "adm")]
    _compare(v, WHATIFS["mfa"], 8)


@pytest.mark.parametrize("max_depth", [1, 2, 3])
def test_the_max_depth_boundary(max_depth: int) -> None:
    # a chain p0 -> p1 -> ... -> p4; the admin at the end, p_k grants onto p_(k-1) and onto p_(k+1)
    chain = [(f"p{i}", f"p{i + 1}", EdgeKind.ASSUME, "none") for i in range(4)]
    for k in range(1, 5):
        v = view([*chain, (f"p{k}", f"p{k - 1}", EdgeKind.GRANT, "none")], admins={"p4"})
        found = _escalation_of(privesc(v, max_depth=max_depth), "p0")
        if k <= max_depth:  # the grant from depth k onto p_(k-1): k + 1 hops, one more than max_depth at most
            assert found is not None and len(found["path"]) == k + 1 and found["path"][-1]["kind"] == "grant"
        else:
            assert found is None  # p_k is out of reach, and so is the admin p4 (max_depth < 4)
        _compare(v, WhatIf(), max_depth)
    for k in range(0, 4):
        # a grant onto the next one down the chain: usable only when that one is within max_depth
        v = view([*chain, (f"p{k}", f"p{k + 1}", EdgeKind.GRANT, "none")], admins={"p4"})
        found = _escalation_of(privesc(v, max_depth=max_depth), "p0")
        if k + 1 <= max_depth:
            assert found is not None and len(found["path"]) == k + 1
        else:
            assert found is None
        _compare(v, WhatIf(), max_depth)
    # the admin itself exactly at max_depth, then one hop beyond it
    at = view(chain[:max_depth], admins={f"p{max_depth}"})
    assert len(_hops(_escalation_of(privesc(at, max_depth=max_depth), "p0"))) == max_depth
    beyond = view(chain[: max_depth + 1], admins={f"p{max_depth + 1}"})
    assert _escalation_of(privesc(beyond, max_depth=max_depth), "p0") is None


def test_the_deadline_is_checked() -> None:
    v = view([("dev", "ops", EdgeKind.ASSUME, "none"), ("ops", "adm", EdgeKind.ASSUME, "none")], admins={"adm"})
    with pytest.raises(LimitExceeded):
        privesc(v, deadline=Deadline(at=0.0, budget=1.0))


def test_the_search_kept_on_the_graph_is_dropped_with_a_new_edge() -> None:
    """Without a what-if the search is kept for the next query (privesc, exposure); a new edge drops it."""
    v = view([("dev", "ops", EdgeKind.ASSUME, "none")], admins={"adm"})
    assert privesc(v)["escalations"] == []
    assert any(k.startswith("act-as-search") for k in v.graph.query_memo)
    v.graph.add_edge(DerivedEdge(source=node_id("ops"), target=node_id("adm"), kind=EdgeKind.ASSUME, technique="t"))
    assert not v.graph.query_memo
    assert [e["principal"] for e in privesc(v)["escalations"]] == [node_id("dev"), node_id("ops")]
    assert privesc(v) == reference_privesc(v)
    mfa = privesc(v, whatif=WHATIFS["deny"])  # a what-if makes its own search and keeps none
    assert mfa == reference_privesc(v, whatif=WHATIFS["deny"])


def test_a_query_past_its_deadline_leaves_no_search_behind() -> None:
    v = view([("dev", "ops", EdgeKind.ASSUME, "none"), ("ops", "adm", EdgeKind.ASSUME, "none")], admins={"adm"})
    with pytest.raises(LimitExceeded):
        privesc(v, deadline=Deadline(at=0.0, budget=1.0))
    assert privesc(v) == reference_privesc(v)
