"""fixtures/demo-org/EXPECTED.md, asserted through the CLI (``--json``), section by section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from iamgraph.cli import app

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo-org"
MGMT, SEC, LOGS, SHARED, PROD, DEV = (
    "381492650173", "527164038291", "649203817562", "730158246937", "846271093514", "915630472846",
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
        (arn(PROD, "user/data/data-eng-li"), arn(PROD, "role/service-role/nightly-maintenance-role"),
         "lambda:UpdateFunctionCode"),
        (arn(PROD, "user/ops/app-ops-omar"), arn(PROD, "role/ec2/ops-runner-role"), "ssm:SendCommand"),
        (arn(PROD, "role/app/ReleaseAutomation"), arn(PROD, "role/service-role/nightly-maintenance-role"),
         "iam:PassRole+lambda:CreateFunction"),
        (arn(PROD, "role/deploy/CrossAccountDeploy"), arn(PROD, "role/cdk/CloudFormationExecutionRole"),
         "cloudformation"),
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
    assert keep["paths"] and all(p["conditional"] for p in keep["paths"] if "CreateAccessKey" in
                                  p["hops"][0]["technique"])
    mfa = cli("path", source, target, "--context", "aws:MultiFactorAuthPresent=true", "--all", "--max-depth", "1")
    assert any(not p["conditional"] and "CreateAccessKey" in p["hops"][0]["technique"] for p in mfa["paths"])
    no_mfa = cli("path", source, target, "--context", "aws:MultiFactorAuthPresent=false", "--all",
                 "--max-depth", "1")
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
