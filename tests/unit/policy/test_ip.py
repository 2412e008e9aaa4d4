"""IpAddress / NotIpAddress (spec §3.4 IpAddress, errata 2, T28, T29)."""

from __future__ import annotations

import pytest

from .helpers import is_gap, is_open, one

K = "aws:SourceIp"


class TestIPv4:
    @pytest.mark.parametrize(
        ("block", "addr", "expected"),
        [
            ("203.0.113.0/24", "203.0.113.1", True),  # T28
            ("203.0.113.0/24", "203.0.113.255", True),
            ("203.0.113.0/24", "198.51.100.1", False),  # T28
            ("203.0.113.0/24", "203.0.114.0", False),
            ("10.0.0.0/8", "10.255.1.2", True),
            ("0.0.0.0/0", "198.51.100.1", True),
            ("203.0.113.7/24", "203.0.113.200", True),  # host bits in the block are ignored
        ],
    )
    def test_cidr(self, block: str, addr: str, expected: bool) -> None:
        assert one("IpAddress", K, block, {K: addr}) is expected
        assert one("NotIpAddress", K, block, {K: addr}) is (not expected)

    def test_bare_address_is_slash_32(self) -> None:
        # T29
        assert one("IpAddress", K, "203.0.113.5", {K: "203.0.113.5"}) is True
        assert one("IpAddress", K, "203.0.113.5", {K: "203.0.113.6"}) is False


class TestIPv6:
    def test_cidr(self) -> None:
        assert one("IpAddress", K, "2001:db8::/32", {K: "2001:db8:1234::1"}) is True
        assert one("IpAddress", K, "2001:db8::/32", {K: "2001:db9::1"}) is False
        assert one("IpAddress", K, "2001:DB8::/32", {K: "2001:db8::abcd"}) is True  # hex case

    def test_bare_address_same_address_matches(self) -> None:
        assert one("IpAddress", K, "2001:db8::1", {K: "2001:db8::1"}) is True
        assert one("IpAddress", K, "2001:db8::1", {K: "2001:0db8:0000::0001"}) is True

    def test_bare_address_ambiguous_between_32_and_128_is_unknown(self) -> None:
        # errata 2: /32 and /128 disagree -> Unknown
        assert is_gap(one("IpAddress", K, "2001:db8::1", {K: "2001:db8::2"}))
        assert is_gap(one("NotIpAddress", K, "2001:db8::1", {K: "2001:db8::2"}))

    def test_bare_address_outside_both_readings(self) -> None:
        assert one("IpAddress", K, "2001:db8::1", {K: "2001:db9::1"}) is False
        assert one("NotIpAddress", K, "2001:db8::1", {K: "2001:db9::1"}) is True


class TestMixedLists:
    BLOCKS = ("203.0.113.0/24", "2001:db8::/32")

    def test_v4_and_v6_in_one_list(self) -> None:
        assert one("IpAddress", K, list(self.BLOCKS), {K: "203.0.113.9"}) is True
        assert one("IpAddress", K, list(self.BLOCKS), {K: "2001:db8::9"}) is True
        assert one("IpAddress", K, list(self.BLOCKS), {K: "198.51.100.1"}) is False
        assert one("IpAddress", K, list(self.BLOCKS), {K: "2001:db9::9"}) is False

    def test_not_ip_address_is_nor_over_mixed_list(self) -> None:
        assert one("NotIpAddress", K, list(self.BLOCKS), {K: "2001:db8::9"}) is False
        assert one("NotIpAddress", K, list(self.BLOCKS), {K: "198.51.100.1"}) is True

    def test_v4_request_never_inside_v6_block(self) -> None:
        assert one("IpAddress", K, "::/0", {K: "203.0.113.9"}) is False
        assert one("IpAddress", K, "0.0.0.0/0", {K: "2001:db8::1"}) is False

    def test_definite_match_wins_over_an_ambiguous_bare_v6(self) -> None:
        assert one("IpAddress", K, ["2001:db8::1", "2001:db8::/32"], {K: "2001:db8::2"}) is True


def test_absent_key() -> None:
    # T28: through a VPC endpoint aws:SourceIp is absent: IpAddress no, NotIpAddress yes
    assert one("IpAddress", K, "203.0.113.0/24", {}) is False
    assert one("NotIpAddress", K, "203.0.113.0/24", {}) is True


def test_invalid_values_are_undecidable() -> None:
    assert is_gap(one("IpAddress", K, "203.0.113.0/24", {K: "not-an-ip"}))
    assert is_gap(one("IpAddress", K, "203.0.113.0/99", {K: "203.0.113.1"}))


def test_unparseable_entry_does_not_hide_a_match() -> None:
    assert one("IpAddress", K, ["garbage", "203.0.113.0/24"], {K: "203.0.113.1"}) is True


def test_unknown_key() -> None:
    assert is_open(one("IpAddress", K, "203.0.113.0/24", {}, unknown=[K]))


def test_no_variables() -> None:
    r = one("IpAddress", K, "${aws:PrincipalTag/net}", {K: "10.0.0.1", "aws:PrincipalTag/net": "10.0.0.0/8"})
    assert r is not True
