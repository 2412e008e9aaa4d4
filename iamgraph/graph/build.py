"""Snapshot + registered edge techniques -> AccessGraph (nodes, proven edges, admin marks)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import Any

from iamgraph._gc import collector_paused
from iamgraph.edges.base import DerivedEdge, EdgeKind
from iamgraph.edges.registry import TECHNIQUES, techniques
from iamgraph.edges.techniques._edges import forget_proofs
from iamgraph.edges.techniques._privesc import index as privesc_index
from iamgraph.edges.techniques.resource_access import ResourceAccess
from iamgraph.graph.admin import AdminVerdict, admin_verdict
from iamgraph.graph.control import control_fans
from iamgraph.graph.estate import Estate
from iamgraph.graph.model import AccessGraph, NodeKind
from iamgraph.graph.ondemand import OnDemandAccess, resolve_mode
from iamgraph.graph.outside import ANYONE
from iamgraph.graph.parallel import SECOND_PROCESS, CopyFailed, SecondProcess, resolve_workers
from iamgraph.graph.subsume import AdminSubsumption
from iamgraph.model.snapshot import Snapshot
from iamgraph.policy.logic import Expr, expr_to_json
from iamgraph.policy.stored import expr_to_store

__all__ = ["build_graph", "collector_paused"]

Progress = Callable[[str, int, int], None]
ACCESS_TECHNIQUE = "resource-access"
_PROVIDER_TYPES = frozenset({"AWS::IAM::SAMLProvider", "AWS::IAM::OIDCProvider"})
_ACCOUNT_ROOT = re.compile(r"^arn:[\w-]+:iam::(\d{12}):root$")


def build_graph(
    snapshot: Snapshot,
    *,
    progress: Progress | None = None,
    resource_access: str = "auto",
    workers: int | None = None,
) -> AccessGraph:
    """Evaluate every technique over the estate; each edge keeps its proof and residual conditions.

    ``resource_access``: ``eager`` makes every access edge; ``on-demand`` makes those of outsiders only and
    leaves the graph an ``OnDemandAccess`` that makes the others onto a resource when a query asks for
    them (``iamgraph.graph.ondemand``: for estates whose access edges would not fit in memory); ``auto``
    is ``eager`` up to ``AUTO_PRINCIPALS`` users and roles, ``on-demand`` above.

    ``workers``: 2 derives the techniques of ``SECOND_PROCESS`` in a forked copy of this process while this
    one derives the others (``iamgraph.graph.parallel``; the same graph); 1 derives all here; ``None``
    (default) is 2 from ``PARALLEL_PRINCIPALS`` users and roles where forking is sound, else 1. The
    timings of the copy's techniques are its own; ``handover`` is what taking their edges cost here."""
    on_demand = resolve_mode(resource_access, snapshot) == "on-demand"  # checked there
    with collector_paused():
        return _build(snapshot, progress, on_demand=on_demand, workers=workers)


def _build(
    snapshot: Snapshot, progress: Progress | None, *, on_demand: bool = False, workers: int | None = None
) -> AccessGraph:
    started = time.perf_counter()
    estate = Estate(snapshot)
    g = AccessGraph()
    g.warnings.extend(snapshot.warnings)
    _add_nodes(estate, g)
    g.timings["index"] = time.perf_counter() - started
    t0 = time.perf_counter()
    verdicts = _admin_verdicts(estate, g)
    effective = _admin_verdicts(estate, g, within=verdicts)
    covered = AdminSubsumption(estate, effective)
    privesc_index(estate).cover = covered  # the edges it would drop are not made
    g.timings["admin"] = time.perf_counter() - t0
    found = techniques()
    second: list[str] = []
    if resolve_workers(workers, len(estate.principals)) == 2:
        second = [t.name for t in found if t.name in SECOND_PROCESS]

    def derive_kept(name: str) -> list[DerivedEdge]:  # in the copy; here when the copy failed
        kept = [e for e in TECHNIQUES[name].derive(estate) if not covered.covers(e)]
        _forget_requests(estate)
        return kept

    with ExitStack() as stack:
        helper = _second_process(stack, g, second, derive_kept)
        # the edges go into g in the registry's order: a technique's own edges wait (made, kept) while an
        # earlier one's are still in the copy
        waiting: list[tuple[str, list[DerivedEdge] | None]] = []

        def copied(name: str) -> list[DerivedEdge]:
            """The copy's edges of ``name``; derived here when the copy failed."""
            nonlocal helper
            if helper is not None:
                try:
                    edges = helper.take(name)
                    g.timings[f"technique:{name}"] = helper.seconds[name]
                    return edges
                except CopyFailed as exc:
                    g.warnings.append(f"build: {exc}; its techniques were derived in the building process")
                    helper.stop()
                    helper = None
            t0 = time.perf_counter()
            edges = derive_kept(name)
            g.timings[f"technique:{name}"] = time.perf_counter() - t0
            return edges

        def add_waiting(block: bool) -> None:
            t0 = time.perf_counter()
            while waiting:
                name, edges = waiting[0]
                if edges is None:
                    if not (block or helper is None or helper.ready()):
                        break
                    edges = copied(name)
                g.add_edges(_with_endpoints(estate, g, edges))
                del waiting[0]
            g.timings["handover"] = g.timings.get("handover", 0.0) + time.perf_counter() - t0

        for i, tech in enumerate(found):
            t0 = time.perf_counter()
            if progress:
                progress(tech.name, i, len(found))
            if helper is not None and tech.name in helper.names:
                waiting.append((tech.name, None))
                g.timings[f"technique:{tech.name}"] = 0.0  # its time in the copy, once taken (registry order)
                continue
            derived: Iterable[DerivedEdge]
            if on_demand and tech.name == ACCESS_TECHNIQUE:  # outsiders' now, the estate's when asked
                g.on_demand = OnDemandAccess(estate)
                derived = _outsiders_access(estate)
            else:
                derived = tech.derive(estate)
            if waiting:
                waiting.append((tech.name, [e for e in derived if not covered.covers(e)]))
            else:
                g.add_edges(_kept(estate, g, derived, covered))
            _forget_requests(estate)
            g.timings[f"technique:{tech.name}"] = time.perf_counter() - t0
            if waiting:
                add_waiting(block=False)
        if waiting:
            add_waiting(block=True)
    t0 = time.perf_counter()
    idx = privesc_index(estate)  # one-step admins in control: their self grant works within their SCPs
    self_grants = [
        e
        for e in g.self_loops(EdgeKind.GRANT)
        if e.source in estate.principals and idx.is_admin(estate.principals[e.source])
    ]
    g.add_fans(control_fans(estate, effective, self_grants))
    _mark_admins(g, verdicts)
    g.timings["admin"] += time.perf_counter() - t0
    g.timings["total"] = time.perf_counter() - started
    if progress:
        progress("done", len(found), len(found))
    return g


def _second_process(
    stack: ExitStack, g: AccessGraph, names: list[str], derive: Callable[[str], list[DerivedEdge]]
) -> SecondProcess | None:
    """The forked copy deriving ``names`` (entered on ``stack``), or None: none asked for, or it could
    not start (then said in ``g.warnings``: the build goes on in one process)."""
    if not names:
        return None
    try:
        return stack.enter_context(SecondProcess(names, derive))
    except OSError as exc:
        g.warnings.append(f"build: no second process ({exc}); every technique was derived in the building process")
        return None


def _kept(
    estate: Estate, g: AccessGraph, derived: Iterable[DerivedEdge], covered: AdminSubsumption
) -> Iterator[DerivedEdge]:
    """The edges the admin marks do not cover, with their endpoints made nodes (as they go into ``g``)."""
    return _with_endpoints(estate, g, (edge for edge in derived if not covered.covers(edge)))


def _with_endpoints(estate: Estate, g: AccessGraph, edges: Iterable[DerivedEdge]) -> Iterator[DerivedEdge]:
    """``edges``, with their endpoints made nodes as they go into ``g``."""
    graph: Any = g.graph  # networkx's node dict itself: its NodeView's `in` is a Python call per check
    nodes: dict[str, Any] = graph._node  # the nodes made below are in it
    for edge in edges:
        if edge.source not in nodes:
            _ensure_endpoint(estate, g, edge.source)
        if edge.target not in nodes:
            _ensure_endpoint(estate, g, edge.target)
        yield edge


def _forget_requests(estate: Estate) -> None:
    """Between techniques: let go of the memoised decisions on particular resources and targets. Each
    technique asks about its own actions, so the next would not find its questions there; kept, they
    were 836 MB of the peak of a 50,000-principal build (4,665 against 3,829 MB). What is per principal
    and action stays (admin checks, statement plans, service trusts)."""
    privesc_index(estate).forget_requests()
    estate.shared.forget_requests()
    forget_proofs()


def _outsiders_access(estate: Estate) -> Iterator[DerivedEdge]:
    """The access edges of outsiders onto every resource, in the order the full build makes them."""
    access = ResourceAccess(estate)
    for res in estate.resources.values():
        yield from access.edges_onto(res, principals=False)


def _add_nodes(estate: Estate, g: AccessGraph) -> None:
    org = estate.snapshot.organization
    for account in estate.snapshot.accounts.values():
        name = account.alias or (org.accounts[account.id].name if org and account.id in org.accounts else None)
        g.add_node(f"arn:aws:iam::{account.id}:root", NodeKind.ACCOUNT, account=account.id, name=name or account.id)
        for user in account.users.values():
            g.add_node(
                user.arn,
                NodeKind.USER,
                account=account.id,
                name=user.name,
                path=user.path,
                tags=dict(user.tags),
                policies=_policy_names(estate, user.arn),
                boundary=user.boundary_arn,
            )
        for group in account.groups.values():
            g.add_node(
                group.arn,
                NodeKind.GROUP,
                account=account.id,
                name=group.name,
                path=group.path,
                policies=[p.name for p in account.identity_policies(group.arn)],
            )
        for role in account.roles.values():
            g.add_node(
                role.arn,
                NodeKind.ROLE,
                account=account.id,
                name=role.name,
                path=role.path,
                tags=dict(role.tags),
                policies=_policy_names(estate, role.arn),
                boundary=role.boundary_arn,
                service_linked=role.service_linked,
            )
        for res in account.resources.values():
            g.add_node(
                res.arn,
                NodeKind.PROVIDER if res.type in _PROVIDER_TYPES else NodeKind.RESOURCE,
                account=account.id,
                name=res.arn.split(":", 5)[-1],
                resource_type=res.type,
                region=res.region,
                tags=dict(res.tags),
                has_policy=res.policy is not None,
            )


def _policy_names(estate: Estate, arn: str) -> list[str]:
    entry = estate.principals.get(arn)
    return [p.name for p in entry.identity] if entry else []


def _ensure_endpoint(estate: Estate, g: AccessGraph, node: str) -> None:
    if node in g.graph:
        return
    if node == ANYONE:
        g.add_node(node, NodeKind.ANYONE, name="anyone")
        return
    m = _ACCOUNT_ROOT.match(node)
    org = estate.snapshot.organization
    if m:
        account = m.group(1)
        in_org = bool(org and account in org.accounts)
        g.add_node(node, NodeKind.EXTERNAL_ACCOUNT, account=account, name=account, in_organization=in_org)
    elif node.startswith("arn:") and (":oidc-provider/" in node or ":saml-provider/" in node):
        g.add_node(node, NodeKind.PROVIDER, name=node.split(":", 5)[-1].split("/", 1)[-1])
    elif node.startswith("arn:"):
        account = node.split(":")[4]
        kind = NodeKind.EXTERNAL_PRINCIPAL if ":iam::" in node or ":sts::" in node else NodeKind.RESOURCE
        g.add_node(node, kind, account=account, name=node.split(":", 5)[-1])
    elif node.endswith(".amazonaws.com") and not node.startswith(("cognito-identity", "accounts.google")):
        g.add_node(node, NodeKind.SERVICE, name=node)
    else:
        g.add_node(node, NodeKind.PROVIDER, name=node)


def _admin_verdicts(
    estate: Estate, g: AccessGraph, *, within: dict[str, AdminVerdict] | None = None
) -> dict[str, AdminVerdict]:
    """Admins by their own permissions (the node mark), or, ``within`` those, admins in control: still
    able to take over principals under their SCPs and RCPs (their other in-account edges add nothing)."""
    out: dict[str, AdminVerdict] = {}
    for p in estate.principals.values():
        if p.arn in g.graph and (within is None or p.arn in within):
            verdict = admin_verdict(estate, p, org_policies=within is not None)
            if verdict.admin:
                out[p.arn] = verdict
    return out


def _mark_admins(g: AccessGraph, verdicts: dict[str, AdminVerdict]) -> None:
    for arn, verdict in verdicts.items():
        g.graph.nodes[arn].update(
            admin=True,
            admin_via="permissions",
            **_admin_conditions(verdict.conditions),
            admin_proof=[m.to_json() for m in verdict.proof],
        )
    for e in g.self_loops(EdgeKind.GRANT):
        node = g.graph.nodes[e.source]
        if not node.get("admin"):
            node.update(
                admin=True,
                admin_via=e.technique,
                **_admin_conditions(e.conditions),
                admin_proof=[m.to_json() for m in e.proof],
            )


def _admin_conditions(expr: Expr) -> dict[str, Any]:
    """The conditions under which a principal is admin: shown (``admin_conditions``, as a hop shows an
    edge's) and, when there are any, kept whole (``admin_expr``) for a what-if to evaluate again."""
    if expr is True:
        return {"admin_conditions": []}
    return {"admin_conditions": [expr_to_json(expr)], "admin_expr": expr_to_store(expr)}


def summary(g: AccessGraph) -> dict[str, object]:
    return {
        "nodes": g.node_counts(),
        "edges": g.edge_counts(),
        "techniques": g.technique_counts(),
        "admins": len(g.admins()),
        "resource_access": "eager" if g.on_demand is None else "on-demand",
        "timings": {k: round(v, 4) for k, v in g.timings.items()},
        "warnings": list(g.warnings),
    }


def edges_of(g: AccessGraph, kind: EdgeKind) -> list[DerivedEdge]:
    return list(g.edges(kind))
