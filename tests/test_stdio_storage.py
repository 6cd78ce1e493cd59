"""Contract v2: a stdio server behind a bridge, volumes (emptyDir or a claim), workingDir and
probe headers. What the Deployment runs is exactly what the acceptance suite starts, so these
tests read the rendered YAML back, the way the API server would."""

from __future__ import annotations

import copy
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import plan, render, values, verify
from scaffold.errors import ValuesError

from kubelet import kubelet_expand
from support import EXAMPLES

STDIO: dict[str, Any] = yaml.safe_load((EXAMPLES / "memory-stdio.yaml").read_text())
MINIMAL: dict[str, Any] = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())


def _objects(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    v = values.validate(data)
    files = render.render(v)
    verify.verify(files, v["kubernetesVersion"])  # strict schemas and the hardening rules
    return {f.path: [d for d in yaml.safe_load_all(f.text) if d] for f in files
            if f.is_manifest}


def _pod(data: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = _objects(data)["deployment.yaml"][0]["spec"]["template"]["spec"]
    return spec


def test_the_stdio_example_runs_the_bridge_with_the_server_as_its_child() -> None:
    pod = _pod(copy.deepcopy(STDIO))
    (server,) = pod["containers"]
    assert server["command"] == ["/opt/mcp-bridge/supergateway"]
    assert server["args"] == [
        "--stdio", "node /app/dist/index.js", "--outputTransport", "streamableHttp",
        "--port", "8080", "--streamableHttpPath", "/mcp", "--healthEndpoint", "/healthz",
        "--stateful"]
    # supergateway hands --stdio to /bin/sh -c: the shell splits it back into the argv.
    assert shlex.split(server["args"][1]) == STDIO["command"]
    assert server["image"] == STDIO["image"]
    assert {"name": "mcp-bridge", "mountPath": "/opt/mcp-bridge", "readOnly": True} in (
        server["volumeMounts"])


def test_the_bridge_install_container_has_the_same_hardening() -> None:
    pod = _pod(copy.deepcopy(STDIO))
    (init,) = pod["initContainers"]
    (server,) = pod["containers"]
    assert init["securityContext"] == server["securityContext"]
    context = init["securityContext"]
    assert context["readOnlyRootFilesystem"] is True and context["runAsNonRoot"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert init["image"] == STDIO["bridge"]["image"] and init["imagePullPolicy"] == "Always"
    # It copies the binary to exactly the path the server container runs.
    assert init["command"] == ["cp", STDIO["bridge"]["binary"], server["command"][0]]
    assert init["volumeMounts"] == [{"name": "mcp-bridge", "mountPath": "/opt/mcp-bridge"}]
    assert "ports" not in init and "livenessProbe" not in init and "env" not in init
    bridge_dir = next(v for v in pod["volumes"] if v["name"] == "mcp-bridge")
    assert bridge_dir["emptyDir"]["sizeLimit"]


def test_without_a_command_placeholder_the_server_argv_follows_the_bridge_args() -> None:
    data = copy.deepcopy(STDIO)
    data["bridge"]["args"] = ["--port", "{port}", "--path", "{path}", "--"]
    data["command"] = ["mcp-server-time"]
    data["args"] = ["--local-timezone", "Europe/Paris"]
    data["path"] = "/rpc"
    server = _pod(data)["containers"][0]
    assert server["args"] == ["--port", "8080", "--path", "/rpc", "--", "mcp-server-time",
                              "--local-timezone", "Europe/Paris"]


def test_a_streamable_http_server_gets_no_bridge() -> None:
    pod = _pod(copy.deepcopy(MINIMAL))
    assert "initContainers" not in pod
    assert all(v["name"] != "mcp-bridge" for v in pod["volumes"])


def test_a_persistent_volume_is_a_claim_and_updates_recreate_the_pod() -> None:
    objects = _objects(copy.deepcopy(STDIO))
    (claim,) = objects["persistentvolumeclaim.yaml"]
    assert claim["kind"] == "PersistentVolumeClaim"
    assert claim["spec"] == {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard-rwo",
                             "resources": {"requests": {"storage": "1Gi"}}}
    deployment = objects["deployment.yaml"][0]
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert deployment["spec"]["replicas"] == 1
    pod = deployment["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v.get("persistentVolumeClaim"))
    assert volume["persistentVolumeClaim"] == {"claimName": claim["metadata"]["name"]}
    assert {"name": volume["name"], "mountPath": "/data"} in pod["containers"][0]["volumeMounts"]
    assert pod["containers"][0]["workingDir"] == "/data"


def test_emptydir_volumes_are_size_limited_and_need_no_claim() -> None:
    data = copy.deepcopy(MINIMAL)
    data["volumes"] = [{"mountPath": "/data", "size": "100Mi"},
                       {"mountPath": "/var/cache/app", "size": "50Mi"}]
    objects = _objects(data)
    assert "persistentvolumeclaim.yaml" not in objects
    deployment = objects["deployment.yaml"][0]
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    pod = deployment["spec"]["template"]["spec"]
    sizes = {v["name"]: v["emptyDir"]["sizeLimit"] for v in pod["volumes"] if "emptyDir" in v}
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert sizes[mounts["/data"]] == "100Mi" and sizes[mounts["/var/cache/app"]] == "50Mi"


def test_two_claims_are_two_objects_in_one_file() -> None:
    data = copy.deepcopy(STDIO)
    data["volumes"].append({"mountPath": "/srv/more", "size": "2Gi", "persistent": True})
    claims = _objects(data)["persistentvolumeclaim.yaml"]
    assert [c["metadata"]["name"] for c in claims] == ["memory-mcp-data-0", "memory-mcp-data-1"]
    assert "storageClassName" not in claims[1]["spec"]  # the cluster's default class


def test_probe_headers_become_http_headers() -> None:
    data = copy.deepcopy(MINIMAL)
    data["probes"] = {"liveness": {"path": "/healthz", "headers": {"Host": "localhost"}},
                      "readiness": {"path": "/healthz"}}
    server = _pod(data)["containers"][0]
    assert server["livenessProbe"]["httpGet"]["httpHeaders"] == [
        {"name": "Host", "value": "localhost"}]
    assert "httpHeaders" not in server["readinessProbe"]["httpGet"]


def test_a_working_dir_on_the_read_only_root_is_allowed_with_a_warning(tmp_path: Path,
                                                                      cli: Any) -> None:
    data = copy.deepcopy(MINIMAL)
    data["workingDir"] = "/app"
    f = tmp_path / "values.yaml"
    f.write_text(yaml.safe_dump(data), encoding="utf-8")
    r = cli("new", "--values", str(f), "--output", str(tmp_path / "out"), "--no-input")
    assert r.code == 0, r.err
    assert "warning" in r.err and "workingDir: /app is on the read-only root" in r.err
    assert "workingDir: \"/app\"" in (tmp_path / "out" / "deployment.yaml").read_text()
    data["workingDir"] = "/tmp/work"
    assert not [w for w in values.warnings(values.validate(data)) if w.key == "workingDir"]


def test_the_plan_names_the_bridge_binary_in_the_bridge_dir() -> None:
    server = plan.build(values.validate(copy.deepcopy(STDIO))).servers[0]
    assert server.bridge is not None
    assert server.bridge.binary == "/opt/mcp-bridge/supergateway"
    assert server.bridge.command_line[0] == server.pod.containers[0].command[0]
    assert server.pod.init_containers[0].run_as_user == server.pod.containers[0].run_as_user


# Free text as a YAML file can carry it: no NUL or other controls (refused at their key).
_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                max_size=40).filter(lambda s: values.check_control(s, True) is None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bridge_args=st.lists(_TEXT, max_size=4), command=st.lists(_TEXT, min_size=1, max_size=3),
       args=st.lists(_TEXT, max_size=3), placeholder=st.booleans())
def test_hostile_bridge_and_server_args_reach_the_container_exactly(
        bridge_args: list[str], command: list[str], args: list[str], placeholder: bool) -> None:
    data = copy.deepcopy(STDIO)
    bridge_args = [a.replace("{command}", "") for a in bridge_args]
    data["bridge"]["args"] = [*bridge_args, "--stdio", "{command}"] if placeholder else bridge_args
    data["command"], data["args"] = command, args
    server = _pod(data)["containers"][0]
    fill = [a.replace("{port}", "8080").replace("{path}", "/mcp") for a in bridge_args]
    if placeholder:
        assert server.get("args", [])[:-2] == fill and server["args"][-2] == "--stdio"
        # The kubelet expands the line before the bridge's shell reads it (test_bridge_shell
        # runs it): after both, the server gets what the kubelet gives an unbridged one.
        env: dict[str, str] = {}
        for e in server.get("env", []):
            env[e["name"]] = kubelet_expand(e["value"], env)
        assert shlex.split(kubelet_expand(server["args"][-1], env)) == [
            kubelet_expand(a, env) for a in [*command, *args]]
    else:
        assert server.get("args", []) == [*fill, *command, *args]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.dictionaries(st.text(max_size=12), st.text(max_size=20), max_size=3))
def test_hostile_probe_headers_are_refused_or_rendered_exactly(headers: dict[str, str]) -> None:
    data = copy.deepcopy(MINIMAL)
    data["probes"] = {"liveness": {"path": "/healthz", "headers": headers}}
    try:
        pod = _pod(data)
    except ValuesError as exc:
        assert exc.problems and all(p.key.startswith("probes.liveness.headers")
                                    for p in exc.problems), exc.problems
        return
    got = pod["containers"][0]["livenessProbe"]["httpGet"].get("httpHeaders", [])
    assert {h["name"]: h["value"] for h in got} == headers
    assert all(n and set(n) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-") for n in headers)



def test_the_disk_refusal_gives_the_sum_each_part_and_the_limit() -> None:
    # A Python stdio server: /tmp and HOME 64Mi each, the bridge 128Mi, a 384Mi volume: 640Mi
    # against the default 512Mi limit. 0.2.0 said only that they "must fit".
    raw = yaml.safe_load((EXAMPLES / "memory-stdio.yaml").read_text())
    raw.update(runtime="python", volumes=[{"mountPath": "/data", "size": "384Mi"}])
    raw.pop("workingDir", None)
    with pytest.raises(ValuesError) as caught:
        values.validate(raw)
    assert [(p.key, p.message) for p in caught.value.problems] == [(
        "volumes", "the emptyDirs need 640Mi (/tmp 64Mi, HOME /home/mcp 64Mi, the bridge"
        " /opt/mcp-bridge 128Mi, /data 384Mi), more than resources.limits.ephemeral-storage"
        " 512Mi: raise the limit or make the emptyDirs smaller")]
