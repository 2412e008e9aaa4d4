"""The tasks of one account, each one service in one region (or a global step), and what follows them.

A task returns the tasks that follow from it: an account's session → its IAM tasks and its region
tasks (after discovering the enabled regions when --regions was not given); the S3 listing → one task
per region that has buckets. Tasks run in worker threads and only add to the account's AccountData.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from iamgraph.collect import iam
from iamgraph.collect.account import AccountData
from iamgraph.collect.aws import AccountSession
from iamgraph.collect.calls import Caller
from iamgraph.collect.options import CollectOptions
from iamgraph.collect.regions import enabled_regions
from iamgraph.collect.report import Recorder
from iamgraph.collect.services import REGIONAL, BucketListing, RegionalService, bucket_regions, collect_buckets

__all__ = ["AccountRun", "Task", "TaskMaker"]

LEFT_OUT = "a session in the account: the account is left out"


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    account: str
    service: str
    region: str | None
    unreadable: str  # what the snapshot lacks if the task never runs
    run: Callable[[], Sequence[Task]]

    @property
    def label(self) -> str:
        return self.service if self.region is None else f"{self.service} {self.region}"


class AccountRun:
    """One account while it is collected: what was read, its session, its tasks still outstanding."""

    def __init__(self, account_id: str, name: str | None) -> None:
        self.data = AccountData(account_id, name)
        self.session: AccountSession | None = None
        self.outstanding = 0

    @property
    def id(self) -> str:
        return self.data.id


class TaskMaker:
    def __init__(
        self, options: CollectOptions, recorder: Recorder, cancel: threading.Event, base: AccountSession
    ) -> None:
        self.options = options
        self.recorder = recorder
        self.cancel = cancel
        self.base = base

    def caller(self, session: AccountSession, service: str, region: str | None, *, regional: bool = True) -> Caller:
        return Caller(session, self.recorder, self.cancel, service=service, region=region, regional=regional)

    def session(self, run: AccountRun) -> Task:
        """The first task of an account: the caller's own session, or one through --assume-role."""

        def start() -> Sequence[Task]:
            run.session = self.base if run.id == self.base.account else self._assume(run.id)
            return () if run.session is None else self._account(run)

        return Task(account=run.id, service="sts", region=None, run=start, unreadable=LEFT_OUT)

    def _assume(self, account_id: str) -> AccountSession | None:
        role_arn = f"arn:{self.base.partition}:iam::{account_id}:role/{self.options.role_path()}"
        caller = Caller(self.base, self.recorder, self.cancel, service="sts", region=None, regional=False,
                        account=account_id)  # fmt: skip
        assume = _AssumeRole(caller, {"RoleArn": role_arn, "RoleSessionName": self.options.role_session_name})
        first = assume.fetch()
        return None if first is None else self.base.assumed(account_id, first, assume.refresh)

    def _account(self, run: AccountRun) -> list[Task]:
        session = run.session
        assert session is not None

        def iam_task(what: str, step: Callable[[Caller, AccountData], None]) -> Task:
            def read() -> Sequence[Task]:
                step(self.caller(session, "iam", None, regional=False), run.data)
                return ()

            return Task(account=run.id, service="iam", region=None, unreadable=what, run=read)

        tasks = [
            iam_task("IAM users, groups, roles and policies (authorization details)", iam.collect_authorization),
            iam_task("account summary, password policy and alias", iam.collect_account_info),
            iam_task("credential report", iam.collect_credential_report),
            iam_task("OIDC and SAML identity providers", iam.collect_providers),
        ]
        if self.options.regions:
            return tasks + self._regional(run, list(self.options.regions))

        def discover() -> Sequence[Task]:
            return self._regional(run, enabled_regions(self.caller(session, "ec2", None, regional=False)))

        what = "the list of enabled regions: no regional resources were read"
        return [*tasks, Task(account=run.id, service="ec2", region=None, run=discover, unreadable=what)]

    def _regional(self, run: AccountRun, regions: list[str]) -> list[Task]:
        run.data.regions = regions
        tasks = [self._service(run, service, region) for region in regions for service in REGIONAL]
        return [*tasks, self._bucket_listing(run, regions)]

    def _service(self, run: AccountRun, service: RegionalService, region: str) -> Task:
        def read() -> Sequence[Task]:
            assert run.session is not None
            run.data.add(service.collect(self.caller(run.session, service.name, region)))
            return ()

        return Task(account=run.id, service=service.name, region=region, unreadable=service.label, run=read)

    def _bucket_listing(self, run: AccountRun, regions: list[str]) -> Task:
        def read() -> Sequence[Task]:
            session = run.session
            assert session is not None
            listing = bucket_regions(self.caller(session, "s3", None, regional=False),
                                     self.caller(session, "s3control", None, regional=False))  # fmt: skip
            if listing is None:
                return ()
            outside = sorted(r for r in listing.by_region if r not in regions)
            if outside:
                count = sum(len(listing.by_region[r]) for r in outside)
                message = f"{count} bucket(s) in regions not collected ({', '.join(outside)}) left out"
                self.recorder.note(run.id, None, "s3", message)
            return [self._buckets(run, region, listing) for region in regions if region in listing.by_region]

        return Task(account=run.id, service="s3", region=None, run=read, unreadable="S3 buckets and their policies")

    def _buckets(self, run: AccountRun, region: str, listing: BucketListing) -> Task:
        def read() -> Sequence[Task]:
            assert run.session is not None
            caller = self.caller(run.session, "s3", region)
            run.data.add(collect_buckets(caller, listing.by_region[region], listing))
            return ()

        what = "S3 bucket policies and public access blocks"
        return Task(account=run.id, service="s3", region=region, run=read, unreadable=what)


class _AssumeRole:
    """sts:AssumeRole into one account: the first call is recorded; renewals go through botocore's refresh."""

    def __init__(self, caller: Caller, params: dict[str, str]) -> None:
        self.caller = caller
        self.params = params

    def fetch(self) -> dict[str, str] | None:
        answer = self.caller.call("assume_role", what=LEFT_OUT, target=self.params["RoleArn"], **self.params)
        return None if answer is None else _metadata(answer)

    def refresh(self) -> dict[str, str]:
        sts: Any = self.caller.client()
        return _metadata(sts.assume_role(**self.params))


def _metadata(answer: dict[str, Any]) -> dict[str, str]:
    """Credentials in the form botocore's refreshable credentials take (kept in memory only)."""
    credentials = answer["Credentials"]
    expiry = credentials["Expiration"]
    return {
        "access_key": str(credentials["AccessKeyId"]),
        "secret_key": str(credentials["SecretAccessKey"]),
        "token": str(credentials["SessionToken"]),
        "expiry_time": expiry.isoformat() if hasattr(expiry, "isoformat") else str(expiry),
    }
