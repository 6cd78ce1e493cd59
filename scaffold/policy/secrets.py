"""Secrets: nothing secret in etcd. No Secret objects with data or long-lived tokens, no
objects that make the cluster write a Secret, no secret env vars, no credentials in env
values, ConfigMaps, command or args, and no SecretProviderClass syncing back into a Secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..credentials import argument_reasons, credential_reason
from .model import ANY_KIND, POD_SPEC, Context, Doc, Hit, as_dict, as_list, hit, name_of
from .registry import rule

P = "secrets"
_CSI_FIX = ("Mount the value with the Secrets Store CSI driver as a read-only file (a "
            "SecretProviderClass without secretObjects); never sync it into a Secret.")

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
# Fields that name the Secret a controller will write, wherever the kind comes from: any
# custom resource carrying one makes the cluster store a Secret, whatever its kind is called.
# cert-manager Certificate spec.secretName (the Secret "that will be automatically created",
# cert-manager.io_certificates.yaml); akv2k8s AzureKeyVaultSecret spec.output.secret.name;
# Crossplane managed resources, claims and composites spec.writeConnectionSecretToRef (and
# spec.publishConnectionDetailsTo, its successor).
TARGET_SECRET_FIELDS: tuple[tuple[str, ...], ...] = (
    ("spec", "secretName"),
    ("spec", "output", "secret", "name"),
    ("spec", "writeConnectionSecretToRef"),
    ("spec", "publishConnectionDetailsTo"),
)
# cert-manager's ingress-shim turns an Ingress or Gateway with one of these annotations into a
# Certificate whose Secret is each tls[].secretName (cert-manager docs, "Securing Ingress
# Resources"; pkg/controller/certificate-shim).
_SHIM_ANNOTATIONS = ("cert-manager.io/issuer", "cert-manager.io/cluster-issuer")
SA_TOKEN_TYPE = "kubernetes.io/service-account-token"

_DETECTOR = """One credential detector (`scaffold/credentials.py`), which `mcp-scaffold new`
applies to its env values too. By value, whatever the name: a URI with a password in its
userinfo (`postgres://u:p@h/db`), an `Authorization` `Bearer`/`Basic` string, `password=` in a
connection string, and well-known token formats (GitHub, GitLab, Slack, AWS access key ids,
`sk-...` API keys, JWTs, PEM private keys). By name: credential words (password, passwd, pwd,
pass, pat, secret, token, key, apikey, jwt, bearer, credential...) on whole name parts, so
`MAX_TOKENS` or `TOKENIZER` pass, and the unambiguous ones also at the end of a run-together
part (`GITHUBTOKEN`, `DBPASSWORD`); names ending in `_FILE`/`_PATH`/`_DIR`/`_URL`/`_URI`/
`_ENDPOINT` point to a credential and are not one. A credential name whose value is plainly a
setting is not a credential: empty, a boolean (`true`, `no`, `on`...), a number, duration or
quantity, an absolute path, an enum-like word (`enabled`, `auto`, `passthrough`, `bearer`, a
log level...) or a `$(VAR)` reference, so `ENABLE_TOKEN_PASSTHROUGH: "true"` is a flag."""


def _producers_text() -> str:
    return "; ".join(f"{', '.join(f'`{k}`' for k in sorted(kinds))} ({group})"
                     for group, kinds in _PRODUCERS.items())


def _group(doc: Doc) -> str:
    api = doc.get("apiVersion")
    return api.rpartition("/")[0] if isinstance(api, str) else ""


def _containers(ctx: Context) -> Iterator[tuple[Doc, str, str, dict[str, Any]]]:
    for w in ctx.workloads:
        for c in w.containers:
            yield w.doc, f"{w.kind} {w.name} container {c.name}", c.path, c.spec


@rule(
    "MCP-SEC-001", P, "high", "Secret object carries data", kinds=["Secret"],
    fix="Delete the Secret; keep the value in the external store and mount it through a "
    "Secrets Store CSI SecretProviderClass as a read-only file.",
)
def secret_object(ctx: Context) -> Iterator[Hit]:
    for doc in ctx.of_kind("Secret"):
        keys = [*as_dict(doc.get("data")), *as_dict(doc.get("stringData"))]
        if keys and doc.get("type") != SA_TOKEN_TYPE:  # a token Secret is MCP-SEC-006
            yield hit(secret_object, doc, "data",
                      f"Secret {name_of(doc)} stores {', '.join(map(str, keys))} in etcd")


@rule(
    "MCP-SEC-002", P, "high", "Secret exposed as an environment variable", kinds=[POD_SPEC],
    fix="Replace secretKeyRef/envFrom.secretRef with a read-only CSI (or secret) volume and "
    "pass the file path in a *_FILE variable.",
)
def secret_env(ctx: Context) -> Iterator[Hit]:
    for doc, where, path, spec in _containers(ctx):
        for index, item in enumerate(as_list(spec.get("env"))):
            env = as_dict(item)
            ref = as_dict(as_dict(env.get("valueFrom")).get("secretKeyRef"))
            if ref:
                yield hit(secret_env, doc, f"{path}.env[{index}].valueFrom.secretKeyRef",
                          f"{where} reads Secret {ref.get('name')!r} into env {env.get('name')}")
        for index, item in enumerate(as_list(spec.get("envFrom"))):
            ref = as_dict(as_dict(item).get("secretRef"))
            if ref:
                yield hit(secret_env, doc, f"{path}.envFrom[{index}].secretRef",
                          f"{where} loads every key of Secret {ref.get('name')!r} into env")


@rule(
    "MCP-SEC-003", P, "high", "Credential in an environment variable's literal value",
    kinds=[POD_SPEC],
    fix="Move the value to the secret store, mount it as a file and set NAME_FILE to its path.",
    description=_DETECTOR,
)
def credential_literal(ctx: Context) -> Iterator[Hit]:
    for doc, where, path, spec in _containers(ctx):
        for index, item in enumerate(as_list(spec.get("env"))):
            env = as_dict(item)
            if as_dict(as_dict(env.get("valueFrom")).get("secretKeyRef")):
                continue  # MCP-SEC-002
            if env.get("value") is not None:
                why = credential_reason(str(env.get("name", "")), str(env.get("value")))
                if why:
                    yield hit(credential_literal, doc, f"{path}.env[{index}].value",
                              f"{where} env {env.get('name')} holds {why}")


@rule(
    "MCP-SEC-004", P, "high", "SecretProviderClass syncs secrets into a Kubernetes Secret",
    kinds=["SecretProviderClass"],
    fix="Remove spec.secretObjects; read the mounted files instead.",
)
def secret_objects_sync(ctx: Context) -> Iterator[Hit]:
    for doc in ctx.of_kind("SecretProviderClass"):
        if as_list(as_dict(doc.get("spec")).get("secretObjects")):
            yield hit(secret_objects_sync, doc, "spec.secretObjects",
                      f"SecretProviderClass {name_of(doc)} copies mounted secrets into "
                      "Kubernetes Secrets (etcd) through secretObjects")


@rule(
    "MCP-SEC-005", P, "high", "ConfigMap holds a credential", kinds=["ConfigMap"],
    fix="Move the value out of the ConfigMap into the secret store and mount it as a file.",
    description="Uses the credential detector of MCP-SEC-003.",
)
def configmap_credential(ctx: Context) -> Iterator[Hit]:
    for doc in ctx.of_kind("ConfigMap"):
        for key, value in as_dict(doc.get("data")).items():
            why = credential_reason(str(key), None if value is None else str(value))
            if why:
                yield hit(configmap_credential, doc, f"data[{key}]",
                          f"ConfigMap {name_of(doc)} key {key} holds {why}")


@rule(
    "MCP-SEC-006", P, "high", "Long-lived ServiceAccount token Secret", kinds=["Secret"],
    fix="Delete the kubernetes.io/service-account-token Secret; mount a projected "
    "serviceAccountToken volume (expirationSeconds <= 3600) where API access is needed.",
    description="""Flags a `kubernetes.io/service-account-token` Secret even without data:
    the token controller fills it with a token that never expires.""",
)
def sa_token_secret(ctx: Context) -> Iterator[Hit]:
    for doc in ctx.of_kind("Secret"):
        if doc.get("type") == SA_TOKEN_TYPE:
            # The token controller fills it with a token that never expires, whatever data
            # the manifest holds.
            account = as_dict(as_dict(doc.get("metadata")).get("annotations")).get(
                "kubernetes.io/service-account.name")
            yield hit(sa_token_secret, doc, "type",
                      f"Secret {name_of(doc)} of type {SA_TOKEN_TYPE} makes the cluster store "
                      f"a non-expiring token for ServiceAccount {account!r} in etcd")


@rule(
    "MCP-SEC-007", P, "high", "Object makes the cluster store a Secret",
    kinds=[*sorted({k for kinds in _PRODUCERS.values() for k in kinds}
                   | {"Certificate", "AzureKeyVaultSecret", "Ingress", "Gateway"}), ANY_KIND],
    fix=f"Remove the object (ExternalSecret, SealedSecret, Vault*Secret, Certificate...). "
    f"{_CSI_FIX}",
    description=f"""Flags the objects whose controller writes a Secret: by API group,
    {_producers_text()}; and any custom resource, whatever its kind, with a field that names
    the Secret it writes: {", ".join(f"`{'.'.join(f)}`" for f in TARGET_SECRET_FIELDS)}
    (cert-manager `Certificate`, akv2k8s `AzureKeyVaultSecret`, Crossplane managed resources
    and claims); and an Ingress or Gateway with a cert-manager issuer annotation
    (ingress-shim writes its TLS Secrets). A `SecretProviderClass` with `secretObjects` is
    MCP-SEC-004.""",
)
def secret_producer(ctx: Context) -> Iterator[Hit]:
    for doc in ctx.documents:
        kind = doc.get("kind")
        if not isinstance(kind, str):
            continue
        group = _group(doc)
        if kind in _PRODUCERS.get(group, ()):
            yield hit(secret_producer, doc, "spec",
                      f"{kind} {name_of(doc)} ({group}) makes its controller write a "
                      "Kubernetes Secret (etcd)")
            continue
        if _custom(group):
            for fields in TARGET_SECRET_FIELDS:
                target = _at(doc, fields)
                if target not in (None, "", {}):
                    name = as_dict(target).get("name") if isinstance(target, dict) else target
                    yield hit(secret_producer, doc, ".".join(fields),
                              f"{kind} {name_of(doc)} ({group}) names the Secret "
                              f"{name!r} its controller writes (etcd) at {'.'.join(fields)}")
                    break
            continue
        annotations = as_dict(as_dict(doc.get("metadata")).get("annotations"))
        shim = [a for a in _SHIM_ANNOTATIONS if annotations.get(a)]
        if shim and kind in ("Ingress", "Gateway"):
            yield hit(secret_producer, doc, f"metadata.annotations[{shim[0]}]",
                      f"{kind} {name_of(doc)} asks cert-manager ({shim[0]}) to issue its TLS "
                      "certificates into Kubernetes Secrets (etcd)")


def _custom(group: str) -> bool:
    """Whether ``group`` is a custom resource's (not the core group nor a *.k8s.io one)."""
    return "." in group and not group.endswith(".k8s.io")


def _at(doc: Doc, fields: tuple[str, ...]) -> Any:
    node: Any = doc
    for key in fields:
        node = as_dict(node).get(key)
    return node


@rule(
    "MCP-SEC-008", P, "high", "CSI volume reads a Secret through nodePublishSecretRef",
    kinds=[POD_SPEC],
    fix="Remove nodePublishSecretRef; let the CSI provider authenticate with the pod's "
    "workload identity (IRSA/Pod Identity, GKE or Azure workload identity, Vault k8s auth).",
    description="The driver's credentials would then live in a Secret.",
)
def csi_node_secret(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        for index, item in enumerate(as_list(w.spec.get("volumes"))):
            ref = as_dict(as_dict(as_dict(item).get("csi")).get("nodePublishSecretRef"))
            if ref:
                yield hit(csi_node_secret, w.doc,
                          f"{w.spec_path}.volumes[{index}].csi.nodePublishSecretRef",
                          f"{w.kind} {w.name} volume {as_dict(item).get('name')} gives the CSI "
                          f"driver the credentials in Secret {ref.get('name')!r} (etcd)")


@rule(
    "MCP-SEC-009", P, "high", "Credential in a container's command or args", kinds=[POD_SPEC],
    fix="Remove the credential from command/args (they are stored in etcd and shown by "
    "kubectl describe and ps); mount it as a file and pass the path (--token-file=...).",
    description="""Reads `command` and `args` as the program does: `--token=x`,
    `--password x` (two items), `-e TOKEN=x`/`TOKEN=x`, bearer strings and URIs, also inside
    a `sh -c` string; uses the credential detector of MCP-SEC-003.""",
)
def argument_credential(ctx: Context) -> Iterator[Hit]:
    for doc, where, path, spec in _containers(ctx):
        for field in ("command", "args"):
            for index, why in argument_reasons(as_list(spec.get(field))):
                yield hit(argument_credential, doc, f"{path}.{field}[{index}]",
                          f"{where} {field}[{index}]: {why}")
