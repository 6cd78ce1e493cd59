"""`new --from`: the questions a server description leaves open, answered through
prompt_toolkit's pipe input (choice questions as selects, the digest checked as the values
file checks `image`), then the schema's own questions, then the base written."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffold import importing, pipeline, values, wizard
from scaffold.errors import Interrupted

from wizard_support import CTRL_C, DIGEST, ENTER, choose, line

pytestmark = pytest.mark.timeout(60)

PROVIDERS = values.subschema("secrets.provider")["enum"]
TAG_ONLY = "ghcr.io/acme/weather:1.2.0"


def description(tmp_path: Path) -> str:
    """A tag-only OCI package, a choice env var and a choice argument, all without defaults."""
    path = tmp_path / "server.json"
    path.write_text(json.dumps({
        "name": "io.github.acme/weather", "description": "Weather", "version": "1.2.0",
        "packages": [{
            "registryType": "oci", "identifier": TAG_ONLY,
            "transport": {"type": "streamable-http", "url": "http://localhost:9000/mcp"},
            "environmentVariables": [{"name": "MODE", "choices": ["read", "write"],
                                      "description": "access mode"}],
            "packageArguments": [{"type": "named", "name": "--port", "value": "9000"},
                                 {"type": "named", "name": "--level", "isRequired": True,
                                  "choices": ["low", "high"]}],
        }]}))
    return str(path)


def open_questions(tmp_path: Path) -> importing.Imported:
    return importing.prepare(description(tmp_path), {}, None, io.StringIO())


def test_the_description_leaves_namespace_digest_and_two_choices_open(tmp_path: Path) -> None:
    imp = open_questions(tmp_path)
    assert [(q.key, q.kind) for q in imp.questions] == [
        ("namespace", "text"), ("image", "digest"), ("env.MODE", "choice"), ("args[1]", "choice")]


def test_choices_are_selects_and_the_digest_is_checked_like_the_values_file(
        keys: Any, tmp_path: Path) -> None:
    imp = open_questions(tmp_path)
    keys.send_text(
        line("mcp-weather")
        # A digest the values file refuses is refused here too (the prompt stays), then a good
        # one: just the digest, pinned onto the description's tag.
        + line("sha256:abc") + line(DIGEST)
        + choose(["read", "write"], "write") + choose(["low", "high"], "high") + CTRL_C)
    answers = wizard.ask_imported(imp.raw, imp.questions)
    assert answers["namespace"] == "mcp-weather"
    assert answers["image"] == f"{TAG_ONLY}@{DIGEST}"
    assert answers["env"]["MODE"] == "write"
    assert answers["args"] == ["--port=9000", "--level=high"]  # the choice fills {level}
    assert imp.raw["args"] == ["--port=9000", "--level={level}"]  # input untouched


def test_a_whole_image_reference_is_taken_as_typed(keys: Any, tmp_path: Path) -> None:
    imp = open_questions(tmp_path)
    other = f"ghcr.io/acme/weather:1.2.1@{DIGEST}"
    keys.send_text(line("mcp-weather") + line(other) + ENTER + ENTER + CTRL_C)
    answers = wizard.ask_imported(imp.raw, imp.questions)
    assert answers["image"] == other
    assert (answers["env"]["MODE"], answers["args"][1]) == ("read", "--level=low")


def test_a_namespace_the_values_file_refuses_is_refused(keys: Any, tmp_path: Path) -> None:
    imp = open_questions(tmp_path)
    keys.send_text(line("default") + line("kube-system") + line("mcp-weather") + line(DIGEST)
                   + ENTER + ENTER + CTRL_C)
    assert wizard.ask_imported(imp.raw, imp.questions)["namespace"] == "mcp-weather"


def test_ctrl_c_is_interrupted(keys: Any, tmp_path: Path) -> None:
    imp = open_questions(tmp_path)
    keys.send_text(line("mcp-weather") + CTRL_C)
    with pytest.raises(Interrupted):
        wizard.ask_imported(imp.raw, imp.questions)


def test_new_from_asks_the_open_questions_then_what_the_values_still_miss(
        keys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = description(tmp_path)
    keys.send_text(
        line("mcp-weather") + line(DIGEST) + ENTER + choose(["low", "high"], "high")
        # Then the schema's questions the description did not answer: replicas, runtime,
        # ingress namespace, configMaps, rbac, cloudIdentity, downstream, externalEgress, provider,
        # version, confirm.
        + ENTER + ENTER + line("ingress-nginx") + ENTER + "n" + "n" + "n" + "n"
        + choose(PROVIDERS, "none") + ENTER + "y" + CTRL_C)
    err = io.StringIO()
    code = pipeline.new(None, "base", interactive=True, force=False, dry_run=False,
                        from_=source, stdout=io.StringIO(), stderr=err)
    assert code == 0, err.getvalue()
    written = yaml.safe_load((tmp_path / "base" / "values.yaml").read_text())
    assert (written["name"], written["namespace"], written["port"]) == ("weather", "mcp-weather", 9000)
    assert written["image"] == f"{TAG_ONLY}@{DIGEST}"
    assert written["env"] == {"MODE": "read"} and written["args"] == ["--port=9000", "--level=high"]
