"""diff OLD NEW: what changed between two snapshots — edges, admins and escalation paths."""

from __future__ import annotations

from typing import Any

from iamgraph.edges.base import DerivedEdge
from iamgraph.errors import InputError
from iamgraph.graph.ondemand import ON_DEMAND_NOTE
from iamgraph.graph.queries.base import Analysis
from iamgraph.graph.queries.budget import Deadline
from iamgraph.graph.queries.privesc import privesc
from iamgraph.graph.queries.whatif import WhatIf

__all__ = ["diff"]


def _key(e: DerivedEdge) -> tuple[str, str, str, str, bool]:
    return (e.source, e.target, e.kind.value, e.technique, e.conditional)


def _edge_item(e: DerivedEdge) -> dict[str, Any]:
    out = e.to_json()
    out["conditional"] = e.conditional
    return out


def diff(
    old: Analysis, new: Analysis, *, whatif: WhatIf | None = None, deadline: Deadline | None = None
) -> dict[str, Any]:
    on_demand = (old.graph.on_demand is not None, new.graph.on_demand is not None)
    if on_demand[0] != on_demand[1]:  # one side without the principals' access edges: all would look lost
        raise InputError(
            "one graph was built with resource access on demand and the other was not: build both the same way",
            element="--resource-access",
        )
    before = {_key(e): e for e in old.graph.edges()}
    after = {_key(e): e for e in new.graph.edges()}
    changed_actions = [
        {
            "edge": _edge_item(after[k]),
            "actions_gained": sorted(set(after[k].actions) - set(before[k].actions)),
            "actions_lost": sorted(set(before[k].actions) - set(after[k].actions)),
        }
        for k in sorted(before.keys() & after.keys())
        if set(before[k].actions) != set(after[k].actions)
    ]
    p_old = privesc(old, whatif=whatif, deadline=deadline)
    p_new = privesc(new, whatif=whatif, deadline=deadline)
    esc_old = {e["principal"]: e for e in p_old["escalations"]}
    esc_new = {e["principal"]: e for e in p_new["escalations"]}
    out: dict[str, Any] = {
        "edges_gained": [_edge_item(after[k]) for k in sorted(after.keys() - before.keys())],
        "edges_lost": [_edge_item(before[k]) for k in sorted(before.keys() - after.keys())],
        "edges_changed": changed_actions,
        "admins_gained": sorted(set(p_new["admins"]) - set(p_old["admins"])),
        "admins_lost": sorted(set(p_old["admins"]) - set(p_new["admins"])),
        "escalations_gained": [esc_new[k] for k in sorted(esc_new.keys() - esc_old.keys())],
        "escalations_lost": [esc_old[k] for k in sorted(esc_old.keys() - esc_new.keys())],
    }
    if on_demand[0]:
        out["resource_access"] = ON_DEMAND_NOTE
    return out
