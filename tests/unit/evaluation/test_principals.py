"""Principal / NotPrincipal matching (spec §6.1, §6.2, §6.4, errata 11, errata 13, T84–T90)."""

from __future__ import annotations

from typing import Any

import pytest

from iamgraph.errors import InputError
from iamgraph.evaluation.principals import Form, match_block, not_principal_applies
from iamgraph.evaluation.request import Principal, PrincipalKind, principal_from_arn
from iamgraph.model.policy import PolicyKind, PrincipalBlock
from iamgraph.policy.logic import Atom

from .helpers import ANONYMOUS, A, B, federated, pol, root, service, session, user, web_identity

ALICE = f"arn:aws:iam::{A}:user/alice"
ROLE = f"arn:aws:iam::{A}:role/R"
SESSION = f"arn:aws:sts::{A}:assumed-role/R/s1"
FED = f"arn:aws:sts::{A}:federated-user/fed"


def block(value: Any, *, kind: PolicyKind = PolicyKind.RESOURCE) -> PrincipalBlock:
    p = pol({"Effect": "Allow", "Principal": value, "Action": "*", "Resource": "*"}, kind=kind)
    b = p.statements[0].principal
    assert b is not None
    return b


def not_block(value: Any) -> PrincipalBlock:
    p = pol({"Effect": "Deny", "NotPrincipal": value, "Action": "*", "Resource": "*"}, kind=PolicyKind.RESOURCE)
    b = p.statements[0].not_principal
    assert b is not None
    return b


def forms(value: Any, p: Principal) -> set[Form]:
    return set(match_block(block(value), p))


EVERYONE = [
    user(),
    user("bob", B),
    session(),
    session("X", "y", B),
    federated(),
    root(),
    root(B),
    service(),
    ANONYMOUS,
    web_identity("accounts.google.com"),
]


class TestWildcard:
    @pytest.mark.parametrize("value", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
    @pytest.mark.parametrize("p", EVERYONE, ids=lambda p: p.kind.value)
    def test_matches_everyone_incl_anonymous_and_services(self, value: Any, p: Principal) -> None:
        # §6.1: "*" and {"AWS":"*"} are equivalent; G5: "*" matches service principals
        assert forms(value, p) == {Form.WILDCARD}


class TestAccount:
    @pytest.mark.parametrize("entry", [A, f"arn:aws:iam::{A}:root"])
    @pytest.mark.parametrize("p", [user(), session(), federated(), root()], ids=lambda p: p.kind.value)
    def test_every_iam_principal_of_the_account(self, entry: str, p: Principal) -> None:
        assert forms({"AWS": entry}, p) == {Form.ACCOUNT}

    @pytest.mark.parametrize("entry", [A, f"arn:aws:iam::{A}:root"])
    @pytest.mark.parametrize(
        "p", [user("bob", B), session("X", "y", B), root(B), service(), ANONYMOUS], ids=lambda p: p.kind.value
    )
    def test_not_other_accounts_services_or_anonymous(self, entry: str, p: Principal) -> None:
        assert forms({"AWS": entry}, p) == set()

    def test_other_partition_never_matches(self) -> None:
        assert forms({"AWS": f"arn:aws-cn:iam::{A}:root"}, user()) == set()

    def test_partition_of_root_arn_must_agree(self) -> None:
        cn = Principal(
            kind=PrincipalKind.USER,
            arn=f"arn:aws-cn:iam::{A}:user/alice",
            partition="aws-cn",
            account=A,
            entity_arn=f"arn:aws-cn:iam::{A}:user/alice",
        )
        assert forms({"AWS": f"arn:aws-cn:iam::{A}:root"}, cn) == {Form.ACCOUNT}
        assert forms({"AWS": f"arn:aws:iam::{A}:root"}, cn) == set()


class TestEntities:
    def test_user(self) -> None:
        assert forms({"AWS": ALICE}, user()) == {Form.USER}
        assert forms({"AWS": ALICE}, user("bob")) == set()
        assert forms({"AWS": f"arn:aws:iam::{A}:user/Alice"}, user()) == set()  # case-sensitive
        assert forms({"AWS": ALICE}, user("alice", B)) == set()

    def test_user_arn_names_the_federated_sessions_it_creates(self) -> None:
        assert forms({"AWS": ALICE}, federated(by=ALICE)) == {Form.FEDERATING_USER}
        assert forms({"AWS": ALICE}, federated(by=f"arn:aws:iam::{A}:user/bob")) == set()

    def test_role_covers_every_session(self) -> None:
        assert forms({"AWS": ROLE}, session("R", "s1")) == {Form.ROLE}
        assert forms({"AWS": ROLE}, session("R", "other")) == {Form.ROLE}
        assert forms({"AWS": ROLE}, session("Q", "s1")) == set()
        assert forms({"AWS": ROLE}, user("R")) == set()

    def test_role_with_path(self) -> None:
        assert forms({"AWS": f"arn:aws:iam::{A}:role/team/R"}, session("R", path="/team/")) == {Form.ROLE}

    def test_session(self) -> None:
        assert forms({"AWS": SESSION}, session("R", "s1")) == {Form.SESSION}
        assert forms({"AWS": SESSION}, session("R", "s2")) == set()

    def test_role_and_session_both_listed(self) -> None:
        assert forms({"AWS": [ROLE, SESSION, A]}, session("R", "s1")) == {Form.ROLE, Form.SESSION, Form.ACCOUNT}

    def test_federated_user(self) -> None:
        assert forms({"AWS": FED}, federated()) == {Form.FEDERATED_USER}
        assert forms({"AWS": FED}, federated("other")) == set()

    def test_unique_ids_match_the_current_entity_only(self) -> None:
        # errata 13 / TP-7: an ID names the entity it was stored for; a recreated entity has a new ID (T88)
        assert forms({"AWS": "AIDAEXAMPLEUSERID0001"}, user()) == {Form.USER}
        assert forms({"AWS": "AROAEXAMPLEROLEID0001"}, session()) == {Form.ROLE}
        assert forms({"AWS": "AROAEXAMPLEROLEID0001"}, session(unique_id="AROARECREATEDROLE002")) == set()
        assert forms({"AWS": "AIDAEXAMPLEUSERID0001"}, user(unique_id=None)) == set()

    @pytest.mark.parametrize(
        "entry",
        [
            f"arn:aws:iam::{A}:role/*",  # T89
            "arn:aws:iam::*:root",
            f"arn:aws:sts::{A}:assumed-role/R/*",
            f"arn:aws:iam::{A}:user/*",
            f"arn:aws:iam::{A}:group/dev",  # T90
        ],
    )
    def test_partial_wildcards_and_groups_match_nobody(self, entry: str) -> None:
        for p in EVERYONE:
            assert forms({"AWS": entry}, p) == set()


class TestServiceAndFederated:
    def test_service(self) -> None:
        assert forms({"Service": "cloudtrail.amazonaws.com"}, service()) == {Form.SERVICE}
        assert forms({"Service": ["s3.amazonaws.com", "cloudtrail.amazonaws.com"]}, service()) == {Form.SERVICE}
        assert forms({"Service": "s3.amazonaws.com"}, service()) == set()
        assert forms({"Service": "cloudtrail.amazonaws.com"}, user()) == set()

    def test_service_wildcard_matches_nothing(self) -> None:
        assert forms({"Service": "*"}, service()) == set()

    def test_federated(self) -> None:
        oidc = f"arn:aws:iam::{A}:oidc-provider/token.actions.githubusercontent.com"
        b = {"Federated": oidc}
        assert forms(b, web_identity(oidc)) == {Form.FEDERATED}
        assert forms(b, web_identity("accounts.google.com")) == set()
        assert forms(b, user()) == set()

    def test_types_are_ored(self) -> None:
        b = {"AWS": ALICE, "Service": "cloudtrail.amazonaws.com"}
        assert forms(b, user()) == {Form.USER}
        assert forms(b, service()) == {Form.SERVICE}


def applies(value: Any, p: Principal) -> object:
    from iamgraph.model.policy import Effect, StatementRef

    ref = StatementRef(policy="bucket-policy", layer=PolicyKind.RESOURCE, index=0, sid=None, effect=Effect.DENY)
    return not_principal_applies(not_block(value), p, ref)


def is_unknown(x: object) -> bool:
    return isinstance(x, Atom) and x.undecidable


class TestNotPrincipal:
    BOB = f"arn:aws:iam::{B}:user/Bob"
    B_ROOT = f"arn:aws:iam::{B}:root"

    def test_t84_listed_user_and_account_exempt(self) -> None:
        assert applies({"AWS": [self.BOB, self.B_ROOT]}, user("Bob", B)) is False

    def test_t84b_account_entry_exempts_only_the_account_level(self) -> None:
        # errata 11: other principals of the account are still denied
        assert applies({"AWS": [self.BOB, self.B_ROOT]}, user("Alice", B)) is True
        assert applies({"AWS": [self.BOB, self.B_ROOT]}, session("R", "s", B)) is True
        assert applies({"AWS": [self.BOB, self.B_ROOT]}, root(B)) is False

    def test_only_the_leaf_listed_is_unknown(self) -> None:
        # §6.4: exempt only if every level is listed; leaf only -> Unknown ("might deny")
        assert is_unknown(applies({"AWS": self.BOB}, user("Bob", B)))
        assert is_unknown(applies({"AWS": [SESSION, ROLE]}, session("R", "s1")))
        assert is_unknown(applies({"AWS": [SESSION, A]}, session("R", "s1")))

    def test_session_needs_session_role_and_account(self) -> None:
        assert applies({"AWS": [SESSION, ROLE, A]}, session("R", "s1")) is False
        assert applies({"AWS": [ROLE, A]}, session("R", "s1")) is True  # this session is not listed
        assert applies({"AWS": [SESSION, ROLE, A]}, session("R", "s2")) is True

    def test_unrelated_principals_are_denied(self) -> None:
        assert applies({"AWS": [self.BOB, self.B_ROOT]}, user("alice", A)) is True
        assert applies({"AWS": [self.BOB, self.B_ROOT]}, ANONYMOUS) is True
        assert applies({"AWS": [self.BOB, self.B_ROOT]}, service()) is True

    def test_federated_user_exempt_with_account(self) -> None:
        assert applies({"AWS": [FED, A]}, federated()) is False

    def test_service_exempt(self) -> None:
        assert applies({"Service": "cloudtrail.amazonaws.com"}, service()) is False

    def test_wildcard_exempts_everyone(self) -> None:
        for p in EVERYONE:
            assert applies("*", p) is False

    def test_boundary_quirk_always_denies(self) -> None:
        # T85: NotPrincipal + Deny always denies IAM principals with a permissions boundary
        bob = user("Bob", B, has_boundary=True)
        assert applies({"AWS": [self.BOB, self.B_ROOT]}, bob) is True
        s = session("R", "s1", has_boundary=True)
        assert applies({"AWS": [SESSION, ROLE, A]}, s) is True


class TestPrincipalFromArn:
    def test_root_and_account_id(self) -> None:
        for value in (A, f"arn:aws:iam::{A}:root"):
            p = principal_from_arn(value)
            assert (p.kind, p.account, p.arn) == (PrincipalKind.ROOT, A, f"arn:aws:iam::{A}:root")

    def test_user(self) -> None:
        p = principal_from_arn(f"arn:aws:iam::{A}:user/team/alice")
        assert p.kind is PrincipalKind.USER and p.entity_arn == p.arn and p.name == "alice"

    def test_role_becomes_a_session(self) -> None:
        p = principal_from_arn(f"arn:aws:iam::{A}:role/ops/R", session_name="me")
        assert p.kind is PrincipalKind.ROLE_SESSION
        assert p.arn == f"arn:aws:sts::{A}:assumed-role/R/me"
        assert p.entity_arn == f"arn:aws:iam::{A}:role/ops/R" and p.session_name == "me"
        assert not p.service_linked

    def test_assumed_role(self) -> None:
        p = principal_from_arn(SESSION)
        assert p.kind is PrincipalKind.ROLE_SESSION and p.entity_arn == ROLE and p.session_name == "s1"

    def test_service_linked_role(self) -> None:
        p = principal_from_arn(f"arn:aws:iam::{A}:role/aws-service-role/ec2.amazonaws.com/AWSServiceRoleForX")
        assert p.service_linked

    def test_federated_user(self) -> None:
        assert principal_from_arn(FED).kind is PrincipalKind.FEDERATED_USER

    def test_service(self) -> None:
        p = principal_from_arn("cloudtrail.amazonaws.com")
        assert p.kind is PrincipalKind.SERVICE and p.service == "cloudtrail.amazonaws.com"

    def test_partition(self) -> None:
        assert principal_from_arn(f"arn:aws-cn:iam::{A}:user/a").partition == "aws-cn"

    @pytest.mark.parametrize(
        "bad", ["alice", f"arn:aws:iam::{A}:group/dev", f"arn:aws:sts::{A}:assumed-role/R", "arn:aws:s3:::bucket"]
    )
    def test_invalid(self, bad: str) -> None:
        with pytest.raises(InputError):
            principal_from_arn(bad)
