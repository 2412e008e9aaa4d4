"""Review settings: thresholds, the password-policy baseline, sensitive actions, which checks run.

Read from a mapping (the CLI parses a TOML or JSON file, the API takes a JSON body); the format is
closed, so a misspelt key is an error rather than a silently ignored setting. docs/review.md lists it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from iamgraph.errors import InputError
from iamgraph.review.dates import parse_as_of
from iamgraph.review.model import Severity

__all__ = ["DEFAULT_SENSITIVE_ACTIONS", "PasswordBaseline", "ReviewConfig"]

# Actions that change credentials, permissions, guardrails or destroy data: best practice is to allow
# them only with MFA (aws:MultiFactorAuthPresent) for human users.
DEFAULT_SENSITIVE_ACTIONS = (
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:DeactivateMFADevice",
    "iam:DeleteVirtualMFADevice",
    "iam:CreateUser",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreatePolicyVersion",
    "organizations:LeaveOrganization",
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "kms:ScheduleKeyDeletion",
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PasswordBaseline:
    """The account password policy a review expects (defaults: CIS AWS Foundations length and reuse).

    ``max_age_days`` None: expiry is not required (current NIST and CIS guidance); a number requires
    ``ExpirePasswords`` with ``MaxPasswordAge`` at most that many days.
    """

    minimum_length: int = 14
    require_symbols: bool = True
    require_numbers: bool = True
    require_uppercase: bool = True
    require_lowercase: bool = True
    max_age_days: int | None = None
    reuse_prevention: int = 24

    def to_json(self) -> dict[str, Any]:
        return {
            "minimum_length": self.minimum_length,
            "require_symbols": self.require_symbols,
            "require_numbers": self.require_numbers,
            "require_uppercase": self.require_uppercase,
            "require_lowercase": self.require_lowercase,
            "max_age_days": self.max_age_days,
            "reuse_prevention": self.reuse_prevention,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewConfig:
    as_of: datetime | None = None
    as_of_source: str | None = None  # where the as-of time came from, shown in the report
    unused_days: int = 90
    rotation_days: int = 90
    root_recent_days: int = 90
    password: PasswordBaseline = field(default_factory=PasswordBaseline)
    sensitive_actions: tuple[str, ...] = DEFAULT_SENSITIVE_ACTIONS
    only: frozenset[str] | None = None  # run only these checks
    skip: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)  # per-check overrides
    min_severity: Severity = Severity.INFO
    access_summary: bool = True

    @classmethod
    def from_mapping(cls, doc: Any, *, where: str = "config") -> ReviewConfig:
        """A config document (docs/review.md, "Configuration"); every value is checked."""
        return _Parser(where).config(doc)

    def with_overrides(self, **changes: Any) -> ReviewConfig:
        """Command-line flags and API parameters over the file's values (None: keep the file's)."""
        given = {k: v for k, v in changes.items() if v is not None}
        updated = replace(self, **given)
        _Parser("options").validate(updated)
        return updated

    def enabled(self, check_id: str) -> bool:
        return (self.only is None or check_id in self.only) and check_id not in self.skip

    def to_json(self) -> dict[str, Any]:
        return {
            "thresholds": {
                "unused_days": self.unused_days,
                "rotation_days": self.rotation_days,
                "root_recent_days": self.root_recent_days,
            },
            "password_policy": self.password.to_json(),
            "sensitive_actions": list(self.sensitive_actions),
            "checks": sorted(self.only) if self.only is not None else None,
            "skip": sorted(self.skip),
            "severity": {k: v.value for k, v in sorted(self.severity.items())},
            "min_severity": self.min_severity.value,
            "access_summary": self.access_summary,
        }


_TOP = (
    "as_of",
    "min_severity",
    "access_summary",
    "checks",
    "skip",
    "sensitive_actions",
    "thresholds",
    "password_policy",
    "severity",
)
_THRESHOLDS = ("unused_days", "rotation_days", "root_recent_days")
_BASELINE = tuple(PasswordBaseline.__dataclass_fields__)


class _Parser:
    def __init__(self, where: str) -> None:
        self.where = where

    def error(self, element: str, message: str) -> InputError:
        return InputError(message, where=self.where, element=element)

    def table(self, value: Any, element: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(element, "must be a table (object)")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise self.error(f"{element}.{unknown[0]}" if element else unknown[0], "unknown setting")
        return value

    def days(self, value: Any, element: str, *, optional: bool = False) -> int | None:
        if optional and (value is None or value == 0):
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 36500:
            raise self.error(element, "must be a whole number of days from 1 to 36500")
        return value

    def strings(self, value: Any, element: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(element, "must be a list of non-empty strings")
        return tuple(v.strip() for v in value)

    def config(self, doc: Any) -> ReviewConfig:
        top = self.table(doc, "", _TOP)
        out = ReviewConfig()
        if top.get("as_of") is not None:
            out = replace(
                out, as_of=parse_as_of(top["as_of"], element="as_of", where=self.where), as_of_source="config file"
            )
        if "min_severity" in top:
            minimum = Severity.parse(top["min_severity"], element="min_severity", where=self.where)
            out = replace(out, min_severity=minimum)
        if "access_summary" in top:
            if not isinstance(top["access_summary"], bool):
                raise self.error("access_summary", "must be true or false")
            out = replace(out, access_summary=top["access_summary"])
        if "checks" in top:
            out = replace(out, only=frozenset(self.strings(top["checks"], "checks")))
        if "skip" in top:
            out = replace(out, skip=frozenset(self.strings(top["skip"], "skip")))
        if "sensitive_actions" in top:
            out = replace(out, sensitive_actions=self.strings(top["sensitive_actions"], "sensitive_actions"))
        if "thresholds" in top:
            t = self.table(top["thresholds"], "thresholds", _THRESHOLDS)
            days = {k: self.days(v, f"thresholds.{k}") for k, v in t.items()}
            out = replace(out, **days)  # type: ignore[arg-type]  # keys checked against _THRESHOLDS
        if "password_policy" in top:
            out = replace(out, password=self.baseline(top["password_policy"]))
        if "severity" in top:
            sev = top["severity"]
            if not isinstance(sev, Mapping):
                raise self.error("severity", "must be a table of check id = severity")
            levels = {str(k): Severity.parse(v, element=f"severity.{k}", where=self.where) for k, v in sev.items()}
            out = replace(out, severity=levels)
        self.validate(out)
        return out

    def baseline(self, value: Any) -> PasswordBaseline:
        t = self.table(value, "password_policy", _BASELINE)
        out: dict[str, Any] = {}
        for key, v in t.items():
            element = f"password_policy.{key}"
            if key.startswith("require_"):
                if not isinstance(v, bool):
                    raise self.error(element, "must be true or false")
                out[key] = v
            elif key == "max_age_days":
                out[key] = self.days(v, element, optional=True)
            elif isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 128:
                raise self.error(element, "must be a whole number from 0 to 128")
            else:
                out[key] = v
        return PasswordBaseline(**out)

    def validate(self, config: ReviewConfig) -> None:
        """Check ids must exist and sensitive actions must be known actions: a typo must not switch a check off."""
        from iamgraph.catalog import get_catalog
        from iamgraph.review.registry import checks

        known = {c.id for c in checks()}
        named = [("checks", c) for c in sorted(config.only or ())] + [("skip", c) for c in sorted(config.skip)]
        named += [(f"severity.{c}", c) for c in config.severity]
        for element, check_id in named:
            if check_id not in known:
                raise self.error(element, f'unknown check "{check_id}" (iamgraph review --list-checks)')
        catalog = get_catalog()
        for action in config.sensitive_actions:
            if not catalog.is_known_action(action):
                raise self.error("sensitive_actions", f'unknown action "{action}"')
        for name in _THRESHOLDS:
            self.days(getattr(config, name), name)
