"""Interval sets: the arithmetic the network model's questions rest on."""

from __future__ import annotations

import ipaddress
import random

import pytest

from scaffold.policy.intervals import ALL_PORTS, Addresses, IntervalSet


def _members(s: IntervalSet) -> set[int]:
    return {n for first, last in s.spans for n in range(first, last + 1)}


def test_of_merges_overlapping_and_adjacent_spans() -> None:
    assert IntervalSet.of([(5, 9), (1, 3), (4, 4), (20, 30), (25, 26), (8, 2)]).spans == (
        (1, 9), (20, 30))


def test_ports_in_pieces_add_up_to_every_port() -> None:
    halves = IntervalSet.of([(1, 32767)]) | IntervalSet.of([(32768, 65535)])
    assert halves.covers(ALL_PORTS) and halves == ALL_PORTS
    gap = IntervalSet.of([(1, 32766), (32768, 65535)])
    assert not gap.covers(ALL_PORTS)
    assert (ALL_PORTS - gap).spans == ((32767, 32767),)


def test_operations_agree_with_python_sets() -> None:
    rng = random.Random(18)
    for _ in range(300):
        a = IntervalSet.of((x, x + rng.randint(0, 6)) for x in rng.sample(range(60), 5))
        b = IntervalSet.of((x, x + rng.randint(0, 6)) for x in rng.sample(range(60), 5))
        sa, sb = _members(a), _members(b)
        assert _members(a | b) == sa | sb
        assert _members(a - b) == sa - sb
        assert _members(a & b) == sa & sb
        assert a.covers(b) == (sb <= sa)
        assert a.overlaps(b) == bool(sa & sb)
        assert (a - b).size() == len(sa - sb)


@pytest.mark.parametrize("pieces, whole, covered", [
    (["0.0.0.0/1", "128.0.0.0/1"], "0.0.0.0/0", True),
    (["10.0.0.0/9", "10.128.0.0/9"], "10.0.0.0/8", True),
    (["10.0.0.0/9", "10.128.0.0/10"], "10.0.0.0/8", False),
    (["::/1", "8000::/1"], "::/0", True),
])
def test_address_pieces(pieces: list[str], whole: str, covered: bool) -> None:
    have = Addresses.of(ipaddress.ip_network(p) for p in pieces)
    want = Addresses.of([ipaddress.ip_network(whole)])
    assert have.covers(want) is covered
    assert have.overlaps(want)


def test_families_are_kept_apart() -> None:
    v4 = Addresses.of([ipaddress.ip_network("0.0.0.0/0")])
    v6 = Addresses.of([ipaddress.ip_network("::/0")])
    assert not v4.overlaps(v6) and not v4.covers(v6) and (v4 | v6).covers(v6)
    assert not (v4 - v4)
