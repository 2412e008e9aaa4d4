"""One connection to Neo4j (the official driver): statements with parameters, errors as StoreUnavailable.

A query's deadline bounds its Cypher too: inside ``budget(deadline)`` every read runs with the time left
as its transaction timeout, and a statement that runs out answers LimitExceeded (``time_budget_s``), as
the memory store's traversals do. The deadline is a context variable, so threads sharing one driver
(the API's workers) each keep their own.
"""

from __future__ import annotations

import copy
import functools
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Concatenate, ParamSpec, Self, TypeVar, cast

from iamgraph.errors import InputError, StoreUnavailable
from iamgraph.graph.queries.budget import Deadline, LimitExceeded

__all__ = ["Neo4jConnection", "bounded", "budget"]

_DEADLINE: ContextVar[Deadline | None] = ContextVar("iamgraph_neo4j_deadline", default=None)
P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound="Neo4jConnection")


@contextmanager
def budget(deadline: Deadline | None) -> Iterator[None]:
    """Run the statements of one query under its deadline."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def bounded(fn: Callable[Concatenate[C, P], R]) -> Callable[Concatenate[C, P], R]:
    """A query method whose ``deadline`` keyword bounds every statement it runs."""

    @functools.wraps(fn)
    def run(self: C, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with budget(cast(Deadline | None, kwargs.get("deadline"))):
            return fn(self, *args, **kwargs)

    return run


class Neo4jConnection:
    """The driver, the snapshot name the queries ask of, and the statements' plumbing."""

    def __init__(
        self,
        uri: str,
        *,
        user: str | None = None,
        password: str | None = None,
        snapshot: str = "default",
        database: str | None = None,
        timeout: float = 10.0,
        retry_time: float = 30.0,
    ) -> None:
        """Connect and check the server answers; ``retry_time`` bounds the driver's retries of a statement."""
        try:
            import neo4j
        except ImportError:
            raise StoreUnavailable("the neo4j driver is not installed: pip install 'iamgraph[neo4j]'") from None
        self._neo4j = neo4j
        self.uri = uri
        self.snapshot = snapshot
        self._database = database
        user = user or os.environ.get("NEO4J_USER") or None
        password = password if password is not None else os.environ.get("NEO4J_PASSWORD")
        self._user = user or "neo4j"
        auth = (self._user, password) if password else None
        try:
            self._driver = neo4j.GraphDatabase.driver(
                uri,
                auth=auth,
                connection_timeout=timeout,
                max_transaction_retry_time=retry_time,
                notifications_min_severity="OFF",
            )
        except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
            raise InputError(f"not a Neo4j URI ({exc})", element="--uri") from None
        self._schema_ready = False
        try:
            self.ping()
        except StoreUnavailable:
            self._driver.close()
            raise

    def at(self, snapshot: str) -> Self:
        """This store asking of another snapshot, over the same driver (close only the original)."""
        other = copy.copy(self)
        other.snapshot = snapshot
        return other

    def _call(self, fn: Callable[[], Any]) -> Any:
        """Run a driver call; a down server, refused auth or a failing query is one StoreUnavailable."""
        exc_mod = self._neo4j.exceptions
        try:
            return fn()
        except exc_mod.AuthError:
            raise StoreUnavailable(f"neo4j at {self.uri} refused the credentials of user {self._user!r}") from None
        except (exc_mod.ServiceUnavailable, exc_mod.SessionExpired, OSError) as exc:
            raise StoreUnavailable(f"neo4j at {self.uri} is unavailable: {_first_line(exc)}") from None
        except exc_mod.Neo4jError as exc:
            deadline = _DEADLINE.get()
            if deadline is not None and "TransactionTimedOut" in (exc.code or ""):
                raise _over_budget(deadline) from None
            if (exc.code or "").startswith("Neo.ClientError.Security."):  # e.g. too many failed attempts
                raise StoreUnavailable(
                    f"neo4j at {self.uri} refused the credentials of user {self._user!r}: {exc.message}"
                ) from None
            raise StoreUnavailable(f"neo4j at {self.uri}: {exc.code}: {_first_line(exc)}") from None
        except exc_mod.DriverError as exc:
            raise StoreUnavailable(f"neo4j at {self.uri}: {_first_line(exc)}") from None

    def ping(self) -> None:
        """Raise StoreUnavailable unless the server answers with these credentials."""
        self._call(lambda: self._driver.verify_connectivity())

    def read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """A read statement's rows; under a deadline, with the time left as its timeout."""
        deadline = _DEADLINE.get()
        statement: Any = query
        if deadline is not None:
            deadline.check()
            statement = self._neo4j.Query(query, timeout=max(deadline.at - time.monotonic(), 0.001))

        def run() -> list[dict[str, Any]]:
            records, _, _ = self._driver.execute_query(
                statement, params, database_=self._database, routing_=self._neo4j.RoutingControl.READ
            )
            return [r.data() for r in records]

        return cast(list[dict[str, Any]], self._call(run))

    def write(self, query: str, **params: Any) -> None:
        def run() -> None:
            with self._driver.session(database=self._database) as session:
                session.execute_write(lambda tx: tx.run(query, params).consume())

        self._call(run)

    def cleanup(self, query: str, **params: Any) -> tuple[int, int]:
        """An auto-commit statement (``CALL ... IN TRANSACTIONS``): (nodes deleted, relationships deleted)."""

        def run() -> tuple[int, int]:
            with self._driver.session(database=self._database) as session:
                counters = session.run(query, params).consume().counters
                return counters.nodes_deleted, counters.relationships_deleted

        return cast(tuple[int, int], self._call(run))

    def close(self) -> None:
        self._driver.close()


def _over_budget(deadline: Deadline) -> LimitExceeded:
    """The time budget's LimitExceeded (a statement timed out: the deadline has passed, give or take)."""
    try:
        deadline.check()
    except LimitExceeded as exc:
        return exc
    return LimitExceeded(
        f"the query did not finish within its time budget of {deadline.budget:g} s",
        limit="time_budget_s",
        value=deadline.budget,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())[:300]
