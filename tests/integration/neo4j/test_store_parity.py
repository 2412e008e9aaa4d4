"""One query suite, two stores: memory and Neo4j answer who-can, path, privesc, exposure and the
explore queries exactly as the query layer does on the analysed snapshot (normalised JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from iamgraph.edges.base import EdgeKind
from iamgraph.graph.model import NodeKind
from iamgraph.graph.queries import Analysis, AssumeUnknown, WhatIf, exposure, find_paths, privesc, search, who_can
from iamgraph.graph.queries.explore import edge_details, neighbourhood, node_details
from iamgraph.store import GraphStore, MemoryStore
from iamgraph.store.neo4j_store import Neo4jStore

from .conftest import DATASETS, PASSWORD

STORES = ("memory", "neo4j")
# cases per dataset: resources for who-can, sources and targets for path, nodes to explore
SIZES = {"demo-org": (25, 10, 6, 8), "generated": (10, 6, 4, 5)}
WHATIFS = {
    "none": WhatIf(),
    "mfa": WhatIf({"aws:MultiFactorAuthPresent": "true", "aws:SourceIp": "203.0.113.7"}),
    "deny-unknown": WhatIf({}, AssumeUnknown.DENY),
    "allow-unknown": WhatIf({}, AssumeUnknown.ALLOW),
}


def norm(x: Any) -> Any:
    return json.loads(json.dumps(x, default=str))


@pytest.fixture(scope="session")
def stores(request: pytest.FixtureRequest, analyses: dict[str, Analysis]) -> Iterator[Callable[[str, str], GraphStore]]:
    opened: dict[tuple[str, str], GraphStore] = {}

    def get(kind: str, dataset: str) -> GraphStore:
        if (kind, dataset) not in opened:
            store: GraphStore
            if kind == "memory":
                store = MemoryStore(dataset)
            else:
                uri = request.getfixturevalue("neo4j_uri")
                store = Neo4jStore(uri, user="neo4j", password=PASSWORD, snapshot=f"parity-{dataset}")
            store.load(analyses[dataset])
            opened[(kind, dataset)] = store
        return opened[(kind, dataset)]

    yield get
    for store in opened.values():
        store.close()


def _mismatches(cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]]) -> list[str]:
    bad = []
    for label, expected, actual in cases:
        try:
            want: Any = norm(expected())
        except Exception as exc:  # the same error is the same answer
            want = f"{type(exc).__name__}: {exc}"
        try:
            got: Any = norm(actual())
        except Exception as exc:
            got = f"{type(exc).__name__}: {exc}"
        if want != got:
            bad.append(label)
    return bad


def _resources(a: Analysis, n: int) -> list[str]:
    found = sorted(str(x) for x, d in a.graph.graph.nodes(data=True) if d.get("kind") == NodeKind.RESOURCE)
    step = max(1, len(found) // n)
    return found[::step][:n]


def _principals(a: Analysis, n: int) -> list[str]:
    kinds = {NodeKind.USER, NodeKind.ROLE, NodeKind.EXTERNAL_ACCOUNT, NodeKind.PROVIDER, NodeKind.ANYONE}
    found = sorted(str(x) for x, d in a.graph.graph.nodes(data=True) if d.get("kind") in kinds)
    step = max(1, len(found) // n)
    return found[::step][:n]


pytestmark = pytest.mark.parametrize("dataset", DATASETS)


@pytest.mark.parametrize("kind", STORES)
def test_who_can(kind: str, dataset: str, analyses: dict[str, Analysis], stores: Any) -> None:
    a, store = analyses[dataset], stores(kind, dataset)
    cases = []
    for res in _resources(a, SIZES[dataset][0]):
        access = [
            e for e in (d["edge"] for _, _, d in a.graph.graph.in_edges(res, data=True)) if e.kind is EdgeKind.ACCESS
        ]
        actions = sorted({x for e in access for x in e.actions})[:1]
        for wname, w in WHATIFS.items():
            cases.append(
                (
                    f"who-can {res} {wname}",
                    lambda r=res, w=w: who_can(a, r, whatif=w),
                    lambda r=res, w=w: store.who_can(r, whatif=w),
                )
            )
        for action in actions:
            cases.append(
                (
                    f"who-can {res} {action}",
                    lambda r=res, x=action: who_can(a, r, action=x),
                    lambda r=res, x=action: store.who_can(r, action=x),
                )
            )
        cases.append(
            (
                f"who-can {res} Read",
                lambda r=res: who_can(a, r, access_level="Read", max_depth=2),
                lambda r=res: store.who_can(r, access_level="Read", max_depth=2),
            )
        )
    groups = sorted(str(x) for x, d in a.graph.graph.nodes(data=True) if d.get("kind") == NodeKind.GROUP)[:3]
    for target in [*_principals(a, SIZES[dataset][1]), *groups]:  # who can act as a principal, hold a group's
        for wname, w in WHATIFS.items():
            cases.append(
                (
                    f"who-can {target} {wname}",
                    lambda t=target, w=w: who_can(a, t, whatif=w),
                    lambda t=target, w=w: store.who_can(t, whatif=w),
                )
            )
        cases.append(
            (
                f"who-can {target} page",
                lambda t=target: who_can(a, t, limit=2, offset=1),
                lambda t=target: store.who_can(t, limit=2, offset=1),
            )
        )
        cases.append(
            (
                f"who-can {target} with an action",
                lambda t=target: who_can(a, t, action="iam:CreateAccessKey"),
                lambda t=target: store.who_can(t, action="iam:CreateAccessKey"),
            )
        )
    cases.append(
        ("who-can unknown", lambda: who_can(a, "no-such-bucket-xyz"), lambda: store.who_can("no-such-bucket-xyz"))
    )
    assert _mismatches(cases) == []


@pytest.mark.parametrize("kind", STORES)
def test_path(kind: str, dataset: str, analyses: dict[str, Analysis], stores: Any) -> None:
    a, store = analyses[dataset], stores(kind, dataset)
    _, n_src, n_dst, _ = SIZES[dataset]
    groups = sorted(str(x) for x, d in a.graph.graph.nodes(data=True) if d.get("kind") == NodeKind.GROUP)[:2]
    sources = _principals(a, n_src)
    targets = _principals(a, n_dst)[::-1] + _resources(a, n_dst // 2 + 1) + groups  # a group's last hop: membership
    cases = []
    for s in sources:
        for t in targets:
            cases.append((f"path {s} {t}", lambda s=s, t=t: find_paths(a, s, t), lambda s=s, t=t: store.path(s, t)))
            cases.append(
                (
                    f"all {s} {t}",
                    lambda s=s, t=t: find_paths(a, s, t, all_paths=True, max_depth=4, limit=5),
                    lambda s=s, t=t: store.path(s, t, all_paths=True, max_depth=4, limit=5),
                )
            )
        cases.append(
            (
                f"path {s} deny",
                lambda s=s: find_paths(a, s, targets[0], whatif=WHATIFS["deny-unknown"]),
                lambda s=s: store.path(s, targets[0], whatif=WHATIFS["deny-unknown"]),
            )
        )
    assert _mismatches(cases) == []


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("whatif", list(WHATIFS))
def test_privesc_and_exposure(kind: str, dataset: str, whatif: str, analyses: dict[str, Analysis], stores: Any) -> None:
    a, store, w = analyses[dataset], stores(kind, dataset), WHATIFS[whatif]
    cases = [
        ("privesc", lambda: privesc(a, whatif=w), lambda: store.privesc(whatif=w)),
        ("privesc depth 2", lambda: privesc(a, whatif=w, max_depth=2), lambda: store.privesc(whatif=w, max_depth=2)),
        ("exposure", lambda: exposure(a, whatif=w), lambda: store.exposure(whatif=w)),
        ("exposure depth 1", lambda: exposure(a, whatif=w, max_depth=1), lambda: store.exposure(whatif=w, max_depth=1)),
    ]
    assert _mismatches(cases) == []


@pytest.mark.parametrize("kind", STORES)
def test_explore(kind: str, dataset: str, analyses: dict[str, Analysis], stores: Any) -> None:
    a, store = analyses[dataset], stores(kind, dataset)
    cases = []
    for n in _principals(a, SIZES[dataset][3]) + _resources(a, 3):
        cases.append((f"node {n}", lambda n=n: node_details(a, n), lambda n=n: store.node(n)))
        cases.append(
            (
                f"near {n}",
                lambda n=n: neighbourhood(a, n, depth=2, limit=40),
                lambda n=n: store.neighbourhood(n, depth=2, limit=40),
            )
        )
        for _, t in list(a.graph.graph.out_edges(n))[:2]:
            cases.append((f"edge {n} {t}", lambda n=n, t=t: edge_details(a, n, t), lambda n=n, t=t: store.edge(n, t)))
    assert _mismatches(cases) == []


def _prefixes(a: Analysis) -> list[str]:
    """Name and ARN prefixes of several lengths and cases, and one that matches nothing."""
    names = sorted({str(d["name"]) for _, d in a.graph.graph.nodes(data=True) if d.get("name")})
    picked = names[:: max(1, len(names) // 4)][:4]
    return ["a", "arn:aws:iam::", "ARN:AWS:S3", "zz-no-such", *(n[:3] for n in picked), *(n.upper() for n in picked)]


@pytest.mark.parametrize("kind", STORES)
def test_search(kind: str, dataset: str, analyses: dict[str, Analysis], stores: Any) -> None:
    a, store = analyses[dataset], stores(kind, dataset)
    cases = [
        (f"search {p!r} {n}", lambda p=p, n=n: search(a, p, limit=n), lambda p=p, n=n: store.search(p, limit=n))
        for p in _prefixes(a)
        for n in (1, 5, 200)
    ]
    cases.append(("search empty", lambda: search(a, ""), lambda: store.search("")))
    assert _mismatches(cases) == []


@pytest.mark.parametrize("kind", STORES)
def test_snapshot_counts(kind: str, dataset: str, analyses: dict[str, Analysis], stores: Any) -> None:
    a, store = analyses[dataset], stores(kind, dataset)
    info = next(s for s in store.snapshots() if s["name"] == store.snapshot)
    g = a.graph.graph
    accounts = sum(1 for _, d in g.nodes(data=True) if d.get("kind") == NodeKind.ACCOUNT)
    assert {k: info[k] for k in ("nodes", "edges", "accounts", "admins")} == {
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "accounts": accounts,
        "admins": len(a.graph.admins()),
    }
    assert info["loaded_at"]
