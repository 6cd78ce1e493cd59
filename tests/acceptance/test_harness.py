"""The harness reads a rendered base the way the kubelet and the CSI provider would."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import harness
from harness import (
    IMAGES,
    POD_IP,
    Image,
    Pod,
    container_env,
    expand,
    image_of,
    memory_peak,
    render_example,
    run_pod,
)
from support import EXAMPLES


def test_dependent_variables_expand_as_kubernetes_does() -> None:
    env = {"PORT": "8000"}
    assert expand("--port=$(PORT)", env) == "--port=8000"
    assert expand("$$(PORT)", env) == "$(PORT)"  # escaped
    assert expand("$(UNSET) $PORT", env) == "$(UNSET) $PORT"  # left as written


def test_golden_everything_base_is_read_as_rendered() -> None:
    pod = Pod.from_base(EXAMPLES / "everything")
    assert (pod.command, pod.args, pod.port, pod.path) == (["mcp-server-everything"], ["streamableHttp"],
                                                           3001, "/mcp")
    assert (pod.uid, pod.gid, pod.read_only_root) == (65532, 65532, True)
    assert pod.env["UPSTREAM_API_TOKEN_FILE"] == "/mnt/secrets/upstream-token"
    # The AWS provider writes the whole secret (name with "/" -> "_") and each jmesPath alias.
    assert sorted(pod.secret_files) == ["sandbox_everything_upstream", "upstream-token"]
    writable = {m["mountPath"] for m in pod.mounts if "emptyDir" in pod.volumes[m["name"]]}
    assert writable == {"/tmp", "/home/mcp"}
    env = container_env(pod, image_of(pod))
    assert env["PORT"] == "3001" and env["PATH"].split(":")[0].endswith(".tools/npm/node_modules/.bin")


def test_bridge_args_expand_the_port() -> None:
    pod = Pod.from_base(EXAMPLES / "time-bridge")
    assert pod.command == ["supergateway"]
    assert pod.args[pod.args.index("--port") + 1] == "8000"
    assert pod.args[pod.args.index("--stdio") + 1] == "mcp-server-time"


# --- the harness cannot be fooled ------------------------------------------------------------
# Each case is a base the harness must NOT report as working: a cluster would not run it.

def _python_server(tmp_path: Path, args: list[str], memory: str = "256Mi",
                   command: list[str] | None = None) -> Path:
    """A base for a python image (registry.example.com/test/python, python only: no node)."""
    values = {
        "name": "probe-mcp", "namespace": "mcp-harness", "port": 8080, "runtime": "python",
        "image": "registry.example.com/test/python:3.12@sha256:" + "c" * 64,
        "command": command or ["python3"], "args": args,
        "ingress": {"namespace": "ingress-nginx"},
        "resources": {"requests": {"memory": "64Mi"}, "limits": {"memory": memory}},
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "v.yaml").write_text(yaml.safe_dump(values))
    return render_example(tmp_path / "v.yaml", tmp_path / "base")


@pytest.fixture
def python_image(monkeypatch: pytest.MonkeyPatch) -> None:
    # FROM python:3.12-slim: python and sh, no node.
    monkeypatch.setitem(IMAGES, "registry.example.com/test/python",
                        Image(runtimes=frozenset({"python", "sh"})))


SERVE = ["-c", "import http.server as h, sys; h.HTTPServer((sys.argv[1], 8080),"
         " h.BaseHTTPRequestHandler).serve_forever()"]


def test_a_server_bound_to_loopback_is_never_ready(tmp_path: Path, python_image: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "START_TIMEOUT", 8.0)
    with pytest.raises(AssertionError, match="not listening"), \
            run_pod(_python_server(tmp_path, [*SERVE, "127.0.0.1"])):
        pass


def test_the_same_server_bound_to_every_address_is_reached_on_the_pod_ip(
        tmp_path: Path, python_image: None) -> None:
    with run_pod(_python_server(tmp_path, [*SERVE, "0.0.0.0"])) as pod:
        assert pod.url.startswith(f"http://{POD_IP}:8080/")


def test_a_python_image_has_no_node(tmp_path: Path, python_image: None) -> None:
    # The README's supergateway bridge on a python:3.12-slim image: it would crash-loop.
    with pytest.raises(pytest.fail.Exception, match="has no node"), \
            run_pod(_python_server(tmp_path, ["--stdio", "mcp-server-time"],
                                   command=[str(harness.NPM_BIN / "supergateway")])):
        pass
    # and the host's node is not on its filesystem either
    hidden = harness._hide_args(IMAGES["registry.example.com/test/python"])
    assert "/usr/bin/node" in hidden


def test_a_server_over_its_memory_limit_is_killed(tmp_path: Path, python_image: None) -> None:
    grow = ["-c", "import http.server as h; x = bytearray(300 * 2**20); x[::4096] = b'y' *"
            " len(x[::4096]); h.HTTPServer(('0.0.0.0', 8080), h.BaseHTTPRequestHandler)"
            ".serve_forever()"]
    with pytest.raises(AssertionError, match="exited"), run_pod(_python_server(tmp_path, grow)):
        pass
    with run_pod(_python_server(tmp_path / "big", grow, memory="512Mi")) as pod:
        peak = memory_peak(pod)
        assert peak is not None and 300 * 2**20 < peak <= 512 * 2**20
