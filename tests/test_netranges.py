"""Set arithmetic over CIDRs: rules judge the addresses a block reaches, not its spelling."""

from __future__ import annotations

import ipaddress

import pytest

from scaffold import netranges
from scaffold.netranges import covers, internet_excepts, subtract, touches


def n(text: str) -> netranges.Net:
    return ipaddress.ip_network(text)


@pytest.mark.parametrize("blocks", [
    ["0.0.0.0/0"],
    ["0.0.0.0/1", "128.0.0.0/1"],
    ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"],
])
def test_equivalent_spellings_of_everyone_cover_the_internet(blocks: list[str]) -> None:
    assert covers([n(b) for b in blocks], n("0.0.0.0/0"))
    assert covers([n(b) for b in blocks], n("10.0.0.0/8"))


def test_a_gap_is_not_coverage() -> None:
    assert not covers([n("0.0.0.0/1"), n("128.0.0.0/2")], n("0.0.0.0/0"))
    assert touches([n("0.0.0.0/1")], n("10.0.0.0/8"))
    assert not touches([n("128.0.0.0/1")], n("10.0.0.0/8"))


def test_subtract_removes_exactly_the_excepted_addresses() -> None:
    reach = subtract(n("0.0.0.0/0"), [n("169.254.0.0/16"), n("10.0.0.0/8")])
    assert not touches(reach, n("169.254.169.254/32"))
    assert not touches(reach, n("10.1.2.3/32"))
    assert covers(reach, n("8.8.8.0/24"))
    # An except of another family or outside the block changes nothing.
    assert subtract(n("10.0.0.0/8"), [n("::/0"), n("192.168.0.0/16")]) == [n("10.0.0.0/8")]
    # An except wider than the block removes it whole.
    assert subtract(n("169.254.169.254/32"), [n("169.254.0.0/16")]) == []


def test_internet_excepts_every_never_reachable_and_private_range() -> None:
    got = {str(x) for x in internet_excepts(n("0.0.0.0/0"))}
    assert got == {"10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "168.63.129.16/32",
                   "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"}
    got6 = {str(x) for x in internet_excepts(n("::/0"))}
    assert got6 == {"::1/128", "fc00::/7", "fe80::/10", "fd00:ec2::254/128", "fd20:ce::254/128"}
    # Two /1 blocks are the internet too: the lower one holds 10/8, 100.64/10 and 127/8.
    low = {str(x) for x in internet_excepts(n("0.0.0.0/1"))}
    assert {"10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8"} <= low


def test_a_public_block_excepts_nothing() -> None:
    assert internet_excepts(n("203.0.113.0/24")) == []


@pytest.mark.parametrize("text", ["10.0.0.0/8", " 10.0.0.1/8", "::/0"])
def test_parse_reads_cidrs_as_the_api_server_does(text: str) -> None:
    assert netranges.parse(text) is not None


@pytest.mark.parametrize("text", ["10.0.0.0", "", "x/8", None, 8])
def test_parse_refuses_what_is_not_a_cidr(text: object) -> None:
    assert netranges.parse(text) is None
