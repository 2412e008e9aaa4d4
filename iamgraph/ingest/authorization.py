"""``aws iam get-account-authorization-details`` output → users, groups, roles, managed policies.

Every reference is resolved here: group memberships, attached managed policies, permissions
boundaries, instance profile roles. A dangling one is an InputError naming file and element. Fields
AWS may add to its output are ignored; the four lists must be present (an unfiltered call).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from iamgraph.ingest.managed import AwsManaged, ManagedPolicies, PolicyCache, read_managed_policies
from iamgraph.ingest.reader import Loc, array, member, opt_string, parse_document, string
from iamgraph.model.policy import Policy, PolicyKind
from iamgraph.model.snapshot import Group, InlinePolicy, InstanceProfile, ManagedPolicy, Role, RoleLastUsed, User

__all__ = ["LISTS", "AuthorizationDetails", "account_id_from_arns", "read_authorization_details"]

_E = TypeVar("_E", User, Group, Role)

LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationDetails:
    account_id: str
    users: dict[str, User]
    groups: dict[str, Group]
    roles: dict[str, Role]
    managed_policies: dict[str, ManagedPolicy]
    instance_profiles: dict[str, InstanceProfile]
    warnings: tuple[str, ...]


@dataclass(slots=True)
class _Ctx:
    account_id: str
    managed: ManagedPolicies
    warnings: list[str]

    def parsed(self, policy: Policy, loc: Loc) -> Policy:
        self.warnings.extend(f"{loc.where}: {w}" for w in policy.warnings)
        return policy


def account_id_from_arns(doc: Any, where: str) -> str:
    """The account a bare authorization-details file belongs to, from its principals' and policies' ARNs."""
    top = Loc(where).obj(doc)
    found: tuple[str, Loc] | None = None
    for key in LISTS:
        items = top.get(key)
        for index, item in enumerate(items if isinstance(items, list) else []):
            arn = item.get("Arn") if isinstance(item, Mapping) else None
            parts = arn.split(":") if isinstance(arn, str) else []
            if len(parts) < 6 or parts[4] in ("", "aws"):
                continue
            loc = Loc(where).at(key).at(index).at("Arn")
            if found is None:
                found = (parts[4], loc)
            elif parts[4] != found[0]:
                raise loc.error(f"account {parts[4]} differs from account {found[0]} of {found[1].path}")
    if found is None:
        raise Loc(where).error("no ARN of a user, group, role or customer managed policy tells the account id")
    return found[0]


def read_authorization_details(
    doc: Any, *, where: str, account_id: str, cache: PolicyCache, supplied: AwsManaged | None = None
) -> AuthorizationDetails:
    """One account's authorization details; ``supplied``: AWS managed policies of ``aws-managed-policies.json``,
    for those attached here that the file's own Policies list leaves out."""
    loc = Loc(where)
    top = loc.obj(doc)
    if top.get("IsTruncated") is True:
        raise loc.at("IsTruncated").error("only one page of the output: collect every page (the CLI does by default)")
    lists = {key: array(top, key, loc, required=True) for key in LISTS}
    managed = read_managed_policies(lists["Policies"], loc.at("Policies"), account_id, cache, supplied)
    ctx = _Ctx(account_id=account_id, managed=managed, warnings=[])
    for mp in managed.by_arn.values():
        ctx.parsed(mp.policy, managed.locs[mp.arn])
    groups = _keyed(_group(ctx, item, here) for item, here in _items(lists, "GroupDetailList", loc))
    by_name = {g.name: g.arn for g in groups.values()}
    users = _keyed(_user(ctx, item, here, by_name) for item, here in _items(lists, "UserDetailList", loc))
    members: dict[str, list[str]] = {arn: [] for arn in groups}
    for user in users.values():
        for group_arn in user.group_arns:
            members[group_arn].append(user.arn)
    groups = {arn: replace(g, member_arns=tuple(members[arn])) for arn, g in groups.items()}
    pairs = [_role(ctx, item, here) for item, here in _items(lists, "RoleDetailList", loc)]
    roles = _keyed((role, here) for role, _, here in pairs)
    profiles = _instance_profiles(pairs, roles)
    ctx.warnings.extend(_shared_ids(where, [*users.values(), *groups.values(), *roles.values()]))
    return AuthorizationDetails(
        account_id=account_id,
        users=users,
        groups=groups,
        roles=roles,
        managed_policies=managed.finish(),
        instance_profiles=profiles,
        warnings=tuple(ctx.warnings),
    )


def _shared_ids(where: str, entities: Iterable[User | Group | Role]) -> list[str]:
    """A warning per entity whose unique id another one has too (IAM ids are unique: an edited or merged
    file; a policy naming the id, as AWS shows a deleted principal, then names both here)."""
    first: dict[str, str] = {}
    out = []
    for entity in entities:
        if entity.id:
            other = first.setdefault(entity.id, entity.arn)
            if other != entity.arn:
                out.append(f"{where}: {entity.arn} has the id {entity.id} of {other} as well (IAM ids are unique)")
    return out


def _items(lists: Mapping[str, list[Any]], key: str, loc: Loc) -> Iterable[tuple[Any, Loc]]:
    base = loc.at(key)
    return ((item, base.at(index)) for index, item in enumerate(lists[key]))


def _keyed(items: Iterable[tuple[_E, Loc]]) -> dict[str, _E]:
    out: dict[str, _E] = {}
    for entity, loc in items:
        if entity.arn in out:
            raise loc.at("Arn").error(f"duplicate ARN {entity.arn}")
        out[entity.arn] = entity
    return out


def _arn(obj: Mapping[str, Any], loc: Loc, ctx: _Ctx, kind: str) -> str:
    arn = string(obj, "Arn", loc)
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith(f"{kind}/"):
        raise loc.at("Arn").error(f"not an IAM {kind} ARN: {arn}")
    if parts[4] != ctx.account_id:
        raise loc.at("Arn").error(f"{arn} is not in account {ctx.account_id}")
    return arn


def _tags(obj: Mapping[str, Any], loc: Loc) -> dict[str, str]:
    tags: dict[str, str] = {}
    for index, tag in enumerate(array(obj, "Tags", loc)):
        if type(tag) is dict and type(value := tag.get("Value")) is str and type(key := tag.get("Key")) is str and key:
            tags[key] = value  # the place is made only for an error
            continue
        here = loc.at("Tags").at(index)
        value = member(here.obj(tag), "Value", here)
        if not isinstance(value, str):
            raise here.at("Value").error("must be a string")
        tags[string(tag, "Key", here)] = value
    return tags


def _inline(ctx: _Ctx, obj: Mapping[str, Any], key: str, loc: Loc, owner: str) -> tuple[InlinePolicy, ...]:
    out = []
    for index, item in enumerate(array(obj, key, loc)):
        here = loc.at(key).at(index)
        name = string(here.obj(item), "PolicyName", here)
        doc_loc = here.at("PolicyDocument")
        policy = parse_document(
            member(item, "PolicyDocument", here), doc_loc, name=f"{owner}/inline/{name}", kind=PolicyKind.IDENTITY
        )
        out.append(InlinePolicy(name=name, policy=ctx.parsed(policy, doc_loc)))
    return tuple(out)


def _attached(ctx: _Ctx, obj: Mapping[str, Any], loc: Loc) -> tuple[str, ...]:
    out = []
    items = array(obj, "AttachedManagedPolicies", loc)
    places = loc.at("AttachedManagedPolicies") if items else loc
    for index, item in enumerate(items):
        here = places.at(index)
        arn = ctx.managed.resolve(string(here.obj(item), "PolicyArn", here), here)
        if arn in out:  # IAM attaches a policy once: the second listing adds nothing (said, then left out)
            ctx.warnings.append(f"{here.where}: {here.path}: {arn} is attached twice; counted once")
            continue
        out.append(arn)
    return tuple(out)


def _boundary(ctx: _Ctx, obj: Mapping[str, Any], loc: Loc) -> tuple[str | None, Policy | None]:
    raw = obj.get("PermissionsBoundary")
    if raw is None:
        return None, None
    here = loc.at("PermissionsBoundary")
    arn = string(here.obj(raw), "PermissionsBoundaryArn", here)
    return arn, ctx.managed.boundary(arn, here)


def _group(ctx: _Ctx, item: Any, loc: Loc) -> tuple[Group, Loc]:
    obj = loc.obj(item)
    arn = _arn(obj, loc, ctx, "group")
    group = Group(
        arn=arn,
        name=string(obj, "GroupName", loc),
        id=string(obj, "GroupId", loc),
        path=opt_string(obj, "Path", loc) or "/",
        create_date=opt_string(obj, "CreateDate", loc),
        member_arns=(),
        inline_policies=_inline(ctx, obj, "GroupPolicyList", loc, arn),
        attached_policy_arns=_attached(ctx, obj, loc),
    )
    return group, loc


def _user(ctx: _Ctx, item: Any, loc: Loc, groups: Mapping[str, str]) -> tuple[User, Loc]:
    obj = loc.obj(item)
    arn = _arn(obj, loc, ctx, "user")
    group_arns = []
    for index, name in enumerate(array(obj, "GroupList", loc)):
        here = loc.at("GroupList").at(index)
        if here.string(name) not in groups:
            raise here.error(f'group "{name}" not in GroupDetailList')
        group_arns.append(groups[name])
    boundary_arn, boundary = _boundary(ctx, obj, loc)
    user = User(
        arn=arn,
        name=string(obj, "UserName", loc),
        id=string(obj, "UserId", loc),
        path=opt_string(obj, "Path", loc) or "/",
        create_date=opt_string(obj, "CreateDate", loc),
        tags=_tags(obj, loc),
        group_arns=tuple(group_arns),
        inline_policies=_inline(ctx, obj, "UserPolicyList", loc, arn),
        attached_policy_arns=_attached(ctx, obj, loc),
        boundary_arn=boundary_arn,
        boundary=boundary,
    )
    return user, loc


def _role(ctx: _Ctx, item: Any, loc: Loc) -> tuple[Role, list[tuple[InstanceProfile, Loc]], Loc]:
    obj = loc.obj(item)
    arn = _arn(obj, loc, ctx, "role")
    trust_loc = loc.at("AssumeRolePolicyDocument")
    trust = parse_document(member(obj, "AssumeRolePolicyDocument", loc), trust_loc, name=arn, kind=PolicyKind.TRUST)
    raw_profiles = array(obj, "InstanceProfileList", loc)
    profiles = [_profile(raw, loc.at("InstanceProfileList").at(i)) for i, raw in enumerate(raw_profiles)]
    boundary_arn, boundary = _boundary(ctx, obj, loc)
    role = Role(
        arn=arn,
        name=string(obj, "RoleName", loc),
        id=string(obj, "RoleId", loc),
        path=opt_string(obj, "Path", loc) or "/",
        create_date=opt_string(obj, "CreateDate", loc),
        tags=_tags(obj, loc),
        trust_policy=ctx.parsed(trust, trust_loc),
        inline_policies=_inline(ctx, obj, "RolePolicyList", loc, arn),
        attached_policy_arns=_attached(ctx, obj, loc),
        boundary_arn=boundary_arn,
        boundary=boundary,
        instance_profile_arns=tuple(p.arn for p, _ in profiles),
        last_used=_last_used(obj, loc),
    )
    return role, profiles, loc


def _last_used(obj: Mapping[str, Any], loc: Loc) -> RoleLastUsed | None:
    raw = obj.get("RoleLastUsed")
    if raw is None:
        return None
    here = loc.at("RoleLastUsed")
    used = here.obj(raw)
    return RoleLastUsed(date=opt_string(used, "LastUsedDate", here), region=opt_string(used, "Region", here))


def _profile(raw: Any, loc: Loc) -> tuple[InstanceProfile, Loc]:
    obj = loc.obj(raw)
    role_arns = []
    for index, role in enumerate(array(obj, "Roles", loc)):
        here = loc.at("Roles").at(index)
        role_arns.append(string(here.obj(role), "Arn", here))
    profile = InstanceProfile(
        arn=string(obj, "Arn", loc),
        name=string(obj, "InstanceProfileName", loc),
        id=string(obj, "InstanceProfileId", loc),
        path=opt_string(obj, "Path", loc) or "/",
        create_date=opt_string(obj, "CreateDate", loc),
        role_arns=tuple(role_arns),
        tags=_tags(obj, loc),
    )
    return profile, loc


def _instance_profiles(
    pairs: list[tuple[Role, list[tuple[InstanceProfile, Loc]], Loc]], roles: Mapping[str, Role]
) -> dict[str, InstanceProfile]:
    """Instance profiles appear under each of their roles: keep one per ARN, check their roles exist."""
    out: dict[str, InstanceProfile] = {}
    for _, profiles, _ in pairs:
        for profile, loc in profiles:
            for index, role_arn in enumerate(profile.role_arns):
                if role_arn not in roles:
                    raise loc.at("Roles").at(index).error(f"role {role_arn} not in RoleDetailList")
            out.setdefault(profile.arn, profile)
    return out
