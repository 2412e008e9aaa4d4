"""The visual language of the UI, in one table: node shape and colour per kind, edge style per kind.

The network (``ui.render``) and the legend (``templates/_legend.html``) both read these tables, so the
legend can never disagree with the drawing. Colours are GitHub's Primer palette (readable on white).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ADMIN",
    "EDGE_STYLES",
    "MORE",
    "NODE_STYLES",
    "AdminMark",
    "EdgeStyle",
    "NodeStyle",
    "edge_options",
    "edge_style",
    "legend",
    "node_options",
    "node_style",
    "strongest_kind",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeStyle:
    """How one kind of node is drawn; ``key`` is the node kind, or ``resource:<CloudFormation type>``."""

    key: str
    label: str
    group: str  # legend section: "principals", "outsiders" or "resources"
    shape: str  # a vis-network shape
    background: str
    border: str
    size: int = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class EdgeStyle:
    """How one kind of edge is drawn; ``rank`` orders kinds when several share one drawn edge."""

    key: str
    label: str
    color: str
    width: float
    rank: int


def _n(key: str, label: str, group: str, shape: str, background: str, border: str, size: int = 16) -> NodeStyle:
    return NodeStyle(key=key, label=label, group=group, shape=shape, background=background, border=border, size=size)


def _res(rtype: str, label: str, background: str, border: str) -> NodeStyle:
    return _n(f"resource:{rtype}", label, "resources", "square", background, border, size=14)


# One row per node kind (resources by CloudFormation type): key, legend label, legend section, shape, fill, border.
# Every shape has its label below it, so nodes keep one size and the hierarchy's spacing holds for all of them.
NODE_STYLES: tuple[NodeStyle, ...] = (
    _n("user", "IAM user", "principals", "dot", "#4ac26b", "#1a7f37"),
    _n("group", "IAM group", "principals", "dot", "#c297ff", "#8250df", size=12),
    _n("role", "IAM role", "principals", "diamond", "#54aeff", "#0969da"),
    _n("account", "account (root)", "principals", "hexagon", "#afb8c1", "#424a53"),
    _n("external_account", "outside account", "outsiders", "hexagon", "#ffb77c", "#bc4c00"),
    _n("external_principal", "outside principal", "outsiders", "diamond", "#ffb77c", "#bc4c00"),
    _n("provider", "identity provider (SAML/OIDC)", "outsiders", "triangle", "#ff80c8", "#bf3989"),
    _n("service", "AWS service", "outsiders", "triangleDown", "#d0d7de", "#57606a"),
    _n("anyone", "anyone (public)", "outsiders", "star", "#ff8182", "#cf222e", size=20),
    _res("AWS::S3::Bucket", "S3 bucket", "#6fdd8b", "#1a7f37"),
    _res("AWS::DynamoDB::Table", "DynamoDB table", "#80ccff", "#0550ae"),
    _res("AWS::ECR::Repository", "ECR repository", "#b6e3ff", "#0969da"),
    _res("AWS::KMS::Key", "KMS key", "#f5e0a0", "#9a6700"),
    _res("AWS::SecretsManager::Secret", "Secrets Manager secret", "#ffaba8", "#cf222e"),
    _res("AWS::SQS::Queue", "SQS queue", "#d8b9ff", "#8250df"),
    _res("AWS::SNS::Topic", "SNS topic", "#ffadda", "#bf3989"),
    _res("AWS::Lambda::Function", "Lambda function", "#ffb77c", "#bc4c00"),
    _res("AWS::EC2::Instance", "EC2 instance", "#ffc680", "#953800"),
    _res("AWS::CodeBuild::Project", "CodeBuild project", "#ffc680", "#953800"),
    _res("AWS::CloudFormation::Stack", "CloudFormation stack", "#ffc680", "#953800"),
    _res("AWS::CloudTrail::Trail", "CloudTrail trail", "#afb8c1", "#424a53"),
    _n("resource", "other resource", "resources", "square", "#eaeef2", "#6e7781", size=14),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminMark:
    """The ring drawn around an admin principal, whatever its kind."""

    border: str
    width: int
    label: str


ADMIN = AdminMark(border="#cf222e", width=4, label="admin: red ring (dashed: only if a condition holds)")
MORE = _n("more", '"N more" not drawn', "other", "box", "#ffffff", "#8c959f")

EDGE_STYLES: tuple[EdgeStyle, ...] = (
    EdgeStyle(key="escalate", label="escalation (acts as the target)", color="#cf222e", width=3.0, rank=5),
    EdgeStyle(key="grant", label="grant (can make the target admin)", color="#bc4c00", width=2.5, rank=4),
    EdgeStyle(key="assume", label="assume role / federation", color="#0969da", width=2.0, rank=3),
    EdgeStyle(key="access", label="access to a resource", color="#1a7f37", width=2.0, rank=2),
    EdgeStyle(key="member", label="group membership", color="#8c959f", width=1.2, rank=1),
)
CONDITIONAL_DASHES = [7, 5]

_NODES = {s.key: s for s in NODE_STYLES}
_EDGES = {s.key: s for s in EDGE_STYLES}


def node_style(kind: str, resource_type: str | None = None) -> NodeStyle:
    """The style of a node kind; resources by CloudFormation type, unknown kinds as "other resource"."""
    if kind == "resource" or (kind not in _NODES and resource_type):
        return _NODES.get(f"resource:{resource_type}", _NODES["resource"])
    return _NODES.get(kind, _NODES["resource"])


def edge_style(kind: str) -> EdgeStyle:
    return _EDGES.get(kind, _EDGES["access"])


def strongest_kind(kinds: list[str]) -> str:
    """The kind a drawn edge takes when it stands for several hops: escalate > grant > assume > access > member."""
    return max(kinds, key=lambda k: edge_style(k).rank)


def node_options(
    style: NodeStyle, *, admin: bool = False, admin_conditional: bool = False, emphasis: bool = False
) -> dict[str, Any]:
    """vis-network node options for a style, with the admin ring and the emphasis of a query's target."""
    border = ADMIN.border if admin else style.border
    width = ADMIN.width if admin else (3 if emphasis else 1.5)
    out: dict[str, Any] = {
        "shape": style.shape,
        "size": style.size,
        "borderWidth": width,
        "borderWidthSelected": width + 2,
        "color": {
            "background": style.background,
            "border": border,
            "highlight": {"background": style.background, "border": "#1f2328"},
            "hover": {"background": style.background, "border": "#1f2328"},
        },
        "font": {
            "face": "system-ui, sans-serif",
            "size": 13,
            "color": "#1f2328",
            "multi": False,
            "bold": {"color": "#1f2328"},
        },
    }
    if style.shape == "box":
        out["widthConstraint"] = {"maximum": 190}
        out["margin"] = 6
    if admin and admin_conditional:
        out["shapeProperties"] = {"borderDashes": [5, 3]}
    if emphasis:
        out["size"] = style.size + 6
        out["font"]["size"] = 15
    return out


def edge_options(kind: str, *, conditional: bool) -> dict[str, Any]:
    """vis-network edge options: colour and width per kind, dashed when the edge holds only under a condition."""
    style = edge_style(kind)
    return {
        "color": {"color": style.color, "highlight": "#1f2328", "hover": "#1f2328", "inherit": False},
        "width": style.width,
        "selectionWidth": 2,
        "dashes": CONDITIONAL_DASHES if conditional else False,
        "arrows": {"to": {"enabled": True, "scaleFactor": 0.7}},
    }


def legend() -> dict[str, Any]:
    """The legend, from the same tables: node entries by section, edge entries, and the two overlays."""
    sections = [
        (title, [s for s in NODE_STYLES if s.group == group])
        for title, group in (
            ("Principals", "principals"),
            ("Outside the estate", "outsiders"),
            ("Resources", "resources"),
        )
    ]
    return {
        "sections": sections,
        "edges": list(EDGE_STYLES),
        "admin": ADMIN,
        "more": MORE,
        "dashes": CONDITIONAL_DASHES,
    }
