"""Real MCP servers run from bases rendered by `mcp-scaffold new`, as the pod would run them
(harness.py), and answer the official MCP Python SDK client over Streamable HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from harness import check_probes, mcp_call, run_pod, text_of

UPSTREAM_TOKEN = "test-upstream-token-5f2a"


def test_everything_answers_over_streamable_http(rendered: Callable[[str], Path]) -> None:
    with run_pod(rendered("everything"), {"upstream-token": UPSTREAM_TOKEN}) as pod:
        session = mcp_call(pod, "echo", {"message": "hello from the pod"})
    assert session.server_name == "mcp-servers/everything"
    assert {"echo", "get-env", "get-sum"} <= set(session.tools)
    assert text_of(session.result) == "Echo: hello from the pod"


def test_everything_gets_its_credential_as_a_file_path(rendered: Callable[[str], Path]) -> None:
    with run_pod(rendered("everything"), {"upstream-token": UPSTREAM_TOKEN}) as pod:
        env = json.loads(text_of(mcp_call(pod, "get-env", {}).result))
        # The server process's own environment: exactly the image's PATH and what the
        # Deployment sets, the credential as a path and never as a value.
        assert env == pod.env()
        assert env["UPSTREAM_API_TOKEN_FILE"] == "/mnt/secrets/upstream-token"
        assert UPSTREAM_TOKEN not in json.dumps(env)
        # That path is readable by the pod's non-root user and cannot be changed.
        read = pod.exec("cat", env["UPSTREAM_API_TOKEN_FILE"])
        assert (read.returncode, read.stdout) == (0, UPSTREAM_TOKEN), read.stderr
        write = pod.exec("sh", "-c", f"echo x > {env['UPSTREAM_API_TOKEN_FILE']}")
        assert write.returncode != 0


def test_only_the_rendered_mounts_are_writable(rendered: Callable[[str], Path]) -> None:
    with run_pod(rendered("everything"), {"upstream-token": UPSTREAM_TOKEN}) as pod:
        uid = pod.exec("id", "-u")
        assert uid.stdout.strip() == "65532", uid.stderr
        gid = pod.exec("id", "-g")
        assert gid.stdout.strip() == "65532", gid.stderr
        writable = {
            path: pod.exec("sh", "-c", f"echo x > {path}/probe-write").returncode == 0
            for path in ("/tmp", "/home/mcp", "/", "/usr", "/etc", "/mnt/secrets")
        }
    assert writable == {"/tmp": True, "/home/mcp": True, "/": False,
                        "/usr": False, "/etc": False, "/mnt/secrets": False}


def test_stdio_server_through_the_supergateway_bridge(rendered: Callable[[str], Path]) -> None:
    with run_pod(rendered("time-bridge")) as pod:
        # The rendered HTTP probes answer as the kubelet expects.
        assert check_probes(pod) == {"livenessProbe": 200, "readinessProbe": 200}
        session = mcp_call(pod, "get_current_time", {"timezone": "UTC"})
    assert session.server_name == "mcp-time"
    assert {"get_current_time", "convert_time"} <= set(session.tools)
    assert json.loads(text_of(session.result))["timezone"] == "UTC"
