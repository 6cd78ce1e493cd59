"""Journeys through `new` with the wizard that must neither crash nor lose work: the
destination is judged as soon as it is known, a later failure keeps the answers in a values
file that resumes the run, --dry-run judges the destination as a real run does, and a blank
wizard (or a catalog entry) can set up a stdio server, asking for its bridge and command.

The prompts are answered by an AnswerBook (wizard_support): the real question loop, the real
validation of each answer, the real pipeline; only the terminal is replaced."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffold import pipeline
from scaffold.errors import OutputError, VerificationError

from support import tool
from wizard_support import IMAGE, AnswerBook

pytestmark = pytest.mark.timeout(120)

BASICS: dict[str, Any] = {
    "Server name": "demo", "Namespace": "mcp-demo", "Container image": IMAGE,
    "Ingress controller namespace": "ingress-nginx", "Write this base?": True,
}
BRIDGE = "registry.example.com/mcp/supergateway-bundle:4.0.0@sha256:" + "7c" * 32
STDIO: dict[str, Any] = {
    "Transport": "stdio", "Bridge image": BRIDGE, "Bridge binary": "/usr/local/bin/supergateway",
    "Bridge arguments": "--stdio, {command}, --outputTransport, streamableHttp, --port, {port},"
                        " --streamableHttpPath, {path}",
    "Command": "node, /app/dist/index.js",
}


def new(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, book: dict[str, Any], *,
        output: str | None = None, from_: str | None = None, dry_run: bool = False,
        values: str | None = None) -> tuple[int, str, AnswerBook]:
    monkeypatch.chdir(tmp_path)
    answers = AnswerBook(dict(book))
    answers.install(monkeypatch)
    err = io.StringIO()
    code = pipeline.new(values, output, interactive=True, force=False, dry_run=dry_run,
                        from_=from_, stdout=io.StringIO(), stderr=err)
    return code, err.getvalue(), answers


def test_a_blank_wizard_sets_up_a_stdio_server_that_kubectl_builds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, err, answers = new(monkeypatch, tmp_path, {**BASICS, **STDIO}, output="base")
    assert code == 0, err
    written = yaml.safe_load((tmp_path / "base" / "values.yaml").read_text())
    assert written["transport"] == "stdio" and written["command"] == ["node", "/app/dist/index.js"]
    assert written["bridge"]["image"] == BRIDGE
    asked = [q for q, _ in answers.asked]
    assert asked.index("Transport") < asked.index("Bridge image") < asked.index("Command")
    tool_run = os.popen(f"{tool('kubectl')} kustomize {tmp_path / 'base'} >/dev/null; echo $?")
    assert tool_run.read().strip() == "0"


def test_the_start_questions_set_command_env_path_and_probes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = {**BASICS, "Set the server's command line": True, "Command": "mcp-server-x",
            "Arguments": "serve, --port=8080", "Plain environment variables": "LOG_LEVEL=debug",
            "MCP endpoint path": "/v1/mcp", "liveness": "/healthz", "path": "/healthz"}
    code, err, _ = new(monkeypatch, tmp_path, book, output="base")
    assert code == 0, err
    written = yaml.safe_load((tmp_path / "base" / "values.yaml").read_text())
    assert (written["command"], written["args"], written["env"], written["path"]) == (
        ["mcp-server-x"], ["serve", "--port=8080"], {"LOG_LEVEL": "debug"}, "/v1/mcp")


def test_a_catalog_stdio_entry_completes_in_the_wizard(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `new --from memory`: the description leaves the image, the bridge and the command open;
    # before, the wizard never asked `command` and the run dead-ended after every answer.
    book = {"Namespace to deploy into": "mcp-memory",
            "Image holding the server": "registry.example.com/mcp/memory:2026.7.4@sha256:"
            + "5d" * 32, **BASICS, **STDIO}
    code, err, answers = new(monkeypatch, tmp_path, book, output="base", from_="memory")
    assert code == 0, f"{err}\n{answers.asked}"
    written = yaml.safe_load((tmp_path / "base" / "values.yaml").read_text())
    assert written["transport"] == "stdio" and written["command"] == ["node", "/app/dist/index.js"]


def test_without_output_the_name_whose_directory_is_taken_is_refused_at_its_question(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deploy" / "demo").mkdir(parents=True)
    (tmp_path / "deploy" / "demo" / "notes.txt").write_text("mine\n")
    book = {**BASICS, "Server name": "demo"}
    with pytest.raises(pytest.fail.Exception, match="deploy/demo is not empty"):
        new(monkeypatch, tmp_path, book)
    # retyped, the run goes on and writes deploy/<the new name>; the other directory is intact
    monkeypatch.undo()
    code, err, answers = new(monkeypatch, tmp_path, {**book, "Server name": "demo-two"})
    assert code == 0, err
    assert answers.asked[0] == ("Server name", "demo-two")
    assert (tmp_path / "deploy" / "demo-two" / "kustomization.yaml").is_file()
    assert sorted(os.listdir(tmp_path / "deploy" / "demo")) == ["notes.txt"]


def test_a_given_name_whose_directory_is_taken_fails_before_any_question(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deploy" / "demo").mkdir(parents=True)
    (tmp_path / "deploy" / "demo" / "notes.txt").write_text("mine\n")
    (tmp_path / "v.yaml").write_text("name: demo\n")
    with pytest.raises(OutputError, match="deploy/demo"):
        new(monkeypatch, tmp_path, {}, values=str(tmp_path / "v.yaml"))


def test_a_later_failure_keeps_the_answers_and_they_resume_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(v: Any) -> Any:
        raise VerificationError(["Deployment/demo: spec: simulated"])

    monkeypatch.setattr(pipeline, "build", failing)
    with pytest.raises(VerificationError):
        new(monkeypatch, tmp_path, {**BASICS, "Server port": "3000"}, output="base")
    kept = tmp_path / "base.answers.yaml"
    assert kept.is_file() and not (tmp_path / "base").exists()
    data = yaml.safe_load(kept.read_text())
    assert (data["name"], data["port"], data["image"]) == ("demo", 3000, IMAGE)
    monkeypatch.undo()
    # no question is left: the kept file is a complete values file
    code, err, answers = new(monkeypatch, tmp_path, {}, output="base", values=str(kept))
    assert code == 0 and answers.asked == [], err
    assert yaml.safe_load((tmp_path / "base" / "values.yaml").read_text())["port"] == 3000
    # a second failure never overwrites the first file
    monkeypatch.setattr(pipeline, "build", failing)
    with pytest.raises(VerificationError):
        new(monkeypatch, tmp_path, BASICS, output="other")
    with pytest.raises(VerificationError):
        new(monkeypatch, tmp_path, BASICS, output="other")
    assert sorted(p.name for p in tmp_path.glob("other*.answers.yaml")) == [
        "other-2.answers.yaml", "other.answers.yaml"]


def test_ctrl_c_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scaffold import wizard
    from scaffold.errors import Interrupted

    answers = AnswerBook(dict(BASICS))
    answers.install(monkeypatch)

    def confirm(message: str, default: bool) -> bool:
        if message.startswith("Write this base"):
            raise KeyboardInterrupt
        return answers.confirm(message, default)

    monkeypatch.setattr(wizard, "_confirm", confirm)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Interrupted):
        pipeline.new(None, "base", interactive=True, force=False, dry_run=False,
                     stdout=io.StringIO(), stderr=io.StringIO())
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("where", ["foreign", "home"])
def test_dry_run_judges_the_destination_as_a_real_run_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, cli: Any) -> None:
    from support import EXAMPLES

    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    if where == "home":
        monkeypatch.setenv("HOME", str(target))
    for extra in ([], ["--dry-run"]):
        result = cli("new", "--values", str(EXAMPLES / "minimal.yaml"), "--output", str(target),
                     "--force", *extra)
        assert result.code == 2, (extra, result.err)
        assert result.err.count("\n") == 1 and "refusing to replace it" in result.err
    assert os.listdir(target) == ["notes.txt"]


def test_the_summary_says_what_the_base_grants() -> None:
    # 0.2.0 said "token not mounted" and "egress only to DNS" for this base, which mounts a
    # projected token, opens the API server and binds `view` in three namespaces.
    from scaffold import values, wizard, yamlio

    from support import EXAMPLES

    source = EXAMPLES / "kubernetes-mcp-server.yaml"
    text = wizard.summary(values.validate(yamlio.load_one(source.read_text(), str(source))))
    assert "not mounted" not in text
    assert "3600s projected ServiceAccount token" in text and "ClusterRole view" in text
    assert "in namespace(s) mcp-platform, team-a, team-b" in text
    assert "the API server 10.0.0.1/32" in text
    assert "RoleBinding/team-a/k8s-mcp-view" in text
    minimal = EXAMPLES / "minimal.yaml"
    text = wizard.summary(values.validate(yamlio.load_one(minimal.read_text(), str(minimal))))
    assert "token not mounted" in text and "egress only to DNS" in text
