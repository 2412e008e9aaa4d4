"""ArnEquals / ArnLike (identical): six colon-separated components globbed one by one.

A wildcard never spans the colon between components; the sixth component keeps any further colons.
If either side has fewer than six components there is no match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from iamgraph.policy.conditions.base import PolicyValue, any_match
from iamgraph.policy.memo import memo
from iamgraph.policy.variables import Lit, Resolved, to_regex

__all__ = ["like"]


def _split_parts(parts: Resolved) -> list[Resolved] | None:
    """Split resolved parts into six components at the first five colons."""
    chars = [(c, not isinstance(p, Lit)) for p in parts for c in (p.text if isinstance(p, Lit) else p)]
    comps: list[list[tuple[str, bool]]] = [[]]
    for c, raw in chars:
        if c == ":" and len(comps) < 6:
            comps.append([])
        else:
            comps[-1].append((c, raw))
    if len(comps) != 6:
        return None
    return [tuple(ch if raw else Lit(ch) for ch, raw in comp) for comp in comps]


@memo(maxsize=65536)
def _compiled(parts: Resolved) -> tuple[re.Pattern[str], ...] | None:
    comps = _split_parts(parts)
    if comps is None:
        return None
    return tuple(re.compile(to_regex(c), re.DOTALL) for c in comps)


def _one(value: str, policy: Resolved) -> bool:
    regexes = _compiled(policy)
    if regexes is None:
        return False
    comps = value.split(":", 5)
    if len(comps) != 6:
        return False
    return all(r.fullmatch(c) is not None for r, c in zip(regexes, comps, strict=True))


def like(value: str, values: Sequence[PolicyValue]) -> bool | None:
    return any_match(value, values, _one)
