"""The operator registry: base operator name (any case) -> OperatorSpec."""

from __future__ import annotations

from iamgraph.policy.conditions import arn, binary, boolean, date, ip, numeric, string
from iamgraph.policy.conditions.base import MatchFn, OperatorSpec

__all__ = ["NULL", "REGISTRY", "lookup_operator"]

NULL = "Null"


def _pair(positive: str, negative: str | None, family: str, match: MatchFn, variables: bool) -> list[OperatorSpec]:
    specs = [OperatorSpec(name=positive, family=family, negated=False, variables=variables, match=match)]
    if negative:
        specs.append(OperatorSpec(name=negative, family=family, negated=True, variables=variables, match=match))
    return specs


def _build() -> dict[str, OperatorSpec]:
    specs: list[OperatorSpec] = [
        *_pair("StringEquals", "StringNotEquals", "String", string.equals, True),
        *_pair("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "String", string.equals_ignore_case, True),
        *_pair("StringLike", "StringNotLike", "String", string.like, True),
        *_pair("NumericEquals", "NumericNotEquals", "Numeric", numeric.comparison(numeric.EQ), False),
        *_pair("NumericLessThan", None, "Numeric", numeric.comparison(numeric.LT), False),
        *_pair("NumericLessThanEquals", None, "Numeric", numeric.comparison(numeric.LE), False),
        *_pair("NumericGreaterThan", None, "Numeric", numeric.comparison(numeric.GT), False),
        *_pair("NumericGreaterThanEquals", None, "Numeric", numeric.comparison(numeric.GE), False),
        *_pair("DateEquals", "DateNotEquals", "Date", date.comparison(numeric.EQ), False),
        *_pair("DateLessThan", None, "Date", date.comparison(numeric.LT), False),
        *_pair("DateLessThanEquals", None, "Date", date.comparison(numeric.LE), False),
        *_pair("DateGreaterThan", None, "Date", date.comparison(numeric.GT), False),
        *_pair("DateGreaterThanEquals", None, "Date", date.comparison(numeric.GE), False),
        # Variables with Bool: the operators page allows them, the variables page does not (C4): accept.
        *_pair("Bool", None, "Bool", boolean.equals, True),
        *_pair("BinaryEquals", None, "Binary", binary.equals, False),
        *_pair("IpAddress", "NotIpAddress", "IpAddress", ip.in_range, False),
        *_pair("ArnEquals", "ArnNotEquals", "Arn", arn.like, True),
        *_pair("ArnLike", "ArnNotLike", "Arn", arn.like, True),
    ]
    return {s.name.lower(): s for s in specs}


REGISTRY: dict[str, OperatorSpec] = _build()


def lookup_operator(base: str) -> OperatorSpec | None:
    """The spec of a base operator (without ForAllValues:/ForAnyValue: and IfExists); Null is separate."""
    return REGISTRY.get(base.lower())
