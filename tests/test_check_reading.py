"""`check` reads manifests the way `kubectl apply -f` does, confirmed with the real kubectl.

kubectl needs no cluster to show what it read: `kubectl annotate --local -f FILE k=v -o json`
goes through the same resource builder and decoder as `apply -f` (YAMLOrJSONDecoder, go-yaml
v2 via sigs.k8s.io/yaml, unstructured JSON) and prints the objects it would send.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import yamlio
from scaffold.check import run
from scaffold.cli import main
from scaffold.errors import InputError

from support import ROOT, run_tool, tool

HARDENED = ROOT / "tests" / "policy" / "corpus" / "hardened" / "manifests.yaml"

# Plain scalars whose reading differs between YAML 1.1 (PyYAML), YAML 1.2 and go-yaml v2.
FORMS = [
    "y", "Y", "yes", "Yes", "YES", "yEs", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
    "tRue", "false", "False", "FALSE", "on", "On", "ON", "oN", "off", "Off", "OFF",
    "0", "-0", "+1", "007", "0755", "08", "0o17", "0O17", "0x1F", "0X1F", "0b101", "-0b101",
    "0B101", "1_000", "1__0", "_1", "1_", "0x_1F", "1e3", "1E3", "1e+3", "1.5e-3", ".5", "1.",
    "-.5", "+.5", "inf", "nan", "Infinity", "1:20", "1:20:30", "-1:20", "190:20:30.15",
    "12e03", "9223372036854775807", "9223372036854775808", "18446744073709551616",
    "-9223372036854775809", "0x1p-2", "1e400", "~", "null", "Null", "NULL", "nULL", "",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2002-12-14T01:02:03Z", "1_0.5", "0.1_5",
    "0x1F_FF", "01_7", "0o1_7", "=", "+", "-1", ".", "0x", "0o", "0b2", "09", "1e", ".e3",
]

# The readings this project relies on, as kubectl gives them (the fixture below checks each).
DOCUMENTED = {
    "y": True, "Y": True, "yes": True, "on": True, "ON": True, "n": False, "N": False,
    "NO": False, "off": False, "yEs": "yEs", "0o17": 15, "0755": 493, "0x1F": 31, "0b101": 5,
    "1_000": 1000, "1e3": 1000, "0e0": 0, "1:20": "1:20", "2001-12-14": "2001-12-14",
    "~": None, "": None, "08": 8, "inf": "inf",
}
FORMS += [f for f in DOCUMENTED if f not in FORMS]


def kubectl_read(text: str, tmp: Path) -> list[dict[str, Any]]:
    """The objects kubectl would send for a file holding text (ValueError if it refuses it)."""
    file = tmp / "input.yaml"
    file.write_text(text, encoding="utf-8", newline="")
    proc = run_tool(tool("kubectl"), "annotate", "--local", "-f", str(file),
                    "mcp-scaffold.io/probe=1", "-o", "json")
    if proc.returncode:
        raise ValueError(proc.stderr)
    decoder, out, pos, objects = json.JSONDecoder(), proc.stdout, 0, []
    while pos < len(out):
        if out[pos].isspace():
            pos += 1
            continue
        obj, pos = decoder.raw_decode(out, pos)
        del obj["metadata"]["annotations"]["mcp-scaffold.io/probe"]
        if not obj["metadata"]["annotations"]:
            del obj["metadata"]["annotations"]
        objects.append(obj)
    return objects


@pytest.fixture(scope="module")
def kubectl_forms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every form in FORMS as kubectl reads it: one kubectl run over one Pod."""
    doc = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n" + "".join(
        f"  x{i}: {form}\n" for i, form in enumerate(FORMS))
    spec = kubectl_read(doc, tmp_path_factory.mktemp("forms"))[0]["spec"]
    return {form: spec[f"x{i}"] for i, form in enumerate(FORMS)}


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: Python's json reads Go's 9223372036854776000 as an int."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return bool(a == b) and type(a) is type(b)


def test_every_scalar_form_reads_as_kubectl_reads_it(kubectl_forms: dict[str, Any]) -> None:
    doc = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n" + "".join(
        f"  x{i}: {form}\n" for i, form in enumerate(FORMS))
    spec = yamlio.load_kubectl(doc, "t")[0].value["spec"]
    wrong = {f: (spec[f"x{i}"], kubectl_forms[f]) for i, f in enumerate(FORMS)
             if not same_json(spec[f"x{i}"], kubectl_forms[f])}
    assert wrong == {}
    for form, expected in DOCUMENTED.items():  # what the table in the docs says, confirmed
        assert same_json(kubectl_forms[form], expected), (form, kubectl_forms[form])


@pytest.mark.parametrize("form", [".inf", "-.Inf", ".NaN", "+.INF"])
def test_numbers_kubectl_cannot_send_are_refused(form: str, tmp_path: Path) -> None:
    doc = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  x: {form}\n"
    with pytest.raises(ValueError, match="unsupported value"):
        kubectl_read(doc, tmp_path)
    with pytest.raises(InputError, match="finite"):
        yamlio.load_kubectl(doc, "t")


POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
STRUCTURES = {
    "merge": POD + "x: &b {hostNetwork: true, a: 1}\nspec:\n  <<: *b\n  a: 2\n",
    "merge list, first wins": POD + "x: &b {hostNetwork: true, a: 1}\n"
                              "y: &c {hostNetwork: false, c: 3}\nspec:\n  <<: [*c, *b]\n",
    "merge after an explicit key wins": POD + "x: &b {hostNetwork: true}\n"
                                              "spec:\n  hostNetwork: false\n  <<: *b\n",
    "two merges, last wins": POD + "spec:\n  <<: {hostNetwork: true}\n"
                                   "  <<: {hostNetwork: false}\n",
    "quoted << is a key": POD + "spec:\n  '<<': {hostNetwork: true}\n",
    "!!merge": POD + "spec:\n  !!merge <<: {hostNetwork: true}\n",
    "tags": POD + "spec:\n  a: !!str yes\n  b: !!int '3'\n  c: !!bool 'y'\n  d: !!float 1\n"
                  "  e: !!null ''\n  f: !foo bar\n  g: !!binary aGk=\n"
                  "  h: !!timestamp 2001-12-14\n",
    "keys become strings": POD + "spec:\n  1: a\n  y: b\n  0x10: d\n  off: e\n",
    "BOM at the start of a later document": POD + "---\n\ufeff" + POD.replace("p}", "q}"),
    "BOM at the start of the file": "\ufeff" + POD,
    "CRLF": (POD + "spec: {hostNetwork: y}\n---\n" + POD).replace("\n", "\r\n"),
    "tabs in a flow mapping": POD + "spec: {\thostNetwork:\ttrue}\n",
    "flow mapping over lines": POD + "spec: {hostNetwork: true,\n  a: 1}\n",
    "JSON stream": '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},'
                   '"spec":{"x":1e3,"y":1.0}}\n{"apiVersion":"v1","kind":"Pod",'
                   '"metadata":{"name":"b"}}',
    "JSON then YAML": '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}\n---\n' + POD,
    "not JSON after all": '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},'
                          '"spec":{"hostNetwork":yes}}',
    "comment after ---": POD + "--- # next\n" + POD.replace("p}", "q}"),
    "empty and null documents": "---\n---\nnull\n---\n# only a comment\n---\n" + POD,
}


@pytest.mark.parametrize("name", list(STRUCTURES))
def test_structures_read_as_kubectl_reads_them(name: str, tmp_path: Path) -> None:
    text = STRUCTURES[name]
    expected = kubectl_read(text, tmp_path)
    mine = [d.value for d in yamlio.load_kubectl(text, "t") if d.value is not None]
    assert mine == expected


# kubectl refuses the file (False), or reads it silently choosing one of two readings (True):
# exit 2 here either way.
REFUSED = {
    "--- with content": ("--- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n",
                         "invalid document separator", False),
    "----": (POD + "----\n" + POD, "invalid document separator", False),
    "BOM before ---": (POD + "\ufeff---\n" + POD, "invalid YAML", False),
    "duplicate key (kubectl keeps the last)": (POD + "kind: ServiceAccount\n", "duplicate key",
                                               True),
    "keys equal once converted": (POD + "spec:\n  1: a\n  '1': b\n", "duplicate key", True),
    "duplicate JSON key": ('{"apiVersion":"v1","kind":"Pod","kind":"ServiceAccount",'
                           '"metadata":{"name":"p"}}', "duplicate key", True),
    "a null key": (POD + "spec:\n  ~: e\n", "cannot be a key", False),
    "merge of a scalar": (POD + "spec:\n  <<: 1\n", "map merge", False),
    "document after ... (kubectl drops it)": (POD + "...\n" + POD, "invalid YAML", True),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_kubectl_refuses_or_reads_ambiguously_is_exit_2(name: str, tmp_path: Path) -> None:
    text, message, kubectl_reads_it = REFUSED[name]
    with pytest.raises(InputError, match=message):
        run(["-"], "json", stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO(text))
    if kubectl_reads_it:
        assert kubectl_read(text, tmp_path)
    else:
        with pytest.raises(ValueError):
            kubectl_read(text, tmp_path)


# ---- the hardened bundle with one field written in a YAML 1.1 spelling -----------------------

BASE = yamlio.load_all(HARDENED.read_text(encoding="utf-8"), "hardened")
# field, where it lives, the rule, and whether the rule fires for a given boolean reading
# field -> (where it sits, the rule judging it, whether a value read so makes the rule fire)
FIELDS: dict[str, tuple[str, str, Callable[[object], bool]]] = {
    "hostNetwork": ("pod", "MCP-PSS-001", lambda v: v is True),
    "automountServiceAccountToken": ("pod", "MCP-RBAC-002", lambda v: v is True),
    "privileged": ("container", "MCP-PSS-002", lambda v: v is True),
    "readOnlyRootFilesystem": ("container", "MCP-PSS-018", lambda v: v is not True),
    "automountServiceAccountToken ": ("serviceaccount", "MCP-RBAC-003", lambda v: v is True),
}
PLACEMENTS = ["plain", "crlf", "bom", "list", "merge", "merge-after", "json-list"]


def _stream(field: str, where: str, form: str, reading: bool, placement: str) -> str:
    docs = json.loads(json.dumps(BASE))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    target = {"pod": pod, "container": pod["containers"][0]["securityContext"],
              "serviceaccount": next(d for d in docs if d["kind"] == "ServiceAccount")}[where]
    target[field.strip()] = "__FORM__"
    if placement == "json-list":  # a JSON List, the form as the YAML that kubectl falls back to
        text = json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})
        return text.replace('"__FORM__"', form)
    if placement == "list":
        texts = [yamlio.dump({"apiVersion": "v1", "kind": "List", "items": docs})]
    else:
        texts = [yamlio.dump(d) for d in docs]
    text = "---\n".join(texts)
    line = next(x for x in text.splitlines() if "__FORM__" in x)
    indent = line[: len(line) - len(line.lstrip(" -"))]
    key = field.strip()
    if placement == "merge":
        text = text.replace(line, f"{indent}<<: {{{key}: {form}}}")
    elif placement == "merge-after":  # go-yaml applies pairs in order: the merge wins
        text = text.replace(line, f"{indent}{key}: {str(not reading).lower()}\n"
                                  f"{indent}<<: {{{key}: {form}}}")
    else:
        text = text.replace("__FORM__", form)
    if placement == "crlf":
        text = text.replace("\n", "\r\n")
    if placement == "bom":
        text = "\ufeff" + text.replace("---\n", "---\n\ufeff")
    return text


@st.composite
def cases(draw: st.DrawFn, readings: dict[str, Any]) -> tuple[str, str, bool, str]:
    boolean_forms = sorted(f for f, v in readings.items() if isinstance(v, bool))
    return (draw(st.sampled_from(sorted(FIELDS))), draw(st.sampled_from(boolean_forms)),
            draw(st.booleans()), draw(st.sampled_from(PLACEMENTS)))


def test_boolean_spellings_are_judged_as_kubectl_reads_them(
        kubectl_forms: dict[str, Any]) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=cases(kubectl_forms))
    def judged(case: tuple[str, str, bool, str]) -> None:
        field, form, _, placement = case
        reading = kubectl_forms[form]
        where, rule, fires = FIELDS[field]
        text = _stream(field, where, form, reading, placement)
        out = io.StringIO()
        code = run(["-"], "json", stdout=out, stderr=io.StringIO(), stdin=io.StringIO(text))
        rules = {f["rule"] for f in json.loads(out.getvalue())["findings"]}
        assert (rule in rules) == fires(reading), (field, form, reading, placement, rules)
        assert code == (1 if rules else 0)

    judged()


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("form", ["y", "off"])
def test_the_placements_read_as_kubectl_reads_them(kubectl_forms: dict[str, Any], tmp_path: Path,
                                                   placement: str, form: str) -> None:
    # The generator above is trusted only because kubectl reads each placement the same way.
    text = _stream("hostNetwork", "pod", form, kubectl_forms[form], placement)
    expected = kubectl_read(text, tmp_path)
    mine = [d for doc in yamlio.load_kubectl(text, "t")
            for d in doc.value.get("items", [doc.value])]
    assert mine == expected


# ---- which documents are judged --------------------------------------------------------------

def _check(text: str) -> tuple[int, dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(["-"], "json", stdout=out, stderr=err, stdin=io.StringIO(text))
    return code, json.loads(out.getvalue()), err.getvalue()


HOST_POD = "metadata: {name: p, namespace: ns}\nspec:\n  hostNetwork: true\n" \
           "  containers: [{name: c, image: x}]\n"


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: PodList\nitems:\n- " + HOST_POD.replace("\n", "\n  "),
    "apiVersion: v1\nkind: Pod\nmetadata: {name: decoy, namespace: ns}\nitems:\n- "
    + HOST_POD.replace("\n", "\n  "),
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  "
    + HOST_POD.replace("\n", "\n  "),
])
def test_every_object_kubectl_applies_from_a_list_is_judged(text: str, tmp_path: Path) -> None:
    applied = kubectl_read(text, tmp_path)
    assert [(o["kind"], o["metadata"]["name"]) for o in applied] == [("Pod", "p")]
    code, report, _ = _check(text)
    assert code == 1
    assert {(f["kind"], f["name"]) for f in report["findings"]
            if f["rule"] == "MCP-PSS-001"} == {("Pod", "p")}


@pytest.mark.parametrize("text, note", [
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nitems: null\n", "no items"),
    ("name: x\nport: 3000\n", "no apiVersion/kind"),
    ("- a\n", "not a mapping"),
])
def test_documents_kubectl_applies_nothing_from_are_noted(text: str, note: str,
                                                          tmp_path: Path) -> None:
    with contextlib.suppress(ValueError):  # refused: nothing applied either way
        assert kubectl_read(text, tmp_path) == []
    stream = text + "---\napiVersion: v1\nkind: ServiceAccount\n" \
                    "metadata: {name: s, namespace: ns}\n"
    _, report, err = _check(stream)
    assert report["summary"]["objects"] == 1
    assert note in err


# ---- input limits ------------------------------------------------------------------------------

def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_by_its_expansion_count(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "bomb.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n"
                        + "".join("  " + line + "\n" for line in _bomb().splitlines()))
    assert len(manifest.read_bytes()) < 1000
    with pytest.raises(ValueError, match="excessive aliasing"):  # kubectl refuses it as well
        kubectl_read(manifest.read_text(), tmp_path)
    assert main(["check", str(manifest)]) == 2
    err = capsys.readouterr().err
    assert "alias-expansion bomb" in err and "more than the 1,000,000 allowed" in err
    count = int(err.split("at least ")[1].split(" nodes")[0].replace(",", ""))
    assert yamlio.MAX_ALIAS_NODES < count < 10 * yamlio.MAX_ALIAS_NODES

    values = tmp_path / "values.yaml"
    values.write_text("name: bomb\n" + _bomb())
    assert main(["new", "--values", str(values), "--output", "-", "--no-input"]) == 2
    err = capsys.readouterr().err
    assert "alias-expansion bomb" in err and "Traceback" not in err


def test_aliases_within_the_limit_are_read_as_copies() -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n- &p {apiVersion: v1, kind: ServiceAccount," \
           " metadata: {name: s, namespace: ns}}\n- *p\n"
    code, report, err = _check(text)
    assert code == 1 and report["summary"]["objects"] == 2
    # Two copies of one object: kubectl apply leaves one, so one is judged, and noted.
    assert len([f for f in report["findings"] if f["rule"] == "MCP-RBAC-003"]) == 1
    assert "v1 ServiceAccount ns/s is replaced by the one at -:" in err


@pytest.mark.parametrize("form", ["block", "flow", "json"])
def test_deep_nesting_is_exit_2_for_check_and_new(form: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    depth = 5000
    if form == "block":
        deep = "".join(" " * i + "a:\n" for i in range(depth)) + " " * depth + "b: 1\n"
    elif form == "flow":
        deep = "a: " + "[" * depth + "]" * depth + "\n"
    else:
        deep = '{"a": ' + "[" * depth + "]" * depth + "}"
    manifest = tmp_path / "deep.yaml"
    manifest.write_text(deep if form == "json" else
                        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata:\n"
                        + "".join("  " + line + "\n" for line in deep.splitlines()))
    assert main(["check", str(manifest)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert "nested deeper than 100 levels" in err or "exceeded maximum nesting depth" in err
    values = tmp_path / "values.yaml"
    values.write_text("name: deep\n" + (deep if form != "json" else "x: " + deep + "\n"))
    assert main(["new", "--values", str(values), "--output", "-", "--no-input"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err


def test_nesting_at_the_limit_is_judged(tmp_path: Path) -> None:
    # 100 levels in all, inside a pod's annotations: read and judged, no recursion error.
    pod: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": "p", "namespace": "n", "labels": {}},
                           "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "x"}]}}
    inner: Any = 1
    for _ in range(yamlio.MAX_DEPTH - 4):
        inner = [inner]
    pod["spec"]["containers"][0]["args"] = inner
    code, report, _ = _check(json.dumps(pod))
    assert code == 1 and "MCP-PSS-001" in {f["rule"] for f in report["findings"]}
    pod["spec"]["containers"][0]["args"] = [inner]
    with pytest.raises(InputError, match="deeper than 100"):
        _check(json.dumps(pod))


# ---- directories ---------------------------------------------------------------------------------

def _pod(name: str, host: bool = True) -> str:
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: ns}}\n"
            f"spec:\n  hostNetwork: {str(host).lower()}\n  containers: [{{name: c, image: x}}]\n")


def test_directories_read_what_kubectl_apply_recursive_reads(tmp_path: Path) -> None:
    root = tmp_path / "d"
    (root / "sub" / ".hidden").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".dot.yaml").write_text(_pod("dot"))
    (root / "top.yml").write_text(_pod("top"))
    (root / "j.json").write_text(_pod("yaml-in-json"))  # kubectl sniffs content, not names
    (root / "sub" / ".hidden" / "h.yaml").write_text(_pod("hidden"))
    (root / "UP.YAML").write_text(_pod("upper"))  # extensions are case-sensitive
    (root / "x.txt").write_text(_pod("txt"))
    (root / ".git" / "g.yaml").write_text(": git's own data")
    os.symlink(root / "sub", root / "linked-dir")  # not followed, as filepath.Walk does not
    expected = {o["metadata"]["name"] for o in _kubectl_dir(root, tmp_path)}
    code, out = _check_dir(root)
    judged = {f["name"] for f in json.loads(out)["findings"] if f["rule"] == "MCP-PSS-001"}
    assert code == 1
    assert judged == expected | {"hidden"} == {"dot", "top", "yaml-in-json", "hidden"}


def _kubectl_dir(root: Path, tmp: Path) -> list[dict[str, Any]]:
    (root / ".git" / "g.yaml").rename(tmp / "g.yaml")  # kubectl -R would try git's data too
    try:
        proc = run_tool(tool("kubectl"), "annotate", "--local", "-R=false", "-f", str(root),
                        "k=v", "-o", "json")
    finally:
        (tmp / "g.yaml").rename(root / ".git" / "g.yaml")
    assert proc.returncode == 0, proc.stderr
    decoder, out, pos, found = json.JSONDecoder(), proc.stdout, 0, []
    while pos < len(out):
        if out[pos].isspace():
            pos += 1
            continue
        obj, pos = decoder.raw_decode(out, pos)
        found.append(obj)
    return found


def _check_dir(root: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = run([str(root)], "json", stdout=out, stderr=io.StringIO())
    return code, out.getvalue()


@pytest.mark.parametrize("kustomization, refused", [
    ("resources: [pod.yaml]\n", False),
    ("resources: [pod.yaml]\nnamespace: prod\n", True),
    ("resources: [pod.yaml]\npatches: [{path: p.yaml}]\n", True),
    ("resources: [pod.yaml, ../other]\n", True),
    ("resources: [https://github.com/x/y//base]\n", True),
])
def test_a_kustomization_that_changes_its_files_is_refused(kustomization: str, refused: bool,
                                                           tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(_pod("p", host=False))
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" + kustomization)
    if not refused:
        assert json.loads(_check_dir(tmp_path)[1])["summary"]["objects"] == 1
        return
    with pytest.raises(InputError) as info:
        _check_dir(tmp_path)
    message = " ".join(info.value.lines())
    assert f"kubectl kustomize {tmp_path} | mcp-scaffold check -" in message
    assert "kustomization.yaml" in message


def test_a_generated_base_is_still_checked_as_a_directory(tmp_path: Path) -> None:
    assert main(["new", "--values", str(ROOT / "examples" / "github-mcp.yaml"), "--output",
                 str(tmp_path / "base"), "--no-input"]) == 0
    code, out = _check_dir(tmp_path / "base")
    assert code == 0, out
    listed = yamlio.load_one((tmp_path / "base" / "kustomization.yaml").read_text(), "k")
    assert json.loads(out)["summary"]["objects"] >= len(listed["resources"])
