"""Managed policies of an authorization-details file: default version parsed, other versions kept raw.

AWS managed policies repeat in every account of an estate; they are parsed once per
(ARN, default version) for the whole load and shared between accounts. A file collected with ``--filter``
may leave them out: ``aws-managed-policies.json`` beside ``accounts/`` then supplies those attached
(:func:`read_aws_managed_policies`; a policy an account's own file lists is that account's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from iamgraph.ingest.reader import Loc, array, decode_document, opt_string, parse_document, string
from iamgraph.model.policy import Policy, PolicyKind
from iamgraph.model.snapshot import ManagedPolicy, PolicyVersion

__all__ = [
    "AWS_MANAGED",
    "AwsManaged",
    "ManagedPolicies",
    "PolicyCache",
    "read_aws_managed_policies",
    "read_managed_policies",
]

AWS_MANAGED = "aws-managed-policies.json"
AwsManaged = dict[str, tuple[ManagedPolicy, Loc]]  # supplied apart: by ARN, the policy and where its document is


@dataclass(slots=True)
class PolicyCache:
    """Parsed AWS managed policies shared across the accounts of one load."""

    parsed: dict[tuple[str, str, PolicyKind], Policy] = field(default_factory=dict)

    def get(self, key: tuple[str, str, PolicyKind], doc: Mapping[str, Any]) -> Policy | None:
        hit = self.parsed.get(key)
        return hit if hit is not None and hit.raw == doc else None


@dataclass(slots=True)
class ManagedPolicies:
    """The Policies list of one file, by ARN; boundaries are parsed on first use."""

    by_arn: dict[str, ManagedPolicy]
    locs: dict[str, Loc]  # where each default version's document is, for boundary parse errors
    cache: PolicyCache
    boundaries: dict[str, Policy] = field(default_factory=dict)
    supplied: AwsManaged = field(default_factory=dict)  # aws-managed-policies.json, when the snapshot has one

    def resolve(self, arn: str, loc: Loc) -> str:
        """Check that an attached or boundary ARN is in the Policies list (or, for an AWS managed policy, in
        ``aws-managed-policies.json``: then it joins this account's policies)."""
        if arn not in self.by_arn:
            found = self.supplied.get(arn)
            if found is not None:
                self.by_arn[arn], self.locs[arn] = found
                return arn
            hint = ""
            if ":iam::aws:policy/" in arn:  # a file made with --filter leaves AWS managed policies out
                hint = (
                    " (AWS managed policies are listed when get-account-authorization-details runs without"
                    f" --filter, or with AWSManagedPolicy among the filters; or put them in {AWS_MANAGED}"
                    " beside accounts/)"
                )
            raise loc.error(f"managed policy {arn} not in Policies{hint}")
        return arn

    def boundary(self, arn: str, loc: Loc) -> Policy:
        self.resolve(arn, loc)
        if arn not in self.boundaries:
            managed = self.by_arn[arn]
            self.boundaries[arn] = _parse(
                managed.policy.raw, self.locs[arn], arn, managed.default_version_id, PolicyKind.BOUNDARY, self.cache
            )
        return self.boundaries[arn]

    def finish(self) -> dict[str, ManagedPolicy]:
        """The managed policies with their boundary form filled in where one was used."""
        return {
            arn: replace(mp, boundary=self.boundaries[arn]) if arn in self.boundaries else mp
            for arn, mp in self.by_arn.items()
        }


def read_managed_policies(
    raw: list[Any], loc: Loc, account_id: str, cache: PolicyCache, supplied: AwsManaged | None = None
) -> ManagedPolicies:
    out = ManagedPolicies(by_arn={}, locs={}, cache=cache, supplied=supplied or {})
    for index, item in enumerate(raw):
        here = loc.at(index)
        mp, doc_loc = _managed(here.obj(item), here, account_id, cache)
        if mp.arn in out.by_arn:
            raise here.at("Arn").error(f"duplicate managed policy {mp.arn}")
        out.by_arn[mp.arn] = mp
        out.locs[mp.arn] = doc_loc
    return out


def read_aws_managed_policies(doc: Any, *, where: str, cache: PolicyCache) -> tuple[AwsManaged, tuple[str, ...]]:
    """``aws-managed-policies.json``: the output of ``aws iam get-account-authorization-details --filter
    AWSManagedPolicy`` (its user, group and role lists empty or absent), or any object with such a
    ``Policies`` list. Every policy must be AWS managed. Returns them by ARN, and the warnings of their
    documents (once for the snapshot, not once per account that attaches them)."""
    loc = Loc(where)
    top = loc.obj(doc)
    if top.get("IsTruncated") is True:
        raise loc.at("IsTruncated").error("only one page of the output: collect every page (the CLI does by default)")
    for key in ("UserDetailList", "GroupDetailList", "RoleDetailList"):
        if array(top, key, loc):
            raise loc.at(key).error(f"{AWS_MANAGED} holds AWS managed policies only: put principals in accounts/")
    out: AwsManaged = {}
    warnings: list[str] = []
    places = loc.at("Policies")
    for index, item in enumerate(array(top, "Policies", loc, required=True)):
        here = places.at(index)
        arn = string(here.obj(item), "Arn", here)
        if not arn.startswith("arn:") or arn.count(":") < 5 or arn.split(":")[4] != "aws":
            raise here.at("Arn").error(f"{arn} is not an AWS managed policy (arn:aws:iam::aws:policy/...)")
        if arn in out:
            raise here.at("Arn").error(f"duplicate managed policy {arn}")
        mp, doc_loc = _managed(item, here, "aws", cache)
        out[arn] = (mp, doc_loc)
        warnings.extend(f"{doc_loc.where}: {w}" for w in mp.policy.warnings)
    return out, tuple(warnings)


def _managed(obj: Mapping[str, Any], loc: Loc, account_id: str, cache: PolicyCache) -> tuple[ManagedPolicy, Loc]:
    arn = string(obj, "Arn", loc)
    owner = arn.split(":")[4] if arn.count(":") >= 5 else ""
    if owner not in ("aws", account_id):
        raise loc.at("Arn").error(f"policy ARN {arn} is neither AWS managed nor of account {account_id}")
    versions = array(obj, "PolicyVersionList", loc, required=True)
    default_index = _default_version(obj, versions, loc)
    version_loc = loc.at("PolicyVersionList").at(default_index)
    version_id = string(versions[default_index], "VersionId", version_loc)
    doc_loc = version_loc.at("Document")
    doc = decode_document(versions[default_index].get("Document"), doc_loc)
    managed = ManagedPolicy(
        arn=arn,
        name=string(obj, "PolicyName", loc),
        id=string(obj, "PolicyId", loc),
        path=opt_string(obj, "Path", loc) or "/",
        default_version_id=version_id,
        policy=_parse(doc, doc_loc, arn, version_id, PolicyKind.IDENTITY, cache),
        boundary=None,
        other_versions=_other_versions(versions, default_index, loc.at("PolicyVersionList")),
        attachment_count=_opt_int(obj, "AttachmentCount", loc),
        is_attachable=_opt_bool(obj, "IsAttachable", loc),
        description=opt_string(obj, "Description", loc),
        create_date=opt_string(obj, "CreateDate", loc),
        update_date=opt_string(obj, "UpdateDate", loc),
    )
    return managed, doc_loc


def _parse(doc: Mapping[str, Any], loc: Loc, arn: str, version_id: str, kind: PolicyKind, cache: PolicyCache) -> Policy:
    if arn.split(":")[4] != "aws":
        return parse_document(doc, loc, name=arn, kind=kind)
    key = (arn, version_id, kind)
    policy = cache.get(key, doc)
    if policy is None:
        policy = parse_document(doc, loc, name=arn, kind=kind)
        cache.parsed[key] = policy
    return policy


def _default_version(obj: Mapping[str, Any], versions: list[Any], loc: Loc) -> int:
    """Index of the one version with IsDefaultVersion true (and DefaultVersionId, when given)."""
    defaults = []
    for index, version in enumerate(versions):
        here = loc.at("PolicyVersionList").at(index)
        flag = here.obj(version).get("IsDefaultVersion")
        if not isinstance(flag, bool):
            raise here.at("IsDefaultVersion").error("must be true or false")
        if flag:
            defaults.append(index)
    if len(defaults) != 1:
        raise loc.at("PolicyVersionList").error(f"{len(defaults)} versions have IsDefaultVersion true; need exactly 1")
    default_id = opt_string(obj, "DefaultVersionId", loc)
    found = versions[defaults[0]].get("VersionId")
    if default_id is not None and found != default_id:
        raise loc.at("DefaultVersionId").error(
            f"is {default_id} but the default version in PolicyVersionList is {found}"
        )
    return defaults[0]


def _other_versions(versions: list[Any], default_index: int, loc: Loc) -> tuple[PolicyVersion, ...]:
    out = []
    for index, version in enumerate(versions):
        if index == default_index:
            continue
        here = loc.at(index)
        out.append(
            PolicyVersion(
                version_id=string(version, "VersionId", here),
                create_date=opt_string(version, "CreateDate", here),
                document=decode_document(version.get("Document"), here.at("Document")),
            )
        )
    return tuple(out)


def _opt_int(obj: Mapping[str, Any], key: str, loc: Loc) -> int | None:
    value = obj.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise loc.at(key).error("must be an integer")
    return value


def _opt_bool(obj: Mapping[str, Any], key: str, loc: Loc) -> bool | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise loc.at(key).error("must be true or false")
    return value
