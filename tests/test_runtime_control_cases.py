"""More hostile cases for the runtime-control refusal (envloader.RUNTIME_CONTROL) and the
code-path rule for volumes, beside tests/test_runtime_control.py: every mechanism from the
secret store, spellings that normalise into a writable mount, paths under interpreters'
module trees."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from scaffold import values
from scaffold.errors import ValuesError

from support import EXAMPLES

EVERYTHING = yaml.safe_load((EXAMPLES / "everything.yaml").read_text())


def _keys(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ValuesError) as caught:
        values.validate(raw)
    return [p.key for p in caught.value.problems]


@pytest.mark.parametrize("name", [
    "NODE_OPTIONS", "JAVA_TOOL_OPTIONS", "PYTHONPATH", "BASH_ENV", "GCONV_PATH", "HTTPS_PROXY",
    "NODE_EXTRA_CA_CERTS", "LD_PRELOAD", "LD_LIBRARY_PATH", "PATH", "https_proxy", "ENV",
    "SSL_CERT_FILE", "BASH_FUNC_x%%", "PERL5OPT", "DYLD_INSERT_LIBRARIES",
])
def test_a_runtime_control_variable_never_comes_from_the_secret_store(name: str) -> None:
    raw = copy.deepcopy(EVERYTHING)
    raw["secrets"]["env"] = {name: "upstream-token"}
    del raw["secrets"]["files"]
    assert f"secrets.env.{name}" in _keys(raw)


@pytest.mark.parametrize(("name", "value"), [
    ("PATH", "/tmp/bin:/usr/bin"), ("LD_PRELOAD", "/home/mcp/.cache/x.so"),
    ("NODE_OPTIONS", "--require=/tmp/hook.js"), ("NODE_OPTIONS", "--require /data/hook.js"),
    ("PYTHONPATH", "/data/lib"), ("GCONV_PATH", "/tmp//gconv"), ("BASH_ENV", "/tmp/../tmp/rc"),
])
def test_a_runtime_control_variable_may_not_point_into_a_writable_mount(
        name: str, value: str) -> None:
    raw = copy.deepcopy(EVERYTHING)
    raw["volumes"] = [{"mountPath": "/data", "size": "64Mi"}]
    raw["env"] = {**raw["env"], name: value}
    assert _keys(raw) == [f"env.{name}"]


def test_path_and_plain_settings_pointing_at_the_image_are_fine() -> None:
    raw = copy.deepcopy(EVERYTHING)
    raw["env"] = {**raw["env"], "PATH": "/usr/local/bin:/usr/bin:/bin", "LOG_LEVEL": "/tmp/x"}
    assert values.validate(raw)["env"]["PATH"] == "/usr/local/bin:/usr/bin:/bin"


@pytest.mark.parametrize("path", [
    "/usr/local/lib/python3.12/site-packages/sitecustomize", "/etc/ssl/certs", "/etc/pki/tls",
    "/app/node_modules", "/usr/lib/node_modules/x", "/lib/x86_64-linux-gnu",
    "/opt/app/lib/python3.12", "/srv/app/__pycache__", "/usr/local/bin",
])
def test_a_writable_volume_may_not_sit_on_code_or_certificates(path: str) -> None:
    for persistent in (False, True):
        raw = copy.deepcopy(EVERYTHING)
        raw["volumes"] = [{"mountPath": path, "size": "64Mi", "persistent": persistent}]
        assert _keys(raw) == ["volumes[0].mountPath"], (path, persistent)


@pytest.mark.parametrize("path", ["/data", "/srv/state", "/var/lib/mcp", "/app/data"])
def test_a_volume_of_its_own_is_fine(path: str) -> None:
    raw = copy.deepcopy(EVERYTHING)
    raw["volumes"] = [{"mountPath": path, "size": "64Mi"}]
    assert values.validate(raw)["volumes"][0]["mountPath"] == path
