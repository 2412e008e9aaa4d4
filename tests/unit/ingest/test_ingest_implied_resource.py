"""Resource policies stored without a Resource element (ECR repositories) apply to their own resource."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamgraph.errors import InputError
from iamgraph.evaluation.document import evaluate_document
from iamgraph.ingest.resources import read_resources, with_implied_resource

ACCOUNT = "111122223333"
REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app"
PULLER = "arn:aws:iam::444455556666:root"
ECR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "CrossAccountPull",
            "Effect": "Allow",
            "Principal": {"AWS": PULLER},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        }
    ],
}


def _read(rtype: str, policy: Any) -> Any:
    doc = {"resources": [{"arn": REPO, "type": rtype, "region": "eu-west-1", "policy": policy}]}
    return read_resources(doc, where="resources.json", account_id=ACCOUNT, roles=())[REPO]


@pytest.mark.parametrize("as_text", [False, True], ids=["object", "json-text"])
def test_ecr_policy_without_resource_names_its_repository(as_text: bool) -> None:
    res = _read("AWS::ECR::Repository", json.dumps(ECR_POLICY) if as_text else ECR_POLICY)
    assert res.policy is not None
    (st,) = res.policy.statements
    assert st.resources == (REPO,)
    # and it decides: the other account's principal may pull from this repository, not from another one
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    for resource, expected in ((REPO, "Allowed"), (f"{REPO}-other", "ImplicitlyDenied")):
        doc = {
            "request": {
                "principal": "arn:aws:iam::444455556666:role/ci",
                "action": "ecr:BatchGetImage",
                "resource": resource,
                "resourceAccount": ACCOUNT,
                "context": {},
            },
            "identityPolicies": [allow_all],
            "resourcePolicy": res.policy.raw,
        }
        assert evaluate_document(doc).decision.result.value == expected, resource


def test_the_input_is_not_modified_and_statements_with_resource_are_kept() -> None:
    doc = {"Statement": [dict(ECR_POLICY["Statement"][0]), {**ECR_POLICY["Statement"][0], "Resource": "*"}]}
    before = json.dumps(doc, sort_keys=True)
    fixed = with_implied_resource(doc, REPO)
    assert json.dumps(doc, sort_keys=True) == before
    assert [st.get("Resource") for st in fixed["Statement"]] == [REPO, "*"]


def test_other_types_still_need_a_resource_element() -> None:
    with pytest.raises(InputError) as err:
        _read("AWS::SQS::Queue", ECR_POLICY)
    assert "Resource" in str(err.value)
