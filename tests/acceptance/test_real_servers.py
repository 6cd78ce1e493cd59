"""Real MCP servers run from bases rendered by `mcp-scaffold new`, as the pod would run them
(harness.py), and answer the official MCP Python SDK client over Streamable HTTP: initialize,
tools/list and one tools/call each."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml

from harness import PROJECTED_TOKEN, Running, check_probes, mcp_call, render_example, run_pod, text_of
from support import EXAMPLES


def test_everything_answers_over_streamable_http(everything: Running) -> None:
    session = mcp_call(everything, "echo", {"message": "hello from the pod"})
    assert session.server_name == "mcp-servers/everything"
    assert {"echo", "get-env", "get-sum"} <= set(session.tools)
    assert text_of(session.result) == "Echo: hello from the pod"


def test_everything_gets_its_credential_as_a_file_path(everything: Running) -> None:
    env = json.loads(text_of(mcp_call(everything, "get-env", {}).result))
    # The server process's own environment: exactly the image's PATH, what the Deployment sets
    # and the kubelet's service variables; the credential as a path, never as a value.
    assert env == everything.env()
    assert env["UPSTREAM_API_TOKEN_FILE"] == "/mnt/secrets/upstream-token"
    token = everything.secrets["upstream-token"]
    assert token not in json.dumps(env)
    # That path holds the credential inside the pod and cannot be changed from it.
    read = everything.exec("cat", env["UPSTREAM_API_TOKEN_FILE"])
    assert (read.returncode, read.stdout) == (0, token), read.stderr
    write = everything.exec("sh", "-c", f"echo x > {env['UPSTREAM_API_TOKEN_FILE']}")
    assert write.returncode != 0


def test_only_the_rendered_mounts_are_writable(everything: Running) -> None:
    uid, gid = everything.exec("id", "-u"), everything.exec("id", "-g")
    assert (uid.stdout.strip(), gid.stdout.strip()) == ("65532", "65532"), uid.stderr + gid.stderr
    writable = {
        path: everything.exec("sh", "-c", f"echo x > {path}/probe-write").returncode == 0
        for path in ("/tmp", "/home/mcp", "/", "/usr", "/etc", "/mnt/secrets")
    }
    assert writable == {"/tmp": True, "/home/mcp": True, "/": False, "/usr": False, "/etc": False,
                        "/mnt/secrets": False}


def test_stdio_server_through_the_supergateway_bridge(rendered: Callable[[str], Path]) -> None:
    with run_pod(rendered("time-bridge")) as pod:
        # The rendered HTTP probes answer as the kubelet expects.
        assert check_probes(pod) == {"livenessProbe": 200, "readinessProbe": 200}
        session = mcp_call(pod, "get_current_time", {"timezone": "UTC"})
    assert session.server_name == "mcp-time"
    assert {"get_current_time", "convert_time"} <= set(session.tools)
    assert json.loads(text_of(session.result))["timezone"] == "UTC"


def test_memory_server_writes_only_to_its_writable_mount(rendered: Callable[[str], Path]) -> None:
    entity = {"name": "mcp-scaffold", "entityType": "project", "observations": ["runs in a pod"]}
    with run_pod(rendered("memory-bridge")) as pod:
        assert check_probes(pod) == {"livenessProbe": 200, "readinessProbe": 200}
        session = mcp_call(pod, "create_entities", {"entities": [entity]})
        stored = pod.exec("cat", "/home/mcp/memory.jsonl")
    assert {"create_entities", "read_graph", "search_nodes"} <= set(session.tools)
    assert json.loads(text_of(session.result))[0]["name"] == "mcp-scaffold"
    # The graph landed in the rendered HOME emptyDir that MEMORY_FILE_PATH points into.
    assert stored.returncode == 0, stored.stderr
    assert [json.loads(line)["name"] for line in stored.stdout.splitlines()] == ["mcp-scaffold"]


def test_kubernetes_mcp_server_reads_the_projected_token(rendered: Callable[[str], Path]) -> None:
    with run_pod(rendered("kubernetes-mcp")) as pod:
        assert check_probes(pod) == {"livenessProbe": 200, "readinessProbe": 200}
        session = mcp_call(pod, "configuration_view", {})
    assert session.server_name == "kubernetes-mcp-server"
    # --read-only as rendered: only read tools are offered.
    assert {"pods_list", "resources_get"} <= set(session.tools)
    assert not {"pods_delete", "resources_create_or_update", "pods_exec"} & set(session.tools)
    # In-cluster config built from the short-lived token the rendered projected volume holds.
    view = text_of(session.result)
    assert "current-context: in-cluster" in view
    assert f"token: {PROJECTED_TOKEN}" in view


def test_stdio_server_through_the_rendered_bridge(rendered: Callable[[str], Path], tmp_path: Path) -> None:
    # The bridge comes from its own image: the rendered init container copies it into the
    # emptyDir the server container then runs it from; the server image stays as built.
    claim = tmp_path / "claim"
    claim.mkdir()
    entity = {"name": "mcp-scaffold", "entityType": "project", "observations": ["survives the pod"]}
    with run_pod(rendered("memory-stdio"), claims={"memory-mcp-data-0": claim}) as pod:
        assert [c.name for c in pod.pod.init_containers] == ["mcp-bridge-install"]
        assert pod.pod.command == ["/opt/mcp-bridge/supergateway"]
        assert check_probes(pod) == {"livenessProbe": 200, "readinessProbe": 200}
        session = mcp_call(pod, "create_entities", {"entities": [entity]})
        # The copied bridge cannot be changed from the server container.
        write = pod.exec("sh", "-c", "echo x > /opt/mcp-bridge/supergateway")
        assert write.returncode != 0
    assert session.server_name == "memory-server"
    assert {"create_entities", "read_graph", "search_nodes"} <= set(session.tools)
    assert json.loads(text_of(session.result))[0]["name"] == "mcp-scaffold"
    # The graph is on the claim (MEMORY_FILE_PATH=/data/memory.jsonl), after the pod is gone.
    stored = (claim / "memory.jsonl").read_text()
    assert [json.loads(line)["name"] for line in stored.splitlines()] == ["mcp-scaffold"]


def test_filesystem_server_through_the_bridge_writes_only_its_volume(
        rendered: Callable[[str], Path]) -> None:
    # A fifth server program: the reference filesystem server, stdio only, behind the rendered
    # bridge, allowed one directory (its argument) that the base mounts as a writable emptyDir.
    with run_pod(rendered("filesystem-stdio")) as pod:
        assert [c.name for c in pod.pod.init_containers] == ["mcp-bridge-install"]
        assert check_probes(pod) == {"livenessProbe": 200, "readinessProbe": 200}
        session = mcp_call(pod, "write_file", {"path": "/workspace/note.txt", "content": "hello"})
        read = pod.exec("cat", "/workspace/note.txt")
        outside = pod.exec("sh", "-c", "echo x > /app/escape.txt")
    assert session.server_name.startswith("secure-filesystem")
    assert {"read_text_file", "write_file", "list_allowed_directories"} <= set(session.tools)
    assert "Successfully wrote" in text_of(session.result)
    assert read.stdout == "hello"
    assert outside.returncode != 0  # the image's own files stay read-only


def test_everything_gets_its_credential_through_secrets_env(tmp_path: Path) -> None:
    # examples/everything.yaml with the credential delivered as a variable (secrets.env, the
    # default wrapper: the rendered command reads the provider file, then execs the server).
    values = yaml.safe_load((EXAMPLES / "everything.yaml").read_text())
    values["secrets"]["env"] = {"UPSTREAM_API_TOKEN": "upstream-token"}
    del values["secrets"]["files"]
    (tmp_path / "everything-env.yaml").write_text(yaml.safe_dump(values))
    base = render_example(tmp_path / "everything-env.yaml", tmp_path / "everything-env")
    # A multi-line value with a trailing newline, kept byte for byte (what `$(cat f)` would cut).
    token = "-----BEGIN TEST KEY-----\nline two\n-----END TEST KEY-----\n"
    with run_pod(base, {"upstream-token": token}) as pod:
        assert pod.pod.command[:2] == ["/bin/sh", "-c"]
        assert "UPSTREAM_API_TOKEN" not in pod.pod.env
        env = json.loads(text_of(mcp_call(pod, "get-env", {}).result))
    # The server process's environment: what the container gets, plus the file's content, plus
    # PWD, which the wrapper's shell exports at startup (POSIX sh sets it to the working directory).
    assert env == {**pod.env(), "UPSTREAM_API_TOKEN": token, "PWD": "/"}
    # The value is in no manifest of the base.
    assert not [f.name for f in base.iterdir() if f.is_file() and "line two" in f.read_text()]


def test_everything_gets_its_credential_through_the_env_loader_and_file_key_ref(
        tmp_path: Path) -> None:
    # secrets.env with secrets.envLoader.image (Kubernetes 1.35+): the rendered init container
    # runs in its own sandbox with its own mounts (the CSI volume, the env-file emptyDir), writes
    # the kubelet's env file, and the server's env reads it through valueFrom.fileKeyRef, as
    # the kubelet's parser reads it. The server image's command is left alone (no wrapper).
    values = yaml.safe_load((EXAMPLES / "everything.yaml").read_text())
    values["secrets"]["env"] = {"UPSTREAM_API_TOKEN": "upstream-token"}
    del values["secrets"]["files"]
    values["secrets"]["envLoader"] = {
        "image": "registry.example.com/mcp/env-loader:1.37@sha256:" + "e" * 64}
    values["kubernetesVersion"] = "1.35"
    (tmp_path / "everything-loader.yaml").write_text(yaml.safe_dump(values))
    base = render_example(tmp_path / "everything-loader.yaml", tmp_path / "everything-loader")
    token = "multi\nline token with spaces and $(DOLLAR) and \"quotes\"\n"
    with run_pod(base, {"upstream-token": token}) as pod:
        assert pod.pod.command == ["mcp-server-everything"]
        assert [i.name for i in pod.pod.init_containers] == ["load-secret-env"]
        assert pod.pod.env["UPSTREAM_API_TOKEN"] == token
        env = json.loads(text_of(mcp_call(pod, "get-env", {}).result))
    assert env["UPSTREAM_API_TOKEN"] == token
    assert not [f.name for f in base.iterdir() if f.is_file() and "line token" in f.read_text()]
