"""`mcp-scaffold new --from FILE|NAME` and `mcp-scaffold catalog`, through the installed
program (a subprocess, as a user runs it); the written base built with the real kubectl."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffold import catalog, values

from support import tool

pytestmark = pytest.mark.timeout(180)

PROGRAM = Path(sys.executable).parent / "mcp-scaffold"
DIGEST = "sha256:" + "a" * 64
VALUES = {"namespace": "mcp-weather", "ingress": {"namespace": "ingress-nginx"}}


def description(**package: Any) -> dict[str, Any]:
    """A server.json whose mapping needs only v1 keys: one OCI package with a digest, speaking
    streamable HTTP, with plain env vars and named and positional arguments."""
    base: dict[str, Any] = {
        "registryType": "oci", "identifier": f"ghcr.io/acme/weather:1.2.0@{DIGEST}",
        "transport": {"type": "streamable-http", "url": "http://localhost:9000/mcp"},
        "environmentVariables": [
            {"name": "LOG_LEVEL", "default": "info"},
            {"name": "REGION", "value": "{zone}-1", "variables": {"zone": {"default": "eu"}}},
            {"name": "MODE", "choices": ["read", "write"], "default": "read"},
        ],
        "packageArguments": [
            {"type": "named", "name": "--port", "value": "9000"},
            {"type": "positional", "value": "serve"},
        ],
    }
    base.update(package)
    return {"name": "io.github.acme/weather", "description": "Weather", "version": "1.2.0",
            "packages": [base]}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not PROGRAM.exists():
        pytest.fail(f"{PROGRAM} is missing: pip install -e . in this environment")
    return subprocess.run([str(PROGRAM), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, check=False)


def files(tmp_path: Path, desc: dict[str, Any] | str, given: dict[str, Any] | None = VALUES
          ) -> list[str]:
    (tmp_path / "server.json").write_text(desc if isinstance(desc, str) else json.dumps(desc))
    args = ["--from", "server.json"]
    if given is not None:
        (tmp_path / "values.yaml").write_text(yaml.safe_dump(given))
        args += ["--values", "values.yaml"]
    return args


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_import_writes_a_base_that_kubectl_builds(tmp_path: Path) -> None:
    result = run("new", *files(tmp_path, description()), "--no-input", "--output", "base",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = yaml.safe_load((tmp_path / "base" / "values.yaml").read_text())
    assert written["name"] == "weather" and written["namespace"] == "mcp-weather"
    assert written["image"] == f"ghcr.io/acme/weather:1.2.0@{DIGEST}"
    assert written["port"] == 9000  # from the transport URL
    assert written["env"] == {"LOG_LEVEL": "info", "REGION": "eu-1", "MODE": "read"}
    assert written["args"] == ["--port=9000", "serve"]
    built = subprocess.run([tool("kubectl"), "kustomize", str(tmp_path / "base")],
                           capture_output=True, text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stderr
    docs = [d for d in yaml.safe_load_all(built.stdout) if d]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"ghcr.io/acme/weather:1.2.0@{DIGEST}"
    assert container["args"] == ["--port=9000", "serve"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert (env["LOG_LEVEL"], env["REGION"], env["MODE"]) == ("info", "eu-1", "read")
    assert container["ports"][0]["containerPort"] == 9000


def test_values_win_key_by_key(tmp_path: Path) -> None:
    given = {**VALUES, "port": 9100, "env": {"LOG_LEVEL": "debug"}, "args": ["--port=9100"]}
    result = run("new", *files(tmp_path, description(), given), "--no-input", "--output", "-",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    deployment = next(d for d in yaml.safe_load_all(result.stdout)
                      if d and d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    # LOG_LEVEL from --values; REGION and MODE still from the description (merged per key).
    assert (env["LOG_LEVEL"], env["REGION"], env["MODE"]) == ("debug", "eu-1", "read")
    assert container["args"] == ["--port=9100"]  # a list is replaced whole, never appended to
    assert container["ports"][0]["containerPort"] == 9100


def test_hints_are_notes_on_stderr(tmp_path: Path) -> None:
    desc = description(runtimeArguments=[{"type": "named", "name": "--rm"}])
    result = run("new", *files(tmp_path, desc), "--no-input", "--output", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("mcp-scaffold: note: server.json: packages[0].runtimeArguments: runtimeArguments"
            in result.stderr)
    assert "--rm" not in result.stdout


def test_tag_only_image_without_input_fails_naming_image(tmp_path: Path) -> None:
    desc = description(identifier="ghcr.io/acme/weather:1.2.0")
    result = run("new", *files(tmp_path, desc), "--no-input", "--output", "base", cwd=tmp_path)
    assert result.returncode == 2
    no_traceback(result)
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors == ["mcp-scaffold: error: values.yaml over server.json: image: tag-only"
                      " ghcr.io/acme/weather:1.2.0 needs its digest (packages[0].identifier):"
                      " give image with @sha256:<64 hex> in --values"]
    assert not (tmp_path / "base").exists()
    # The digest in --values answers it.
    pinned = {**VALUES, "image": f"ghcr.io/acme/weather:1.2.0@{DIGEST}"}
    result = run("new", *files(tmp_path, desc, pinned), "--no-input", "--output", "base",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_every_open_question_without_a_default_is_named_at_once(tmp_path: Path) -> None:
    desc = description(identifier="ghcr.io/acme/weather:1.2.0", packageArguments=[
        {"type": "positional", "valueHint": "config_path", "isRequired": True}],
        environmentVariables=[{"name": "BASE_URL", "isRequired": True, "description": "API URL"},
                              {"name": "MODE", "choices": ["read", "write"], "default": "read"}])
    result = run("new", *files(tmp_path, desc, None), "--no-input", cwd=tmp_path)
    assert result.returncode == 2
    no_traceback(result)
    keys = [line.split(": ")[3] for line in result.stderr.splitlines() if ": error: " in line]
    # MODE has a default, so it is taken; ingress is what the values schema still requires.
    assert keys == ["args[0]", "env.BASE_URL", "image", "ingress", "namespace"]
    assert list(tmp_path.iterdir()) == [tmp_path / "server.json"]


def test_invalid_description_names_the_json_path(tmp_path: Path) -> None:
    desc = description(transport={"type": "websocket"})
    desc["packages"][0]["environmentVariables"][0]["name"] = "BAD NAME"
    result = run("new", *files(tmp_path, desc), "--no-input", "--output", "base", cwd=tmp_path)
    assert result.returncode == 2
    no_traceback(result)
    lines = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert lines[0] == ("mcp-scaffold: error: server.json: packages[0].environmentVariables[0]"
                        '.name: "BAD NAME" does not match ^[A-Za-z_.-][A-Za-z0-9_.-]*$')
    assert lines[1] == ('mcp-scaffold: error: server.json: packages[0].transport.type: must be'
                        ' one of: "stdio", "streamable-http", "sse"')
    assert not (tmp_path / "base").exists()


def test_unreadable_json_is_one_line(tmp_path: Path) -> None:
    result = run("new", *files(tmp_path, '{"name": '), "--no-input", cwd=tmp_path)
    assert result.returncode == 2
    no_traceback(result)
    assert "server.json: (document): not valid JSON" in result.stderr


def test_unknown_catalog_name_lists_the_known_ones(tmp_path: Path) -> None:
    result = run("new", "--from", "grafanna", "--no-input", cwd=tmp_path)
    assert result.returncode == 2
    no_traceback(result)
    assert "'grafanna' is neither a file nor a catalog entry" in result.stderr
    for name in catalog.names():
        assert name in result.stderr


def test_catalog_entry_needing_keys_this_schema_lacks_fails_naming_them(tmp_path: Path) -> None:
    """Until values.schema.json holds Contract v2's keys, an entry that needs them is refused
    before any question, naming each key; once the schema has them, it is accepted."""
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(VALUES))
    result = run("new", "--from", "grafana", "--values", "values.yaml", "--no-input",
                 "--output", "base", cwd=tmp_path)
    no_traceback(result)
    needed = {"secrets.env", "probes.liveness.headers", "probes.readiness.headers"}
    lacking = {key for key in needed if _lacks(key)}
    if lacking:
        assert result.returncode == 2
        for key in lacking:
            assert (f"catalog:grafana: {key}: the description needs this key, which this version"
                    in result.stderr)
    else:  # the v2 schema: what remains are the questions the catalog cannot answer
        assert "catalog:grafana" in result.stderr and "image" in result.stderr
    assert not (tmp_path / "base").exists()


def _lacks(key: str) -> bool:
    try:
        values.subschema(key)
    except KeyError:
        return True
    return False


def test_catalog_text_lists_every_entry_with_source_transport_and_needs(tmp_path: Path) -> None:
    result = run("catalog", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for name in catalog.names():
        assert f"\n{name} " in "\n" + text
    grafana = text.split("\ngrafana ")[1].split("\n")[1]
    assert "source: grafana/mcp-grafana" in grafana and "transport: streamable-http" in grafana
    assert "needs: namespace, image, env.GRAFANA_URL, secrets.provider" in grafana
    memory = text.split("\nmemory ")[1].split("\n")[1]
    assert "transport: stdio" in memory and "bridge" in memory


def test_catalog_json(tmp_path: Path) -> None:
    result = run("catalog", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    entries = {e["name"]: e for e in json.loads(result.stdout)}
    assert sorted(entries) == catalog.names()
    github = entries["github"]
    assert github["source"] == "github/github-mcp-server"
    assert github["transport"] == "streamable-http"
    needs = {n["key"]: n for n in github["needs"]}
    assert needs["image"]["kind"] == "digest" and needs["image"]["default"] is None
    assert "namespace" in needs
    assert entries["everything"]["description"].startswith("MCP reference server")


def test_catalog_refuses_an_unknown_format(tmp_path: Path) -> None:
    result = run("catalog", "--format", "yaml", cwd=tmp_path)
    assert result.returncode == 2 and "invalid choice" in result.stderr


# --- golden: a catalog import ------------------------------------------------------------------

GOLDEN = Path(__file__).resolve().parent / "data" / "from-everything"


def test_catalog_import_golden_base(tmp_path: Path) -> None:
    """`new --from everything` with the values it cannot know renders exactly the golden base,
    which kubectl builds. (everything is the catalog entry whose mapping needs only v1 keys.
    Once the v2 keys land, `transport` and `path` join its values.yaml: regenerate with
    MCP_SCAFFOLD_UPDATE_GOLDEN=1.)"""
    result = run("new", "--from", "everything", "--values", str(GOLDEN / "values.yaml"),
                 "--no-input", "--output", str(tmp_path / "base"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # The "an image holding the npm package is needed" note is not shown: --values gives one.
    assert "image holding it is needed" not in result.stderr
    rendered = {p.name: p.read_text("utf-8") for p in (tmp_path / "base").iterdir()}
    expected_dir = GOLDEN / "base"
    if os.environ.get("MCP_SCAFFOLD_UPDATE_GOLDEN") == "1":
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(tmp_path / "base", expected_dir)
    expected = {p.name: p.read_text("utf-8") for p in expected_dir.iterdir()}
    assert sorted(rendered) == sorted(expected), "file set drifted; MCP_SCAFFOLD_UPDATE_GOLDEN=1"
    for name, text in expected.items():
        assert rendered[name] == text, f"{name} drifted; MCP_SCAFFOLD_UPDATE_GOLDEN=1"
    written = yaml.safe_load(rendered["values.yaml"])
    assert (written["name"], written["port"], written["runtime"]) == ("server-everything", 3001, "node")
    assert (written["args"], written["env"]) == (["streamableHttp"], {"PORT": "3001"})
    built = subprocess.run([tool("kubectl"), "kustomize", str(expected_dir)],
                           capture_output=True, text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stderr


# --- in a real terminal ------------------------------------------------------------------------


def test_new_from_in_a_terminal_asks_the_open_questions_first(tmp_path: Path) -> None:
    """The installed program in a pseudo-terminal: the description's open questions (namespace,
    the digest, a choice) come first, then the schema's own; the base builds."""
    import pexpect

    desc = description(identifier="ghcr.io/acme/weather:1.2.0", environmentVariables=[
        {"name": "MODE", "choices": ["read", "write"], "description": "access mode"}])
    (tmp_path / "server.json").write_text(json.dumps(desc))
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1"}
    env.pop("MCP_SCAFFOLD_DEBUG", None)
    child = pexpect.spawn(str(PROGRAM), ["new", "--from", "server.json", "--output", "base"],
                          cwd=str(tmp_path), env=env, encoding="utf-8", timeout=30,
                          dimensions=(50, 200))

    def answer(question: str, keys: str) -> None:
        child.expect_exact(question)
        child.send(keys)

    answer("Namespace to deploy into", "\x15mcp-weather\r")
    answer("digest needed: ghcr.io/acme/weather:1.2.0 is tag-only", "\x15sha256:abc\r")
    child.expect_exact(f"is not {values.DIGEST_FORM}")  # the values file's own message, inline
    child.send(f"\x15{DIGEST}\r")
    answer("MODE: access mode", "\x1b[B\r")  # write
    answer("Replicas", "\r")
    answer("Runtime", "\r")
    answer("Ingress controller namespace", "\x15ingress-nginx\r")
    answer("ConfigMaps read through the API", "\r")
    answer("(rbac: read-only rules", "n")  # no Kubernetes API access
    answer("call cloud APIs with its own identity", "n")  # no cloudIdentity
    answer("Add a downstream service?", "n")
    answer("Add an external egress rule", "n")
    answer("Secret provider", "\r")  # none
    answer("Kubernetes version", "\r")
    answer("Write this base?", "y")
    child.expect_exact("wrote ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    written = yaml.safe_load((tmp_path / "base" / "values.yaml").read_text())
    assert written["image"] == f"ghcr.io/acme/weather:1.2.0@{DIGEST}"
    assert (written["namespace"], written["env"], written["port"]) == (
        "mcp-weather", {"MODE": "write"}, 9000)
    built = subprocess.run([tool("kubectl"), "kustomize", str(tmp_path / "base")],
                           capture_output=True, text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stderr
