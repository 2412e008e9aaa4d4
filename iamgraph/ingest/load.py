"""load_snapshot: a snapshot directory (or one bare authorization-details file) → Snapshot.

Each file is read and decoded once. Files whose names we do not know but that look like data
(``*.json``, ``*.csv``) are an error rather than silently skipped; hidden files and notes such as
``EXPECTED.md`` are ignored.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from iamgraph._gc import collector_paused
from iamgraph.errors import InputError
from iamgraph.ingest.account_info import AccountInfo, read_account_info
from iamgraph.ingest.authorization import AuthorizationDetails, account_id_from_arns, read_authorization_details
from iamgraph.ingest.collection_report import read_collection_report
from iamgraph.ingest.credential_report import read_credential_report
from iamgraph.ingest.managed import AWS_MANAGED, AwsManaged, PolicyCache, read_aws_managed_policies
from iamgraph.ingest.organization import read_organization
from iamgraph.ingest.reader import read_json
from iamgraph.ingest.resources import read_resources
from iamgraph.model.organization import Organization
from iamgraph.model.snapshot import Account, CredentialReportRow, Resource, Snapshot

__all__ = ["load_snapshot"]

ORGANIZATION = "organization.json"
ACCOUNTS = "accounts"
AUTHORIZATION = "authorization-details.json"
RESOURCES = "resources.json"
CREDENTIAL_REPORT = "credential-report.csv"
ACCOUNT_INFO = "account.json"
COLLECTION_REPORT = "collection-report.json"  # written by iamgraph collect: what it could not read
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_DATA_SUFFIXES = (".json", ".csv")


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Read a snapshot (docs/snapshot-format.md); any bad input raises InputError naming file and element."""
    root = Path(path)
    with collector_paused():  # millions of long-lived objects, no cyclic garbage
        if root.is_dir():
            return _load_directory(root)
        if root.is_file():
            return _load_bare(root)
    raise InputError("no such file or directory", where=os.fspath(path))


def _load_bare(file: Path) -> Snapshot:
    """A lone authorization-details file: one account, its id taken from the ARNs inside."""
    where = file.name
    doc = read_json(file, where)
    account_id = account_id_from_arns(doc, where)
    details = read_authorization_details(doc, where=where, account_id=account_id, cache=PolicyCache())
    account = _account(details, resources={}, report=None, info=AccountInfo(), where=where)
    return Snapshot(accounts={account_id: account}, organization=None, warnings=account.warnings)


def _load_directory(root: Path) -> Snapshot:
    _check_entries(root, "", {ORGANIZATION, ACCOUNTS, COLLECTION_REPORT, AWS_MANAGED})
    organization: Organization | None = None
    warnings: tuple[str, ...] = ()
    if (root / COLLECTION_REPORT).is_file():
        report = read_json(root / COLLECTION_REPORT, COLLECTION_REPORT)
        warnings = read_collection_report(report, where=COLLECTION_REPORT)
    if (root / ORGANIZATION).is_file():
        organization, org_warnings = read_organization(read_json(root / ORGANIZATION, ORGANIZATION), where=ORGANIZATION)
        warnings += org_warnings
    accounts_dir = root / ACCOUNTS
    if not accounts_dir.is_dir():
        raise InputError(f"missing: a snapshot holds {ACCOUNTS}/<account-id>/{AUTHORIZATION}", where=f"{ACCOUNTS}/")
    cache = PolicyCache()
    supplied: AwsManaged = {}
    if (root / AWS_MANAGED).is_file():
        supplied, managed_warnings = read_aws_managed_policies(
            read_json(root / AWS_MANAGED, AWS_MANAGED), where=AWS_MANAGED, cache=cache
        )
        warnings += managed_warnings
    accounts: dict[str, Account] = {}
    for entry in sorted(accounts_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        where = f"{ACCOUNTS}/{entry.name}"
        if not entry.is_dir() or not _ACCOUNT_ID.match(entry.name):
            raise InputError("expected a directory named by a 12-digit account id", where=where)
        accounts[entry.name] = _load_account(entry, where, entry.name, cache, organization, supplied)
    if not accounts:
        raise InputError("no account directory", where=f"{ACCOUNTS}/")
    warnings += tuple(w for a in accounts.values() for w in a.warnings)
    return Snapshot(accounts=accounts, organization=organization, warnings=warnings)


def _load_account(
    folder: Path,
    where: str,
    account_id: str,
    cache: PolicyCache,
    organization: Organization | None,
    supplied: AwsManaged,
) -> Account:
    _check_entries(folder, f"{where}/", {AUTHORIZATION, RESOURCES, CREDENTIAL_REPORT, ACCOUNT_INFO})
    if organization is not None and account_id not in organization.accounts:
        raise InputError(f"account {account_id} is not in {ORGANIZATION} accounts", where=where)
    details_where = f"{where}/{AUTHORIZATION}"
    if not (folder / AUTHORIZATION).is_file():
        raise InputError("missing (required for every account)", where=details_where)
    details = read_authorization_details(
        read_json(folder / AUTHORIZATION, details_where),
        where=details_where,
        account_id=account_id,
        cache=cache,
        supplied=supplied,
    )
    resources: dict[str, Resource] = {}
    if (folder / RESOURCES).is_file():
        resources_where = f"{where}/{RESOURCES}"
        doc = read_json(folder / RESOURCES, resources_where)
        resources = read_resources(doc, where=resources_where, account_id=account_id, roles=details.roles)
    report = None
    if (folder / CREDENTIAL_REPORT).is_file():
        report = read_credential_report(
            folder / CREDENTIAL_REPORT, where=f"{where}/{CREDENTIAL_REPORT}", account_id=account_id
        )
    info = AccountInfo()
    if (folder / ACCOUNT_INFO).is_file():
        info_where = f"{where}/{ACCOUNT_INFO}"
        info = read_account_info(read_json(folder / ACCOUNT_INFO, info_where), where=info_where)
    return _account(details, resources=resources, report=report, info=info, where=f"{where}/{RESOURCES}")


def _account(
    details: AuthorizationDetails,
    *,
    resources: dict[str, Resource],
    report: tuple[CredentialReportRow, ...] | None,
    info: AccountInfo,
    where: str,
) -> Account:
    warnings = details.warnings + tuple(
        f"{where}: {w}" for r in resources.values() if r.policy for w in r.policy.warnings
    )
    return Account(
        id=details.account_id,
        alias=info.alias,
        users=details.users,
        groups=details.groups,
        roles=details.roles,
        managed_policies=details.managed_policies,
        instance_profiles=details.instance_profiles,
        resources=resources,
        credential_report=report,
        credential_report_generated=info.credential_report_generated,
        password_policy=info.password_policy,
        summary=info.summary,
        warnings=warnings,
    )


def _check_entries(folder: Path, prefix: str, known: set[str]) -> None:
    """Unknown data-looking files are errors (a misnamed file must not be skipped silently)."""
    for entry in folder.iterdir():
        name = entry.name
        if name in known or name.startswith("."):
            continue
        if entry.is_dir() or name.endswith(_DATA_SUFFIXES):
            expected = ", ".join(sorted(known))
            raise InputError(f"unknown snapshot entry (expected {expected})", where=f"{prefix}{name}")
