"""The report as a whole: the registry, stable ids, evidence a UI can open, ordering, escaping."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from iamgraph.cli_review import render
from iamgraph.review import Severity, checks
from iamgraph.review.model import Finding

from .builder import VENDOR, Acct, Key, allow, analyse, run, trust

ROOT = Path(__file__).resolve().parents[3]


def _busy() -> Acct:
    a = Acct()
    a.user("admin", managed=(a.admin_policy(),))
    a.role("vendor", trust({"AWS": VENDOR}), allow("s3:ListAllMyBuckets"))
    a.role("climb", trust({"AWS": a.user("low", allow("sts:AssumeRole", "*"))}), managed=(a.admin_policy(),))
    a.user("old")
    a.credentials("old", password=True, keys=(Key(rotated="2020-01-01T00:00:00+00:00"), Key()))
    a.credentials("admin", password=True)
    a.root_credentials(mfa=False)
    a.account_info(password_policy={"MinimumPasswordLength": 6})
    return a


def test_registry_ids_and_docs() -> None:
    registered = checks()
    ids = [c.id for c in registered]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)
    assert len(ids) >= 25
    documented = (ROOT / "docs" / "review.md").read_text(encoding="utf-8")
    for c in registered:
        assert f"`{c.id}`" in documented, f"docs/review.md does not describe {c.id}"
        assert c.remediation and c.description and c.title


def test_ids_unique_sorted_and_evidence_opens_in_the_graph(tmp_path: Path) -> None:
    a = _busy()
    analysis = analyse(tmp_path, a)
    from iamgraph.review import ReviewConfig, review

    from .builder import AS_OF

    report = review(analysis, ReviewConfig().with_overrides(as_of=AS_OF, as_of_source="test")).to_json()
    ids = [f["id"] for f in report["findings"]]
    assert len(ids) == len(set(ids)) and len(ids) > 10
    ranks = [Severity(f["severity"]).rank for f in report["findings"]]
    assert ranks == sorted(ranks, reverse=True)
    g = analysis.graph.graph
    for f in report["findings"]:
        ev = f["evidence"]
        for node in ev["principals"] + ev["resources"]:
            assert node in g, (f["id"], node)
        for path in ev["paths"]:
            for hop in path["hops"]:
                assert analysis.graph.edges_between(hop["source"], hop["target"]), (f["id"], hop)
        for st in ev["statements"]:
            assert {"layer", "policy", "index", "effect"} <= set(st), f["id"]
    assert report["summary"]["findings"] == len(ids)
    assert sum(report["summary"]["by_severity"].values()) == len(ids)


def test_out_of_scope_says_monitoring_is_not_assessed(tmp_path: Path) -> None:
    a = Acct()
    trail = a.resource("arn:aws:cloudtrail:eu-west-1:111122223333:trail/main", "AWS::CloudTrail::Trail")
    scope = {o["area"]: o for o in run(tmp_path, a)["out_of_scope"]}
    assert set(scope) == {"monitoring", "workload credentials"}
    assert scope["monitoring"]["statement"].startswith("Not assessed")
    assert scope["monitoring"]["seen_in_snapshot"] == [{"arn": trail, "type": "AWS::CloudTrail::Trail"}]
    assert scope["workload credentials"]["statement"].startswith("Not assessed")


def test_only_and_skip(tmp_path: Path) -> None:
    r = run(
        tmp_path, _busy(), only=frozenset({"root-mfa-disabled", "admin-principal"}), skip=frozenset({"admin-principal"})
    )
    assert {f["check"] for f in r["findings"]} == {"root-mfa-disabled"}
    assert [c["id"] for c in r["checks"] if c["enabled"]] == ["root-mfa-disabled"]


def test_readable_report_never_interprets_markup(tmp_path: Path) -> None:
    a = Acct()
    a.user("mallory", allow("s3:ListAllMyBuckets"), inline_name="[bold red]boom[/][link=file:///etc]x[/link]")
    doc = run(tmp_path, a)
    buf = io.StringIO()
    render(Console(file=buf, width=300, color_system=None), doc)
    assert "[bold red]boom[/][link=file:///etc]x[/link]" in buf.getvalue()


def test_finding_id_is_stable() -> None:
    from iamgraph.review.model import Evidence

    f = Finding(
        check="c",
        family="x",
        severity=Severity.LOW,
        title="t",
        subject="arn:s",
        account=None,
        file=None,
        evidence=Evidence(),
        remediation="r",
        key="k1",
    )
    assert (
        f.id == "c:arn:s#k1" and Severity.HIGH.lowered() is Severity.MEDIUM and Severity.LOW.lowered() is Severity.LOW
    )
