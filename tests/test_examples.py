"""Golden files: every example's base (or tree of bases, for a `servers:` file) is exactly
what `new` renders today, it builds with the real `kubectl kustomize` into the same objects,
and the real Checkov finds nothing in it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scaffold import render, servers, values, verify

from support import EXAMPLES, example_values, run_tool, tool

UPDATE = os.environ.get("MCP_SCAFFOLD_UPDATE_GOLDEN") == "1"
CASES = [p.stem for p in example_values()]


def _render_file(path: Path) -> list[render.RenderedFile]:
    raw = values.read_file(str(path))
    if servers.has_servers(raw):
        team = servers.validate(raw, str(path))
        files = render.render_tree(team)
        verify.verify(files, team.shared["kubernetesVersion"])
        return files
    v = values.validate(raw, str(path))
    files = render.render(v)
    verify.verify(files, v["kubernetesVersion"])
    return files


def _render(stem: str) -> list[render.RenderedFile]:
    return _render_file(EXAMPLES / f"{stem}.yaml")


TREES = [stem for stem in CASES
         if servers.has_servers(values.read_file(str(EXAMPLES / f"{stem}.yaml")))]


def test_examples_cover_the_three_shapes() -> None:
    assert {"minimal", "api-access", "github-mcp", "team", "github-cilium"} <= set(CASES)
    assert TREES == ["team"]


@pytest.mark.parametrize("stem", CASES)
def test_golden_base(stem: str) -> None:
    base = EXAMPLES / stem
    files = _render(stem)
    if UPDATE:
        if base.exists():
            shutil.rmtree(base)
        for f in files:
            (base / f.path).parent.mkdir(parents=True, exist_ok=True)
            (base / f.path).write_text(f.text, encoding="utf-8")
    on_disk = {p.relative_to(base).as_posix(): p.read_text("utf-8")
               for p in base.rglob("*") if p.is_file()}
    rendered = {f.path: f.text for f in files}
    assert sorted(on_disk) == sorted(rendered), "file set drifted; MCP_SCAFFOLD_UPDATE_GOLDEN=1"
    for name, text in rendered.items():
        assert on_disk[name] == text, f"{stem}/{name} drifted; MCP_SCAFFOLD_UPDATE_GOLDEN=1"


def _key(doc: dict) -> tuple[str, str]:  # type: ignore[type-arg]
    return doc["kind"], doc["metadata"]["name"]


@pytest.mark.parametrize("stem", CASES)
def test_kustomize_builds_the_same_objects(stem: str) -> None:
    proc = run_tool(tool("kubectl"), "kustomize", str(EXAMPLES / stem))
    assert proc.returncode == 0, proc.stderr
    built = {_key(d): d for d in yaml.safe_load_all(proc.stdout) if d}
    rendered = {_key(d): d for d in verify.documents(_render(stem))}
    assert built == rendered


@pytest.mark.parametrize("stem", TREES)
def test_a_tree_builds_one_namespace_and_one_default_deny(stem: str) -> None:
    proc = run_tool(tool("kubectl"), "kustomize", str(EXAMPLES / stem))
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    namespaces = {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"}
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"] == list(namespaces)
    deny = [d for d in docs if d["kind"] == "NetworkPolicy" and d["spec"]["podSelector"] == {}
            and d["spec"]["policyTypes"] == ["Ingress", "Egress"]]
    assert len(deny) == 1 and "ingress" not in deny[0]["spec"] and "egress" not in deny[0]["spec"]
    raw = values.read_file(str(EXAMPLES / f"{stem}.yaml"))
    deployments = sorted(d["metadata"]["name"] for d in docs if d["kind"] == "Deployment")
    assert deployments == sorted(s["name"] for s in raw["servers"])


def test_checkov_finds_nothing_in_any_example(tmp_path: Path) -> None:
    # One Checkov run over every base (it costs seconds to start).
    for stem in CASES:
        (tmp_path / stem).mkdir()
        for f in _render(stem):
            if f.is_manifest:
                (tmp_path / stem / f.path).parent.mkdir(exist_ok=True)
                (tmp_path / stem / f.path).write_text(f.text, encoding="utf-8")
    proc = run_tool(tool("checkov"), "--skip-download", "--framework", "kubernetes", "-d",
                    str(tmp_path), "-o", "json", "--quiet",
                    env={"BC_SKIP_MAPPING": "TRUE"})
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    summary = reports[0]["summary"]
    failed = reports[0]["results"].get("failed_checks", [])
    assert summary["passed"] > 100, summary  # it really looked at the objects
    assert summary["parsing_errors"] == 0
    assert failed == [], [(c["check_id"], c["file_path"], c["resource"]) for c in failed]
    assert summary["skipped"] == 0


@pytest.mark.parametrize("stem", CASES)
def test_written_values_reproduce_the_base(stem: str, tmp_path: Path) -> None:
    files = _render(stem)
    written = next(f for f in files if f.path == "values.yaml")
    (tmp_path / "values.yaml").write_text(written.text, encoding="utf-8")
    again = _render_file(tmp_path / "values.yaml")
    assert [(f.path, f.text) for f in again] == [(f.path, f.text) for f in files]


@pytest.mark.parametrize("stem", CASES)
def test_check_is_clean_on_the_kustomize_build(stem: str) -> None:
    # The workflow the README gives: kubectl kustomize <base> | mcp-scaffold check -
    built = run_tool(tool("kubectl"), "kustomize", str(EXAMPLES / stem))
    assert built.returncode == 0, built.stderr
    proc = subprocess.run([sys.executable, "-m", "scaffold", "check", "-"], input=built.stdout,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_check_flags_an_overlay_that_weakens_the_base(tmp_path: Path) -> None:
    # An overlay that re-enables the token automount and opens egress to anywhere: the real
    # kustomize applies it, and check names both controls it breaks.
    shutil.copytree(EXAMPLES / "minimal", tmp_path / "base")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [../base]\n"
        "patches:\n"
        "  - target: {kind: Deployment, name: echo-mcp}\n"
        "    patch: |\n"
        "      - op: replace\n"
        "        path: /spec/template/spec/automountServiceAccountToken\n"
        "        value: true\n"
        "  - target: {kind: NetworkPolicy, name: echo-mcp}\n"
        "    patch: |\n"
        "      - op: add\n"
        "        path: /spec/egress/-\n"
        "        value: {to: [{ipBlock: {cidr: 0.0.0.0/0}}]}\n")
    built = run_tool(tool("kubectl"), "kustomize", str(overlay))
    assert built.returncode == 0, built.stderr
    proc = subprocess.run([sys.executable, "-m", "scaffold", "check", "-", "--format", "json"],
                          input=built.stdout, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 1, proc.stderr
    rules = {f["rule"] for f in json.loads(proc.stdout)["findings"]}
    assert {"MCP-RBAC-002", "MCP-NET-005"} <= rules, rules
