"""organization.json: roots, OUs, accounts and SCP/RCP policies → Organization with per-account chains.

A chain lists, root first and the account last, the policies attached at each level of the account's
path. When the organization has SCPs, AWS keeps at least one attached at every level; a level without
one is reported rather than read as "deny everything". RCPs only deny (RCPFullAWSAccess is implicit),
so a level without RCPs is simply empty. The management account gets empty chains: SCPs and RCPs do
not restrict it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from iamgraph.evaluation.policyset import OrgLevel
from iamgraph.ingest.reader import Loc, array, check_keys, member, opt_string, parse_document, string
from iamgraph.model.organization import OrgAccount, Organization, OrgPolicy, OrgPolicyType, OrgRoot, OrgUnit
from iamgraph.model.policy import PolicyKind

__all__ = ["read_organization"]

_TOP_KEYS = ("id", "management_account", "roots", "organizational_units", "accounts", "policies")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_KINDS = {OrgPolicyType.SCP: PolicyKind.SCP, OrgPolicyType.RCP: PolicyKind.RCP}


def read_organization(doc: Any, *, where: str) -> tuple[Organization, tuple[str, ...]]:
    """The organization and the warnings of its policies (statements that grant nothing)."""
    loc = Loc(where)
    top = loc.obj(doc)
    check_keys(top, loc, _TOP_KEYS)
    seen: dict[str, Loc] = {}
    roots = {r.id: r for r in _entries(top, "roots", loc, seen, _root, required=True)}
    units = {u.id: u for u in _entries(top, "organizational_units", loc, seen, _unit, required=False)}
    members = list(_entries(top, "accounts", loc, seen, _member, required=True))
    parents: dict[str, str] = {u.id: u.parent for u in units.values()}
    parents.update((a.id, a.parent) for a, _ in members)
    for node_id, parent in parents.items():
        if parent not in roots and parent not in units:
            raise seen[node_id].at("parent").error(f'parent "{parent}" is neither a root nor an OU')
    org_id = opt_string(top, "id", loc)
    if org_id is not None and not re.fullmatch(r"o-[a-z0-9]{10,32}", org_id):
        raise loc.at("id").error(f'"{org_id}" is not an organization id (o-…)')
    management = string(top, "management_account", loc)
    if management not in {a.id for a, _ in members}:
        raise loc.at("management_account").error(f"{management} is not in accounts")
    for unit in units.values():
        _path(unit.id, seen[unit.id], parents, roots)
    policies = {p.id: p for p in _entries(top, "policies", loc, seen, _policy, required=False)}
    _check_targets(policies, seen, loc)
    _check_scp_everywhere(policies, seen)
    scps, rcps = _attachments(policies, OrgPolicyType.SCP), _attachments(policies, OrgPolicyType.RCP)
    accounts = {}
    for draft, here in members:
        path = _path(draft.id, here, parents, roots)
        exempt = draft.id == management
        accounts[draft.id] = replace(
            draft, path=path, scps=() if exempt else _chain(path, scps), rcps=() if exempt else _chain(path, rcps)
        )
    warnings = tuple(f"{where}: {w}" for p in policies.values() for w in p.policy.warnings)
    org = Organization(
        id=org_id, management_account=management, roots=roots, units=units, accounts=accounts, policies=policies
    )
    return org, warnings


def _entries(top: Mapping[str, Any], key: str, loc: Loc, seen: dict[str, Loc], read: Any, *, required: bool) -> Any:
    """Read each entry of a list with ``read(obj, loc)``; ids are unique across the whole file."""
    for index, item in enumerate(array(top, key, loc, required=required)):
        here = loc.at(key).at(index)
        entry = read(here.obj(item), here)
        entry_id = entry[0].id if isinstance(entry, tuple) else entry.id
        if entry_id in seen:
            raise here.at("id").error(f'duplicate id "{entry_id}" (also {seen[entry_id].path})')
        seen[entry_id] = here
        yield entry


def _id(obj: Mapping[str, Any], loc: Loc, prefix: str) -> str:
    value = string(obj, "id", loc)
    if not value.startswith(prefix):
        raise loc.at("id").error(f'"{value}" does not start with "{prefix}"')
    return value


def _root(obj: Mapping[str, Any], loc: Loc) -> OrgRoot:
    check_keys(obj, loc, ("id",))
    return OrgRoot(id=_id(obj, loc, "r-"))


def _unit(obj: Mapping[str, Any], loc: Loc) -> OrgUnit:
    check_keys(obj, loc, ("id", "name", "parent"))
    return OrgUnit(id=_id(obj, loc, "ou-"), name=string(obj, "name", loc), parent=string(obj, "parent", loc))


def _member(obj: Mapping[str, Any], loc: Loc) -> tuple[OrgAccount, Loc]:
    check_keys(obj, loc, ("id", "name", "parent"))
    account_id = string(obj, "id", loc)
    if not _ACCOUNT_ID.match(account_id):
        raise loc.at("id").error(f'"{account_id}" is not a 12-digit account id')
    draft = OrgAccount(
        id=account_id, name=string(obj, "name", loc), parent=string(obj, "parent", loc), path=(), scps=(), rcps=()
    )
    return draft, loc


def _policy(obj: Mapping[str, Any], loc: Loc) -> OrgPolicy:
    check_keys(obj, loc, ("id", "name", "type", "document", "targets"))
    raw_type = string(obj, "type", loc)
    try:
        ptype = OrgPolicyType(raw_type)
    except ValueError:
        allowed = " or ".join(t.value for t in OrgPolicyType)
        raise loc.at("type").error(f'"{raw_type}" is not {allowed}') from None
    name = string(obj, "name", loc)
    document = parse_document(member(obj, "document", loc), loc.at("document"), name=name, kind=_KINDS[ptype])
    targets = tuple(loc.at("targets").at(i).string(t) for i, t in enumerate(array(obj, "targets", loc, required=True)))
    return OrgPolicy(id=_id(obj, loc, "p-"), name=name, type=ptype, policy=document, targets=targets)


def _check_targets(policies: Mapping[str, OrgPolicy], seen: Mapping[str, Loc], loc: Loc) -> None:
    for policy in policies.values():
        for index, target in enumerate(policy.targets):
            if target not in seen or target in policies:
                here = seen[policy.id].at("targets").at(index)
                raise here.error(f'target "{target}" is not a root, OU or account of this organization')


def _check_scp_everywhere(policies: Mapping[str, OrgPolicy], seen: Mapping[str, Loc]) -> None:
    attached = {t for p in policies.values() if p.type is OrgPolicyType.SCP for t in p.targets}
    if not attached:
        return  # SCPs are not enabled: no SCP layer at all
    for node_id, here in seen.items():
        if node_id not in policies and node_id not in attached:
            raise here.error(
                f'no SERVICE_CONTROL_POLICY attached to "{node_id}"; AWS keeps one at every level (FullAWSAccess)'
            )


def _path(node: str, loc: Loc, parents: Mapping[str, str], roots: Mapping[str, OrgRoot]) -> tuple[str, ...]:
    """The ids from the root down to ``node``."""
    path = [node]
    while path[-1] not in roots:
        parent = parents[path[-1]]
        if parent in path:
            raise loc.at("parent").error(f"the parent chain of {node} loops back to {parent}")
        path.append(parent)
    return tuple(reversed(path))


def _attachments(policies: Mapping[str, OrgPolicy], ptype: OrgPolicyType) -> dict[str, list[OrgPolicy]] | None:
    """Target id → attached policies of one type; None when the organization has none of that type."""
    out: dict[str, list[OrgPolicy]] = {}
    for policy in policies.values():
        if policy.type is ptype:
            for target in policy.targets:
                out.setdefault(target, []).append(policy)
    return out if any(p.type is ptype for p in policies.values()) else None


def _chain(path: tuple[str, ...], attached: Mapping[str, list[OrgPolicy]] | None) -> tuple[OrgLevel, ...]:
    if attached is None:
        return ()
    return tuple(OrgLevel(name=level, policies=tuple(p.policy for p in attached.get(level, ()))) for level in path)
