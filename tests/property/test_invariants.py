"""Invariants of the decision procedure on random policies, principals and contexts (hypothesis).

(a) an applying unconditional Deny in an identity policy, an SCP level or a boundary always wins;
(b) adding an Allow statement never turns Allowed into a denial;
(c) an SCP level without any Allow blocks every member-account IAM principal (not service-linked);
(d) exact and partial evaluation agree: with every referenced key given, unknownKeys="*" changes
    nothing; for random unknown subsets, substituting the true values into the residual gives the
    exact decision's allowed/denied outcome;
(e) parsing is total on generated documents and decisions are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from iamgraph.evaluation import Decision, EngineOptions, OrgLevel, PolicySet, Result, evaluate
from iamgraph.evaluation.context import Context, KeyPatterns
from iamgraph.evaluation.keys import principal_keys
from iamgraph.evaluation.request import Principal, PrincipalKind, Request
from iamgraph.model.policy import Effect, Policy, PolicyKind, Statement
from iamgraph.policy.conditions import evaluate_clause
from iamgraph.policy.logic import Atom, Expr, substitute
from iamgraph.policy.parse import parse_policy

A = "111122223333"
B = "444455556666"
ORG = "o-a1b2c3d4e5"
ALICE = f"arn:aws:iam::{A}:user/alice"
ROLE_R = f"arn:aws:iam::{A}:role/R"
SESSION_R = f"arn:aws:sts::{A}:assumed-role/R/s1"
FED = f"arn:aws:sts::{A}:federated-user/fed"

OPTIONS = EngineOptions(flag_unknown_actions=False, rcp_services=frozenset({"s3", "dynamodb", "kms"}))
DENIED = (Result.EXPLICITLY_DENIED, Result.IMPLICITLY_DENIED)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- vocabulary ---------------------------------------------------------------------------------

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:ListAllMyBuckets",
    "ec2:StartInstances",
    "ec2:DescribeInstances",
    "dynamodb:GetItem",
    "kms:Decrypt",
]
ACTION_PATTERNS = [
    "*",
    "s3:*",
    "s3:Get*",
    "s3:?etObject",
    "S3:getobject",
    "s3:List*",
    "ec2:*Instances",
    "ec2:Describe*",
    "dynamodb:GetItem",
    "kms:*",
]
RESOURCES = [  # (request resource, owning account or None = choose)
    ("arn:aws:s3:::bucket/key", None),
    ("arn:aws:s3:::bucket/red/doc", None),
    ("arn:aws:s3:::bucket", None),
    ("*", None),
    (f"arn:aws:ec2:us-east-1:{A}:instance/i-1", A),
    (f"arn:aws:dynamodb:us-east-1:{B}:table/orders", B),
    (f"arn:aws:kms:us-east-1:{A}:key/k1", A),
]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket",
    "arn:aws:s3:::*",
    "arn:aws:s3:::other/*",
    "arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*",
    "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'red'}/*",
    f"arn:aws:ec2:*:{A}:instance/*",
    "arn:aws:dynamodb:us-east-1:*:table/o*",
    f"arn:aws:kms:us-east-1:{A}:key/*",
]
CLAUSES = [  # (operator, key, values); values sometimes match the generated contexts
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8"]),
    ("NotIpAddress", "aws:SourceIp", ["10.0.0.0/8", "192.168.1.1"]),
    ("IpAddress", "aws:SourceIp", ["2001:db8::/32", "192.168.1.1"]),
    ("StringEquals", "aws:PrincipalTag/team", ["red"]),
    ("StringNotEquals", "aws:PrincipalTag/team", ["red", "blue"]),
    ("StringLike", "aws:PrincipalTag/team", ["r*"]),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["env", "owner"]),
    ("ForAnyValue:StringLike", "aws:TagKeys", ["c*"]),
    ("ForAllValues:StringNotEquals", "aws:TagKeys", ["secret"]),
    ("Bool", "aws:MultiFactorAuthPresent", ["true"]),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", ["false"]),
    ("DateGreaterThan", "aws:CurrentTime", ["2024-01-01T00:00:00Z"]),
    ("DateLessThan", "aws:CurrentTime", ["2025-06-01T00:00:00Z"]),
    ("NumericLessThanEquals", "s3:max-keys", ["10"]),
    ("Bool", "aws:SecureTransport", ["true"]),
    ("Null", "aws:SourceVpc", ["true"]),
    ("Null", "aws:TagKeys", ["false"]),
    ("StringEqualsIfExists", "aws:SourceVpc", ["vpc-1"]),
    ("StringNotEqualsIfExists", "aws:SourceVpc", ["vpc-1"]),
    ("StringEquals", "aws:RequestTag/project", ["${aws:PrincipalTag/team}"]),
    ("StringNotEquals", "aws:RequestTag/project", ["${aws:PrincipalTag/team}"]),
    ("ArnLike", "aws:PrincipalArn", [f"arn:aws:iam::{A}:*"]),
    ("ArnNotEquals", "aws:PrincipalArn", [ROLE_R]),
    ("StringEquals", "aws:PrincipalAccount", [A]),
]
CONTEXT_VALUES: dict[str, list[Any]] = {  # per key: possible request values (absence is drawn separately)
    "aws:SourceIp": ["10.1.2.3", "192.168.1.1", "203.0.113.5", "2001:db8::5"],
    "aws:TagKeys": [[], ["env"], ["env", "owner"], ["cost", "secret"], ["owner", "cost"]],
    "aws:MultiFactorAuthPresent": ["true", "false"],
    "aws:CurrentTime": ["2023-06-01T00:00:00Z", "2024-06-01T00:00:00Z", "2025-12-01T00:00:00Z"],
    "s3:max-keys": ["5", "10", "50"],
    "aws:SecureTransport": ["true", "false"],
    "aws:SourceVpc": ["vpc-1", "vpc-2"],
    "aws:RequestTag/project": ["red", "blue"],
}
# Keys the generated policies can reference besides CONTEXT_VALUES (derived from the principal).
DERIVED_KEYS = ["aws:PrincipalTag/team", "aws:PrincipalArn", "aws:PrincipalAccount"]
UNKNOWN_PATTERNS = [
    *CONTEXT_VALUES,
    "aws:PrincipalTag/*",
    "aws:RequestTag/*",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "*",
]
RBP_PRINCIPALS: list[Any] = [
    "*",
    {"AWS": "*"},
    {"AWS": A},
    {"AWS": f"arn:aws:iam::{A}:root"},
    {"AWS": B},
    {"AWS": ALICE},
    {"AWS": ROLE_R},
    {"AWS": SESSION_R},
    {"AWS": FED},
    {"AWS": [ALICE, f"arn:aws:iam::{B}:user/bob"]},
    {"Service": "cloudtrail.amazonaws.com"},
]
NOT_PRINCIPALS: list[Any] = [
    {"AWS": [ALICE, A]},
    {"AWS": ALICE},
    {"AWS": [SESSION_R, ROLE_R, A]},
    {"AWS": B},
]


def _principals(team: str | None, org: bool) -> list[Principal]:
    tags = {"team": team} if team else {}
    org_id = ORG if org else None
    return [
        Principal(
            kind=PrincipalKind.USER,
            arn=ALICE,
            account=A,
            entity_arn=ALICE,
            unique_id="AIDAALICE000000000001",
            tags=tags,
            org_id=org_id,
        ),
        Principal(
            kind=PrincipalKind.USER,
            arn=f"arn:aws:iam::{B}:user/bob",
            account=B,
            entity_arn=f"arn:aws:iam::{B}:user/bob",
            tags=tags,
            org_id=org_id,
        ),
        Principal(
            kind=PrincipalKind.ROLE_SESSION,
            arn=SESSION_R,
            account=A,
            entity_arn=ROLE_R,
            unique_id="AROAROLER00000000001",
            session_name="s1",
            tags=tags,
            org_id=org_id,
        ),
        Principal(
            kind=PrincipalKind.ROLE_SESSION,
            arn=f"arn:aws:sts::{A}:assumed-role/AWSServiceRoleForX/s",
            account=A,
            entity_arn=f"arn:aws:iam::{A}:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX",
            session_name="s",
            service_linked=True,
            org_id=org_id,
        ),
        Principal(
            kind=PrincipalKind.ROLE_SESSION,
            arn=f"arn:aws:sts::{B}:assumed-role/X/y",
            account=B,
            entity_arn=f"arn:aws:iam::{B}:role/X",
            session_name="y",
            tags=tags,
            org_id=org_id,
        ),
        Principal(kind=PrincipalKind.FEDERATED_USER, arn=FED, account=A, entity_arn=ALICE, tags=tags, org_id=org_id),
        Principal(kind=PrincipalKind.ROOT, arn=f"arn:aws:iam::{A}:root", account=A, org_id=org_id),
        Principal(kind=PrincipalKind.ROOT, arn=f"arn:aws:iam::{B}:root", account=B, org_id=org_id),
        Principal(kind=PrincipalKind.SERVICE, arn=None, service="cloudtrail.amazonaws.com"),
        Principal(kind=PrincipalKind.ANONYMOUS, arn=None),
    ]


ALL_PRINCIPALS = [p for team in (None, "red", "blue") for org in (False, True) for p in _principals(team, org)]
SAME_ACCOUNT_IAM = [
    p for p in ALL_PRINCIPALS if p.account == A and p.kind in (PrincipalKind.USER, PrincipalKind.ROLE_SESSION)
]
IDENTITY_KINDS = {PrincipalKind.USER, PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER}
SCP_KINDS = IDENTITY_KINDS | {PrincipalKind.ROOT}

# ---- strategies ---------------------------------------------------------------------------------


def _one_or_list(values: list[str]) -> st.SearchStrategy[Any]:
    return st.sampled_from([values[0], values]) if len(values) == 1 else st.just(values)


@st.composite
def conditions(draw: st.DrawFn, *, counts: tuple[int, ...] = (0, 1, 1, 2)) -> dict[str, dict[str, Any]] | None:
    count = draw(st.sampled_from(counts))
    chosen = dict.fromkeys(draw(st.lists(st.integers(0, len(CLAUSES) - 1), min_size=count, max_size=count)))
    if not chosen:
        return None
    block: dict[str, dict[str, Any]] = {}
    for op, key, values in (CLAUSES[i] for i in chosen):
        block.setdefault(op, {})[key] = draw(_one_or_list(values))
    return block


# "*" is weighted up so that statements often apply (and their conditions decide).
ACTION_PATTERN = st.one_of(st.just("*"), st.sampled_from(ACTION_PATTERNS))
RESOURCE_PATTERN = st.one_of(st.just("*"), st.sampled_from(RESOURCE_PATTERNS))


@st.composite
def statements(
    draw: st.DrawFn, *, effect: str | None = None, principal: bool = False, not_principal: bool = True
) -> dict[str, Any]:
    eff = effect or draw(st.sampled_from(["Allow", "Deny"]))
    out: dict[str, Any] = {"Effect": eff}
    if draw(st.booleans()):
        out["Sid"] = draw(st.sampled_from(["S1", "S2", "Grant", "Guard"]))
    actions = list(dict.fromkeys(draw(st.lists(ACTION_PATTERN, min_size=1, max_size=3))))
    out["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = actions[0] if len(actions) == 1 else actions
    resources = list(dict.fromkeys(draw(st.lists(RESOURCE_PATTERN, min_size=1, max_size=2))))
    out["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = (
        resources[0] if len(resources) == 1 else resources
    )
    # Deny statements are mostly conditional: unconditional ones would decide most scenarios outright.
    cond = draw(conditions(counts=(0, 1, 1, 1, 2, 2) if eff == "Deny" else (0, 1, 1, 2)))
    if cond:
        out["Condition"] = cond
    if principal:
        if not_principal and eff == "Deny" and draw(st.integers(0, 4)) == 0:
            out["NotPrincipal"] = draw(st.sampled_from(NOT_PRINCIPALS))
        else:
            out["Principal"] = draw(st.sampled_from(RBP_PRINCIPALS))
    return out


VERSIONS = st.sampled_from(["2012-10-17", "2012-10-17", "2012-10-17", "2008-10-17", None])


@st.composite
def documents(
    draw: st.DrawFn,
    *,
    principal: bool = False,
    not_principal: bool = True,
    effect: str | None = None,
    max_statements: int = 2,
) -> dict[str, Any]:
    stmt = statements(effect=effect, principal=principal, not_principal=not_principal)
    stmts = draw(st.lists(stmt, min_size=1, max_size=max_statements))
    doc: dict[str, Any] = {"Statement": stmts[0] if len(stmts) == 1 and draw(st.booleans()) else stmts}
    version = draw(VERSIONS)
    if version is not None:
        doc["Version"] = version
    return doc


FULL_ACCESS = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}


@dataclass(frozen=True)
class Scenario:
    principal: Principal
    action: str
    resource: str
    owner: str
    context: dict[str, Any]
    identity: tuple[dict[str, Any], ...]
    boundary: dict[str, Any] | None
    session: tuple[dict[str, Any], ...] | None
    resource_policy: dict[str, Any] | None
    scps: tuple[tuple[dict[str, Any], ...], ...]
    rcps: tuple[tuple[dict[str, Any], ...], ...]


@st.composite
def contexts(draw: st.DrawFn, *, complete: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, values in CONTEXT_VALUES.items():
        if complete or draw(st.booleans()):
            out[key] = draw(st.sampled_from(values))
    return out


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
PUBLIC_GRANT = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}


def permissive(s: Scenario) -> Scenario:
    """``s`` with a baseline Allow * * in every layer that applies, so that denials come only from the
    generated Deny statements and conditions (keeps the Allowed/Conditional outcomes frequent)."""
    cross = s.principal.account is None or s.principal.account != s.owner
    rbp = s.resource_policy
    if cross:
        rbp = with_statement(rbp, PUBLIC_GRANT) if rbp is not None else {"Statement": [PUBLIC_GRANT]}
    session = s.session
    if s.principal.kind is PrincipalKind.FEDERATED_USER:
        session = session or ({"Statement": []},)
    if session:
        session = (with_statement(session[0], ALLOW_ALL), *session[1:])
    return replace(
        s,
        identity=(*s.identity, {"Version": "2012-10-17", "Statement": ALLOW_ALL}),
        boundary=with_statement(s.boundary, ALLOW_ALL) if s.boundary is not None else None,
        session=session,
        resource_policy=rbp,
        scps=tuple((with_statement(lv[0], ALLOW_ALL), *lv[1:]) for lv in s.scps),
    )


@st.composite
def scenarios(draw: st.DrawFn, *, complete_context: bool = False, lenient: bool | None = None) -> Scenario:
    principal = draw(st.one_of(st.sampled_from(SAME_ACCOUNT_IAM), st.sampled_from(ALL_PRINCIPALS)))
    resource, owner = draw(st.sampled_from(RESOURCES))
    owner = owner or draw(st.sampled_from([A, A, B]))
    boundary = draw(st.one_of(st.none(), documents()))
    if boundary is not None:
        principal = replace(principal, has_boundary=True)
    session = None
    if principal.kind in (PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER) and draw(st.booleans()):
        session = tuple(draw(st.lists(documents(), min_size=1, max_size=2)))
    scp_levels = draw(st.lists(st.one_of(st.just(FULL_ACCESS), documents()).map(lambda d: (d,)), max_size=2))
    rcp_levels = draw(
        st.lists(
            documents(principal=True, not_principal=False, effect="Deny", max_statements=1).map(lambda d: (d,)),
            max_size=1,
        )
    )
    context = draw(contexts(complete=complete_context))
    if complete_context:  # every key a policy may reference, incl. the ones normally derived
        context.update({"aws:PrincipalTag/team": "red", "aws:PrincipalArn": ALICE, "aws:PrincipalAccount": A})
    scenario = Scenario(
        principal=principal,
        action=draw(st.sampled_from(ACTIONS)),
        resource=resource,
        owner=owner,
        context=context,
        identity=tuple(draw(st.lists(documents(), max_size=2))),
        boundary=boundary,
        session=session,
        resource_policy=draw(st.one_of(st.none(), documents(principal=True))),
        scps=tuple(scp_levels),
        rcps=tuple(rcp_levels),
    )
    if lenient is None:
        lenient = draw(st.booleans())
    return permissive(scenario) if lenient else scenario


# ---- building and evaluating -----------------------------------------------------------------


def parse(doc: dict[str, Any], name: str, kind: PolicyKind) -> Policy:
    return parse_policy(doc, name=name, kind=kind)


def policy_set(s: Scenario) -> PolicySet:
    return PolicySet(
        identity=tuple(parse(d, f"identity{i}", PolicyKind.IDENTITY) for i, d in enumerate(s.identity)),
        boundaries=(parse(s.boundary, "boundary", PolicyKind.BOUNDARY),) if s.boundary is not None else (),
        session=tuple(parse(d, f"session{i}", PolicyKind.SESSION) for i, d in enumerate(s.session))
        if s.session is not None
        else None,
        resource=parse(s.resource_policy, "resource", PolicyKind.RESOURCE) if s.resource_policy is not None else None,
        scps=tuple(
            OrgLevel(
                name=f"scp-level{i}", policies=tuple(parse(d, f"scp{i}.{j}", PolicyKind.SCP) for j, d in enumerate(lv))
            )
            for i, lv in enumerate(s.scps)
        ),
        rcps=tuple(
            OrgLevel(
                name=f"rcp-level{i}", policies=tuple(parse(d, f"rcp{i}.{j}", PolicyKind.RCP) for j, d in enumerate(lv))
            )
            for i, lv in enumerate(s.rcps)
        ),
    )


def full_values(s: Scenario) -> dict[str, Any]:
    """The exact context: the drawn request keys plus the keys derived from the principal."""
    values = {k.lower(): v for k, v in s.context.items()}
    for k, v in principal_keys(s.principal, s.owner).items():
        values.setdefault(k.lower(), v)
    return values


def make_request(s: Scenario, context: Context) -> Request:
    return Request(
        principal=s.principal, action=s.action, resource=s.resource, resource_account=s.owner, context=context
    )


def decide(s: Scenario, context: Context | None = None, policies: PolicySet | None = None) -> Decision:
    ctx = context if context is not None else Context.build(full_values(s))
    return evaluate(make_request(s, ctx), policies if policies is not None else policy_set(s), OPTIONS)


def with_statement(doc: dict[str, Any], statement: dict[str, Any]) -> dict[str, Any]:
    stmts = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    return {**doc, "Statement": [*stmts, statement]}


DENY_ALL = {"Effect": "Deny", "Action": "*", "Resource": "*"}

# ---- (a) explicit deny always wins ------------------------------------------------------------


def _with_deny(s: Scenario, layer: str, where: int) -> Scenario | None:
    """``s`` with an unconditional Deny * * added to ``layer``; None if the layer does not apply to the principal."""
    p = s.principal
    if layer == "identity":
        if p.kind not in IDENTITY_KINDS:
            return None
        docs = list(s.identity)
        if docs and where < len(docs):
            docs[where] = with_statement(docs[where], DENY_ALL)
        else:
            docs.append({"Version": "2012-10-17", "Statement": [DENY_ALL]})
        return replace(s, identity=tuple(docs))
    if layer == "boundary":
        if p.kind not in IDENTITY_KINDS:
            return None
        doc = with_statement(s.boundary, DENY_ALL) if s.boundary is not None else {"Statement": DENY_ALL}
        return replace(s, boundary=doc, principal=replace(p, has_boundary=True))
    if p.kind not in SCP_KINDS or p.service_linked:
        return None
    levels = [list(lv) for lv in s.scps]
    if levels and where < len(levels):
        levels[where][0] = with_statement(levels[where][0], DENY_ALL)
    else:
        levels.insert(min(where, len(levels)), [{"Statement": [DENY_ALL]}])
    return replace(s, scps=tuple(tuple(lv) for lv in levels))


def _assert_explicitly_denied_by(s: Scenario, layer: str) -> None:
    d = decide(s)
    assert d.result is Result.EXPLICITLY_DENIED, d
    assert layer in d.blocked_by, d
    assert d.deciding(), "the deciding Deny statements are reported"


@SETTINGS
@given(s=scenarios(), layer=st.sampled_from(["identity", "boundary"]), where=st.integers(0, 3))
def test_unconditional_deny_always_wins(s: Scenario, layer: str, where: int) -> None:
    s2 = _with_deny(s, layer, where)
    event(f"{layer} applies: {s2 is not None}")
    if s2 is not None:
        _assert_explicitly_denied_by(s2, layer)


_ALICE = _principals(None, False)[0]
_EC2_ONLY_SCP = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}}


@example(
    s=Scenario(
        principal=_ALICE,
        action="s3:GetObject",
        resource="arn:aws:s3:::bucket/key",
        owner=A,
        context={},
        identity=(FULL_ACCESS,),
        boundary=None,
        session=None,
        resource_policy=None,
        scps=((_EC2_ONLY_SCP,),),
        rcps=(),
    ),
    where=1,
)
@SETTINGS
@given(s=scenarios(), where=st.integers(0, 3))
def test_unconditional_scp_deny_always_wins(s: Scenario, where: int) -> None:
    s2 = _with_deny(s, "scp", where)
    if s2 is not None:
        _assert_explicitly_denied_by(s2, "scp")


# ---- (b) adding an Allow never turns Allowed into a denial ------------------------------------


@SETTINGS
@given(
    s=scenarios(lenient=True),
    extra=statements(effect="Allow"),
    extra_rbp=statements(effect="Allow", principal=True),
    layer=st.sampled_from(["identity", "boundary", "session", "resource", "scp"]),
    where=st.integers(0, 3),
)
def test_adding_an_allow_keeps_allowed(
    s: Scenario, extra: dict[str, Any], extra_rbp: dict[str, Any], layer: str, where: int
) -> None:
    before = decide(s)
    event(f"before: {before.result.value}")
    if before.result is not Result.ALLOWED:
        return
    if layer == "identity":
        docs = list(s.identity)
        if docs and where < len(docs):
            docs[where] = with_statement(docs[where], extra)
        else:
            docs.append({"Version": "2012-10-17", "Statement": extra})
        s2 = replace(s, identity=tuple(docs))
    elif layer == "boundary":
        if s.boundary is None:
            return  # adding a whole boundary is not adding a statement: it restricts
        s2 = replace(s, boundary=with_statement(s.boundary, extra))
    elif layer == "session":
        if not s.session:
            return
        docs = list(s.session)
        docs[where % len(docs)] = with_statement(docs[where % len(docs)], extra)
        s2 = replace(s, session=tuple(docs))
    elif layer == "resource":
        doc = s.resource_policy or {"Version": "2012-10-17", "Statement": []}
        s2 = replace(s, resource_policy=with_statement(doc, extra_rbp))
    else:
        if not s.scps:
            return
        levels = [list(lv) for lv in s.scps]
        i = where % len(levels)
        levels[i][0] = with_statement(levels[i][0], extra)
        s2 = replace(s, scps=tuple(tuple(lv) for lv in levels))
    after = decide(s2)
    assert after.result is Result.ALLOWED, (before, after)


# ---- (c) an SCP level without Allow blocks member-account IAM principals ----------------------


@SETTINGS
@given(
    s=scenarios(),
    level=st.lists(documents(effect="Deny"), max_size=2),
    empty_doc=st.booleans(),
    position=st.integers(0, 3),
)
def test_scp_level_without_allow_blocks(
    s: Scenario, level: list[dict[str, Any]], empty_doc: bool, position: int
) -> None:
    if s.principal.kind not in SCP_KINDS or s.principal.service_linked:
        return
    docs: list[dict[str, Any]] = list(level)
    if empty_doc or not docs:
        docs.append({"Version": "2012-10-17", "Statement": []})
    levels = list(s.scps)
    levels.insert(min(position, len(levels)), tuple(docs))
    d = decide(replace(s, scps=tuple(levels)))
    event(f"scp-blocked: {d.result.value}")
    assert d.result in DENIED, d
    if d.result is Result.IMPLICITLY_DENIED:
        assert "scp" in d.blocked_by


@SETTINGS
@given(s=scenarios())
def test_scps_do_not_apply_to_service_linked_roles_and_services(s: Scenario) -> None:
    if s.principal.kind in SCP_KINDS and not s.principal.service_linked:
        return
    blocked = replace(s, scps=((({"Statement": [DENY_ALL]}),),))
    assert decide(blocked).result is decide(replace(s, scps=())).result


# ---- (d) exact and partial evaluation agree ---------------------------------------------------


def referenced_keys(policies: PolicySet) -> set[str]:
    from iamgraph.policy.variables import Var, parse_template

    keys: set[str] = set()
    for policy in policies.all_policies():
        for stmt in policy.statements:
            texts = [*stmt.resources] if stmt.resources else []
            for c in stmt.conditions:
                keys.add(c.key_lc)
                texts.extend(c.values)
            for t in texts:
                keys.update(p.key for p in parse_template(t) if isinstance(p, Var))
    return keys


@SETTINGS
@given(s=scenarios(complete_context=True))
def test_unknown_star_changes_nothing_when_every_key_is_given(s: Scenario) -> None:
    policies = policy_set(s)
    values = full_values(s)
    assert referenced_keys(policies) <= set(values)
    exact = decide(s, Context.build(values), policies)
    partial = decide(s, Context.build(values, unknown="*"), policies)
    event(f"exact: {exact.result.value}")
    assert partial == exact


def statement_index(policies: PolicySet) -> dict[tuple[str, int], tuple[Statement, bool]]:
    return {
        (policy.name, stmt.ref.index): (stmt, policy.variables_enabled)
        for policy in policies.all_policies()
        for stmt in policy.statements
    }


def truth_in(
    full: Context, resource: str, index: dict[tuple[str, int], tuple[Statement, bool]]
) -> Callable[[Atom], Expr]:
    """The value of one residual atom under the full context (undecidable atoms stay open)."""

    def value_of(atom: Atom) -> Expr:
        if atom.undecidable:
            return atom
        stmt, variables = index[(atom.source.policy, atom.source.index)]
        if atom.clause is not None:
            return evaluate_clause(atom.clause, full.lookup, variables=variables, source=atom.source)
        assert stmt.resource_matcher is not None  # the only clause-less open atom: a Resource variable
        r = stmt.resource_matcher.match(resource, full.lookup, deny=stmt.effect is Effect.DENY)
        assert not r.unknown_keys
        return r.matched

    return value_of


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    s=scenarios(),
    unknown=st.one_of(st.just(["*"]), st.lists(st.sampled_from(UNKNOWN_PATTERNS), min_size=1, max_size=4, unique=True)),
)
def test_partial_residual_resolves_to_exact_outcome(s: Scenario, unknown: list[str]) -> None:
    policies = policy_set(s)
    values = full_values(s)
    full = Context.build(values)
    patterns = KeyPatterns.of(unknown)
    partial_ctx = Context.build({k: v for k, v in values.items() if k not in patterns}, unknown=unknown)
    exact = decide(s, full, policies)
    partial = decide(s, partial_ctx, policies)
    event(f"partial: {partial.result.value}")
    if partial.result is Result.ALLOWED:
        assert exact.result is Result.ALLOWED, (partial, exact)
    elif partial.result in DENIED:
        assert exact.result in DENIED, (partial, exact)
    else:
        r = substitute(partial.residual, truth_in(full, s.resource, statement_index(policies)))
        if r is True:
            assert exact.result is Result.ALLOWED, (partial, exact)
        elif r is False:
            assert exact.result in DENIED, (partial, exact)
        else:
            assert exact.result is Result.UNKNOWN, (partial, exact, r)


# ---- (e) parsing is total, decisions are deterministic ------------------------------------------


@SETTINGS
@given(
    doc=documents(max_statements=5),
    rbp_doc=documents(principal=True),
    kind=st.sampled_from([PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.SCP]),
)
def test_parse_is_total_on_generated_documents(doc: dict[str, Any], rbp_doc: dict[str, Any], kind: PolicyKind) -> None:
    p = parse(doc, "p", kind)
    n = len(doc["Statement"]) if isinstance(doc["Statement"], list) else 1
    assert len(p.statements) == n and p.warnings == ()
    assert parse(doc, "p", kind) == p
    r = parse(rbp_doc, "r", PolicyKind.RESOURCE)
    assert all(stmt.principal is not None or stmt.not_principal is not None for stmt in r.statements)


@SETTINGS
@given(s=scenarios(), unknown=st.sampled_from([None, "*", ["aws:SourceIp", "aws:TagKeys"]]))
def test_decisions_are_deterministic(s: Scenario, unknown: Any) -> None:
    ctx = Context.build(full_values(s), unknown=unknown)
    first = decide(s, ctx)
    again_same_objects = evaluate(make_request(s, ctx), policy_set(s), OPTIONS)
    reparsed = decide(s, Context.build(full_values(s), unknown=unknown), policy_set(s))
    assert first == again_same_objects == reparsed
    assert first.to_json() == reparsed.to_json()
    if first.result in (Result.ALLOWED, *DENIED):
        assert first.residual is True
    else:
        assert first.residual not in (True, False)
