"""Exploring a snapshot's graph: summary, node and edge details with proof, search, neighbourhood, export.

Node, edges, neighbourhood and search ask the snapshot's GraphStore (memory or Neo4j); summary and export
need the analysed estate in memory (501 on a Neo4j server).
"""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import QueryingDep
from api.routes import errors
from api.schemas import (
    EdgeDetails,
    EdgeQuery,
    ExportQuery,
    GraphExport,
    GraphSummary,
    Neighbourhood,
    NeighbourhoodQuery,
    NodeDetails,
    NodeQuery,
    SearchQuery,
    SearchResult,
    SnapshotQuery,
)
from iamgraph.edges.base import EdgeKind
from iamgraph.export import to_cypher, to_graphml, to_json
from iamgraph.graph import summary

router = APIRouter(prefix="/graph", tags=["graph"], responses=errors(401, 404, 422, 503))
_MEMORY = errors(501)  # routes beyond the GraphStore protocol


@router.get(
    "/summary", response_model=GraphSummary, responses=_MEMORY, summary="Node and edge counts (as `graph build --json`)"
)
async def graph_summary(q: Annotated[SnapshotQuery, Query()], env: QueryingDep) -> Response:
    entry = env.snapshot(q.snapshot)
    return await env.answer("summary", q, (entry,), lambda: summary(entry.analysis.graph), bounded=False)


@router.get("/node", response_model=NodeDetails, summary="A node's attributes (admin proof included), edge counts")
async def node(q: Annotated[NodeQuery, Query()], env: QueryingDep) -> Response:
    target = env.graph(q.snapshot)
    return await env.answer("node", q, (target,), lambda: target.open().node(q.node), bounded=False)


@router.get("/edges", response_model=EdgeDetails, summary="The edges between two nodes, each with its proof")
async def edges(q: Annotated[EdgeQuery, Query()], env: QueryingDep) -> Response:
    target = env.graph(q.snapshot)
    kind = EdgeKind(q.kind) if q.kind else None
    return await env.answer(
        "edges",
        q,
        (target,),
        lambda: target.open().edge(q.source, q.target, kind=kind, technique=q.technique, whatif=env.whatif(q)),
        bounded=False,
    )


@router.get("/neighbourhood", response_model=Neighbourhood, summary="Nodes and edges around a node (for the UI)")
async def neighbours(q: Annotated[NeighbourhoodQuery, Query()], env: QueryingDep) -> Response:
    depth, limit, target = env.depth(q.depth, field="depth"), env.nodes(q.limit), env.graph(q.snapshot)
    return await env.answer(
        "neighbourhood",
        q,
        (target,),
        lambda: target.open().neighbourhood(
            q.node, depth=depth, limit=limit, whatif=env.whatif(q), deadline=env.deadline()
        ),
        max_depth=depth,
        limit=limit,
    )


@router.get("/search", response_model=SearchResult, summary="Nodes by name or ARN prefix (autocompletion)")
async def find(q: Annotated[SearchQuery, Query()], env: QueryingDep) -> Response:
    target, limit = env.graph(q.snapshot), env.nodes(q.limit)
    # off the loop: the memory store builds its index on first use, Neo4j scans the snapshot's nodes
    return await env.answer("search", q, (target,), lambda: target.open().search(q.q, limit=limit), bounded=False)


_EXPORTS = {
    "json": (to_json, "application/json", "json"),
    "graphml": (to_graphml, "application/graphml+xml", "graphml"),
    "cypher": (to_cypher, "text/plain; charset=utf-8", "cypher"),
}


@router.get(
    "/export",
    response_model=GraphExport,
    summary="The whole graph: JSON, GraphML (Gephi, yEd) or a Cypher script (Neo4j)",
    responses={
        **_MEMORY,
        200: {
            "content": {
                "application/graphml+xml": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
            "description": "JSON (nodes and edges with proof), GraphML or Cypher, after `format`",
        },
    },
)
def export(q: Annotated[ExportQuery, Query()], env: QueryingDep) -> Response:
    entry = env.snapshot(q.snapshot)
    write, media, suffix = _EXPORTS[q.format]
    disposition = f'attachment; filename="{entry.name}.{suffix}"'
    return Response(write(entry.analysis.graph), media_type=media, headers={"Content-Disposition": disposition})
