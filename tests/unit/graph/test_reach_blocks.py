"""Shared groups of successors (``reach.factor``) change no reach set: ``bounded_reach`` with blocks equals
``bounded_reach`` with every successor listed, on random graphs whose groups repeat, and on the graph of a
generated estate, where the admin edges make the blocks (the server's reverse sets, privesc's reach). And
``bits`` lists a mask's bits in order, few or many."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from iamgraph.graph.queries.base import ACT_AS, Analysis
from iamgraph.graph.queries.privesc import shared_search
from iamgraph.graph.queries.reach import MIN_BLOCK, bits, bounded_reach, factor, reverse_sets
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.ingest import load_snapshot

GENERATOR = Path(__file__).resolve().parents[3] / "bench" / "generate.py"


def _random_groups(rng: random.Random, nodes: int) -> dict[int, list[set[int]]]:
    """Each node's successors as a few groups; the large ones are drawn from a few pools, so that equal
    groups repeat from node to node (as an account's admins do), and the small ones are the node's own."""
    pools = [set(rng.sample(range(nodes), rng.randint(MIN_BLOCK, 2 * MIN_BLOCK))) for _ in range(4)]
    groups: dict[int, list[set[int]]] = {}
    for u in range(nodes):
        mine: list[set[int]] = []
        if rng.random() < 0.5:
            mine.append(set(rng.choice(pools)))
        if rng.random() < 0.2:
            mine.append(set(rng.choice(pools)))
        if rng.random() < 0.6:
            mine.append(set(rng.sample(range(nodes), rng.randint(1, MIN_BLOCK + 3))))
        if mine:
            groups[u] = mine
    return groups


def _plain(groups: dict[int, list[set[int]]]) -> dict[int, list[int]]:
    return {u: sorted(set().union(*sets)) for u, sets in groups.items()}


def _sets(found: dict[int, int], nodes: int) -> list[int]:
    return [found.get(i, 1 << i) for i in range(nodes)]


@pytest.mark.parametrize("seed", range(60))
def test_blocks_give_the_sets_of_every_successor_listed(seed: int) -> None:
    rng = random.Random(seed)
    nodes = rng.choice([20, 30, 80])
    groups = _random_groups(rng, nodes)
    rest, blocks = factor(groups)
    assert blocks[1], "no block formed: the test would not exercise them"
    for hops in (0, 1, 2, 3, 5, 8):
        want = _sets(bounded_reach(_plain(groups), hops, None), nodes)
        assert _sets(bounded_reach(rest, hops, None, blocks), nodes) == want, hops


def test_factor_makes_one_block_of_equal_groups_and_keeps_small_ones_apart() -> None:
    big = set(range(10, 10 + MIN_BLOCK))
    rest, (blocks_of, members) = factor({1: [set(big), {2, 3}], 2: [set(big)], 3: [{4}, {5}]})
    assert members == [sorted(big)]
    assert blocks_of == {1: [0], 2: [0]}
    assert rest == {1: [2, 3], 3: [4, 5]}


def _generated(tmp_path: Path) -> Path:
    out = tmp_path / "generated"
    sizes = ["--principals", "150", "--accounts", "3", "--resources", "60", "--seed", "3"]
    subprocess.run([sys.executable, str(GENERATOR), *sizes, "--out", str(out)], check=True, capture_output=True)
    return out


def test_the_reverse_sets_and_privesc_reach_of_a_generated_estate(tmp_path: Path) -> None:
    analysis = Analysis.of(load_snapshot(_generated(tmp_path)), resource_access="eager")
    g = analysis.graph
    numbers = g.numbers()
    firm: dict[int, list[int]] = {}
    every: dict[int, list[int]] = {}
    by_technique: dict[int, list[set[int]]] = {}
    for node, i in numbers.items():
        if edges := g.in_edges_of(node, ACT_AS):
            sources = g.in_sources_of(node, ACT_AS)
            firm[i], every[i] = list(bits(sources.firm)), list(bits(sources.every))
            groups: dict[str, set[int]] = {}
            for e in edges:
                groups.setdefault(e.technique, set()).add(numbers[e.source])
            by_technique[i] = list(groups.values())
    assert factor(by_technique)[1][1], "no block formed on this estate: the test would not exercise them"
    made = reverse_sets(g, 7)
    count = len(numbers)
    assert _sets(made.firm, count) == _sets(bounded_reach(firm, 7, None), count)
    assert _sets(made.every, count) == _sets(bounded_reach(every, 7, None), count)

    for unconditional in (True, False):
        search = shared_search(analysis, WhatIf(), 8, None)
        reach = search.walk(unconditional, None).reach
        index = search.index
        succ: dict[int, list[int]] = {}
        for node, out in search.act_as.items():
            targets = {index[e.target] for e, c in out if (c is True if unconditional else c is not False)}
            if targets:
                succ[index[node]] = sorted(targets)
        found = bounded_reach(succ, 8, None)
        assert reach == [found.get(i, 1 << i) for i in range(len(search.nodes))], unconditional


@pytest.mark.parametrize("count", [0, 1, 5, 24, 25, 100, 3000])
def test_bits_lists_the_set_bits_lowest_first(count: int) -> None:
    rng = random.Random(count)
    for top in (64, 600, 52_000):
        positions = sorted(rng.sample(range(top), min(count, top)))
        mask = 0
        for n in positions:
            mask |= 1 << n
        assert list(bits(mask)) == positions
