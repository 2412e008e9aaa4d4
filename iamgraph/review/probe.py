"""Asking the evaluator the questions a review has, instead of reading policy text.

* :func:`resolve_keys`: a decision's residual conditions with some request keys given a value or known to
  be absent (no MFA; no ExternalId; a token whose ``sub`` is an unrelated value). The condition operators
  of the policy engine decide, so ``BoolIfExists``, ``Null`` and set qualifiers mean what they mean to AWS.
* :func:`evaluate_outsider`: an outside principal (another account, anyone) against a resource's policy
  and RCPs, for the resource itself or for one of its sub-resources that has no entry of its own (the
  objects of a bucket, evaluated with their bucket's account, organization and tags). The estate's
  ``evaluate`` only knows entries; this mirrors it for the one case it lacks, and honours the bucket's
  S3 Block Public Access ``RestrictPublicBuckets`` setting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from iamgraph.evaluation.context import Context, KeyPatterns
from iamgraph.evaluation.decision import Decision
from iamgraph.evaluation.engine import evaluate
from iamgraph.evaluation.keys import PRINCIPAL_KEY_PATTERNS, principal_keys
from iamgraph.evaluation.policyset import PolicySet
from iamgraph.evaluation.request import Principal, Request
from iamgraph.graph.estate import Estate, ResourceEntry
from iamgraph.graph.outside import ALLOW_ALL
from iamgraph.policy.conditions import evaluate_clause
from iamgraph.policy.logic import Atom, Expr, substitute

__all__ = ["evaluate_outsider", "resolve_keys", "restricts_public_buckets"]

# Keys fixed by the resource entry, as in the estate; a sub-resource (an object) takes its entry's values.
_KNOWN = KeyPatterns.of(
    [*PRINCIPAL_KEY_PATTERNS, "aws:resourcetag/*", "aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths"]
)


def resolve_keys(conditions: Expr, *, values: Mapping[str, str] | None = None, absent: Iterable[str] = ()) -> Expr:
    """``conditions`` with the atoms on the named keys decided: keys in ``values`` have that value, keys
    in ``absent`` are missing from the request. Atoms on other keys stay open."""
    given = {k.lower(): v for k, v in (values or {}).items()}
    missing = {k.lower() for k in absent} - set(given)
    if isinstance(conditions, bool) or not (given or missing):
        return conditions
    ctx = Context.build(given, unknown="*", known=sorted(missing))
    targets = set(given) | missing

    def decide(atom: Atom) -> Expr:
        if atom.clause is None or atom.undecidable or atom.clause.key_lc not in targets:
            return atom
        result = evaluate_clause(atom.clause, ctx.lookup, variables=True, source=atom.source)
        return atom if isinstance(result, Atom) else result

    return substitute(conditions, decide)


def restricts_public_buckets(entry: ResourceEntry) -> bool:
    """S3 Block Public Access ``RestrictPublicBuckets`` as recorded in resources.json properties."""
    if entry.resource is None or entry.type != "AWS::S3::Bucket":
        return False
    block = entry.resource.properties.get("PublicAccessBlockConfiguration")
    return isinstance(block, Mapping) and block.get("RestrictPublicBuckets") is True


def evaluate_outsider(
    estate: Estate, principal: Principal, action: str, resource: str, entry: ResourceEntry
) -> Decision:
    """May an outside principal (its own account's policies assumed to allow) do ``action`` on ``resource``,
    a resource governed by ``entry``'s resource policy and RCPs? Request-time keys stay residual."""
    values: dict[str, object] = dict(principal_keys(principal, None))
    values["aws:ResourceAccount"] = entry.account
    org = estate.snapshot.organization
    member = org.accounts.get(entry.account) if org is not None else None
    if org is not None and member is not None and org.id:
        values["aws:ResourceOrgID"] = org.id
        values["aws:ResourceOrgPaths"] = [f"{org.id}/{'/'.join(member.path[:-1])}/"]
    for k, v in entry.tags.items():
        values[f"aws:ResourceTag/{k}"] = v
    ctx = Context.build(values, unknown="*")
    policies = PolicySet(
        identity=(ALLOW_ALL,),
        resource=entry.policy,
        rcps=entry.rcps,
        s3_restrict_public_buckets=restricts_public_buckets(entry),
    )
    request = Request(
        principal=principal,
        action=action,
        resource=resource,
        resource_account=entry.account,
        context=Context(ctx.values, ctx.unknown, _KNOWN),
    )
    return evaluate(request, policies)
