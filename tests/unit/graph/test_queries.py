"""The query layer on the small fixtures, directly and through the CLI (JSON shapes of docs/cli.md)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iamgraph.cli import app
from iamgraph.errors import InputError
from iamgraph.graph.queries import (
    Analysis,
    AssumeUnknown,
    NodeNotFound,
    WhatIf,
    access_levels,
    can,
    diff,
    exposure,
    find_paths,
    privesc,
    who_can,
)
from iamgraph.ingest import load_snapshot

ROOT = Path(__file__).resolve().parents[3]
SINGLE = ROOT / "fixtures" / "small" / "single-account"
A = "111122223333"
BUCKET = "arn:aws:s3:::acme-prod-reports"
HOP_KEYS = {"source", "target", "kind", "technique", "actions", "conditions", "proof"}


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return Analysis.of(load_snapshot(SINGLE))


def _hops_exist(analysis: Analysis, hops: list[dict]) -> None:
    for h in hops:
        assert set(h) >= HOP_KEYS
        edges = analysis.graph.edges_between(h["source"], h["target"])
        assert any(e.technique == h["technique"] for e in edges), h


def test_who_can_shape_and_paths_exist(analysis: Analysis) -> None:
    r = who_can(analysis, BUCKET, action="s3:ListBucket")
    assert set(r) == {"resource", "action", "access_level", "principals", "total", "offset", "limit", "truncated"}
    assert r["total"] == len(r["principals"]) and not r["truncated"]
    arns = {p["arn"] for p in r["principals"]}
    assert f"arn:aws:iam::{A}:user/engineering/bob" in arns
    for p in r["principals"]:
        assert p["path"][-1]["target"] == BUCKET
        assert p["path"][0]["source"] == p["arn"]
        _hops_exist(analysis, p["path"])


def test_who_can_takes_the_action_in_any_letter_case(analysis: Analysis) -> None:
    exact = who_can(analysis, BUCKET, action="s3:ListBucket")
    assert exact["principals"]
    other = who_can(analysis, BUCKET, action="S3:listbucket")
    assert other["principals"] == exact["principals"] and other["total"] == exact["total"]


def test_who_can_pages_are_slices_of_the_whole_answer(analysis: Analysis) -> None:
    whole = who_can(analysis, BUCKET)
    assert whole["total"] >= 3
    listed = []
    for offset in range(0, whole["total"] + 2, 2):
        page = who_can(analysis, BUCKET, limit=2, offset=offset)
        assert page["total"] == whole["total"] and (page["offset"], page["limit"]) == (offset, 2)
        assert page["truncated"] == (offset + 2 < whole["total"])
        listed += page["principals"]
    assert listed == whole["principals"]
    assert who_can(analysis, BUCKET, limit=0)["principals"] == []
    with pytest.raises(ValueError):
        who_can(analysis, BUCKET, limit=-1)


def test_who_can_iff_path(analysis: Analysis) -> None:
    r = who_can(analysis, BUCKET, action="s3:ListBucket")
    holders = {p["arn"] for p in r["principals"]}
    for node in analysis.graph.graph.nodes:
        if node == BUCKET:
            continue
        paths = find_paths(analysis, node, BUCKET, all_paths=True, max_depth=8, limit=50)["paths"]
        with_action = [p for p in paths if "s3:ListBucket" in p["hops"][-1]["actions"]]
        assert bool(with_action) == (node in holders), node


def test_what_if_resolves_external_id(analysis: Analysis) -> None:
    ext = "arn:aws:iam::444455556666:root"
    keep = find_paths(analysis, ext, f"arn:aws:iam::{A}:role/auditor")
    assert keep["paths"] and keep["paths"][0]["conditional"]
    deny = find_paths(analysis, ext, f"arn:aws:iam::{A}:role/auditor", whatif=WhatIf({}, AssumeUnknown.DENY))
    assert deny["paths"] == []
    allow = find_paths(analysis, ext, f"arn:aws:iam::{A}:role/auditor", whatif=WhatIf({}, AssumeUnknown.ALLOW))
    assert allow["paths"] and not allow["paths"][0]["conditional"]


def test_privesc_shape(analysis: Analysis) -> None:
    r = privesc(analysis)
    assert set(r) == {"admins", "admin_conditions", "escalations"}
    assert f"arn:aws:iam::{A}:user/alice" in r["admins"]
    for esc in r["escalations"]:
        _hops_exist(analysis, esc["path"])


def test_can_gives_decision(analysis: Analysis) -> None:
    r = can(analysis, "ci-bot", "storefront-orders", "lambda:UpdateFunctionCode")
    assert r["answer"] == "yes" and r["decision"]["decision"] == "Allowed"
    no = can(analysis, "bob", "storefront-orders", "lambda:DeleteFunction")
    assert no["answer"] == "no"


def test_access_levels_groups(analysis: Analysis) -> None:
    r = access_levels(analysis, "bob")
    assert set(r["totals"]) <= {"List", "Read", "Write", "Permissions management", "Tagging"}
    assert "s3" in r["services"]


def test_exposure_lists_outsiders(analysis: Analysis) -> None:
    r = exposure(analysis)
    nodes = {o["node"] for o in r["outsiders"]}
    assert "arn:aws:iam::444455556666:root" in nodes


def test_diff_same_snapshot_is_empty(analysis: Analysis) -> None:
    r = diff(analysis, analysis)
    assert not r["edges_gained"] and not r["edges_lost"] and not r["escalations_gained"]


def test_unknown_node_close_matches(analysis: Analysis) -> None:
    with pytest.raises(NodeNotFound) as exc:
        who_can(analysis, "acme-prod-report")
    assert "close matches" in str(exc.value) and "acme-prod-reports" in str(exc.value)


def test_path_bounds_validated(analysis: Analysis) -> None:
    with pytest.raises(InputError):
        find_paths(analysis, "bob", BUCKET, max_depth=0)


@pytest.mark.parametrize(
    "args",
    [
        ["who-can", "acme-prod-reports", "--action", "s3:ListBucket"],
        ["privesc"],
        ["exposure"],
        ["access-levels", "bob"],
        ["path", "ci-bot", "storefront-orders", "--all"],
        ["can", "ci-bot", "storefront-orders", "--action", "lambda:UpdateFunctionCode"],
    ],
    ids=lambda a: a[0],
)
def test_cli_json_and_text(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMGRAPH_CACHE_DIR", str(tmp_path))
    runner = CliRunner()
    res = runner.invoke(app, [*args, "--data", str(SINGLE), "--json"])
    assert res.exit_code == 0, res.output
    json.loads(res.stdout)
    text = runner.invoke(app, [*args, "--data", str(SINGLE)])
    assert text.exit_code == 0, text.output
    assert text.stdout.strip()


def test_cli_unknown_resource_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMGRAPH_CACHE_DIR", str(tmp_path))
    res = CliRunner().invoke(app, ["who-can", "nope-bucket", "--data", str(SINGLE)])
    assert res.exit_code == 2
    assert "no such resource" in res.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["who-can", "nope"],
        ["can", "nope", "nope", "--action", "s3:GetObject"],
        ["path", "a", "b"],
        ["privesc"],
        ["exposure"],
        ["access-levels", "nope"],
    ],
    ids=lambda c: c[0],
)
def test_cli_bad_context_is_one_line_and_exit_2(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IAMGRAPH_CACHE_DIR", str(tmp_path))
    res = CliRunner().invoke(app, [*command, "--data", str(SINGLE), "--context", "not-a-pair"])
    assert res.exit_code == 2, res.output
    assert res.stderr.strip().splitlines() == ['iamgraph: --context: "not-a-pair" is not key=value']


def test_cache_invalidated_on_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from iamgraph.store import snapshot_hash

    monkeypatch.setenv("IAMGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "snap"
    shutil.copytree(SINGLE, data)
    before = snapshot_hash(data)
    f = data / "accounts" / A / "account.json"
    f.write_text(f.read_text().replace("acme-prod", "acme-prod2"))
    assert snapshot_hash(data) != before


def test_cache_key_ignores_hidden_files(tmp_path: Path) -> None:
    """The loader skips hidden files (notes, editor swap files); they do not make another graph."""
    import shutil

    from iamgraph.store import snapshot_hash

    data = tmp_path / "snap"
    shutil.copytree(SINGLE, data)
    before = snapshot_hash(data)
    (data / ".stats.json").write_text("{}")
    (data / "accounts" / A / ".account.json.swp").write_text("x")
    assert snapshot_hash(data) == before


def test_cache_invalidated_when_the_code_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A graph built by other iamgraph code (same version number, edited sources) is not reused."""
    from iamgraph.store import cache

    before = cache.snapshot_hash(SINGLE)
    monkeypatch.setattr(cache, "code_hash", lambda: "other-code")
    assert cache.snapshot_hash(SINGLE) != before


def test_cache_keeps_the_most_recently_used_graphs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache does not only grow: past KEEP entries the least recently used graph goes."""
    import os

    from iamgraph.store import cache

    folder = tmp_path / "cache"
    monkeypatch.setenv("IAMGRAPH_CACHE_DIR", str(folder))
    folder.mkdir()
    for i in range(cache.KEEP):  # older entries, the first the most recently used of them
        old = folder / f"old{i}.pickle"
        old.write_bytes(b"x")
        os.utime(old, (1_000_000 - i, 1_000_000 - i))
    cache.load_analysis(SINGLE)
    kept = sorted(f.name for f in folder.glob("*.pickle"))
    assert len(kept) == cache.KEEP
    assert f"old{cache.KEEP - 1}.pickle" not in kept and "old0.pickle" in kept
    assert f"{cache.snapshot_hash(SINGLE)}.pickle" in kept


def test_cache_is_written_with_the_collector_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing a graph to the cache makes millions of objects at 50k principals (the pickler's memo); with the
    collector running, its collections walked the whole graph again and again (half the writing's time)."""
    import gc
    import pickle

    from iamgraph.store import cache

    monkeypatch.setenv("IAMGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    collecting: list[bool] = []
    dump = pickle.dump

    def watched(obj: object, fh: object, **kw: object) -> None:
        collecting.append(gc.isenabled())
        dump(obj, fh, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pickle, "dump", watched)
    was = gc.isenabled()
    written = cache.load_analysis(SINGLE)
    assert collecting == [False]
    assert gc.isenabled() == was
    monkeypatch.setattr(pickle, "dump", dump)
    assert cache.load_analysis(SINGLE).graph.edge_counts() == written.graph.edge_counts()  # read back


def test_cli_export_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IAMGRAPH_CACHE_DIR", str(tmp_path))
    runner = CliRunner()
    for fmt, marker in (("json", '"nodes"'), ("graphml", "<graphml"), ("cypher", "MERGE (n:IamNode")):
        res = runner.invoke(app, ["export", "--data", str(SINGLE), "--format", fmt])
        assert res.exit_code == 0, res.output
        assert marker in res.stdout
    bad = runner.invoke(app, ["export", "--data", str(SINGLE), "--format", "xml"])
    assert bad.exit_code == 2


@pytest.fixture(scope="module")
def demo() -> Analysis:
    return Analysis.of(load_snapshot(ROOT / "fixtures" / "demo-org"))


def test_who_can_on_a_principal_lists_who_can_act_as_it(demo: Analysis) -> None:
    """A user or role is a target too: who-can lists everyone who can act as it (assume it, take it over),
    each with its shortest path; a group, its members and who can act as them. Never the target itself,
    even where it is on a cycle of admins and roles that reach one another; "who-can P" holds N exactly
    when a path N -> P exists, without and under a what-if (another walk); pages sliced from the whole
    answer, and the same answers once the graph keeps its reverse sets (a server's)."""
    from iamgraph.graph.queries.reach import reverse_sets

    g = demo.graph
    kinds = dict(g.graph.nodes(data="kind"))
    acting = [n for n, k in kinds.items() if k in ("user", "role")]
    cycle = "arn:aws:iam::846271093514:role/ProdAdmin"  # ProdAdmin and the release role reach each other
    assert cycle in acting and find_paths(demo, cycle, cycle)["paths"] == []  # (itself: not a path)
    groups = [n for n, k in kinds.items() if k == "group"]
    targets = [cycle, *acting[:: max(1, len(acting) // 6)], *groups[:2]]
    whole = {t: who_can(demo, t) for t in targets}
    assert whole[cycle]["total"] >= 2
    for t, r in whole.items():
        listed = {p["arn"]: p for p in r["principals"]}
        assert t not in listed and r["total"] == len(listed)
        for p in r["principals"]:
            assert p["path"][0]["source"] == p["arn"] and p["path"][-1]["target"] == t
            _hops_exist(demo, p["path"])
        for w in (None, WhatIf({"aws:SourceIp": "203.0.113.7"}), WhatIf({}, AssumeUnknown.DENY)):
            found = r if w is None else who_can(demo, t, whatif=w)  # a what-if walks by reverse_reach
            held = {p["arn"] for p in found["principals"]}
            assert t not in held and found["total"] == len(held)
            for node in kinds:
                if node != t:  # (a path to a group ends in a membership)
                    reachable = bool(find_paths(demo, node, t, max_depth=8, whatif=w)["paths"])
                    assert reachable == (node in held), (node, t, w)
        paged = [p for k in range(0, r["total"], 2) for p in who_can(demo, t, limit=2, offset=k)["principals"]]
        assert paged == r["principals"]
    member = next(e for e in g.edges() if e.kind.value == "member")
    assert member.source in {p["arn"] for p in whole.get(member.target, who_can(demo, member.target))["principals"]}
    reverse_sets(g, 7)  # what a server keeps: who-can then counts with the sets and walks only the page
    for t, r in whole.items():
        assert who_can(demo, t) == r
        assert who_can(demo, t, limit=1, offset=1)["principals"] == r["principals"][1:2]


def test_who_can_refuses_what_has_no_answer_on_a_principal(demo: Analysis) -> None:
    """An action or access level asked on a principal, a service or "anyone" as the target: a one-line input
    error naming the option (an empty list would read as "nobody can")."""
    role = "arn:aws:iam::846271093514:role/ProdAdmin"
    with pytest.raises(InputError, match="is a role: who-can lists who can act as it") as err:
        who_can(demo, role, action="iam:CreateAccessKey")
    assert err.value.element == "--action"
    with pytest.raises(InputError, match="--access-level"):
        who_can(demo, role, access_level="Write")
    service = next(n for n, k in demo.graph.graph.nodes(data="kind") if k == "service")
    with pytest.raises(InputError, match="is a service"):
        who_can(demo, service)
    result = CliRunner().invoke(
        app, ["who-can", role, "--data", str(ROOT / "fixtures" / "demo-org"), "--action", "s3:GetObject"]
    )
    assert result.exit_code == 2 and "is a role" in result.output


def test_who_can_on_a_principal_says_so_on_the_terminal() -> None:
    """The readable answer's title: who can act as a user or role, who holds a group's permissions."""
    data = str(ROOT / "fixtures" / "demo-org")
    role = CliRunner().invoke(app, ["who-can", "arn:aws:iam::846271093514:role/ProdAdmin", "--data", data])
    assert role.exit_code == 0 and "who can act as arn:aws:iam::846271093514:role/ProdAdmin" in role.output
    group = CliRunner().invoke(app, ["who-can", "arn:aws:iam::527164038291:group/SecurityEngineers", "--data", data])
    assert group.exit_code == 0 and "who holds the permissions of arn:aws:iam::527164038291:group/" in group.output
