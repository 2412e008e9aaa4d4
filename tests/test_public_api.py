"""Pins the public API: a change here is a deliberate API change."""

import iamgraph

EXPECTED = {
    "ConditionClause", "Context", "Decision", "Effect", "EngineOptions", "IamGraphError", "InputError",
    "MatchedStatement", "OrgLevel", "Policy", "PolicyError", "PolicyKind", "PolicySet", "Principal",
    "PrincipalBlock", "PrincipalKind", "Request", "Result", "Statement", "StatementRef", "__version__",
    "evaluate", "evaluate_document", "parse_policy", "parse_policy_text", "principal_from_arn",
}


def test_public_api_is_pinned() -> None:
    assert set(iamgraph.__all__) == EXPECTED
    for name in iamgraph.__all__:
        assert hasattr(iamgraph, name), name


def test_core_has_no_io_dependencies() -> None:
    import sys

    import iamgraph.evaluation  # noqa: F401
    import iamgraph.policy  # noqa: F401

    for banned in ("boto3", "neo4j", "fastapi", "pyvis"):
        assert banned not in sys.modules, banned
