"""One router per resource: health, snapshots, queries, graph, simulate."""

from typing import Any

from api.schemas import ErrorResponse

__all__ = ["errors"]

_WHY = {
    401: "Missing or wrong bearer token",
    403: "Uploads are disabled on this server",
    404: "No such snapshot, principal, resource or node (close matches in detail)",
    409: "Name taken or too many snapshots",
    413: "Upload or archive content too large",
    415: "Not a tar.gz or zip archive",
    422: "Invalid request (detail names the field) or a limit was hit (detail names the limit)",
    501: "Needs the in-memory store (iamgraph serve --store memory): this server reads Neo4j",
    503: "No snapshot loaded yet, or the graph store (Neo4j) is down or refuses the credentials",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error answers of a route (all share ErrorResponse)."""
    return {code: {"model": ErrorResponse, "description": _WHY[code]} for code in codes}
