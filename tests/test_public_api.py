"""Pins the public API: a change here is a deliberate API change."""

import iamgraph

EXPECTED = {
    "ConditionClause",
    "Context",
    "Decision",
    "Effect",
    "EngineOptions",
    "IamGraphError",
    "InputError",
    "MatchedStatement",
    "OrgLevel",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "PolicySet",
    "Principal",
    "PrincipalBlock",
    "PrincipalKind",
    "Request",
    "Result",
    "Statement",
    "StatementRef",
    "__version__",
    "evaluate",
    "evaluate_document",
    "parse_policy",
    "parse_policy_text",
    "principal_from_arn",
}


def test_public_api_is_pinned() -> None:
    assert set(iamgraph.__all__) == EXPECTED
    for name in iamgraph.__all__:
        assert hasattr(iamgraph, name), name


def test_core_has_no_io_dependencies() -> None:
    """The pure core never imports network, database or web libraries (checked in a fresh process)."""
    import subprocess
    import sys

    code = (
        "import sys, iamgraph, iamgraph.evaluation, iamgraph.policy, iamgraph.catalog;"
        "bad=[m for m in ('boto3','neo4j','fastapi','pyvis') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
