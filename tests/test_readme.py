"""The README's values reference is the schema's, not a copy that drifts."""

from __future__ import annotations

import json
import re

from scaffold import reference

from support import ROOT


def test_values_reference_matches_schema() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    start = readme.index("<!-- values-reference:start -->\n") + len("<!-- values-reference:start -->\n")
    end = readme.index("<!-- values-reference:end -->")
    assert readme[start:end] == reference.table(), "regenerate with: python -m scaffold.reference"


def test_every_schema_key_is_in_the_table() -> None:
    table = reference.table()
    for key in ("`name`", "`secrets.aws.roleArn`", "`downstream[].ports`", "`apiServer.cidrs`",
                "`secrets.vault.vaultAddress`"):
        assert key in table


def test_the_layout_of_a_base_lists_every_file_the_plan_can_emit() -> None:
    from scaffold import plan

    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Layout of a base"):]
    block = section[section.index("```\n") + 4:]
    block = block[:block.index("```")]
    listed = set(re.findall(r"[\w-]+\.(?:yaml|md)\b", block))
    emitted = {m.name for m in plan._outputs(None, None, None, True, "cilium")}
    assert listed == emitted


def test_the_acceptance_paragraph_names_exactly_the_examples_the_suite_runs() -> None:
    text = (ROOT / "README.md").read_text()
    paragraph = text[text.index("**Acceptance tests**"):text.index("## Command line")]
    named = set(re.findall(r"examples/([\w-]+)\.yaml", paragraph))
    suite = "\n".join(p.read_text() for p in (ROOT / "tests" / "acceptance").glob("*.py"))
    run = set(re.findall(r'rendered\("([\w-]+)"\)', suite))
    run |= set(re.findall(r'EXAMPLES / "([\w-]+)\.yaml"', suite))
    assert named == run


def test_the_rule_count_the_readme_states_is_the_registry_s() -> None:
    from scaffold.policy import PATTERNS, RULES

    readme = " ".join((ROOT / "README.md").read_text().split())
    found = re.search(r"(\d+) rules in (\w+) patterns \(([^)]*)\)", readme)
    assert found
    words = {"five": 5, "six": 6, "seven": 7, "eight": 8}
    assert int(found[1]) == len(RULES)
    assert words[found[2]] == len(PATTERNS)
    assert re.findall(r"`([\w-]+)`", found[3]) == list(PATTERNS)


def test_the_speed_figures_are_those_of_the_latest_bench_run() -> None:
    figures = json.loads((ROOT / "bench" / "latest.json").read_text())
    readme = " ".join((ROOT / "README.md").read_text().split())
    section = readme[readme.index("## Speed"):readme.index("## Values reference")]
    check = figures["check"]
    x = "\N{MULTIPLICATION SIGN}"
    expected = (f"`--help` takes {figures['help']['ratio']:.1f}{x} `python -c pass`; a cold `new`"
                f" takes {figures['new']['ratio']:.1f}{x} `helm template`; `check` is"
                f" {check['corpus']['speedup']:.0f}{x} faster than Checkov on the test corpus"
                f" ({check['corpus']['files']} files) and {check['stream']['speedup']:.0f}{x} on a"
                f" stream of {check['stream']['bases']} bases; render + verify takes"
                f" {figures['inprocess']['per_server_ms']:.1f} ms per server in process.")
    assert expected in section
