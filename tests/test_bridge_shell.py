"""The bridge's `{command}` is shell-safe by construction: the kubelet expands `$(NAME)` in
every argument first, then the bridge (supergateway's --stdio: `spawn(..., {shell: true})`)
hands the line to /bin/sh. Proved by execution: the kubelet's expansion (the oracle in
tests/kubelet.py, after expand.go) over the rendered container, then dash, busybox sh and
bash --posix running the line; the server's argv equals, byte for byte, what the kubelet
would give it unbridged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scaffold import render, values
from scaffold.errors import ValuesError

from kubelet import kubelet_expand

SHELLS = [["sh"], ["busybox", "sh"], ["bash", "--posix"]]
DIGEST = "sha256:" + "a" * 64
SERVER = ("import json, os, sys\n"
          "json.dump([os.fsencode(a).hex() for a in sys.argv[1:]], sys.stdout)\n")

BASE: dict[str, Any] = {
    "name": "stdio-x", "namespace": "mcp-x", "image": f"registry.example.com/x:1@{DIGEST}",
    "runtime": "node", "transport": "stdio", "path": "/mcp",
    "bridge": {"image": f"registry.example.com/sg:4@{DIGEST}",
               "binary": "/usr/local/bin/supergateway",
               "args": ["--stdio", "{command}", "--port", "{port}"]},
    "ingress": {"namespace": "ingress-nginx"},
}


def rendered_server(raw: dict[str, Any]) -> dict[str, Any]:
    v = values.validate(raw, "test")
    for f in render.render(v):
        if f.path == "deployment.yaml":
            doc = yaml.safe_load(f.text)
            return next(c for c in doc["spec"]["template"]["spec"]["containers"]
                        if c["name"] == "mcp-server")
    raise AssertionError("no deployment.yaml")


def kubelet_env(container: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = kubelet_expand(e["value"], env)
    return env


def executed(raw: dict[str, Any], shell: list[str]) -> tuple[list[bytes], list[bytes]]:
    """(the argv the server gets through the bridge's shell, the argv the kubelet would give
    the same command and args unbridged)."""
    c = rendered_server(raw)
    env = kubelet_env(c)
    argv = [kubelet_expand(a, env) for a in [*c["command"], *c["args"]]]
    line = argv[argv.index("--stdio") + 1]
    proc = subprocess.run([*shell, "-c", line], capture_output=True, timeout=60, check=False,
                          env={"PATH": "/usr/bin:/bin", **env})
    assert proc.returncode == 0, (line, proc.stderr)
    got = [bytes.fromhex(h) for h in json.loads(proc.stdout)]
    intended = [kubelet_expand(a, env).encode() for a in raw["args"]]
    return got, intended


_TEXT = st.lists(st.sampled_from(
    [*"ab -'\"\\;`&|*?~#{}!<>=", "$", "$(", "$(A)", "$(B)", "$(HOME)", "$$", "$$(A)", ")", "é",
     "\n", "\t"]), max_size=8).map("".join)


@pytest.mark.parametrize("shell", SHELLS, ids=[" ".join(s) for s in SHELLS])
@settings(max_examples=60, deadline=None)
@given(args=st.lists(_TEXT, max_size=4), a=_TEXT, b=_TEXT)
def test_the_server_gets_the_argv_the_kubelet_would_give_it(
        shell: list[str], args: list[str], a: str, b: str) -> None:
    raw = {**BASE, "command": [sys.executable, "-c", SERVER], "args": args,
           "env": {"A": a, "B": b}}
    got, intended = executed(raw, shell)
    assert got == intended


@pytest.mark.parametrize("shell", SHELLS, ids=[" ".join(s) for s in SHELLS])
def test_a_quote_in_a_referenced_env_value_is_data(shell: list[str], tmp_path: Path) -> None:
    planted = tmp_path / "pwned"
    for value in ("it's", f"'; touch {planted}; '", "$(id)", "`id`"):
        raw = {**BASE, "command": [sys.executable, "-c", SERVER], "args": ["$(GREETING)"],
               "env": {"GREETING": value}}
        got, _ = executed(raw, shell)
        assert got == [value.encode()]
    assert not planted.exists()


def test_a_reference_beside_command_in_the_shell_argument_is_refused() -> None:
    raw = {**BASE, "command": ["node", "x.js"], "env": {"A": "1"},
           "bridge": {**BASE["bridge"], "args": ["--stdio", "$(A) {command}"]}}
    with pytest.raises(ValuesError) as exc:
        values.validate(raw, "test")
    assert [p.key for p in exc.value.problems] == ["bridge.args[1]"]


def test_a_secret_reference_in_bridge_args_is_refused() -> None:
    raw = {**BASE, "command": ["node", "x.js"],
           "bridge": {**BASE["bridge"], "args": [*BASE["bridge"]["args"], "--oauth2Bearer",
                                                  "$(API_TOKEN)"]},
           "secrets": {"provider": "vault", "env": {"API_TOKEN": "api-token"},
                       "envLoader": {"image": f"registry.example.com/busybox:1@{DIGEST}"},
                       "vault": {"vaultAddress": "https://vault.vault.svc:8200", "roleName": "x",
                                 "vaultCACertPath": "/vault/tls/ca.crt",
                                 "objects": [{"objectName": "api-token",
                                              "secretPath": "secret/data/x",
                                              "secretKey": "token"}]}},
           "kubernetesVersion": "1.35"}
    with pytest.raises(ValuesError) as exc:
        values.validate(raw, "test")
    keys = [p.key for p in exc.value.problems]
    assert "bridge.args[5]" in keys, exc.value.problems
