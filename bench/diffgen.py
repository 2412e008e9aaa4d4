"""Seeded generator of random-but-meaningful decision documents for differential testing.

Every document is in the neutral "decision" schema (docs/simulate-format.md): one request with an
explicit, self-consistent context (the principal-derived keys are written out, because both engines
are run with the context verbatim) and the policies of every layer. The generator draws from small
pools (two accounts, a few users/roles, real actions and resource ARNs) so that policies name the
requester, its account or its resource often enough for every branch of the decision procedure to be
exercised; condition values are drawn so that they sometimes match the context and sometimes not.

Areas where the oracle is known to be wrong (spec "Errata and verification") are generated only where
they cannot be avoided cheaply; the classifier in ``diffclass`` labels them as known deviations.
Not generated at all: root users, GetFederationToken sessions, ``Version`` 2008-10-17.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from diffpolicy import PolicyMaker
from diffworld import (
    ACCOUNT_A,
    ACCOUNT_B,
    ACTIONS,
    BASE_TIME,
    BLOBS,
    IPS,
    ORG_A,
    ORG_OTHER,
    RCP_LIKELY,
    REGIONS,
    ROLES,
    SERVICES,
    SESSIONS,
    TAG_KEYS,
    TEAMS,
    USERS,
    ActionSpec,
    Who,
    iso,
    resource_for,
)

__all__ = ["Generator"]


class Generator(PolicyMaker):
    """``Generator(seed).document(i)`` -> one decision document (deterministic per seed and index)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    # ---- top level ---------------------------------------------------------------------------
    def document(self, index: int) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:{index}")
        self.rng = rng
        spec = rng.choice(ACTIONS)
        who = self.principal(spec)
        owner = ACCOUNT_A if rng.random() < 0.7 else ACCOUNT_B
        resource = "*" if spec.wildcard_only else resource_for(spec.action, owner, rng)
        if spec.wildcard_only and who.account:
            owner = who.account
        self.who, self.action, self.resource, self.owner = who, spec.action, resource, owner
        self.context = self.make_context(spec)
        doc: dict[str, Any] = {
            "id": f"s{self.seed}-{index}",
            "kind": "decision",
            "request": {
                "principal": who.value,
                "action": spec.action,
                "resource": resource,
                "resourceAccount": owner,
                "context": self.context,
            },
            "identityPolicies": [],
            "scps": [],
            "rcps": [],
            "resourcePolicy": None,
            "sessionPolicy": None,
        }
        if spec.wildcard_only:
            doc["request"]["wildcardOnlyAction"] = True
        if who.iam:
            n = rng.choices((0, 1, 2, 3), (1, 5, 3, 1))[0]
            doc["identityPolicies"] = [self.policy("identity") for _ in range(n)]
            if rng.random() < 0.25:
                doc["permissionBoundaries"] = [self.policy("boundary")]
            if who.kind in ("session", "rolearn") and rng.random() < 0.25:
                doc["sessionPolicy"] = self.policy("session")
            if rng.random() < 0.25:
                doc["scps"] = self.org_levels("scp")
        if spec.rbp and (spec.rbp_required or rng.random() < 0.55 or not who.iam):
            doc["resourcePolicy"] = self.resource_policy(spec)
        if rng.random() < (0.2 if spec.action.split(":")[0] in RCP_LIKELY else 0.04):
            doc["rcps"] = self.org_levels("rcp")
        return doc

    # ---- principals --------------------------------------------------------------------------
    def principal(self, spec: ActionSpec) -> Who:
        rng = self.rng
        acct = ACCOUNT_A if rng.random() < 0.65 else ACCOUNT_B
        org = ORG_A if acct == ACCOUNT_A else rng.choice((ORG_A, ORG_OTHER, None))
        tags = {}
        if rng.random() < 0.7:
            tags["team"] = rng.choice(TEAMS)
        if rng.random() < 0.4:
            tags["env"] = rng.choice(("prod", "dev"))
        r = rng.random()
        anonymous_ok = spec.action.split(":")[0] in ("s3", "sqs", "sns") and not spec.wildcard_only
        if r < 0.45:
            name, path = rng.choice(USERS)
            arn = f"arn:aws:iam::{acct}:user{path}{name}"
            return Who("user", acct, arn, entity=arn, name=name, tags=tags, org=org)
        if r < 0.87:
            role, sess = rng.choice(ROLES), rng.choice(SESSIONS)
            return Who(
                "session",
                acct,
                f"arn:aws:sts::{acct}:assumed-role/{role}/{sess}",
                entity=f"arn:aws:iam::{acct}:role/{role}",
                name=role,
                session=sess,
                tags=tags,
                org=org,
            )
        if r < 0.92:
            role = rng.choice(ROLES)
            arn = f"arn:aws:iam::{acct}:role/{role}"
            return Who("rolearn", acct, arn, entity=arn, name=role, session="session", tags=tags, org=org)
        if r < 0.96 or not anonymous_ok:
            return Who("service", None, rng.choice(SERVICES))
        return Who("anonymous", None, {"type": "Anonymous"})

    # ---- context -----------------------------------------------------------------------------
    def make_context(self, spec: ActionSpec) -> dict[str, Any]:
        rng, who = self.rng, self.who
        ctx: dict[str, Any] = {}
        if who.iam:
            ctx["aws:PrincipalArn"] = who.entity
            ctx["aws:PrincipalAccount"] = who.account
            ctx["aws:PrincipalType"] = "User" if who.kind == "user" else "AssumedRole"
            ctx["aws:PrincipalIsAWSService"] = "false"
            if who.kind == "user":
                ctx["aws:username"] = who.name
                ctx["aws:userid"] = "AIDAEXAMPLEUSERID0001"
            else:
                ctx["aws:userid"] = f"AROAEXAMPLEROLEID0001:{who.session}"
                ctx["aws:TokenIssueTime"] = iso(BASE_TIME - timedelta(minutes=rng.randint(1, 600)))
            for k, v in who.tags.items():
                ctx[f"aws:PrincipalTag/{k}"] = v
            if who.org:
                ctx["aws:PrincipalOrgID"] = who.org
                ctx["aws:PrincipalOrgPaths"] = [f"{who.org}/r-ab12/ou-ab12-11111111/"]
        elif who.kind == "service":
            ctx["aws:PrincipalIsAWSService"] = "true"
            ctx["aws:PrincipalServiceName"] = who.value
            if rng.random() < 0.7:
                ctx["aws:SourceAccount"] = rng.choice((ACCOUNT_A, ACCOUNT_B))
                ctx["aws:SourceArn"] = f"arn:aws:cloudtrail:us-east-1:{ctx['aws:SourceAccount']}:trail/main"
        else:
            ctx["aws:PrincipalAccount"] = "anonymous"
            ctx["aws:PrincipalType"] = "Anonymous"
            ctx["aws:userid"] = "anonymous"
        ctx["aws:ResourceAccount"] = self.owner
        if rng.random() < 0.8:
            ctx["aws:SourceIp"] = rng.choice(IPS)
        elif rng.random() < 0.5:
            ctx["aws:SourceVpc"] = rng.choice(("vpc-111bbb22", "vpc-999zzz00"))
        if rng.random() < 0.8:
            ctx["aws:SecureTransport"] = rng.choice(("true", "false"))
        if who.iam and rng.random() < (0.6 if who.kind != "user" else 0.3):
            mfa = rng.choice(("true", "false"))
            ctx["aws:MultiFactorAuthPresent"] = mfa
            if mfa == "true":
                ctx["aws:MultiFactorAuthAge"] = str(rng.choice((30, 300, 3600, 86400)))
        now = BASE_TIME + timedelta(days=rng.randint(-400, 400), seconds=rng.randint(0, 86399))
        if rng.random() < 0.9:
            ctx["aws:CurrentTime"] = iso(now)
        if rng.random() < 0.6:
            ctx["aws:EpochTime"] = str(int(now.timestamp()))
        if rng.random() < 0.8:
            ctx["aws:RequestedRegion"] = rng.choice(REGIONS)
        if rng.random() < 0.4:
            keys = rng.sample(TAG_KEYS, rng.randint(1, 3))
            ctx["aws:TagKeys"] = keys
            if "project" in keys:
                ctx["aws:RequestTag/project"] = rng.choice(("apollo", "gemini", "alice"))
        if rng.random() < 0.5:
            ctx["aws:ResourceTag/owner"] = rng.choice(("alice", "team-a", "red", "AppRole"))
        if spec.action == "s3:ListBucket" and rng.random() < 0.6:
            ctx["s3:max-keys"] = rng.choice(("10", "1000", "50"))
            ctx["s3:prefix"] = rng.choice(("alice/", "shared/", "red/x", ""))
        if spec.action == "sts:AssumeRole" and rng.random() < 0.5:
            ctx["sts:ExternalId"] = rng.choice(("Unique-ID-123", "other"))
        if spec.action.startswith("kms:") and rng.random() < 0.4:
            ctx["kms:EncryptionContextKeys"] = rng.sample(("dept", "app", "Dept"), rng.randint(1, 2))
        if rng.random() < 0.1:
            ctx["test:BinaryBlob"] = rng.choice(BLOBS)
        if who.iam and rng.random() < 0.15:
            ctx["aws:CalledVia"] = ["cloudformation.amazonaws.com"]
            ctx["aws:ViaAWSService"] = "true"
        return ctx
