"""The wizard completing a `servers:` file: each server's missing keys asked under its name,
then "Add another server?"; the tree written lists every server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pexpect
import pytest
import yaml

from scaffold import pipeline, servers, wizard
from scaffold.errors import InputError

from support import tool
from wizard_support import ENTER, IMAGE, command, line

pytestmark = pytest.mark.timeout(120)

FETCH = "ghcr.io/acme/fetch-mcp:2.1.0@sha256:" + "cd" * 32
TIME = "ghcr.io/acme/time-mcp:1.0.0@sha256:" + "ef" * 32
TEAM: dict[str, Any] = {
    "namespace": "team-ai",
    "ingress": {"namespace": "ingress-nginx"},
    "servers": [{"name": "memory-mcp", "image": IMAGE, "runtime": "node"},
                {"name": "fetch-mcp", "runtime": "python"}],  # no image
}


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The titles of the questions asked, in order."""
    asked: list[str] = []
    for name in ("_text", "_select", "_confirm"):
        original = getattr(wizard, name)

        def ask(message: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            asked.append(message)
            return _original(message, *args, **kwargs)

        monkeypatch.setattr(wizard, name, ask)
    return asked


def _new(tmp_path: Path, keys: Any, script: str, raw: dict[str, Any]) -> Path:
    f = tmp_path / "team.yaml"
    f.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    keys.send_text(script + "\x03")  # Ctrl-C tripwire: an unexpected question fails the test
    assert pipeline.new(str(f), str(out), interactive=True, force=False, dry_run=False) == 0
    return out


def test_missing_image_asked_per_server_and_a_third_server_added(
        tmp_path: Path, keys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _asked(monkeypatch)
    script = (line(FETCH)                          # [fetch-mcp] image
              + "y" + line("time-mcp") + line(TIME)  # another server: name, image
              + ENTER                              # no fourth (default no)
              + "y")                               # write the tree
    out = _new(tmp_path, keys, script, TEAM)
    assert asked[0].startswith("[fetch-mcp] ") and "image" in asked[0].lower()
    assert asked[1] == "Add another server?" and asked[2].endswith("Name")
    assert asked[3].startswith("[time-mcp] ") and asked[-1] == "Write this tree?"
    written = yaml.safe_load((out / "values.yaml").read_text())
    assert [s["name"] for s in written["servers"]] == ["memory-mcp", "fetch-mcp", "time-mcp"]
    assert written["servers"][1] == {"name": "fetch-mcp", "runtime": "python", "image": FETCH}
    # The new server sets only what it could not inherit.
    assert written["servers"][2] == {"name": "time-mcp", "image": TIME}
    team = servers.validate(written)
    assert [v["image"] for v in team.servers] == [IMAGE, FETCH, TIME]
    assert all(v["namespace"] == "team-ai" for v in team.servers)
    for name in ("namespace", "memory-mcp", "fetch-mcp", "time-mcp"):
        assert (out / name / "kustomization.yaml").is_file()


def test_a_new_server_may_not_take_a_taken_name(
        tmp_path: Path, keys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _asked(monkeypatch)
    script = (line(FETCH) + "y"
              + line("fetch-mcp") + line("namespace") + line("time-mcp")  # two refused
              + line(TIME) + ENTER + "y")
    out = _new(tmp_path, keys, script, TEAM)
    assert asked.count("[server 3] Name") == 1  # refused inline, on the same prompt
    written = yaml.safe_load((out / "values.yaml").read_text())
    assert [s["name"] for s in written["servers"]] == ["memory-mcp", "fetch-mcp", "time-mcp"]


def test_a_missing_namespace_is_asked_once_for_the_tree(tmp_path: Path, keys: Any) -> None:
    raw = {k: v for k, v in TEAM.items() if k != "namespace"}
    out = _new(tmp_path, keys, line("team-ai") + line(FETCH) + ENTER + "y", raw)
    written = yaml.safe_load((out / "values.yaml").read_text())
    assert written["namespace"] == "team-ai"
    assert all("namespace" not in s for s in written["servers"])


def test_declined_tree_writes_nothing(tmp_path: Path, keys: Any) -> None:
    f = tmp_path / "team.yaml"
    f.write_text(yaml.safe_dump(TEAM))
    keys.send_text(line(FETCH) + ENTER + "n" + "\x03")
    with pytest.raises(wizard.Declined):
        pipeline.new(str(f), str(tmp_path / "out"), interactive=True, force=False,
                     dry_run=False)
    assert not (tmp_path / "out").exists()


def test_other_problems_are_not_asked_about(tmp_path: Path, keys: Any) -> None:
    # A bad value beside a missing one: the file must be fixed, nothing is asked.
    raw = {**TEAM, "servers": [{"name": "memory-mcp", "image": IMAGE, "port": 80},
                               {"name": "fetch-mcp"}]}
    f = tmp_path / "team.yaml"
    f.write_text(yaml.safe_dump(raw))
    keys.send_text("\x03")
    with pytest.raises(InputError) as exc:  # exit 2
        pipeline.new(str(f), str(tmp_path / "out"), interactive=True, force=False,
                     dry_run=False)
    text = str(exc.value)
    assert "servers[0].port" in text and "servers[1].image: is missing" in text
    assert not (tmp_path / "out").exists()


def test_terminal_completes_the_file_and_kubectl_builds_the_tree(tmp_path: Path) -> None:
    # The installed command in a real pseudo-terminal, as a user runs it.
    f = tmp_path / "team.yaml"
    f.write_text(yaml.safe_dump(TEAM))
    out = tmp_path / "out"
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(command(), ["new", "--values", str(f), "--output", str(out)],
                          cwd=str(tmp_path), env=env, encoding="utf-8", timeout=30,
                          dimensions=(50, 200))
    child.expect_exact("[fetch-mcp] Container image")
    child.send(FETCH + "\r")
    child.expect_exact("Add another server?")
    child.send("n")
    child.expect_exact("2 servers:")
    child.expect_exact("Write this tree?")
    child.send("y")
    child.expect_exact("wrote ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    built = subprocess.run([tool("kubectl"), "kustomize", str(out)], capture_output=True,
                           text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stderr
    docs = [d for d in yaml.safe_load_all(built.stdout) if d]
    assert [d["kind"] for d in docs].count("Namespace") == 1
    images = {c["image"] for d in docs if d["kind"] == "Deployment"
              for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {IMAGE, FETCH}
