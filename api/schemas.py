"""Request and response models. Responses are exactly the query JSON of docs/cli.md.

Request models forbid unknown fields; every constraint names its field in the 422 answer. Hops keep
their proof and residual conditions as loosely typed objects: the condition-expression union is wide.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.registry import NAME_PATTERN
from iamgraph.graph.queries import AssumeUnknown

Ref = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
SnapshotName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
ContextPair = Annotated[str, StringConstraints(pattern=r"^[^=\s][^=]*=.*$", max_length=4096)]
Depth = Annotated[int, Field(ge=1, le=50, description="Longest path considered, in hops (server cap: max_depth)")]
EdgeKindName = Literal["member", "assume", "escalate", "grant", "access"]
AccessLevel = Literal["List", "Read", "Write", "Permissions management", "Tagging"]
Json = dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- requests -------------------------------------------------------------------------------------


class WhatIfParams(_Strict):
    context: list[ContextPair] = Field(
        default_factory=list,
        max_length=100,
        description="What-if context, key=value (key=[a,b] for a multivalued key), e.g. aws:SourceIp=203.0.113.7",
    )
    assume_unknown: AssumeUnknown = Field(
        AssumeUnknown.KEEP, description="Conditions on still-unknown keys: keep (conditional), allow or deny"
    )


class SnapshotParams(WhatIfParams):
    snapshot: SnapshotName | None = Field(None, description="Snapshot name (default: the first loaded)")


class WhoCanParams(SnapshotParams):
    resource: Ref
    action: Ref | None = None
    access_level: AccessLevel | None = None
    max_depth: Depth = 8


class WhoCanQuery(WhoCanParams):
    limit: int = Field(
        100, ge=0, le=100_000, description="Principals listed, nearest first (server cap: max_paths); total counts all"
    )
    offset: int = Field(0, ge=0, le=10_000_000, description="Principals of the ordered list skipped first (paging)")


class CanQuery(SnapshotParams):
    principal: Ref
    resource: Ref
    action: Ref
    max_depth: Depth = 8


class PathQuery(SnapshotParams):
    source: Ref
    target: Ref
    all: bool = Field(False, description="All simple paths within the bounds instead of the shortest")
    max_depth: Depth = 6
    limit: int = Field(20, ge=1, le=10_000, description="Most paths returned with all (server cap: max_paths)")


class PrivescQuery(SnapshotParams):
    max_depth: Depth = 8


class ExposureQuery(SnapshotParams):
    max_depth: Depth = 8
    limit: int = Field(
        100,
        ge=0,
        le=100_000,
        description="Reached nodes listed per outsider, nearest first (all of them are counted in `reached`)",
    )


class AccessLevelsQuery(SnapshotParams):
    principal: Ref


class DiffQuery(WhatIfParams):
    old: SnapshotName
    new: SnapshotName


class NodeQuery(_Strict):
    snapshot: SnapshotName | None = None
    node: Ref


class EdgeQuery(SnapshotParams):
    source: Ref
    target: Ref
    kind: EdgeKindName | None = None
    technique: Ref | None = None


class NeighbourhoodQuery(SnapshotParams):
    node: Ref
    depth: Annotated[int, Field(ge=1, le=50)] = 1
    limit: int = Field(200, ge=1, le=100_000, description="Most nodes returned (server cap: max_nodes)")


class SearchQuery(_Strict):
    snapshot: SnapshotName | None = None
    q: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(description="Name or ARN prefix")
    limit: int = Field(20, ge=1, le=1000)


class SnapshotQuery(_Strict):
    snapshot: SnapshotName | None = None


class ExportQuery(SnapshotQuery):
    format: Literal["json", "graphml", "cypher"] = "json"


# ---- responses ------------------------------------------------------------------------------------


class Hop(BaseModel):
    """One edge of a path with its proof (deciding statements) and residual conditions."""

    source: str
    target: str
    kind: EdgeKindName
    technique: str
    actions: list[str]
    conditions: list[Json]
    proof: list[Json]
    via: list[str] | None = None


class Edge(Hop):
    access: dict[str, list[str]] | None = None
    note: str | None = None
    conditional: bool


class WhoCanPrincipal(BaseModel):
    arn: str
    kind: str
    conditional: bool
    path: list[Hop]


class WhoCanResult(BaseModel):
    resource: str
    action: str | None
    access_level: str | None
    principals: list[WhoCanPrincipal]
    total: int = Field(description="Principals that can, listed or not")
    offset: int
    limit: int | None
    truncated: bool = Field(description="More principals follow this page")


class CanResult(BaseModel):
    principal: str
    resource: str
    action: str
    answer: Literal["yes", "no", "conditional"]
    path: list[Hop]
    decision: Json | None


class PathBounds(BaseModel):
    max_depth: int
    limit: int


class PathItem(BaseModel):
    conditional: bool
    hops: list[Hop]


class PathResult(BaseModel):
    source: str
    target: str
    bounds: PathBounds
    truncated: bool
    paths: list[PathItem]


class Escalation(BaseModel):
    principal: str
    conditional: bool
    path: list[Hop]


class PrivescResult(BaseModel):
    admins: list[str]
    admin_conditions: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="The admins that are admin only under conditions (MFA present, say), with those conditions",
    )
    escalations: list[Escalation]


class Reach(BaseModel):
    node: str
    kind: str
    conditional: bool
    path: list[Hop]
    actions: list[str] | None = None


class AccountCounts(BaseModel):
    principals: int
    resources: int


class Reached(BaseModel):
    principals: int = Field(description="Principals the outsider can act as (itself excluded)")
    resources: int = Field(description="Other nodes it, or a principal it acts as, holds an access edge to")
    by_account: dict[str, AccountCounts]


class AdminReached(BaseModel):
    node: str
    conditional: bool
    path: list[Hop]


class Outsider(BaseModel):
    node: str
    kind: str
    in_organization: bool | None
    reached: Reached
    admins: list[AdminReached] = Field(description="Every admin it reaches, with a path, whatever the limit")
    reaches: list[Reach] = Field(description="The first `limit` nodes reached, nearest first")
    truncated: bool


class PublicResource(BaseModel):
    resource: str
    actions: list[str]
    conditional: bool
    path: list[Hop]


class ExposureResult(BaseModel):
    outsiders: list[Outsider]
    public_resources: list[PublicResource]
    findings: list[Json]
    limit: int | None
    resource_access: str | None = Field(
        None, description="Only on a graph with resource access on demand: what the counts leave out"
    )


class AccessLevelsResult(BaseModel):
    principal: str
    admin: bool
    admin_conditions: list[Any] | None = Field(
        None, description="Present when the principal is admin only under these conditions (MFA present, say)"
    )
    totals: dict[str, int]
    services: dict[str, dict[str, dict[str, list[str]]]]


class EdgeChange(BaseModel):
    edge: Edge
    actions_gained: list[str]
    actions_lost: list[str]
    conditions_before: list[Any] | None = Field(
        None, description="Only when the edge's conditions changed: the old edge's (the new ones are the edge's)"
    )


class AdminChange(BaseModel):
    arn: str
    conditions_before: list[Any] = Field(description="[] when the principal was admin outright")
    conditions_after: list[Any] = Field(description="[] when the principal is admin outright")


class EscalationChange(BaseModel):
    principal: str
    before: Escalation
    after: Escalation


class DiffResult(BaseModel):
    edges_gained: list[Edge]
    edges_lost: list[Edge]
    edges_changed: list[EdgeChange]
    admins_gained: list[str]
    admins_lost: list[str]
    admins_changed: list[AdminChange] = Field(
        default_factory=list, description="Admins in both snapshots whose conditions changed"
    )
    escalations_gained: list[Escalation]
    escalations_lost: list[Escalation]
    escalations_changed: list[EscalationChange] = Field(
        default_factory=list, description="Principals escalating in both: conditionally in one, outright in the other"
    )
    resource_access: str | None = Field(
        None, description="Only on graphs with resource access on demand: what the comparison leaves out"
    )


class NodeDetails(BaseModel):
    node: Json = Field(description="id, kind, name, account, admin and every attribute (admin_proof, tags, ...)")
    edges_in: dict[str, int]
    edges_out: dict[str, int]
    edges_out_note: str | None = Field(
        None, description="Only on a graph with resource access on demand, for a principal: what is not counted"
    )


class EdgeDetail(Edge):
    holds: Literal["yes", "no", "conditional"] = Field(description="Whether the edge holds under the what-if")


class EdgeDetails(BaseModel):
    source: str
    target: str
    edges: list[EdgeDetail]


class NodeBrief(BaseModel):
    id: str
    kind: str
    name: str | None
    account: str | None
    admin: bool


class NeighbourNode(NodeBrief):
    distance: int


class Neighbourhood(BaseModel):
    center: str
    depth: int
    limit: int
    truncated: bool
    nodes: list[NeighbourNode]
    edges: list[Hop]


class SearchResult(BaseModel):
    query: str
    truncated: bool
    matches: list[NodeBrief]


class GraphSummary(BaseModel):
    nodes: dict[str, int]
    edges: dict[str, int]
    techniques: dict[str, int]
    admins: int
    timings: dict[str, float]
    warnings: list[str] = []


class GraphExport(BaseModel):
    nodes: list[Json]
    edges: list[Json]


class SnapshotInfo(BaseModel):
    name: str
    source: Literal["data", "upload", "neo4j"] = Field(description="neo4j: loaded with `iamgraph neo4j load`")
    default: bool
    loaded_at: str | None = Field(description="Time of the (latest) load")
    load_seconds: float | None = Field(description="Analysis time in this server (null for Neo4j snapshots)")
    accounts: int
    nodes: int
    edges: int
    admins: int
    resource_access: Literal["eager", "on-demand"] = Field(
        "eager",
        description="on-demand: `edges` holds the outsiders' access edges only; queries make the principals' "
        "onto a resource when they reach it",
    )


class SnapshotList(BaseModel):
    default: str | None
    snapshots: list[SnapshotInfo]


class SimulateResult(BaseModel):
    results: list[Json] = Field(
        description="One item per document, in order: the `iamgraph simulate --json` line, or "
        '{"index", "error": {"code", "message", "detail": {"where", "element"}}}'
    )
    failed: int


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    snapshots: list[str]
    default: str | None


class ErrorBody(BaseModel):
    code: str
    message: str
    detail: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody
