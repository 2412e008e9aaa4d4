"""Shrink a disagreeing decision document to a minimal one that still disagrees the same way.

Greedy delta debugging over the document's structure: drop policies, levels, statements, condition
operators/keys/values, list entries and context keys, one at a time, keeping a change whenever both
engines still give the same (ours, oracle) pair. The request itself is never changed, and a policy the
resource always carries (role trust policy, KMS key policy) is never dropped, only shrunk.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["minimize"]

Doc = dict[str, Any]
Outcome = tuple[str, str]
Check = Callable[[Doc], Outcome]


def _statements(policy: Any) -> list[dict[str, Any]]:
    st = policy.get("Statement") if isinstance(policy, dict) else None
    if st is None:
        return []
    return st if isinstance(st, list) else [st]


def _policies(doc: Doc) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(path, policy) for every policy of the document."""
    for i, p in enumerate(doc.get("identityPolicies") or []):
        yield ("identityPolicies", i), p
    for i, p in enumerate(doc.get("permissionBoundaries") or []):
        yield ("permissionBoundaries", i), p
    if isinstance(doc.get("sessionPolicy"), dict):
        yield ("sessionPolicy",), doc["sessionPolicy"]
    if isinstance(doc.get("resourcePolicy"), dict):
        yield ("resourcePolicy",), doc["resourcePolicy"]
    for layer in ("scps", "rcps"):
        for li, level in enumerate(doc.get(layer) or []):
            for pi, p in enumerate(level["policies"]):
                yield (layer, li, "policies", pi), p


def _get(doc: Doc, path: tuple[Any, ...]) -> Any:
    cur: Any = doc
    for p in path:
        cur = cur[p]
    return cur


def _edits(doc: Doc, keep_rbp: bool) -> Iterator[Callable[[Doc], None]]:
    """Candidate reductions, coarse first; each mutates a deep copy of ``doc``."""
    for key in ("permissionBoundaries", "sessionPolicy") + (() if keep_rbp else ("resourcePolicy",)):
        if doc.get(key):
            yield lambda d, k=key: d.pop(k, None)
    for key in ("scps", "rcps"):
        if doc.get(key):
            yield lambda d, k=key: d.__setitem__(k, [])
            for li in range(len(doc[key])):
                yield lambda d, k=key, i=li: d[k].pop(i)
                for pi in range(len(doc[key][li]["policies"])):
                    if len(doc[key][li]["policies"]) > 1:
                        yield lambda d, k=key, i=li, j=pi: d[k][i]["policies"].pop(j)
    for i in range(len(doc.get("identityPolicies") or [])):
        yield lambda d, i=i: d["identityPolicies"].pop(i)
    for path, policy in _policies(doc):
        sts = _statements(policy)
        if len(sts) > 1:
            for si in range(len(sts)):
                yield lambda d, p=path, s=si: _set_statements(
                    d, p, [x for j, x in enumerate(_statements(_get(d, p))) if j != s]
                )
        for si, st in enumerate(sts):
            yield from _statement_edits(path, si, st)
    for key in list((doc.get("request") or {}).get("context") or {}):
        yield lambda d, k=key: d["request"]["context"].pop(k)


def _set_statements(d: Doc, path: tuple[Any, ...], sts: list[dict[str, Any]]) -> None:
    _get(d, path)["Statement"] = sts


def _st(d: Doc, path: tuple[Any, ...], si: int) -> dict[str, Any]:
    policy = _get(d, path)
    if not isinstance(policy["Statement"], list):
        policy["Statement"] = [policy["Statement"]]
    return policy["Statement"][si]  # type: ignore[no-any-return]


def _statement_edits(path: tuple[Any, ...], si: int, st: dict[str, Any]) -> Iterator[Callable[[Doc], None]]:
    if "Sid" in st:
        yield lambda d: _st(d, path, si).pop("Sid")
    cond = st.get("Condition") or {}
    if cond:
        yield lambda d: _st(d, path, si).pop("Condition")
    for op, keys in cond.items():
        if len(cond) > 1:
            yield lambda d, o=op: _st(d, path, si)["Condition"].pop(o)
        for key, values in keys.items():
            if len(keys) > 1:
                yield lambda d, o=op, k=key: _st(d, path, si)["Condition"][o].pop(k)
            if isinstance(values, list) and len(values) > 1:
                for v in values:
                    yield lambda d, o=op, k=key, v=v: _st(d, path, si)["Condition"][o].__setitem__(k, v)
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        value = st.get(element)
        if isinstance(value, list) and len(value) > 1:
            for v in value:
                yield lambda d, e=element, v=v: _st(d, path, si).__setitem__(e, v)
    for element in ("Principal", "NotPrincipal"):
        value = st.get(element)
        if isinstance(value, dict):
            for t, entries in value.items():
                if isinstance(entries, list) and len(entries) > 1:
                    for v in entries:
                        yield lambda d, e=element, t=t, v=v: _st(d, path, si)[e].__setitem__(t, v)
            if len(value) > 1:
                for t in value:
                    yield lambda d, e=element, t=t: _st(d, path, si)[e].pop(t)


def minimize(doc: Doc, check: Check, *, keep_rbp: bool, max_checks: int = 2000) -> tuple[Doc, int]:
    """The smallest document found with ``check(doc)`` unchanged; also the number of checks made."""
    target = check(doc)
    current = copy.deepcopy(doc)
    checks = 0
    progress = True
    while progress and checks < max_checks:
        progress = False
        for edit in _edits(current, keep_rbp):
            candidate = copy.deepcopy(current)
            try:
                edit(candidate)
            except (KeyError, IndexError, TypeError):
                continue
            checks += 1
            if check(candidate) == target:
                current = candidate
                progress = True
                break
            if checks >= max_checks:
                break
    return current, checks
