"""What ``iamgraph collect`` was asked to do, checked once: one clear error naming the bad option."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from iamgraph.errors import InputError

__all__ = ["CollectOptions", "parse_regions"]

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@/-]{1,512}$")
RETRY_MODES = ("standard", "adaptive")


def parse_regions(values: Iterable[str]) -> tuple[str, ...]:
    """``--regions eu-west-1,us-east-1`` (repeatable, comma-separated) → unique names in the given order."""
    out: list[str] = []
    for value in values:
        for name in (part.strip() for part in value.split(",")):
            if not name:
                continue
            if not _REGION.match(name):
                raise InputError(f'"{name}" is not a region name like eu-west-1', element="--regions")
            if name not in out:
                out.append(name)
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectOptions:
    """Options of one collection; ``regions`` empty means every region enabled in each account."""

    profile: str | None = None
    regions: tuple[str, ...] = ()
    org: bool = False
    assume_role: str | None = None
    accounts: tuple[str, ...] = ()
    role_session_name: str = "iamgraph-collect"
    parallel: int = 8
    retry_mode: str = "adaptive"
    max_attempts: int = 10
    timeout: float = 60.0
    endpoint_url: str | None = None
    home_region: str | None = None

    def __post_init__(self) -> None:
        for account in self.accounts:
            if not _ACCOUNT.match(account):
                raise InputError(f'"{account}" is not a 12-digit account id', element="--account")
        if self.assume_role is not None and not _ROLE_NAME.match(self.assume_role.strip("/")):
            raise InputError(f'"{self.assume_role}" is not a role name (or path/name)', element="--assume-role")
        if not 1 <= self.parallel <= 64:
            raise InputError("must be between 1 and 64", element="--parallel")
        if self.retry_mode not in RETRY_MODES:
            raise InputError(f"must be one of {', '.join(RETRY_MODES)}", element="--retry-mode")
        if not 1 <= self.max_attempts <= 50:
            raise InputError("must be between 1 and 50", element="--max-attempts")
        if not 1 <= self.timeout <= 900:
            raise InputError("must be between 1 and 900 seconds", element="--timeout")
        if self.home_region is not None and not _REGION.match(self.home_region):
            raise InputError(f'"{self.home_region}" is not a region name', element="--home-region")
        if self.endpoint_url is not None and not re.match(r"^https?://[^\s/]+", self.endpoint_url):
            raise InputError(f'"{self.endpoint_url}" is not an http(s) URL', element="--endpoint-url")

    def role_path(self) -> str | None:
        """The role to assume in each account as ``path/name`` without surrounding slashes."""
        return self.assume_role.strip("/") if self.assume_role else None

    def to_json(self) -> dict[str, Any]:
        """The options as the report records them (no endpoint, no profile name: nothing about the machine)."""
        return {
            "org": self.org,
            "assume_role": self.assume_role,
            "accounts": list(self.accounts),
            "regions": list(self.regions) or None,
            "parallel": self.parallel,
            "retry_mode": self.retry_mode,
            "max_attempts": self.max_attempts,
            "timeout": self.timeout,
        }
