"""scaffold.quantity reads a Kubernetes quantity as the API server does (apimachinery
pkg/api/resource/quantity.go): every spelling of zero is zero, suffixes and exponents exact."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from scaffold import values
from scaffold.quantity import is_milli, parse


@pytest.mark.parametrize(("text", "expected"), [
    ("0", 0), ("0Mi", 0), ("0.0", 0), ("0Ki", 0), ("-0", 0), (".0", 0), ("0.", 0), ("0e3", 0),
    (0, 0), (0.0, 0), ("500m", Fraction(1, 2)), ("1", 1), ("1k", 1000), ("64Mi", 64 * 2**20),
    ("1.5Gi", 3 * 2**29), ("1e3", 1000), ("1E3", 1000), ("1E", 10**18), ("1Ei", 2**60),
    ("2P", 2 * 10**15), ("+1", 1), ("1e-3", Fraction(1, 1000)), (2, 2), (0.5, Fraction(1, 2)),
])
def test_quantities(text: Any, expected: Fraction) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text", ["", "Mi", "1 Mi", "1mi", "1Kb", "1ki", "0x10", "1e", "--1",
                                  "1.2.3", True, None, [], "1E3i", float("nan")])
def test_not_quantities(text: Any) -> None:
    assert parse(text) is None


def test_values_use_the_same_parser() -> None:
    assert values.quantity("64Mi") == 64 * 2**20
    assert values.quantity("0.0") == 0
    assert is_milli("64m") and not is_milli("64Mi")
    with pytest.raises(ValueError):
        values.quantity("64MB")
