"""One exception hierarchy for the whole package."""

from __future__ import annotations

__all__ = ["IamGraphError", "InputError", "PolicyError", "StoreUnavailable"]


class IamGraphError(Exception):
    """Base class of every error iamgraph raises on purpose."""


class InputError(IamGraphError):
    """Bad user input: a file, a document or an element that cannot be used.

    ``where`` names the file or document and ``element`` the part of it that is wrong, so that the
    message reads as one line: ``where: element: message``.
    """

    def __init__(self, message: str, *, where: str = "", element: str = "") -> None:
        self.where = where
        self.element = element
        self.reason = message
        parts = [p for p in (where, element) if p]
        super().__init__(": ".join([*parts, message]))


class PolicyError(InputError):
    """A policy document that does not parse, e.g. ``Statement[2].Condition: unknown operator``."""

    def __init__(self, message: str, *, policy: str = "", element: str = "") -> None:
        self.policy = policy
        super().__init__(message, where=policy, element=element)


class StoreUnavailable(IamGraphError):
    """A graph store that cannot serve: the server is down, refuses the credentials, or the driver is missing.

    The CLI prints it as one line and exits 2; the API answers 503.
    """
