"""fixtures/demo-org/EXPECTED.md, asserted through the CLI (``--json``), section by section."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from iamgraph.cli import app

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo-org"
MGMT, SEC, LOGS, SHARED, PROD, DEV = (
    "381492650173",
    "527164038291",
    "649203817562",
    "730158246937",
    "846271093514",
    "915630472846",
)


def arn(account: str, rest: str) -> str:
    return f"arn:aws:iam::{account}:{rest}"


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Any:
    cache = tmp_path_factory.mktemp("cache")
    runner = CliRunner(env={"IAMGRAPH_CACHE_DIR": str(cache)})

    def run(*args: str) -> Any:
        res = runner.invoke(app, [*args, "--data", str(DEMO), "--json"])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)

    return run


@pytest.fixture(scope="module")
def privesc(cli: Any) -> dict[str, Any]:
    return cli("privesc")  # type: ignore[no-any-return]


DIRECT_ADMINS = [
    arn(MGMT, "user/legacy-admin"),
    arn(MGMT, "role/federation/SamlAdministrators"),
    *(arn(a, "role/OrganizationAccountAccessRole") for a in (SEC, LOGS, SHARED, PROD, DEV)),
    arn(SEC, "user/security/sec-lead-nora"),
    arn(PROD, "role/ProdAdmin"),
    arn(PROD, "role/cdk/CloudFormationExecutionRole"),
    arn(PROD, "role/service-role/nightly-maintenance-role"),
    arn(DEV, "user/dev-breakglass"),
]
ONE_STEP_ADMINS = [
    arn(PROD, "role/ec2/ops-runner-role"),
    arn(PROD, "user/support/support-sam"),
    arn(DEV, "user/contractors/contractor-eve"),
]
CAN_REACH_ADMIN = [
    arn(MGMT, "user/automation/org-automation"),
    arn(SHARED, "user/platform/ci-maintainer-raj"),
    arn(SHARED, "role/github-actions/GitHubActionsCI"),
    arn(SHARED, "role/service-role/codebuild-payments-deploy-service-role"),
    arn(PROD, "user/ops/ops-carol"),
    arn(PROD, "user/data/data-eng-li"),
    arn(PROD, "user/ops/app-ops-omar"),
    arn(PROD, "role/app/ReleaseAutomation"),
    arn(PROD, "role/deploy/CrossAccountDeploy"),
    arn(DEV, "user/dev-alice"),
    arn(DEV, "user/dev-bob"),
    arn(SHARED, "oidc-provider/token.actions.githubusercontent.com"),
    arn(MGMT, "saml-provider/ExampleIdP"),
]
CANNOT_REACH_ADMIN = [
    arn(MGMT, "role/federation/SamlFinanceAnalysts"),
    arn(SHARED, "user/automation/artifact-uploader"),
    arn(PROD, "role/github-actions/payments-deploy"),
    arn(PROD, "role/service-role/payments-webhook-role"),
    arn(PROD, "role/finance/FinanceReporting"),
    arn(PROD, "role/vendor/ExampleMonitoringIntegration"),
    arn(PROD, "role/vendor/LegacyBackupVendor"),
    arn(DEV, "role/platform/WorkloadRoleManager"),
    arn(DEV, "role/service-role/orders-api-dev-role"),
    arn(DEV, "role/vendor/FormerContractorReadOnly"),
]


@pytest.mark.parametrize("principal", DIRECT_ADMINS + ONE_STEP_ADMINS, ids=lambda a: a.split(":", 4)[-1])
def test_admins(privesc: dict[str, Any], principal: str) -> None:
    assert principal in privesc["admins"]


@pytest.mark.parametrize("principal", CAN_REACH_ADMIN, ids=lambda a: a.split(":", 4)[-1])
def test_escalates(privesc: dict[str, Any], principal: str) -> None:
    found = {e["principal"]: e for e in privesc["escalations"]}
    assert principal in found, f"{principal} should reach admin"
    assert found[principal]["path"], "an escalation shows its path"
    for hop in found[principal]["path"]:
        assert hop["proof"] or hop["kind"] == "member"


@pytest.mark.parametrize("principal", CANNOT_REACH_ADMIN, ids=lambda a: a.split(":", 4)[-1])
def test_does_not_escalate(privesc: dict[str, Any], principal: str) -> None:
    assert principal not in {e["principal"] for e in privesc["escalations"]}
    assert principal not in privesc["admins"]


@pytest.mark.parametrize(
    ("source", "target", "technique"),
    [
        (arn(PROD, "user/ops/ops-carol"), arn(PROD, "role/ProdAdmin"), "iam:UpdateAssumeRolePolicy"),
        (
            arn(PROD, "user/data/data-eng-li"),
            arn(PROD, "role/service-role/nightly-maintenance-role"),
            "lambda:UpdateFunctionCode",
        ),
        (arn(PROD, "user/ops/app-ops-omar"), arn(PROD, "role/ec2/ops-runner-role"), "ssm:SendCommand"),
        (
            arn(PROD, "role/app/ReleaseAutomation"),
            arn(PROD, "role/service-role/nightly-maintenance-role"),
            "iam:PassRole+lambda:CreateFunction",
        ),
        (
            arn(PROD, "role/deploy/CrossAccountDeploy"),
            arn(PROD, "role/cdk/CloudFormationExecutionRole"),
            "cloudformation",
        ),
        (arn(DEV, "user/dev-alice"), arn(DEV, "user/dev-breakglass"), "iam:CreateAccessKey"),
    ],
    ids=["E1", "E2", "E3", "E4", "E5", "E6"],
)
def test_single_technique_escalations(cli: Any, source: str, target: str, technique: str) -> None:
    r = cli("path", source, target, "--all", "--max-depth", "1", "--limit", "50")
    techniques = [p["hops"][0]["technique"] for p in r["paths"]]
    assert any(technique in t for t in techniques), techniques


def test_e6_needs_mfa(cli: Any) -> None:
    source, target = arn(DEV, "user/dev-alice"), arn(DEV, "user/dev-breakglass")
    keep = cli("path", source, target, "--all", "--max-depth", "1")
    assert keep["paths"] and all(
        p["conditional"] for p in keep["paths"] if "CreateAccessKey" in p["hops"][0]["technique"]
    )
    mfa = cli("path", source, target, "--context", "aws:MultiFactorAuthPresent=true", "--all", "--max-depth", "1")
    assert any(not p["conditional"] and "CreateAccessKey" in p["hops"][0]["technique"] for p in mfa["paths"])
    no_mfa = cli("path", source, target, "--context", "aws:MultiFactorAuthPresent=false", "--all", "--max-depth", "1")
    assert not any("CreateAccessKey" in p["hops"][0]["technique"] for p in no_mfa["paths"])


def test_p1_github_any_repo_reaches_prod_admin(cli: Any) -> None:
    provider = arn(SHARED, "oidc-provider/token.actions.githubusercontent.com")
    r = cli("path", provider, arn(PROD, "role/cdk/CloudFormationExecutionRole"))
    assert r["paths"], "GitHub OIDC (broad sub) reaches the prod CloudFormation admin role"
    nodes = [h["target"] for h in r["paths"][0]["hops"]]
    assert arn(PROD, "role/deploy/CrossAccountDeploy") in nodes


def test_p6_org_automation_reaches_member_accounts(cli: Any) -> None:
    for account in (SEC, LOGS, SHARED, PROD, DEV):
        r = cli("path", arn(MGMT, "user/automation/org-automation"), arn(account, "role/OrganizationAccountAccessRole"))
        assert r["paths"], account


# ---- §4.1: what `iamgraph review --as-of 2026-11-15` reports, and `iamgraph review` alone --------------------

_ROW = re.compile(r"^\| (critical|high|medium|low|info|–) \| ([a-z0-9-]+) \| (.+) \|$")
_COUNT = re.compile(r"^(\d+) findings\b")


def _expected_review() -> dict[str, dict[str, Any]]:
    """check -> {"ids": {severity: set of ids}, "counts": {severity: n}} from the §4.1 table of EXPECTED.md."""
    text = (DEMO / "EXPECTED.md").read_text(encoding="utf-8")
    section = text.split("**4.1 What `iamgraph review", 1)[1].split("\n## 5.", 1)[0]
    out: dict[str, dict[str, Any]] = {}
    for line in section.splitlines():
        m = _ROW.match(line.strip())
        if not m:
            continue
        severity, check, cell = m.groups()
        entry = out.setdefault(check, {"ids": {}, "counts": {}})
        if severity == "–":
            assert cell == "none", line
            continue
        count = _COUNT.match(cell)
        if count:
            entry["counts"][severity] = int(count.group(1))
        else:
            entry["ids"][severity] = {t for t in re.findall(r"`([^`]+)`", cell) if t.startswith("arn:aws:")}
    return out


EXPECTED_REVIEW = _expected_review()


@pytest.fixture(scope="module")
def review_json(cli: Any) -> dict[str, Any]:
    return cli("review", "--as-of", "2026-11-15")  # type: ignore[no-any-return]


def test_review_table_lists_every_check() -> None:
    from iamgraph.review import checks

    assert set(EXPECTED_REVIEW) == {c.id for c in checks()}


def _assert_as_expected(report: dict[str, Any], check: str) -> None:
    found: dict[str, set[str]] = {}
    for f in report["findings"]:
        if f["check"] == check:
            found.setdefault(f["severity"], set()).add(f["id"].split(":", 1)[1])
    expected = EXPECTED_REVIEW[check]
    for severity, n in expected["counts"].items():
        assert len(found.pop(severity, set())) == n, (check, severity)
    assert found == expected["ids"], check


@pytest.mark.parametrize("check", sorted(EXPECTED_REVIEW))
def test_review_findings(review_json: dict[str, Any], check: str) -> None:
    _assert_as_expected(review_json, check)


def test_review_evidence_opens_in_the_graph(review_json: dict[str, Any]) -> None:
    from iamgraph.graph.queries import Analysis
    from iamgraph.ingest import load_snapshot

    analysis = Analysis.of(load_snapshot(DEMO))
    g = analysis.graph.graph
    assert review_json["summary"]["findings"] == len(review_json["findings"]) > 100
    for f in review_json["findings"]:
        ev = f["evidence"]
        assert all(node in g for node in ev["principals"] + ev["resources"]), f["id"]
        for path in ev["paths"]:
            for hop in path["hops"]:
                edges = analysis.graph.edges_between(hop["source"], hop["target"])
                assert any(e.technique == hop["technique"] for e in edges), (f["id"], hop["technique"])
        assert f["file"] is None or (DEMO / f["file"]).is_file(), f["id"]
    by_id = {f["id"]: f for f in review_json["findings"]}
    carol = by_id[f"escalation-path:{arn(PROD, 'user/ops/ops-carol')}"]
    assert [h["technique"] for h in carol["evidence"]["paths"][0]["hops"]] == ["iam:UpdateAssumeRolePolicy"]
    assert any(s["sid"] == "EditBreakGlassTrust" for s in carol["evidence"]["statements"])
    legacy = by_id[f"trust-without-external-id:{arn(PROD, 'role/vendor/LegacyBackupVendor')}#572918364015"]
    assert legacy["evidence"]["details"]["effective"] and legacy["evidence"]["paths"]
    former = by_id[f"trust-without-external-id:{arn(DEV, 'role/vendor/FormerContractorReadOnly')}#486913570248"]
    assert former["evidence"]["details"]["blocked_by"] == ["rcp"] and not former["evidence"]["paths"]
    monitoring = next(o for o in review_json["out_of_scope"] if o["area"] == "monitoring")
    assert monitoring["seen_in_snapshot"] == [
        {"arn": "arn:aws:cloudtrail:eu-west-1:381492650173:trail/example-org-trail", "type": "AWS::CloudTrail::Trail"}
    ]


# The newest credential report of the demo (dev, 915630472846) was generated after every time its reports
# record (the last: dev-bob's key, 2026-11-15T08:10); the other accounts' reports a little earlier.
DEMO_REPORT_TIME = "2026-11-15T08:32:30"


def test_review_without_as_of_takes_the_credential_report_time(cli: Any, review_json: dict[str, Any]) -> None:
    """`iamgraph review` alone counts ages to when the demo's credential reports were generated, which gives
    exactly the §4.1 findings; an explicit --as-of wins over it."""
    default = cli("review")
    assert default["as_of"] == {
        "time": f"{DEMO_REPORT_TIME}+00:00",
        "source": f"credential report generated {DEMO_REPORT_TIME}Z (account {DEV})",
        "note": None,
    }
    assert review_json["as_of"] == {"time": "2026-11-15T00:00:00+00:00", "source": "--as-of", "note": None}
    assert not default["not_assessed"]
    for check in sorted(EXPECTED_REVIEW):
        _assert_as_expected(default, check)
    same = {(f["id"], f["severity"]) for f in default["findings"]}
    assert same == {(f["id"], f["severity"]) for f in review_json["findings"]}


def test_review_sarif_and_gate(tmp_path_factory: pytest.TempPathFactory) -> None:
    runner = CliRunner(env={"IAMGRAPH_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))})
    args = ["review", "--data", str(DEMO), "--as-of", "2026-11-15", "--no-access-summary", "--format", "sarif"]
    res = runner.invoke(app, [*args, "--fail-on", "critical"])
    assert res.exit_code == 1, res.output  # root access key, root without MFA, outsiders reaching admin
    log = json.loads(res.stdout)
    assert log["version"] == "2.1.0"
    levels = {r["level"] for r in log["runs"][0]["results"]}
    assert levels == {"error", "warning", "note"}


# ---- §3.5: S3 object access (decided as "some object of the bucket", arn:aws:s3:::BUCKET/*) -------------
def _direct(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Principals holding the access themselves (a one-hop path), by ARN."""
    return {p["arn"]: p for p in answer["principals"] if len(p["path"]) == 1}


def _condition_keys(p: dict[str, Any]) -> set[str]:
    text = json.dumps(p["path"][-1]["conditions"])
    return {k for k in ("aws:SourceIp", "aws:SecureTransport", "aws:MultiFactorAuthPresent") if k in text}


FINANCE_READERS = {
    arn(PROD, r)
    for r in (
        "role/OrganizationAccountAccessRole",
        "role/ProdAdmin",
        "role/cdk/CloudFormationExecutionRole",
        "role/service-role/nightly-maintenance-role",
        "role/ec2/ops-runner-role",
        "role/finance/FinanceReporting",
        "role/audit/OrganizationAuditRole",
        "role/vendor/LegacyBackupVendor",
    )
}


def test_finance_reports_objects_readable_from_the_office_only(cli: Any) -> None:
    direct = _direct(cli("who-can", "arn:aws:s3:::finance-reports", "--action", "s3:GetObject"))
    assert set(direct) == FINANCE_READERS
    assert all(p["conditional"] and "aws:SourceIp" in _condition_keys(p) for p in direct.values())


def test_finance_reports_objects_writable_by_readers_minus_audit_and_backup(cli: Any) -> None:
    direct = _direct(cli("who-can", "arn:aws:s3:::finance-reports", "--action", "s3:PutObject"))
    expected = FINANCE_READERS - {
        arn(PROD, "role/audit/OrganizationAuditRole"),
        arn(PROD, "role/vendor/LegacyBackupVendor"),
    }
    assert set(direct) == expected


def test_cloudtrail_bucket_objects(cli: Any) -> None:
    direct = _direct(cli("who-can", "arn:aws:s3:::example-org-cloudtrail-649203817562", "--action", "s3:GetObject"))
    assert set(direct) == {
        arn(SEC, "role/SecurityAuditHub"),
        arn(LOGS, "role/OrganizationAccountAccessRole"),
        arn(LOGS, "role/audit/OrganizationAuditRole"),
    }
    assert all("aws:SecureTransport" in _condition_keys(p) for p in direct.values())


GITHUB_SHARED = arn(SHARED, "oidc-provider/token.actions.githubusercontent.com")


def test_exposure_github_reaches_prod_admins_listed_whatever_the_limit(cli: Any) -> None:
    """P1: any example-org workflow reaches prod admin (CloudFormationExecutionRole); the counts do not
    depend on how many reached nodes and admins are listed, and those listed are the head of the list."""
    full = {o["node"]: o for o in cli("exposure", "--limit", "1000")["outsiders"]}
    head = {o["node"]: o for o in cli("exposure", "--limit", "1")["outsiders"]}
    github = full[GITHUB_SHARED]
    admins = {a["node"]: a for a in github["admins"]}
    assert arn(PROD, "role/cdk/CloudFormationExecutionRole") in admins
    first = admins[arn(PROD, "role/cdk/CloudFormationExecutionRole")]["path"]
    assert first[0]["source"] == GITHUB_SHARED and first[0]["target"] == arn(
        SHARED, "role/github-actions/GitHubActionsCI"
    )
    for node, whole in full.items():
        reached = whole["reached"]
        assert reached["principals"] + reached["resources"] == len(whole["reaches"]) and not whole["truncated"]
        assert sum(c["principals"] for c in reached["by_account"].values()) == reached["principals"]
        part = head[node]
        assert part["reached"] == reached and part["admins"] == whole["admins"][:1]
        assert reached["admins"] == len(whole["admins"])
        assert part["reaches"] == whole["reaches"][:1]
        assert part["truncated"] == (len(whole["reaches"]) > 1)
    assert PROD in github["reached"]["by_account"] and github["reached"]["by_account"][PROD]["principals"] >= 5


def test_who_can_pages_on_the_command_line(cli: Any) -> None:
    whole = cli("who-can", "arn:aws:s3:::finance-reports", "--action", "s3:GetObject")
    page = cli("who-can", "arn:aws:s3:::finance-reports", "--action", "s3:GetObject", "--limit", "2", "--offset", "1")
    assert page["total"] == whole["total"] == len(whole["principals"]) > 3
    assert page["principals"] == whole["principals"][1:3] and page["truncated"]


def test_pages_and_summaries_say_what_they_leave_out() -> None:
    """The terminal views of a page of who-can and of a limited exposure count what is not listed."""
    from rich.console import Console

    from iamgraph.graph.queries import Analysis, exposure, who_can
    from iamgraph.ingest import load_snapshot
    from iamgraph.render import render_query

    analysis = Analysis.of(load_snapshot(DEMO))
    console = Console(record=True, width=200)
    page = who_can(analysis, "arn:aws:s3:::finance-reports", limit=2, offset=1)
    render_query(console, "who-can", page)
    render_query(console, "exposure", exposure(analysis, limit=1))
    text = console.export_text()
    assert f"(2 of {page['total']}, from #2)" in text and f"… {page['total'] - 3} more (--offset, --limit)" in text
    assert "admin 381492650173:role/federation/SamlAdministrators" in text and "more (--limit)" in text


def test_the_terminal_names_each_public_grant_with_its_conditions() -> None:
    """The payments webhook is public twice, under two different conditions: the findings table says which
    action under which condition, not a count twice over."""
    from rich.console import Console

    from iamgraph.graph.queries import Analysis, exposure
    from iamgraph.ingest import load_snapshot
    from iamgraph.render import render_query

    console = Console(record=True, width=300, color_system=None)
    render_query(console, "exposure", exposure(Analysis.of(load_snapshot(DEMO)), limit=0))
    text = console.export_text()
    webhook = "arn:aws:lambda:eu-west-1:846271093514:function:payments-webhook"
    assert f"{webhook}: lambda:InvokeFunctionUrl (if lambda:FunctionUrlAuthType StringEquals NONE)" in text
    assert f"{webhook}: lambda:InvokeFunction (if lambda:InvokedViaFunctionUrl Bool true)" in text
