"""The decision procedure (spec §5, Appendix A), evaluated three-valued.

Every step is a boolean expression over statement applicabilities, so an unknown context key flows
through to a residual condition instead of a guess. Same-account and cross-account requests follow
the enforcement-logic page; trust policies and KMS key policies are the documented exceptions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace

from iamgraph.evaluation.decision import Decision, MatchedStatement, Result
from iamgraph.evaluation.patterns import best_of, pattern_parts
from iamgraph.evaluation.policyset import EngineOptions, PolicySet
from iamgraph.evaluation.principals import Form, match_block, not_principal_applies
from iamgraph.evaluation.request import IAM_KINDS, PrincipalKind, Request
from iamgraph.model._fast import fast_constructor
from iamgraph.model.policy import Effect, Policy, PolicyKind, Statement
from iamgraph.policy.conditions import evaluate_block
from iamgraph.policy.logic import Atom, Expr, atoms, conj, disj, neg
from iamgraph.policy.match import is_pattern
from iamgraph.policy.memo import memo
from iamgraph.policy.public import is_public

__all__ = ["evaluate"]

ASSUME_ACTIONS = frozenset(
    {
        "sts:assumerole",
        "sts:assumerolewithwebidentity",
        "sts:assumerolewithsaml",
        "sts:tagsession",
        "sts:setsourceidentity",
    }
)
NO_PERMISSION_NEEDED = frozenset({"sts:getcalleridentity"})
_LONG_TERM = frozenset({PrincipalKind.USER, PrincipalKind.ROOT})  # GetSessionToken callers (§5.9)
# tuples, not sets: ``in`` compares identities, where a set would hash the members (Python-level for enums)
DIRECT_FORMS = (Form.USER, Form.SESSION, Form.FEDERATED_USER, Form.SERVICE, Form.FEDERATED)
ROLEISH_FORMS = (Form.ROLE, Form.FEDERATING_USER)
ALL_FORMS = tuple(Form)
_NO_FORMS: frozenset[Form] = frozenset()
NON_ACCOUNT_FORMS = tuple(f for f in Form if f is not Form.ACCOUNT)
DEFAULT_OPTIONS = EngineOptions()
# Enum members as module constants: on Python 3.11 every ``Enum.MEMBER`` lookup goes through
# EnumType.__getattr__ (~0.3 µs), and the decision procedure reads a few dozen per request.
_ALLOW, _DENY = Effect.ALLOW, Effect.DENY
_RESOURCE, _TRUST = PolicyKind.RESOURCE, PolicyKind.TRUST
_ROOT, _USER, _ROLE_SESSION, _FEDERATED_USER, _SERVICE, _ANONYMOUS, _WEB_IDENTITY = (
    PrincipalKind.ROOT,
    PrincipalKind.USER,
    PrincipalKind.ROLE_SESSION,
    PrincipalKind.FEDERATED_USER,
    PrincipalKind.SERVICE,
    PrincipalKind.ANONYMOUS,
    PrincipalKind.WEB_IDENTITY,
)
_ALLOWED, _EXPLICITLY_DENIED, _IMPLICITLY_DENIED, _UNKNOWN, _CONDITIONAL = (
    Result.ALLOWED,
    Result.EXPLICITLY_DENIED,
    Result.IMPLICITLY_DENIED,
    Result.UNKNOWN,
    Result.CONDITIONAL,
)
_ACCOUNT, _WILDCARD = Form.ACCOUNT, Form.WILDCARD
_IAM_KINDS = tuple(IAM_KINDS)  # `in` on a tuple compares identities; a frozenset hashes (Python-level for enums)


class _Layer:
    """Applicability of the statements of one layer, split by effect (and by principal form)."""

    __slots__ = ("allows", "denies", "grants")

    def __init__(self) -> None:
        self.allows: list[Expr] = []
        self.denies: list[Expr] = []
        self.grants: dict[Form, list[tuple[Expr, Statement]]] = {}

    def allow(self) -> Expr:
        return disj(self.allows)

    def deny(self) -> Expr:
        return disj(self.denies)


class _Run:
    """One evaluation: statement results, matched statements, warnings."""

    def __init__(self, request: Request, options: EngineOptions) -> None:
        self.req = request
        self.options = options
        self.p = request.principal
        self.lookup = request.context.lookup
        self.matched: list[MatchedStatement] = []
        self.deny_layers: dict[str, list[Expr]] = {}
        self.flags: list[str] = []

    def layer(self, policies: Iterable[Policy], name: str, level: str | None = None) -> _Layer:
        out = _Layer()
        action = self.req.action
        flag = self.options.flag_unknown_actions
        for policy in policies:
            for st in policy.statements:
                matcher = st.action_matcher
                hit = matcher.answers.get(action)  # the answer kept by matches(), without the call
                if not (matcher.matches(action) if hit is None else hit):
                    continue
                expr, forms = self.statement(st, policy)
                if expr is False:
                    continue
                ref = st.ref
                self.matched.append(
                    _new_matched(ref=ref, conditional=expr is not True, forms=_sorted_forms(forms), level=level)
                )
                if flag and not st.not_action:
                    unknown = _unknown_action_names(st.actions)
                    if unknown:
                        self.flags.extend(_unknown_messages(unknown, f"{policy.name}/{ref.label}: "))
                if ref.effect is _DENY:
                    out.denies.append(expr)
                    self.deny_layers.setdefault(name, []).append(expr)
                else:
                    out.allows.append(expr)
                    for f in forms:
                        out.grants.setdefault(f, []).append((expr, st))
        return out

    def statement(self, st: Statement, policy: Policy) -> tuple[Expr, frozenset[Form]]:
        """Applicability of a statement whose Action element already matched."""
        forms: frozenset[Form] = _NO_FORMS
        parts: list[Expr] = []
        if st.principal is not None:
            forms = match_block(st.principal, self.p)
            if not forms:
                return False, forms
        elif st.not_principal is not None:
            np = not_principal_applies(st.not_principal, self.p, st.ref)
            if np is False:
                return False, forms
            parts.append(np)
        elif policy.kind is _RESOURCE or policy.kind is _TRUST:
            return False, forms  # parse rejects this; never let a principal-less RBP grant
        if st.resource_matcher is not None:
            r = st.resource_matcher.match(self.req.resource, self.lookup, deny=st.ref.effect is _DENY)
            if r.ambiguous:
                reason = f'Resource "{r.ambiguous[0]}" has fewer than six ARN segments; AWS does not document it'
                parts.append(Atom(source=st.ref, clause=None, reason=reason, undecidable=True))
            elif r.case_only is not None:
                reason = f'Deny Resource "{r.case_only}" differs from the request only by letter case (errata 10)'
                parts.append(Atom(source=st.ref, clause=None, reason=reason, undecidable=True))
            elif r.unknown_keys:
                parts.append(
                    Atom(source=st.ref, clause=None, reason=f"Resource uses ${{{r.unknown_keys[0]}}}, not known")
                )
            elif not r.matched:
                return False, forms
        if st.conditions:
            block = evaluate_block(st.conditions, self.lookup, variables=policy.variables_enabled, source=st.ref)
            if block is False:
                return False, forms
            parts.append(block)
        return (conj(parts) if parts else True), forms


_new_matched = fast_constructor(MatchedStatement)
_new_decision = fast_constructor(Decision)


def _sorted_forms(forms: frozenset[Form]) -> tuple[str, ...]:
    return tuple(sorted(forms)) if forms else ()


def evaluate(request: Request, policies: PolicySet, options: EngineOptions = DEFAULT_OPTIONS) -> Decision:
    """Decide one request against the policies of every layer.

    A pattern request (a resource with wildcards) is split into the parts its grants name (patterns.py).
    """
    if is_pattern(request.resource):
        parts = pattern_parts(request, policies)
        if parts != (request.resource,):
            return best_of([_evaluate(replace(request, resource=part), policies, options) for part in parts])
    return _evaluate(request, policies, options)


def _evaluate(request: Request, policies: PolicySet, options: EngineOptions) -> Decision:
    p = request.principal
    action = request.action.lower()
    warnings = _policy_warnings(policies)
    if action in NO_PERMISSION_NEEDED or (action == "sts:getsessiontoken" and p.kind in _LONG_TERM):
        return Decision(
            result=_ALLOWED,
            warnings=tuple(warnings),
            notes=(f"{request.action} needs no permission and ignores explicit denies",),
        )
    restriction = _credential_restriction(p.kind, action)
    if restriction:
        return Decision(
            result=_IMPLICITLY_DENIED, blocked_by=("credential",), warnings=tuple(warnings), notes=(restriction,)
        )
    run = _Run(request, options)
    principal_policies = p.kind in (_USER, _ROLE_SESSION, _FEDERATED_USER)
    ident = run.layer(policies.identity if principal_policies else (), "identity")
    bounds = [run.layer((b,), "boundary") for b in (policies.boundaries if principal_policies else ())]
    session_pols = policies.session if p.kind in (_ROLE_SESSION, _FEDERATED_USER) else None
    sess = run.layer(session_pols, "session") if session_pols is not None else None
    rbp = run.layer((policies.resource,), "resource") if policies.resource is not None else _Layer()
    scp_gate: Expr = True
    if policies.scps and p.kind in _IAM_KINDS and not p.service_linked:
        # every level is evaluated (a list, not a generator): conj stops early, and a Deny further down must count
        scp_gate = conj([run.layer(level.policies, "scp", level.name).allow() for level in policies.scps])
    if policies.rcps and _rcp_applies(request, options):
        for level in policies.rcps:
            run.layer(level.policies, "rcp", level.name)  # RCPFullAWSAccess sits at every level: RCPs only deny
    vpce_gate = conj([run.layer((v,), "vpce").allow() for v in policies.vpce]) if policies.vpce else True
    if policies.s3_restrict_public_buckets and _public_bucket_blocks(request, policies.resource):
        run.deny_layers.setdefault("s3-bpa", []).append(True)

    deny = disj(e for exprs in run.deny_layers.values() for e in exprs) if run.deny_layers else False
    pb_ok: Expr = conj(b.allow() for b in bounds) if bounds else True
    if p.kind is _FEDERATED_USER:
        sp_ok: Expr = sess.allow() if sess is not None else False
    else:
        sp_ok = sess.allow() if sess is not None else True
    id_ok: Expr = True if p.kind is _ROOT else ident.allow()
    if p.kind in (_SERVICE, _ANONYMOUS, _WEB_IDENTITY):
        id_ok, pb_ok, sp_ok = True, True, True  # only the resource policy can authorize them (§5.9)

    def side(need_identity: bool) -> Expr:
        return conj([id_ok if need_identity else True, pb_ok, sp_ok])

    def grants(forms: Collection[Form]) -> Expr:
        if not rbp.grants:
            return False
        # walk the few forms that granted rather than look every form up: a Form hashes in Python
        return disj([e for f, pairs in rbp.grants.items() if f in forms for e, _ in pairs])

    same = p.account is not None and p.account == request.resource_account
    service = action.split(":", 1)[0]
    trust = action in ASSUME_ACTIONS and ":role/" in request.resource
    kms = service == "kms" and ":key/" in request.resource
    rbp_required = trust or kms or service in options.rbp_required_services
    any_grant = grants(ALL_FORMS)

    if same and not trust and not rbp_required and not rbp.grants:
        # The same-account branch below when no resource policy grants anything (most requests): direct
        # and role grants fold to False, so only the identity side is left.
        base = side(True)
        components = {"identity": id_ok, "boundary": pb_ok, "session": sp_ok}
    elif not same:
        base = conj([any_grant, side(True)])
        components = {"resource": any_grant, "identity": id_ok, "boundary": pb_ok, "session": sp_ok}
    elif trust:
        specific = grants(NON_ACCOUNT_FORMS)
        base = disj([conj([specific, side(False)]), conj([grants((_ACCOUNT,)), side(True)])])
        components = {"resource": any_grant, "boundary": pb_ok, "session": sp_ok}
        if specific is False:
            components["identity"] = id_ok
    else:
        wildcard = _wildcard_grants(rbp, pb_ok, sp_ok, p.kind)
        direct = disj([grants(DIRECT_FORMS), wildcard])
        roleish = conj([grants(ROLEISH_FORMS), side(False)])
        via_identity = conj([grants((_ACCOUNT,)), side(True)]) if rbp_required else side(True)
        base = disj([direct, roleish, via_identity])
        components = {"boundary": pb_ok, "session": sp_ok}
        if direct is False and grants(ROLEISH_FORMS) is False:
            components = {"identity": id_ok, **components}
        if rbp_required:
            components = {"resource": any_grant, **components}

    allowed = conj([neg(deny), scp_gate, vpce_gate, base])
    return _decide(run, deny, allowed, {"scp": scp_gate, "vpce": vpce_gate, **components}, warnings, request, options)


def _policy_warnings(policies: PolicySet) -> list[str]:
    return [w for pol in policies.all_policies() if pol.warnings for w in pol.warnings]


def _wildcard_grants(rbp: _Layer, pb_ok: Expr, sp_ok: Expr, kind: PrincipalKind) -> Expr:
    """Same-account ``Principal: "*"`` grants (errata 3).

    With an ``aws:PrincipalArn`` condition they are not limited by boundary or session policy. Plain
    ``*`` is not limited by an identity implicit deny; whether a boundary or session policy limits it is
    undocumented, so the result is undecidable exactly when they would deny.
    """
    terms: list[Expr] = []
    for expr, st in rbp.grants.get(_WILDCARD, ()):
        if any(
            c.key_lc == "aws:principalarn" and not c.base.startswith(("StringNot", "ArnNot")) for c in st.conditions
        ):
            terms.append(expr)
            continue
        limits = conj([pb_ok, sp_ok])
        if kind is _FEDERATED_USER or limits is not True:
            gap = Atom(
                source=st.ref,
                clause=None,
                undecidable=True,
                reason='a plain "*" resource-policy grant meets a boundary or session policy (undocumented)',
            )
            limits = disj([limits, gap]) if kind is not _FEDERATED_USER else gap
        terms.append(conj([expr, limits]))
    return disj(terms)


def _public_bucket_blocks(request: Request, bucket_policy: Policy | None) -> bool:
    """S3 Block Public Access, RestrictPublicBuckets ("Blocking public access to your Amazon S3 storage"):
    when the bucket policy is public, only AWS service principals and principals of the bucket owner's
    account keep access; every other request is blocked, whatever grants it (an override, like a deny)."""
    if bucket_policy is None or not request.action.lower().startswith("s3:"):
        return False
    p = request.principal
    if p.kind is _SERVICE or (p.account is not None and p.account == request.resource_account):
        return False
    return is_public(bucket_policy)[0]


def _rcp_applies(request: Request, options: EngineOptions) -> bool:
    p = request.principal
    if p.service_linked:
        return False
    action = request.action.lower()
    if action == "kms:retiregrant":
        return False
    services = options.rcp_services
    if services is None:
        from iamgraph.catalog import get_catalog

        services = get_catalog().rcp_supported_services()
    return action.split(":", 1)[0] in services


def _credential_restriction(kind: PrincipalKind, action: str) -> str | None:
    if kind is _FEDERATED_USER and (action.startswith("iam:") or action.startswith("sts:")):
        return "GetFederationToken sessions cannot call IAM, nor STS except GetCallerIdentity"
    if kind is _ROLE_SESSION and action in ("sts:getfederationtoken", "sts:getsessiontoken"):
        return "role sessions cannot call GetFederationToken or GetSessionToken"
    return None


def _decide(
    run: _Run,
    deny: Expr,
    allowed: Expr,
    components: dict[str, Expr],
    warnings: list[str],
    request: Request,
    options: EngineOptions,
) -> Decision:
    matched = tuple(run.matched)
    if options.flag_unknown_actions:
        unknown = _unknown_action_names((request.action,))
        if unknown or run.flags:
            warnings = [*warnings, *_unknown_messages(unknown, "request: "), *run.flags]
    unique = tuple(dict.fromkeys(warnings)) if warnings else ()
    if deny is True:
        layers = tuple(n for n, exprs in run.deny_layers.items() if any(e is True for e in exprs))
        return _new_decision(result=_EXPLICITLY_DENIED, blocked_by=layers, matched=matched, warnings=unique)
    if allowed is True:
        return _new_decision(result=_ALLOWED, matched=matched, warnings=unique)
    if allowed is False:
        blocked = tuple(n for n, e in components.items() if e is False)
        return _new_decision(
            result=_IMPLICITLY_DENIED, blocked_by=blocked or ("identity",), matched=matched, warnings=unique
        )
    undecidable = any(a.undecidable for a in atoms(allowed))
    result = _UNKNOWN if undecidable else _CONDITIONAL
    return _new_decision(result=result, residual=allowed, matched=matched, warnings=unique)


def _unknown_messages(patterns: tuple[str, ...], label: str) -> list[str]:
    return [f'{label}unknown action "{p}" (not in the AWS action catalogue)' for p in patterns]


@memo()
def _unknown_action_names(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """The actions and action patterns that name nothing in the AWS action catalogue (flagged, never fatal)."""
    from iamgraph.catalog import get_catalog

    cat = get_catalog()
    out = []
    for pattern in patterns:
        if pattern == "*":
            continue
        try:
            known = (
                cat.is_known_action(pattern) if "*" not in pattern and "?" not in pattern else bool(cat.expand(pattern))
            )
        except Exception:  # the catalogue is advisory here; never fail a decision on it
            continue
        if not known:
            out.append(pattern)
    return tuple(out)
