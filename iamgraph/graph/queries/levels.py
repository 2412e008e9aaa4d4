"""who-can's backward walk, a level at a time over flat arrays of every node's act-as sources.

A whole who-can answer at 50,000 principals lists about 24,000 of them, found over some 1.2 million
(node, source) pairs. Walked node by node, with a bitset of the nodes seen, each node costs a few
operations on numbers as long as the graph (6 kB each), and the walk alone took about 170 ms. Here each
level is a handful of array operations over the sources of all its nodes at once (about 20 ms for the
whole walk), and the paths of a level's nodes are made in one pass from their parents'.

The walk is the node-by-node one, step for step: a level's nodes in the order that walk queues them (for
each node of the level before, in its order, its sources not seen yet in the order of its groups in
``AccessGraph.in_sources_of``), each with the same parent (the first node of the level before that has it
as a source) and the same edge onto it (the first of its edges from that source that holds, outright when
the walk is ``firm``). tests/unit/graph/test_who_can_walk.py holds it to the edge-by-edge walk.

``SourceTable`` is made from the graph once (a couple of seconds at 50,000 principals; a server makes it at
start-up) and kept with the graph's query memos, dropped with them by a new edge.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from iamgraph.edges.base import DerivedEdge
from iamgraph.graph.model import AccessGraph
from iamgraph.graph.queries.base import ACT_AS, Hop, path_conditional
from iamgraph.graph.queries.budget import Deadline, check
from iamgraph.policy.logic import Expr

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Levels", "SourceTable", "listing", "loose_flags", "source_table"]

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]
Starts = dict[str, list[tuple[DerivedEdge, Expr]]]
_KEY = "act-as-source-table"


@dataclass(slots=True)
class Sources:
    """Node ``i``'s sources are ``src[ptr[i]:ptr[i + 1]]`` (numbers, in the order of its groups); entry ``j``
    arrives by ``edges[j]``, the first edge from that source that holds (outright, in the firm table).
    ``hops[j]``: that edge as a hop, made when first asked for (the graph's ``hop_cache`` has the same dict;
    ``made[j]`` says whether it is); ``loose[j]``: whether the edge holds only under conditions."""

    ptr: Ints
    src: Ints
    edges: list[DerivedEdge]
    hops: list[Hop | None]
    loose: Flags
    made: Flags  # whether ``hops[j]`` is made


@dataclass(slots=True)
class SourceTable:
    """Every node's act-as sources, over every edge that may hold (``every``) and over the edges that hold
    outright (``firm``), plus those whose first edge that may hold is conditional (``mixed``, without its
    edges: a firm walk passing over them may miss a node). ``rank``: each node's place among all nodes
    sorted by name; ``kinds``: each node's kind as the answers show it."""

    every: Sources
    firm: Sources
    mixed: Sources
    rank: Ints
    kinds: list[str]

    @property
    def size(self) -> int:
        return len(self.kinds)


def source_table(g: AccessGraph) -> SourceTable:
    """The table of ``g``, made now unless the graph keeps it."""
    found = g.query_memo.get(_KEY)
    if isinstance(found, SourceTable):
        return found
    names, numbers = g.names(), g.numbers()
    counts: dict[str, list[int]] = {side: [0] * len(names) for side in ("every", "firm", "mixed")}
    src: dict[str, list[int]] = {side: [] for side in counts}
    edges: dict[str, list[DerivedEdge]] = {side: [] for side in counts}
    for i, node in enumerate(names):
        into = g.in_edges_of(node, ACT_AS)
        if not into:
            continue
        # grouped as ``in_sources_of`` groups them, but neither kept nor turned into bitsets: making those for
        # every node doubled the first who-can of a process at 5k principals (1.47 -> 2.70 s)
        groups: dict[str, list[DerivedEdge]] = {}
        for e in into:
            groups.setdefault(e.source, []).append(e)
        for source, group in groups.items():
            first = firm = None
            for e in group:
                if e.conditions is True:
                    firm = e
                    first = first if first is not None else e
                    break
                if first is None and e.conditions is not False:
                    first = e
            if first is None:
                continue
            s = numbers[source]
            for side, edge in (("every", first), ("firm", firm), ("mixed", None if first is firm else first)):
                if edge is not None:
                    src[side].append(s)
                    counts[side][i] += 1
                    if side != "mixed":  # only tested for being there
                        edges[side].append(edge)
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.array(order, dtype=np.int64)] = np.arange(len(names), dtype=np.int64)
    kinds = g.graph.nodes(data="kind", default="")
    every, firm_only, mixed = (_sources(counts[side], src[side], edges[side]) for side in ("every", "firm", "mixed"))
    table = SourceTable(
        every,
        firm_only,
        mixed,
        rank=rank,
        kinds=[str(kinds[node]) for node in names],
    )
    g.query_memo[_KEY] = table
    return table


def _sources(counts: list[int], src: list[int], edges: list[DerivedEdge]) -> Sources:
    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(np.array(counts, dtype=np.int64), out=ptr[1:])
    loose = np.fromiter((e.conditions is not True for e in edges), dtype=np.bool_, count=len(edges))
    made = np.zeros(len(edges), dtype=np.bool_)
    return Sources(ptr, np.array(src, dtype=np.int64), edges, [None] * len(edges), loose, made)


class Levels:
    """The backward walk from ``starts`` (node -> its last hops onto the target), one level at a time and
    only as deep as asked: ``level(k)`` are the nodes (numbers) at ``k`` act-as hops from a start, path
    length ``k + 1``. ``firm``: over the edges that hold outright only; ``passed_over`` then says whether a
    conditional edge onto a node not seen yet was left. Paths are made when asked for (``fill``)."""

    __slots__ = (
        "_depth",
        "_entry",
        "_excluded",
        "_filled",
        "_loose",
        "_parent",
        "_side",
        "_starts",
        "_unseen",
        "deadline",
        "firm",
        "levels",
        "max_depth",
        "passed_over",
        "paths",
        "table",
    )

    def __init__(
        self,
        table: SourceTable,
        starts: Starts,
        numbers: dict[str, int],
        *,
        firm: bool,
        max_depth: int,
        deadline: Deadline | None,
        excluded: int | None = None,
    ) -> None:
        self.table, self.firm, self.max_depth, self.deadline = table, firm, max_depth, deadline
        self._side = table.firm if firm else table.every
        self._starts = {numbers[node]: hops for node, hops in starts.items()}
        first = np.fromiter(self._starts, dtype=np.int64, count=len(self._starts))
        self._unseen: Flags = np.ones(table.size, dtype=np.bool_)
        self._unseen[first] = False
        self._excluded = excluded  # a node never reached (who-can's principal target): not in ``seen``
        if excluded is not None:
            self._unseen[excluded] = False
        # a node's parent and the entry of the parent's sources it arrives by: set for the nodes seen past
        # the starts, read for nothing else
        self._parent: Ints = np.empty(table.size, dtype=np.int64)
        self._entry: Ints = np.empty(table.size, dtype=np.int64)
        self._depth: Ints = np.empty(table.size, dtype=np.int64)
        self._depth[first] = 0
        self.levels: list[Ints] = [first] if len(first) else []
        self.passed_over = False
        self.paths: dict[int, list[Hop]] = {}  # by node: its hops, made by ``fill``
        # by node: whether ``fill`` made its path, and whether that holds only under conditions
        self._filled: Flags = np.zeros(table.size, dtype=np.bool_)
        self._loose: Flags = np.zeros(table.size, dtype=np.bool_)

    @property
    def seen(self) -> int:
        """The nodes seen so far, as a bitset over ``AccessGraph.numbers``."""
        seen = int.from_bytes(np.packbits(~self._unseen, bitorder="little").tobytes(), "little")
        return seen if self._excluded is None else seen & ~(1 << self._excluded)

    def level(self, k: int) -> Ints | None:
        """The nodes at ``k`` hops from a start; None past the last."""
        while len(self.levels) <= k:
            if not self._advance():
                return None
        return self.levels[k]

    def walk_all(self) -> None:
        while self._advance():
            pass

    def _advance(self) -> bool:
        if not self.levels or not len(self.levels[-1]) or len(self.levels) >= self.max_depth:
            return False
        check(self.deadline)
        frontier = self.levels[-1]
        side, unseen = self._side, self._unseen
        entries, owners = _entries(side.ptr, frontier)
        found = side.src[entries]
        fresh = np.flatnonzero(unseen[found])  # positions among ``entries`` of sources not seen before
        found = found[fresh]
        # each source once, where it comes first: the node of the level that queues it in the walk
        first = np.unique(found, return_index=True)[1]
        first.sort()
        new, at = found[first], fresh[first]
        if self.firm and not self.passed_over:
            self.passed_over = self._passes_over(frontier)  # before this level's nodes are marked
        unseen[new] = False
        self._parent[new] = frontier[owners[at]]
        self._entry[new] = entries[at]
        self._depth[new] = len(self.levels)
        self.levels.append(new)
        return bool(len(new))

    def _passes_over(self, frontier: Ints) -> bool:
        """Whether some node of ``frontier`` has a conditional-first source not seen before this level. The
        node-by-node walk's flag leaves out the sources queued by a node before it in the level; this one
        may say yes where that one said no, which only makes who-can walk every edge for nothing new."""
        entries, _ = _entries(self.table.mixed.ptr, frontier)
        return bool(len(entries)) and bool(np.any(self._unseen[self.table.mixed.src[entries]]))

    def fill(self, nodes: list[int], hop: Callable[[DerivedEdge, Expr], Hop]) -> None:
        """Make the paths of ``nodes`` into ``paths`` and whether each holds only under conditions
        (``loose_flags``), a level at a time: a node's path is the edge onto its parent, then the parent's path
        (made first when it is not yet). Each level in a few array operations and one comprehension: a whole
        answer makes tens of thousands of paths, and each step per node reads a list or a map as long as the
        graph's edges, at a random place."""
        paths, side, filled, flags = self.paths, self._side, self._filled, self._loose
        at = np.array(nodes, dtype=np.int64)
        at = at[~filled[at]]
        if not len(at):
            return
        depth = self._depth[at]
        order = np.argsort(depth, kind="stable")
        at, depth = at[order], depth[order]
        cuts = [0, *(np.flatnonzero(np.diff(depth)) + 1).tolist(), len(at)]
        for lo, hi in itertools.pairwise(cuts):
            run = at[lo:hi]
            if not depth[lo]:  # starts: their own last hops
                for node in run.tolist():
                    last = self._starts[node]
                    paths[node] = [hop(e, c) for e, c in last]
                    flags[node] = path_conditional(last)
                filled[run] = True
                continue
            parents, entries = self._parent[run], self._entry[run]
            missing = parents[~filled[parents]]
            if len(missing):
                self.fill(np.unique(missing).tolist(), hop)
            hops = side.hops
            unmade = np.unique(entries[~side.made[entries]])
            if len(unmade):
                for j in unmade.tolist():
                    e = side.edges[j]
                    hops[j] = hop(e, e.conditions)
                side.made[unmade] = True
            flags[run] = side.loose[entries] | flags[parents]
            made_hops = cast("list[Hop]", hops)  # every entry of this level's is made now
            filled[run] = True
            level_paths = [
                [h, *before]
                for h, before in zip(
                    map(made_hops.__getitem__, entries.tolist()), map(paths.__getitem__, parents.tolist()), strict=True
                )
            ]
            paths.update(zip(run.tolist(), level_paths, strict=True))


def loose_flags(firm: Levels, every: Levels, nodes: list[int], from_firm: list[bool]) -> list[bool]:
    """Whether the path of each of ``nodes`` (made by ``fill``, by the firm walk where ``from_firm`` says so,
    else by the walk over every edge) holds only under conditions."""
    at = np.array(nodes, dtype=np.int64)
    flags: list[bool] = np.where(np.array(from_firm, dtype=np.bool_), firm._loose[at], every._loose[at]).tolist()
    return flags


def listing(firm: Levels, every: Levels | None, firm_set: int, offset: int, end: int) -> tuple[list[int], list[bool]]:
    """who-can's principals from ``offset`` to ``end`` in (path length, ARN) order: level by level, the
    nodes of the firm walk and those of the walk over every edge (when walked) not in ``firm_set``, sorted
    by name; and whether each comes from the firm walk. The walks go only as deep as ``end``."""
    table = firm.table
    in_firm = _flags(firm_set, table.size)
    listed: list[int] = []
    from_firm: list[bool] = []
    counted, k = 0, 0
    while counted < end:
        at_firm, at_every = firm.level(k), every.level(k) if every is not None else None
        if (at_firm is None or not len(at_firm)) and (at_every is None or not len(at_every)):
            break
        mine = at_firm if at_firm is not None else _NONE
        others = at_every[~in_firm[at_every]] if at_every is not None else _NONE
        if counted + len(mine) + len(others) > offset:
            here = np.concatenate((mine, others))
            chosen = np.argsort(table.rank[here], kind="stable")[max(offset - counted, 0) : end - counted]
            listed.extend(here[chosen].tolist())
            from_firm.extend((chosen < len(mine)).tolist())
        counted += len(mine) + len(others)
        k += 1
    return listed, from_firm


_NONE = np.zeros(0, dtype=np.int64)


def _flags(bitset: int, size: int) -> Flags:
    """A bitset over the node numbers as one flag per node."""
    data = np.frombuffer(bitset.to_bytes((size + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(data, count=size, bitorder="little").astype(np.bool_)


def _entries(ptr: Ints, nodes: Ints) -> tuple[Ints, Ints]:
    """The positions of the sources of ``nodes`` in a table's ``src``, node after node, and for each the
    index among ``nodes`` of the node it belongs to."""
    lo = ptr[nodes]
    counts = ptr[nodes + 1] - lo
    total = int(counts.sum())
    owners = np.repeat(np.arange(len(nodes), dtype=np.int64), counts)
    if not total:
        return owners, owners
    ends = np.cumsum(counts)
    entries = np.repeat(lo - (ends - counts), counts) + np.arange(total, dtype=np.int64)
    return entries, owners
