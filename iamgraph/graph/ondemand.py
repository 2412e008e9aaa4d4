"""Resource access on demand: a graph that keeps its principal->principal edges and computes the access
edges onto a resource when a query first reaches it.

An estate of 50,000 principals and 200,000 resources has tens of millions of (principal, resource) access
edges: more than the memory of the machine and hours of evaluation, though a review asks about a few
resources at a time. Built with ``resource_access="on-demand"``, the graph holds every other edge, plus
the access edges of outsiders (anyone, accounts and principals outside the snapshot, services), which are
few and make the exposure query and its nodes; the access edges of the estate's own principals onto a
resource are made the first time a query asks for the resource's in-edges, by the same code as a full
build (``ResourceAccess.edges_onto``), and kept in a bounded memo.

What a query sees is the same as in a fully built graph: the same edges, proofs and conditions, in the
same order (by the source's place among the graph's nodes, as the graph's own index lists them). What is
not there: the access edges *out of* a principal (the forward direction would mean evaluating it against
every resource), so a graph's edge counts, its exports and its Neo4j load hold the outsiders' access edges
only, and say so (``AccessGraph.on_demand``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from iamgraph.edges.base import DerivedEdge
from iamgraph.edges.techniques.resource_access import ResourceAccess, has_access_edges
from iamgraph.errors import InputError
from iamgraph.graph.estate import Estate
from iamgraph.model.snapshot import Snapshot

__all__ = [
    "AUTO_PRINCIPALS",
    "MODES",
    "ON_DEMAND_NOTE",
    "PRINCIPAL_ACCESS_NOTE",
    "OnDemandAccess",
    "check_mode",
    "resolve_mode",
]

MODES = ("auto", "eager", "on-demand")
# ``auto``: on demand above this many principals (users and roles). At 5,000 principals the eager build
# takes 9 minutes and 5.5 GB (docs/benchmarks.md); at 50,000 it would not fit in memory.
AUTO_PRINCIPALS = 10_000
Made = tuple[list[DerivedEdge], dict[str, list[DerivedEdge]]]  # edges in graph order, and by source
ON_DEMAND_NOTE = (
    "on demand: the access edges of the estate's own principals are made per resource by who-can, can and "
    "path; resources reached through principals are not counted here, nor compared by diff"
)
PRINCIPAL_ACCESS_NOTE = "resource access on demand: a principal's access edges are made per resource, not counted here"
# access edges kept made, of the most recently made resources (at least the last one, however large): a
# resource granted to a whole organisation of 50,000 principals has as many, a few hundred bytes each
EDGES_KEPT = 2_000_000
MEMO_LIMIT = 2_000_000  # entries of the evaluation memos before they start afresh (about 1 GB at 50k)


def check_mode(mode: str, element: str) -> str:
    """``mode`` when it is one of ``MODES``, else a one-line input error naming ``element``."""
    if mode not in MODES:
        raise InputError(f'"{mode}" is not one of {", ".join(MODES)}', element=element)
    return mode


def resolve_mode(mode: str, snapshot: Snapshot) -> str:
    """``eager`` or ``on-demand``: ``mode`` itself, or what ``auto`` stands for with this snapshot."""
    if check_mode(mode, "resource access (--resource-access)") != "auto":
        return mode
    principals = sum(len(a.users) + len(a.roles) for a in snapshot.accounts.values())
    return "on-demand" if principals > AUTO_PRINCIPALS else "eager"


class OnDemandAccess:
    """The access edges onto a resource, made when first asked for (see the module's docstring)."""

    def __init__(self, estate: Estate) -> None:
        self.bind(estate)

    def bind(self, estate: Estate) -> None:
        """Compute from ``estate`` from now on (an analysis hands over its own, without the build's memos)."""
        self.estate = estate
        self._lock = threading.Lock()
        self.computed = 0  # resources computed so far (a benchmark reports it)
        self._computed: ResourceAccess | None = None
        self._memo: dict[str, Made] = {}
        self._kept = 0  # access edges in the memo

    def __getstate__(self) -> dict[str, Any]:
        return {"estate": self.estate}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.bind(state["estate"])

    def handles(self, node: str) -> bool:
        """Is ``node`` a resource whose access edges are made on demand?"""
        res = self.estate.resources.get(node)
        return res is not None and has_access_edges(res)

    def _access(self) -> ResourceAccess:
        if self._computed is None:
            self._computed = ResourceAccess(self.estate)
        return self._computed

    def onto(self, node: str, order: Callable[[str], int]) -> list[DerivedEdge] | None:
        """The access edges onto ``node`` ordered by ``order`` of their source (stable: a source's own edges
        in the order they were made); None when ``node`` is not such a resource."""
        made = self._get(node, order)
        return None if made is None else made[0]

    def between(self, source: str, node: str, order: Callable[[str], int]) -> list[DerivedEdge] | None:
        """Those of ``onto`` that come from ``source`` (a path's last hop looks them up node by node)."""
        made = self._get(node, order)
        return None if made is None else made[1].get(source, [])

    def by_source(self, node: str, order: Callable[[str], int]) -> dict[str, list[DerivedEdge]] | None:
        """Those of ``onto`` by source, sources in the order their edges were made: the order a built graph's
        adjacency has them in (a neighbourhood walk keeps the first neighbours in that order)."""
        made = self._get(node, order)
        return None if made is None else made[1]

    def _get(self, node: str, order: Callable[[str], int]) -> Made | None:
        found = self._memo.get(node)
        if found is not None:
            return found
        if not self.handles(node):
            return None
        with self._lock:
            found = self._memo.get(node)
            if found is None:
                made = self._made(node)
                by_source: dict[str, list[DerivedEdge]] = {}
                for e in made:
                    by_source.setdefault(e.source, []).append(e)
                found = (sorted(made, key=lambda e: order(e.source)), by_source)
                self._keep(node, found)
                self.computed += 1
        return found

    def _keep(self, node: str, made: Made) -> None:
        """Into the memo, the oldest out until ``EDGES_KEPT`` edges or only this one are left (under the lock;
        a reader in another thread holds its own reference to what it got)."""
        memo = self._memo
        memo[node] = made
        self._kept += len(made[0])
        while self._kept > EDGES_KEPT and len(memo) > 1:
            oldest = next(iter(memo))
            self._kept -= len(memo.pop(oldest)[0])

    def _made(self, node: str) -> list[DerivedEdge]:
        access = self._access()
        kept: dict[tuple[str, object], DerivedEdge] = {}
        for e in access.edges_onto(self.estate.resources[node]):  # an admin's mark never covers access edges
            kept.setdefault((e.source, e.conditions), e)  # as ``AccessGraph.add_edge``: the first of equals
        if access.memo_size() > MEMO_LIMIT:
            self._computed = None  # the next resource starts with empty evaluation memos
        return list(kept.values())
