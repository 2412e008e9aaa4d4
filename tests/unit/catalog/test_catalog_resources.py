"""Resource types of concrete ARNs: per action (resource_types_for) and overall (resource_type_of_arn)."""

from __future__ import annotations

import re

import pytest

from iamgraph.catalog import Catalog
from iamgraph.catalog.arns import ArnTypeIndex, compile_template
from iamgraph.catalog.records import split_arn_templates
from iamgraph.catalog.source import DataSource

ACCOUNT = "123456789012"
BUCKET = "arn:aws:s3:::example-bucket"
OBJECT = "arn:aws:s3:::example-bucket/reports/2026/q3.csv"
ACCESS_POINT_OBJECT = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/ap1/object/reports/q3.csv"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/deployer"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
KMS_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KMS_ALIAS = f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/app"


@pytest.mark.parametrize(
    ("action", "arn", "expected"),
    [
        pytest.param("s3:GetObject", OBJECT, ("object",), id="get-object-on-object"),
        pytest.param("s3:GetObject", BUCKET, (), id="get-object-on-bucket"),
        pytest.param("s3:GetObject", ACCESS_POINT_OBJECT, ("accesspointobject",), id="get-object-via-ap"),
        pytest.param("s3:ListBucket", BUCKET, ("bucket",), id="list-bucket-on-bucket"),
        pytest.param("s3:ListBucket", OBJECT, (), id="list-bucket-on-object"),
        pytest.param("s3:PutObject", "arn:aws-cn:s3:::b/k", ("object",), id="other-partition"),
        pytest.param("s3:ListAllMyBuckets", BUCKET, (), id="wildcard-only-action"),
        pytest.param("iam:PassRole", ROLE, ("role",), id="pass-role-on-role-with-path"),
        pytest.param("iam:PassRole", USER, (), id="pass-role-on-user"),
        pytest.param("IAM:putuserpolicy", USER, ("user",), id="any-case-action"),
        pytest.param("sts:AssumeRole", ROLE, ("role",), id="sts-type-with-iam-arn"),
        pytest.param("kms:Decrypt", KMS_KEY, ("key",), id="kms-key"),
        pytest.param("kms:Decrypt", KMS_ALIAS, (), id="kms-alias-is-not-a-key"),
        pytest.param("kms:Decrypt", "*", (), id="pseudo-resource-star"),
        pytest.param("s3:GetObject", "not-an-arn", (), id="not-an-arn"),
    ],
)
def test_resource_types_for(catalog: Catalog, action: str, arn: str, expected: tuple[str, ...]) -> None:
    assert tuple(ref.name for ref in catalog.resource_types_for(action, arn)) == expected


def test_resource_types_for_returns_the_action_refs(catalog: Catalog) -> None:
    info = catalog.action("s3:GetObject")
    assert info is not None
    (ref,) = catalog.resource_types_for("s3:GetObject", OBJECT)
    assert ref is info.resource_types[1]


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        pytest.param(BUCKET, ("s3", "bucket"), id="s3-bucket"),
        pytest.param(OBJECT, ("s3", "object"), id="s3-object"),
        pytest.param(ACCESS_POINT_OBJECT, ("s3", "accesspointobject"), id="s3-access-point-object"),
        pytest.param(ROLE, ("iam", "role"), id="iam-role-wins-over-sts-and-ec2"),
        pytest.param(USER, ("iam", "user"), id="iam-user"),
        pytest.param(f"arn:aws-us-gov:iam::{ACCOUNT}:role/r", ("iam", "role"), id="gov-partition"),
        pytest.param(KMS_KEY, ("kms", "key"), id="kms-key"),
        pytest.param(KMS_ALIAS, ("kms", "alias"), id="kms-alias"),
        pytest.param(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f", ("lambda", "function"), id="lambda"),
        pytest.param(f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t/index/i", ("dynamodb", "index"), id="ddb"),
        pytest.param(
            "arn:aws:apigateway:us-east-1::/restapis/a1/stages/prod", ("apigateway", "Stage"), id="alt-template"
        ),
        pytest.param(
            f"arn:aws:s3-object-lambda:us-east-1:{ACCOUNT}:accesspoint/olap",
            ("s3-object-lambda", "objectlambdaaccesspoint"),
            id="arn-service-wins-a-tie",
        ),
        pytest.param(
            f"arn:aws:route53-recovery-control::{ACCOUNT}:controlpanel/abc",
            ("route53-recovery-control-config", "controlpanel"),
            id="arn-service-is-not-a-prefix",
        ),
        pytest.param(f"arn:aws:nosuchservice:us-east-1:{ACCOUNT}:thing/x", None, id="unknown-service"),
        pytest.param("arn:aws:s3", None, id="truncated"),
        pytest.param("*", None, id="star"),
    ],
)
def test_resource_type_of_arn(catalog: Catalog, arn: str, expected: tuple[str, str] | None) -> None:
    assert catalog.resource_type_of_arn(arn) == expected


def test_resource_type_with_alternative_templates(catalog: Catalog) -> None:
    info = catalog.action("apigateway:GET")
    assert info is not None
    stage = next(ref for ref in info.resource_types if ref.name == "Stage")
    assert len(stage.arn_templates) == 2
    for arn in (
        "arn:aws:apigateway:us-east-1::/restapis/a1/stages/prod",
        "arn:aws:apigateway:us-east-1::/apis/a1/stages/p",
    ):
        assert stage in catalog.resource_types_for("apigateway:GET", arn)


@pytest.mark.parametrize(
    ("template", "arn", "matches"),
    [
        pytest.param("arn:${Partition}:s3:::${BucketName}", "arn:aws:s3:::b", True, id="bucket"),
        pytest.param("arn:${Partition}:s3:::${BucketName}", "arn::s3:::b", False, id="partition-required"),
        pytest.param("arn:${Partition}:s3:::${BucketName}", "arn:aws:s3:::", False, id="name-required"),
        pytest.param("arn:${Partition}:s3:::${BucketName}", "arn:aws:s3:us-east-1::b", False, id="no-region"),
        pytest.param(
            "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
            "arn:aws:iam::1:role/a/b:c",
            True,
            id="resource-placeholder-spans-slash-and-colon",
        ),
        pytest.param(
            "arn:${Partition}:braket:*:*:device/${DeviceType}/${Provider}/${DeviceId}",
            "arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1",
            True,
            id="literal-star-is-a-wildcard",
        ),
        pytest.param(
            "arn:${Partition}:sqs:${Region}:${Account}:${QueueName}",
            "arn:aws:sqs:us-east-1:1:q.fifo",
            True,
            id="dot-is-literal-in-arn-not-template",
        ),
        pytest.param("arn:${Partition}:s3:::${BucketName}.x", "arn:aws:s3:::bx", False, id="template-text-is-escaped"),
    ],
)
def test_compile_template(template: str, arn: str, matches: bool) -> None:
    compiled = compile_template(template, key=("svc", "type"))
    assert (compiled.regex.match(arn) is not None) is matches


def test_specificity_counts_literal_text() -> None:
    bucket = compile_template("arn:${Partition}:s3:::${BucketName}", key=("s3", "bucket"))
    obj = compile_template("arn:${Partition}:s3:::${BucketName}/${ObjectName}", key=("s3", "object"))
    assert obj.specificity == bucket.specificity + 1


_SAMPLE_VALUES = {"Partition": "aws", "Region": "us-east-1", "Account": ACCOUNT}


def _sample_arn(template: str) -> str:
    """A concrete ARN for a template: placeholders become short distinct values, ``*`` a letter."""
    counter = iter(range(1_000_000))
    return re.sub(r"\$\{([^}]*)\}", lambda m: _SAMPLE_VALUES.get(m.group(1), f"v{next(counter)}"), template).replace(
        "*", "w"
    )


def test_every_template_classifies_its_own_sample_arn(catalog: Catalog) -> None:
    """Data-wide invariant: an ARN built from a type's template is of that type (maybe among ties)."""
    source = DataSource()
    types = [
        ((service, entry["key"]), entry["arn"])
        for service in sorted(catalog.services())
        for entry in source.resource_types(service).values()
    ]
    index = ArnTypeIndex(types)
    misclassified = [
        (key, arn)
        for key, field in types
        for arn in map(_sample_arn, split_arn_templates(field))
        if key not in index.classify(arn)
    ]
    assert misclassified == []
