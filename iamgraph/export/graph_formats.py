"""Serialise an AccessGraph: JSON (nodes + edges with proof), GraphML (Gephi, yEd), a Cypher script.

Exports never compute anything: they write what the graph holds. Every string that comes from the
estate is escaped for its format (names, tags and Sids are attacker-controlled).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import networkx as nx

from iamgraph.graph.model import AccessGraph

__all__ = ["to_cypher", "to_graphml", "to_json"]


def _nodes(g: AccessGraph) -> Iterator[dict[str, Any]]:
    for node, data in g.graph.nodes(data=True):
        yield {"id": node, **{k: (str(v) if k == "kind" else v) for k, v in data.items()}}


def to_json(g: AccessGraph) -> str:
    g.require_every_edge("export")
    return json.dumps({"nodes": list(_nodes(g)), "edges": [e.to_json() for e in g.edges()]}, default=str)


def _scalar(v: Any) -> str | int | float | bool:
    if isinstance(v, bool | int | float):
        return v
    if isinstance(v, str):
        return v
    return json.dumps(v, default=str)


def to_graphml(g: AccessGraph) -> str:
    g.require_every_edge("export")
    out: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    for node in _nodes(g):
        nid = node.pop("id")
        out.add_node(nid, **{k: _scalar(v) for k, v in node.items() if v is not None})
    for i, e in enumerate(g.edges()):
        data = e.to_json()
        out.add_edge(
            e.source, e.target, key=f"e{i}", **{k: _scalar(v) for k, v in data.items() if k not in ("source", "target")}
        )
    buf = io.BytesIO()
    nx.write_graphml(out, buf, encoding="utf-8")
    return buf.getvalue().decode("utf-8")


def cypher_string(value: str) -> str:
    """A Cypher string literal: backslash, quote and control characters escaped."""
    out = ["'"]
    for ch in value:
        if ch in "\\'\"":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append("'")
    return "".join(out)


def _map(props: dict[str, Any]) -> str:
    items = []
    for k, v in props.items():
        if v is None:
            continue
        lit = (
            str(v).lower()
            if isinstance(v, bool)
            else str(v)
            if isinstance(v, int | float)
            else cypher_string(v if isinstance(v, str) else json.dumps(v, default=str))
        )
        items.append(f"`{k.replace('`', '')}`: {lit}")
    return "{" + ", ".join(items) + "}"


def to_cypher(g: AccessGraph) -> str:
    """A script for cypher-shell: MERGE every node by id, CREATE every edge with its properties."""
    g.require_every_edge("export")
    lines = ["CREATE CONSTRAINT iamgraph_node_id IF NOT EXISTS FOR (n:IamNode) REQUIRE n.id IS UNIQUE;"]
    for node in _nodes(g):
        nid = node.pop("id")
        kind = str(node.get("kind", "node"))
        label = "".join(p.capitalize() for p in kind.split("_"))
        lines.append(f"MERGE (n:IamNode {{id: {cypher_string(nid)}}}) SET n:`{label}`, n += {_map(node)};")
    for e in g.edges():
        data = e.to_json()
        props = {k: v for k, v in data.items() if k not in ("source", "target")}
        rel = e.kind.value.upper()
        lines.append(
            f"MATCH (a:IamNode {{id: {cypher_string(e.source)}}}), (b:IamNode {{id: {cypher_string(e.target)}}}) "
            f"CREATE (a)-[:`{rel}` {_map(props)}]->(b);"
        )
    return "\n".join(lines) + "\n"
