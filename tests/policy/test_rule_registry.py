"""Rules as registered units: every rule is complete and documented, `mcp-scaffold rules`
lists them, `check --select/--skip` run exactly what they name, and shared analyses run once
per check however many rules read them."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from scaffold.check import run
from scaffold.cli import main
from scaffold.errors import InputError
from scaffold.policy import PATTERNS, RULES, evaluate, network, rbac
from scaffold.policy.listing import DOCS_END, DOCS_START, docs_section
from scaffold.policy.model import ANY_KIND, POD_SPEC, Context, Hit
from scaffold.policy.registry import rule
from scaffold.report import FORMATS, REPORTERS

import corpus
from support import ROOT, reference

KIND = re.compile(r"^[A-Z][A-Za-z]+$")


def test_every_rule_has_title_fix_kinds_and_a_check() -> None:
    assert len(RULES) >= 60
    for rule_id, r in RULES.items():
        assert r.id == rule_id and r.pattern in PATTERNS
        assert r.title and r.fix.endswith("."), rule_id
        assert r.kinds, f"{rule_id} names no kinds"
        for kind in r.kinds:
            assert kind in (POD_SPEC, ANY_KIND) or KIND.match(kind), (rule_id, kind)
        assert callable(r.check)


def test_registry_refuses_incomplete_or_duplicate_rules() -> None:
    def nothing(ctx: Context) -> Iterator[Hit]:
        return iter(())

    with pytest.raises(ValueError, match="twice"):
        rule("MCP-NET-001", "network", "high", "again", kinds=["Pod"], fix="Fix.")(nothing)
    with pytest.raises(ValueError, match="kinds"):
        rule("MCP-TEST-001", "network", "high", "no kinds", kinds=[], fix="Fix.")(nothing)
    with pytest.raises(ValueError, match="fix"):
        rule("MCP-TEST-002", "network", "high", "no fix", kinds=["Pod"], fix="")(nothing)
    with pytest.raises(ValueError, match="pattern"):
        rule("MCP-TEST-003", "dns", "high", "bad pattern", kinds=["Pod"], fix="Fix.")(nothing)
    assert not any(r.startswith("MCP-TEST") for r in RULES)


def test_rules_are_ordered_by_pattern_then_id() -> None:
    keys = [(PATTERNS.index(r.pattern), r.id) for r in RULES.values()]
    assert keys == sorted(keys)
    assert next(iter(RULES)) == "MCP-RBAC-001" and list(RULES)[-1] == "MCP-RES-004"


@pytest.mark.parametrize("case", corpus.all_cases())
def test_each_check_yields_only_its_own_rule(case: str) -> None:
    docs = corpus.build(case)
    ctx = Context(docs, (1, 33))
    found = set()
    for r in RULES.values():
        for _, finding in r.check(ctx):
            assert finding.rule == r.id and finding.fix == r.fix
            assert finding.severity == r.severity and finding.pattern == r.pattern
            found.add(finding.rule)
    assert found == {f.rule for f in evaluate(docs)}


def test_docs_rule_section_is_the_generated_one() -> None:
    text = (ROOT / "docs" / "check.md").read_text("utf-8")
    assert text.count(DOCS_START) == 1 and text.count(DOCS_END) == 1
    start = text.index(DOCS_START)
    documented = text[start:text.index(DOCS_END) + len(DOCS_END)] + "\n"
    assert documented == docs_section(), "run: python -m scaffold.policy.listing"
    for r in RULES.values():
        row = f"| {r.id} | {r.pattern} | {r.severity} | {', '.join(r.kinds)} |"
        assert row in documented, f"{r.id} has no row in docs/check.md"


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_rules_json_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(["rules", "--format", "json"], capsys)
    assert code == 0
    listed = json.loads(out)["rules"]
    assert [r["id"] for r in listed] == list(RULES)
    by_id = {r["id"]: r for r in listed}
    assert by_id["MCP-NET-005"] == {
        "id": "MCP-NET-005", "pattern": "network", "severity": "high",
        "title": "ipBlock reaches the cloud metadata service",
        "kinds": ["NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy",
                  "FQDNNetworkPolicy"],
        "fix": RULES["MCP-NET-005"].fix, "description": RULES["MCP-NET-005"].description,
    }
    assert by_id["MCP-RBAC-001"]["kinds"] == ["PodSpec"]
    assert "ExternalSecret" in by_id["MCP-SEC-007"]["kinds"]
    assert all(r["fix"] and r["title"] and r["kinds"] for r in listed)


def test_rules_text_is_a_table_naming_each_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(["rules"], capsys)
    assert code == 0
    for r in RULES.values():
        assert re.search(rf"^{r.id}\s+{r.severity}\s+{r.pattern}\s+", out, re.M), r.id
    assert "fix:   Pin the image as repo[:tag]@sha256:<64 hex>" in out
    assert f"{len(RULES)} rules." in out


def test_rules_refuses_an_unknown_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["rules", "--format", "sarif"])
    assert exc.value.code == 2
    assert "'text', 'json'" in capsys.readouterr().err


def test_check_format_choices_are_the_reporter_registry(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert FORMATS == ("text", "json", "sarif")
    assert all(REPORTERS[name].name == name for name in FORMATS)
    with pytest.raises(SystemExit) as exc:
        main(["check", "-", "--format", "xml"])
    assert exc.value.code == 2
    assert "'text', 'json', 'sarif'" in capsys.readouterr().err


# ---- --select / --skip ----------------------------------------------------------------------

def _stream(*cases: str) -> str:
    return "\n---\n".join((corpus.CORPUS / c / "manifests.yaml").read_text("utf-8")
                          for c in cases)


def _json_check(text: str, **kw: Any) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = run(["-"], "json", stdout=out, stderr=io.StringIO(), stdin=io.StringIO(text), **kw)
    return code, [f["rule"] for f in json.loads(out.getvalue())["findings"]]


def test_without_select_every_rule_runs() -> None:
    _, rules = _json_check(_stream("net-006", "img-001", "rbac-001"))
    assert {"MCP-NET-006", "MCP-IMG-001", "MCP-RBAC-001"} <= set(rules)


def test_select_by_id_runs_only_that_rule() -> None:
    code, rules = _json_check(_stream("net-006", "img-001"), select=["MCP-NET-006"])
    assert code == 1 and set(rules) == {"MCP-NET-006"}


def test_select_by_pattern_runs_that_pattern() -> None:
    _, rules = _json_check(_stream("net-006", "img-001", "img-004"), select=["image"])
    assert set(rules) == {"MCP-IMG-001", "MCP-IMG-004"}


def test_skip_drops_a_rule_and_wins_over_select() -> None:
    text = _stream("net-006", "net-008", "img-001")
    _, rules = _json_check(text, skip=["MCP-NET-006"])
    assert "MCP-NET-006" not in rules and {"MCP-NET-008", "MCP-IMG-001"} <= set(rules)
    _, rules = _json_check(text, select=["network"], skip=["MCP-NET-006"])
    assert set(rules) == {"MCP-NET-008"}
    code, rules = _json_check(_stream("net-006"), skip=["network"])
    assert code == 0 and rules == []


def test_select_and_skip_on_the_command_line_are_comma_separated_and_repeatable(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin",
                        io.StringIO(_stream("net-006", "net-008", "img-001", "img-003")))
    code, out, _ = _cli(["check", "-", "--format", "json", "--select", "MCP-NET-006, image",
                         "--select", "MCP-NET-008", "--skip", "MCP-IMG-003"], capsys)
    assert code == 1
    assert {f["rule"] for f in json.loads(out)["findings"]} == {
        "MCP-NET-006", "MCP-NET-008", "MCP-IMG-001"}


@pytest.mark.parametrize("option", ["--select", "--skip"])
def test_an_unknown_rule_or_pattern_is_a_usage_error(
        option: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(["check", str(corpus.CORPUS / "net-006"), option,
                           "MCP-NET-006,MCP-NET-099"], capsys)
    assert code == 2 and out == ""
    assert f"{option}: 'MCP-NET-099' is neither a rule id nor a pattern" in err
    assert "patterns: rbac, network, secrets, pod-security, image, resources" in err
    assert "MCP-RES-004" in err and "Traceback" not in err


def test_a_selection_that_leaves_no_rule_is_a_usage_error() -> None:
    with pytest.raises(InputError, match="leave no rule to run"):
        _json_check(_stream("net-006"), select=["MCP-NET-006"], skip=["network"])


def test_suppression_may_name_a_rule_that_is_not_selected() -> None:
    text = _stream("net-006").replace(
        "metadata:\n", "metadata:\n  annotations:\n    mcp-scaffold.io/skip: MCP-IMG-001=x\n", 1)
    code, rules = _json_check(text, select=["MCP-NET-006"])
    assert code == 1 and set(rules) == {"MCP-NET-006"}


def test_sarif_lists_the_rules_that_ran_and_indexes_into_them() -> None:
    out = io.StringIO()
    run(["-"], "sarif", stdout=out, stderr=io.StringIO(),
        stdin=io.StringIO(_stream("net-006", "img-001")), select=["image", "MCP-NET-006"])
    log = json.loads(out.getvalue())
    jsonschema.validate(log, json.loads(reference("sarif-schema-2.1.0.json").read_text()))
    driver_rules = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    assert driver_rules == ["MCP-NET-006", "MCP-IMG-001", "MCP-IMG-002", "MCP-IMG-003",
                            "MCP-IMG-004"]
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"MCP-NET-006", "MCP-IMG-001"}
    for result in results:
        assert driver_rules[result["ruleIndex"]] == result["ruleId"]


# ---- shared analyses run once ---------------------------------------------------------------

def test_network_policies_are_read_once_per_check(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    judge = network._judge_policy

    def counting(policy: dict[str, Any]) -> Any:
        calls.append(policy["metadata"]["name"])
        return judge(policy)

    monkeypatch.setattr(network, "_judge_policy", counting)
    docs = corpus.build("net-004-policies")
    policies = [d["metadata"]["name"] for d in docs if d["kind"] == "NetworkPolicy"]
    assert "MCP-NET-004" in {f.rule for f in evaluate(docs)}
    assert sorted(calls) == sorted(policies)  # once each, not once per network rule


def test_bindings_are_resolved_once_per_check(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    accounts = rbac._workload_accounts

    def counting(ctx: Context) -> Any:
        calls.append(1)
        return accounts(ctx)

    monkeypatch.setattr(rbac, "_workload_accounts", counting)
    rules = {f.rule for f in evaluate(corpus.build("rbac-006-builtin-edit"))}
    assert {"MCP-RBAC-006", "MCP-RBAC-007", "MCP-RBAC-008"} <= rules
    assert calls == [1]


def test_rule_modules_lists_the_module_of_every_registered_rule() -> None:
    import sys

    from scaffold import policy

    modules = {sys.modules[r.check.__module__] for r in policy.RULES.values()}
    assert modules == set(policy.RULE_MODULES)
