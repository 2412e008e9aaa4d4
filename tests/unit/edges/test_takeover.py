"""takeover: drive or change existing compute of resources.json that runs as a role -> escalate."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamgraph.edges.base import EdgeKind
from iamgraph.edges.techniques.takeover import SELF_GRANTED, TAKEOVERS, Takeover

from .estate_builder import ACCOUNT, Account, allow, arn, deny, doc, graph, none, one, scp_org, sids, trust_service

ATTACKER = arn("user", "attacker")
ROLE = arn("role", "runner")
FUNCTION = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders"
INSTANCE = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123456789abcdef0"


def _estate(*statements: dict[str, object], resource: str = FUNCTION, rtype: str = "AWS::Lambda::Function") -> Account:
    a = Account()
    a.user("attacker", *statements)
    a.role("runner", trust_service("lambda.amazonaws.com", "ec2.amazonaws.com"))
    a.resource(resource, rtype, ROLE)
    return a


def test_update_and_invoke_a_function(tmp_path: Path) -> None:
    a = _estate(allow(["lambda:UpdateFunctionCode", "lambda:InvokeFunction"], FUNCTION, sid="Code"))
    e = one(graph(tmp_path, a), ATTACKER, ROLE, "lambda:UpdateFunctionCode+lambda:InvokeFunction")
    assert e.kind is EdgeKind.ESCALATE and e.via == (FUNCTION,)
    assert sids(e) == {"Code"} and e.conditions is True


def test_update_alone_waits_for_the_triggers(tmp_path: Path) -> None:
    a = _estate(allow("lambda:UpdateFunctionCode", FUNCTION))
    e = one(graph(tmp_path, a), ATTACKER, ROLE, "lambda:UpdateFunctionCode")
    assert "triggers" in e.note


def test_deny_on_the_function(tmp_path: Path) -> None:
    a = _estate(allow("lambda:*"), deny("lambda:UpdateFunctionCode", FUNCTION))
    none(graph(tmp_path, a), ATTACKER, ROLE)


def test_scp_deny(tmp_path: Path) -> None:
    a = _estate(allow("lambda:*"))
    none(graph(tmp_path, a, organization=scp_org(doc(deny("lambda:Update*")), a.id)), ATTACKER, ROLE)


def test_ssm_on_an_instance_with_a_resource_tag_condition(tmp_path: Path) -> None:
    a = Account()
    blue_only = {"StringEquals": {"aws:ResourceTag/team": "blue"}}
    a.user("attacker", allow("ssm:SendCommand", Condition=blue_only, sid="Blue"))
    blue = a.role("blue", trust_service("ec2.amazonaws.com"), instance_profile=True)
    red = a.role("red", trust_service("ec2.amazonaws.com"), instance_profile=True)
    a.resource(INSTANCE, "AWS::EC2::Instance", blue, tags={"team": "blue"})
    a.resource(INSTANCE[:-1] + "1", "AWS::EC2::Instance", red, tags={"team": "red"})
    g = graph(tmp_path, a)
    assert sids(one(g, ATTACKER, blue, "ssm:SendCommand")) == {"Blue"}
    none(g, ATTACKER, red)


def test_cross_account_through_the_function_policy(tmp_path: Path) -> None:
    b_id = "444455556666"
    grant = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{b_id}:root"}, "Action": "lambda:*",
             "Resource": FUNCTION, "Sid": "Partner"}  # fmt: skip
    a = Account()
    a.role("runner", trust_service("lambda.amazonaws.com"))
    a.resource(FUNCTION, "AWS::Lambda::Function", ROLE, policy=doc(grant))
    b = Account(id=b_id)
    outsider = b.user("attacker", allow(["lambda:UpdateFunctionCode", "lambda:InvokeFunction"], sid="Mine"))
    b.user("idle", allow("s3:*"))
    g = graph(tmp_path, a, b)
    assert sids(one(g, outsider, ROLE, "lambda:UpdateFunctionCode+lambda:InvokeFunction")) == {"Partner", "Mine"}
    none(g, arn("user", "idle", b_id), ROLE)


def test_other_accounts_without_a_resource_policy(tmp_path: Path) -> None:
    a = Account()
    a.role("runner", trust_service("lambda.amazonaws.com"))
    a.resource(FUNCTION, "AWS::Lambda::Function", ROLE)
    b = Account(id="444455556666")
    outsider = b.user("attacker", allow("lambda:*"))
    none(graph(tmp_path, a, b), outsider, ROLE)


def test_launch_template_reaches_instance_roles(tmp_path: Path) -> None:
    a = Account()
    a.user("attacker", allow(["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"], sid="Tpl"))
    profiled = a.role("profiled", trust_service("ec2.amazonaws.com", sid="Ec2"), instance_profile=True)
    bare = a.role("bare", trust_service("ec2.amazonaws.com"))
    template = a.resource(f"arn:aws:ec2:eu-west-1:{ACCOUNT}:launch-template/lt-0abc", "AWS::EC2::LaunchTemplate")
    g = graph(tmp_path, a)
    e = one(g, ATTACKER, profiled, "ec2:CreateLaunchTemplateVersion+ec2:ModifyLaunchTemplate")
    assert e.via == (template,) and sids(e) == {"Tpl", "Ec2"}
    none(g, ATTACKER, bare)


_ARNS = {
    "AWS::Lambda::Function": FUNCTION,
    "AWS::EC2::Instance": INSTANCE,
    "AWS::CloudFormation::Stack": f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/infra/6c1f0d20",
    "AWS::CodeBuild::Project": f"arn:aws:codebuild:eu-west-1:{ACCOUNT}:project/deploy",
    "AWS::Glue::DevEndpoint": f"arn:aws:glue:eu-west-1:{ACCOUNT}:devEndpoint/dev",
    "AWS::SageMaker::NotebookInstance": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:notebook-instance/nb",
    "AWS::ECS::Service": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/prod/api",
    "AWS::Batch::JobDefinition": f"arn:aws:batch:eu-west-1:{ACCOUNT}:job-definition/etl:3",
    "AWS::CodeDeploy::DeploymentGroup": f"arn:aws:codedeploy:eu-west-1:{ACCOUNT}:deploymentgroup:app/blue",
    "AWS::AppRunner::Service": f"arn:aws:apprunner:eu-west-1:{ACCOUNT}:service/web/0123",
    "AWS::MWAA::Environment": f"arn:aws:airflow:eu-west-1:{ACCOUNT}:environment/flows",
    "AWS::BedrockAgentCore::CodeInterpreter": f"arn:aws:bedrock-agentcore:eu-west-1:{ACCOUNT}:code-interpreter/ci",
    "AWS::BedrockAgentCore::Runtime": f"arn:aws:bedrock-agentcore:eu-west-1:{ACCOUNT}:runtime/rt",
    "AWS::BedrockAgentCore::Harness": f"arn:aws:bedrock-agentcore:eu-west-1:{ACCOUNT}:harness/h",
    "AWS::BedrockAgentCore::BrowserCustom": f"arn:aws:bedrock-agentcore:eu-west-1:{ACCOUNT}:browser-custom/b",
}


@pytest.mark.parametrize("takeover", [t for t in TAKEOVERS if t.type in _ARNS], ids=lambda t: t.technique)
def test_every_takeover(tmp_path: Path, takeover: Takeover) -> None:
    """Each takeover gives its edge when the source holds exactly its permissions."""
    actions = [a for a, _ in takeover.steps if not a.endswith(SELF_GRANTED)]
    a = _estate(allow(actions, sid="Exact"), resource=_ARNS[takeover.type], rtype=takeover.type)
    e = one(graph(tmp_path, a), ATTACKER, ROLE, takeover.technique)
    assert e.via == (_ARNS[takeover.type],) and "Exact" in sids(e)
