"""Run PMapper's graph building offline on one account of a snapshot; print its edges as JSON.

    <pmapper venv>/bin/python bench/pmapper_offline.py ACCOUNT_DIR

Runs inside the separate virtualenv that bench/vs_pmapper.py creates with ``principalmapper`` 1.1.5
(AGPL: this script only calls it). It never touches the network: PMapper's ``create_graph`` gets a
stand-in botocore session whose IAM client answers ``get_account_authorization_details`` with the
account's ``authorization-details.json`` (policy documents decoded to objects, as boto3 returns them),
``list_access_keys`` / ``get_login_profile`` / ``list_mfa_devices`` from its ``credential-report.csv``
when there is one, and whose other clients (Lambda, CloudFormation, CodeBuild, Auto Scaling, S3, KMS,
SNS, SQS, Secrets Manager, …) list nothing. Sockets are disabled for the whole run as a guard.

Output (one JSON object on stdout): ``seconds`` and ``cpu_seconds`` (``create_graph`` wall and CPU time),
``nodes``, ``admins`` (ARNs PMapper marks admin) and ``edges``: ``[source ARN, destination ARN, reason, short reason]``.
"""

from __future__ import annotations

import collections
import collections.abc
import csv
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

# principalmapper 1.1.5 imports these names from collections (removed in Python 3.10)
collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]
collections.MutableMapping = collections.abc.MutableMapping  # type: ignore[attr-defined]


def _no_network(*_args: Any, **_kwargs: Any) -> Any:
    raise OSError("network disabled in the PMapper offline benchmark")


socket.socket.connect = _no_network  # type: ignore[method-assign]
socket.socket.connect_ex = _no_network  # type: ignore[method-assign]
socket.create_connection = _no_network
socket.getaddrinfo = _no_network


class NoSuchEntity(Exception):
    """What botocore raises for a missing login profile (PMapper checks the text)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"An error occurred (NoSuchEntity) when calling the GetLoginProfile operation: {what}")


EMPTY_PAGES = {
    "list_functions": {"Functions": []},
    "describe_stacks": {"Stacks": []},
    "list_projects": {"projects": []},
    "describe_launch_configurations": {"LaunchConfigurations": []},
    "list_keys": {"Keys": []},
    "list_topics": {"Topics": []},
    "list_secrets": {"SecretList": []},
    "list_virtual_mfa_devices": {"VirtualMFADevices": []},
    "list_notebook_instances": {"NotebookInstances": []},
    "list_training_jobs": {"TrainingJobSummaries": []},
}


class Paginator:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def paginate(self, **_kwargs: Any) -> list[dict[str, Any]]:
        return self.pages


class Meta:
    def __init__(self, region: str) -> None:
        self.region_name = region
        self.endpoint_url = "offline://stand-in"


class Client:
    def __init__(self, service: str, region: str, account: Account) -> None:
        self.service = service
        self.meta = Meta(region)
        self.account = account

    def get_paginator(self, operation: str) -> Paginator:
        if operation == "get_account_authorization_details":
            return Paginator([self.account.details])
        if operation in EMPTY_PAGES:
            return Paginator([EMPTY_PAGES[operation]])
        raise NotImplementedError(f"{self.service}.{operation} paginator")

    # STS
    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": self.account.id, "Arn": f"arn:aws:iam::{self.account.id}:user/bench", "UserId": "BENCH"}

    # IAM, per user, from the credential report (argument names are botocore's)
    def list_access_keys(self, UserName: str) -> dict[str, Any]:
        row = self.account.report.get(UserName, {})
        keys = [k for k in ("access_key_1_active", "access_key_2_active") if row.get(k) == "true"]
        return {"AccessKeyMetadata": [{"UserName": UserName, "Status": "Active"} for _ in keys]}

    def get_login_profile(self, UserName: str) -> dict[str, Any]:
        if self.account.report.get(UserName, {}).get("password_enabled") == "true":
            return {"LoginProfile": {"UserName": UserName}}
        raise NoSuchEntity(f"Login Profile for User {UserName} cannot be found.")

    def list_mfa_devices(self, UserName: str) -> dict[str, Any]:
        active = self.account.report.get(UserName, {}).get("mfa_active") == "true"
        return {"MFADevices": [{"UserName": UserName}] if active else []}

    # resource-policy gathering: nothing to list
    def list_buckets(self) -> dict[str, Any]:
        return {"Buckets": []}

    def list_queues(self, **_kwargs: Any) -> dict[str, Any]:
        return {}

    def batch_get_projects(self, **_kwargs: Any) -> dict[str, Any]:
        return {"projects": []}


class Session:
    """Just what PMapper's create_graph and edge checkers call on a botocore session."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.clients: list[str] = []

    def create_client(self, service: str, region_name: str = "us-east-1", **_kwargs: Any) -> Client:
        self.clients.append(service)
        return Client(service, region_name, self.account)

    def get_available_regions(self, _service: str, *_args: Any, **_kwargs: Any) -> list[str]:
        return ["us-east-1"]


def _decode(doc: Any) -> Any:
    if isinstance(doc, str):
        text = doc.strip()
        return json.loads(text if text.startswith("{") else unquote(text))
    return doc


class Account:
    def __init__(self, folder: Path) -> None:
        self.id = folder.name
        details = json.loads((folder / "authorization-details.json").read_text())
        for entity, key in (
            ("UserDetailList", "UserPolicyList"),
            ("GroupDetailList", "GroupPolicyList"),
            ("RoleDetailList", "RolePolicyList"),
        ):
            for item in details[entity]:
                for pol in item.get(key, []):
                    pol["PolicyDocument"] = _decode(pol["PolicyDocument"])
                if entity == "RoleDetailList":
                    item["AssumeRolePolicyDocument"] = _decode(item["AssumeRolePolicyDocument"])
        for pol in details["Policies"]:
            for version in pol["PolicyVersionList"]:
                version["Document"] = _decode(version["Document"])
        self.details = details
        self.report: dict[str, dict[str, str]] = {}
        report = folder / "credential-report.csv"
        if report.is_file():
            with report.open(newline="") as handle:
                self.report = {row["user"]: row for row in csv.DictReader(handle)}


def main() -> int:
    folder = Path(sys.argv[1])
    account = Account(folder)
    from principalmapper.graphing import gathering
    from principalmapper.graphing.edge_identification import checker_map

    session = Session(account)
    t0, c0 = time.perf_counter(), time.process_time()
    graph = gathering.create_graph(session, list(checker_map), region_allow_list=None, region_deny_list=None)  # type: ignore[arg-type]
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "pmapper_version": graph.metadata.get("pmapper_version"),
                "checkers": sorted(checker_map),
                "clients": sorted(set(session.clients)),
                "nodes": len(graph.nodes),
                "admins": sorted(n.arn for n in graph.nodes if n.is_admin),
                "edges": [[e.source.arn, e.destination.arn, e.reason, e.short_reason] for e in graph.edges],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
