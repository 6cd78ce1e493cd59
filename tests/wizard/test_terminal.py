"""End to end in a real pseudo-terminal: the installed `mcp-scaffold new`, answered like a
user would, then the written base built with the real kubectl."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pexpect
import pytest
import yaml

from support import tool
from wizard_support import IMAGE, command

pytestmark = pytest.mark.timeout(120)
WAIT = 30  # seconds any single prompt may take to appear


def spawn(*args: str, cwd: Path) -> pexpect.spawn[str]:
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1",
           # pexpect does not answer cursor-position requests; do not wait for them.
           "PROMPT_TOOLKIT_NO_CPR": "1"}
    env.pop("MCP_SCAFFOLD_DEBUG", None)
    return pexpect.spawn(command(), list(args), cwd=str(cwd), env=env, encoding="utf-8",
                         timeout=WAIT, dimensions=(50, 200))


def answer(child: pexpect.spawn[str], question: str, text: str | None = None, *,
           key: str | None = None, shown: str | None = None) -> None:
    """Wait for question (and for the pre-filled default it shows, so that the prompt is
    reading keys before any is sent: on a loaded machine Ctrl-U could otherwise arrive before
    the default and leave it in front of the answer), then type text and Enter (text replaces
    the default), or press key alone (a confirm or select)."""
    child.expect_exact(question, timeout=WAIT)
    if shown is not None:
        child.expect_exact(shown, timeout=WAIT)
    if key is not None:
        child.send(key)
    else:
        child.send("\x15" + (text or "") + "\r")


def finish(child: pexpect.spawn[str]) -> int:
    child.expect(pexpect.EOF, timeout=WAIT)
    child.close()
    assert child.exitstatus is not None, "killed by a signal"
    return child.exitstatus


def test_new_in_a_terminal_writes_a_base_that_builds(tmp_path: Path) -> None:
    out = tmp_path / "base"
    child = spawn("new", "--output", str(out), cwd=tmp_path)
    answer(child, "Server name", "demo-mcp")
    answer(child, "Namespace", "mcp-demo")
    answer(child, "Container image", "ghcr.io/acme/demo-mcp:1.0.0")
    # The values file's own message, shown inline under the prompt; retype.
    child.expect_exact("must be pinned by digest", timeout=WAIT)
    child.send("\x15" + IMAGE + "\r")
    answer(child, "Server port", "3000", shown="8080")
    answer(child, "Replicas", "2", shown="1")
    answer(child, "Runtime", key="\r")
    answer(child, "Transport", key="\r")
    answer(child, "Set the server's command line", key="n")
    answer(child, "Ingress controller namespace", "ingress-nginx")
    answer(child, "ConfigMaps read through the API", "demo-config")
    answer(child, "beyond those ConfigMaps", key="n")  # rbac: left out
    answer(child, "call cloud APIs with its own identity", key="n")  # cloudIdentity: left out
    answer(child, "API server CIDRs", "10.0.0.1/32")
    answer(child, "Add a downstream service?", key="y")
    answer(child, "Service name", "postgres")
    answer(child, "Service namespace", key="\r")
    answer(child, "Pod labels", "app=postgres")
    answer(child, "TCP ports", "5432")
    answer(child, "Add another downstream service?", key="n")
    answer(child, "Add an external egress rule", key="y")
    answer(child, "cidr", "0.0.0.0/0")
    answer(child, "TCP ports", "443")
    answer(child, "Add another external egress rule", key="n")
    answer(child, "Secret provider", key="\r")  # none
    answer(child, "Kubernetes version", key="\r")
    child.expect_exact("Controls:", timeout=WAIT)
    answer(child, "Write this base?", key="y")
    child.expect_exact("wrote ", timeout=WAIT)
    assert finish(child) == 0

    built = subprocess.run([tool("kubectl"), "kustomize", str(out)], capture_output=True,
                           text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stderr
    docs = [d for d in yaml.safe_load_all(built.stdout) if d]
    kinds = {d["kind"] for d in docs}
    assert {"Namespace", "ServiceAccount", "NetworkPolicy", "Deployment", "Service", "Role",
            "RoleBinding", "PodDisruptionBudget"} <= kinds
    sa = next(d for d in docs if d["kind"] == "ServiceAccount")
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert sa["automountServiceAccountToken"] is False
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["containers"][0]["image"] == IMAGE

    # The values.yaml written beside the base reproduces it without a single question.
    again = tmp_path / "again"
    rerun = subprocess.run([command(), "new", "--values", str(out / "values.yaml"), "--no-input",
                            "--output", str(again)], capture_output=True, text=True,
                           timeout=120, check=False, stdin=subprocess.DEVNULL)
    assert rerun.returncode == 0, rerun.stderr
    for f in out.iterdir():
        assert (again / f.name).read_text() == f.read_text(), f.name


def test_prompts_reach_the_terminal_when_stdout_is_a_stream(tmp_path: Path) -> None:
    values = tmp_path / "partial.yaml"
    values.write_text("name: demo-mcp\nnamespace: mcp-demo\nconfigMaps: []\ndownstream: []\n"
                      "externalEgress: []\nsecrets: {provider: none}\nkubernetesVersion: '1.33'\n"
                      "port: 8080\nreplicas: 1\nruntime: generic\n")
    stream = tmp_path / "stream.yaml"
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    # Only stdout is redirected: the questions must still appear (on stderr, the terminal).
    child = pexpect.spawn("/bin/sh", ["-c", f'"{command()}" new --values "{values}" --output -'
                                            f' > "{stream}"'],
                          cwd=str(tmp_path), env=env, encoding="utf-8", timeout=WAIT)
    answer(child, "Container image", IMAGE)
    answer(child, "Transport", key="\r")
    answer(child, "Set the server's command line", key="n")
    answer(child, "Ingress controller namespace", "ingress-nginx")
    answer(child, "Write this base?", key="\r")  # default: yes
    assert finish(child) == 0
    text = stream.read_text()
    assert "kind: NetworkPolicy" in text and "Container image" not in text
    assert "Controls:" not in text


def test_ctrl_c_exits_130_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "base"
    child = spawn("new", "--output", str(out), cwd=tmp_path)
    answer(child, "Server name", "demo-mcp")
    child.expect_exact("Namespace", timeout=WAIT)
    child.sendcontrol("c")
    child.expect_exact("interrupted; nothing was written", timeout=WAIT)
    assert finish(child) == 130
    assert "Traceback" not in (child.before or "")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_answering_no_at_the_confirm_exits_130_and_writes_nothing(tmp_path: Path) -> None:
    values = tmp_path / "partial.yaml"
    values.write_text(f"name: demo-mcp\nnamespace: mcp-demo\nimage: {IMAGE}\n"
                      "configMaps: []\ndownstream: []\nexternalEgress: []\n"
                      "secrets: {provider: none}\nkubernetesVersion: '1.33'\n"
                      "port: 8080\nreplicas: 1\nruntime: generic\n")
    out = tmp_path / "base"
    child = spawn("new", "--values", str(values), "--output", str(out), cwd=tmp_path)
    answer(child, "Transport", key="\r")
    answer(child, "Set the server's command line", key="n")
    answer(child, "Ingress controller namespace", "ingress-nginx")
    answer(child, "Write this base?", key="n")
    child.expect_exact("not confirmed; nothing was written", timeout=WAIT)
    assert finish(child) == 130
    assert not out.exists()


def test_no_terminal_exits_2_naming_every_missing_key(tmp_path: Path) -> None:
    out = tmp_path / "base"
    result = subprocess.run([command(), "new", "--output", str(out)], stdin=subprocess.PIPE,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    for key in ("name", "namespace", "image", "ingress"):
        assert f": {key}: is missing" in result.stderr, result.stderr
    assert "--values" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def prompt(child: pexpect.spawn[str], title: str, text: str | None = None, *,
           key: str | None = None) -> None:
    """answer(), for a title that help text may also contain: wait for the prompt line itself
    (questionary's "?" marker, then the title in bold)."""
    child.expect(r"\?(?:\x1b\[[0-9;]*m)* " + re.escape(title) + r" ", timeout=WAIT)
    child.send(key if key is not None else "\x15" + (text or "") + "\r")


def test_a_refused_host_rule_re_asked_as_a_cidr_does_not_crash(tmp_path: Path) -> None:
    # 0.2.0 on 845a60e: a host rule, flavor `kubernetes` (refused: it cannot enforce host
    # names), the host cleared, a CIDR typed at the re-asked cidr question -> `list index out
    # of range` on every Enter.
    values = tmp_path / "partial.yaml"
    values.write_text(yaml.safe_dump({
        "name": "demo-mcp", "namespace": "mcp-demo", "port": 8080, "replicas": 1,
        "runtime": "generic", "transport": "streamable-http",
        "ingress": {"namespace": "ingress-nginx"}, "configMaps": [], "downstream": [],
        "secrets": {"provider": "none"}, "kubernetesVersion": "1.33"}))
    out = tmp_path / "base"
    child = spawn("new", "--values", str(values), "--output", str(out), cwd=tmp_path)
    answer(child, "Container image", IMAGE)
    answer(child, "Add an external egress rule", key="y")
    prompt(child, "cidr", "")  # left out: a host instead
    prompt(child, "Host name", "api.github.com")
    prompt(child, "TCP ports", "443")
    prompt(child, "Network policy flavor", key="\r")  # kubernetes: refused, re-asked
    child.expect_exact("✗", timeout=WAIT)
    prompt(child, "Host name", "")  # cleared
    prompt(child, "cidr", "203.0.113.0/24")  # where 0.2.0 crashed
    prompt(child, "TCP ports", "443")  # the whole rule is asked again
    answer(child, "Add another external egress rule", key="n")
    child.expect_exact("Controls:", timeout=WAIT)
    answer(child, "Write this base?", key="y")
    child.expect_exact("wrote ", timeout=WAIT)
    assert finish(child) == 0
    written = yaml.safe_load((out / "values.yaml").read_text())
    assert written["externalEgress"] == [{"cidr": "203.0.113.0/24", "ports": [443]}]
    built = subprocess.run([tool("kubectl"), "kustomize", str(out)], capture_output=True,
                           text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stderr
