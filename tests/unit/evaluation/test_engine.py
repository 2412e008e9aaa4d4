"""Direct evaluate() calls, one group per branch of the decision procedure (spec §5, Appendix A)."""

from __future__ import annotations

from typing import ClassVar

import pytest

from iamgraph.evaluation import EngineOptions, Result
from iamgraph.evaluation.request import Principal, PrincipalKind
from iamgraph.model.policy import PolicyKind
from iamgraph.policy.logic import Atom, Not, atoms

from .helpers import (
    ANONYMOUS,
    BUCKET,
    FULL_ACCESS,
    ORG,
    A,
    B,
    allow,
    decide,
    deny,
    federated,
    levels,
    matched_labels,
    pol,
    rbp,
    rcp,
    root,
    scp,
    service,
    session,
    trust,
    user,
    web_identity,
)

ALICE = f"arn:aws:iam::{A}:user/alice"
ROLE_R = f"arn:aws:iam::{A}:role/R"
ROLE_ARN = f"arn:aws:iam::{A}:role/Target"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
S3_ALL = pol(allow("s3:*"), name="S3All")
EC2_ONLY = pol(allow("ec2:*"), kind=PolicyKind.BOUNDARY, name="Ec2Boundary")


def principal_rbp(principal: object, action: str = "s3:GetObject", **extra: object) -> object:
    return rbp(allow(action, [BUCKET, f"{BUCKET}/*"], Principal=principal, **extra))


class TestNoPermissionNeeded:
    def test_get_caller_identity_ignores_explicit_deny(self) -> None:
        # T80
        d = decide(user(), "sts:GetCallerIdentity", "*", identity=[pol(deny("sts:GetCallerIdentity"))])
        assert d.result is Result.ALLOWED and d.notes

    def test_get_caller_identity_for_federated_user(self) -> None:
        assert decide(federated(), "sts:GetCallerIdentity", "*").result is Result.ALLOWED

    def test_get_session_token_needs_no_permission(self) -> None:
        # §5.9: GetSessionToken requires no permission (callers entitled to it: IAM users)
        assert decide(user(), "sts:GetSessionToken", "*").result is Result.ALLOWED


class TestCredentialRestrictions:
    @pytest.mark.parametrize("action", ["iam:ListUsers", "sts:AssumeRole", "sts:GetSessionToken"])
    def test_federated_user_cannot_call_iam_or_sts(self, action: str) -> None:
        # T79a (errata): independent of policies
        d = decide(
            federated(by=ALICE),
            action,
            ROLE_ARN if action == "sts:AssumeRole" else "*",
            identity=[pol(allow())],
            session_policies=[pol(allow(), kind=PolicyKind.SESSION)],
            resource_policy=trust(allow("sts:AssumeRole", None, Principal="*")) if action == "sts:AssumeRole" else None,
        )
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("credential",) and d.notes

    @pytest.mark.parametrize("action", ["sts:GetFederationToken", "sts:GetSessionToken"])
    def test_role_session_cannot_get_federation_or_session_tokens(self, action: str) -> None:
        d = decide(session(), action, "*", identity=[pol(allow())])
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("credential",)


class TestExplicitDeny:
    def test_identity_deny_wins(self) -> None:
        # T09
        ident = pol(allow(["iam:Get*", "iam:List*"]), deny("iam:*Report", Sid="DenyReports"), name="ID1")
        extra = pol(allow("iam:GenerateCredentialReport"), name="ID2")
        d = decide(user(), "iam:GenerateCredentialReport", "*", identity=[ident, extra])
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("identity",)
        assert matched_labels(d) == {("identity", "ID1", "DenyReports"), ("identity", "ID2", "Statement[0]")}
        assert {m.ref.label for m in d.deciding()} == {"DenyReports"}
        assert decide(user(), "iam:CreatePolicy", "*", identity=[ident, extra]).result is Result.IMPLICITLY_DENIED
        assert decide(user(), "iam:GetUser", "*", identity=[ident, extra]).result is Result.ALLOWED

    def test_resource_policy_deny_beats_identity_and_user_grant(self) -> None:
        policy = rbp(allow("s3:*", f"{BUCKET}/*", Principal={"AWS": ALICE}), deny("s3:*", f"{BUCKET}/*", Principal="*"))
        d = decide(user(), "s3:GetObject", identity=[S3_ALL], resource_policy=policy)
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("resource",)

    def test_boundary_deny(self) -> None:
        b = pol(allow(), deny("s3:GetObject"), kind=PolicyKind.BOUNDARY, name="PB")
        d = decide(user(), "s3:GetObject", identity=[S3_ALL], boundaries=[b])
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("boundary",)

    def test_session_policy_deny(self) -> None:
        sp = pol(allow(), deny("s3:*"), kind=PolicyKind.SESSION)
        d = decide(session(), "s3:GetObject", identity=[S3_ALL], session_policies=[sp])
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("session",)

    def test_scp_deny_even_with_user_grant(self) -> None:
        d = decide(
            user(org_id=ORG),
            "s3:GetObject",
            resource_policy=principal_rbp({"AWS": ALICE}),
            scps=levels(FULL_ACCESS, [FULL_ACCESS, scp(deny("s3:*"), name="NoS3")]),
        )
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("scp",)
        assert ("scp", "NoS3", "Statement[0]") in matched_labels(d, conditional=False)

    def test_rcp_deny_applies_to_external_principals(self) -> None:
        d = decide(
            user("bob", B),
            "s3:GetObject",
            identity=[S3_ALL],
            resource_policy=principal_rbp({"AWS": B}),
            rcps=levels(
                rcp(deny("s3:*", "*", Principal="*", Condition={"StringNotEquals": {"aws:PrincipalOrgID": ORG}})),
                kind="rcp",
            ),
            account=A,
        )
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("rcp",)

    def test_resource_star_deny_matches_root(self) -> None:
        d = decide(root(), "s3:GetObject", resource_policy=rbp(deny("s3:*", "*", Principal="*")))
        assert d.result is Result.EXPLICITLY_DENIED

    def test_maybe_deny_turns_allow_into_conditional(self) -> None:
        ident = pol(allow("s3:*"), deny("s3:*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
        d = decide(user(), "s3:GetObject", identity=[ident], unknown=["aws:SourceIp"])
        assert d.result is Result.CONDITIONAL
        assert isinstance(d.residual, Not) and isinstance(d.residual.item, Atom)
        assert d.residual.item.clause is not None and d.residual.item.clause.key == "aws:SourceIp"


class TestOrganizations:
    def test_scp_level_without_allow_blocks(self) -> None:
        d = decide(
            user(org_id=ORG),
            "s3:GetObject",
            identity=[S3_ALL],
            scps=levels(FULL_ACCESS, scp(allow("ec2:*"), name="Ec2Only")),
        )
        assert d.result is Result.IMPLICITLY_DENIED and "scp" in d.blocked_by

    def test_every_level_must_allow(self) -> None:
        ok = levels(FULL_ACCESS, scp(allow("s3:*")), FULL_ACCESS)
        assert decide(user(), "s3:GetObject", identity=[S3_ALL], scps=ok).result is Result.ALLOWED

    def test_scps_do_not_grant(self) -> None:
        d = decide(user(), "s3:GetObject", scps=levels(FULL_ACCESS))
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("identity",)

    def test_deny_in_a_later_scp_level_is_explicit(self) -> None:
        d = decide(
            user(),
            "s3:GetObject",
            identity=[pol(allow())],
            scps=levels(scp(allow("ec2:*"), name="Ec2Only"), scp(allow(), deny("s3:*"), name="DenyS3")),
        )
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("scp",)
        assert ("scp", "DenyS3", "Statement[1]") in matched_labels(d)

    def test_deny_in_a_later_scp_level_when_earlier_levels_allow(self) -> None:
        d = decide(
            user(), "s3:GetObject", identity=[pol(allow())], scps=levels(FULL_ACCESS, scp(allow(), deny("s3:*")))
        )
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("scp",)

    def test_scp_limits_member_root(self) -> None:
        d = decide(root(), "s3:GetObject", scps=levels(scp(allow("ec2:*"))))
        assert d.result is Result.IMPLICITLY_DENIED and "scp" in d.blocked_by

    def test_service_linked_role_not_limited_by_scps(self) -> None:
        slr = session("AWSServiceRoleForX", "s", service_linked=True)
        d = decide(slr, "s3:GetObject", identity=[S3_ALL], scps=levels(scp(deny("*"))))
        assert d.result is Result.ALLOWED

    def test_scps_ignore_service_principals(self) -> None:
        d = decide(
            service("cloudtrail.amazonaws.com"),
            "s3:PutObject",
            resource_policy=principal_rbp({"Service": "cloudtrail.amazonaws.com"}, "s3:PutObject"),
            scps=levels(scp(deny("*"))),
        )
        assert d.result is Result.ALLOWED

    def test_t63_member_root_explicitly_denied(self) -> None:
        d = decide(root(), "s3:GetObject", scps=levels([FULL_ACCESS, scp(deny("s3:*"), name="NoS3")]))
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("scp",)

    def test_t65_scp_gate_precedes_user_grant(self) -> None:
        d = decide(
            user(), "s3:GetObject", resource_policy=principal_rbp({"AWS": ALICE}), scps=levels(scp(allow("ec2:*")))
        )
        assert d.result is Result.IMPLICITLY_DENIED and "scp" in d.blocked_by

    def test_t66_rcp_with_org_condition(self) -> None:
        guard = rcp(
            deny(
                "s3:*",
                "*",
                Principal="*",
                Condition={
                    "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                },
            )
        )
        kw = dict(
            identity=[S3_ALL], resource_policy=principal_rbp({"AWS": B}), rcps=levels(guard, kind="rcp"), account=A
        )
        assert decide(user("carlos", B), "s3:GetObject", **kw).result is Result.EXPLICITLY_DENIED  # type: ignore[arg-type]
        d = decide(user("carlos", B, org_id=ORG), "s3:GetObject", **kw)  # type: ignore[arg-type]
        assert d.result is Result.ALLOWED

    def test_rcp_only_for_listed_services(self) -> None:
        blocking = levels(rcp(deny("*", "*", Principal="*")), kind="rcp")
        d = decide(
            user(),
            "ec2:StartInstances",
            f"arn:aws:ec2:us-east-1:{A}:instance/i-1",
            identity=[pol(allow())],
            rcps=blocking,
        )
        assert d.result is Result.ALLOWED
        d = decide(user(), "s3:GetObject", identity=[pol(allow())], rcps=blocking)
        assert d.result is Result.EXPLICITLY_DENIED

    def test_rcp_ignores_service_linked_roles(self) -> None:
        slr = session("AWSServiceRoleForX", "s", service_linked=True)
        d = decide(slr, "s3:GetObject", identity=[S3_ALL], rcps=levels(rcp(deny("*", "*", Principal="*")), kind="rcp"))
        assert d.result is Result.ALLOWED


class TestSameAccountIdentity:
    def test_identity_allow(self) -> None:
        d = decide(user(), "s3:GetObject", identity=[S3_ALL])
        assert d.result is Result.ALLOWED and d.blocked_by == ()
        assert matched_labels(d) == {("identity", "S3All", "Statement[0]")}

    def test_no_allow_is_implicit_deny(self) -> None:
        d = decide(user(), "s3:GetObject", identity=[pol(allow("ec2:*"))])
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("identity",) and d.matched == ()

    def test_boundary_limits(self) -> None:
        d = decide(user(), "s3:GetObject", identity=[S3_ALL], boundaries=[EC2_ONLY])
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("boundary",)
        d = decide(
            user(), "s3:GetObject", identity=[S3_ALL], boundaries=[pol(allow("s3:Get*"), kind=PolicyKind.BOUNDARY)]
        )
        assert d.result is Result.ALLOWED

    def test_boundary_does_not_grant(self) -> None:
        d = decide(user(), "s3:GetObject", boundaries=[pol(allow(), kind=PolicyKind.BOUNDARY)])
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("identity",)

    def test_role_session_without_session_policy(self) -> None:
        assert decide(session(), "s3:GetObject", identity=[S3_ALL]).result is Result.ALLOWED

    def test_session_policy_limits(self) -> None:
        sp = pol(allow("ec2:*"), kind=PolicyKind.SESSION)
        d = decide(session(), "s3:GetObject", identity=[S3_ALL], session_policies=[sp])
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("session",)

    def test_session_policy_does_not_grant(self) -> None:
        sp = pol(allow(), kind=PolicyKind.SESSION)
        d = decide(session(), "s3:GetObject", session_policies=[sp])
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("identity",)

    def test_federated_user_without_session_policy_has_nothing(self) -> None:
        # T52a (errata)
        d = decide(federated(by=ALICE), "s3:GetObject", identity=[S3_ALL])
        assert d.result is Result.IMPLICITLY_DENIED and "session" in d.blocked_by

    def test_federated_user_with_session_policy(self) -> None:
        sp = pol(allow("s3:Get*"), kind=PolicyKind.SESSION)
        d = decide(federated(by=ALICE), "s3:GetObject", identity=[S3_ALL], session_policies=[sp])
        assert d.result is Result.ALLOWED

    def test_root_needs_no_policy(self) -> None:
        assert decide(root(), "s3:GetObject").result is Result.ALLOWED

    def test_root_ignores_identity_policies_passed_in(self) -> None:
        assert decide(root(), "s3:GetObject", identity=[pol(deny())]).result is Result.ALLOWED

    def test_vpc_endpoint_policy_gate(self) -> None:
        vpce = pol(allow("s3:GetObject", "arn:aws:s3:::other/*", Principal="*"), kind=PolicyKind.VPCE, name="vpce")
        d = decide(user(), "s3:GetObject", identity=[S3_ALL], vpce=[vpce])
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("vpce",)

    def test_deny_in_a_later_vpc_endpoint_policy_is_explicit(self) -> None:
        v0 = pol(allow("ec2:*", Principal="*"), kind=PolicyKind.VPCE, name="v0")
        v1 = pol(allow(Principal="*"), deny("s3:*", Principal="*"), kind=PolicyKind.VPCE, name="v1")
        d = decide(user(), "s3:GetObject", identity=[pol(allow())], vpce=[v0, v1])
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("vpce",)

    def test_not_action_allow_scoped_by_resource(self) -> None:
        # T06
        ident = [pol({"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"})]
        assert decide(user(), "s3:GetObject", "arn:aws:s3:::b/k", identity=ident).result is Result.ALLOWED
        assert decide(user(), "s3:DeleteBucket", "arn:aws:s3:::b", identity=ident).result is Result.IMPLICITLY_DENIED
        assert decide(user(), "s3:ListAllMyBuckets", "*", identity=ident).result is Result.IMPLICITLY_DENIED
        inst = f"arn:aws:ec2:us-east-1:{A}:instance/i-1"
        assert decide(user(), "ec2:StartInstances", inst, identity=ident).result is Result.IMPLICITLY_DENIED

    def test_not_action_deny_with_mfa_if_exists(self) -> None:
        # T07
        ident = [
            pol(
                allow(),
                {
                    "Effect": "Deny",
                    "NotAction": "iam:*",
                    "Resource": "*",
                    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
                },
            )
        ]
        assert decide(user(), "s3:ListAllMyBuckets", "*", identity=ident).result is Result.EXPLICITLY_DENIED
        assert decide(user(), "iam:ListUsers", "*", identity=ident).result is Result.ALLOWED


class TestSameAccountResourcePolicy:
    def test_user_grant_suffices_and_is_not_limited_by_boundary(self) -> None:
        # T42, T43
        d = decide(user(), "s3:GetObject", resource_policy=principal_rbp({"AWS": ALICE}), boundaries=[EC2_ONLY])
        assert d.result is Result.ALLOWED
        assert [m.forms for m in d.matched if m.ref.layer is PolicyKind.RESOURCE] == [("user",)]

    def test_role_grant_without_identity(self) -> None:
        # T44 (second half)
        assert (
            decide(session(), "s3:GetObject", resource_policy=principal_rbp({"AWS": ROLE_R})).result is Result.ALLOWED
        )

    def test_role_grant_limited_by_boundary(self) -> None:
        # T44
        d = decide(session(), "s3:GetObject", resource_policy=principal_rbp({"AWS": ROLE_R}), boundaries=[EC2_ONLY])
        assert d.result is Result.IMPLICITLY_DENIED and "boundary" in d.blocked_by

    def test_role_grant_limited_by_session_policy(self) -> None:
        # T45
        sp = pol(allow("ec2:*"), kind=PolicyKind.SESSION)
        d = decide(session(), "s3:GetObject", resource_policy=principal_rbp({"AWS": ROLE_R}), session_policies=[sp])
        assert d.result is Result.IMPLICITLY_DENIED and "session" in d.blocked_by

    def test_session_grant_not_limited(self) -> None:
        # T46a (errata)
        sp = pol(allow("ec2:*"), kind=PolicyKind.SESSION)
        policy = principal_rbp({"AWS": f"arn:aws:sts::{A}:assumed-role/R/s1"})
        d = decide(
            session("R", "s1"), "s3:GetObject", resource_policy=policy, boundaries=[EC2_ONLY], session_policies=[sp]
        )
        assert d.result is Result.ALLOWED
        assert decide(session("R", "s2"), "s3:GetObject", resource_policy=policy).result is Result.IMPLICITLY_DENIED

    def test_federated_user_arn_grant(self) -> None:
        policy = principal_rbp({"AWS": f"arn:aws:sts::{A}:federated-user/fed"})
        assert decide(federated(by=ALICE), "s3:GetObject", resource_policy=policy).result is Result.ALLOWED

    def test_federating_user_grant_limited_by_session_policy(self) -> None:
        policy = principal_rbp({"AWS": ALICE})
        assert decide(federated(by=ALICE), "s3:GetObject", resource_policy=policy).result is Result.IMPLICITLY_DENIED
        sp = pol(allow("s3:*"), kind=PolicyKind.SESSION)
        d = decide(federated(by=ALICE), "s3:GetObject", resource_policy=policy, session_policies=[sp])
        assert d.result is Result.ALLOWED

    def test_account_grant_delegates_to_identity(self) -> None:
        policy = principal_rbp({"AWS": A})
        assert decide(user(), "s3:GetObject", resource_policy=policy).result is Result.IMPLICITLY_DENIED
        assert decide(user(), "s3:GetObject", resource_policy=policy, identity=[S3_ALL]).result is Result.ALLOWED

    def test_explicit_identity_deny_beats_user_grant(self) -> None:
        # T10 / T83
        d = decide(user(), "s3:GetObject", resource_policy=principal_rbp({"AWS": ALICE}), identity=[pol(deny("s3:*"))])
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("identity",)

    def test_plain_wildcard_grant(self) -> None:
        # errata 3b: not limited by identity implicit deny
        assert decide(user(), "s3:GetObject", resource_policy=principal_rbp("*")).result is Result.ALLOWED

    def test_plain_wildcard_grant_meets_denying_boundary_is_unknown(self) -> None:
        # errata 3b: boundary/session policy effect on a plain "*" grant is a DOC-GAP -> Unknown
        d = decide(user(), "s3:GetObject", resource_policy=principal_rbp("*"), boundaries=[EC2_ONLY])
        assert d.result is Result.UNKNOWN and d.undecidable()
        assert any(a.undecidable and a.source.layer is PolicyKind.RESOURCE for a in atoms(d.residual))

    def test_wildcard_with_principal_arn_not_limited(self) -> None:
        # errata 3a
        policy = principal_rbp("*", Condition={"ArnEquals": {"aws:PrincipalArn": ALICE}})
        d = decide(user(), "s3:GetObject", resource_policy=policy, boundaries=[EC2_ONLY])
        assert d.result is Result.ALLOWED
        assert decide(user("bob"), "s3:GetObject", resource_policy=policy).result is Result.IMPLICITLY_DENIED

    def test_federated_user_with_plain_wildcard_is_unknown(self) -> None:
        # errata 3c
        d = decide(federated(by=ALICE), "s3:GetObject", resource_policy=principal_rbp("*"))
        assert d.result is Result.UNKNOWN

    def test_rbp_required_service_option(self) -> None:
        opts = EngineOptions(
            flag_unknown_actions=False, rcp_services=frozenset(), rbp_required_services=frozenset({"s3"})
        )
        d = decide(user(), "s3:GetObject", identity=[S3_ALL], options=opts)
        assert d.result is Result.IMPLICITLY_DENIED and "resource" in d.blocked_by
        d = decide(user(), "s3:GetObject", identity=[S3_ALL], resource_policy=principal_rbp({"AWS": A}), options=opts)
        assert d.result is Result.ALLOWED

    def test_t10(self) -> None:
        ident = pol(
            allow("s3:*", [BUCKET.replace("bucket", "carlossalazar"), "arn:aws:s3:::carlossalazar/*"]),
            deny("s3:*", "arn:aws:s3:::*log*"),
        )
        grant = rbp(
            allow("s3:*", ["arn:aws:s3:::carlossalazar", "arn:aws:s3:::carlossalazar/*"], Principal={"AWS": ALICE})
        )
        assert (
            decide(
                user(), "s3:PutObject", "arn:aws:s3:::carlossalazar/f", identity=[ident], resource_policy=grant
            ).result
            is Result.ALLOWED
        )
        d = decide(user(), "s3:ListBucket", "arn:aws:s3:::carlossalazar-logs", identity=[ident], resource_policy=grant)
        assert d.result is Result.EXPLICITLY_DENIED


class TestCrossAccount:
    def test_needs_both_sides(self) -> None:
        bob = user("bob", B)
        grant = principal_rbp({"AWS": B})
        assert decide(bob, "s3:GetObject", identity=[S3_ALL], resource_policy=grant, account=A).result is Result.ALLOWED
        d = decide(bob, "s3:GetObject", resource_policy=grant, account=A)
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("identity",)
        d = decide(bob, "s3:GetObject", identity=[S3_ALL], account=A)
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("resource",)

    def test_user_grant_still_needs_identity(self) -> None:
        grant = principal_rbp({"AWS": f"arn:aws:iam::{B}:user/bob"})
        d = decide(user("bob", B), "s3:GetObject", resource_policy=grant, account=A)
        assert d.result is Result.IMPLICITLY_DENIED and d.blocked_by == ("identity",)

    def test_boundary_on_the_trusted_side(self) -> None:
        d = decide(
            user("bob", B),
            "s3:GetObject",
            identity=[S3_ALL],
            boundaries=[EC2_ONLY],
            resource_policy=principal_rbp({"AWS": B}),
            account=A,
        )
        assert d.result is Result.IMPLICITLY_DENIED and "boundary" in d.blocked_by

    def test_t59_session_grant_cross_account_limited_by_boundary(self) -> None:
        grant = principal_rbp({"AWS": f"arn:aws:sts::{B}:assumed-role/R/s1"})
        ident = [pol(allow("s3:GetObject"))]
        s1 = session("R", "s1", B)
        assert decide(s1, "s3:GetObject", identity=ident, resource_policy=grant, account=A).result is Result.ALLOWED
        d = decide(s1, "s3:GetObject", identity=ident, resource_policy=grant, boundaries=[EC2_ONLY], account=A)
        assert d.result is Result.IMPLICITLY_DENIED and "boundary" in d.blocked_by

    def test_root_of_trusted_account(self) -> None:
        # T58d (errata)
        d = decide(root(B), "s3:GetObject", resource_policy=principal_rbp({"AWS": f"arn:aws:iam::{B}:root"}), account=A)
        assert d.result is Result.ALLOWED

    def test_principal_arn_root_condition_only_for_root(self) -> None:
        # T86 / T86c (errata)
        policy = principal_rbp("*", Condition={"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{B}:root"}})
        assert decide(root(B), "s3:GetObject", resource_policy=policy, account=A).result is Result.ALLOWED
        d = decide(user("alice", B), "s3:GetObject", resource_policy=policy, identity=[S3_ALL], account=A)
        assert d.result is Result.IMPLICITLY_DENIED

    def test_scp_of_the_principal_applies(self) -> None:
        d = decide(
            user("bob", B),
            "s3:GetObject",
            identity=[S3_ALL],
            resource_policy=principal_rbp({"AWS": B}),
            scps=levels(scp(allow("ec2:*"))),
            account=A,
        )
        assert d.result is Result.IMPLICITLY_DENIED and "scp" in d.blocked_by

    def test_bare_account_id_in_other_partition(self) -> None:
        bob = Principal(
            kind=PrincipalKind.USER,
            arn=f"arn:aws-cn:iam::{B}:user/bob",
            partition="aws-cn",
            account=B,
            entity_arn=f"arn:aws-cn:iam::{B}:user/bob",
        )
        grant = rbp(allow("s3:GetObject", "arn:aws-cn:s3:::bucket/*", Principal={"AWS": B}))
        d = decide(
            bob, "s3:GetObject", "arn:aws-cn:s3:::bucket/key", identity=[S3_ALL], resource_policy=grant, account=A
        )
        assert d.result is Result.ALLOWED


class TestTrustPolicies:
    def test_naming_the_user_needs_no_identity_policy(self) -> None:
        # TP-2
        d = decide(
            user(),
            "sts:AssumeRole",
            ROLE_ARN,
            resource_policy=trust(allow("sts:AssumeRole", None, Principal={"AWS": ALICE})),
        )
        assert d.result is Result.ALLOWED

    def test_identity_allow_alone_is_not_enough(self) -> None:
        # TP-1
        d = decide(user(), "sts:AssumeRole", ROLE_ARN, identity=[pol(allow("sts:AssumeRole"))])
        assert d.result is Result.IMPLICITLY_DENIED and "resource" in d.blocked_by

    def test_naming_the_account_needs_identity(self) -> None:
        tp = trust(allow("sts:AssumeRole", None, Principal={"AWS": f"arn:aws:iam::{A}:root"}))
        d = decide(user(), "sts:AssumeRole", ROLE_ARN, resource_policy=tp)
        assert d.result is Result.IMPLICITLY_DENIED and "identity" in d.blocked_by
        d = decide(
            user(), "sts:AssumeRole", ROLE_ARN, resource_policy=tp, identity=[pol(allow("sts:AssumeRole", ROLE_ARN))]
        )
        assert d.result is Result.ALLOWED

    def test_boundary_applies_to_named_user(self) -> None:
        # T72 / TP-3 (errata)
        tp = trust(allow("sts:AssumeRole", None, Principal={"AWS": ALICE}))
        d = decide(
            user(),
            "sts:AssumeRole",
            ROLE_ARN,
            resource_policy=tp,
            boundaries=[pol(allow("s3:*"), kind=PolicyKind.BOUNDARY)],
        )
        assert d.result is Result.IMPLICITLY_DENIED and "boundary" in d.blocked_by

    def test_cross_account_needs_identity(self) -> None:
        tp = trust(allow("sts:AssumeRole", None, Principal={"AWS": f"arn:aws:iam::{B}:user/bob"}))
        assert decide(user("bob", B), "sts:AssumeRole", ROLE_ARN, resource_policy=tp).result is Result.IMPLICITLY_DENIED
        d = decide(
            user("bob", B), "sts:AssumeRole", ROLE_ARN, resource_policy=tp, identity=[pol(allow("sts:AssumeRole"))]
        )
        assert d.result is Result.ALLOWED

    def test_external_id_condition(self) -> None:
        tp = trust(
            allow("sts:AssumeRole", None, Principal={"AWS": B}, Condition={"StringEquals": {"sts:ExternalId": "x-1"}})
        )
        ident = [pol(allow("sts:AssumeRole"))]
        assert (
            decide(user("bob", B), "sts:AssumeRole", ROLE_ARN, resource_policy=tp, identity=ident).result
            is Result.IMPLICITLY_DENIED
        )
        d = decide(
            user("bob", B),
            "sts:AssumeRole",
            ROLE_ARN,
            resource_policy=tp,
            identity=ident,
            context={"sts:ExternalId": "x-1"},
        )
        assert d.result is Result.ALLOWED

    def test_t73_no_implicit_self_trust(self) -> None:
        other = trust(allow("sts:AssumeRole", None, Principal={"AWS": f"arn:aws:iam::{A}:user/bob"}))
        caller = session("Target", "s")
        ident = [pol(allow("sts:AssumeRole", ROLE_ARN))]
        assert (
            decide(caller, "sts:AssumeRole", ROLE_ARN, identity=ident, resource_policy=other).result
            is Result.IMPLICITLY_DENIED
        )
        itself = trust(allow("sts:AssumeRole", None, Principal={"AWS": ROLE_ARN}))
        assert (
            decide(caller, "sts:AssumeRole", ROLE_ARN, identity=ident, resource_policy=itself).result is Result.ALLOWED
        )

    def test_t74_cross_account_with_scp_deny(self) -> None:
        tp = trust(allow("sts:AssumeRole", None, Principal={"AWS": f"arn:aws:iam::{B}:root"}))
        dev = user("dev", B)
        ident = [pol(allow("sts:AssumeRole", ROLE_ARN))]
        assert decide(dev, "sts:AssumeRole", ROLE_ARN, identity=ident, resource_policy=tp).result is Result.ALLOWED
        assert decide(dev, "sts:AssumeRole", ROLE_ARN, resource_policy=tp).result is Result.IMPLICITLY_DENIED
        d = decide(
            dev,
            "sts:AssumeRole",
            ROLE_ARN,
            identity=ident,
            resource_policy=tp,
            scps=levels([FULL_ACCESS, scp(deny("sts:AssumeRole"))]),
        )
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("scp",)

    def test_t76_mfa_condition(self) -> None:
        tp = trust(
            allow(
                "sts:AssumeRole",
                None,
                Principal={"AWS": ALICE},
                Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            )
        )
        assert decide(user(), "sts:AssumeRole", ROLE_ARN, resource_policy=tp).result is Result.IMPLICITLY_DENIED
        ctx = {"aws:MultiFactorAuthPresent": "true"}
        assert decide(user(), "sts:AssumeRole", ROLE_ARN, resource_policy=tp, context=ctx).result is Result.ALLOWED

    def test_t77_aws_principal_cannot_use_a_web_identity_trust(self) -> None:
        tp = trust(allow("sts:AssumeRoleWithWebIdentity", None, Principal={"Federated": "accounts.google.com"}))
        d = decide(user(), "sts:AssumeRole", ROLE_ARN, identity=[pol(allow())], resource_policy=tp)
        assert d.result is Result.IMPLICITLY_DENIED

    def test_web_identity(self) -> None:
        oidc = f"arn:aws:iam::{A}:oidc-provider/token.actions.githubusercontent.com"
        tp = trust(
            allow(
                "sts:AssumeRoleWithWebIdentity",
                None,
                Principal={"Federated": oidc},
                Condition={"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
            )
        )
        ctx = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
        d = decide(web_identity(oidc), "sts:AssumeRoleWithWebIdentity", ROLE_ARN, resource_policy=tp, context=ctx)
        assert d.result is Result.ALLOWED
        d = decide(
            web_identity("accounts.google.com"),
            "sts:AssumeRoleWithWebIdentity",
            ROLE_ARN,
            resource_policy=tp,
            context=ctx,
        )
        assert d.result is Result.IMPLICITLY_DENIED

    def test_partial_wildcard_principal_matches_nobody(self) -> None:
        # T89
        tp = trust(allow("sts:AssumeRole", None, Principal={"AWS": f"arn:aws:iam::{A}:role/*"}))
        d = decide(session(), "sts:AssumeRole", ROLE_ARN, resource_policy=tp, identity=[pol(allow())])
        assert d.result is Result.IMPLICITLY_DENIED and d.warnings


class TestKms:
    def test_key_policy_must_enable_iam(self) -> None:
        # T81
        kp = rbp(allow("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{A}:user/admin"}), name="key-policy")
        d = decide(user(), "kms:Decrypt", KEY, resource_policy=kp, identity=[pol(allow("kms:Decrypt", KEY))])
        assert d.result is Result.IMPLICITLY_DENIED and "resource" in d.blocked_by

    def test_default_key_policy(self) -> None:
        # T82
        kp = rbp(allow("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{A}:root"}), name="key-policy")
        assert (
            decide(user(), "kms:Decrypt", KEY, resource_policy=kp, identity=[pol(allow("kms:Decrypt"))]).result
            is Result.ALLOWED
        )
        assert decide(user("bob"), "kms:Decrypt", KEY, resource_policy=kp).result is Result.IMPLICITLY_DENIED

    def test_iam_deny_without_key_policy_permission(self) -> None:
        # T83
        kp = rbp(allow("kms:Decrypt", "*", Principal={"AWS": ALICE}), name="key-policy")
        assert decide(user(), "kms:Decrypt", KEY, resource_policy=kp).result is Result.ALLOWED
        d = decide(user(), "kms:Decrypt", KEY, resource_policy=kp, identity=[pol(deny("kms:Decrypt"))])
        assert d.result is Result.EXPLICITLY_DENIED

    def test_root_needs_the_key_policy(self) -> None:
        assert decide(root(), "kms:Decrypt", KEY).result is Result.IMPLICITLY_DENIED


class TestServiceAndAnonymous:
    def test_service_principal(self) -> None:
        policy = principal_rbp({"Service": "cloudtrail.amazonaws.com"}, "s3:PutObject")
        assert decide(service(), "s3:PutObject", resource_policy=policy).result is Result.ALLOWED
        assert (
            decide(service("s3.amazonaws.com"), "s3:PutObject", resource_policy=policy).result
            is Result.IMPLICITLY_DENIED
        )
        assert decide(service(), "s3:PutObject").result is Result.IMPLICITLY_DENIED

    def test_anonymous(self) -> None:
        assert decide(ANONYMOUS, "s3:GetObject", resource_policy=principal_rbp("*")).result is Result.ALLOWED
        assert (
            decide(ANONYMOUS, "s3:GetObject", resource_policy=principal_rbp({"AWS": A})).result
            is Result.IMPLICITLY_DENIED
        )
        assert decide(ANONYMOUS, "s3:GetObject").result is Result.IMPLICITLY_DENIED


BOB_B = f"arn:aws:iam::{B}:user/Bob"


class TestNotPrincipal:
    BOB = BOB_B
    LISTED: ClassVar[dict[str, list[str]]] = {"AWS": [BOB_B, f"arn:aws:iam::{B}:root"]}

    def policy(self, listed: object) -> object:
        return rbp(
            deny("s3:*", [BUCKET, f"{BUCKET}/*"], NotPrincipal=listed, Sid="DenyOthers"),
            allow("s3:*", [BUCKET, f"{BUCKET}/*"], Principal={"AWS": self.BOB}),
        )

    def test_t84(self) -> None:
        bob = user("Bob", B)
        assert (
            decide(bob, "s3:GetObject", identity=[S3_ALL], resource_policy=self.policy(self.LISTED), account=A).result
            is Result.ALLOWED
        )
        d = decide(
            user("Alice", B), "s3:GetObject", identity=[S3_ALL], resource_policy=self.policy(self.LISTED), account=A
        )
        assert d.result is Result.EXPLICITLY_DENIED and d.blocked_by == ("resource",)
        assert {m.ref.label for m in d.deciding()} == {"DenyOthers"}

    def test_only_leaf_listed_is_unknown(self) -> None:
        d = decide(
            user("Bob", B), "s3:GetObject", identity=[S3_ALL], resource_policy=self.policy({"AWS": self.BOB}), account=A
        )
        assert d.result is Result.UNKNOWN

    def test_boundary_quirk(self) -> None:
        # T85
        d = decide(
            user("Bob", B),
            "s3:GetObject",
            identity=[S3_ALL],
            boundaries=[pol(allow(), kind=PolicyKind.BOUNDARY)],
            resource_policy=self.policy(self.LISTED),
            account=A,
        )
        assert d.result is Result.EXPLICITLY_DENIED


class TestPartialEvaluation:
    IP_ALLOW = pol(
        allow("s3:*", Sid="FromOffice", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), name="Office"
    )

    def test_conditional_with_residual_naming_statement_and_condition(self) -> None:
        d = decide(user(), "s3:GetObject", identity=[self.IP_ALLOW], unknown=["aws:SourceIp"])
        assert d.result is Result.CONDITIONAL and d.possible and not d.allowed
        assert isinstance(d.residual, Atom) and not d.residual.undecidable
        assert d.residual.source.policy == "Office" and d.residual.source.label == "FromOffice"
        assert d.residual.clause is not None
        assert (d.residual.clause.operator, d.residual.clause.key, d.residual.clause.values) == (
            "IpAddress",
            "aws:SourceIp",
            ("203.0.113.0/24",),
        )
        [entry] = d.residual_json()
        assert entry["source"]["sid"] == "FromOffice" and entry["condition"]["key"] == "aws:SourceIp"
        assert [m.conditional for m in d.matched] == [True]

    def test_given_value_decides(self) -> None:
        ctx = {"aws:SourceIp": "203.0.113.9"}
        assert (
            decide(user(), "s3:GetObject", identity=[self.IP_ALLOW], unknown="*", context=ctx).result is Result.ALLOWED
        )

    def test_unknown_star_keeps_principal_keys_known(self) -> None:
        ident = pol(allow("s3:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "red"}}))
        assert decide(user(), "s3:GetObject", identity=[ident], unknown="*").result is Result.IMPLICITLY_DENIED
        assert (
            decide(user(tags={"team": "red"}), "s3:GetObject", identity=[ident], unknown="*").result is Result.ALLOWED
        )

    def test_residual_over_two_layers(self) -> None:
        rp = principal_rbp({"AWS": B}, Condition={"Bool": {"aws:SecureTransport": "true"}})
        d = decide(user("bob", B), "s3:GetObject", identity=[self.IP_ALLOW], resource_policy=rp, unknown="*", account=A)
        assert d.result is Result.CONDITIONAL
        keys = {a.clause.key for a in atoms(d.residual) if a.clause}
        assert keys == {"aws:SourceIp", "aws:SecureTransport"}

    def test_unknown_variable_in_resource(self) -> None:
        ident = pol(allow("s3:*", "arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*"))
        d = decide(
            session(),
            "s3:GetObject",
            "arn:aws:s3:::bucket/red/x",
            identity=[ident],
            unknown="aws:PrincipalTag/*",
        )
        # principal tags are fixed by the principal: absent -> no value -> matches nothing
        assert d.result is Result.IMPLICITLY_DENIED

    def test_multivalued_key_without_set_operator_is_unknown(self) -> None:
        ident = pol(allow("ec2:CreateTags", Condition={"StringEquals": {"aws:TagKeys": "env"}}))
        d = decide(
            user(),
            "ec2:CreateTags",
            f"arn:aws:ec2:us-east-1:{A}:instance/i-1",
            identity=[ident],
            context={"aws:TagKeys": ["env", "owner"]},
        )
        assert d.result is Result.UNKNOWN and d.undecidable()
        [a] = list(atoms(d.residual))
        assert a.undecidable and a.clause is not None and a.clause.key == "aws:TagKeys"

    def test_bare_ipv6_ambiguity_is_unknown(self) -> None:
        ident = pol(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "2001:db8::1"}}))
        d = decide(user(), "s3:GetObject", identity=[ident], context={"aws:SourceIp": "2001:db8::2"})
        assert d.result is Result.UNKNOWN

    def test_unknown_deny_on_implicit_deny_stays_implicit(self) -> None:
        ident = pol(deny("s3:*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
        d = decide(user(), "s3:GetObject", identity=[ident], unknown="*")
        assert d.result is Result.IMPLICITLY_DENIED


class TestDecisionOutput:
    def test_to_json(self) -> None:
        d = decide(user(), "s3:GetObject", identity=[S3_ALL])
        j = d.to_json()
        assert j["decision"] == "Allowed" and j["blocked_by"] == [] and j["residual"] == []
        assert j["matched"][0]["policy"] == "S3All"

    def test_policy_warnings_reported(self) -> None:
        bad = pol({"Effect": "allow", "Action": "s3:*", "Resource": "*"}, name="Lower")
        d = decide(user(), "s3:GetObject", identity=[bad])
        assert d.result is Result.IMPLICITLY_DENIED  # T03
        assert any("Lower" in w for w in d.warnings)

    def test_deterministic(self) -> None:
        first = decide(user(), "s3:GetObject", identity=[TestPartialEvaluation.IP_ALLOW], unknown="*")
        second = decide(user(), "s3:GetObject", identity=[TestPartialEvaluation.IP_ALLOW], unknown="*")
        assert first == second
