"""resources.json: the resource inventory of one account, with resource policies parsed (kind RESOURCE)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from iamgraph.ingest.reader import Loc, array, check_keys, decode_document, opt_string, parse_document, string
from iamgraph.model.policy import PolicyKind
from iamgraph.model.snapshot import Resource

__all__ = ["IMPLIED_RESOURCE_TYPES", "read_resources", "with_implied_resource"]

_TOP_KEYS = ("resources",)
_KEYS = ("arn", "type", "region", "policy", "tags", "roles", "properties")
_TYPE = re.compile(r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$")
# Resource policies that AWS stores without a Resource element: they apply to their own resource
# (ECR repository policies; `aws ecr get-repository-policy` returns them so).
IMPLIED_RESOURCE_TYPES = frozenset({"AWS::ECR::Repository", "AWS::ECR::PublicRepository"})


def with_implied_resource(policy: Any, arn: str) -> Any:
    """A policy of a type in IMPLIED_RESOURCE_TYPES with its resource named: each statement without
    Resource/NotResource gets ``"Resource": arn`` (what AWS applies it to); the input is not modified."""
    if not isinstance(policy, Mapping):
        return policy
    statements = policy.get("Statement")
    listed = statements if isinstance(statements, list) else [statements]
    fixed = [
        {**st, "Resource": arn} if isinstance(st, Mapping) and "Resource" not in st and "NotResource" not in st else st
        for st in listed
    ]
    return {**policy, "Statement": fixed if isinstance(statements, list) else fixed[0]}


def read_resources(doc: Any, *, where: str, account_id: str, roles: Collection[str]) -> dict[str, Resource]:
    """Resources by ARN; a role they run with that is of this account must be among its ``roles``."""
    loc = Loc(where)
    top = loc.obj(doc)
    check_keys(top, loc, _TOP_KEYS)
    out: dict[str, Resource] = {}
    items = loc.at("resources")
    for index, item in enumerate(array(top, "resources", loc, required=True)):
        here = items.at(index)
        resource = _resource(here.obj(item), here, account_id, roles)
        if resource.arn in out:
            raise here.at("arn").error(f"duplicate resource {resource.arn}")
        out[resource.arn] = resource
    return out


def _resource(obj: Mapping[str, Any], loc: Loc, account_id: str, roles: Collection[str]) -> Resource:
    check_keys(obj, loc, _KEYS)
    arn = string(obj, "arn", loc)
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise loc.at("arn").error(f"not an ARN: {arn}")
    if parts[4] and parts[4] != account_id:
        raise loc.at("arn").error(f"{arn} is in account {parts[4]}, not {account_id}")
    rtype = string(obj, "type", loc)
    if not _TYPE.match(rtype):
        raise loc.at("type").error(f'"{rtype}" is not a CloudFormation type name like AWS::S3::Bucket')
    raw_policy = obj.get("policy")
    policy = None
    if raw_policy is not None:
        if rtype in IMPLIED_RESOURCE_TYPES:
            raw_policy = with_implied_resource(decode_document(raw_policy, loc.at("policy")), arn)
        policy = parse_document(raw_policy, loc.at("policy"), name=arn, kind=PolicyKind.RESOURCE)
    return Resource(
        arn=arn,
        type=rtype,
        region=opt_string(obj, "region", loc),
        policy=policy,
        tags=_tags(obj, loc),
        role_arns=_roles(obj, loc, account_id, roles),
        properties=_properties(obj, loc),
    )


def _tags(obj: Mapping[str, Any], loc: Loc) -> dict[str, str]:
    raw = obj.get("tags")
    if raw is None:
        return {}
    tags = raw if type(raw) is dict else loc.at("tags").obj(raw)
    for key, value in tags.items():
        if not isinstance(value, str):
            raise loc.at("tags").at(key).error("a tag value must be a string")
    return dict(tags)


def _roles(obj: Mapping[str, Any], loc: Loc, account_id: str, roles: Collection[str]) -> tuple[str, ...]:
    out = []
    values = array(obj, "roles", loc)
    places = loc.at("roles") if values else loc
    for index, value in enumerate(values):
        here = places.at(index)
        arn = here.string(value)
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
            raise here.error(f"not an IAM role ARN: {arn}")
        if parts[4] == account_id and arn not in roles:
            raise here.error(f"role {arn} not in RoleDetailList of authorization-details.json")
        out.append(arn)
    return tuple(out)


def _properties(obj: Mapping[str, Any], loc: Loc) -> dict[str, Any]:
    raw = obj.get("properties")
    if raw is None:
        return {}
    return dict(raw if type(raw) is dict else loc.at("properties").obj(raw))
