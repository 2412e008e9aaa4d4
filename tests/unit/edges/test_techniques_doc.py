"""docs/techniques.md lists every technique the escalation modules derive, and both catalogues."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.edges.techniques.credentials import ACTIONS
from iamgraph.edges.techniques.passrole import RECIPES
from iamgraph.edges.techniques.self_escalation import LEVERS
from iamgraph.edges.techniques.takeover import TAKEOVERS

DOC = (Path(__file__).resolve().parents[3] / "docs" / "techniques.md").read_text()

TECHNIQUES = sorted(
    {
        *ACTIONS,
        "iam:UpdateAssumeRolePolicy",
        *(lever.action for lever in LEVERS),
        "iam:AddUserToGroup",
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        *(r.technique for r in RECIPES),
        *(t.technique for t in TAKEOVERS),
    }
)

IAM_VULNERABLE = [
    "IAM-CreateAccessKey",
    "IAM-CreateLoginProfile",
    "IAM-UpdateLoginProfile",
    "CloudFormation-PassExistingRoleToCloudFormation",
    "CodeBuild-CreateProjectPassRole",
    "DataPipeline-PassExistingRoleToNewDataPipeline",
    "EC2-CreateInstanceWithExistingProfile",
    "Glue-PassExistingRoleToNewGlueDevEndpoint",
    "Lambda-PassExistingRoleToNewLambdaThenInvoke",
    "Lambda-PassRoleToNewLambdaThenTrigger",
    "SageMaker-CreateNotebookPassRole",
    "SageMaker-CreateTrainingJobPassRole",
    "SageMaker-CreateProcessingJobPassRole",
    "IAM-AddUserToGroup",
    "IAM-AttachGroupPolicy",
    "IAM-AttachRolePolicy",
    "IAM-AttachUserPolicy",
    "IAM-CreateNewPolicyVersion",
    "IAM-PutGroupPolicy",
    "IAM-PutRolePolicy",
    "IAM-PutUserPolicy",
    "IAM-SetExistingDefaultPolicyVersion",
    "EC2InstanceConnect-SendSSHPublicKey",
    "CloudFormation-UpdateStack",
    "Glue-UpdateExistingGlueDevEndpoint",
    "Lambda-EditExistingLambdaFunctionWithRole",
    "SageMakerCreatePresignedNotebookURL",
    "SSM-SendCommand",
    "SSM-StartSession",
    "STS-AssumeRole",
    "IAM-UpdatingAssumeRolePolicy",
]


@pytest.mark.parametrize("technique", TECHNIQUES)
def test_every_technique_is_documented(technique: str) -> None:
    """Each action of the technique appears in the table (long names abbreviate the service prefix)."""
    assert all(action.split(":", 1)[1] in DOC for action in technique.split("+")), technique


def test_technique_count() -> None:
    assert len(TECHNIQUES) == 93
    assert "In all: 93 techniques" in DOC


def test_iam_vulnerable_paths_are_all_mapped() -> None:
    assert len(IAM_VULNERABLE) == 31
    table = DOC.split("## Coverage of the catalogues")[0]
    assert [name for name in IAM_VULNERABLE if f"| {name} |" not in table and f"| {name}," not in table] == []
