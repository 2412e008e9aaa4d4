"""Who reaches whom over act-as edges within a number of hops, as bitsets: shared by the queries.

``bounded_reach`` is the round-per-hop computation privesc's passes use forwards. ``reverse_sets`` runs it
backwards over the whole graph (the sources of each node's act-as in-edges, numbered by
``AccessGraph.numbers``): for every node, the set of nodes that can act as it within ``hops`` hops, over
the edges that hold outright (``firm``) and over every edge that may hold (``every``). With them, who-can
knows at once how many principals reach a resource and walks only as far as the page it lists, and a
path or ``can`` walks only through nodes that can still get to the target.

They describe the edges' own conditions: a query under a what-if does not use them. A server makes them
at start-up for its default depth (``ready_for_queries``); a query never makes them (a one-off query at the
command line would pay seconds for them), it uses them when they are there.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from iamgraph.edges.base import DerivedEdge
from iamgraph.graph.model import AccessGraph
from iamgraph.graph.queries.base import ACT_AS
from iamgraph.graph.queries.budget import Deadline, check

__all__ = [
    "Blocks",
    "ReverseSets",
    "bits",
    "bounded_reach",
    "factor",
    "in_order",
    "known_reverse_sets",
    "reverse_sets",
]


_FEW_BITS = 24  # up to this many, bit by bit is the quicker (measured over a 52,000-bit mask)


def bits(mask: int) -> Iterator[int]:
    """The positions of the set bits of ``mask``, lowest first. Bit by bit for a few bits; else from the
    mask's binary digits: each step of ``mask ^= low`` copies the whole mask (6 kB over a 50,000-principal
    graph), so listing a set of 20,000 principals that way took 75 ms, and 6.5 ms from its digits."""
    if mask.bit_count() <= _FEW_BITS:
        while mask:
            low = mask & -mask
            yield low.bit_length() - 1
            mask ^= low
        return
    digits = format(mask, "b")[::-1]  # digit i is bit i
    find = digits.find
    i = find("1")
    while i >= 0:
        yield i
        i = find("1", i + 1)


def in_order(
    new: int,
    groups: list[tuple[str, list[DerivedEdge]]],
    rank: dict[str, int],
    numbers: dict[str, int],
    names: list[str],
) -> list[str]:
    """The nodes of the bitset ``new`` (all of them among the keys of ``groups``) in the groups' order: by
    scanning the groups when ``new`` holds most of them, else by sorting its few nodes by their rank."""
    if 4 * new.bit_count() >= len(groups):
        has = bit_test(new)
        return [node for node, _ in groups if has(numbers[node])]
    return sorted((names[i] for i in bits(new)), key=rank.__getitem__)


def bit_test(mask: int) -> Callable[[int], bool]:
    """Membership in a bitset, read as bytes: ``mask >> i & 1`` on a set of the whole graph makes a new
    number as long as the set for every node asked (thousands of bytes each at 25,000 nodes)."""
    data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
    size = len(data)
    return lambda i: (i >> 3) < size and bool(data[i >> 3] >> (i & 7) & 1)


Blocks = tuple[Mapping[int, Sequence[int]], Sequence[Sequence[int]]]  # node -> its blocks; block -> members
MIN_BLOCK = 8  # a group of successors this large is computed once per round for every node that has it


def factor(groups: Mapping[int, Iterable[Collection[int]]]) -> tuple[dict[int, list[int]], Blocks]:
    """Successor lists given as groups per node (the targets or sources of one technique's edges), with the
    large groups taken out as shared blocks: ``(rest, (blocks_of, members))``. Groups repeat from node to
    node: every principal of an account has the same admins acting as it, and an admin acts as the same
    principals as every other admin of its account; at 50,000 principals 2.3 million successors become
    6,935 blocks (243,000 members, used 85,000 times) and 71,000 others. Equal groups are one block."""
    ids: dict[frozenset[int], int] = {}
    members: list[list[int]] = []
    blocks_of: dict[int, list[int]] = {}
    rest: dict[int, list[int]] = {}
    for u, sets in groups.items():
        small: set[int] = set()
        mine: list[int] = []
        for group in sets:
            if len(group) < MIN_BLOCK:
                small.update(group)
                continue
            key = frozenset(group)
            b = ids.get(key)
            if b is None:
                b = ids[key] = len(members)
                members.append(sorted(key))
            mine.append(b)
        if mine:
            blocks_of[u] = mine
        if small:
            rest[u] = sorted(small)
    return rest, (blocks_of, members)


def bounded_reach(
    succ: Mapping[int, Sequence[int]], hops: int, deadline: Deadline | None, blocks: Blocks | None = None
) -> dict[int, int]:
    """For every node of ``succ`` (and each of its successors) the bitset of the nodes it reaches within
    ``hops`` steps: ``reach_k(u) = {u} | reach_(k-1)(v) for every successor v``, recomputed in each round
    only for the nodes with a successor that changed in the previous one. A node not in the result reaches
    only itself.

    ``blocks`` (see :func:`factor`): more successors, by shared groups. A block's union is made once per
    round in which one of its members changed, and read by every node that has the block: the same sets
    as with every successor listed, for a fraction of the unions."""
    blocks_of, members = blocks if blocks is not None else ({}, ())
    reach: dict[int, int] = {}
    preds: dict[int, list[int]] = {}  # v -> the nodes with v among their own successors
    users: dict[int, list[int]] = {}  # block -> the nodes that have it
    holders: dict[int, list[int]] = {}  # v -> the blocks it is a member of
    for u, outs in succ.items():
        reach.setdefault(u, 1 << u)
        for v in outs:
            reach.setdefault(v, 1 << v)
            preds.setdefault(v, []).append(u)
    for u, mine in blocks_of.items():
        reach.setdefault(u, 1 << u)
        for b in mine:
            users.setdefault(b, []).append(u)
    for b, vs in enumerate(members):
        for v in vs:
            reach.setdefault(v, 1 << v)
            holders.setdefault(v, []).append(b)
    union: dict[int, int] = {}
    stale: Iterable[int] = range(len(members))
    dirty = sorted(u for u in {*succ, *blocks_of} if succ.get(u) or blocks_of.get(u))
    for _ in range(hops):
        if not dirty:
            break
        for b in stale:  # from the previous round's sets, like every node's own successors below
            check(deadline)
            acc = 0
            for v in members[b]:
                acc |= reach[v]
            union[b] = acc
        updates: list[tuple[int, int]] = []
        for u in dirty:
            check(deadline)
            acc = old = reach[u]
            for b in blocks_of.get(u, ()):
                acc |= union[b]
            for v in succ.get(u, ()):
                acc |= reach[v]
            if acc != old:
                updates.append((u, acc))
        for u, acc in updates:
            reach[u] = acc
        stale = sorted({b for u, _ in updates for b in holders.get(u, ())})
        dirty = sorted({p for u, _ in updates for p in preds.get(u, ())} | {w for b in stale for w in users.get(b, ())})
    return reach


@dataclass(frozen=True, slots=True)
class ReverseSets:
    """For each node (by number), the nodes that can act as it within ``hops`` hops: over the edges that
    hold outright (``firm``), over every edge that may hold (``every``). A node missing from a map is
    reached by no one but itself."""

    hops: int
    firm: dict[int, int]
    every: dict[int, int]

    def union(self, numbers: Iterable[int], *, firm: bool) -> int:
        """The nodes that can act as at least one of ``numbers`` (each of them included)."""
        table = self.firm if firm else self.every
        out = 0
        for i in numbers:
            out |= table.get(i, 1 << i)
        return out


def _key(hops: int) -> str:
    return f"reverse-act-as:{hops}"


def reverse_sets(g: AccessGraph, hops: int, deadline: Deadline | None = None) -> ReverseSets:
    """The reverse sets within ``hops`` hops, made now and kept on the graph (dropped by a new edge)."""
    found = known_reverse_sets(g, hops, exact=True)
    if found is not None:
        return found
    numbers = g.numbers()
    firm: dict[int, list[set[int]]] = {}  # node -> the sources of its edges, by technique
    every: dict[int, list[set[int]]] = {}
    for node, i in numbers.items():
        edges = g.in_edges_of(node, ACT_AS)
        if not edges:
            continue
        g.in_sources_of(node, ACT_AS)  # kept for the walks
        check(deadline)
        outright: dict[str, set[int]] = {}
        may: dict[str, set[int]] = {}
        for e in edges:
            if e.conditions is not False:
                source = numbers[e.source]
                may.setdefault(e.technique, set()).add(source)
                if e.conditions is True:
                    outright.setdefault(e.technique, set()).add(source)
        firm[i] = list(outright.values())
        every[i] = list(may.values())
    firm_rest, firm_blocks = factor(firm)
    every_rest, every_blocks = factor(every)
    made = ReverseSets(
        hops,
        bounded_reach(firm_rest, hops, deadline, firm_blocks),
        bounded_reach(every_rest, hops, deadline, every_blocks),
    )
    g.query_memo[_key(hops)] = made
    return made


def known_reverse_sets(g: AccessGraph, hops: int, *, exact: bool = False) -> ReverseSets | None:
    """Reverse sets kept on the graph for ``hops`` hops; unless ``exact``, those for the fewest hops not
    under ``hops`` (supersets: enough to rule out the nodes that cannot get to a target). None if none."""
    if exact:
        found = g.query_memo.get(_key(hops))
        return found if isinstance(found, ReverseSets) else None
    best: ReverseSets | None = None
    for value in list(g.query_memo.values()):
        if isinstance(value, ReverseSets) and value.hops >= hops and (best is None or value.hops < best.hops):
            best = value
    return best
