"""Guarded AWS calls: each one is recorded, its error classified and turned into a Failure, never raised.

One failing call, service or region never aborts the rest: a caller gets ``None`` back and goes on.
Ctrl-C sets the cancel event; the next call raises :class:`Cancelled`, which ends the task quietly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Sequence
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from iamgraph.collect.aws import AccountSession
from iamgraph.collect.report import CallRecord, Failure, FailureKind, Outcome, Recorder

__all__ = ["Caller", "Cancelled", "classify"]

_ACCESS_DENIED = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
    "AuthorizationErrorException", "Forbidden", "UnauthorizedAccess", "UnauthorizedException",
    "AccessDeniedForDependencyException", "NotAuthorized", "InsufficientPermissionsException",
})  # fmt: skip
_THROTTLED = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled", "SlowDown",
    "ProvisionedThroughputExceededException", "BandwidthLimitExceeded", "PriorRequestNotComplete",
    "EC2ThrottledException", "TransactionInProgressException",
})  # fmt: skip
_REGION = frozenset({
    "UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired",
    "SubscriptionRequiredException", "InvalidAccessKeyId",
})  # fmt: skip
_MESSAGE_LIMIT = 300


class Cancelled(Exception):
    """The collection was interrupted; the task stops at its next call."""


def classify(code: str | None, status: int | None, *, regional: bool) -> FailureKind:
    if code in _THROTTLED:
        return FailureKind.THROTTLED
    if code in _ACCESS_DENIED or (status == 403 and code not in _REGION):
        return FailureKind.ACCESS_DENIED
    if code in _REGION and regional:
        return FailureKind.REGION_UNAVAILABLE
    if code in _REGION:
        return FailureKind.ACCESS_DENIED
    return FailureKind.ERROR


class Caller:
    """Calls of one service in one account and region, recorded with attempts, pages and outcome."""

    def __init__(
        self,
        session: AccountSession,
        recorder: Recorder,
        cancel: threading.Event,
        *,
        service: str,
        region: str | None,
        regional: bool = True,
        account: str | None = None,
    ) -> None:
        self.session = session
        self._account = account  # the account the calls are about, when not the session's (sts:AssumeRole)
        self.recorder = recorder
        self.cancel = cancel
        self.service = service
        self.region = region
        self.regional = regional and region is not None
        self.last_failure: Failure | None = None

    @property
    def account(self) -> str:
        return self._account or self.session.account

    def client(self) -> BaseClient:
        return self.session.client(self.service, self.region)

    def call(
        self,
        operation: str,
        *,
        what: str,
        target: str | None = None,
        absent: Collection[str] = (),
        **params: Any,
    ) -> dict[str, Any] | None:
        """One operation; ``None`` when it failed (recorded) or answered with an ``absent`` error code
        (``{}`` is returned for those: "there is none"), so callers can tell the two apart."""
        self._check()
        client = self.client()
        name = client.meta.method_to_api_mapping.get(operation, operation)
        started = time.monotonic()
        try:
            answer: dict[str, Any] = getattr(client, operation)(**params)
        except ClientError as exc:
            return self._client_error(exc, name, target, what, absent, started)
        except BotoCoreError as exc:
            self._other_error(exc, name, target, what, started)
            return None
        self._record(name, target, Outcome.OK, None, _attempts(answer), 1, started)
        return answer

    def pages(
        self, operation: str, *, keys: Sequence[str], what: str, target: str | None = None, **params: Any
    ) -> dict[str, list[Any]] | None:
        """Every page of a paginated listing, the ``keys`` lists concatenated; ``None`` when it failed."""
        self._check()
        client = self.client()
        name = client.meta.method_to_api_mapping.get(operation, operation)
        merged: dict[str, list[Any]] = {key: [] for key in keys}
        started, attempts, pages = time.monotonic(), 1, 0
        try:
            for page in client.get_paginator(operation).paginate(**params):
                self._check()
                pages += 1
                attempts = max(attempts, _attempts(page))
                for key in keys:
                    merged[key].extend(page.get(key) or [])
        except ClientError as exc:
            self._client_error(exc, name, target, what, (), started)
            return None
        except BotoCoreError as exc:
            self._other_error(exc, name, target, what, started)
            return None
        self._record(name, target, Outcome.OK, None, attempts, pages, started)
        return merged

    def fail(
        self,
        kind: FailureKind,
        what: str,
        message: str,
        *,
        operation: str | None = None,
        target: str | None = None,
        code: str | None = None,
    ) -> None:
        self.last_failure = Failure(
            account=self.account, region=self.region, service=self.service, operation=operation,
            target=target, kind=kind, code=code, message=message[:_MESSAGE_LIMIT], unreadable=what,
        )  # fmt: skip
        self.recorder.fail(self.last_failure)

    def note(self, message: str) -> None:
        self.recorder.note(self.account, self.region, self.service, message)

    def _check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled

    def _client_error(
        self, exc: ClientError, name: str, target: str | None, what: str, absent: Collection[str], started: float
    ) -> dict[str, Any] | None:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "") or None
        meta = exc.response.get("ResponseMetadata", {})
        attempts = 1 + int(meta.get("RetryAttempts", 0) or 0)
        if code is not None and code in absent:
            self._record(name, target, Outcome.ABSENT, code, attempts, 1, started)
            return {}
        self._record(name, target, Outcome.FAILED, code, attempts, 1, started)
        kind = classify(code, meta.get("HTTPStatusCode"), regional=self.regional)
        message = " ".join(str(error.get("Message") or exc).split())
        self.fail(kind, what, message, operation=name, target=target, code=code)
        return None

    def _other_error(self, exc: BotoCoreError, name: str, target: str | None, what: str, started: float) -> None:
        if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
            kind = FailureKind.TIMEOUT
        elif isinstance(exc, EndpointConnectionError) and self.regional:
            kind = FailureKind.REGION_UNAVAILABLE
        else:
            kind = FailureKind.ERROR
        code = type(exc).__name__
        self._record(name, target, Outcome.FAILED, code, 1, 1, started)
        self.fail(kind, what, str(exc), operation=name, target=target, code=code)

    def _record(
        self, name: str, target: str | None, outcome: Outcome, code: str | None, attempts: int, pages: int,
        started: float,
    ) -> None:  # fmt: skip
        self.recorder.call(CallRecord(
            account=self.account, region=self.region, service=self.service, operation=name,
            target=target, outcome=outcome, code=code, attempts=attempts, pages=pages,
            seconds=time.monotonic() - started,
        ))  # fmt: skip


def _attempts(answer: dict[str, Any]) -> int:
    return 1 + int(answer.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
