"""Sets of integers as sorted disjoint closed intervals: ports (1-65535) and addresses
(an IPv4 or IPv6 network is the interval of its first to last address, per family).

The network rules ask questions of sets, not of spellings: "do these port ranges, over every
rule of every policy that selects the pod, add up to every port", "does this union of blocks
less their excepts hold every public address". The idea (connectivity as interval sets) is
that of IBM's network-config-analyzer; this code is ours.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

Span = tuple[int, int]  # first, last (inclusive)


@dataclass(frozen=True)
class IntervalSet:
    """An immutable set of integers, held as sorted, disjoint, non-adjacent spans."""

    spans: tuple[Span, ...] = ()

    @staticmethod
    def of(spans: Iterable[Span]) -> IntervalSet:
        """The union of ``spans`` (each first <= last; others are ignored), normalised."""
        merged: list[list[int]] = []
        for first, last in sorted(s for s in spans if s[0] <= s[1]):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        return IntervalSet(tuple((a, b) for a, b in merged))

    def __bool__(self) -> bool:
        return bool(self.spans)

    def __or__(self, other: IntervalSet) -> IntervalSet:
        return IntervalSet.of((*self.spans, *other.spans))

    def __sub__(self, other: IntervalSet) -> IntervalSet:
        out: list[Span] = []
        cut = other.spans
        j = 0
        for first, last in self.spans:
            start = first
            while j < len(cut) and cut[j][1] < start:
                j += 1
            k = j
            while k < len(cut) and cut[k][0] <= last:
                if cut[k][0] > start:
                    out.append((start, cut[k][0] - 1))
                start = max(start, cut[k][1] + 1)
                if start > last:
                    break
                k += 1
            if start <= last:
                out.append((start, last))
        return IntervalSet(tuple(out))

    def __and__(self, other: IntervalSet) -> IntervalSet:
        return self - (self - other)

    def covers(self, other: IntervalSet) -> bool:
        """Whether every integer of ``other`` is in this set."""
        return not (other - self)

    def overlaps(self, other: IntervalSet) -> bool:
        """Whether some integer is in both sets."""
        return bool(self & other)

    def size(self) -> int:
        return sum(last - first + 1 for first, last in self.spans)


ALL_PORTS = IntervalSet(((1, 65535),))


@dataclass(frozen=True)
class Addresses:
    """A set of IP addresses: one IntervalSet per family."""

    v4: IntervalSet = IntervalSet()
    v6: IntervalSet = IntervalSet()

    @staticmethod
    def of(nets: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> Addresses:
        v4: list[Span] = []
        v6: list[Span] = []
        for net in nets:
            span = (int(net.network_address), int(net.broadcast_address))
            (v4 if net.version == 4 else v6).append(span)
        return Addresses(IntervalSet.of(v4), IntervalSet.of(v6))

    def __bool__(self) -> bool:
        return bool(self.v4) or bool(self.v6)

    def __or__(self, other: Addresses) -> Addresses:
        return Addresses(self.v4 | other.v4, self.v6 | other.v6)

    def __sub__(self, other: Addresses) -> Addresses:
        return Addresses(self.v4 - other.v4, self.v6 - other.v6)

    def __and__(self, other: Addresses) -> Addresses:
        return Addresses(self.v4 & other.v4, self.v6 & other.v6)

    def covers(self, other: Addresses) -> bool:
        return self.v4.covers(other.v4) and self.v6.covers(other.v6)

    def overlaps(self, other: Addresses) -> bool:
        return self.v4.overlaps(other.v4) or self.v6.overlaps(other.v6)
