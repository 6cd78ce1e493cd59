"""Variables that decide what code the server runs or whom it trusts (scaffold/envloader.py
RUNTIME_CONTROL) are refused in env and in secrets.env; PATH may not list a directory the
pod can write."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scaffold import envloader, values
from scaffold.errors import ValuesError

DIGEST = "sha256:" + "a" * 64
BASE: dict[str, Any] = {
    "name": "rc", "namespace": "mcp-x", "image": f"registry.example.com/x:1@{DIGEST}",
    "port": 8080, "ingress": {"namespace": "ingress-nginx"}, "runtime": "node",
    "command": ["node", "/app/index.js"],
}
NAMES = ["LD_PRELOAD", "NODE_OPTIONS", "PYTHONPATH", "PYTHONSTARTUP", "JAVA_TOOL_OPTIONS",
         "_JAVA_OPTIONS", "PERL5OPT", "RUBYOPT", "BASH_ENV", "ENV", "HTTPS_PROXY", "http_proxy",
         "ALL_PROXY", "NO_PROXY", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
         "GCONV_PATH", "LOCPATH"]


def _keys(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ValuesError) as exc:
        values.validate(raw, "test")
    return [p.key for p in exc.value.problems]


@pytest.mark.parametrize("name", NAMES)
def test_env_may_not_set_a_runtime_control_variable(name: str) -> None:
    assert _keys({**BASE, "env": {name: "/opt/x"}}) == [f"env.{name}"]


@pytest.mark.parametrize("name", NAMES)
def test_secrets_env_may_not_set_one_either(name: str) -> None:
    assert envloader.runtime_control(name) or name.startswith("LD_") or name == "ENV"
    problems = envloader.name_problems({name: "token"})
    assert [p.key for p in problems] == [f"secrets.env.{name}"]


@pytest.mark.parametrize("path", ["/tmp/bin:/usr/bin", "/usr/bin:/data/bin", "/usr/bin::/bin",
                                  "bin:/usr/bin", "/home/mcp/.local/bin:/usr/bin"])
def test_path_into_a_writable_directory_is_refused(path: str) -> None:
    raw = {**copy.deepcopy(BASE), "env": {"PATH": path},
           "volumes": [{"mountPath": "/data", "size": "16Mi"}]}
    assert _keys(raw) == ["env.PATH"]


def test_an_ordinary_path_and_ordinary_names_pass() -> None:
    v = values.validate({**BASE, "env": {"PATH": "/usr/local/bin:/usr/bin:/bin",
                                         "LOG_LEVEL": "info", "NODE_ENV": "production"}}, "t")
    assert v["env"]["PATH"] == "/usr/local/bin:/usr/bin:/bin"


@pytest.mark.parametrize("path", [
    "/app/.venv/lib/python3.12/site-packages/sitecustomize",
    "/usr/lib/python3/dist-packages", "/app/node_modules", "/usr/local/lib/node",
    "/etc/ssl/certs", "/etc/pki/tls", "/etc/ld.so.conf.d", "/lib/x86_64-linux-gnu"])
@pytest.mark.parametrize("persistent", [False, True])
def test_a_volume_over_a_code_path_is_refused(path: str, persistent: bool) -> None:
    raw = {**copy.deepcopy(BASE),
           "volumes": [{"mountPath": path, "size": "16Mi", "persistent": persistent}]}
    assert _keys(raw) == ["volumes[0].mountPath"]


@pytest.mark.parametrize("path", ["/data", "/home/node", "/workspace", "/var/lib/app"])
def test_a_data_volume_passes(path: str) -> None:
    values.validate({**BASE, "volumes": [{"mountPath": path, "size": "16Mi"}]}, "t")
