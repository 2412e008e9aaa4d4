"""Edge building shared by the privilege-escalation techniques: proof without made-up policies,
conditions ANDed over every step, and the choice among alternative techniques for one pair."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from iamgraph.edges.base import DerivedEdge, EdgeKind, new_edge, proof_of
from iamgraph.evaluation.decision import Decision, MatchedStatement
from iamgraph.model.policy import Policy, PolicyKind, PrincipalBlock
from iamgraph.policy.logic import Expr, conj
from iamgraph.policy.parse import parse_policy

__all__ = [
    "SYNTHETIC",
    "WRITTEN_POLICY",
    "Alternatives",
    "forget_proofs",
    "make_edge",
    "outright",
    "shared",
    "synthetic_policy",
]

SYNTHETIC = "(hypothetical)"  # name prefix of the policies techniques make up; never shown as proof


def synthetic_policy(label: str, statement: Mapping[str, object], kind: PolicyKind) -> Policy:
    """A one-statement policy standing for something the source would write."""
    doc = {"Version": "2012-10-17", "Statement": [dict(statement)]}
    return parse_policy(doc, name=f"{SYNTHETIC} {label}", kind=kind)


WRITTEN_POLICY = synthetic_policy(
    "Allow-everything policy the source writes or attaches",
    {"Sid": "WrittenBySource", "Effect": "Allow", "Action": "*", "Resource": "*"},
    PolicyKind.IDENTITY,
)


# Edges from one source share their decisions (memoised per signature): proof and conditions are
# computed once per combination, deciding statements once per decision. Keys are object ids; the
# values keep those objects alive so an id cannot be reused while its entry exists.
_CACHE_SIZE = 200_000
_PROOFS: dict[tuple[int, ...], tuple[tuple[MatchedStatement, ...], Expr, tuple[Decision, ...], Expr]] = {}
_DECIDING: dict[int, tuple[tuple[MatchedStatement, ...], Decision]] = {}


_SHARED: dict[tuple[str, ...], tuple[str, ...]] = {}


def shared(names: tuple[str, ...]) -> tuple[str, ...]:
    """One tuple object for equal tuples of names (an edge's actions, its ``via``): millions of edges
    name the same few action lists, and a tuple of their own cost each 48-64 bytes."""
    hit = _SHARED.get(names)
    if hit is None:
        if len(_SHARED) >= _CACHE_SIZE:
            _SHARED.clear()
        hit = _SHARED[names] = names
    return hit


def forget_proofs() -> None:
    """Empty the proof memos (they keep the decisions they were made from alive)."""
    _PROOFS.clear()
    _DECIDING.clear()


def _deciding(d: Decision) -> tuple[MatchedStatement, ...]:
    hit = _DECIDING.get(id(d))
    if hit is None:
        if len(_DECIDING) >= _CACHE_SIZE:
            _DECIDING.clear()
        own = tuple(m for m in proof_of((d,)) if not m.ref.policy.startswith(SYNTHETIC))
        hit = _DECIDING[id(d)] = (own, d)
    return hit[0]


def _part(decisions: tuple[Decision, ...], extra: Expr) -> tuple[tuple[MatchedStatement, ...], Expr]:
    """Proof and conditions of some decisions (False conditions: one of them is impossible)."""
    key = (*map(id, decisions), id(extra))
    hit = _PROOFS.get(key)
    if hit is None:
        if len(_PROOFS) >= _CACHE_SIZE:
            _PROOFS.clear()
        if not all(d.possible for d in decisions):
            proof: tuple[MatchedStatement, ...] = ()
            conditions: Expr = False
        else:
            conditions = conj([*(d.residual for d in decisions), extra])
            proof = _merged(tuple(_deciding(d) for d in decisions))
        hit = _PROOFS[key] = (proof, conditions, decisions, extra)
    return hit[0], hit[1]


def _merged(parts: tuple[tuple[MatchedStatement, ...], ...]) -> tuple[MatchedStatement, ...]:
    """Deciding statements of several decisions, each once, in order (as ``proof_of``)."""
    if len(parts) == 1:
        return parts[0]
    seen: dict[tuple[str, str, int, str | None], MatchedStatement] = {}
    for part in parts:
        for m in part:
            seen.setdefault((m.ref.layer, m.ref.policy, m.ref.index, m.level), m)
    return tuple(seen.values())


def outright(decisions: Iterable[Decision | None]) -> bool:
    """Every decision holds without conditions (None: none to check): an edge ``make_edge`` makes of them
    (it conjoins their residuals) is unconditional."""
    return all(d is None or d.residual is True for d in decisions)


def make_edge(
    source: str,
    target: str,
    kind: EdgeKind,
    technique: str,
    steps: Mapping[str, Decision],
    *,
    support: Sequence[Decision] = (),
    extra_conditions: Expr = True,
    via: tuple[str, ...] = (),
    note: str = "",
) -> DerivedEdge | None:
    """An edge when every step (and supporting decision, e.g. a trust check) is possible.

    ``actions`` are the source's own requests; proof lists their deciding statements and those of the
    supporting decisions, leaving out made-up policies; conditions AND every residual.
    """
    if not steps:
        return None
    proof, conditions = _part(tuple(steps.values()), extra_conditions)  # shared by the source's edges
    if support and conditions is not False:
        more, more_conditions = _part(tuple(support), True)
        proof, conditions = _merged((proof, more)), conj((conditions, more_conditions))
    if conditions is False:
        return None
    return new_edge(
        source=source,
        target=target,
        kind=kind,
        technique=technique,
        actions=shared(tuple(steps)),
        proof=proof,
        conditions=conditions,
        via=shared(via) if via else via,
        note=note,
    )


def from_source(edge: DerivedEdge, source: str) -> DerivedEdge:
    """``edge`` as made for another source that the engine cannot tell apart from the edge's own (same
    decisions, so the same proof and conditions)."""
    if edge.source == source:
        return edge
    return new_edge(
        source=source,
        target=edge.target,
        kind=edge.kind,
        technique=edge.technique,
        actions=edge.actions,
        proof=edge.proof,
        conditions=edge.conditions,
        access=edge.access,
        via=edge.via,
        note=edge.note,
    )


class Alternatives:
    """Alternative techniques for one (source, target) pair, tried in order of preference: the first
    that works is kept, a later one only when it is unconditional and every kept one is not."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], bool] = {}  # pair -> an unconditional edge is kept

    def settled(self, source: str, target: str) -> bool:
        """An unconditional edge is kept for the pair: nothing later can be kept."""
        return self._kept.get((source, target), False)

    def holds(self, source: str, target: str) -> bool:
        """An edge is kept for the pair (a later one is kept only when unconditional)."""
        return (source, target) in self._kept

    def keep(self, edge: DerivedEdge) -> bool:
        pair = (edge.source, edge.target)
        if pair in self._kept and (self._kept[pair] or edge.conditional):
            return False
        self._kept[pair] = not edge.conditional
        return True


def naming_blocks(policies: Iterable[Policy], actions: tuple[str, ...]) -> tuple[PrincipalBlock, ...] | None:
    """The distinct Principal elements of the statements naming one of ``actions`` in resource ``policies``:
    the sources they name decide on their own, outside any class of sources. None when such a statement has
    no Principal element or a NotPrincipal: it may bear on any source."""
    found: dict[tuple[object, ...], PrincipalBlock] = {}
    for policy in policies:
        for st in policy.statements:
            if not any(st.action_matcher.matches(a) for a in actions):
                continue
            if st.principal is None or st.not_principal is not None:
                return None
            b = st.principal
            found.setdefault((b.wildcard, b.aws, b.service, b.federated), b)
    return tuple(found.values())
