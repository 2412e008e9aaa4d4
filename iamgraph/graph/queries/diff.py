"""diff OLD NEW: what changed between two snapshots — edges, admins and escalation paths.

Gained and lost: edges (by source, target, kind, technique and whether they are conditional), admins and
escalating principals. Changed: an edge kept with other actions or other conditions, an admin kept under
other conditions (admin only with MFA before, outright now), and an escalation kept that became conditional
or unconditional. Conditions are compared by what they say (``key Operator values``, and/or/not), not by
the statements they come from: a statement that moved within its policy changes nothing here."""

from __future__ import annotations

from typing import Any

from iamgraph.conditions_text import conditions_text
from iamgraph.edges.base import DerivedEdge
from iamgraph.errors import InputError
from iamgraph.graph.ondemand import ON_DEMAND_NOTE
from iamgraph.graph.queries.base import Analysis
from iamgraph.graph.queries.budget import Deadline
from iamgraph.graph.queries.privesc import privesc
from iamgraph.graph.queries.whatif import WhatIf
from iamgraph.policy.logic import Expr, expr_to_json

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
    changed_edges = [
        change for k in sorted(before.keys() & after.keys()) if (change := _edge_change(before[k], after[k]))
    ]
    p_old = privesc(old, whatif=whatif, deadline=deadline)
    p_new = privesc(new, whatif=whatif, deadline=deadline)
    esc_old = {e["principal"]: e for e in p_old["escalations"]}
    esc_new = {e["principal"]: e for e in p_new["escalations"]}
    out: dict[str, Any] = {
        "edges_gained": [_edge_item(after[k]) for k in sorted(after.keys() - before.keys())],
        "edges_lost": [_edge_item(before[k]) for k in sorted(before.keys() - after.keys())],
        "edges_changed": changed_edges,
        "admins_gained": sorted(set(p_new["admins"]) - set(p_old["admins"])),
        "admins_lost": sorted(set(p_old["admins"]) - set(p_new["admins"])),
        "admins_changed": _admins_changed(p_old, p_new),
        "escalations_gained": [esc_new[k] for k in sorted(esc_new.keys() - esc_old.keys())],
        "escalations_lost": [esc_old[k] for k in sorted(esc_old.keys() - esc_new.keys())],
        "escalations_changed": [
            {"principal": k, "before": esc_old[k], "after": esc_new[k]}
            for k in sorted(esc_old.keys() & esc_new.keys())
            if esc_old[k]["conditional"] != esc_new[k]["conditional"]
        ],
    }
    if on_demand[0]:
        out["resource_access"] = ON_DEMAND_NOTE
    return out


def _edge_change(old: DerivedEdge, new: DerivedEdge) -> dict[str, Any] | None:
    """An edge in both graphs with other actions or other conditions (None when neither changed):
    ``conditions_before`` only when the conditions changed (the new ones are the edge's)."""
    gained = sorted(set(new.actions) - set(old.actions))
    lost = sorted(set(old.actions) - set(new.actions))
    # equal expressions first (most edges: nothing to convert); else what they say, without their sources
    moved = old.conditions != new.conditions and _said(old.conditions) != _said(new.conditions)
    if not gained and not lost and not moved:
        return None
    out: dict[str, Any] = {"edge": _edge_item(new), "actions_gained": gained, "actions_lost": lost}
    if moved:
        out["conditions_before"] = old.to_json()["conditions"]
    return out


def _said(conditions: Expr) -> str:
    return conditions_text([] if conditions is True else [expr_to_json(conditions)])


def _admins_changed(p_old: dict[str, Any], p_new: dict[str, Any]) -> list[dict[str, Any]]:
    """Admins in both whose conditions changed (``[]``: admin outright), under the same what-if."""
    old_if, new_if = p_old["admin_conditions"], p_new["admin_conditions"]
    return [
        {"arn": a, "conditions_before": old_if.get(a, []), "conditions_after": new_if.get(a, [])}
        for a in sorted(set(p_old["admins"]) & set(p_new["admins"]))
        if conditions_text(old_if.get(a, [])) != conditions_text(new_if.get(a, []))
    ]
