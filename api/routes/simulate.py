"""POST /simulate: simulation documents in, the lines of `iamgraph simulate --json` out."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from api.deps import SettingsDep, json_response
from api.errors import ApiError
from api.routes import errors
from api.schemas import SimulateResult
from iamgraph.errors import InputError
from iamgraph.evaluation.document import evaluate_document

router = APIRouter(prefix="/simulate", tags=["simulate"], responses=errors(401, 422))

Documents = Annotated[
    dict[str, Any] | list[Any],
    Body(description="One simulation document (docs/simulate-format.md) or a list of them"),
]


def _error(index: int, exc: InputError) -> dict[str, Any]:
    detail = {"where": exc.where or None, "element": exc.element or None}
    return {"index": index, "error": {"code": "invalid_document", "message": str(exc), "detail": detail}}


@router.post("", response_model=SimulateResult, summary="Evaluate simulation documents and explain each decision")
def simulate(
    documents: Documents,
    settings: SettingsDep,
    exact_context: Annotated[bool, Query(description="Use each request context verbatim")] = False,
) -> Response:
    docs = documents if isinstance(documents, list) else [documents]
    if len(docs) > settings.max_documents:
        raise ApiError(
            422,
            "limit_exceeded",
            f"at most {settings.max_documents} documents per request",
            {"limit": "max_documents", "value": settings.max_documents},
        )
    results: list[dict[str, Any]] = []
    for index, raw in enumerate(docs):
        try:
            if not isinstance(raw, dict):
                raise InputError("a simulation document must be a JSON object", where=f"document {index}")
            results.append(evaluate_document(raw, index=index, exact_context=exact_context).to_json())
        except InputError as exc:
            results.append(_error(index, exc))
    return json_response({"results": results, "failed": sum(1 for r in results if "error" in r)})
