"""Running a collection: the tasks of iamgraph.collect.tasks on a bounded thread pool.

Only the main thread schedules and writes: an account's
files are written as soon as its last task ends. At most ``parallel`` accounts are in flight, and as
many API calls. Ctrl-C sets the cancel event: tasks stop at their next call, whatever was read is
written (each account whose authorization details were read is a consistent part of the snapshot),
every part not read is reported as interrupted, and the report says the collection is incomplete.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Protocol

from iamgraph import __version__
from iamgraph.collect.aws import AccountSession, CollectError, Identity, base_session, caller_identity, client_config
from iamgraph.collect.calls import Caller, Cancelled
from iamgraph.collect.options import CollectOptions
from iamgraph.collect.org import Organization, collect_organization
from iamgraph.collect.report import AccountStatus, CallRecord, Failure, FailureKind, Outcome, Recorder, utc_now
from iamgraph.collect.tasks import AccountRun, Task, TaskMaker
from iamgraph.collect.writer import SnapshotWriter

__all__ = ["Collector", "Progress"]


class Progress(Protocol):
    """What a front end hears of a running collection (the CLI draws bars per account)."""

    def account_started(self, account: str, name: str | None) -> None: ...
    def tasks_added(self, account: str, count: int) -> None: ...
    def task_started(self, account: str, label: str) -> None: ...
    def task_done(self, account: str) -> None: ...
    def account_done(self, account: str, status: str) -> None: ...


class Collector:
    """One collection into ``out``; :meth:`run` raises CollectError before anything is written."""

    def __init__(self, options: CollectOptions, out: Path, progress: Progress | None = None) -> None:
        self.options = options
        self.writer = SnapshotWriter(out)
        self.progress = progress
        self.cancel = threading.Event()
        self.recorder = Recorder(version=__version__, options=options.to_json())
        self._tasks: TaskMaker | None = None

    def run(self) -> Recorder:
        self.writer.check()
        session = base_session(self.options)
        identity = caller_identity(session, self.options)
        self._identified(identity)
        config = client_config(self.options)
        base = AccountSession(session, account=identity.account, partition=identity.partition, options=self.options,
                              config=config)  # fmt: skip
        self._tasks = TaskMaker(self.options, self.recorder, self.cancel, base)
        organization = None
        if self.options.org:
            caller = Caller(base, self.recorder, self.cancel, service="organizations", region=None, regional=False)
            organization = collect_organization(caller)
        targets = self._targets(identity, organization)
        self.writer.create()
        try:
            self.writer.report(self.recorder.to_json())  # marked unfinished until the end
            if organization is not None:
                self.writer.organization(organization.document)
                self.recorder.organization = "collected" if organization.complete else "partial"
            self._schedule(targets)
        except KeyboardInterrupt:  # a second Ctrl-C, or one before the accounts started
            self.recorder.interrupted = True
            raise
        finally:
            self.recorder.finished = utc_now()
            self.writer.report(self.recorder.to_json())
        return self.recorder

    # Which accounts -------------------------------------------------------------------------------------

    def _identified(self, identity: Identity) -> None:
        self.recorder.caller = {"account": identity.account, "arn": identity.arn}
        self.recorder.call(CallRecord(
            account=identity.account, region=None, service="sts", operation="GetCallerIdentity", target=None,
            outcome=Outcome.OK, code=None, attempts=1, pages=1, seconds=0.0,
        ))  # fmt: skip

    def _targets(self, identity: Identity, organization: Organization | None) -> list[tuple[str, str | None]]:
        role = self.options.role_path()
        chosen: list[tuple[str, str | None]] = [(a, None) for a in self.options.accounts or (identity.account,)]
        if organization is not None:
            known = {a.id: a for a in organization.accounts}
            for account_id in self.options.accounts:
                if account_id not in known:
                    raise CollectError(
                        f"--account {account_id}: not an account of organization {organization.document['id']}"
                    )
            selected = set(self.options.accounts or known)
            chosen = []
            for account in organization.accounts:
                entry = self.recorder.account(account.id)
                entry.name = account.name
                if account.id not in selected:
                    entry.status, entry.reason = AccountStatus.SKIPPED, "not selected (--account)"
                elif not account.active:
                    entry.status, entry.reason = AccountStatus.SKIPPED, "suspended or closed"
                elif account.id != identity.account and role is None:
                    entry.status, entry.reason = AccountStatus.SKIPPED, "no --assume-role to reach it"
                else:
                    chosen.append((account.id, account.name))
        elif role is None and any(a != identity.account for a, _ in chosen):
            other = next(a for a, _ in chosen if a != identity.account)
            raise CollectError(
                f"--account {other}: the credentials are of account {identity.account}; "
                "reaching another account needs --assume-role NAME"
            )
        for account_id, _ in chosen:
            self.recorder.account(account_id).access = "caller" if account_id == identity.account else "assume-role"
        return chosen

    # Scheduling -----------------------------------------------------------------------------------------

    def _schedule(self, targets: list[tuple[str, str | None]]) -> None:
        waiting = deque(targets)
        running: dict[str, AccountRun] = {}
        pending: dict[Future[Sequence[Task]], Task] = {}
        with ThreadPoolExecutor(max_workers=self.options.parallel, thread_name_prefix="iamgraph-collect") as pool:

            def submit(state: AccountRun, tasks: Sequence[Task]) -> None:
                state.outstanding += len(tasks)
                if self.progress and tasks:
                    self.progress.tasks_added(state.id, len(tasks))
                for task in tasks:
                    pending[pool.submit(self._run, task)] = task

            def start_accounts() -> None:
                while waiting and len(running) < self.options.parallel:
                    account_id, name = waiting.popleft()
                    state = running[account_id] = AccountRun(account_id, name)
                    if self.progress:
                        self.progress.account_started(account_id, name)
                    assert self._tasks is not None
                    submit(state, [self._tasks.session(state)])

            try:
                start_accounts()
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        task = pending.pop(future)
                        state = running[task.account]
                        submit(state, future.result())
                        state.outstanding -= 1
                        if self.progress:
                            self.progress.task_done(task.account)
                        if state.outstanding == 0:
                            self._finish(running.pop(task.account), interrupted=False)
                    start_accounts()
            except KeyboardInterrupt:
                self._interrupt(pool, pending, running, waiting)

    def _interrupt(
        self,
        pool: ThreadPoolExecutor,
        pending: dict[Future[Sequence[Task]], Task],
        running: dict[str, AccountRun],
        waiting: deque[tuple[str, str | None]],
    ) -> None:
        """Stop: running tasks end at their next call; everything not read is reported as interrupted."""
        self.cancel.set()
        self.recorder.interrupted = True
        for future, task in pending.items():
            if future.cancel():
                self._interrupted(task)
        pool.shutdown(wait=True)
        for future in pending:
            if not future.cancelled():
                for follow in future.result():
                    self._interrupted(follow)
        for state in running.values():
            self._finish(state, interrupted=True)
        for account_id, _ in waiting:
            entry = self.recorder.account(account_id)
            entry.status, entry.reason = AccountStatus.INTERRUPTED, "not started"

    def _run(self, task: Task) -> Sequence[Task]:
        """A task in a worker thread; nothing it raises stops the other tasks."""
        if self.progress:
            self.progress.task_started(task.account, task.label)
        try:
            return task.run()
        except Cancelled:
            self._interrupted(task)
        except Exception as exc:  # a bug in one collector must not abort the rest: report it
            self._task_failed(task, FailureKind.ERROR, type(exc).__name__, str(exc)[:300])
        return ()

    def _interrupted(self, task: Task) -> None:
        self._task_failed(task, FailureKind.INTERRUPTED, None, "collection interrupted before this was read")

    def _task_failed(self, task: Task, kind: FailureKind, code: str | None, message: str) -> None:
        self.recorder.fail(Failure(
            account=task.account, region=task.region, service=task.service, operation=None, target=None, kind=kind,
            code=code, message=message, unreadable=task.unreadable,
        ))  # fmt: skip

    def _finish(self, state: AccountRun, *, interrupted: bool) -> None:
        """Write the account's files (when its authorization details were read) and settle its status."""
        entry = self.recorder.account(state.id)
        entry.regions = list(state.data.regions)
        files = state.data.files(lambda message: self.recorder.note(state.id, None, None, message))
        if files:
            self.writer.account(state.id, files)
            entry.written = True
            entry.resources = state.data.written_resources
        failures = self.recorder.failures_of(state.id)
        if interrupted:
            entry.status = AccountStatus.INTERRUPTED
        elif not files:
            entry.status = AccountStatus.FAILED
            entry.reason = _reason(failures)
        else:
            entry.status = AccountStatus.PARTIAL if failures else AccountStatus.COMPLETE
        if state.session is not None and self._tasks is not None and state.session is not self._tasks.base:
            state.session.close()
        if self.progress:
            self.progress.account_done(state.id, str(entry.status))


def _reason(failures: list[Failure]) -> str:
    for failure in failures:
        if failure.operation in ("AssumeRole", "GetAccountAuthorizationDetails"):
            return f"{failure.service}:{failure.operation} failed ({failure.code or failure.kind})"
    return "authorization details not read"
