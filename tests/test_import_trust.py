"""The import trust boundary (DESIGN.md, Contract v3, "Imported descriptions are untrusted
input"): a server.json or catalog entry says how the server runs, never what it is allowed;
and every echo of its text is escaped."""

from __future__ import annotations

import contextlib
import io
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import cli, importing

DIGEST = "sha256:" + "a" * 64
# What a team reuses for every server: nothing in it grants a privilege.
TEAM = {"namespace": "mcp-x", "ingress": {"namespace": "ingress-nginx"},
        "networkPolicy": {"flavor": "cilium"}}
API = {"apiServer": {"cidrs": ["10.0.0.1/32"]}}


def desc(deploy: dict[str, Any]) -> dict[str, Any]:
    return {"name": "io.github.evil/x", "description": "x", "version": "1.0.0",
            "packages": [{"registryType": "oci", "identifier": f"ghcr.io/e/x:1.0@{DIGEST}",
                          "transport": {"type": "streamable-http",
                                        "url": "http://localhost:9000/mcp"}}],
            "_meta": {"mcp-scaffold.io/deploy": deploy}}


def new(tmp_path: Path, deploy: dict[str, Any], given: dict[str, Any] | None = None
        ) -> tuple[int, str, str]:
    (tmp_path / "server.json").write_text(json.dumps(desc(deploy)))
    (tmp_path / "v.yaml").write_text(yaml.safe_dump(TEAM if given is None else given))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["new", "--from", str(tmp_path / "server.json"), "--values",
                         str(tmp_path / "v.yaml"), "--no-input", "--output", "-"])
    return code, out.getvalue(), err.getvalue()


PRIVILEGES = [
    ({"apiAccess": {"clusterRole": "view", "clusterWide": {"reason": "MCP-RBAC-004=ok"}}},
     "rbac"),
    ({"apiAccess": {"rules": [{"apiGroups": [""], "resources": ["pods"],
                               "verbs": ["get"]}]}}, "rbac"),
    ({"cloudIdentity": "aws"}, "cloudIdentity"),
    ({"egress": {"anyHost": {"ports": [443]}}}, "externalEgress"),
    ({"egress": {"cidrs": [{"cidr": "10.0.0.0/8", "ports": [443]}]}}, "externalEgress"),
    ({"egress": {"hosts": [{"host": "smtp.example.com", "ports": [25]}]}}, "externalEgress"),
    ({"egress": {"hosts": [{"host": "api.example.com", "ports": list(range(1, 200))}]}},
     "externalEgress"),
]


@pytest.mark.parametrize(("deploy", "key"), PRIVILEGES)
def test_a_privilege_the_description_asks_for_is_refused_naming_the_key(
        tmp_path: Path, deploy: dict[str, Any], key: str) -> None:
    code, out, err = new(tmp_path, deploy)
    assert code == 2, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert f": {key}: the description asks for" in lines[0]
    assert "--values" in lines[0]


def test_named_hosts_on_http_ports_need_no_grant(tmp_path: Path) -> None:
    code, out, err = new(tmp_path, {"egress": {"hosts": [
        {"host": "api.example.com", "ports": [443, 80]}]}})
    assert code == 0, err
    assert "api.example.com" in out


def test_the_users_values_grant_it_and_the_description_adds_nothing(tmp_path: Path) -> None:
    # The user's rbac stands whole: the description's clusterWide (and its skip reason) is not
    # merged into it.
    given = {**TEAM, **API, "rbac": {"clusterRole": "view", "namespaces": ["team-a"]}}
    code, out, err = new(tmp_path, {"apiAccess": {"clusterRole": "view", "clusterWide": {
        "reason": "reads every namespace"}}}, given)
    assert code == 0, err
    assert "ClusterRoleBinding" not in out
    assert "reads every namespace" not in out and "MCP-RBAC-004" not in out


def test_the_catalogs_privileged_entries_need_the_users_grant(tmp_path: Path) -> None:
    for name, key in (("kubernetes", "rbac"), ("fetch", "externalEgress"),
                      ("aws-api", "cloudIdentity")):
        (tmp_path / "v.yaml").write_text(yaml.safe_dump(TEAM))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["new", "--from", name, "--values", str(tmp_path / "v.yaml"),
                             "--no-input", "--output", "-"])
        assert code == 2
        assert f"{name}: {key}: the description asks for" in err.getvalue()


_HOSTILE = st.text(alphabet=st.one_of(
    st.characters(codec="utf-8"), st.characters(max_codepoint=0x9F),
    st.sampled_from("\x1b[1A\x1b[2K\n\r\u2028\u202e\x85\x9b")), min_size=1, max_size=40)


def _controls(text: str) -> list[str]:
    # The tool's own line ends are the only control characters it may print.
    return [c for line in text.split("\n") for c in line
            if unicodedata.category(c) == "Cc" or c in "\u2028\u2029\u202e"]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(note=_HOSTILE, reason=_HOSTILE)
def test_nothing_printed_holds_a_control_character_from_the_description(
        tmp_path: Path, note: str, reason: str) -> None:
    # notes are echoed as notes; a refused privilege quotes what was asked for.
    code, _, err = new(tmp_path, {"notes": [note], "apiAccess": {
        "clusterRole": "view", "clusterWide": {"reason": reason}}})
    assert code == 2
    assert _controls(err) == []
    given_ = {**TEAM, **API, "rbac": {"clusterRole": "view"}}
    code, _, err = new(tmp_path, {"notes": [note]}, given_)
    assert _controls(err) == []
    # One line about the note (it, or its refusal: NUL cannot reach a process); no forged ones.
    assert sum(line.startswith("mcp-scaffold: note:") or ".notes[0]:" in line
               for line in err.splitlines()) == 1
    assert err.count("mcp-scaffold: note:") <= 1


def test_notes_are_written_escaped() -> None:
    err = io.StringIO()
    path = Path("/tmp") / "note.json"  # prepare reads a path; the test writes its own
    path.write_text(json.dumps(desc({"notes": ["ok\x1b[1A\x1b[2K\nmcp-scaffold: note: forged"]})))
    try:
        importing.prepare(str(path), dict(TEAM), None, err)
    finally:
        path.unlink()
    assert "ok\\x1b[1A\\x1b[2K\\nmcp-scaffold: note: forged" in err.getvalue()
    assert err.getvalue().count("\n") == 1
