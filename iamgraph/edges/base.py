"""Derived edges: what an edge technique yields, with the proof that decided it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from iamgraph.evaluation.decision import Decision, MatchedStatement
from iamgraph.model._fast import fast_constructor, fast_pickle
from iamgraph.policy.logic import Expr, expr_to_json

if TYPE_CHECKING:
    from iamgraph.graph.estate import Estate

__all__ = ["NO_ACCESS", "DerivedEdge", "EdgeKind", "EdgeTechnique", "edge_from_decisions", "new_edge", "proof_of"]


class EdgeKind(StrEnum):
    MEMBER = "member"  # user -> group
    ASSUME = "assume"  # principal -> role (sts:AssumeRole*)
    ESCALATE = "escalate"  # principal -> principal it can act as (credentials, PassRole, takeover, trust rewrite)
    GRANT = "grant"  # principal -> principal it can make admin by changing its permissions (self-grant = admin)
    ACCESS = "access"  # principal -> resource, actions grouped by access level


TRAVERSABLE = frozenset({EdgeKind.MEMBER, EdgeKind.ASSUME, EdgeKind.ESCALATE})


class _NoAccess(dict[str, tuple[str, ...]]):
    """The ``access`` of every edge that is not an access edge: one shared, empty, read-only mapping. An
    empty dict of its own cost each edge 64 bytes (215 MB over the 3.4 million edges of a 50,000-principal
    estate), and as many again once a cached graph is unpickled; this one pickles as a reference to
    :data:`NO_ACCESS`."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "NO_ACCESS"

    def __hash__(self) -> int:  # type: ignore[override]  # empty and read-only; a dataclass default must hash
        return 0

    def _read_only(self, *args: object, **kwargs: object) -> Any:
        raise TypeError("NO_ACCESS is read-only")

    __setitem__ = __delitem__ = __ior__ = _read_only
    update = setdefault = pop = popitem = clear = _read_only


NO_ACCESS: Mapping[str, tuple[str, ...]] = _NoAccess()


@fast_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedEdge:
    """One edge with its proof (deciding statements) and residual conditions (``True``: none)."""

    source: str
    target: str
    kind: EdgeKind
    technique: str
    actions: tuple[str, ...] = ()
    proof: tuple[MatchedStatement, ...] = ()
    conditions: Expr = True
    access: Mapping[str, tuple[str, ...]] = field(default=NO_ACCESS, hash=False)
    via: tuple[str, ...] = ()  # intermediate resources (e.g. the Lambda function taken over)
    note: str = ""

    @property
    def conditional(self) -> bool:
        return self.conditions is not True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "target": self.target,
            "kind": self.kind.value,
            "technique": self.technique,
            "actions": list(self.actions),
            "conditions": [] if self.conditions is True else [expr_to_json(self.conditions)],
            "proof": [m.to_json() for m in self.proof],
        }
        if self.access:
            out["access"] = {k: list(v) for k, v in self.access.items()}
        if self.via:
            out["via"] = list(self.via)
        if self.note:
            out["note"] = self.note
        return out


new_edge = fast_constructor(DerivedEdge)  # DerivedEdge(...) without the frozen __init__'s per-field stores


def proof_of(decisions: Iterable[Decision]) -> tuple[MatchedStatement, ...]:
    """The deciding statements of several decisions, each once, in order."""
    seen: dict[tuple[str, str, int, str | None], MatchedStatement] = {}
    for d in decisions:
        for m in d.deciding():
            key = (m.ref.layer, m.ref.policy, m.ref.index, m.level)
            seen.setdefault(key, m)
    return tuple(seen.values())


def edge_from_decisions(
    source: str,
    target: str,
    kind: EdgeKind,
    technique: str,
    decisions: Mapping[str, Decision],
    **extra: Any,
) -> DerivedEdge | None:
    """An edge when every required action is possible; conditions are the AND of their residuals."""
    from iamgraph.policy.logic import conj

    if not decisions or not all(d.possible for d in decisions.values()):
        return None
    conditions = conj(d.residual for d in decisions.values())
    if conditions is False:
        return None
    return DerivedEdge(
        source=source,
        target=target,
        kind=kind,
        technique=technique,
        actions=tuple(decisions),
        proof=proof_of(decisions.values()),
        conditions=conditions,
        **extra,
    )


@dataclass(frozen=True, slots=True)
class EdgeTechnique:
    """A registered technique family: ``derive`` yields every edge of the family for an estate."""

    name: str
    family: str
    derive: Callable[[Estate], Iterable[DerivedEdge]]
    description: str = ""
