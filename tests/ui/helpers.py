"""Reading and clicking the page's vis-network (window.iamgraph.network) the way a user would."""

from __future__ import annotations

from typing import Any

from ui.render import edge_id, node_id

__all__ = ["click_edge", "click_node", "drawn", "edge_id", "node_id", "wait_drawn"]


def wait_drawn(page: Any) -> None:
    page.wait_for_function("() => window.iamgraph && window.iamgraph.network && window.iamgraph.state.view !== null")


def drawn(page: Any) -> dict[str, Any]:
    """Nodes and edges as the network holds them (ids, ARNs), read from the vis-network object."""
    result: dict[str, Any] = page.evaluate(
        """() => {
          const data = window.iamgraph.network.body.data;
          return {nodes: data.nodes.length, edges: data.edges.length,
                  node_ids: data.nodes.getIds(), edge_ids: data.edges.getIds(),
                  arns: data.nodes.get().filter((n) => n.arn).map((n) => n.arn)};
        }"""
    )
    return result


_NODE_POINT = """(id) => {
  const net = window.iamgraph.network;
  const dom = net.canvasToDOM(net.getPositions([id])[id]);
  const box = net.canvas.frame.canvas.getBoundingClientRect();
  return [box.left + dom.x, box.top + dom.y];
}"""

# A point on the drawn edge (cubic Bézier, horizontal, as ui.render's options) that hits this edge and no node.
_EDGE_POINT = """(id) => {
  const net = window.iamgraph.network;
  const edge = net.body.data.edges.get(id);
  const pos = net.getPositions([edge.from, edge.to]);
  const a = pos[edge.from], b = pos[edge.to];
  const r = net.body.edges[id].options.smooth.roundness, dx = a.x - b.x;
  const p1 = {x: a.x - r * dx, y: a.y}, p2 = {x: b.x + r * dx, y: b.y};
  const box = net.canvas.frame.canvas.getBoundingClientRect();
  for (const t of [0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65, 0.3, 0.7]) {
    const u = 1 - t;
    const pt = {x: u*u*u*a.x + 3*u*u*t*p1.x + 3*u*t*t*p2.x + t*t*t*b.x,
                y: u*u*u*a.y + 3*u*u*t*p1.y + 3*u*t*t*p2.y + t*t*t*b.y};
    const dom = net.canvasToDOM(pt);
    if (net.getEdgeAt(dom) === id && net.getNodeAt(dom) === undefined) return [box.left + dom.x, box.top + dom.y];
  }
  return null;
}"""


def click_node(page: Any, arn: str) -> None:
    x, y = page.evaluate(_NODE_POINT, node_id(arn))
    page.mouse.click(x, y)


def click_edge(page: Any, source: str, target: str) -> None:
    """A real mouse click on the edge; fails when no point of it is free of other edges and nodes."""
    point = page.evaluate(_EDGE_POINT, edge_id(source, target))
    assert point is not None, f"no clickable point on the edge {source} -> {target}"
    page.mouse.click(*point)
