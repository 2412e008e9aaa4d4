"""Graph building on the small fixtures: edges are derived by evaluation and carry proof."""

import dataclasses
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iamgraph.cli import app
from iamgraph.edges.base import DerivedEdge, EdgeKind, new_edge
from iamgraph.graph import build_graph
from iamgraph.graph.model import AccessGraph, NodeKind
from iamgraph.ingest import load_snapshot
from iamgraph.policy.logic import atoms

ROOT = Path(__file__).resolve().parents[3]
SINGLE = ROOT / "fixtures" / "small" / "single-account"
ORG = ROOT / "fixtures" / "small" / "org"
A = "111122223333"


@pytest.fixture(scope="module")
def single() -> AccessGraph:
    return build_graph(load_snapshot(SINGLE))


def test_membership_edges(single: AccessGraph) -> None:
    members = {(e.source, e.target) for e in single.edges(EdgeKind.MEMBER)}
    assert (f"arn:aws:iam::{A}:user/alice", f"arn:aws:iam::{A}:group/admins") in members


def test_assume_edges_from_trust_policies_with_proof(single: AccessGraph) -> None:
    edges = {(e.source, e.target): e for e in single.edges(EdgeKind.ASSUME)}
    ci = edges[(f"arn:aws:iam::{A}:user/automation/ci-bot", f"arn:aws:iam::{A}:role/deploy")]
    assert ci.technique == "sts:AssumeRole" and not ci.conditional
    assert {m.ref.layer.value for m in ci.proof} >= {"trust"}
    svc = edges[("lambda.amazonaws.com", f"arn:aws:iam::{A}:role/service-role/order-processor")]
    assert single.node("lambda.amazonaws.com")["kind"] == NodeKind.SERVICE
    assert svc.proof


def test_external_id_stays_a_residual_condition(single: AccessGraph) -> None:
    ext = [e for e in single.edges(EdgeKind.ASSUME) if e.source == "arn:aws:iam::444455556666:root"]
    assert len(ext) == 1 and ext[0].conditional
    text = json.dumps(ext[0].to_json())
    assert "sts:ExternalId" in text
    assert single.node("arn:aws:iam::444455556666:root")["kind"] == NodeKind.EXTERNAL_ACCOUNT


def test_access_edges_grouped_by_access_level(single: AccessGraph) -> None:
    bob = [e for e in single.edges(EdgeKind.ACCESS) if e.source.endswith(":user/engineering/bob")]
    assert bob, "bob reads the reports bucket"
    for e in bob:
        assert set(e.access) <= {"List", "Read", "Write", "Permissions management", "Tagging"}
        assert sorted(a for acts in e.access.values() for a in acts) == list(e.actions)
        assert e.proof


def test_admins_marked_with_proof(single: AccessGraph) -> None:
    alice = single.node(f"arn:aws:iam::{A}:user/alice")
    assert alice.get("admin") is True and alice["admin_proof"]
    assert not single.node(f"arn:aws:iam::{A}:user/engineering/bob").get("admin")


def test_every_edge_endpoint_is_a_node(single: AccessGraph) -> None:
    for e in single.edges():
        assert e.source in single.graph and e.target in single.graph


def test_org_build_applies_scps() -> None:
    g = build_graph(load_snapshot(ORG))
    assert g.node_counts()["account"] >= 2


def test_cli_graph_build_json() -> None:
    result = CliRunner().invoke(app, ["graph", "build", str(SINGLE), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["edges"]["assume"] >= 4 and out["nodes"]["user"] == 3
    assert "total" in out["timings"] and "load" in out["timings"]
    assert isinstance(out["warnings"], list)


def test_cli_graph_build_bad_input_exit_2() -> None:
    bad = ROOT / "fixtures" / "small" / "bad" / "account-json-unknown-key"
    result = CliRunner().invoke(app, ["graph", "build", str(bad)])
    assert result.exit_code == 2
    assert "account.json" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_graph_build_shows_policy_warnings(tmp_path: Path) -> None:
    """A trust statement naming a group never matches: kept, and the warning reaches both outputs."""
    import shutil

    shutil.copytree(SINGLE, tmp_path / "snap")
    path = next((tmp_path / "snap").glob("accounts/*/authorization-details.json"))
    doc = json.loads(path.read_text())
    role = doc["RoleDetailList"][0]
    group = f"arn:aws:iam::{path.parent.name}:group/admins"
    role["AssumeRolePolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": group}, "Action": "sts:AssumeRole"}
    )
    path.write_text(json.dumps(doc))
    table = CliRunner().invoke(app, ["graph", "build", str(tmp_path / "snap")])
    assert table.exit_code == 0, table.output
    assert "groups cannot be principals" in table.stdout and role["RoleName"] in table.stdout
    as_json = CliRunner().invoke(app, ["graph", "build", str(tmp_path / "snap"), "--json"])
    warnings = json.loads(as_json.stdout)["warnings"]
    assert any("groups cannot be principals" in w and group in w for w in warnings), warnings


_PAUSED_SCRIPT = """
import gc, weakref
from iamgraph._gc import collector_paused

class Node:
    other = None

gc.collect()
assert gc.get_freeze_count() == 0
ran = []
with collector_paused():
    made = [[i] for i in range(50_000)]
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle, dropped below
    alive = weakref.ref(a)
    gc.callbacks.append(lambda phase, info: ran.append(info["generation"]) if phase == "start" else None)
gc.callbacks.clear()
assert not ran, f"collections of generations {ran} on the way out"
oldest = {id(o) for o in gc.get_objects(generation=2)}
assert id(made[0]) in oldest and id(made[-1]) in oldest, "left to the young collections"
assert gc.get_freeze_count() == 0
del a, b
gc.collect()
assert alive() is None, "a cycle made while paused was never collected"

gc.freeze()
frozen = gc.get_freeze_count()
with collector_paused():
    more = [[i] for i in range(1_000)]
assert gc.get_freeze_count() == frozen, "objects frozen before were handed back to the collector"
print("ok")
"""


def test_collector_paused_hands_its_allocations_to_the_oldest_generation() -> None:
    """What the paused block made is not walked again by the young collections after it (0.1-0.2 s after an
    800-principal build), nor by one on the way out (4.3 s after a 50,000-principal build), stays collectable,
    and what was frozen before (a server's snapshots) stays frozen. In a fresh interpreter: other tests
    freeze their graphs."""
    done = subprocess.run([sys.executable, "-c", _PAUSED_SCRIPT], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_self_loops_are_the_edges_from_a_node_to_itself_in_edge_order() -> None:
    """The builder reads the self grants through ``self_loops`` (a walk over the nodes); on the demo
    organization, which has grants to self and to others, it gives what filtering every edge gives."""
    g = build_graph(load_snapshot(ROOT / "fixtures" / "demo-org"))
    for kind in EdgeKind:
        assert g.self_loops(kind) == [e for e in g.edges(kind) if e.source == e.target]
    assert g.self_loops(EdgeKind.GRANT)
    assert any(e.source != e.target for e in g.edges(EdgeKind.GRANT))


def test_add_edges_adds_what_add_edge_adds_and_lets_go_of_the_indexes() -> None:
    """The builder's stream (``add_edges``): the same keys, equal edges once, other conditions under
    ``:N`` keys; the indexes made before are let go of."""
    edges = list(build_graph(load_snapshot(ROOT / "fixtures" / "demo-org")).edges())
    stream = [*edges, *edges[:50]]  # equal edges again: not added twice
    one, many = AccessGraph(), AccessGraph()
    for e in stream:
        one.add_edge(e)
    many.index_edges()
    assert many.numbers() == {}
    many.add_edges(iter(stream))
    assert list(many.graph.edges(keys=True, data=True)) == list(one.graph.edges(keys=True, data=True))
    assert len(many.numbers()) == many.graph.number_of_nodes() > 0  # made again from the edges now there
    assert any(key.endswith(":1") for _, _, key in many.graph.edges(keys=True))


def test_add_edges_between_nodes_already_there_fills_the_same_adjacency() -> None:
    """The builder makes the endpoints nodes before it adds an edge: ``add_edges`` then writes networkx's
    adjacency itself. Out- and in-adjacency, keys (``:N`` for other conditions), self loops, equal edges
    once and edge order are those of adding each edge with ``add_edge``; networkx's views see them."""
    g = build_graph(load_snapshot(ROOT / "fixtures" / "demo-org"))
    edges = list(g.edges())
    stream = [*edges, *edges[:50], *reversed(edges[-50:])]
    nodes = list(g.graph.nodes(data=True))
    one, many = AccessGraph(), AccessGraph()
    for h in (one, many):
        h.graph.add_nodes_from(nodes)
    for e in stream:
        one.add_edge(e)
    many.add_edges(iter(stream))
    assert list(many.graph.edges(keys=True, data=True)) == list(one.graph.edges(keys=True, data=True))
    assert list(many.graph.in_edges(keys=True, data=True)) == list(one.graph.in_edges(keys=True, data=True))
    assert many.graph.number_of_edges() == one.graph.number_of_edges() == len({id(e) for e in edges})
    loops = [e for e in edges if e.source == e.target]
    assert loops and many.self_loops(EdgeKind.GRANT) == one.self_loops(EdgeKind.GRANT)
    assert any(key.endswith(":1") for _, _, key in many.graph.edges(keys=True))
    for e in edges[:20]:
        assert many.edges_between(e.source, e.target) == one.edges_between(e.source, e.target)


def test_add_edges_keeps_key_sharing_dicts_that_behave_as_plain_ones() -> None:
    """The dicts ``add_edges`` writes into the adjacency (an edge's data, a pair's edges by key) share their
    keys table with a class (half the memory of a dict display on CPython 3.11): still plain dicts, equal
    to the displays, the same object seen from both ends, and open to a second key (a pair's ``:1`` edge)
    and to pickling."""
    g = build_graph(load_snapshot(ROOT / "fixtures" / "demo-org"))
    nodes = list(g.graph.nodes(data=True))
    many = AccessGraph()
    many.graph.add_nodes_from(nodes)
    many.add_edges(iter(list(g.edges())))
    succ, pred = many.graph._succ, many.graph._pred
    pairs = [(u, v, keys) for u, out in succ.items() for v, keys in out.items()]
    assert pairs
    one_key = [keys for _, _, keys in pairs if len(keys) == 1]
    assert one_key and any(len(keys) > 1 for _, _, keys in pairs)  # a second key was added to one of them
    for u, v, keys in pairs:
        assert type(keys) is dict and pred[v][u] is keys
        for key, data in keys.items():
            assert type(data) is dict and list(data) == ["edge"] and data == {"edge": data["edge"]}
            assert key.startswith(f"{data['edge'].kind.value}:{data['edge'].technique}")
    sample = one_key[0]
    key, data = next(iter(sample.items()))
    assert sys.getsizeof(sample) < sys.getsizeof({key: data}) and sys.getsizeof(data) < sys.getsizeof({"edge": 0})
    copy = pickle.loads(pickle.dumps(many))
    assert list(copy.graph.edges(keys=True, data=True)) == list(many.graph.edges(keys=True, data=True))


def test_add_fans_makes_the_graph_add_edges_makes_of_the_copies() -> None:
    """``add_fans`` (an admin's control edges: one edge copied to many targets) gives the graph that
    ``add_edges`` gives for the copies in the same order: node pairs, keys, key order, a second condition under
    ``:1``, an equal edge once, a target that is not a node yet made one, and the copies' fields."""
    g = build_graph(load_snapshot(ROOT / "fixtures" / "demo-org"))
    nodes = list(g.graph.nodes(data=True))
    principals = [n for n, d in nodes if d["kind"] in (NodeKind.USER, NodeKind.ROLE)]
    assert len(principals) >= 4
    source, targets = principals[0], [*principals[1:], "arn:aws:iam::999988887777:role/not-a-node-yet"]
    template = new_edge(source=source, target=targets[0], kind=EdgeKind.ESCALATE, technique="admin", note="n")
    atom = next(a for e in g.edges() for a in atoms(e.conditions))
    other = dataclasses.replace(template, conditions=atom)  # a second condition: key ``escalate:admin:1``
    fans = [(template, targets), (other, targets[:2]), (template, targets[1:3])]  # the last ones: equal edges
    expected, fanned = AccessGraph(), AccessGraph()
    for built in (expected, fanned):
        built.graph.add_nodes_from(nodes)
        built.add_edges(list(g.edges())[:50])  # pairs with edges already
    expected.add_edges([dataclasses.replace(edge, target=t) for edge, ts in fans for t in ts])
    fanned.add_fans(iter(fans))
    assert list(fanned.graph.nodes) == list(expected.graph.nodes)
    assert list(fanned.graph.edges(keys=True, data=True)) == list(expected.graph.edges(keys=True, data=True))
    assert fanned.graph.get_edge_data(source, targets[1]).keys() == {"escalate:admin", "escalate:admin:1"}
    made = fanned.graph.get_edge_data(source, targets[-1])["escalate:admin"]["edge"]
    assert made == dataclasses.replace(template, target=targets[-1]) and type(made) is DerivedEdge


def test_python_dash_m_runs_the_command_line() -> None:
    """``python -m iamgraph`` is the ``iamgraph`` script: the same output and exit codes."""
    done = subprocess.run(
        [sys.executable, "-m", "iamgraph", "graph", "build", str(SINGLE), "--json"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["edges"]
    bad = subprocess.run(
        [sys.executable, "-m", "iamgraph", "graph", "build", str(ROOT / "no-such-dir")], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "iamgraph" in bad.stderr
