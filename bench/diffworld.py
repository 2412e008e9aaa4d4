"""The small world the differential generator draws from: accounts, principals, actions, resources,
condition keys and value pools (see diffgen.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["ACTIONS", "KEYS", "OPERATORS", "ActionSpec", "Who", "iso", "resource_for"]

ACCOUNT_A, ACCOUNT_B = "111122223333", "444455556666"
ORG_A, ORG_OTHER = "o-a1b2c3d4e5", "o-zz99yy88xx"
V2012 = "2012-10-17"
USERS = (("alice", "/"), ("bob", "/"), ("carol", "/eng/"))
ROLES = ("AppRole", "DevRole", "Admin")
SESSIONS = ("s1", "alice", "ci-run")
TEAMS = ("red", "blue", "alice", "Red")
IPS = ("203.0.113.7", "203.0.113.200", "198.51.100.23", "10.1.2.3", "2001:db8::17")
CIDRS = ("203.0.113.0/24", "198.51.100.0/24", "10.0.0.0/8", "203.0.113.7", "2001:db8::/32", "192.0.2.0/24")
BLOBS = ("QmluYXJ5VmFsdWVJbkJhc2U2NA==", "aGVsbG8=", "AAEC")
TAG_KEYS = ("project", "owner", "env", "cost-center", "Project")
REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")
RCP_LIKELY = ("s3", "sts", "kms", "sqs", "secretsmanager", "dynamodb")  # only a weight: RCPs matter most here
SERVICES = ("cloudtrail.amazonaws.com", "events.amazonaws.com", "sns.amazonaws.com")


@dataclass(slots=True)
class Who:
    """The requester, and the context keys AWS would derive from it."""

    kind: str  # user | session | rolearn | service | anonymous
    account: str | None
    value: Any  # request.principal
    entity: str | None = None  # user ARN or role ARN
    name: str | None = None
    session: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    org: str | None = None

    @property
    def iam(self) -> bool:
        return self.kind in ("user", "session", "rolearn")


@dataclass(frozen=True, slots=True)
class ActionSpec:
    action: str
    rbp: str | None  # kind of resource policy: bucket, queue, topic, trust, key, secret, function
    rbp_required: bool = False  # the resource always carries one (trust policy, key policy)
    wildcard_only: bool = False


ACTIONS = (
    ActionSpec("s3:GetObject", "bucket"),
    ActionSpec("s3:PutObject", "bucket"),
    ActionSpec("s3:ListBucket", "bucket"),
    ActionSpec("s3:ListAllMyBuckets", None, wildcard_only=True),
    ActionSpec("iam:PassRole", None),
    ActionSpec("iam:GetUser", None),
    ActionSpec("sts:AssumeRole", "trust", rbp_required=True),
    ActionSpec("kms:Decrypt", "key", rbp_required=True),
    ActionSpec("ec2:RunInstances", None),
    ActionSpec("ec2:DescribeInstances", None, wildcard_only=True),
    ActionSpec("sqs:SendMessage", "queue"),
    ActionSpec("sns:Publish", "topic"),
    ActionSpec("secretsmanager:GetSecretValue", "secret"),
    ActionSpec("lambda:InvokeFunction", "function"),
    ActionSpec("dynamodb:GetItem", None),
)
OTHER_ACTIONS = (
    "s3:DeleteObject",
    "s3:GetObjectAcl",
    "iam:CreateUser",
    "sqs:ReceiveMessage",
    "kms:Encrypt",
    "ec2:TerminateInstances",
    "sts:TagSession",
    "dynamodb:PutItem",
)


def bucket(owner: str) -> str:
    return "team-data" if owner == ACCOUNT_A else "partner-drop"


def resource_for(action: str, owner: str, rng: random.Random) -> str:
    svc = action.split(":")[0]
    if action in ("s3:GetObject", "s3:PutObject"):
        return f"arn:aws:s3:::{bucket(owner)}/{rng.choice(('alice/notes.txt', 'bob/x.csv', 'shared/r.txt', 'red/a'))}"
    if action == "s3:ListBucket":
        return f"arn:aws:s3:::{bucket(owner)}"
    if action in ("iam:PassRole", "sts:AssumeRole"):
        return f"arn:aws:iam::{owner}:role/{rng.choice(ROLES)}"
    if action == "iam:GetUser":
        name, path = rng.choice(USERS)
        return f"arn:aws:iam::{owner}:user{path}{name}"
    if svc == "kms":
        return f"arn:aws:kms:us-east-1:{owner}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    if svc == "ec2":
        return f"arn:aws:ec2:us-east-1:{owner}:instance/i-0abc1234def567890"
    if svc == "sqs":
        return f"arn:aws:sqs:us-east-1:{owner}:orders"
    if svc == "sns":
        return f"arn:aws:sns:us-east-1:{owner}:alerts"
    if svc == "secretsmanager":
        return f"arn:aws:secretsmanager:us-east-1:{owner}:secret:db-pass-AbCdEf"
    if svc == "lambda":
        return f"arn:aws:lambda:us-east-1:{owner}:function:worker"
    return f"arn:aws:dynamodb:us-east-1:{owner}:table/orders"


# ---- condition keys: name -> (type, multivalued) ------------------------------------------------
KEYS: dict[str, tuple[str, bool]] = {
    "aws:SourceIp": ("ip", False),
    "aws:SecureTransport": ("bool", False),
    "aws:MultiFactorAuthPresent": ("bool", False),
    "aws:MultiFactorAuthAge": ("num", False),
    "s3:max-keys": ("num", False),
    "aws:CurrentTime": ("date", False),
    "aws:EpochTime": ("date", False),
    "aws:TokenIssueTime": ("date", False),
    "aws:RequestedRegion": ("str", False),
    "aws:PrincipalTag/team": ("str", False),
    "aws:PrincipalTag/env": ("str", False),
    "aws:RequestTag/project": ("str", False),
    "aws:ResourceTag/owner": ("str", False),
    "aws:username": ("str", False),
    "aws:userid": ("str", False),
    "aws:PrincipalAccount": ("str", False),
    "aws:PrincipalOrgID": ("str", False),
    "aws:PrincipalType": ("str", False),
    "aws:SourceVpc": ("str", False),
    "aws:ResourceAccount": ("str", False),
    "s3:prefix": ("str", False),
    "sts:ExternalId": ("str", False),
    "aws:PrincipalArn": ("arn", False),
    "aws:SourceArn": ("arn", False),
    "aws:TagKeys": ("str", True),
    "aws:PrincipalOrgPaths": ("str", True),
    "aws:CalledVia": ("str", True),
    "kms:EncryptionContextKeys": ("str", True),
    "test:BinaryBlob": ("bin", False),  # no global key is binary-typed; a made-up key exercises BinaryEquals
}
OPERATORS = {
    "str": (
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
    ),
    "num": (
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
    ),
    "date": (
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
    ),
    "bool": ("Bool",),
    "ip": ("IpAddress", "NotIpAddress"),
    "bin": ("BinaryEquals",),
    "arn": ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "StringLike", "StringEquals"),
}
BASE_TIME = datetime(2025, 6, 15, 12, 0, 0, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
