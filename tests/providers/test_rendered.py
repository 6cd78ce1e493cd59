"""Through the real renderer: each provider's bundle verifies, and the SecretProviderClass in it
reads back, the way the provider parses it, to exactly the values given."""

from __future__ import annotations

from typing import Any

import pytest
import test_azure
import test_gcp
import test_vault

from scaffold import render, values, verify

from provider_support import assert_all_strings, azure_objects, make, yaml_list

CASES = {"azure": test_azure, "gcp": test_gcp, "vault": test_vault}


def _bundle(provider: str) -> tuple[dict[str, Any], dict[tuple[str, str], dict[str, Any]], str]:
    case = CASES[provider]
    v = values.validate(make(provider, case.BLOCK, case.FILES))
    files = render.render(v)
    docs = verify.verify(files, v["kubernetesVersion"])  # schema + policy, raises on failure
    readme = next(f.text for f in files if f.path == "README.md")
    return v, {(d["kind"], d["metadata"]["name"]): d for d in docs}, readme


@pytest.mark.parametrize("provider", sorted(CASES))
def test_secret_provider_class_reads_back(provider: str) -> None:
    _, docs, _ = _bundle(provider)
    spc = docs[("SecretProviderClass", "demo-mcp-secrets")]
    assert spc["metadata"]["namespace"] == "mcp-prod"
    assert "secretObjects" not in spc["spec"]
    params = spc["spec"]["parameters"]
    assert_all_strings(params)
    block = CASES[provider].BLOCK
    if provider == "azure":
        assert azure_objects(params["objects"]) == block["objects"]
    elif provider == "gcp":
        assert yaml_list(params["secrets"]) == block["secrets"]
    else:
        assert yaml_list(params["objects"]) == block["objects"]


@pytest.mark.parametrize("provider", sorted(CASES))
def test_identity_wiring_and_readme(provider: str) -> None:
    _, docs, readme = _bundle(provider)
    sa = docs[("ServiceAccount", "demo-mcp")]
    pod = docs[("Deployment", "demo-mcp")]["spec"]["template"]
    annotations = sa["metadata"].get("annotations", {})
    labels = pod["metadata"]["labels"]
    if provider == "azure":
        assert annotations["azure.workload.identity/client-id"] == test_azure.CLIENT
        # No cloudIdentity: the webhook's opt-in label stays off the pod, so the server gets
        # no federated token; the CSI provider logs in with the CSIDriver's token and clientID.
        assert "azure.workload.identity/use" not in labels
        assert "api://AzureADTokenExchange" in readme
        assert "system:serviceaccount:mcp-prod:demo-mcp" in readme
    elif provider == "gcp":
        assert annotations["iam.gke.io/gcp-service-account"] == test_gcp.GSA
        assert "acme-prod.svc.id.goog" in readme
    else:
        assert not any(k.startswith(("azure.", "iam.gke.io", "eks.")) for k in annotations)
        assert "bound_service_account_names=demo-mcp" in readme
    assert pod["spec"]["serviceAccountName"] == "demo-mcp"


def test_vault_pod_gets_no_egress_to_vault() -> None:
    # The provider DaemonSet talks to Vault (internal/provider/provider.go), never the pod.
    _, docs, readme = _bundle("vault")
    for (kind, _), doc in docs.items():
        if kind != "NetworkPolicy":
            continue
        for rule in doc["spec"].get("egress", []):
            ports = {p.get("port") for p in rule.get("ports", [])}
            assert 8200 not in ports, rule
            assert not any("ipBlock" in peer for peer in rule.get("to", [])), rule
    assert "The server pod gets no egress to Vault" in readme
