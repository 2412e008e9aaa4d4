"""IpAddress / NotIpAddress over IPv4 and IPv6 CIDR blocks.

A bare IPv4 address means /32. A bare IPv6 address is ambiguous in AWS documentation (errata 2): the
engine evaluates both /32 and /128 and reports the comparison undecidable when they differ.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from iamgraph.policy.conditions.base import PolicyValue, any_match
from iamgraph.policy.memo import memo
from iamgraph.policy.variables import Resolved, resolved_text

__all__ = ["in_range"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@memo(maxsize=16384)
def _networks(text: str) -> tuple[Network, ...] | None:
    text = text.strip()
    try:
        if "/" in text:
            return (ipaddress.ip_network(text, strict=False),)
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if addr.version == 4:
        return (ipaddress.ip_network(f"{addr}/32"),)
    return (ipaddress.ip_network(f"{addr}/128"), ipaddress.ip_network(f"{addr}/32", strict=False))


@memo(maxsize=16384)
def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip().split("/")[0])
    except ValueError:
        return None


def _one(value: str, policy: Resolved) -> bool | None:
    addr, nets = _address(value), _networks(resolved_text(policy))
    if addr is None or nets is None:
        return None
    hits = {addr.version == n.version and addr in n for n in nets}
    return hits.pop() if len(hits) == 1 else None


def in_range(value: str, values: Sequence[PolicyValue]) -> bool | None:
    return any_match(value, values, _one)
