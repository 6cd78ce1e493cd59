"""Kubernetes resource quantities (``500m``, ``64Mi``, ``1e3``, ``0``), read as the API server
reads them: one parser for `new`'s values and `check`'s rules.

The grammar is k8s.io/apimachinery pkg/api/resource/quantity.go's::

    <quantity>      ::= <signedNumber><suffix>
    <suffix>        ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI>      ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI>     ::= m | "" | k | M | G | T | P | E
    <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>
    <number>        ::= <digits> | <digits>.<digits> | <digits>. | .<digits>

A quantity written as a JSON number (YAML ``0`` or ``0.5``) is read from its decimal text, as
Quantity.UnmarshalJSON does. Values are exact (Fraction), so ``0.0``, ``-0`` and ``0Ki`` are
zero, not a small float.

A leaf module: it imports nothing from the package."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_FORM = re.compile(rf"(?P<number>{_NUMBER})"
                   r"(?:(?P<binary>[KMGTPE]i)|[eE](?P<exp>[+-]?[0-9]+)|(?P<decimal>[mkMGTPE]?))")
_DECIMAL = {"m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}


def parse(value: Any) -> Fraction | None:
    """The exact value of a quantity written as ``value`` (a string or a JSON number), or
    None when the API server would refuse it (not a quantity, a boolean, null)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        # sigs.k8s.io/yaml turns the float into JSON text; Fraction(str) reads that text.
        return Fraction(repr(value)) if value == value and abs(value) != float("inf") else None
    if not isinstance(value, str):
        return None
    m = _FORM.fullmatch(value)
    if m is None:
        return None
    number = Fraction(m["number"])
    if m["binary"] is not None:
        return number * (1 << _BINARY[m["binary"]])
    exponent = int(m["exp"]) if m["exp"] is not None else _DECIMAL[m["decimal"]]
    return number * Fraction(10) ** exponent


def is_milli(text: str) -> bool:
    """Whether ``text`` is a quantity in milli-units (``64m``: 0.064 bytes for a size)."""
    m = _FORM.fullmatch(text)
    return m is not None and m["decimal"] == "m"
