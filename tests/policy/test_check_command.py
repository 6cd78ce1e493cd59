"""scaffold.check.run: inputs, formats (JSON and SARIF validated against their schemas),
suppression, exit codes and errors."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold.check import run
from scaffold.errors import InputError

import corpus
from support import ROOT, reference

REPORT_SCHEMA = ROOT / "tests" / "data" / "check-report.schema.json"  # ours
HARDENED_DIR = corpus.CORPUS / corpus.HARDENED


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def check(paths: list[str], fmt: str = "text", stdin: str | None = None,
          out: io.StringIO | None = None, **kw: Any) -> tuple[int, str, str]:
    stdout, stderr = out if out is not None else io.StringIO(), io.StringIO()
    code = run(paths, fmt, stdout=stdout, stderr=stderr,
               stdin=io.StringIO(stdin) if stdin is not None else None, **kw)
    return code, stdout.getvalue(), stderr.getvalue()


def sarif_schema() -> Path:
    # The OASIS SARIF 2.1.0 schema (oasis-tcs/sarif-spec), read from the upstream copy.
    return reference("sarif-schema-2.1.0.json")


def validate(instance: Any, schema_file: Path) -> None:
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(instance)


def test_hardened_bundle_exits_0() -> None:
    code, out, err = check([str(HARDENED_DIR)])
    assert code == 0
    assert out.startswith("No findings; checked 11 object(s) in 1 file(s)")
    assert err == ""


@pytest.mark.parametrize("case", list(corpus.CASES))
def test_every_case_is_flagged(case: str) -> None:
    code, out, _ = check([str(corpus.CORPUS / case)], "json")
    report = json.loads(out)
    assert code == 1
    assert corpus.CASES[case][0] in {f["rule"] for f in report["findings"]}


def test_text_report_is_grouped_by_object_without_colour() -> None:
    code, out, _ = check([str(corpus.CORPUS / "pss-016"), str(corpus.CORPUS / "rbac-003")])
    assert code == 1
    assert "\033[" not in out
    blocks = out.strip().split("\n\n")
    assert blocks[0].startswith("Deployment mcp-pss-016/mcp-pss-016  ")
    assert "MCP-PSS-016" in blocks[0] and "MCP-PSS-017" in blocks[0]
    assert blocks[1].startswith("ServiceAccount mcp-rbac-003/mcp-rbac-003  ")
    assert "fix Set automountServiceAccountToken: false" in blocks[1]
    assert out.rstrip().endswith("Kubernetes 1.33")
    assert "3 finding(s) (1 high, 1 medium, 1 low)" in out


def test_colour_only_on_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, out, _ = check([str(corpus.CORPUS / "img-001")], out=Tty())
    assert "\033[31m" in out
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = check([str(corpus.CORPUS / "img-001")], out=Tty())
    assert "\033[" not in out


def test_directory_recursion_extensions_and_notes(tmp_path: Path) -> None:
    base = (HARDENED_DIR / "manifests.yaml").read_text(encoding="utf-8")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "bundle.yml").write_text(base, encoding="utf-8")
    (tmp_path / "values.yaml").write_text("name: x\nport: 3000\n", encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
        encoding="utf-8")
    bad = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"},
           "data": {"token": "eA=="}}
    (tmp_path / "b.json").write_text(json.dumps(bad), encoding="utf-8")
    (tmp_path / "notes.txt").write_text(": not yaml", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.yaml").write_text(": broken", encoding="utf-8")
    code, out, err = check([str(tmp_path)], "json")
    report = json.loads(out)
    assert code == 1
    assert [(f["rule"], f["file"], f["line"]) for f in report["findings"]] == [
        ("MCP-SEC-001", str(tmp_path / "b.json"), 1)]
    assert report["summary"]["objects"] == 12 and report["summary"]["files"] == 4
    assert "values.yaml: document 1 skipped: not a Kubernetes object" in err
    assert "Kustomization configures a tool" in err


def test_stdin_with_list_and_empty_documents() -> None:
    stream = (
        "---\n---\n"  # empty documents are fine
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: a, namespace: n}\n"
        "- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: b, namespace: n}\n"
        "  automountServiceAccountToken: false\n"
        "---\n# just a comment\n---\n"
        "plain: data\n"
    )
    code, out, err = check(["-"], "json", stdin=stream)
    report = json.loads(out)
    assert code == 1
    assert [(f["rule"], f["name"], f["file"], f["line"]) for f in report["findings"]] == [
        ("MCP-RBAC-003", "a", "-", 3)]
    assert "-: document 2 skipped" in err
    validate(report, REPORT_SCHEMA)


def test_kustomize_output_on_stdin() -> None:
    # The hardened bundle as one stream, as `kubectl kustomize . | mcp-scaffold check -` gives.
    stream = (HARDENED_DIR / "manifests.yaml").read_text(encoding="utf-8")
    assert check(["-"], stdin=stream)[0] == 0


def test_json_report_matches_its_schema() -> None:
    code, out, _ = check([str(corpus.CORPUS)], "json")
    report = json.loads(out)
    assert code == 1
    validate(report, REPORT_SCHEMA)
    assert report["summary"]["findings"] == len(report["findings"]) > len(corpus.CASES)
    assert report["summary"]["objects"] > 11 * len(corpus.CASES)
    clean = json.loads(check([str(HARDENED_DIR)], "json")[1])
    validate(clean, REPORT_SCHEMA)
    assert clean["findings"] == []


def test_sarif_report_matches_the_sarif_2_1_0_schema() -> None:
    code, out, _ = check([str(corpus.CORPUS)], "sarif")
    log = json.loads(out)
    assert code == 1
    validate(log, sarif_schema())
    run_ = log["runs"][0]
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    for result in run_["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("/manifests.yaml")
        assert location["region"]["startLine"] >= 1
    stdin_log = json.loads(check(["-"], "sarif", stdin=(
        corpus.CORPUS / "img-004" / "manifests.yaml").read_text(encoding="utf-8"))[1])
    validate(stdin_log, sarif_schema())


def _with_skip(case: str, value: str) -> str:
    docs = corpus.build(case)
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["metadata"]["annotations"] = {"mcp-scaffold.io/skip": value}
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})


def test_suppressed_findings_are_reported_but_do_not_fail(tmp_path: Path) -> None:
    file = tmp_path / "bundle.json"
    file.write_text(_with_skip("img-004", "MCP-IMG-004=pinned by digest"), encoding="utf-8")
    code, out, _ = check([str(file)])
    assert code == 0
    assert "suppressed MCP-IMG-004: pinned by digest" in out
    assert "No findings; 1 suppressed" in out
    report = json.loads(check([str(file)], "json")[1])
    assert report["findings"][0]["suppressed"] == "pinned by digest"
    assert report["summary"] == {**report["summary"], "findings": 0, "suppressed": 1}
    log = json.loads(check([str(file)], "sarif")[1])
    validate(log, sarif_schema())
    assert log["runs"][0]["results"][0]["suppressions"] == [
        {"kind": "inSource", "justification": "pinned by digest"}]


@pytest.mark.parametrize("value", ["MCP-IMG-004", "MCP-IMG-004=", "MCP-NOPE-001=why"])
def test_malformed_suppression_is_an_input_error(tmp_path: Path, value: str) -> None:
    file = tmp_path / "bundle.json"
    file.write_text(_with_skip("img-004", value), encoding="utf-8")
    with pytest.raises(InputError) as info:
        check([str(file)])
    assert "mcp-scaffold.io/skip" in str(info.value)


def test_input_errors(tmp_path: Path) -> None:
    dup = tmp_path / "dup.yaml"
    dup.write_text("apiVersion: v1\nkind: ServiceAccount\nkind: Pod\n", encoding="utf-8")
    dup_json = tmp_path / "dup.json"
    dup_json.write_text('{"apiVersion": "v1", "kind": "A", "kind": "B"}', encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n", encoding="utf-8")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    only_values = tmp_path / "values.yaml"
    only_values.write_text("name: x\n", encoding="utf-8")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    cases: list[tuple[list[str], dict[str, Any], str]] = [
        ([str(tmp_path / "missing.yaml")], {}, "no such file"),
        ([str(dup)], {}, "duplicate key"),
        ([str(dup_json)], {}, "duplicate key"),
        ([str(bad)], {}, "invalid YAML"),
        ([str(binary)], {}, "not UTF-8"),
        ([str(only_values)], {}, "no Kubernetes objects"),
        ([str(empty_dir)], {}, "holds no"),
        ([], {}, "no input"),
        ([str(HARDENED_DIR)], {"fmt": "xml"}, "--format"),
        ([str(HARDENED_DIR)], {"kube_version": "latest"}, "--kube-version"),
        (["-", "-"], {"stdin": "apiVersion: v1\nkind: ServiceAccount\n"}, "only once"),
    ]
    for paths, kw, expected in cases:
        with pytest.raises(InputError) as info:
            check(paths, **kw)
        assert expected in " ".join(info.value.lines()), (paths, info.value.lines())


def test_python_c_entry_and_light_imports() -> None:
    stream = (corpus.CORPUS / "net-005" / "manifests.yaml").read_text(encoding="utf-8")
    code = (
        "import sys; from scaffold.check import run; "
        "heavy = [m for m in ('jsonschema', 'jinja2', 'kubernetes_validate') "
        "if m in sys.modules]; "
        "rc = run(['-'], 'text'); print('heavy:', heavy); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], input=stream, capture_output=True,
                          text=True, cwd=ROOT, timeout=60, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "MCP-NET-005" in proc.stdout
    assert "heavy: []" in proc.stdout


# What the text reporter itself writes besides printable text: line breaks and its own
# colour codes (report/text.py _COLOURS and the reset).
_OWN_ESCAPES = re.compile("\x1b\\[(?:31|33|36|1|2|0)m")
_CONTROL_CATEGORIES = ("Cc", "Zl", "Zp")
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unprintable(text: str) -> list[str]:
    text = _OWN_ESCAPES.sub("", text).replace("\n", "")
    return [c for c in text
            if unicodedata.category(c) in _CONTROL_CATEGORIES or c in _BIDI]


_ANY_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_ANY_TEXT, reason=_ANY_TEXT, kind=_ANY_TEXT, suppress=st.booleans(),
       colour=st.booleans())
def test_text_report_escapes_everything_it_echoes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, reason: str, kind: str,
        suppress: bool, colour: bool) -> None:
    # A skip reason is one line of the annotation: the annotation is split at line breaks.
    reason = "".join(reason.splitlines()).strip() or "x"
    docs = corpus.build("img-004")
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["metadata"]["name"] = name
    if suppress:
        deployment["metadata"]["annotations"] = {"mcp-scaffold.io/skip":
                                                 f"MCP-IMG-004={reason}"}
    # A document check skips, whose kind the note on stderr names.
    docs.append({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": kind})
    file = tmp_path / f"bundle-{name.encode().hex()[:32]}.json"
    file.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}),
                    encoding="utf-8")
    if colour:
        monkeypatch.delenv("NO_COLOR", raising=False)
    code, out, err = check([str(file)], out=Tty() if colour else None)
    assert code == (0 if suppress else 1)
    assert _unprintable(out) == [] and _unprintable(err) == []
    lines = out.splitlines()
    forged = [line for line in lines[:-1] if _OWN_ESCAPES.sub("", line).startswith("No findings")]
    assert forged == []
    assert _OWN_ESCAPES.sub("", lines[-1]).startswith("No findings") is suppress
    assert len(err.splitlines()) == 1


def test_text_report_escapes_a_forged_summary(tmp_path: Path) -> None:
    # The attack of issue 18: an ESC sequence that clears the screen, then a forged summary.
    forged = "\x1b[2J\x1b[HNo findings; checked 11 object(s) in 1 file(s), Kubernetes 1.33"
    file = tmp_path / "bundle.json"
    file.write_text(_with_skip("img-004", f"MCP-IMG-004={forged}"), encoding="utf-8")
    _, out, _ = check([str(file)])
    assert "\x1b" not in out
    assert "suppressed MCP-IMG-004: \\x1b[2J\\x1b[HNo findings; checked" in out


def test_a_malformed_skip_names_its_object_escaped(tmp_path: Path) -> None:
    docs = corpus.build("img-004")
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    deployment["metadata"].update(name="x\x1b[2J\nNo findings",
                                  annotations={"mcp-scaffold.io/skip": "MCP-IMG-004"})
    file = tmp_path / "bundle.json"
    file.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}),
                    encoding="utf-8")
    with pytest.raises(InputError) as info:
        check([str(file)])
    assert all(_unprintable(line) == [] for line in info.value.lines())
    assert "x\\x1b[2J\\nNo findings" in info.value.lines()[0]
