"""Secrets rules judge meaning: a token Secret without data, objects whose controller writes a
Secret, CSI volumes reading one, and credentials in env values, ConfigMaps, command and args
judged by value as well as name."""

from __future__ import annotations

from typing import Any

import pytest

from scaffold.policy import Finding, evaluate
from scaffold.policy.secrets import TARGET_SECRET_FIELDS
from scaffold.yamlio import load_all

import corpus
from support import reference

Doc = dict[str, Any]


def _docs() -> list[Doc]:
    return corpus.build(corpus.HARDENED)


def _ctr(docs: list[Doc]) -> Doc:
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container: Doc = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def _rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def test_service_account_token_secret_without_data() -> None:
    docs = _docs()
    docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"},
                 "type": "kubernetes.io/service-account-token"})
    assert _rules(evaluate(docs)) == {"MCP-SEC-006"}
    docs[-1]["type"] = "Opaque"  # no data, not a token: nothing stored
    assert evaluate(docs) == []


@pytest.mark.parametrize(("api", "kind", "flagged"), [
    ("external-secrets.io/v1", "ExternalSecret", True),
    ("external-secrets.io/v1beta1", "ExternalSecret", True),
    ("external-secrets.io/v1", "ClusterExternalSecret", True),
    ("bitnami.com/v1alpha1", "SealedSecret", True),
    ("secrets.hashicorp.com/v1beta1", "VaultStaticSecret", True),
    ("secrets.hashicorp.com/v1beta1", "VaultDynamicSecret", True),
    ("onepassword.com/v1", "OnePasswordItem", True),
    ("example.com/v1", "ExternalSecret", False),  # same kind, another API: not the operator
    ("external-secrets.io/v1", "SecretStore", False),  # where to read, writes no Secret
])
def test_objects_that_produce_secrets(api: str, kind: str, flagged: bool) -> None:
    docs = _docs()
    docs.append({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "spec": {}})
    assert _rules(evaluate(docs)) == ({"MCP-SEC-007"} if flagged else set())


def test_csi_node_publish_secret_ref() -> None:
    docs = _docs()
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    volume = deployment["spec"]["template"]["spec"]["volumes"][1]
    volume["csi"]["nodePublishSecretRef"] = {"name": "creds"}
    findings = evaluate(docs)
    assert _rules(findings) == {"MCP-SEC-008"}
    assert findings[0].path.endswith("volumes[1].csi.nodePublishSecretRef")


@pytest.mark.parametrize(("name", "value", "flagged"), [
    ("ENABLE_TOKEN_PASSTHROUGH", "true", False),
    ("DB_PASSWORD", "$(DB_PASSWORD_FROM_FILE)", False),
    ("DATABASE_URL", "postgres://app:hunter2@db/app", True),
    ("DATABASE_URL", "postgres://app:$(DB_PASSWORD)@db/app", False),
    ("GITHUB_PAT", "v1.abc123def", True),
])
def test_env_values(name: str, value: str, flagged: bool) -> None:
    docs = _docs()
    _ctr(docs)["env"].append({"name": name, "value": value})
    assert _rules(evaluate(docs)) == ({"MCP-SEC-003"} if flagged else set())


@pytest.mark.parametrize(("key", "value", "flagged"), [
    ("ENABLE_TOKEN_PASSTHROUGH", "true", False),
    ("TOKEN_TTL", "3600", False),
    ("config.yaml", "db: postgres://app:hunter2@db/app\n", True),
    ("API_KEY", "sk-live-0123456789abcdef", True),
])
def test_configmap_values(key: str, value: str, flagged: bool) -> None:
    docs = _docs()
    next(d for d in docs if d["kind"] == "ConfigMap")["data"][key] = value
    assert _rules(evaluate(docs)) == ({"MCP-SEC-005"} if flagged else set())


@pytest.mark.parametrize(("field", "items", "index"), [
    ("args", ["--port", "8080", "--api-key=abc123def456"], 2),
    ("args", ["--password", "abc123def456"], 1),
    ("command", ["sh", "-c", "exec server --token=abc123def456"], 2),
    ("args", ["--dsn", "mysql://root:hunter2@db:3306/app"], 1),
    ("args", ["--token-file", "/var/run/secrets/tokens/api-token"], None),
])
def test_command_and_args(field: str, items: list[str], index: int | None) -> None:
    docs = _docs()
    _ctr(docs)[field] = items
    findings = evaluate(docs)
    if index is None:
        assert findings == []
    else:
        assert [(f.rule, f.path.rsplit(".", 1)[1]) for f in findings] == [
            ("MCP-SEC-009", f"{field}[{index}]")]


def _object(api: str, kind: str, spec: Doc, annotations: Doc | None = None) -> Doc:
    md: Doc = {"name": "x", "namespace": "n"}
    if annotations:
        md["annotations"] = annotations
    return {"apiVersion": api, "kind": kind, "metadata": md, "spec": spec}


@pytest.mark.parametrize(("doc", "path"), [
    (_object("cert-manager.io/v1", "Certificate", {"secretName": "tls"}), "spec.secretName"),
    # The detector reads the field, not the kind: any kind that names its target Secret.
    (_object("example.com/v1", "Anything", {"secretName": "tls"}), "spec.secretName"),
    (_object("spv.no/v2beta1", "AzureKeyVaultSecret", {
        "vault": {"name": "v", "object": {"name": "o", "type": "secret"}},
        "output": {"secret": {"name": "db"}}}), "spec.output.secret.name"),
    (_object("rds.aws.upbound.io/v1beta1", "Instance", {
        "forProvider": {"region": "us-east-1"},
        "writeConnectionSecretToRef": {"name": "db", "namespace": "n"}}),
     "spec.writeConnectionSecretToRef"),
    (_object("database.example.org/v1alpha1", "PostgreSQLInstance", {
        "publishConnectionDetailsTo": {"name": "db"}}), "spec.publishConnectionDetailsTo"),
    (_object("networking.k8s.io/v1", "Ingress", {"tls": [{"secretName": "tls"}]},
             {"cert-manager.io/cluster-issuer": "letsencrypt"}),
     "metadata.annotations[cert-manager.io/cluster-issuer]"),
])
def test_objects_that_name_the_secret_their_controller_writes(doc: Doc, path: str) -> None:
    findings = evaluate([*_docs(), doc])
    assert [(f.rule, f.path) for f in findings] == [("MCP-SEC-007", path)]


@pytest.mark.parametrize("doc", [
    # Built-in kinds whose secretName reads a Secret: an Ingress without an issuer, a pod's
    # secret volume (not spec.secretName at all).
    _object("networking.k8s.io/v1", "Ingress", {"tls": [{"secretName": "tls"}]}),
    _object("example.com/v1", "Anything", {"secretName": ""}),
    _object("cert-manager.io/v1", "Issuer", {"acme": {"privateKeySecretRef": {"name": "k"}}}),
])
def test_objects_that_write_no_secret(doc: Doc) -> None:
    assert evaluate([*_docs(), doc]) == []


def test_certificate_secret_name_is_the_secret_cert_manager_creates() -> None:
    # The upstream CRD (cert-manager deploy/crds/cert-manager.io_certificates.yaml): the field
    # the detector reads is the Secret the controller writes.
    file = reference("cert-manager-certificates-crd.yaml")
    crd = load_all(file.read_text("utf-8"), str(file))[0]
    assert crd["spec"]["group"] == "cert-manager.io"
    assert ("spec", "secretName") in TARGET_SECRET_FIELDS
    for version in crd["spec"]["versions"]:
        spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
        assert "will be automatically created" in " ".join(
            spec["secretName"]["description"].split())
