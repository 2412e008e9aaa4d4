"""The drawn network of a view, built with pyvis: vis-network nodes, edges and options (hierarchical, left to right).

pyvis assembles the node and edge records and the options; the page template is ours (pyvis's own loads
Bootstrap from a CDN). Labels and hover titles are plain text: vis-network shows string titles with
``innerText`` and draws labels on a canvas, so no estate string is ever parsed as HTML.
"""

from __future__ import annotations

import json
from typing import Any

from ui.styles import MORE, edge_options, node_options, node_style, strongest_kind
from ui.text import shorten

__all__ = ["edge_id", "network", "node_id", "options"]

_MAX_TITLE_HOPS = 8


def node_id(arn: str) -> str:
    """The vis id of a node: its ARN in a namespace of its own ("more" nodes use ``m:``)."""
    return f"n:{arn}"


def edge_id(source: str, target: str) -> str:
    return "e:" + json.dumps([source, target], ensure_ascii=False)


def options() -> dict[str, Any]:
    """vis-network options: a left-to-right hierarchy from sources to targets, no physics (stable, fast)."""
    return {
        "layout": {
            "hierarchical": {
                "enabled": True,
                "direction": "LR",
                "sortMethod": "directed",
                "shakeTowards": "leaves",
                "levelSeparation": 280,
                "nodeSpacing": 115,
                "treeSpacing": 110,
                "blockShifting": True,
                "edgeMinimization": True,
                "parentCentralization": True,
            }
        },
        "physics": {"enabled": False},
        "edges": {"smooth": {"enabled": True, "type": "cubicBezier", "forceDirection": "horizontal", "roundness": 0.4}},
        "interaction": {
            "hover": True,
            "tooltipDelay": 120,
            "multiselect": False,
            "navigationButtons": False,
            "keyboard": {"enabled": True, "bindToWindow": False},
        },
    }


def _short_name(node: dict[str, Any]) -> str:
    name = str(node.get("name") or node["id"])
    if node.get("kind") in ("resource", "provider"):  # "function:orders", "key/1234", "oidc-provider/host"
        for sep in (":", "/"):
            head, found, rest = name.partition(sep)
            if found and rest and head.replace("-", "").isalpha():
                return rest
    return name


def _label(node: dict[str, Any]) -> str:
    lines = [shorten(_short_name(node))]
    account = node.get("account_name") or node.get("account")
    second = [shorten(str(account), 28)] if account and node.get("kind") != "external_account" else []
    if node.get("admin"):
        second.append("admin?" if node.get("admin_conditional") else "admin")
    if second:
        lines.append(" · ".join(second))
    return "\n".join(lines)


def _title(node: dict[str, Any], kind_label: str) -> str:
    lines = [str(node["id"]), kind_label]
    if node.get("resource_type"):
        lines[1] += f" ({node['resource_type']})"
    if node.get("account"):
        name = node.get("account_name")
        lines.append(f"account {node['account']}" + (f" ({name})" if name and name != node["account"] else ""))
    if node.get("admin"):
        lines.append("admin, if its conditions hold" if node.get("admin_conditional") else "admin")
    return "\n".join(lines)


def _edge_title(hops: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for hop in hops[:_MAX_TITLE_HOPS]:
        lines.append(f"{hop['kind']} · {hop['technique']}")
        if hop.get("conditions_text"):
            lines.append(f"  only if {shorten(hop['conditions_text'], 160)}")
    if len(hops) > _MAX_TITLE_HOPS:
        lines.append(f"… {len(hops) - _MAX_TITLE_HOPS} more (click the edge)")
    return "\n".join(lines)


def _more_label(more: dict[str, Any]) -> str:
    count = more.get("count")
    return f"+{count} more {more['what']}" if count is not None else f"more {more['what']} not drawn"


def network(view: dict[str, Any]) -> dict[str, Any]:
    """``{"nodes", "edges", "options"}`` for vis-network, built with pyvis from view data (``ui.view``)."""
    from pyvis.network import Network  # type: ignore[import-untyped]

    net = Network(directed=True, height="100%", width="100%", cdn_resources="in_line")
    for node in view["nodes"]:
        style = node_style(node["kind"], node.get("resource_type"))
        net.add_node(
            node_id(node["id"]),
            label=_label(node),
            title=_title(node, style.label),
            arn=node["id"],
            styleKey=style.key,
            **node_options(
                style,
                admin=bool(node.get("admin")),
                admin_conditional=bool(node.get("admin_conditional")),
                emphasis=node.get("emphasis") is not None,
            ),
        )
    for edge in view["edges"]:
        hops = edge["hops"]
        kind = strongest_kind([h["kind"] for h in hops])
        conditional = all(h["conditions"] for h in hops)
        net.add_edge(
            node_id(edge["source"]),
            node_id(edge["target"]),
            id=edge_id(edge["source"], edge["target"]),
            title=_edge_title(hops),
            fromArn=edge["source"],
            toArn=edge["target"],
            kindKey=kind,
            conditional=conditional,
            **edge_options(kind, conditional=conditional),
        )
    for i, more in enumerate(view["more"]):
        if more.get("anchor") is None:
            continue
        more_id, anchor = f"m:{i}", node_id(more["anchor"])
        opts = node_options(MORE)
        opts["shapeProperties"] = {"borderDashes": [4, 4]}
        opts["font"]["color"] = "#57606a"
        net.add_node(more_id, label=_more_label(more), title=_more_label(more), more=i, styleKey="more", **opts)
        ends = (more_id, anchor) if more.get("incoming", True) else (anchor, more_id)
        net.add_edge(
            *ends,
            id=f"m:{i}:edge",
            more=i,
            color={"color": MORE.border, "inherit": False},
            dashes=[2, 4],
            width=1,
            arrows={"to": {"enabled": False}},
        )
    net.options = options()
    nodes, edges, _heading, _height, _width, opts_json = net.get_network_data()
    return {"nodes": nodes, "edges": edges, "options": json.loads(opts_json)}
