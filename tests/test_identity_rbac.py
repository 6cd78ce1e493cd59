"""Contract v2 (issue 11): no cloud token reaches the server without `cloudIdentity`, exactly
the asked identity with it, `rbac` as read-only grants, and `secrets.env` delivered by the
wrapper or the env file. Every base here is rendered and verified (strict schemas, the rules)."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import envloader, render, values, verify

from support import EXAMPLES

SKIP = "eks.amazonaws.com/skip-containers"
AZURE_USE = "azure.workload.identity/use"
ROLE = "arn:aws:iam::111122223333:role/github-mcp"


def _example(stem: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{stem}.yaml").read_text())
    return data


def _docs(data: dict[str, Any]) -> list[dict[str, Any]]:
    v = values.validate(data)
    return verify.verify(render.render(v), v["kubernetesVersion"])


def _one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"]))


def _pod(docs: list[dict[str, Any]]) -> dict[str, Any]:
    template: dict[str, Any] = _one(docs, "Deployment")["spec"]["template"]
    return template


def _egress_blocks(docs: list[dict[str, Any]]) -> list[tuple[str, set[int]]]:
    out = []
    for doc in docs:
        if doc["kind"] != "NetworkPolicy":
            continue
        for rule in doc["spec"].get("egress", []):
            ports = {p["port"] for p in rule.get("ports", [])}
            out += [(peer["ipBlock"]["cidr"], ports) for peer in rule.get("to", [])
                    if "ipBlock" in peer]
    return out


def _link_local(docs: list[dict[str, Any]]) -> list[tuple[str, set[int]]]:
    # Destinations inside 169.254.0.0/16 that some rule allows (not merely excepts).
    metadata = ipaddress.ip_network("169.254.0.0/16")
    return [(c, p) for c, p in _egress_blocks(docs)
            if ipaddress.ip_network(c).version == 4 and ipaddress.ip_network(c).subnet_of(metadata)
            and c != "169.254.20.10/32"]  # NodeLocal DNSCache


# --- no cloud token unless asked ----------------------------------------------------------------


def test_aws_csi_identity_is_kept_out_of_the_server_container() -> None:
    # secrets.aws with an IRSA role: the SA carries the role for the CSI provider, and the pod
    # tells the EKS webhook not to inject its web-identity token into the server container.
    docs = _docs(_example("github-mcp"))
    sa = _one(docs, "ServiceAccount")
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == ROLE
    pod = _pod(docs)
    assert pod["metadata"]["annotations"][SKIP].split(",") == ["mcp-server"]
    names = [c["name"] for c in pod["spec"]["containers"]]
    assert names == ["mcp-server"]
    assert _link_local(docs) == []


def test_aws_pod_identity_csi_is_kept_out_and_gets_no_agent_egress() -> None:
    data = _example("github-mcp")
    del data["secrets"]["aws"]["roleArn"]
    data["secrets"]["aws"]["usePodIdentity"] = True
    docs = _docs(data)
    assert _pod(docs)["metadata"]["annotations"][SKIP] == "mcp-server"
    assert _link_local(docs) == []


def test_azure_csi_identity_sets_no_injection_label() -> None:
    for stem in ("azure-mcp", "atlassian"):
        docs = _docs(_example(stem))
        pod = _pod(docs)
        assert AZURE_USE not in pod["metadata"]["labels"], stem
        assert SKIP not in pod["metadata"].get("annotations", {})
        # The CSI provider logs in with clientID from the SecretProviderClass and the
        # CSIDriver's token, which the label has nothing to do with.
        spc = _one(docs, "SecretProviderClass")
        assert spc["spec"]["parameters"]["clientID"]


def test_gcp_csi_identity_gets_no_metadata_server_egress() -> None:
    docs = _docs(_example("gcp-mcp"))
    assert _link_local(docs) == []
    assert not any(d["metadata"]["name"].endswith("-cloud-identity") for d in docs)


# --- exactly the asked identity -----------------------------------------------------------------


def test_cloud_identity_aws_irsa_wires_the_server_only() -> None:
    docs = _docs(_example("aws-api"))
    sa = _one(docs, "ServiceAccount")
    assert sa["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/aws-api-mcp-readonly"}
    pod = _pod(docs)
    assert SKIP not in pod["metadata"].get("annotations", {})
    assert _link_local(docs) == []  # IRSA calls STS on the internet, not a node agent


def test_cloud_identity_shared_with_the_csi_provider_keeps_the_server_token() -> None:
    data = _example("github-mcp")
    data["cloudIdentity"] = {"aws": {"roleArn": ROLE}}
    pod = _pod(_docs(data))
    assert SKIP not in pod["metadata"].get("annotations", {})


def test_cloud_identity_aws_pod_identity_opens_only_the_agent() -> None:
    data = _example("aws-api")
    data["cloudIdentity"]["aws"]["mode"] = "pod-identity"
    docs = _docs(data)
    assert "annotations" not in _one(docs, "ServiceAccount")["metadata"]
    assert _link_local(docs) == [("169.254.170.23/32", {80})]
    policy = _one(docs, "NetworkPolicy", "aws-api-mcp-cloud-identity")
    assert policy["metadata"]["annotations"]["mcp-scaffold.io/skip"].startswith("MCP-NET-005=")
    assert policy["spec"]["policyTypes"] == ["Egress"]


def test_cloud_identity_gcp_opens_only_the_gke_metadata_server() -> None:
    data = _example("minimal")
    data["cloudIdentity"] = {"gcp": {"gcpServiceAccount": "mcp-server@acme-prod.iam.gserviceaccount.com"}}
    docs = _docs(data)
    assert _one(docs, "ServiceAccount")["metadata"]["annotations"] == {
        "iam.gke.io/gcp-service-account": "mcp-server@acme-prod.iam.gserviceaccount.com"}
    assert sorted(_link_local(docs)) == [("169.254.169.252/32", {988}),
                                         ("169.254.169.254/32", {80})]


def test_cloud_identity_azure_labels_the_pod_and_names_the_client() -> None:
    data = _example("atlassian")
    client = data["secrets"]["azure"]["clientID"]
    tenant = data["secrets"]["azure"]["tenantID"]
    data["cloudIdentity"] = {"azure": {"clientID": client, "tenantID": tenant}}
    v = values.validate(data)
    files = render.render(v)
    docs = verify.verify(files, v["kubernetesVersion"])
    assert _pod(docs)["metadata"]["labels"][AZURE_USE] == "true"
    assert _one(docs, "ServiceAccount")["metadata"]["annotations"] == {
        "azure.workload.identity/client-id": client, "azure.workload.identity/tenant-id": tenant}
    readme = next(f.text for f in files if f.path == "README.md")
    assert "system:serviceaccount:mcp-atlassian:atlassian-mcp" in readme and client in readme


# --- rbac --------------------------------------------------------------------------------------


def _check(docs: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    stream = "---\n".join(yaml.safe_dump(d) for d in docs)
    return subprocess.run([sys.executable, "-m", "scaffold", "check", "-", "--format", "json"],
                          input=stream, capture_output=True, text=True, timeout=120, check=False)


def test_rbac_view_is_bound_per_namespace_with_role_bindings() -> None:
    docs = _docs(_example("kubernetes-mcp-server"))
    bindings = [d for d in docs if d["kind"] == "RoleBinding"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["mcp-platform", "team-a",
                                                                    "team-b"]
    assert all(b["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                "name": "view"} for b in bindings)
    assert not any(d["kind"].startswith("Cluster") for d in docs)
    assert _pod(docs)["spec"]["automountServiceAccountToken"] is False
    assert ("10.0.0.1/32", {443}) in _egress_blocks(docs)


def test_rbac_rules_reach_every_listed_namespace() -> None:
    data = _example("minimal")
    data["rbac"] = {"rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"],
                               "verbs": ["get", "list", "watch"]}], "namespaces": ["team-a"]}
    data["apiServer"] = {"cidrs": ["10.0.0.1/32"]}
    docs = _docs(data)
    roles = {d["metadata"]["namespace"]: d for d in docs if d["kind"] == "Role"}
    assert set(roles) == {"mcp-sandbox", "team-a"}
    for role in roles.values():
        assert role["rules"] == [{"apiGroups": [""], "resources": ["pods", "pods/log"],
                                  "verbs": ["get", "list", "watch"]}]
    assert any(v["name"] == "api-token" for v in _pod(docs)["spec"]["volumes"])


def test_cluster_wide_access_is_an_acknowledged_exception_in_check() -> None:
    data = _example("kubernetes-mcp-server")
    data["rbac"] = {"clusterRole": "view",
                    "clusterWide": {"reason": "answers questions about every namespace"}}
    docs = _docs(data)
    binding = _one(docs, "ClusterRoleBinding")
    assert binding["metadata"]["annotations"]["mcp-scaffold.io/skip"] == (
        "MCP-RBAC-004=answers questions about every namespace")
    proc = _check(docs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    acknowledged = [f for f in report["findings"] if f["rule"] == "MCP-RBAC-004"]
    assert [f["suppressed"] for f in acknowledged] == ["answers questions about every namespace"]
    assert report["summary"]["findings"] == 0
    # Without the recorded reason the same binding is a HIGH finding again.
    del binding["metadata"]["annotations"]
    proc = _check(docs)
    assert proc.returncode == 1
    findings = json.loads(proc.stdout)["findings"]
    assert any(f["rule"] == "MCP-RBAC-004" and f["severity"] == "high" and not f["suppressed"]
               for f in findings)


# --- secrets.env -------------------------------------------------------------------------------


def test_wrapper_runs_the_rendered_command_with_the_provider_files(tmp_path: Path) -> None:
    # The server container's command as rendered, run by a real /bin/sh against real files
    # (the mount path moved to a temporary directory): the program it execs sees the values.
    docs = _docs(_example("notion"))
    container = _pod(docs)["spec"]["containers"][0]
    command = container["command"]
    assert command[:2] == ["/bin/sh", "-c"] and container["args"] == [
        "--transport", "http", "--port", "3000"]
    pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n"
    (tmp_path / "notion-token").write_text(pem)
    (tmp_path / "mcp-auth-token").write_text("s3cr$t 'q'")
    probe = tmp_path / "probe.py"
    probe.write_text("import json, os, sys\nprint(json.dumps({k: os.environ.get(k) for k in"
                     " ('NOTION_TOKEN', 'AUTH_TOKEN')} | {'argv': sys.argv[1:]}))\n")
    # The kubelet turns $$ into $ in command (expand.go); the paths point at tmp_path.
    argv = [a.replace("$$", "$").replace("/mnt/secrets", str(tmp_path)) for a in command]
    argv[argv.index("--") + 1:] = [sys.executable, str(probe)]
    proc = subprocess.run([*argv, *container["args"]], capture_output=True, text=True,
                          timeout=30, check=False, env={"PATH": os.environ["PATH"]})
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen == {"NOTION_TOKEN": pem, "AUTH_TOKEN": "s3cr$t 'q'",
                    "argv": ["--transport", "http", "--port", "3000"]}


def test_env_loader_image_uses_an_init_container_and_file_key_ref() -> None:
    data = _example("notion")
    data["kubernetesVersion"] = "1.35"
    data["secrets"]["envLoader"] = {"image": "docker.io/library/busybox:1.37@sha256:" + "c" * 64}
    del data["command"]
    docs = _docs(data)
    spec = _pod(docs)["spec"]
    (init,) = spec["initContainers"]
    assert init["name"] == envloader.INIT_CONTAINER
    assert init["securityContext"]["readOnlyRootFilesystem"] is True
    assert init["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    server = spec["containers"][0]
    assert "command" not in server
    refs = {e["name"]: e["valueFrom"]["fileKeyRef"] for e in server["env"] if "valueFrom" in e}
    assert refs == {n: {"volumeName": "secret-env", "path": "env", "key": n, "optional": False}
                    for n in ("AUTH_TOKEN", "NOTION_TOKEN")}
    assert {"name": "secret-env", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}} in (
        spec["volumes"])
    assert all(m["name"] != "secret-env" for m in server["volumeMounts"])
    # The EKS webhook leaves the loader alone too.
    assert _pod(docs)["metadata"]["annotations"][SKIP] == "load-secret-env,mcp-server"
    assert not any(d["kind"] == "Secret" for d in docs)


# --- hostile free text in the new fields -------------------------------------------------------

HYPO = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYPO
@given(reason=st.text(min_size=1, max_size=80))
def test_any_cluster_wide_reason_is_refused_or_recorded_exactly(reason: str) -> None:
    data = _example("kubernetes-mcp-server")
    data["rbac"] = {"clusterRole": "view", "clusterWide": {"reason": reason}}
    try:
        v = values.validate(data)
    except values.ValuesError as exc:
        assert all(p.key.startswith("rbac") for p in exc.problems), exc.problems
        return
    docs = verify.verify(render.render(v), v["kubernetesVersion"])
    binding = _one(docs, "ClusterRoleBinding")
    assert binding["metadata"]["annotations"] == {
        "mcp-scaffold.io/skip": f"MCP-RBAC-004={reason.strip()}"}
    assert set(binding) == {"apiVersion", "kind", "metadata", "roleRef", "subjects"}


@HYPO
@given(name=st.text(min_size=1, max_size=30),
       file=st.sampled_from(["notion-token", "mcp-auth-token"]))
def test_any_secrets_env_entry_is_refused_or_loaded_as_data(name: str, file: str) -> None:
    data = _example("notion")
    data["secrets"]["env"] = {name: file}
    try:
        v = values.validate(data)
    except values.ValuesError as exc:
        assert exc.problems and all(p.key.startswith(("secrets.env", "command", "args"))
                                    for p in exc.problems), exc.problems
        return
    docs = verify.verify(render.render(v), v["kubernetesVersion"])
    command = _pod(docs)["spec"]["containers"][0]["command"]
    # The script is the constant one; the entry arrives as its own two arguments.
    assert command[2] == envloader.WRAPPER_SCRIPT
    pairs = command[4:command.index("--")]
    assert pairs == [name, f"/mnt/secrets/{file}"]
