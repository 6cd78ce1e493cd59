"""Reporters: one class per output format of ``check``, registered here once.

As check-jsonschema's REPORTER_BY_NAME: :data:`REPORTERS` maps each format name to its
reporter, and the CLI's ``--format`` choices are its keys, so a new format is one module and
one entry below.
"""

from __future__ import annotations

from .base import Report, Reporter, Result, Source
from .json_report import JsonReporter
from .sarif import SarifReporter
from .text import TextReporter

__all__ = ["FORMATS", "REPORTERS", "RULE_FORMATS", "Report", "Reporter", "Result", "Source"]

REPORTERS: dict[str, Reporter] = {
    r.name: r for r in (TextReporter(), JsonReporter(), SarifReporter())
}
FORMATS = tuple(REPORTERS)
# The formats `mcp-scaffold rules` lists the rules in (scaffold.policy.listing).
RULE_FORMATS = ("text", "json")
