"""Seeded synthetic AWS estates in the snapshot format (docs/snapshot-format.md), for benchmarks.

    python bench/generate.py --principals 5000 --accounts 20 --resources 20000 --seed 1 --out DIR
    python bench/generate.py --principals 800 --single-account --out DIR

The same arguments always give the same bytes. Each account is generated from its own random stream
(seeded by ``seed`` and the account's index), so the work is linear in the estate and an account's
content does not depend on how many accounts come after it.

What an estate holds (fractions are of the account's principals, roles or resources):

* users (40 % of principals) in groups (Admins with AdministratorAccess, Developers with
  PowerUserAccess, ReadOnly, team groups with customer policies), a few service users with direct
  policies, inline policies, team tags, some with a permissions boundary;
* roles: service roles trusting ec2 (with instance profiles), lambda, ecs-tasks and codebuild;
  same-account roles trusting named users/roles or the account root (some with MFA); deploy roles
  trusting another account's root (half of them a hub "tooling" account; some with MFA); audit roles
  trusting the security account's audit role; vendor roles trusting an outside account with an
  ExternalId; SAML and GitHub OIDC roles; a few ``*``-trust roles with a PrincipalOrgID /
  PrincipalAccount condition; OrganizationAccountAccessRole in member accounts;
* customer managed policies (about one per six principals; a fifth have two versions, the older
  one often broader), drawn from templates with wildcards, NotAction, NotResource, Deny statements,
  MFA / SourceIp conditions and ``${aws:PrincipalTag/team}`` variables; AWS-managed-like policies
  (AdministratorAccess, ReadOnlyAccess, PowerUserAccess, AmazonS3ReadOnlyAccess,
  AWSLambdaBasicExecutionRole, AmazonSSMManagedInstanceCore) with simplified documents;
* a sprinkling of privilege-escalation permissions: iam:CreateAccessKey / login profiles on other
  users, iam:PutUserPolicy on oneself, iam:UpdateAssumeRolePolicy, iam:PassRole with
  lambda:CreateFunction or ec2:RunInstances, iam:CreatePolicyVersion / SetDefaultPolicyVersion,
  iam:AttachRolePolicy, ssm:SendCommand, lambda:UpdateFunctionCode;
* resources.json: S3 buckets (some bucket policies: TLS-only, cross-account, public, public with
  SourceIp, role-specific), KMS keys with key policies, SQS queues and SNS topics (some policies),
  Secrets Manager secrets, Lambda functions with execution roles, EC2 instances with
  instance-profile roles, DynamoDB tables;
* credential-report.csv and account.json (alias) per account;
* organization.json when there is more than one account: OUs (Security, Infrastructure,
  Workloads > Prod/Staging/Dev, Sandbox), FullAWSAccess everywhere, a guardrail SCP with Deny
  statements (leave organization, CloudTrail, region lock with NotAction), a sandbox SCP, and one
  RCP (data perimeter on Prod).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from iamgraph.ingest.credential_report import COLUMNS, format_credential_report

__all__ = ["GENERATOR_VERSION", "EstateSpec", "generate"]

GENERATOR_VERSION = 1
Doc = dict[str, Any]

V = "2012-10-17"
REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "eu-central-1")
ALLOWED_REGIONS = ["us-east-1", "eu-west-1", "us-west-2", "eu-central-1"]
TEAMS = ("payments", "search", "platform", "data", "mobile", "identity", "growth", "ml", "checkout", "infra")
FIRST = (
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "yolanda",
)
VENDORS = ("datadog", "wiz", "snyk", "lacework", "cloudhealth")
EXTERNAL_ACCOUNTS = tuple(f"{999900000000 + 11 * k:012d}" for k in range(1, 9))  # outside any snapshot
VENDOR_ACCOUNTS = tuple(f"{888800000000 + 7 * k:012d}" for k in range(1, len(VENDORS) + 1))
ORG_ID = "o-bench0a1b2c"
ROOT_ID = "r-bn01"
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
DATES = tuple(
    f"20{y:02d}-{m:02d}-{d:02d}T{h:02d}:{(7 * d) % 60:02d}:00+00:00"
    for y in (19, 20, 21, 22, 23)
    for m in range(1, 13)
    for d in (3, 11, 19, 27)
    for h in (8, 14)
)
ROLE_MIX = (  # category, share of an account's roles
    ("ec2", 0.20),
    ("lambda", 0.20),
    ("ecs", 0.05),
    ("codebuild", 0.03),
    ("app", 0.14),
    ("root", 0.06),
    ("deploy", 0.12),
    ("audit", 0.04),
    ("vendor", 0.05),
    ("saml", 0.06),
    ("oidc", 0.05),
)
RESOURCE_MIX = (
    ("s3", 0.24),
    ("sqs", 0.13),
    ("sns", 0.07),
    ("kms", 0.08),
    ("lambda", 0.18),
    ("ec2", 0.15),
    ("secret", 0.07),
    ("dynamodb", 0.08),
)


# ---- AWS-managed-like policies ------------------------------------------------------------------
def _stmt(effect: str, action: Any, resource: Any = "*", **extra: Any) -> Doc:
    st: Doc = {"Effect": effect}
    if "sid" in extra:
        st["Sid"] = extra.pop("sid")
    if "not_action" in extra:
        st["NotAction"] = extra.pop("not_action")
    else:
        st["Action"] = action
    if "not_resource" in extra:
        st["NotResource"] = extra.pop("not_resource")
    elif resource is not None:
        st["Resource"] = resource
    if "principal" in extra:
        st["Principal"] = extra.pop("principal")
    if "condition" in extra:
        st["Condition"] = extra.pop("condition")
    assert not extra, extra
    return st


def _doc(*statements: Doc) -> Doc:
    return {"Version": V, "Statement": list(statements)}


AWS_MANAGED: dict[str, tuple[str, str, Doc]] = {  # name -> (ARN, policy id, document)
    "AdministratorAccess": (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "ANPAIWMBCKSKIEE64ZLYK",
        _doc(_stmt("Allow", "*", "*")),
    ),
    "ReadOnlyAccess": (
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "ANPAILL3HVNFSB6DCOWYQ",
        _doc(
            _stmt(
                "Allow",
                [
                    "s3:Get*",
                    "s3:List*",
                    "ec2:Describe*",
                    "iam:Get*",
                    "iam:List*",
                    "lambda:Get*",
                    "lambda:List*",
                    "sqs:Get*",
                    "sqs:List*",
                    "sns:Get*",
                    "sns:List*",
                    "kms:Describe*",
                    "kms:List*",
                    "cloudwatch:Get*",
                    "cloudwatch:List*",
                    "logs:Describe*",
                    "logs:Get*",
                    "dynamodb:Describe*",
                    "dynamodb:List*",
                    "cloudtrail:Describe*",
                    "cloudtrail:LookupEvents",
                    "organizations:Describe*",
                    "organizations:List*",
                ],
            )
        ),
    ),
    "PowerUserAccess": (
        "arn:aws:iam::aws:policy/PowerUserAccess",
        "ANPAJYRXTHIB4FOVS3ZXS",
        _doc(
            _stmt("Allow", None, "*", not_action=["iam:*", "organizations:*", "account:*"]),
            _stmt(
                "Allow",
                [
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                    "account:ListRegions",
                    "account:GetAccountInformation",
                ],
                "*",
            ),
        ),
    ),
    "AmazonS3ReadOnlyAccess": (
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        "ANPAIZTJ4DXE7G6AGAE6M",
        _doc(
            _stmt(
                "Allow", ["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*"], "*"
            )
        ),
    ),
    "AWSLambdaBasicExecutionRole": (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "ANPAJNCQGXC42545SKXIK",
        _doc(_stmt("Allow", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "*")),
    ),
    "AmazonSSMManagedInstanceCore": (
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "ANPAIXSHM2BNB2D3AXXRU",
        _doc(
            _stmt(
                "Allow",
                [
                    "ssm:DescribeAssociation",
                    "ssm:GetDeployablePatchSnapshotForInstance",
                    "ssm:GetDocument",
                    "ssm:DescribeDocument",
                    "ssm:GetManifest",
                    "ssm:GetParameter",
                    "ssm:GetParameters",
                    "ssm:ListAssociations",
                    "ssm:ListInstanceAssociations",
                    "ssm:PutInventory",
                    "ssm:PutComplianceItems",
                    "ssm:PutConfigurePackageResult",
                    "ssm:UpdateAssociationStatus",
                    "ssm:UpdateInstanceAssociationStatus",
                    "ssm:UpdateInstanceInformation",
                ],
                "*",
            ),
            _stmt(
                "Allow",
                [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                "*",
            ),
            _stmt("Allow", ["ec2messages:*"], "*"),
        ),
    ),
}


@dataclass(frozen=True)
class EstateSpec:
    principals: int
    accounts: int = 1
    resources: int = 0
    seed: int = 1
    single_account: bool = False

    def __post_init__(self) -> None:
        if self.single_account and self.accounts != 1:
            object.__setattr__(self, "accounts", 1)
        if self.accounts < 1 or self.principals < 4 * self.accounts:
            raise ValueError("need at least 4 principals per account")
        if self.resources < 0:
            raise ValueError("resources must be >= 0")

    @property
    def organization(self) -> bool:
        return self.accounts > 1


@dataclass
class _Estate:
    spec: EstateSpec
    ids: list[str]
    hubs: list[str]  # tooling accounts trusted by deploy roles everywhere
    star_accounts: set[int]
    management: str | None
    security: str | None

    def other_account(self, rng: random.Random, me: str) -> str:
        if not self.spec.organization:
            return rng.choice(EXTERNAL_ACCOUNTS)
        if rng.random() < 0.5:
            hub = rng.choice(self.hubs)
            if hub != me:
                return hub
        while True:
            other = rng.choice(self.ids)
            if other != me:
                return other


@dataclass
class _Counters:
    users: int = 0
    groups: int = 0
    roles: int = 0
    customer_policies: int = 0
    aws_policies: int = 0
    resources: int = 0
    resource_policies: int = 0
    boundaries: int = 0
    escalation_grants: int = 0
    files: int = 0
    bytes: int = 0
    by_account: dict[str, dict[str, int]] = field(default_factory=dict)


# ---- the generator of one account -----------------------------------------------------------------
class _Account:
    def __init__(self, estate: _Estate, index: int, n_principals: int, n_resources: int) -> None:
        self.e = estate
        self.index = index
        self.acct = estate.ids[index]
        self.rng = random.Random(f"iamgraph-bench:{estate.spec.seed}:{index}")
        self.n_users = max(1, round(n_principals * 0.4))
        self.n_roles = n_principals - self.n_users
        self.n_resources = n_resources
        self.prefix = f"bench{self.acct[-6:]}"  # bucket names are global: make them unique per account
        self.policies: dict[str, Doc] = {}  # customer managed by ARN
        self.attach_count: dict[str, int] = {}
        self.boundary_count: dict[str, int] = {}
        self.user_arns: list[str] = []
        self.role_arns: list[str] = []
        self.roles_by_cat: dict[str, list[str]] = {}
        self.instance_profiles: dict[str, str] = {}
        self.counter = 0

    # small helpers
    def _id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.index:06X}{self.counter:011X}"

    def _date(self) -> str:
        return self.rng.choice(DATES)

    def _team(self) -> str:
        return self.rng.choice(TEAMS)

    def _region(self) -> str:
        r = self.rng.random()
        return REGIONS[0] if r < 0.55 else REGIONS[1] if r < 0.8 else self.rng.choice(REGIONS[2:])

    # ---- resource names (policies refer to them) -------------------------------------------------
    def plan_resources(self) -> None:
        n = self.n_resources
        counts = {kind: int(n * share) for kind, share in RESOURCE_MIX}
        rest = n - sum(counts.values())
        kinds = [k for k, _ in RESOURCE_MIX]
        for k in range(rest):
            counts[kinds[k % len(kinds)]] += 1
        self.res_counts = counts
        a, p = self.acct, self.prefix
        self.buckets = [
            f"{p}-{TEAMS[i % len(TEAMS)]}-{('logs', 'assets', 'data', 'backup', 'secure')[i % 5]}-{i}"
            for i in range(counts["s3"])
        ]
        self.res_regions = {k: [self._region() for _ in range(c)] for k, c in counts.items()}
        self.queues = [
            f"arn:aws:sqs:{self.res_regions['sqs'][i]}:{a}:{TEAMS[i % len(TEAMS)]}-jobs-{i}"
            for i in range(counts["sqs"])
        ]
        self.topics = [
            f"arn:aws:sns:{self.res_regions['sns'][i]}:{a}:{TEAMS[i % len(TEAMS)]}-events-{i}"
            for i in range(counts["sns"])
        ]
        self.keys = [
            f"arn:aws:kms:{self.res_regions['kms'][i]}:{a}:key/{self.index:08x}-{i:04x}-4000-8000-"
            f"{i * 7919 % 16**12:012x}"
            for i in range(counts["kms"])
        ]
        self.secrets = [
            f"arn:aws:secretsmanager:{self.res_regions['secret'][i]}:{a}:secret:{TEAMS[i % len(TEAMS)]}/db-{i}-AbCdEf"
            for i in range(counts["secret"])
        ]
        self.tables = [
            f"arn:aws:dynamodb:{self.res_regions['dynamodb'][i]}:{a}:table/{TEAMS[i % len(TEAMS)]}-{i}"
            for i in range(counts["dynamodb"])
        ]
        self.functions = [
            f"arn:aws:lambda:{self.res_regions['lambda'][i]}:{a}:function:{TEAMS[i % len(TEAMS)]}-handler-{i}"
            for i in range(counts["lambda"])
        ]
        self.instances = [
            f"arn:aws:ec2:{self.res_regions['ec2'][i]}:{a}:instance/i-{self.index:07x}{i:010x}"
            for i in range(counts["ec2"])
        ]

    def _bucket(self) -> str:
        return self.rng.choice(self.buckets) if self.buckets else f"{self.prefix}-shared"

    def _pick(self, items: list[str], fallback: str) -> str:
        return self.rng.choice(items) if items else fallback

    # ---- customer managed policy templates ---------------------------------------------------------
    def _tpl_app_s3(self) -> Doc:
        b = self._bucket()
        b2 = self._bucket()
        return _doc(
            _stmt(
                "Allow",
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                [f"arn:aws:s3:::{b}/*", f"arn:aws:s3:::{b2}/*"],
                sid="Objects",
            ),
            _stmt("Allow", "s3:ListBucket", [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b2}"], sid="List"),
        )

    def _tpl_team_data(self) -> Doc:
        a, p = self.acct, self.prefix
        return _doc(
            _stmt(
                "Allow",
                "s3:*",
                [f"arn:aws:s3:::{p}-${{aws:PrincipalTag/team}}-*", f"arn:aws:s3:::{p}-${{aws:PrincipalTag/team}}-*/*"],
                sid="TeamBuckets",
            ),
            _stmt(
                "Allow",
                ["ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances"],
                f"arn:aws:ec2:*:{a}:instance/*",
                condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
            ),
            _stmt(
                "Allow",
                ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
                f"arn:aws:dynamodb:*:{a}:table/${{aws:PrincipalTag/team}}-*",
            ),
        )

    def _tpl_ops_readonly(self) -> Doc:
        return _doc(
            _stmt(
                "Allow",
                [
                    "ec2:Describe*",
                    "cloudwatch:Get*",
                    "cloudwatch:List*",
                    "logs:*",
                    "autoscaling:Describe*",
                    "elasticloadbalancing:Describe*",
                ],
                "*",
            )
        )

    def _tpl_queue_worker(self) -> Doc:
        q = self._pick(self.queues, f"arn:aws:sqs:us-east-1:{self.acct}:jobs")
        k = self._pick(self.keys, f"arn:aws:kms:us-east-1:{self.acct}:key/*")
        region = q.split(":")[3]
        return _doc(
            _stmt("Allow", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage", "sqs:GetQueueAttributes"], q),
            _stmt(
                "Allow",
                ["kms:Decrypt", "kms:GenerateDataKey"],
                k,
                condition={"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}},
            ),
            _stmt("Allow", ["sns:Publish"], self._pick(self.topics, f"arn:aws:sns:*:{self.acct}:*")),
        )

    def _tpl_notaction(self) -> Doc:
        return _doc(
            _stmt("Allow", None, "*", not_action=["iam:*", "organizations:*", "kms:*", "account:*"], sid="NonIam"),
            _stmt("Deny", ["s3:DeleteBucket", "dynamodb:DeleteTable", "rds:DeleteDBInstance"], "*", sid="NoDeletes"),
        )

    def _tpl_notresource(self) -> Doc:
        p = self.prefix
        return _doc(
            _stmt(
                "Allow",
                ["s3:*"],
                None,
                not_resource=[f"arn:aws:s3:::{p}-*-secure-*", f"arn:aws:s3:::{p}-*-secure-*/*"],
                sid="AllButSecure",
            ),
            _stmt(
                "Allow",
                ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                None,
                not_resource=f"arn:aws:secretsmanager:*:{self.acct}:secret:identity/*",
            ),
        )

    def _tpl_mfa_admin(self) -> Doc:
        return _doc(_stmt("Allow", "*", "*", sid="AdminWithMfa", condition=MFA))

    def _tpl_office_ip(self) -> Doc:
        cidrs = [f"198.51.{self.rng.randrange(256)}.0/24", "203.0.113.0/24"]
        return _doc(
            _stmt(
                "Allow",
                ["ec2:*", "s3:*", "cloudwatch:*"],
                "*",
                sid="FromOffice",
                condition={"IpAddress": {"aws:SourceIp": cidrs}},
            ),
            _stmt(
                "Deny",
                "*",
                "*",
                sid="DenyOutsideOffice",
                condition={"NotIpAddress": {"aws:SourceIp": cidrs}, "Bool": {"aws:ViaAWSService": "false"}},
            ),
        )

    def _tpl_deny_guard(self) -> Doc:
        return _doc(
            _stmt(
                "Allow",
                [
                    "iam:ChangePassword",
                    "iam:GetUser",
                    "iam:CreateVirtualMFADevice",
                    "iam:EnableMFADevice",
                    "iam:ListMFADevices",
                ],
                f"arn:aws:iam::{self.acct}:user/${{aws:username}}",
                sid="Self",
            ),
            _stmt(
                "Deny",
                None,
                "*",
                sid="DenyWithoutMfa",
                not_action=[
                    "iam:ChangePassword",
                    "iam:CreateVirtualMFADevice",
                    "iam:EnableMFADevice",
                    "iam:GetUser",
                    "iam:ListMFADevices",
                    "sts:GetSessionToken",
                ],
                condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
            ),
        )

    def _tpl_dynamo(self) -> Doc:
        t = self._pick(self.tables, f"arn:aws:dynamodb:*:{self.acct}:table/*")
        return _doc(
            _stmt(
                "Allow",
                [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                    "dynamodb:BatchGetItem",
                ],
                [t, f"{t}/index/*"],
            ),
            _stmt("Allow", ["secretsmanager:GetSecretValue"], self._pick(self.secrets, "*")),
        )

    def _tpl_assume_deploy(self) -> Doc:
        other = self.e.other_account(self.rng, self.acct)
        return _doc(
            _stmt(
                "Allow",
                "sts:AssumeRole",
                ["arn:aws:iam::*:role/deploy-*", f"arn:aws:iam::{other}:role/deploy-*"],
                sid="Deploy",
            ),
        )

    # escalation templates (rarer)
    def _tpl_lambda_deployer(self) -> Doc:
        return _doc(
            _stmt(
                "Allow",
                "iam:PassRole",
                f"arn:aws:iam::{self.acct}:role/service/lambda-*",
                sid="Pass",
                condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            ),
            _stmt(
                "Allow",
                [
                    "lambda:CreateFunction",
                    "lambda:InvokeFunction",
                    "lambda:UpdateFunctionCode",
                    "lambda:UpdateFunctionConfiguration",
                    "lambda:GetFunction",
                ],
                "*",
                sid="Functions",
            ),
        )

    def _tpl_helpdesk(self) -> Doc:
        return _doc(
            _stmt(
                "Allow",
                ["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:ListAccessKeys"],
                f"arn:aws:iam::{self.acct}:user/*",
                sid="Helpdesk",
            )
        )

    def _tpl_self_service(self) -> Doc:
        return _doc(
            _stmt(
                "Allow",
                ["iam:PutUserPolicy", "iam:CreateAccessKey", "iam:ChangePassword"],
                f"arn:aws:iam::{self.acct}:user/${{aws:username}}",
                sid="SelfService",
            )
        )

    def _tpl_trust_editor(self) -> Doc:
        return _doc(
            _stmt(
                "Allow",
                ["iam:UpdateAssumeRolePolicy", "iam:GetRole"],
                f"arn:aws:iam::{self.acct}:role/app-*",
                sid="TrustEditor",
            )
        )

    def _tpl_ec2_launcher(self) -> Doc:
        return _doc(
            _stmt("Allow", ["ec2:RunInstances", "ec2:AssociateIamInstanceProfile", "ec2:Describe*"], "*"),
            _stmt(
                "Allow",
                "iam:PassRole",
                f"arn:aws:iam::{self.acct}:role/service/ec2-*",
                condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            ),
            _stmt("Allow", ["ssm:SendCommand", "ssm:StartSession"], "*"),
        )

    def _tpl_policy_manager(self) -> Doc:
        a = self.acct
        return _doc(
            _stmt(
                "Allow",
                ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:GetPolicyVersion"],
                f"arn:aws:iam::{a}:policy/app-*",
            ),
            _stmt("Allow", ["iam:AttachRolePolicy", "iam:PutRolePolicy"], f"arn:aws:iam::{a}:role/app-*"),
        )

    NORMAL: tuple[tuple[str, float], ...] = (
        ("app-s3", 0.22),
        ("team-data", 0.10),
        ("ops-readonly", 0.12),
        ("queue-worker", 0.13),
        ("notaction", 0.05),
        ("notresource", 0.06),
        ("mfa-admin", 0.02),
        ("office-ip", 0.05),
        ("deny-guard", 0.06),
        ("dynamo", 0.12),
        ("assume-deploy", 0.07),
    )
    ESCALATION = ("lambda-deployer", "helpdesk", "self-service", "trust-editor", "ec2-launcher", "policy-manager")

    def _template(self, name: str) -> Callable[[], Doc]:
        fn: Callable[[], Doc] = getattr(self, "_tpl_" + name.replace("-", "_"))
        return fn

    def plan_policies(self) -> None:
        n_principals = self.n_users + self.n_roles
        n = max(len(self.NORMAL) + len(self.ESCALATION), n_principals // 6)
        names = [name for name, _ in self.NORMAL]
        weights = [w for _, w in self.NORMAL]
        self.pool: list[str] = []  # ordinary customer policies to attach
        self.by_kind: dict[str, list[str]] = {}
        self.escalation: dict[str, list[str]] = {}
        kinds = list(self.ESCALATION) + names  # at least one of each
        kinds += self.rng.choices(names, weights, k=n - len(kinds))
        for k, kind in enumerate(kinds):
            arn = f"arn:aws:iam::{self.acct}:policy/app-{kind}-{k}"
            self.policies[arn] = {"kind": kind, "doc": self._template(kind)()}
            (self.escalation.setdefault(kind, []) if kind in self.ESCALATION else self.pool).append(arn)
            self.by_kind.setdefault(kind, []).append(arn)
        b = self.acct
        boundary = _doc(
            _stmt("Allow", None, "*", not_action=["iam:*", "organizations:*", "account:*"], sid="Workloads"),
            _stmt(
                "Allow",
                ["iam:Get*", "iam:List*", "iam:PassRole"],
                f"arn:aws:iam::{b}:role/service/*",
                sid="PassServiceRoles",
            ),
            _stmt(
                "Deny",
                [
                    "iam:DeleteUserPermissionsBoundary",
                    "iam:DeleteRolePermissionsBoundary",
                    "iam:PutUserPermissionsBoundary",
                    "iam:PutRolePermissionsBoundary",
                ],
                "*",
                sid="KeepBoundary",
            ),
        )
        self.boundary_arn = f"arn:aws:iam::{b}:policy/boundaries/DeveloperBoundary"
        self.policies[self.boundary_arn] = {"kind": "boundary", "doc": boundary, "path": "/boundaries/"}

    def _attach(self, arn: str) -> dict[str, str]:
        self.attach_count[arn] = self.attach_count.get(arn, 0) + 1
        name = arn.rsplit("/", 1)[-1]
        return {"PolicyName": name, "PolicyArn": arn}

    def _aws(self, name: str) -> dict[str, str]:
        return self._attach(AWS_MANAGED[name][0])

    def _some_policies(self, k: int) -> list[dict[str, str]]:
        """``k`` ordinary customer policies, kinds drawn by their NORMAL weights (the same mix at every size)."""
        names = [name for name, _ in self.NORMAL]
        weights = [w for _, w in self.NORMAL]
        kinds = self.rng.choices(names, weights, k=k)
        chosen = {self.rng.choice(self.by_kind[kind]) for kind in kinds}
        return [self._attach(arn) for arn in sorted(chosen)]

    def _escalate(self, kind: str) -> dict[str, str]:
        return self._attach(self.rng.choice(self.escalation[kind]))

    def _inline(self, owner_kind: str) -> list[Doc]:
        if self.rng.random() >= (0.12 if owner_kind == "user" else 0.25):
            return []
        kind = self.rng.choice(("app-s3", "queue-worker", "dynamo", "ops-readonly", "team-data", "notresource"))
        return [{"PolicyName": f"inline-{kind}", "PolicyDocument": self._template(kind)()}]

    def _boundary(self, p: float) -> Doc | None:
        if self.rng.random() >= p:
            return None
        self.boundary_count[self.boundary_arn] = self.boundary_count.get(self.boundary_arn, 0) + 1
        return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": self.boundary_arn}

    # ---- groups and users ----------------------------------------------------------------------
    def gen_groups(self) -> list[Doc]:
        a = self.acct
        n = max(3, self.n_users // 10)
        self.groups: list[tuple[str, str]] = []  # (name, arn)
        out = []
        for g in range(n):
            if g == 0:
                name, path, attached = "Admins", "/", [self._aws("AdministratorAccess")]
            elif g == 1:
                name, path, attached = "Developers", "/", [self._aws("PowerUserAccess")]
                attached.append(
                    self._attach(self.rng.choice(self.escalation["self-service"]))
                    if self.rng.random() < 0.1
                    else self._attach(self._policy_of("deny-guard"))
                )
            elif g == 2:
                name, path, attached = "ReadOnly", "/", [self._aws("ReadOnlyAccess")]
            else:
                team = TEAMS[g % len(TEAMS)]
                name, path = f"team-{team}-{g}", "/teams/"
                attached = self._some_policies(self.rng.randint(1, 2))
                if self.rng.random() < 0.05:
                    attached.append(self._escalate(self.rng.choice(("helpdesk", "lambda-deployer", "ec2-launcher"))))
            arn = f"arn:aws:iam::{a}:group{path}{name}"
            self.groups.append((name, arn))
            out.append(
                {
                    "Path": path,
                    "GroupName": name,
                    "GroupId": self._id("AGPA"),
                    "Arn": arn,
                    "CreateDate": self._date(),
                    "GroupPolicyList": self._inline("group"),
                    "AttachedManagedPolicies": attached,
                }
            )
        return out

    def _policy_of(self, kind: str) -> str:
        for arn in self.pool:
            if self.policies[arn]["kind"] == kind:
                return arn
        return self.pool[0]

    def gen_users(self) -> tuple[list[Doc], list[dict[str, str]]]:
        a, rng = self.acct, self.rng
        users, report = [], []
        team_groups = self.groups[3:] or self.groups[2:]
        for u in range(self.n_users):
            team = self._team()
            service = rng.random() < 0.1
            if service:
                name, path = f"svc-{team}-{u}", "/service/"
            else:
                name, path = f"{FIRST[u % len(FIRST)]}.{team}{u}", "/" if rng.random() < 0.7 else "/engineering/"
            arn = f"arn:aws:iam::{a}:user{path}{name}"
            self.user_arns.append(arn)
            groups: list[str] = []
            attached: list[dict[str, str]] = []
            if service:
                attached = self._some_policies(rng.randint(1, 2))
            else:
                r = rng.random()
                if r < 0.03:
                    groups.append("Admins")
                elif r < 0.18:
                    groups.append("Developers")
                elif r < 0.45:
                    groups.append("ReadOnly")
                for _ in range(rng.choice((0, 1, 1, 1, 2))):
                    g = rng.choice(team_groups)[0]
                    if g not in groups:
                        groups.append(g)
                if rng.random() < 0.2:
                    attached = self._some_policies(1)
            if rng.random() < 0.05:
                attached.append(
                    self._escalate(
                        rng.choice(("helpdesk", "self-service", "lambda-deployer", "ec2-launcher", "trust-editor"))
                    )
                )
            if rng.random() < 0.08:
                attached.append(self._attach(self._policy_of("assume-deploy")))
            user: Doc = {
                "Path": path,
                "UserName": name,
                "UserId": self._id("AIDA"),
                "Arn": arn,
                "CreateDate": self._date(),
                "UserPolicyList": self._inline("user"),
                "GroupList": groups,
                "AttachedManagedPolicies": attached,
                "Tags": [{"Key": "team", "Value": team}],
            }
            boundary = self._boundary(0.08)
            if boundary:
                user["PermissionsBoundary"] = boundary
            users.append(user)
            password = not service and rng.random() < 0.8
            keys = (rng.random() < (0.9 if service else 0.3), rng.random() < 0.05)
            mfa = password and rng.random() < 0.7
            report.append(self._report_row(name, arn, user["CreateDate"], password, mfa, keys))
        return users, report

    def _report_row(
        self, name: str, arn: str, created: str, password: bool, mfa: bool, keys: tuple[bool, bool]
    ) -> dict[str, str]:
        def tf(b: bool) -> str:
            return "true" if b else "false"

        used = self._date() if password else "N/A"
        cells = [name, arn, created, tf(password), used, created if password else "N/A", "N/A", tf(mfa)]
        for active in keys:
            cells += [
                tf(active),
                created if active else "N/A",
                self._date() if active else "N/A",
                "us-east-1" if active else "N/A",
                "s3" if active else "N/A",
            ]
        cells += ["false", "N/A", "false", "N/A"]
        return dict(zip(COLUMNS, cells, strict=True))

    # ---- roles --------------------------------------------------------------------------------------
    def gen_roles(self) -> list[Doc]:
        rng = self.rng
        cats: list[str] = []
        specials: list[str] = []
        if self.e.spec.organization and self.acct != self.e.management:
            specials.append("orgaccess")
        if self.acct == self.e.security:
            specials.append("security-audit")
        if self.index in self.e.star_accounts:
            specials.append("star")
        n = max(0, self.n_roles - len(specials))
        for cat, share in ROLE_MIX:
            cats += [cat] * int(n * share)
        order = [c for c, _ in ROLE_MIX]
        while len(cats) < n:
            cats.append(order[len(cats) % len(order)])
        rng.shuffle(cats)
        if n >= 2 and "ec2" not in cats[:n]:
            cats[0] = "ec2"
        if n >= 2 and "lambda" not in cats[:n]:
            cats[1] = "lambda"
        cats = specials + cats[:n]
        out = []
        for r, cat in enumerate(cats):
            out.append(self._role(r, cat))
        return out

    def _role(self, r: int, cat: str) -> Doc:
        rng, a = self.rng, self.acct
        team = self._team()
        path = "/"
        attached: list[dict[str, str]] = []
        cond: Doc | None = None
        action = "sts:AssumeRole"
        if cat in ("ec2", "lambda", "ecs", "codebuild"):
            service = {"ec2": "ec2", "lambda": "lambda", "ecs": "ecs-tasks", "codebuild": "codebuild"}[cat]
            name, path = f"{cat}-{team}-{r}", "/service/"
            principal: Any = {"Service": f"{service}.amazonaws.com"}
            if cat == "ecs":
                cond = {"StringEquals": {"aws:SourceAccount": a}}
            attached = self._some_policies(rng.randint(1, 2))
            if cat == "lambda":
                attached.append(self._aws("AWSLambdaBasicExecutionRole"))
            if cat == "ec2" and rng.random() < 0.5:
                attached.append(self._aws("AmazonSSMManagedInstanceCore"))
            if rng.random() < 0.04:
                attached.append(
                    self._escalate(rng.choice(("lambda-deployer", "trust-editor", "policy-manager", "ec2-launcher")))
                )
            if rng.random() < 0.02:
                attached.append(self._aws("AdministratorAccess"))
        elif cat == "app":
            name = f"app-{team}-{r}"
            pool = self.user_arns + self.role_arns
            principal = (
                {"AWS": sorted(set(rng.sample(pool, min(len(pool), rng.randint(1, 3)))))}
                if pool
                else {"AWS": f"arn:aws:iam::{a}:root"}
            )
            if rng.random() < 0.3:
                cond = MFA
            attached = self._some_policies(rng.randint(1, 2))
            if rng.random() < 0.05:
                attached.append(self._escalate(rng.choice(("policy-manager", "trust-editor"))))
        elif cat == "root":
            name = f"{rng.choice(('break-glass', 'ops', 'support'))}-{r}"
            principal = {"AWS": f"arn:aws:iam::{a}:root"}
            if rng.random() < 0.5:
                cond = MFA
            attached = [
                self._aws(rng.choice(("AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess", "ReadOnlyAccess")))
            ]
        elif cat == "deploy":
            name = f"deploy-{team}-{r}"
            principal = {"AWS": f"arn:aws:iam::{self.e.other_account(rng, a)}:root"}
            if rng.random() < 0.3:
                cond = MFA
            attached = [self._aws("PowerUserAccess"), *self._some_policies(1)]
            if rng.random() < 0.3:
                attached.append(self._escalate("lambda-deployer"))
            if rng.random() < 0.1:
                attached.append(self._aws("AdministratorAccess"))
        elif cat == "audit":
            name = f"audit-{r}"
            sec = self.e.security if self.e.security and self.e.security != a else rng.choice(EXTERNAL_ACCOUNTS)
            principal = {"AWS": f"arn:aws:iam::{sec}:role/security-audit"}
            attached = [self._aws("ReadOnlyAccess")]
        elif cat == "vendor":
            v = rng.randrange(len(VENDORS))
            name = f"vendor-{VENDORS[v]}-{r}"
            principal = {"AWS": f"arn:aws:iam::{VENDOR_ACCOUNTS[v]}:root"}
            cond = {"StringEquals": {"sts:ExternalId": f"ext-{self.acct[-4:]}-{rng.randrange(10**6):06d}"}}
            attached = [self._aws("ReadOnlyAccess")] if rng.random() < 0.6 else self._some_policies(1)
        elif cat == "saml":
            name, path = f"sso-{team}-{r}", "/sso/"
            principal = {"Federated": f"arn:aws:iam::{a}:saml-provider/Okta"}
            action = "sts:AssumeRoleWithSAML"
            cond = {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}
            attached = [
                self._aws(rng.choice(("AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "ReadOnlyAccess")))
            ]
        elif cat == "oidc":
            name, path = f"github-{team}-{r}", "/ci/"
            principal = {"Federated": f"arn:aws:iam::{a}:oidc-provider/token.actions.githubusercontent.com"}
            action = "sts:AssumeRoleWithWebIdentity"
            host = "token.actions.githubusercontent.com"
            cond = {
                "StringEquals": {f"{host}:aud": "sts.amazonaws.com"},
                "StringLike": {f"{host}:sub": f"repo:acme/{team}-*:ref:refs/heads/main"},
            }
            if rng.random() < 0.4:
                attached = [*self._some_policies(1), self._escalate("lambda-deployer")]
            else:
                attached = self._some_policies(2)
        elif cat == "star":
            name = f"shared-{team}-{r}"
            principal = {"AWS": "*"}
            if self.e.spec.organization:
                cond = {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}
            else:
                cond = {"StringEquals": {"aws:PrincipalAccount": a}}
            if rng.random() < 0.5:
                cond = {**cond, "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/deploy-*"}}
            attached = [self._aws("AmazonS3ReadOnlyAccess"), *self._some_policies(1)]
        elif cat == "orgaccess":
            name = "OrganizationAccountAccessRole"
            principal = {"AWS": f"arn:aws:iam::{self.e.management}:root"}
            attached = [self._aws("AdministratorAccess")]
        elif cat == "security-audit":
            name = "security-audit"
            principal = {"AWS": f"arn:aws:iam::{a}:root"}
            cond = MFA
            attached = [self._aws("ReadOnlyAccess"), self._attach(self._policy_of("assume-deploy"))]
        else:
            raise AssertionError(cat)
        arn = f"arn:aws:iam::{a}:role{path}{name}"
        self.role_arns.append(arn)
        self.roles_by_cat.setdefault(cat, []).append(arn)
        st: Doc = {"Effect": "Allow", "Principal": principal, "Action": action}
        if cond:
            st["Condition"] = cond
        trust: Any = {"Version": V, "Statement": [st]}
        if rng.random() < 0.03:  # as the IAM API returns it
            trust = quote(json.dumps(trust, separators=(",", ":")), safe="")
        created = self._date()
        profiles = []
        if cat == "ec2":
            ip_arn = f"arn:aws:iam::{a}:instance-profile/{name}"
            self.instance_profiles[arn] = ip_arn
            profiles.append(
                {
                    "Path": "/",
                    "InstanceProfileName": name,
                    "InstanceProfileId": self._id("AIPA"),
                    "Arn": ip_arn,
                    "CreateDate": created,
                    "Roles": [{"Path": path, "RoleName": name, "RoleId": "", "Arn": arn, "CreateDate": created}],
                }
            )
        role: Doc = {
            "Path": path,
            "RoleName": name,
            "RoleId": self._id("AROA"),
            "Arn": arn,
            "CreateDate": created,
            "AssumeRolePolicyDocument": trust,
            "InstanceProfileList": profiles,
            "RolePolicyList": self._inline("role"),
            "AttachedManagedPolicies": attached,
            "Tags": [{"Key": "team", "Value": team}],
            "RoleLastUsed": {"LastUsedDate": self._date(), "Region": "us-east-1"} if rng.random() < 0.7 else {},
        }
        for profile in profiles:
            profile["Roles"][0]["RoleId"] = role["RoleId"]
        if cat not in ("orgaccess", "saml", "security-audit"):
            boundary = self._boundary(0.10)
            if boundary:
                role["PermissionsBoundary"] = boundary
        return role

    # ---- managed policy entries -----------------------------------------------------------------
    def gen_policy_entries(self) -> list[Doc]:
        out = []
        for name, (arn, pid, doc) in AWS_MANAGED.items():
            used = self.attach_count.get(arn, 0)
            if not used:
                continue  # the unfiltered call lists AWS managed policies that are in use
            out.append(
                {
                    "PolicyName": name,
                    "PolicyId": pid,
                    "Arn": arn,
                    "Path": "/service-role/" if "service-role" in arn else "/",
                    "DefaultVersionId": "v1",
                    "AttachmentCount": used,
                    "PermissionsBoundaryUsageCount": 0,
                    "IsAttachable": True,
                    "CreateDate": "2015-02-06T18:39:46+00:00",
                    "UpdateDate": "2015-02-06T18:39:46+00:00",
                    "PolicyVersionList": [
                        {
                            "Document": doc,
                            "VersionId": "v1",
                            "IsDefaultVersion": True,
                            "CreateDate": "2015-02-06T18:39:46+00:00",
                        }
                    ],
                }
            )
        for arn, info in self.policies.items():
            doc = info["doc"]
            created = self._date()
            versions = [{"Document": doc, "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": created}]
            if self.rng.random() < 0.2:  # an older version, often broader, that SetDefaultPolicyVersion can restore
                old = (
                    _doc(_stmt("Allow", "*", "*"))
                    if self.rng.random() < 0.3
                    else _doc(_stmt("Allow", ["s3:*", "sqs:*", "dynamodb:*"], "*"))
                )
                versions = [
                    {"Document": doc, "VersionId": "v2", "IsDefaultVersion": True, "CreateDate": self._date()},
                    {"Document": old, "VersionId": "v1", "IsDefaultVersion": False, "CreateDate": created},
                ]
            out.append(
                {
                    "PolicyName": arn.rsplit("/", 1)[-1],
                    "PolicyId": self._id("ANPA"),
                    "Arn": arn,
                    "Path": info.get("path", "/"),
                    "DefaultVersionId": versions[0]["VersionId"],
                    "AttachmentCount": self.attach_count.get(arn, 0),
                    "PermissionsBoundaryUsageCount": self.boundary_count.get(arn, 0),
                    "IsAttachable": True,
                    "Description": f"{info['kind']} policy",
                    "CreateDate": created,
                    "UpdateDate": versions[0]["CreateDate"],
                    "PolicyVersionList": versions,
                }
            )
        return out

    # ---- resources --------------------------------------------------------------------------------
    def gen_resources(self) -> list[Doc]:
        rng, a = self.rng, self.acct
        out: list[Doc] = []
        regions = self.res_regions
        lambda_roles = self.roles_by_cat.get("lambda") or self.role_arns[:1]
        ec2_roles = self.roles_by_cat.get("ec2") or []
        any_roles = self.role_arns or []

        def res(
            arn: str,
            rtype: str,
            region: str | None,
            policy: Doc | None = None,
            roles: list[str] | None = None,
            props: Doc | None = None,
        ) -> None:
            item: Doc = {
                "arn": arn,
                "type": rtype,
                "region": region,
                "policy": policy,
                "tags": {"team": self._team(), "env": rng.choice(("prod", "staging", "dev"))},
            }
            if roles:
                item["roles"] = roles
            if props:
                item["properties"] = props
            out.append(item)

        for i, b in enumerate(self.buckets):
            res(
                f"arn:aws:s3:::{b}",
                "AWS::S3::Bucket",
                regions["s3"][i],
                self._bucket_policy(b, any_roles),
                props={"versioning": rng.random() < 0.5},
            )
        for i, q in enumerate(self.queues):
            policy = None
            if rng.random() < 0.5:
                if rng.random() < 0.7 and self.topics:
                    policy = _doc(
                        _stmt(
                            "Allow",
                            "sqs:SendMessage",
                            q,
                            principal={"Service": "sns.amazonaws.com"},
                            condition={"ArnEquals": {"aws:SourceArn": rng.choice(self.topics)}},
                        )
                    )
                else:
                    other = self.e.other_account(rng, a)
                    policy = _doc(
                        _stmt(
                            "Allow",
                            ["sqs:SendMessage", "sqs:GetQueueUrl"],
                            q,
                            principal={"AWS": f"arn:aws:iam::{other}:root"},
                        )
                    )
            res(q, "AWS::SQS::Queue", regions["sqs"][i], policy)
        for i, t in enumerate(self.topics):
            policy = None
            if rng.random() < 0.3:
                policy = _doc(
                    _stmt(
                        "Allow",
                        ["SNS:Publish", "SNS:Subscribe", "SNS:GetTopicAttributes"],
                        t,
                        sid="Owner",
                        principal={"AWS": "*"},
                        condition={"StringEquals": {"AWS:SourceOwner": a}},
                    ),
                    _stmt("Allow", "SNS:Publish", t, principal={"Service": "events.amazonaws.com"}),
                )
            res(t, "AWS::SNS::Topic", regions["sns"][i], policy)
        for i, k in enumerate(self.keys):
            res(
                k,
                "AWS::KMS::Key",
                regions["kms"][i],
                self._key_policy(k, any_roles),
                props={"key_usage": "ENCRYPT_DECRYPT"},
            )
        for i, s in enumerate(self.secrets):
            policy = None
            if rng.random() < 0.2 and any_roles:
                policy = _doc(
                    _stmt("Allow", "secretsmanager:GetSecretValue", "*", principal={"AWS": rng.choice(any_roles)}),
                    _stmt(
                        "Deny",
                        "secretsmanager:GetSecretValue",
                        "*",
                        principal={"AWS": "*"},
                        condition={"StringNotEquals": {"aws:PrincipalTag/team": s.split(":")[6].split("/")[0]}},
                    ),
                )
            res(s, "AWS::SecretsManager::Secret", regions["secret"][i], policy)
        for i, t in enumerate(self.tables):
            res(t, "AWS::DynamoDB::Table", regions["dynamodb"][i], None)
        for i, f in enumerate(self.functions):
            policy = None
            if rng.random() < 0.3:
                if self.buckets and rng.random() < 0.6:
                    source = f"arn:aws:s3:::{rng.choice(self.buckets)}"
                    policy = _doc(
                        _stmt(
                            "Allow",
                            "lambda:InvokeFunction",
                            f,
                            principal={"Service": "s3.amazonaws.com"},
                            condition={"ArnLike": {"AWS:SourceArn": source}, "StringEquals": {"AWS:SourceAccount": a}},
                        )
                    )
                else:
                    other = self.e.other_account(rng, a)
                    policy = _doc(
                        _stmt("Allow", "lambda:InvokeFunction", f, principal={"AWS": f"arn:aws:iam::{other}:root"})
                    )
            roles = [rng.choice(lambda_roles)] if lambda_roles else None
            res(
                f,
                "AWS::Lambda::Function",
                regions["lambda"][i],
                policy,
                roles,
                props={"runtime": rng.choice(("python3.12", "nodejs20.x", "java21")), "handler": "app.handler"},
            )
        for i, inst in enumerate(self.instances):
            roles = None
            props: Doc = {"instance_type": rng.choice(("t3.micro", "m6i.large", "c7g.xlarge"))}
            if ec2_roles and rng.random() < 0.85:
                role = rng.choice(ec2_roles)
                roles = [role]
                props["instance_profile"] = self.instance_profiles[role]
            res(inst, "AWS::EC2::Instance", regions["ec2"][i], None, roles, props)
        return out

    def _bucket_policy(self, bucket: str, roles: list[str]) -> Doc | None:
        rng = self.rng
        r = rng.random()
        if r >= 0.4:
            return None
        b = f"arn:aws:s3:::{bucket}"
        tls = _stmt(
            "Deny",
            "s3:*",
            [b, f"{b}/*"],
            sid="DenyInsecureTransport",
            principal="*",
            condition={"Bool": {"aws:SecureTransport": "false"}},
        )
        r /= 0.4
        if r < 0.35:
            return _doc(tls)
        if r < 0.6:
            other = self.e.other_account(rng, self.acct)
            return _doc(
                tls,
                _stmt(
                    "Allow",
                    ["s3:GetObject", "s3:ListBucket"],
                    [b, f"{b}/*"],
                    sid="CrossAccountRead",
                    principal={"AWS": f"arn:aws:iam::{other}:root"},
                ),
            )
        if r < 0.7:
            return _doc(_stmt("Allow", "s3:GetObject", f"{b}/*", sid="PublicRead", principal="*"))
        if r < 0.8:
            return _doc(
                _stmt(
                    "Allow",
                    "s3:GetObject",
                    f"{b}/*",
                    sid="PublicFromPartners",
                    principal={"AWS": "*"},
                    condition={"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.0/24"]}},
                )
            )
        if not roles:
            return _doc(tls)
        return _doc(
            tls,
            _stmt(
                "Allow", ["s3:GetObject", "s3:PutObject"], f"{b}/*", sid="AppRole", principal={"AWS": rng.choice(roles)}
            ),
        )

    def _key_policy(self, key: str, roles: list[str]) -> Doc:
        rng, a = self.rng, self.acct
        statements = [
            _stmt("Allow", "kms:*", "*", sid="Enable IAM User Permissions", principal={"AWS": f"arn:aws:iam::{a}:root"})
        ]
        if roles:
            statements.append(
                _stmt(
                    "Allow",
                    [
                        "kms:Create*",
                        "kms:Describe*",
                        "kms:Enable*",
                        "kms:List*",
                        "kms:Put*",
                        "kms:Update*",
                        "kms:Revoke*",
                        "kms:Disable*",
                        "kms:Get*",
                        "kms:Delete*",
                        "kms:ScheduleKeyDeletion",
                        "kms:CancelKeyDeletion",
                    ],
                    "*",
                    sid="Allow access for Key Administrators",
                    principal={"AWS": rng.choice(roles)},
                )
            )
            statements.append(
                _stmt(
                    "Allow",
                    ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                    "*",
                    sid="Allow use of the key",
                    principal={"AWS": sorted({rng.choice(roles) for _ in range(2)})},
                )
            )
        if rng.random() < 0.15:
            other = self.e.other_account(rng, a)
            via = f"s3.{key.split(':')[3]}.amazonaws.com"
            statements.append(
                _stmt(
                    "Allow",
                    ["kms:Decrypt", "kms:DescribeKey"],
                    "*",
                    sid="CrossAccountDecrypt",
                    principal={"AWS": f"arn:aws:iam::{other}:root"},
                    condition={"StringEquals": {"kms:ViaService": via}},
                )
            )
        return _doc(*statements)

    # ---- the account's files ------------------------------------------------------------------------
    def build(self) -> tuple[Doc, Doc, str, Doc]:
        self.plan_resources()
        self.plan_policies()
        groups = self.gen_groups()
        users, report = self.gen_users()
        roles = self.gen_roles()
        resources = self.gen_resources()
        policies = self.gen_policy_entries()
        details = {
            "UserDetailList": users,
            "GroupDetailList": groups,
            "RoleDetailList": roles,
            "Policies": policies,
            "IsTruncated": False,
        }
        root = {
            "user": "<root_account>",
            "arn": f"arn:aws:iam::{self.acct}:root",
            "user_creation_time": "2019-01-03T08:21:00+00:00",
            "password_enabled": "not_supported",
            "password_last_used": self._date(),
            "password_last_changed": "not_supported",
            "password_next_rotation": "not_supported",
            "mfa_active": "true",
            **dict.fromkeys(("access_key_1_active", "access_key_2_active", "cert_1_active", "cert_2_active"), "false"),
        }
        csv = format_credential_report([root, *report])
        info = {"alias": f"acme-{self.acct[-4:]}"}
        return details, {"resources": resources}, csv, info


# ---- the estate -------------------------------------------------------------------------------------
def _split(total: int, n: int, rng: random.Random, minimum: int) -> list[int]:
    """``total`` split over ``n`` parts, each at least ``minimum``, sizes varying by about ±50 %."""
    if n == 1:
        return [total]
    weights = [0.5 + rng.random() for _ in range(n)]
    spare = total - minimum * n
    scale = spare / sum(weights)
    parts = [minimum + int(w * scale) for w in weights]
    for k in range(total - sum(parts)):
        parts[k % n] += 1
    return parts


def _account_ids(n: int) -> list[str]:
    return [f"{210000000000 + 1009 * k:012d}" for k in range(n)]


def _organization(estate: _Estate) -> Doc:
    ids = estate.ids
    units = [
        ("ou-bn01-security", "Security", ROOT_ID),
        ("ou-bn01-infra", "Infrastructure", ROOT_ID),
        ("ou-bn01-workload", "Workloads", ROOT_ID),
        ("ou-bn01-prod", "Prod", "ou-bn01-workload"),
        ("ou-bn01-staging", "Staging", "ou-bn01-workload"),
        ("ou-bn01-dev", "Dev", "ou-bn01-workload"),
        ("ou-bn01-sandbox", "Sandbox", ROOT_ID),
    ]
    placement = (
        "ou-bn01-prod",
        "ou-bn01-prod",
        "ou-bn01-staging",
        "ou-bn01-dev",
        "ou-bn01-dev",
        "ou-bn01-sandbox",
        "ou-bn01-infra",
    )
    accounts = []
    for k, acct in enumerate(ids):
        if acct == estate.management:
            parent, name = ROOT_ID, "management"
        elif acct == estate.security:
            parent, name = "ou-bn01-security", "security"
        elif acct in estate.hubs:
            parent, name = "ou-bn01-infra", f"tooling-{k}"
        else:
            parent = placement[k % len(placement)]
            name = f"{parent.rsplit('-', 1)[-1]}-{k}"
        accounts.append({"id": acct, "name": name, "parent": parent})
    every = [ROOT_ID] + [u[0] for u in units] + list(ids)
    guardrails = _doc(
        _stmt(
            "Deny",
            [
                "organizations:LeaveOrganization",
                "cloudtrail:StopLogging",
                "cloudtrail:DeleteTrail",
                "guardduty:DeleteDetector",
            ],
            "*",
            sid="ProtectGuardrails",
        ),
        _stmt(
            "Deny",
            None,
            "*",
            sid="RegionLock",
            not_action=["iam:*", "organizations:*", "sts:*", "support:*", "cloudfront:*", "route53:*", "budgets:*"],
            condition={"StringNotEquals": {"aws:RequestedRegion": ALLOWED_REGIONS}},
        ),
        _stmt(
            "Deny", "*", "*", sid="DenyRootUser", condition={"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}
        ),
    )
    sandbox = _doc(
        _stmt(
            "Deny",
            ["iam:CreateUser", "iam:CreateAccessKey", "ec2:PurchaseReservedInstancesOffering"],
            "*",
            sid="NoLongLivedCredentials",
        ),
    )
    perimeter = _doc(
        _stmt(
            "Deny",
            ["s3:*", "sqs:*", "kms:*", "secretsmanager:*"],
            "*",
            sid="EnforceOrgIdentities",
            principal="*",
            condition={
                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        )
    )
    return {
        "id": ORG_ID,
        "management_account": estate.management,
        "roots": [{"id": ROOT_ID}],
        "organizational_units": [{"id": i, "name": n, "parent": p} for i, n, p in units],
        "accounts": accounts,
        "policies": [
            {
                "id": "p-FullAWSAccess",
                "name": "FullAWSAccess",
                "type": "SERVICE_CONTROL_POLICY",
                "document": _doc(_stmt("Allow", "*", "*")),
                "targets": every,
            },
            {
                "id": "p-bn01guardrail",
                "name": "Guardrails",
                "type": "SERVICE_CONTROL_POLICY",
                "document": guardrails,
                "targets": ["ou-bn01-workload", "ou-bn01-sandbox"],
            },
            {
                "id": "p-bn01sandbox",
                "name": "SandboxLimits",
                "type": "SERVICE_CONTROL_POLICY",
                "document": sandbox,
                "targets": ["ou-bn01-sandbox"],
            },
            {
                "id": "p-bn01perimetr",
                "name": "DataPerimeter",
                "type": "RESOURCE_CONTROL_POLICY",
                "document": perimeter,
                "targets": ["ou-bn01-prod"],
            },
        ],
    }


def _dump(obj: Any, path: Path) -> int:
    data = json.dumps(obj, separators=(",", ":")).encode()
    path.write_bytes(data)
    return len(data)


def generate(spec: EstateSpec, out: str | os.PathLike[str], *, force: bool = False) -> dict[str, Any]:
    """Write the estate under ``out`` (which must be absent or empty unless ``force``); return its counts."""
    root = Path(out)
    if root.exists() and any(root.iterdir()):
        if not force:
            raise FileExistsError(f"{root} is not empty")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"iamgraph-bench:{spec.seed}:estate")
    n = spec.accounts
    ids = _account_ids(n)
    organization = spec.organization
    hubs = ids[2 : 2 + max(1, n // 50)] if organization and n > 2 else ids[:1]
    star_count = max(1, n // 20)
    star_accounts = set(rng.sample(range(n), min(n, star_count)))
    estate = _Estate(
        spec=spec,
        ids=ids,
        hubs=hubs,
        star_accounts=star_accounts,
        management=ids[0] if organization else None,
        security=ids[1] if organization else None,
    )
    principals = _split(spec.principals, n, rng, 4)
    resources = _split(spec.resources, n, rng, 0)
    counts = _Counters()
    if organization:
        counts.bytes += _dump(_organization(estate), root / "organization.json")
        counts.files += 1
    accounts_dir = root / "accounts"
    accounts_dir.mkdir()
    for index in range(n):
        gen = _Account(estate, index, principals[index], resources[index])
        details, res, csv, info = gen.build()
        folder = accounts_dir / gen.acct
        folder.mkdir()
        counts.bytes += _dump(details, folder / "authorization-details.json")
        counts.bytes += _dump(res, folder / "resources.json")
        counts.bytes += _dump(info, folder / "account.json")
        (folder / "credential-report.csv").write_text(csv)
        counts.bytes += len(csv)
        counts.files += 4
        n_custom = sum(1 for p in details["Policies"] if ":aws:policy/" not in p["Arn"])
        per = {
            "users": len(details["UserDetailList"]),
            "groups": len(details["GroupDetailList"]),
            "roles": len(details["RoleDetailList"]),
            "customer_policies": n_custom,
            "aws_policies": len(details["Policies"]) - n_custom,
            "resources": len(res["resources"]),
        }
        counts.by_account[gen.acct] = per
        counts.users += per["users"]
        counts.groups += per["groups"]
        counts.roles += per["roles"]
        counts.customer_policies += per["customer_policies"]
        counts.aws_policies += per["aws_policies"]
        counts.resources += per["resources"]
        counts.resource_policies += sum(1 for r in res["resources"] if r["policy"] is not None)
        counts.boundaries += sum(gen.boundary_count.values())
        counts.escalation_grants += sum(gen.attach_count.get(a, 0) for arns in gen.escalation.values() for a in arns)
    return {
        "spec": {
            "principals": spec.principals,
            "accounts": n,
            "resources": spec.resources,
            "seed": spec.seed,
            "single_account": spec.single_account,
            "generator_version": GENERATOR_VERSION,
        },
        "accounts": n,
        "organization": organization,
        "users": counts.users,
        "groups": counts.groups,
        "roles": counts.roles,
        "principals": counts.users + counts.roles,
        "customer_policies": counts.customer_policies,
        "aws_policies": counts.aws_policies,
        "resources": counts.resources,
        "resource_policies": counts.resource_policies,
        "boundaries": counts.boundaries,
        "escalation_grants": counts.escalation_grants,
        "files": counts.files,
        "bytes": counts.bytes,
        "by_account": counts.by_account,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--principals", type=int, required=True, help="users + roles in the whole estate")
    ap.add_argument("--accounts", type=int, default=1, help="number of accounts (default 1)")
    ap.add_argument("--resources", type=int, default=None, help="resources in the estate (default 4 per principal)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True, help="output directory (absent or empty)")
    ap.add_argument("--single-account", action="store_true", help="one account, no organization.json")
    ap.add_argument("--force", action="store_true", help="replace a non-empty output directory")
    args = ap.parse_args(argv)
    resources = args.resources if args.resources is not None else 4 * args.principals
    try:
        spec = EstateSpec(args.principals, args.accounts, resources, args.seed, args.single_account)
    except ValueError as exc:
        ap.error(str(exc))
    t0 = time.perf_counter()
    try:
        stats = generate(spec, args.out, force=args.force)
    except FileExistsError as exc:
        print(f"generate: {exc} (use --force to replace it)", file=sys.stderr)
        return 2
    stats.pop("by_account")
    stats["seconds"] = round(time.perf_counter() - t0, 3)
    print(json.dumps(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
