"""Secrets: nothing secret in etcd. No Secret objects with data or long-lived tokens, no
objects that make the cluster write a Secret, no secret env vars, no credentials in env
values, ConfigMaps, command or args, and no SecretProviderClass syncing back into a Secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..credentials import argument_reasons, credential_reason
from .model import Context, Doc, Hit, Rule, as_dict, as_list, hit, name_of

P = "secrets"
_CSI_FIX = ("Mount the value with the Secrets Store CSI driver as a read-only file (a "
            "SecretProviderClass without secretObjects); never sync it into a Secret.")
SECRET_OBJECT = Rule(
    "MCP-SEC-001", P, "high", "Secret object carries data",
    "Delete the Secret; keep the value in the external store and mount it through a Secrets "
    "Store CSI SecretProviderClass as a read-only file.",
)
SECRET_ENV = Rule(
    "MCP-SEC-002", P, "high", "Secret exposed as an environment variable",
    "Replace secretKeyRef/envFrom.secretRef with a read-only CSI (or secret) volume and pass "
    "the file path in a *_FILE variable.",
)
CREDENTIAL_LITERAL = Rule(
    "MCP-SEC-003", P, "high", "Credential in an environment variable's literal value",
    "Move the value to the secret store, mount it as a file and set NAME_FILE to its path.",
)
SECRET_OBJECTS_SYNC = Rule(
    "MCP-SEC-004", P, "high", "SecretProviderClass syncs secrets into a Kubernetes Secret",
    "Remove spec.secretObjects; read the mounted files instead.",
)
CONFIGMAP_CREDENTIAL = Rule(
    "MCP-SEC-005", P, "high", "ConfigMap holds a credential",
    "Move the value out of the ConfigMap into the secret store and mount it as a file.",
)
SA_TOKEN_SECRET = Rule(
    "MCP-SEC-006", P, "high", "Long-lived ServiceAccount token Secret",
    "Delete the kubernetes.io/service-account-token Secret; mount a projected "
    "serviceAccountToken volume (expirationSeconds <= 3600) where API access is needed.",
)
SECRET_PRODUCER = Rule(
    "MCP-SEC-007", P, "high", "Object makes the cluster store a Secret",
    f"Remove the object (ExternalSecret, SealedSecret, Vault*Secret...). {_CSI_FIX}",
)
CSI_NODE_SECRET = Rule(
    "MCP-SEC-008", P, "high", "CSI volume reads a Secret through nodePublishSecretRef",
    "Remove nodePublishSecretRef; let the CSI provider authenticate with the pod's "
    "workload identity (IRSA/Pod Identity, GKE or Azure workload identity, Vault k8s auth).",
)
ARGUMENT_CREDENTIAL = Rule(
    "MCP-SEC-009", P, "high", "Credential in a container's command or args",
    "Remove the credential from command/args (they are stored in etcd and shown by "
    "kubectl describe and ps); mount it as a file and pass the path (--token-file=...).",
)

RULES = (SECRET_OBJECT, SECRET_ENV, CREDENTIAL_LITERAL, SECRET_OBJECTS_SYNC,
         CONFIGMAP_CREDENTIAL, SA_TOKEN_SECRET, SECRET_PRODUCER, CSI_NODE_SECRET,
         ARGUMENT_CREDENTIAL)

# Kinds whose controller writes a Kubernetes Secret, by API group (any version):
# External Secrets Operator, Bitnami Sealed Secrets, Vault Secrets Operator, 1Password,
# Infisical, Doppler, and the retired kubernetes-external-secrets.
_PRODUCERS: dict[str, frozenset[str]] = {
    "external-secrets.io": frozenset({"ExternalSecret", "ClusterExternalSecret"}),
    "bitnami.com": frozenset({"SealedSecret"}),
    "secrets.hashicorp.com": frozenset({"VaultStaticSecret", "VaultDynamicSecret",
                                        "VaultPKISecret", "HCPVaultSecretsApp"}),
    "onepassword.com": frozenset({"OnePasswordItem"}),
    "secrets.infisical.com": frozenset({"InfisicalSecret"}),
    "secrets.doppler.com": frozenset({"DopplerSecret"}),
    "kubernetes-client.io": frozenset({"ExternalSecret"}),
}
SA_TOKEN_TYPE = "kubernetes.io/service-account-token"


def _group(doc: Doc) -> str:
    api = doc.get("apiVersion")
    return api.rpartition("/")[0] if isinstance(api, str) else ""


def check(ctx: Context) -> Iterator[Hit]:
    """All secrets findings for the documents in ``ctx``."""
    for doc in ctx.of_kind("Secret"):
        keys = [*as_dict(doc.get("data")), *as_dict(doc.get("stringData"))]
        if doc.get("type") == SA_TOKEN_TYPE:
            # The token controller fills it with a token that never expires, whatever data
            # the manifest holds.
            account = as_dict(as_dict(doc.get("metadata")).get("annotations")).get(
                "kubernetes.io/service-account.name")
            yield hit(SA_TOKEN_SECRET, doc, "type",
                      f"Secret {name_of(doc)} of type {SA_TOKEN_TYPE} makes the cluster store "
                      f"a non-expiring token for ServiceAccount {account!r} in etcd")
        elif keys:
            yield hit(SECRET_OBJECT, doc, "data",
                      f"Secret {name_of(doc)} stores {', '.join(map(str, keys))} in etcd")
    for doc in ctx.documents:
        kind = doc.get("kind")
        if isinstance(kind, str) and kind in _PRODUCERS.get(_group(doc), ()):
            yield hit(SECRET_PRODUCER, doc, "spec",
                      f"{kind} {name_of(doc)} ({_group(doc)}) makes its controller write a "
                      "Kubernetes Secret (etcd)")
    for doc in ctx.of_kind("SecretProviderClass"):
        if as_list(as_dict(doc.get("spec")).get("secretObjects")):
            yield hit(SECRET_OBJECTS_SYNC, doc, "spec.secretObjects",
                      f"SecretProviderClass {name_of(doc)} copies mounted secrets into "
                      "Kubernetes Secrets (etcd) through secretObjects")
    for doc in ctx.of_kind("ConfigMap"):
        for key, value in as_dict(doc.get("data")).items():
            why = credential_reason(str(key), None if value is None else str(value))
            if why:
                yield hit(CONFIGMAP_CREDENTIAL, doc, f"data[{key}]",
                          f"ConfigMap {name_of(doc)} key {key} holds {why}")
    for w in ctx.workloads:
        for index, item in enumerate(as_list(w.spec.get("volumes"))):
            ref = as_dict(as_dict(as_dict(item).get("csi")).get("nodePublishSecretRef"))
            if ref:
                yield hit(CSI_NODE_SECRET, w.doc,
                          f"{w.spec_path}.volumes[{index}].csi.nodePublishSecretRef",
                          f"{w.kind} {w.name} volume {as_dict(item).get('name')} gives the CSI "
                          f"driver the credentials in Secret {ref.get('name')!r} (etcd)")
        for c in w.containers:
            yield from _container(w.doc, f"{w.kind} {w.name} container {c.name}", c.path, c.spec)


def _container(doc: Doc, where: str, path: str, spec: dict[str, Any]) -> Iterator[Hit]:
    for index, item in enumerate(as_list(spec.get("env"))):
        env = as_dict(item)
        ref = as_dict(as_dict(env.get("valueFrom")).get("secretKeyRef"))
        if ref:
            yield hit(SECRET_ENV, doc, f"{path}.env[{index}].valueFrom.secretKeyRef",
                      f"{where} reads Secret {ref.get('name')!r} into env {env.get('name')}")
        elif env.get("value") is not None:
            why = credential_reason(str(env.get("name", "")), str(env.get("value")))
            if why:
                yield hit(CREDENTIAL_LITERAL, doc, f"{path}.env[{index}].value",
                          f"{where} env {env.get('name')} holds {why}")
    for index, item in enumerate(as_list(spec.get("envFrom"))):
        ref = as_dict(as_dict(item).get("secretRef"))
        if ref:
            yield hit(SECRET_ENV, doc, f"{path}.envFrom[{index}].secretRef",
                      f"{where} loads every key of Secret {ref.get('name')!r} into env")
    for field in ("command", "args"):
        for index, why in argument_reasons(as_list(spec.get(field))):
            yield hit(ARGUMENT_CREDENTIAL, doc, f"{path}.{field}[{index}]",
                      f"{where} {field}[{index}]: {why}")
