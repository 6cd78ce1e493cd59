"""``--format sarif``: SARIF 2.1.0 for code-scanning upload.

The driver's ``rules`` lists the rules that ran (all of them unless ``--select``/``--skip``
narrowed the run), and each result's ``ruleIndex`` points into that list, as SARIF §3.27.6
requires of a result whose rule is described in ``tool.driver.rules``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .. import __version__
from .base import STDIN, Report, Reporter, Result

if TYPE_CHECKING:
    from ..policy.model import Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/mcp-scaffold/mcp-scaffold"
LEVEL = {"high": "error", "medium": "warning", "low": "note"}
_SECURITY_SEVERITY = {"high": "8.0", "medium": "5.0", "low": "3.0"}


def _descriptor(r: Rule) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.title,
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": f"{r.title} ({r.pattern})."},
        "help": {"text": f"Fix: {r.fix}"},
        "defaultConfiguration": {"level": LEVEL[r.severity]},
        "properties": {
            "tags": ["security", "kubernetes", r.pattern],
            "security-severity": _SECURITY_SEVERITY[r.severity],
            "pattern": r.pattern,
        },
    }


def _artifact_uri(file: str) -> str:
    path = Path(file)
    return path.resolve().as_uri() if path.is_absolute() else path.as_posix()


def _result(result: Result, index: dict[str, int]) -> dict[str, Any]:
    finding, src = result
    identity = "/".join(p for p in (finding.kind, finding.namespace, finding.name) if p)
    location: dict[str, Any] = {
        "logicalLocations": [
            {"fullyQualifiedName": f"{identity}:{finding.path}", "kind": "object"}
        ]
    }
    if src.file != STDIN:
        physical: dict[str, Any] = {"artifactLocation": {"uri": _artifact_uri(src.file)}}
        if src.line is not None:
            physical["region"] = {"startLine": src.line}
        location["physicalLocation"] = physical
    out: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": LEVEL[finding.severity],
        "message": {"text": f"{finding.message} (at {finding.path}). Fix: {finding.fix}"},
        "locations": [location],
        "partialFingerprints": {
            "mcpScaffoldObject/v1": f"{finding.rule}:{identity}:{finding.path}"
        },
    }
    if finding.suppressed is not None:
        out["suppressions"] = [{"kind": "inSource", "justification": finding.suppressed}]
    return out


class SarifReporter(Reporter):
    name = "sarif"

    def write(self, out: TextIO, report: Report) -> None:
        index = {r.id: i for i, r in enumerate(report.rules)}
        log = {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "mcp-scaffold",
                    "version": __version__,
                    "informationUri": INFORMATION_URI,
                    "rules": [_descriptor(r) for r in report.rules],
                }},
                "results": [_result(r, index) for r in report.results],
                "properties": {"kubernetesVersion": report.kube_version},
            }],
        }
        out.write(json.dumps(log, indent=2) + "\n")
