"""``--format json``: every finding and the summary (tests/data/check-report.schema.json)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from .base import Report, Reporter, Result


def _finding(result: Result) -> dict[str, Any]:
    finding, src = result
    return {
        "rule": finding.rule,
        "pattern": finding.pattern,
        "severity": finding.severity,
        "kind": finding.kind,
        "name": finding.name,
        "namespace": finding.namespace,
        "path": finding.path,
        "message": finding.message,
        "fix": finding.fix,
        "file": src.file,
        "line": src.line,
        "suppressed": finding.suppressed,
    }


class JsonReporter(Reporter):
    name = "json"

    def write(self, out: TextIO, report: Report) -> None:
        body = {"findings": [_finding(r) for r in report.results], "summary": report.summary}
        out.write(json.dumps(body, indent=2) + "\n")
