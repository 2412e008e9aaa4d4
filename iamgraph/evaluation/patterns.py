"""Pattern requests: a request resource with wildcards asks whether *some* matching resource is allowed.

Statements match a pattern request by overlap (Allow) or cover (Deny), one statement at a time
(iamgraph.policy.match). Evaluated against the whole request pattern, an Allow for a narrower pattern
would then meet only the denies and gates that cover the *whole* request: an Allow for
``bucket/public/secret/*`` under a Deny for ``bucket/public/*`` would still count for ``bucket/*``,
although every resource it grants is denied. So the request is split into the parts that the granting
statements (identity and resource policies) name inside it, every part is evaluated on its own, and
the best outcome wins: some part allowed -> Allowed; otherwise the parts that may be allowed give a
combined residual; otherwise denied (explicitly only when every part is explicitly denied).

Gates (boundaries, session policies, SCPs, VPC endpoint policies) still combine by overlap within one
part; that is exact when each part is named by one statement, approximate for partial overlaps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from iamgraph.evaluation.decision import Decision, MatchedStatement, Result
from iamgraph.evaluation.policyset import PolicySet
from iamgraph.evaluation.principals import match_block
from iamgraph.evaluation.request import PrincipalKind, Request
from iamgraph.model.policy import Effect, Statement
from iamgraph.policy.logic import atoms, disj
from iamgraph.policy.match import part_named

# enum members read once: reading one off its class costs about 0.1 us (see evaluation.decision)
_R_ALLOWED, _R_CONDITIONAL, _R_UNKNOWN, _R_EXPLICITLY_DENIED, _ALLOW, _P_ROOT = (
    Result.ALLOWED,
    Result.CONDITIONAL,
    Result.UNKNOWN,
    Result.EXPLICITLY_DENIED,
    Effect.ALLOW,
    PrincipalKind.ROOT,
)

__all__ = ["best_of", "pattern_parts"]


def pattern_parts(request: Request, policies: PolicySet) -> tuple[str, ...]:
    """The resource patterns to evaluate for a pattern request (the request itself if nothing narrower)."""
    whole = request.resource
    parts: dict[str, None] = {}
    if request.principal.kind is _P_ROOT:
        parts[whole] = None  # the root user needs no identity grant
    granting = (*policies.identity, *((policies.resource,) if policies.resource is not None else ()))
    for policy in granting:
        for st in policy.statements:
            if st.ref.effect is not _ALLOW or not st.action_matcher.matches(request.action):
                continue
            if st.principal is not None and not match_block(st.principal, request.principal):
                continue
            for part in _parts(st, whole, policy.variables_enabled):
                parts[part] = None
    return tuple(parts) or (whole,)


def _parts(st: Statement, whole: str, variables: bool) -> Iterator[str]:
    if st.resources is None or st.not_resource:
        yield whole
        return
    for pattern in st.resources:
        if variables and "${" in pattern:
            yield whole
            continue
        part = part_named(pattern, whole)
        if part is not None:
            yield part


def best_of(decisions: Sequence[Decision]) -> Decision:
    """Combine the decisions of the parts of one pattern request."""
    for d in decisions:
        if d.result is _R_ALLOWED:
            return d
    warnings = tuple(dict.fromkeys(w for d in decisions for w in d.warnings))
    notes = tuple(dict.fromkeys(n for d in decisions for n in d.notes))
    open_ = [d for d in decisions if d.result in (_R_CONDITIONAL, _R_UNKNOWN)]
    if open_:
        residual = disj(d.residual for d in open_)
        undecidable = any(a.undecidable for a in atoms(residual))
        return Decision(
            result=_R_UNKNOWN if undecidable else _R_CONDITIONAL,
            residual=residual,
            matched=_merged(open_),
            warnings=warnings,
            notes=notes,
        )
    explicit = [d for d in decisions if d.result is _R_EXPLICITLY_DENIED]
    implicit = [d for d in decisions if d.result is not _R_EXPLICITLY_DENIED]
    chosen = implicit or explicit
    return Decision(
        result=chosen[0].result,
        blocked_by=tuple(dict.fromkeys(b for d in chosen for b in d.blocked_by)),
        matched=_merged(chosen),
        warnings=warnings,
        notes=notes,
    )


def _merged(decisions: Sequence[Decision]) -> tuple[MatchedStatement, ...]:
    return tuple(dict.fromkeys(m for d in decisions for m in d.matched))
