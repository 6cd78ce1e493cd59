"""Problems carry a code, and code acts on the code: `new --no-input` names a missing key by
REQUIRED, the wizard asks again for what is wrong but not for what is merely missing. No module
decides anything by reading a problem's message (messages are for people)."""

from __future__ import annotations

import ast
import copy
import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffold import pipeline, values, wizard
from scaffold.errors import MissingAnswersError, Problem, ProblemCode, ValuesError

from support import EXAMPLES, ROOT

MINIMAL: dict[str, Any] = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
GITHUB: dict[str, Any] = yaml.safe_load((EXAMPLES / "github-mcp.yaml").read_text())
MISSING_HINT = "is missing; nobody can be asked (no terminal or --no-input): give it in --values"


def _problems(data: Any) -> list[Problem]:
    with pytest.raises(ValuesError) as caught:
        values.validate(data, "values.yaml")
    return caught.value.problems


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(base)
    for key, value in changes.items():
        data[key] = value
    return data


# --- the codes the values checks give --------------------------------------------------------

CASES: list[tuple[str, dict[str, Any], str, ProblemCode]] = [
    ("missing", {k: v for k, v in MINIMAL.items() if k != "image"}, "image",
     ProblemCode.REQUIRED),
    ("unknown-key", _with(MINIMAL, replica=2), "replica", ProblemCode.UNKNOWN_KEY),
    ("type", _with(MINIMAL, port="http"), "port", ProblemCode.TYPE),
    ("enum", _with(MINIMAL, runtime="java"), "runtime", ProblemCode.ENUM),
    ("range", _with(MINIMAL, port=80), "port", ProblemCode.RANGE),
    ("pattern", _with(MINIMAL, name="GitHub_MCP"), "name", ProblemCode.PATTERN),
    ("too-long", _with(MINIMAL, name="a" * 51), "name", ProblemCode.RANGE),
    ("empty", _with(GITHUB, downstream=[{**GITHUB["downstream"][0], "ports": []}]),
     "downstream[0].ports", ProblemCode.EMPTY),
    ("control-char", _with(MINIMAL, name="echo\nmcp"), "name", ProblemCode.CONTROL_CHAR),
    ("reserved-env", _with(MINIMAL, env={"HOME": "/root"}), "env.HOME", ProblemCode.RESERVED),
    ("reserved-label", _with(MINIMAL, labels={"app.kubernetes.io/name": "x"}),
     "labels.app.kubernetes.io/name", ProblemCode.RESERVED),
    ("conflict", _with(MINIMAL, configMaps=["cfg"]), "apiServer.cidrs", ProblemCode.CONFLICT),
    ("credential", _with(MINIMAL, env={"GITHUB_TOKEN": "ghp_" + "a1B2c3D4e5" * 4}),
     "env.GITHUB_TOKEN", ProblemCode.CREDENTIAL),
    ("invalid", _with(MINIMAL, image="ghcr.io/acme/x:1.0"), "image", ProblemCode.INVALID),
    ("duplicate", _with(GITHUB, downstream=[*GITHUB["downstream"], GITHUB["downstream"][0]]),
     "downstream[2].name", ProblemCode.DUPLICATE),
    ("provider-block-missing", _with(MINIMAL, secrets={"provider": "vault"}), "secrets.vault",
     ProblemCode.CONFLICT),
]


@pytest.mark.parametrize(("data", "key", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_names_its_kind(data: dict[str, Any], key: str, code: ProblemCode) -> None:
    found = {p.key: p.code for p in _problems(data)}
    assert found.get(key) == code, found


def test_every_missing_top_level_key_is_required() -> None:
    problems = _problems({})
    assert {p.key for p in problems if p.code is ProblemCode.REQUIRED} == {
        "name", "namespace", "image", "ingress"}
    assert all(p.message == "is required" for p in problems)  # what people read is unchanged


def test_a_required_key_inside_a_section_is_required_at_its_path() -> None:
    problems = _problems(_with(MINIMAL, ingress={}))
    assert [(p.key, p.code) for p in problems] == [("ingress.namespace", ProblemCode.REQUIRED)]


# --- new: the missing answers, by code --------------------------------------------------------


def _write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_no_input_names_every_missing_key_and_keeps_the_other_problems(tmp_path: Path) -> None:
    data = {k: v for k, v in MINIMAL.items() if k not in ("image", "name")}
    data["port"] = "http"
    with pytest.raises(MissingAnswersError) as caught:
        pipeline.new(_write(tmp_path, data), "-", interactive=False, force=False, dry_run=False,
                     stdout=io.StringIO(), stderr=io.StringIO())
    assert [(p.key, p.code, p.message) for p in caught.value.problems] == [
        ("image", ProblemCode.REQUIRED, MISSING_HINT),
        ("name", ProblemCode.REQUIRED, MISSING_HINT),
        ("port", ProblemCode.TYPE, 'must be an integer, got "http" (string)'),
    ]


def test_no_input_goes_by_the_code_not_by_the_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """A REQUIRED problem worded differently is still a missing answer; a problem that merely
    reads "is required" but is of another kind is reported as it is."""

    def refuse(problem: Problem) -> None:
        def validate(raw: Any, source: str = "") -> values.Values:
            raise ValuesError([problem], source)

        monkeypatch.setattr(values, "validate", validate)

    refuse(Problem("name", "has to be given", ProblemCode.REQUIRED))
    with pytest.raises(MissingAnswersError) as missing:
        pipeline._complete({}, "values.yaml", interactive=False)
    assert missing.value.problems == [Problem("name", MISSING_HINT, ProblemCode.REQUIRED)]

    refuse(Problem("name", "is required", ProblemCode.CONFLICT))
    with pytest.raises(ValuesError) as other:
        pipeline._complete({}, "values.yaml", interactive=False)
    assert not isinstance(other.value, MissingAnswersError)
    assert other.value.problems == [Problem("name", "is required", ProblemCode.CONFLICT)]


def test_a_missing_answer_in_a_terminal_goes_to_the_wizard(monkeypatch: pytest.MonkeyPatch) -> None:
    def validate(raw: Any, source: str = "") -> values.Values:
        raise ValuesError([Problem("name", "has to be given", ProblemCode.REQUIRED)], source)

    asked: list[dict[str, Any]] = []

    def complete(raw: dict[str, Any], source: str, **hooks: Any) -> values.Values:
        assert set(hooks) == {"check_name", "keep"}
        asked.append(raw)
        return {"answered": True}

    monkeypatch.setattr(values, "validate", validate)
    monkeypatch.setattr(wizard, "complete", complete)
    assert pipeline._complete({"port": 3000}, "values.yaml", interactive=True) == {"answered": True}
    assert asked == [{"port": 3000}]


# --- the wizard: asks again for what is wrong, by code ----------------------------------------


def _reask(monkeypatch: pytest.MonkeyPatch, raw: dict[str, Any],
           problems: list[Problem] | None = None) -> tuple[dict[str, Any], list[str]]:
    shown: list[str] = []
    monkeypatch.setattr(wizard, "_help", shown.append)
    if problems is not None:
        monkeypatch.setattr(values, "schema_problems", lambda data: list(problems))
    w = wizard._Wizard(raw)
    w.reask_bad_answers("values.yaml")
    return w.answers, shown


def test_the_wizard_asks_again_for_a_wrong_answer_not_for_a_missing_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    raw = {"namespace": "mcp-sandbox", "port": "http", "ingress": {"namespace": "ingress-nginx"}}
    answers, shown = _reask(monkeypatch, raw)
    assert "port" not in answers  # forgotten: asked again
    assert answers["namespace"] == "mcp-sandbox"
    assert shown == ['  ✗ values.yaml: port: must be an integer, got "http" (string) (asking'
                     " again)"]  # nothing said about name or image: they are asked in turn


def test_the_wizard_goes_by_the_code_not_by_the_words(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = {"port": 3000, "runtime": "node"}
    answers, shown = _reask(monkeypatch, raw, [Problem("port", "has to be given",
                                                       ProblemCode.REQUIRED)])
    assert (answers, shown) == (raw, [])

    answers, shown = _reask(monkeypatch, raw, [Problem("port", "is required", ProblemCode.RANGE)])
    assert answers == {"runtime": "node"}
    assert shown == ["  ✗ values.yaml: port: is required (asking again)"]


# --- no module reads a message to decide -------------------------------------------------------

_TEXT_METHODS = {"startswith", "endswith", "find", "index", "count", "__contains__"}


def _reads_message(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in ("message", "reason")


def _message_decisions(tree: ast.AST) -> list[int]:
    """Lines that compare a problem's message (or reason) with text or search it for text."""
    lines: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_reads_message(s) for s in sides) and any(
                    isinstance(s, ast.Constant) and isinstance(s.value, str) for s in sides):
                lines.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in _TEXT_METHODS and _reads_message(node.func.value)):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_check_finds_a_decision_on_a_message() -> None:
    bad = ast.parse('if any(p.message == "is required" for p in ps): pass\n'
                    'x = [p for p in ps if "required" in p.message]\n'
                    'y = exc.reason.startswith("is an existing")\n')
    assert _message_decisions(bad) == [1, 2, 3]
    fine = ast.parse('if any(p.code is Code.REQUIRED for p in ps): pass\nshow(p.message)\n')
    assert _message_decisions(fine) == []


def test_no_module_decides_by_a_message() -> None:
    found = {str(path.relative_to(ROOT)): lines
             for path in sorted((ROOT / "scaffold").rglob("*.py"))
             if (lines := _message_decisions(ast.parse(path.read_text("utf-8"))))}
    assert found == {}
