"""The reader helpers: JSON paths in messages and the three forms of a policy document."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from iamgraph.errors import InputError
from iamgraph.ingest.reader import Loc, decode_document, parse_document
from iamgraph.model.policy import PolicyKind

DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:userid": "AIDA+x%"}},
        }
    ],
}


def test_loc_paths() -> None:
    loc = Loc("f.json").at("UserDetailList").at(3).at("AttachedManagedPolicies").at(0)
    assert loc.path == "UserDetailList[3].AttachedManagedPolicies[0]"
    assert Loc("f.json").at("tags").at("a b").path == 'tags."a b"'
    assert str(loc.error("boom")) == "f.json: UserDetailList[3].AttachedManagedPolicies[0]: boom"


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(DOC, id="object"),
        pytest.param(json.dumps(DOC), id="json-text"),
        pytest.param("  " + json.dumps(DOC, indent=2), id="json-text-indented"),
        pytest.param(quote(json.dumps(DOC), safe=""), id="url-encoded"),
    ],
)
def test_document_forms(form: object) -> None:
    assert decode_document(form, Loc("f.json", "X")) == DOC  # "+" and "%" inside values survive


@pytest.mark.parametrize("value", [None, 3, ["x"], "%7B%22broken", '"a string"'])
def test_bad_documents(value: object) -> None:
    with pytest.raises(InputError) as caught:
        decode_document(value, Loc("f.json", "Policies[0].PolicyVersionList[0].Document"))
    assert caught.value.where == "f.json"
    assert caught.value.element == "Policies[0].PolicyVersionList[0].Document"


def test_policy_error_is_located_in_the_file() -> None:
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Foo": 1}]}
    with pytest.raises(InputError) as caught:
        parse_document(bad, Loc("f.json", "RolePolicyList[0].PolicyDocument"), name="p", kind=PolicyKind.IDENTITY)
    assert caught.value.where == "f.json"
    assert caught.value.element == "RolePolicyList[0].PolicyDocument.Statement[0].Foo"
