"""The real Checkov over the same corpus, once: records per case whether Checkov agrees.

Asserted: Checkov ran and reported on every case, and `check` flags every case. Not asserted:
that Checkov agrees (the point is to document where it does not). The comparison table is
printed, and written to $MCP_SCAFFOLD_CHECKOV_REPORT when set (docs/check.md is made from it).

Checkov runs without --quiet so that passed checks are listed too: that is how a case where
Checkov finds nothing still proves Checkov read it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from scaffold.policy import evaluate

import corpus
from support import tool

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def checkov_results() -> dict[str, dict[str, Any]]:
    """case -> {"failed": set of check ids, "passed": count}, from one Checkov run."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    proc = subprocess.run(
        [tool("checkov"), "--skip-download", "--framework", "kubernetes",
         "-d", str(corpus.CORPUS), "-o", "json"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    reports = data if isinstance(data, list) else [data]
    report = next(r for r in reports if r.get("check_type") == "kubernetes")
    per_case: dict[str, dict[str, Any]] = defaultdict(lambda: {"failed": set(), "passed": 0})
    for key in ("failed_checks", "passed_checks"):
        for item in report["results"].get(key, []):
            case = Path(item["file_path"]).parent.name
            if key == "failed_checks":
                per_case[case]["failed"].add(item["check_id"])
            else:
                per_case[case]["passed"] += 1
    return dict(per_case)


def _table(results: dict[str, dict[str, Any]]) -> str:
    baseline: set[str] = results[corpus.HARDENED]["failed"]
    lines = [
        "| case | breaks | `check` flags | Checkov agrees | Checkov checks that fail beyond the "
        "hardened bundle |",
        "| --- | --- | --- | --- | --- |",
    ]
    agreed = 0
    for case in corpus.CASES:
        _, what, _ = corpus.CASES[case]
        flagged = sorted({f.rule for f in evaluate(corpus.build(case))})
        extra = sorted(results[case]["failed"] - baseline)
        agreed += bool(extra)
        lines.append(f"| {case} | {what} | {', '.join(flagged)} | "
                     f"{'yes' if extra else '**no**'} | {', '.join(extra) or '-'} |")
    hardened_failed = ", ".join(sorted(baseline)) or "none"
    lines.append("")
    lines.append(f"Checkov flags {agreed} of {len(corpus.CASES)} cases; `check` flags "
                 f"{len(corpus.CASES)} of {len(corpus.CASES)}. Checkov failures on the hardened "
                 f"bundle itself: {hardened_failed}.")
    return "\n".join(lines) + "\n"


def test_checkov_ran_on_every_case(checkov_results: dict[str, dict[str, Any]]) -> None:
    missing = [c for c in corpus.all_cases()
               if c not in checkov_results
               or checkov_results[c]["passed"] + len(checkov_results[c]["failed"]) == 0]
    assert not missing, f"Checkov produced no results for: {missing}"


def test_check_flags_every_case_and_record_checkov(
    checkov_results: dict[str, dict[str, Any]],
) -> None:
    for case in corpus.CASES:
        rule = corpus.CASES[case][0]
        assert rule in {f.rule for f in evaluate(corpus.build(case))}, case
    table = _table(checkov_results)
    print(table)
    target = os.environ.get("MCP_SCAFFOLD_CHECKOV_REPORT")
    if target:
        Path(target).write_text(table, encoding="utf-8")
    # The comparison users read is this run's, not an older one's.
    docs = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    assert table.strip() in docs, (
        "docs/check.md's Checkov table is stale: regenerate it with"
        " MCP_SCAFFOLD_CHECKOV_REPORT=/tmp/t.md and paste /tmp/t.md over it")


def test_the_readme_quotes_the_comparison_of_docs_check_md() -> None:
    docs = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    found = re.search(r"Checkov flags (\d+) of (\d+) cases; `check` flags (\d+) of (\d+)\.", docs)
    assert found
    checkov, cases, flagged, total = found.groups()
    assert int(cases) == int(total) == len(corpus.CASES) == int(flagged)
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert (f"({cases} cases), `check` flags {flagged} of {total} and Checkov 3.3.30 flags"
            f" {checkov}") in readme
