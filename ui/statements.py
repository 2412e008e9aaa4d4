"""The text of the statements a proof names: (layer, policy, index) -> the statement as written in the snapshot.

Proofs carry references only (docs/cli.md, "hop"); the UI shows the statement itself next to them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from iamgraph.graph.queries import Analysis
from iamgraph.model.policy import Policy

__all__ = ["StatementIndex", "proof_refs", "statement_index"]

Ref = tuple[str, str, int]  # layer, policy name, statement index


@dataclass(frozen=True, slots=True)
class StatementIndex:
    """Every parsed policy of an analysed snapshot by (layer, name)."""

    policies: dict[tuple[str, str], Policy]

    @classmethod
    def of(cls, analysis: Analysis) -> StatementIndex:
        found: dict[tuple[str, str], Policy] = {}

        def add(policies: Iterable[Policy]) -> None:
            for p in policies:
                found.setdefault((p.kind.value, p.name), p)

        estate = analysis.estate
        for principal in estate.principals.values():
            add(principal.identity)
            add(principal.boundaries)
            for level in principal.scps:
                add(level.policies)
        for resource in estate.resources.values():
            if resource.policy is not None:
                add([resource.policy])
            for level in resource.rcps:
                add(level.policies)
        return cls(found)

    def entry(self, layer: str, policy: str, index: int) -> dict[str, Any]:
        """The reference with the statement's JSON as written (``statement`` is None when not in the snapshot)."""
        p = self.policies.get((layer, policy))
        st = p.statements[index] if p is not None and 0 <= index < len(p.statements) else None
        return {
            "layer": layer,
            "policy": policy,
            "index": index,
            "sid": st.sid if st is not None else None,
            "effect": st.effect.value if st is not None else None,
            "statement": st.raw if st is not None else None,
        }

    def entries(self, refs: Iterable[Ref]) -> list[dict[str, Any]]:
        return [self.entry(*ref) for ref in dict.fromkeys(refs)]


def proof_refs(value: Any) -> Iterator[Ref]:
    """Every statement reference inside a JSON value: proof items and the ``source`` of residual conditions."""
    if isinstance(value, dict):
        layer, policy, index = value.get("layer"), value.get("policy"), value.get("index")
        if isinstance(layer, str) and isinstance(policy, str) and isinstance(index, int):
            yield (layer, policy, index)
        for v in value.values():
            yield from proof_refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from proof_refs(v)


_lock = threading.Lock()
_cache: list[tuple[Analysis, StatementIndex]] = []


def statement_index(analysis: Analysis, *, keep: int = 4) -> StatementIndex:
    """The index of an analysis, built once and kept for the last few analyses used (the API's snapshots)."""
    with _lock:
        for cached, index in _cache:
            if cached is analysis:
                return index
    index = StatementIndex.of(analysis)
    with _lock:
        _cache.insert(0, (analysis, index))
        del _cache[keep:]
    return index
