"""Small builders shared by the policy-language unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from iamgraph.evaluation.context import Context
from iamgraph.model.policy import Policy, PolicyKind
from iamgraph.policy.conditions import evaluate_block
from iamgraph.policy.logic import Atom, Expr

V2012 = "2012-10-17"
V2008 = "2008-10-17"


def policy(
    statements: Any,
    *,
    kind: PolicyKind = PolicyKind.IDENTITY,
    name: str = "test-policy",
    version: str | None = V2012,
) -> Policy:
    from iamgraph.policy.parse import parse_policy

    doc: dict[str, Any] = {"Statement": statements}
    if version is not None:
        doc["Version"] = version
    return parse_policy(doc, name=name, kind=kind)


def cond(
    condition: Mapping[str, Any],
    context: Mapping[str, object] | None = None,
    *,
    unknown: Iterable[str] | str | None = None,
    known: Iterable[str] | str | None = None,
    version: str | None = V2012,
) -> Expr:
    """Truth of a whole Condition block against a context (True, False or a residual)."""
    p = policy({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": dict(condition)}, version=version)
    st = p.statements[0]
    ctx = Context.build(context or {}, unknown=unknown, known=known)
    return evaluate_block(st.conditions, ctx.lookup, variables=p.variables_enabled, source=st.ref)


def one(operator: str, key: str, values: Any, context: Mapping[str, object] | None = None, **kw: Any) -> Expr:
    """Truth of a single operator/key pair."""
    return cond({operator: {key: values}}, context, **kw)


def is_gap(x: Expr) -> bool:
    """An undecidable atom: AWS documentation leaves the outcome open (reported as Unknown)."""
    return isinstance(x, Atom) and x.undecidable


def is_open(x: Expr) -> bool:
    """An atom over an unknown key (partial evaluation), not a documentation gap."""
    return isinstance(x, Atom) and not x.undecidable
