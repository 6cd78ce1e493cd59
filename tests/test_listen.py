"""A server told to bind loopback is refused at the key that says so: its pod would never be
Ready (the kubelet's probes and the Service reach the pod IP; tests/acceptance/test_harness.py
shows such a server is never reached there)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from scaffold import listen, values
from scaffold.errors import ValuesError

from support import EXAMPLES

EVERYTHING: dict[str, Any] = yaml.safe_load((EXAMPLES / "everything.yaml").read_text())


def _problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValuesError) as caught:
        values.validate(raw)
    return [(p.key, p.message) for p in caught.value.problems]


@pytest.mark.parametrize(("args", "key"), [
    (["streamableHttp", "--host", "127.0.0.1"], "args[2]"),
    (["streamableHttp", "--host=localhost"], "args[1]"),
    (["--bind", "::1"], "args[1]"),
    (["--listen=127.0.0.1:3001"], "args[0]"),
    (["--address", "[::1]:3001"], "args[1]"),
    (["--addr=127.8.9.10"], "args[0]"),
])
def test_a_loopback_flag_is_refused_at_its_argument(args: list[str], key: str) -> None:
    raw = copy.deepcopy(EVERYTHING)
    raw["args"] = args
    [(found, message)] = _problems(raw)
    assert found == key and "never be Ready" in message and "0.0.0.0" in message


@pytest.mark.parametrize("name", ["HOST", "FASTMCP_HOST", "BIND_ADDRESS", "UVICORN_HOST"])
def test_a_loopback_variable_is_refused_at_its_name(name: str) -> None:
    raw = copy.deepcopy(EVERYTHING)
    raw["env"] = {**raw["env"], name: "127.0.0.1"}
    assert [k for k, _ in _problems(raw)] == [f"env.{name}"]


def test_a_bridge_bound_to_loopback_is_refused() -> None:
    raw = yaml.safe_load((EXAMPLES / "memory-stdio.yaml").read_text())
    raw["bridge"]["args"] = [*raw["bridge"]["args"], "--host", "localhost"]
    keys = [k for k, _ in _problems(raw)]
    assert keys == [f"bridge.args[{len(raw['bridge']['args']) - 1}]"]


@pytest.mark.parametrize("args", [
    ["--host", "0.0.0.0"], ["--host=::"], ["--bind", "mcp.example.com"], ["--listen=:3001"],
    ["--port", "127"], ["127.0.0.1"], ["--target", "localhost"],
])
def test_other_addresses_and_flags_are_fine(args: list[str]) -> None:
    raw = copy.deepcopy(EVERYTHING)
    raw["args"] = args
    assert values.validate(raw)["args"] == args


def test_the_address_reading() -> None:
    assert all(listen.is_loopback(a) for a in ("localhost", "127.0.0.1", "127.1.1.1:80",
                                               "::1", "[::1]:8080", "LOCALHOST"))
    assert not any(listen.is_loopback(a) for a in ("0.0.0.0", "::", "10.0.0.1", "", ":3001",
                                                   "local", "localhost.example.com"))
