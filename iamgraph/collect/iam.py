"""Account-level IAM: authorization details (every page), credential report (and when it was generated),
password policy, account summary, alias, and the identity providers roles can trust (OIDC, SAML) as
resources."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from iamgraph.collect.account import AUTHORIZATION_KEYS, AccountData, ResourceRecord, tags_of
from iamgraph.collect.calls import Caller, Cancelled
from iamgraph.collect.report import FailureKind

__all__ = [
    "collect_account_info",
    "collect_authorization",
    "collect_credential_report",
    "collect_providers",
    "utc_text",
]

REPORT_WAIT_SECONDS = 120.0
_POLL_SECONDS = 2.0


def collect_authorization(caller: Caller, data: AccountData) -> None:
    """``get-account-authorization-details`` with no filter, every page merged (what the CLI prints)."""
    pages = caller.pages(
        "get_account_authorization_details",
        keys=AUTHORIZATION_KEYS,
        what="IAM users, groups, roles and policies (authorization details): the account is left out",
    )
    if pages is not None:
        _complete_policies(caller, pages["Policies"])
        data.authorization = dict(pages)


def _complete_policies(caller: Caller, policies: list[dict[str, object]]) -> None:
    """AWS always names its managed policies in the authorization details; some emulators leave out
    ``PolicyName`` and ``PolicyId``, which ingest needs: ask ``iam:GetPolicy`` for those (noted)."""
    for policy in policies:
        if policy.get("PolicyName") and policy.get("PolicyId"):
            continue
        arn = str(policy.get("Arn"))
        answer = caller.call("get_policy", what="managed policy name and id", target=arn, PolicyArn=arn)
        if answer is not None:
            found = answer.get("Policy") or {}
            policy.setdefault("PolicyName", found.get("PolicyName"))
            policy.setdefault("PolicyId", found.get("PolicyId"))
            caller.note(f"{arn}: PolicyName/PolicyId missing from the authorization details, read with GetPolicy")


def collect_account_info(caller: Caller, data: AccountData) -> None:
    summary = caller.call("get_account_summary", what="account summary")
    if summary is not None:
        data.set_info("summary", summary.get("SummaryMap"))
    policy = caller.call("get_account_password_policy", what="password policy", absent=("NoSuchEntity",))
    if policy is not None:
        data.set_info("password_policy", policy.get("PasswordPolicy"))
    aliases = caller.pages("list_account_aliases", keys=("AccountAliases",), what="account alias")
    if aliases is not None:
        data.set_info("alias", next(iter(aliases["AccountAliases"]), None))


def collect_credential_report(caller: Caller, data: AccountData, *, wait: float = REPORT_WAIT_SECONDS) -> None:
    """Generate the report, wait until AWS says it is complete, then read it (CSV, already decoded)."""
    what = "credential report"
    deadline = time.monotonic() + wait
    while True:
        state = caller.call("generate_credential_report", what=what)
        if state is None:
            return
        if state.get("State") == "COMPLETE":
            break
        if time.monotonic() > deadline:
            caller.fail(
                FailureKind.TIMEOUT, what, f"not generated within {wait:.0f} s", operation="GenerateCredentialReport"
            )
            return
        if caller.cancel.wait(_POLL_SECONDS):
            raise Cancelled
    report = caller.call("get_credential_report", what=what)
    if report is not None and isinstance(report.get("Content"), bytes):
        data.credential_report = report["Content"]
        generated = report.get("GeneratedTime")
        if isinstance(generated, datetime):
            data.set_info("credential_report_generated", utc_text(generated))
        else:
            caller.note("credential report: no GeneratedTime in the answer; account.json cannot say when it was made")


def utc_text(moment: datetime) -> str:
    """An ISO 8601 UTC time as account.json stores it (``2026-11-15T08:30:00Z``); naive means UTC (botocore)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def collect_providers(caller: Caller, data: AccountData) -> None:
    """OIDC and SAML providers: the principals of federated trust policies."""
    records: list[ResourceRecord] = []
    oidc = caller.call("list_open_id_connect_providers", what="OIDC identity providers")
    for item in (oidc or {}).get("OpenIDConnectProviderList", ()):
        arn = str(item["Arn"])
        record = ResourceRecord(arn=arn, type="AWS::IAM::OIDCProvider", region=None)
        detail = caller.call(
            "get_open_id_connect_provider", what="OIDC provider details", target=arn, OpenIDConnectProviderArn=arn
        )
        if detail is None:
            record.unreadable.append("Properties")
        else:
            record.properties = {"Url": detail.get("Url"), "ClientIdList": detail.get("ClientIDList")}
            record.tags = tags_of(detail.get("Tags"))
        records.append(record)
    saml = caller.call("list_saml_providers", what="SAML identity providers")
    for item in (saml or {}).get("SAMLProviderList", ()):
        properties = {"ValidUntil": item.get("ValidUntil")}
        records.append(
            ResourceRecord(arn=str(item["Arn"]), type="AWS::IAM::SAMLProvider", region=None, properties=properties)
        )
    data.add(records)
