"""The harness reads a rendered base the way the kubelet and the CSI provider would."""

from __future__ import annotations

from harness import Pod, container_env, expand, image_of
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
