"""The organization (--org): roots, OUs, accounts, and the SCPs and RCPs with their targets.

The tree must be read completely: without it no account can be placed, so an unreadable tree stops
the collection before anything is written. Policies are kept per type all or nothing: a partial set
of SCPs would give wrong chains, so when one of them is unreadable that type is left out of
organization.json and the report says so. A type not enabled on the root is not enforced and is left
out as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iamgraph.collect.account import policy_value
from iamgraph.collect.aws import CollectError
from iamgraph.collect.calls import Caller

__all__ = ["OrgAccount", "Organization", "collect_organization"]

POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")
_INACTIVE = frozenset({"SUSPENDED", "PENDING_CLOSURE", "CLOSED"})


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgAccount:
    id: str
    name: str
    active: bool


@dataclass(slots=True, kw_only=True)
class Organization:
    document: dict[str, Any]
    accounts: list[OrgAccount] = field(default_factory=list)
    complete: bool = True


def collect_organization(caller: Caller) -> Organization:
    """organization.json as docs/snapshot-format.md describes it; CollectError when the tree is unreadable."""
    org = _required(caller, caller.call("describe_organization", what="the organization"))["Organization"]
    roots = _required(caller, caller.pages("list_roots", keys=("Roots",), what="organization roots"))["Roots"]
    document: dict[str, Any] = {
        "id": org["Id"],
        "management_account": org["MasterAccountId"],
        "roots": [{"id": r["Id"]} for r in roots],
        "organizational_units": [],
        "accounts": [],
        "policies": [],
    }
    result = Organization(document=document)
    pending = [str(r["Id"]) for r in roots]
    while pending:
        parent = pending.pop(0)
        units = caller.pages(
            "list_organizational_units_for_parent",
            keys=("OrganizationalUnits",),
            what="organizational units",
            target=parent,
            ParentId=parent,
        )
        for unit in _required(caller, units)["OrganizationalUnits"]:
            document["organizational_units"].append({"id": unit["Id"], "name": unit["Name"], "parent": parent})
            pending.append(str(unit["Id"]))
        members = caller.pages(
            "list_accounts_for_parent", keys=("Accounts",), what="organization accounts", target=parent, ParentId=parent
        )
        for account in _required(caller, members)["Accounts"]:
            document["accounts"].append({"id": account["Id"], "name": account["Name"], "parent": parent})
            state = account.get("State") or account.get("Status")
            result.accounts.append(
                OrgAccount(id=str(account["Id"]), name=str(account["Name"]), active=state not in _INACTIVE)
            )
    enabled = {t["Type"] for r in roots for t in r.get("PolicyTypes") or () if t.get("Status") == "ENABLED"}
    for policy_type in POLICY_TYPES:
        if policy_type not in enabled:
            caller.note(f"{policy_type} not enabled on the root: left out (not enforced)")
            continue
        policies = _policies(caller, policy_type)
        if policies is None:
            result.complete = False
            continue
        document["policies"].extend(policies)
    return result


def _policies(caller: Caller, policy_type: str) -> list[dict[str, Any]] | None:
    label = "SCPs" if policy_type == "SERVICE_CONTROL_POLICY" else "RCPs"
    what = f"{label} and their targets: organization.json is written without {label}"
    listed = caller.pages("list_policies", keys=("Policies",), what=what, Filter=policy_type)
    if listed is None:
        return None
    out = []
    for summary in listed["Policies"]:
        policy_id = str(summary["Id"])
        detail = caller.call("describe_policy", what=what, target=policy_id, PolicyId=policy_id)
        targets = caller.pages(
            "list_targets_for_policy", keys=("Targets",), what=what, target=policy_id, PolicyId=policy_id
        )
        if detail is None or targets is None:
            return None
        out.append({
            "id": policy_id,
            "name": summary["Name"],
            "type": policy_type,
            "document": policy_value(detail["Policy"]["Content"]),
            "targets": [t["TargetId"] for t in targets["Targets"]],
        })  # fmt: skip
    return out


def _required(caller: Caller, answer: Any) -> Any:
    if answer is None:
        failure = caller.last_failure
        reason = f"{failure.code or failure.kind}: {failure.message}" if failure else "no answer"
        raise CollectError(
            f"--org: the organization is not readable from account {caller.account} ({reason}); run from the "
            "management account or a delegated administrator of AWS Organizations"
        )
    return answer
