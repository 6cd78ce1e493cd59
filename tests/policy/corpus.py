"""The policy corpus: one hardened bundle and, per rule, the same bundle broken in exactly one
way. `python tests/policy/corpus.py` rewrites tests/policy/corpus/<case>/manifests.yaml from
these definitions; test_corpus_files_are_current keeps the files and this module in step.

Each case uses its own name, namespace and labels, so a scanner that joins objects across
files (Checkov's graph checks) cannot connect one case's NetworkPolicy to another's pods.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # when run as a script
    sys.path.insert(0, str(ROOT))

from scaffold.yamlio import dump  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "corpus"
DIGEST = "sha256:" + "0" * 64
Doc = dict[str, Any]


def hardened(name: str) -> list[Doc]:
    """The reference bundle (hardening.md §9 + §5), with API access and CSI secrets."""
    ns = name
    labels = {
        "app": name,
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/version": "1.2.3",
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/part-of": "mcp",
        "app.kubernetes.io/managed-by": "mcp-scaffold",
    }
    selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}

    def md(obj_name: str = name, namespaced: bool = True) -> Doc:
        out: Doc = {"name": obj_name}
        if namespaced:
            out["namespace"] = ns
        out["labels"] = dict(labels)
        return out

    sc = {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    dns_ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": ns,
            "labels": {
                **labels,
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "v1.33",
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/warn-version": "v1.33",
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/audit-version": "v1.33",
            },
        },
    }
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": md(),
          "automountServiceAccountToken": False}
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": md(f"{name}-default-deny"),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    allow = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": md(),
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{
                "from": [{"namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
                "ports": [{"protocol": "TCP", "port": 8080}],
            }],
            "egress": [
                {"to": [{"namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                         "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                 "ports": dns_ports},
                {"to": [{"ipBlock": {"cidr": "169.254.20.10/32"}}], "ports": dns_ports},
                {"to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}],
                 "ports": [{"protocol": "TCP", "port": 443}]},
                {"to": [
                    {"ipBlock": {"cidr": "0.0.0.0/0", "except": [
                        "169.254.0.0/16", "168.63.129.16/32", "10.0.0.0/8", "172.16.0.0/12",
                        "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8"]}},
                    {"ipBlock": {"cidr": "::/0", "except": ["fc00::/7", "fe80::/10", "::1/128"]}},
                 ],
                 "ports": [{"protocol": "TCP", "port": 443}]},
            ],
        },
    }
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": md(),
        "rules": [{"apiGroups": [""], "resources": ["configmaps"],
                   "resourceNames": [f"{name}-config"], "verbs": ["get", "watch"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": md(),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}],
    }
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md(f"{name}-config"),
              "data": {"LOG_LEVEL": "info", "MAX_TOKENS": "4096"}}
    spc = {
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": md(),
        "spec": {
            "provider": "aws",
            "parameters": {
                "region": "us-east-1",
                "objects": "- objectName: prod/mcp/db\n  objectType: secretsmanager\n"
                           "  jmesPath:\n    - path: password\n      objectAlias: db-password\n",
            },
        },
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": md(),
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "selector": {"matchLabels": dict(selector)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "serviceAccountName": name,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                        "fsGroup": 65532, "fsGroupChangePolicy": "OnRootMismatch",
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "affinity": {"podAntiAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [{
                            "weight": 100,
                            "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                                "labelSelector": {"matchLabels": dict(selector)}},
                        }]}},
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": dict(selector)},
                    }],
                    "containers": [{
                        "name": "server",
                        "image": f"registry.example.com/org/mcp-server:1.2.3@{DIGEST}",
                        "imagePullPolicy": "Always",
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                        "env": [
                            {"name": "DB_PASSWORD_FILE", "value": "/mnt/secrets/db-password"},
                            {"name": "KUBERNETES_TOKEN_FILE",
                             "value": "/var/run/secrets/tokens/api-token"},
                        ],
                        "securityContext": copy.deepcopy(sc),
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "128Mi",
                                         "ephemeral-storage": "128Mi"},
                            "limits": {"cpu": "500m", "memory": "256Mi",
                                       "ephemeral-storage": "256Mi"},
                        },
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"},
                                           "periodSeconds": 10},
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"},
                                          "periodSeconds": 20, "failureThreshold": 3},
                        "volumeMounts": [
                            {"name": "tmp", "mountPath": "/tmp"},
                            {"name": "secrets", "mountPath": "/mnt/secrets", "readOnly": True},
                            {"name": "api-token", "mountPath": "/var/run/secrets/tokens",
                             "readOnly": True},
                        ],
                    }],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                        {"name": "secrets", "csi": {
                            "driver": "secrets-store.csi.k8s.io", "readOnly": True,
                            "volumeAttributes": {"secretProviderClass": name}}},
                        {"name": "api-token", "projected": {"sources": [
                            {"serviceAccountToken": {"path": "api-token",
                                                     "audience": "https://kubernetes.default.svc",
                                                     "expirationSeconds": 3600}},
                            {"configMap": {"name": "kube-root-ca.crt",
                                           "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                                "fieldPath": "metadata.namespace"}}]}},
                        ]}},
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1", "kind": "Service", "metadata": md(),
        "spec": {"type": "ClusterIP", "selector": dict(selector),
                 "ports": [{"name": "http", "port": 80, "targetPort": "http",
                            "protocol": "TCP"}]},
    }
    pdb = {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": md(),
        "spec": {"minAvailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow",
                 "selector": {"matchLabels": dict(selector)}},
    }
    return [namespace, sa, deny, allow, role, binding, config, spc, deployment, service, pdb]


# ---- mutations: each takes the bundle (by kind) and breaks one thing ----------------------

def _get(docs: list[Doc], kind: str, index: int = 0) -> Doc:
    return [d for d in docs if d["kind"] == kind][index]


def _pod(docs: list[Doc]) -> Doc:
    spec: Doc = _get(docs, "Deployment")["spec"]["template"]["spec"]
    return spec


def _ctr(docs: list[Doc]) -> Doc:
    container: Doc = _pod(docs)["containers"][0]
    return container


def _allow(docs: list[Doc]) -> Doc:
    return _get(docs, "NetworkPolicy", 1)


def _role_rule(docs: list[Doc]) -> Doc:
    rule: Doc = _get(docs, "Role")["rules"][0]
    return rule


def _add_role_rule(rule: Doc) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _get(docs, "Role")["rules"].append(rule)
    return mutate


def _set(getter: Callable[[list[Doc]], Doc], **fields: Any) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        getter(docs).update(fields)
    return mutate


def _set_sc(**fields: Any) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _ctr(docs)["securityContext"].update(fields)
    return mutate


def _set_pod_sc(**fields: Any) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _pod(docs)["securityContext"].update(fields)
    return mutate


def _drop(getter: Callable[[list[Doc]], Doc], key: str) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        del getter(docs)[key]
    return mutate


def _cluster_admin(docs: list[Doc]) -> None:
    sa = _get(docs, "ServiceAccount")["metadata"]
    docs.append({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"{sa['name']}-admin"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": sa["name"],
                      "namespace": sa["namespace"]}],
    })


def _only_policy_type(kind: str) -> Callable[[list[Doc]], None]:
    drop = "egress" if kind == "Ingress" else "ingress"

    def mutate(docs: list[Doc]) -> None:
        for policy in [d for d in docs if d["kind"] == "NetworkPolicy"]:
            policy["spec"]["policyTypes"] = [kind]
            policy["spec"].pop(drop, None)
    return mutate


def _ingress_from_all(docs: list[Doc]) -> None:
    _allow(docs)["spec"]["ingress"][0]["from"] = [{"namespaceSelector": {}}]


def _ingress_all_ports(docs: list[Doc]) -> None:
    del _allow(docs)["spec"]["ingress"][0]["ports"]


def _egress_to_all(docs: list[Doc]) -> None:
    # The common "DNS anywhere" shortcut: ports only, no destination.
    del _allow(docs)["spec"]["egress"][0]["to"]


def _metadata_reachable(docs: list[Doc]) -> None:
    block = _allow(docs)["spec"]["egress"][3]["to"][0]["ipBlock"]
    block["except"] = [e for e in block["except"] if e != "169.254.0.0/16"]


def _secret_object(docs: list[Doc]) -> None:
    md = _get(docs, "ServiceAccount")["metadata"]
    docs.append({"apiVersion": "v1", "kind": "Secret",
                 "metadata": {"name": f"{md['name']}-db", "namespace": md["namespace"]},
                 "type": "Opaque", "data": {"password": "aHVudGVyMg=="}})


def _secret_env(docs: list[Doc]) -> None:
    _ctr(docs)["env"].append({"name": "DB_PASSWORD", "valueFrom": {
        "secretKeyRef": {"name": "db", "key": "password"}}})


def _credential_literal(docs: list[Doc]) -> None:
    _ctr(docs)["env"].append({"name": "GITHUB_TOKEN", "value": "ghp_" + "a" * 36})


def _secret_objects(docs: list[Doc]) -> None:
    _get(docs, "SecretProviderClass")["spec"]["secretObjects"] = [{
        "secretName": "db", "type": "Opaque",
        "data": [{"objectName": "db-password", "key": "password"}]}]


def _configmap_credential(docs: list[Doc]) -> None:
    _get(docs, "ConfigMap")["data"]["API_KEY"] = "sk-live-0123456789abcdef"


def _host_path(docs: list[Doc]) -> None:
    _pod(docs)["volumes"].append({"name": "host", "hostPath": {"path": "/var/log"}})
    _ctr(docs)["volumeMounts"].append({"name": "host", "mountPath": "/host", "readOnly": True})


def _host_port(docs: list[Doc]) -> None:
    _ctr(docs)["ports"][0]["hostPort"] = 8080


def _probe_host(docs: list[Doc]) -> None:
    _ctr(docs)["readinessProbe"]["httpGet"]["host"] = "internal.example.com"


def _empty_dir(docs: list[Doc]) -> None:
    _pod(docs)["volumes"][0]["emptyDir"] = {}


def _namespace_baseline(docs: list[Doc]) -> None:
    _get(docs, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = (
        "baseline"
    )


def _image(value: str) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _ctr(docs)["image"] = value
    return mutate


def _drop_resources(key: str) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        del _ctr(docs)["resources"][key]
    return mutate


# case id -> (rule it must trigger, what it breaks, mutation)
CASES: dict[str, tuple[str, str, Callable[[list[Doc]], None]]] = {
    "rbac-001": ("MCP-RBAC-001", "pod on the default ServiceAccount",
                 _drop(_pod, "serviceAccountName")),
    "rbac-002": ("MCP-RBAC-002", "pod automountServiceAccountToken: true",
                 _set(_pod, automountServiceAccountToken=True)),
    "rbac-003": ("MCP-RBAC-003", "ServiceAccount automountServiceAccountToken: true",
                 _set(lambda d: _get(d, "ServiceAccount"), automountServiceAccountToken=True)),
    "rbac-004": ("MCP-RBAC-004", "ClusterRoleBinding of cluster-admin to the server's SA",
                 _cluster_admin),
    "rbac-005": ("MCP-RBAC-005", "Role verbs ['*']", _set(_role_rule, verbs=["*"])),
    "rbac-006": ("MCP-RBAC-006", "Role get on a named Secret",
                 _add_role_rule({"apiGroups": [""], "resources": ["secrets"],
                                 "resourceNames": ["db"], "verbs": ["get"]})),
    "rbac-007": ("MCP-RBAC-007", "Role create on pods/exec",
                 _add_role_rule({"apiGroups": [""], "resources": ["pods/exec"],
                                 "verbs": ["create"]})),
    "rbac-008": ("MCP-RBAC-008", "Role update/patch on the named ConfigMap",
                 _set(_role_rule, verbs=["get", "watch", "update", "patch"])),
    "rbac-009": ("MCP-RBAC-009", "Role impersonate on serviceaccounts",
                 _add_role_rule({"apiGroups": [""], "resources": ["serviceaccounts"],
                                 "verbs": ["impersonate"]})),
    "rbac-010": ("MCP-RBAC-010", "Role get/watch on configmaps without resourceNames",
                 _drop(_role_rule, "resourceNames")),
    "net-001": ("MCP-NET-001", "no policy isolates Ingress", _only_policy_type("Egress")),
    "net-002": ("MCP-NET-002", "no policy isolates Egress", _only_policy_type("Ingress")),
    "net-003": ("MCP-NET-003", "ingress from an empty namespaceSelector (all namespaces)",
                _ingress_from_all),
    "net-004": ("MCP-NET-004", "egress rule with ports only, no 'to'", _egress_to_all),
    "net-005": ("MCP-NET-005", "0.0.0.0/0 egress without the 169.254.0.0/16 except",
                _metadata_reachable),
    "net-006": ("MCP-NET-006", "ingress rule without ports", _ingress_all_ports),
    "sec-001": ("MCP-SEC-001", "a Secret with data", _secret_object),
    "sec-002": ("MCP-SEC-002", "env from secretKeyRef", _secret_env),
    "sec-003": ("MCP-SEC-003", "literal GITHUB_TOKEN env value", _credential_literal),
    "sec-004": ("MCP-SEC-004", "SecretProviderClass secretObjects", _secret_objects),
    "sec-005": ("MCP-SEC-005", "ConfigMap key API_KEY with a literal", _configmap_credential),
    "pss-001": ("MCP-PSS-001", "hostNetwork: true", _set(_pod, hostNetwork=True)),
    "pss-002": ("MCP-PSS-002", "privileged: true", _set_sc(privileged=True)),
    "pss-003": ("MCP-PSS-003", "capabilities.add NET_BIND_SERVICE",
                _set_sc(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})),
    "pss-004": ("MCP-PSS-004", "capabilities.drop NET_RAW only",
                _set_sc(capabilities={"drop": ["NET_RAW"]})),
    "pss-005": ("MCP-PSS-005", "hostPath volume", _host_path),
    "pss-006": ("MCP-PSS-006", "hostPort 8080", _host_port),
    "pss-007": ("MCP-PSS-007", "pod AppArmor Unconfined",
                _set_pod_sc(appArmorProfile={"type": "Unconfined"})),
    "pss-008": ("MCP-PSS-008", "SELinux type spc_t", _set_sc(seLinuxOptions={"type": "spc_t"})),
    "pss-009": ("MCP-PSS-009", "procMount Unmasked", _set_sc(procMount="Unmasked")),
    "pss-010": ("MCP-PSS-010", "pod seccomp Unconfined",
                _set_pod_sc(seccompProfile={"type": "Unconfined"})),
    "pss-011": ("MCP-PSS-011", "sysctl kernel.msgmax",
                _set_pod_sc(sysctls=[{"name": "kernel.msgmax", "value": "65536"}])),
    "pss-012": ("MCP-PSS-012", "Windows hostProcess",
                _set_sc(windowsOptions={"hostProcess": True})),
    "pss-013": ("MCP-PSS-013", "readinessProbe httpGet.host", _probe_host),
    "pss-014": ("MCP-PSS-014", "allowPrivilegeEscalation: true",
                _set_sc(allowPrivilegeEscalation=True)),
    "pss-015": ("MCP-PSS-015", "container runAsNonRoot: false", _set_sc(runAsNonRoot=False)),
    "pss-016": ("MCP-PSS-016", "container runAsUser: 0", _set_sc(runAsUser=0)),
    "pss-017": ("MCP-PSS-017", "runAsUser 1000 (below 10000)", _set_sc(runAsUser=1000)),
    "pss-018": ("MCP-PSS-018", "readOnlyRootFilesystem: false",
                _set_sc(readOnlyRootFilesystem=False)),
    "pss-019": ("MCP-PSS-019", "emptyDir without sizeLimit", _empty_dir),
    "pss-020": ("MCP-PSS-020", "Namespace enforce: baseline", _namespace_baseline),
    "img-001": ("MCP-IMG-001", "tag only, no digest",
                _image("registry.example.com/org/mcp-server:1.2.3")),
    "img-002": ("MCP-IMG-002", "digest @sha256:abc123",
                _image("registry.example.com/org/mcp-server:1.2.3@sha256:abc123")),
    "img-003": ("MCP-IMG-003", ":latest with a digest",
                _image(f"registry.example.com/org/mcp-server:latest@{DIGEST}")),
    "img-004": ("MCP-IMG-004", "imagePullPolicy: IfNotPresent",
                _set(_ctr, imagePullPolicy="IfNotPresent")),
    "res-001": ("MCP-RES-001", "no resource requests", _drop_resources("requests")),
    "res-002": ("MCP-RES-002", "no resource limits", _drop_resources("limits")),
    "res-003": ("MCP-RES-003", "no readinessProbe", _drop(_ctr, "readinessProbe")),
    "res-004": ("MCP-RES-004", "no livenessProbe", _drop(_ctr, "livenessProbe")),
}

# ---- judged by meaning: RBAC subjects and resources, Secrets, digests (issue 9 §4) ----------
# Kept as one block so parallel additions to CASES merge cleanly.

def _sa(docs: list[Doc]) -> tuple[str, str]:
    md = _get(docs, "ServiceAccount")["metadata"]
    return md["namespace"], md["name"]


def _bind_cluster_admin(kind: str, name: Callable[[str, str], str]) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        ns, sa = _sa(docs)
        docs.append({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{sa}-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": kind,
                          "name": name(ns, sa)}],
        })
    return mutate


def _rolebinding_to(role: str) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _get(docs, "RoleBinding")["roleRef"] = {
            "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}
    return mutate


def _aggregated_role(docs: list[Doc]) -> None:
    _, sa = _sa(docs)
    docs.append({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": f"{sa}-aggregated"},
        "aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}]},
        "rules": [],
    })
    _rolebinding_to(f"{sa}-aggregated")(docs)


def _non_resource_urls(docs: list[Doc]) -> None:
    _, sa = _sa(docs)
    docs.append({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": f"{sa}-api-reader"},
        "rules": [{"nonResourceURLs": ["/api/*"], "verbs": ["get"]}],
    })


def _add_object(api: str, kind: str, spec: Doc) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        ns, sa = _sa(docs)
        docs.append({"apiVersion": api, "kind": kind,
                     "metadata": {"name": f"{sa}-db", "namespace": ns}, "spec": spec})
    return mutate


def _sa_token_secret(docs: list[Doc]) -> None:
    ns, sa = _sa(docs)
    docs.append({"apiVersion": "v1", "kind": "Secret",
                 "metadata": {"name": f"{sa}-token", "namespace": ns,
                              "annotations": {"kubernetes.io/service-account.name": sa}},
                 "type": "kubernetes.io/service-account-token"})


def _node_publish_secret(docs: list[Doc]) -> None:
    csi = next(v for v in _pod(docs)["volumes"] if v["name"] == "secrets")["csi"]
    csi["nodePublishSecretRef"] = {"name": "secrets-store-creds"}


def _add_env(name: str, value: str) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _ctr(docs)["env"].append({"name": name, "value": value})
    return mutate


def _args(*args: str) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _ctr(docs)["args"] = list(args)
    return mutate


def _configmap_value(key: str, value: str) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _get(docs, "ConfigMap")["data"][key] = value
    return mutate


MEANING_CASES: dict[str, tuple[str, str, Callable[[list[Doc]], None]]] = {
    "rbac-004-group-sa-namespace": (
        "MCP-RBAC-004", "cluster-admin bound to Group system:serviceaccounts:<ns>",
        _bind_cluster_admin("Group", lambda ns, _: f"system:serviceaccounts:{ns}")),
    "rbac-004-group-all-sas": (
        "MCP-RBAC-004", "cluster-admin bound to Group system:serviceaccounts",
        _bind_cluster_admin("Group", lambda _, __: "system:serviceaccounts")),
    "rbac-004-user-sa": (
        "MCP-RBAC-004", "cluster-admin bound to User system:serviceaccount:<ns>:<name>",
        _bind_cluster_admin("User", lambda ns, sa: f"system:serviceaccount:{ns}:{sa}")),
    "rbac-004-authenticated": (
        "MCP-RBAC-004", "cluster-admin bound to Group system:authenticated",
        _bind_cluster_admin("Group", lambda _, __: "system:authenticated")),
    "rbac-004-unauthenticated": (
        "MCP-RBAC-004", "cluster-admin bound to Group system:unauthenticated",
        _bind_cluster_admin("Group", lambda _, __: "system:unauthenticated")),
    "rbac-004-aggregated": (
        "MCP-RBAC-004", "RoleBinding to an aggregated ClusterRole", _aggregated_role),
    "rbac-006-builtin-edit": (
        "MCP-RBAC-006", "RoleBinding to the built-in ClusterRole edit (not in the input)",
        _rolebinding_to("edit")),
    "rbac-006-any-resource": (
        "MCP-RBAC-006", "Role get on resources ['*'] (secrets included)",
        _add_role_rule({"apiGroups": [""], "resources": ["*"], "resourceNames": ["db"],
                        "verbs": ["get"]})),
    "rbac-005-non-resource-urls": (
        "MCP-RBAC-005", "ClusterRole get on nonResourceURLs /api/*", _non_resource_urls),
    "rbac-007-pods-proxy": ("MCP-RBAC-007", "Role get on pods/proxy", _add_role_rule(
        {"apiGroups": [""], "resources": ["pods/proxy"], "resourceNames": ["db"],
         "verbs": ["get"]})),
    "rbac-007-services-proxy": ("MCP-RBAC-007", "Role get on services/proxy", _add_role_rule(
        {"apiGroups": [""], "resources": ["services/proxy"], "resourceNames": ["db"],
         "verbs": ["get"]})),
    "rbac-007-nodes-proxy": ("MCP-RBAC-007", "Role get on nodes/proxy", _add_role_rule(
        {"apiGroups": [""], "resources": ["nodes/proxy"], "resourceNames": ["node-1"],
         "verbs": ["get"]})),
    "rbac-007-any-proxy": ("MCP-RBAC-007", "Role get on */proxy", _add_role_rule(
        {"apiGroups": [""], "resources": ["*/proxy"], "resourceNames": ["db"],
         "verbs": ["get"]})),
    "rbac-007-ephemeral-containers": (
        "MCP-RBAC-007", "Role patch on pods/ephemeralcontainers", _add_role_rule(
            {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"],
             "resourceNames": ["db"], "verbs": ["patch"]})),
    "rbac-007-attach": ("MCP-RBAC-007", "Role create on pods/attach", _add_role_rule(
        {"apiGroups": [""], "resources": ["pods/attach"], "resourceNames": ["db"],
         "verbs": ["create"]})),
    "rbac-007-portforward": ("MCP-RBAC-007", "Role create on pods/portforward", _add_role_rule(
        {"apiGroups": [""], "resources": ["pods/portforward"], "resourceNames": ["db"],
         "verbs": ["create"]})),
    "rbac-011": ("MCP-RBAC-011", "Role create on serviceaccounts/token", _add_role_rule(
        {"apiGroups": [""], "resources": ["serviceaccounts/token"], "resourceNames": ["db"],
         "verbs": ["create"]})),
    "sec-006": ("MCP-SEC-006", "a kubernetes.io/service-account-token Secret", _sa_token_secret),
    "sec-007-external-secret": (
        "MCP-SEC-007", "an ExternalSecret (external-secrets.io)",
        _add_object("external-secrets.io/v1", "ExternalSecret", {
            "secretStoreRef": {"name": "aws", "kind": "SecretStore"},
            "target": {"name": "db"},
            "data": [{"secretKey": "password", "remoteRef": {"key": "prod/mcp/db"}}]})),
    "sec-007-sealed-secret": (
        "MCP-SEC-007", "a SealedSecret (bitnami.com)",
        _add_object("bitnami.com/v1alpha1", "SealedSecret",
                    {"encryptedData": {"password": "AgBy3i4OJSWK+PiTySYZZA=="}})),
    "sec-007-vault-static-secret": (
        "MCP-SEC-007", "a VaultStaticSecret (secrets.hashicorp.com)",
        _add_object("secrets.hashicorp.com/v1beta1", "VaultStaticSecret", {
            "mount": "kv", "type": "kv-v2", "path": "mcp/db",
            "destination": {"name": "db", "create": True}})),
    "sec-008": ("MCP-SEC-008", "CSI volume with nodePublishSecretRef", _node_publish_secret),
    "sec-003-uri-password": (
        "MCP-SEC-003", "env DATABASE_URL postgres://u:p@h/db (password in the userinfo)",
        _add_env("DATABASE_URL", "postgres://app:hunter2@db.example.com/app")),
    "sec-003-pat": ("MCP-SEC-003", "env GITHUB_PAT with a literal",
                    _add_env("GITHUB_PAT", "v1.0123456789abcdef")),
    "sec-003-pass": ("MCP-SEC-003", "env SMTP_PASS with a literal",
                     _add_env("SMTP_PASS", "correct-horse")),
    "sec-003-pwd": ("MCP-SEC-003", "env MYSQL_PWD with a literal",
                    _add_env("MYSQL_PWD", "correct-horse")),
    "sec-005-uri-password": (
        "MCP-SEC-005", "ConfigMap value redis://:p@h:6379 (password in the userinfo)",
        _configmap_value("CACHE", "redis://:hunter2@cache.example.com:6379/0")),
    "sec-009-token-option": ("MCP-SEC-009", "args --token=<literal>",
                             _args("--token=s3cr3t-value-123")),
    "sec-009-option-two-args": ("MCP-SEC-009", "args --password <literal> as two items",
                                _args("--password", "correct-horse")),
    "sec-009-bearer": ("MCP-SEC-009", "args -H 'Authorization: Bearer <token>'",
                       _args("-H", "Authorization: Bearer 0a1b2c3d4e5f6a7b8c9d")),
    "sec-009-env-assignment": ("MCP-SEC-009", "args -e API_TOKEN=<literal>",
                               _args("-e", "API_TOKEN=s3cr3t-value-123")),
    "img-002-trailing-newline": (
        "MCP-IMG-002", "digest followed by a newline",
        _image(f"registry.example.com/org/mcp-server:1.2.3@{DIGEST}\n")),
    "img-002-uppercase": (
        "MCP-IMG-002", "digest in uppercase hex",
        _image("registry.example.com/org/mcp-server:1.2.3@sha256:" + "A" * 64)),
    "img-002-sha512-short": (
        "MCP-IMG-002", "sha512 digest of 64 hex (too short)",
        _image("registry.example.com/org/mcp-server:1.2.3@sha512:" + "a" * 64)),
}
CASES.update(MEANING_CASES)


# ---- meaning, not spelling (issue 18): each case writes a break another way than the one
# the rule was first written for.

def _limits(**values: Any) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _ctr(docs)["resources"] = {"requests": dict(values), "limits": dict(values)}
    return mutate


def _size_limit(value: Any) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _pod(docs)["volumes"][0]["emptyDir"] = {"sizeLimit": value}
    return mutate


def _image_volume(docs: list[Doc]) -> None:
    # An image volume (KEP-4639): the kubelet pulls this reference like a container's image.
    _pod(docs)["volumes"].append({"name": "model", "image": {
        "reference": "registry.example.com/org/model:1.0", "pullPolicy": "Always"}})
    _ctr(docs)["volumeMounts"].append({"name": "model", "mountPath": "/model",
                                       "readOnly": True})


def _token_by_hand(docs: list[Doc]) -> None:
    # automountServiceAccountToken: false, and a token kept in a Secret mounted where every
    # client library looks for the ServiceAccount token.
    _pod(docs)["volumes"].append({"name": "kube-api-access", "secret": {
        "secretName": "mcp-token"}})
    _ctr(docs)["volumeMounts"].append({"name": "kube-api-access", "readOnly": True,
                                       "mountPath": "/var/run/secrets/kubernetes.io/"
                                                    "serviceaccount"})


def _role_absent(docs: list[Doc]) -> None:
    docs.remove(_get(docs, "Role"))


def _view_object(docs: list[Doc]) -> None:
    # The built-in view ClusterRole as `kubectl get clusterrole view -o yaml` shows it before
    # the aggregation controller fills its rules.
    docs.append({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "view", "labels": {
            "kubernetes.io/bootstrapping": "rbac-defaults",
            "rbac.authorization.k8s.io/aggregate-to-edit": "true"}},
        "aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]},
        "rules": [],
    })
    _rolebinding_to("view")(docs)


def _flux_kustomization(docs: list[Doc]) -> None:
    ns, sa = _sa(docs)
    docs.append({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": f"{sa}-apps", "namespace": ns},
        "spec": {"interval": "10m", "path": "./apps", "prune": True,
                 "sourceRef": {"kind": "GitRepository", "name": "apps"},
                 "images": [{"name": "registry.example.com/org/mcp-server",
                             "newTag": "latest"}],
                 "patches": [{"target": {"kind": "Deployment"}, "patch": (
                     "- op: add\n  path: /spec/template/spec/containers/0/securityContext/"
                     "privileged\n  value: true\n")}]},
    })


def _spark_application(docs: list[Doc]) -> None:
    # Kubeflow Spark operator: the operator builds the driver and executor pods from
    # container-like fields; there is no containers list to find.
    ns, sa = _sa(docs)
    docs.append({
        "apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
        "metadata": {"name": f"{sa}-spark", "namespace": ns},
        "spec": {"type": "Scala", "mode": "cluster", "sparkVersion": "3.5.0",
                 "image": f"registry.example.com/org/spark:3.5.0@{DIGEST}",
                 "mainApplicationFile": "local:///opt/spark/examples/jars/examples.jar",
                 "driver": {"cores": 1, "memory": "512m", "serviceAccount": sa,
                            "securityContext": {"privileged": True}},
                 "executor": {"instances": 2, "cores": 1, "memory": "512m"}},
    })


# Each flagged with its rule and nothing else (test_policy_rules).
SPELLING_CASES: dict[str, tuple[str, str, Callable[[list[Doc]], None]]] = {
    "res-002-zero-strings": ("MCP-RES-002", "limits cpu \"0\" and memory 0Mi (zero: no "
                             "limit)", _limits(cpu="0", memory="0Mi")),
    "res-002-zero-float": ("MCP-RES-002", "limits cpu \"0.0\" and memory 0Ki",
                           _limits(cpu="0.0", memory="0Ki")),
    "pss-019-zero": ("MCP-PSS-019", "emptyDir sizeLimit \"0\" (no limit)", _size_limit("0")),
    "img-001-image-volume": ("MCP-IMG-001", "image volume reference without a digest",
                             _image_volume),
    "rbac-002-token-path": ("MCP-RBAC-002", "automount off, a Secret volume mounted at "
                            "/var/run/secrets/kubernetes.io/serviceaccount", _token_by_hand),
    "rbac-004-role-absent": ("MCP-RBAC-004", "RoleBinding to a Role not in the input",
                             _role_absent),
    "rbac-010-view": ("MCP-RBAC-010", "RoleBinding to the built-in ClusterRole view",
                      _rolebinding_to("view")),
    "rbac-010-view-object": ("MCP-RBAC-010", "RoleBinding to view, with the aggregated view "
                             "ClusterRole in the input", _view_object),
    "sec-007-certificate": (
        "MCP-SEC-007", "a cert-manager Certificate (spec.secretName)",
        _add_object("cert-manager.io/v1", "Certificate", {
            "secretName": "server-tls", "dnsNames": ["mcp.example.com"],
            "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}})),
    "sec-007-akv2k8s": (
        "MCP-SEC-007", "an akv2k8s AzureKeyVaultSecret (spec.output.secret.name)",
        _add_object("spv.no/v2beta1", "AzureKeyVaultSecret", {
            "vault": {"name": "mcp-vault", "object": {"name": "db-password",
                                                      "type": "secret"}},
            "output": {"secret": {"name": "db", "dataKey": "password"}}})),
    "sec-007-crossplane": (
        "MCP-SEC-007", "a Crossplane claim with spec.writeConnectionSecretToRef",
        _add_object("database.example.org/v1alpha1", "PostgreSQLInstance", {
            "parameters": {"storageGB": 20},
            "writeConnectionSecretToRef": {"name": "db-conn"}})),
    "pss-024-flux-kustomization": (
        "MCP-PSS-024", "a Flux Kustomization that patches the workloads it applies",
        _flux_kustomization),
    "pss-024-spark": ("MCP-PSS-024", "a SparkApplication (driver/executor, no containers "
                      "list)", _spark_application),
}
CASES.update(SPELLING_CASES)
# ---- network and pod-security: equivalent forms and the rules of the safety issue ----------
# (kept as one block so that other additions to CASES merge without conflicts)

def _ingress_from(peer: Doc) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _allow(docs)["spec"]["ingress"][0]["from"] = [peer]
    return mutate


def _ingress_ports(ports: list[Doc]) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _allow(docs)["spec"]["ingress"][0]["ports"] = ports
    return mutate


def _internet_block(docs: list[Doc]) -> Doc:
    block: Doc = _allow(docs)["spec"]["egress"][3]["to"][0]["ipBlock"]
    return block


def _two_halves(docs: list[Doc]) -> None:
    # "Everyone" as two /1 blocks, the private ranges not excepted.
    _allow(docs)["spec"]["egress"][2]["to"] = [{"ipBlock": {"cidr": "0.0.0.0/1"}},
                                               {"ipBlock": {"cidr": "128.0.0.0/1"}}]


def _halves_in_two_policies(docs: list[Doc]) -> None:
    # 10.0.0.0/8 split over two policies that both select the pod: allow rules add up.
    allow = _allow(docs)
    allow["spec"]["egress"][2]["to"] = [{"ipBlock": {"cidr": "10.0.0.0/9"}}]
    other = copy.deepcopy(allow)
    other["metadata"]["name"] = allow["metadata"]["name"] + "-more"
    other["spec"]["policyTypes"] = ["Egress"]
    del other["spec"]["ingress"]
    other["spec"]["egress"] = [{"to": [{"ipBlock": {"cidr": "10.128.0.0/9"}}],
                                "ports": [{"protocol": "TCP", "port": 443}]}]
    docs.insert(docs.index(allow) + 1, other)


def _except_only_imds(docs: list[Doc]) -> None:
    # Excepting the IMDS address alone leaves the ECS/EKS credential agents (169.254.170.x).
    block = _internet_block(docs)
    block["except"] = ["169.254.169.254/32" if e == "169.254.0.0/16" else e
                       for e in block["except"]]


def _wireserver_reachable(docs: list[Doc]) -> None:
    block = _internet_block(docs)
    block["except"] = [e for e in block["except"] if e != "168.63.129.16/32"]


def _dns_every_namespace(docs: list[Doc]) -> None:
    _allow(docs)["spec"]["egress"][0]["to"][0]["namespaceSelector"] = {}


def _egress_protocol_only(docs: list[Doc]) -> None:
    _allow(docs)["spec"]["egress"][3]["ports"] = [{"protocol": "TCP"}]


def _long_token(docs: list[Doc]) -> None:
    source = _pod(docs)["volumes"][2]["projected"]["sources"][0]
    source["serviceAccountToken"]["expirationSeconds"] = 86400


def _in_namespace(namespace: str) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        old = _get(docs, "Namespace")["metadata"]["name"]
        for doc in docs:
            md = doc["metadata"]
            if doc["kind"] == "Namespace":
                md["name"] = namespace
            elif md.get("namespace") == old:
                md["namespace"] = namespace
            for subject in doc.get("subjects", []):
                if subject.get("namespace") == old:
                    subject["namespace"] = namespace
    return mutate


def _as_rollout(docs: list[Doc]) -> None:
    # An Argo Rollout carries the same pod template as a Deployment: judged by its shape.
    rollout = _get(docs, "Deployment")
    rollout.update(apiVersion="argoproj.io/v1alpha1", kind="Rollout")
    rollout["spec"]["strategy"] = {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}
    rollout["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True


def _workflow(docs: list[Doc]) -> None:
    # An Argo Workflow runs a container that is not inside a pod spec the rules can judge.
    md = _get(docs, "ServiceAccount")["metadata"]
    docs.append({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": f"{md['name']}-job", "namespace": md["namespace"]},
        "spec": {"entrypoint": "main", "serviceAccountName": md["name"],
                 "templates": [{"name": "main", "container": {
                     "image": f"registry.example.com/org/job:1.0@{DIGEST}",
                     "command": ["/job"]}}]},
    })


CASES.update({
    "net-003-exists": ("MCP-NET-003", "ingress namespaceSelector Exists on "
                       "kubernetes.io/metadata.name (every namespace)",
                       _ingress_from({"namespaceSelector": {"matchExpressions": [
                           {"key": "kubernetes.io/metadata.name", "operator": "Exists"}]}})),
    "net-003-notin": ("MCP-NET-003", "ingress namespaceSelector NotIn a few namespaces",
                      _ingress_from({"namespaceSelector": {"matchExpressions": [
                          {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                           "values": ["kube-system", "default"]}]}})),
    "net-004-halves": ("MCP-NET-004", "egress to 0.0.0.0/1 and 128.0.0.0/1 (everyone)",
                       _two_halves),
    "net-004-policies": ("MCP-NET-004", "10.0.0.0/9 and 10.128.0.0/9 in two policies "
                         "selecting the pod", _halves_in_two_policies),
    "net-005-ecs": ("MCP-NET-005", "0.0.0.0/0 excepting 169.254.169.254/32 only "
                    "(169.254.170.2/.23 reachable)", _except_only_imds),
    "net-005-wireserver": ("MCP-NET-005", "0.0.0.0/0 without the 168.63.129.16 except",
                           _wireserver_reachable),
    "net-006-protocol": ("MCP-NET-006", "ingress port entry with a protocol and no port",
                         _ingress_ports([{"protocol": "TCP"}])),
    "net-006-endport": ("MCP-NET-006", "ingress ports 1-32767 and 32768-65535 (endPort)",
                        _ingress_ports([{"protocol": "TCP", "port": 1, "endPort": 32767},
                                        {"protocol": "TCP", "port": 32768,
                                         "endPort": 65535}])),
    "net-007": ("MCP-NET-007", "DNS egress to k8s-app=kube-dns pods in every namespace",
                _dns_every_namespace),
    "net-008": ("MCP-NET-008", "egress port entry with a protocol and no port",
                _egress_protocol_only),
    "pss-021": ("MCP-PSS-021", "projected token expirationSeconds 86400", _long_token),
    "pss-022": ("MCP-PSS-022", "fsGroup: 0", _set_pod_sc(fsGroup=0)),
    "pss-022-float": ("MCP-PSS-022", "supplementalGroups [0.0] (read as 0)",
                      _set_pod_sc(supplementalGroups=[0.0])),
    "pss-023": ("MCP-PSS-023", "every object in namespace default", _in_namespace("default")),
    "pss-002-rollout": ("MCP-PSS-002", "privileged container in an Argo Rollout",
                        _as_rollout),
    "pss-024": ("MCP-PSS-024", "Argo Workflow with a container outside a pod spec",
                _workflow),
})

# ---- Cilium and GKE egress policies (issue 13): each case adds one policy that selects the
# server with the DNS rule `new` emits and one rule as open as 0.0.0.0/0 (kept as one block).

def _host_policy(kind: str, rule: Doc) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        md = _get(docs, "Deployment")["metadata"]
        selector = {"app.kubernetes.io/name": md["name"]}
        if kind == "FQDNNetworkPolicy":
            doc: Doc = {"apiVersion": "networking.gke.io/v1alpha1", "kind": kind,
                        "spec": {"podSelector": {"matchLabels": selector}, "egress": [rule]}}
        else:
            dns = {"toEndpoints": [{"matchLabels": {
                       "k8s:io.kubernetes.pod.namespace": "kube-system",
                       "k8s:k8s-app": "kube-dns"}}],
                   "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"},
                                          {"port": "53", "protocol": "TCP"}],
                                "rules": {"dns": [{"matchPattern": "*"}]}}]}
            doc = {"apiVersion": "cilium.io/v2", "kind": kind,
                   "spec": {"endpointSelector": {"matchLabels": {
                       f"k8s:{k}": v for k, v in selector.items()}}, "egress": [dns, rule]}}
        doc["metadata"] = {"name": f"{md['name']}-fqdn", "namespace": md["namespace"]}
        docs.append(doc)
    return mutate


_HTTPS = [{"ports": [{"port": "443", "protocol": "TCP"}]}]

CASES.update({
    "net-004-fqdn-any": ("MCP-NET-004", "CiliumNetworkPolicy toFQDNs matchPattern \"*\"",
                         _host_policy("CiliumNetworkPolicy", {
                             "toFQDNs": [{"matchPattern": "*"}], "toPorts": _HTTPS})),
    "net-004-world": ("MCP-NET-004", "CiliumNetworkPolicy toEntities [world]",
                      _host_policy("CiliumNetworkPolicy", {
                          "toEntities": ["world"], "toPorts": _HTTPS})),
    "net-004-tocidr": ("MCP-NET-004", "CiliumNetworkPolicy toCIDR 0.0.0.0/0",
                       _host_policy("CiliumNetworkPolicy", {
                           "toCIDR": ["0.0.0.0/0"], "toPorts": _HTTPS})),
    "net-004-toports": ("MCP-NET-004", "CiliumNetworkPolicy egress rule with toPorts only",
                        _host_policy("CiliumNetworkPolicy", {"toPorts": _HTTPS})),
    "net-004-gke-any": ("MCP-NET-004", "FQDNNetworkPolicy matches pattern \"*\"",
                        _host_policy("FQDNNetworkPolicy", {
                            "matches": [{"pattern": "*"}],
                            "ports": [{"protocol": "TCP", "port": 443}]})),
    "net-005-tocidr": ("MCP-NET-005", "CiliumNetworkPolicy toCIDRSet 169.254.0.0/16 except "
                       "169.254.169.254/32 (credential agents reachable)",
                       _host_policy("CiliumNetworkPolicy", {
                           "toCIDRSet": [{"cidr": "169.254.0.0/16",
                                          "except": ["169.254.169.254/32"]}],
                           "toPorts": _HTTPS})),
    "net-005-host": ("MCP-NET-005", "CiliumNetworkPolicy toEntities [host] (the node, "
                     "which answers for metadata proxies)",
                     _host_policy("CiliumNetworkPolicy", {
                         "toEntities": ["host"], "toPorts": _HTTPS})),
    "net-005-internal": ("MCP-NET-005", "CiliumNetworkPolicy toFQDNs "
                         "metadata.google.internal",
                         _host_policy("CiliumNetworkPolicy", {
                             "toFQDNs": [{"matchName": "metadata.google.internal"}],
                             "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]})),
})

# ---- the network model (issue 18): kind identity, kubectl apply's last-wins, kinds the
# model cannot judge (kept as one block so parallel additions to CASES merge cleanly).

def _redefine_egress_away(docs: list[Doc]) -> None:
    """Apply both policies again, later in the stream, with policyTypes [Ingress] only:
    kubectl apply replaces each, so nothing isolates the server for egress any more."""
    for doc in [d for d in docs if d.get("kind") == "NetworkPolicy"]:
        again = copy.deepcopy(doc)
        again["spec"]["policyTypes"] = ["Ingress"]
        again["spec"].pop("egress", None)
        docs.append(again)


def _foreign_policy(api_version: str, kind: str, spec: Doc,
                    namespaced: bool = True) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        md = _get(docs, "Deployment")["metadata"]
        meta: Doc = {"name": f"{md['name']}-{kind.lower()}"}
        if namespaced:
            meta["namespace"] = md["namespace"]
        docs.append({"apiVersion": api_version, "kind": kind, "metadata": meta,
                     "spec": spec})
    return mutate


CASES.update({
    "net-002-reapplied": ("MCP-NET-002", "both NetworkPolicies applied again later with "
                          "policyTypes [Ingress] (kubectl apply: the last one wins)",
                          _redefine_egress_away),
    "net-009-calico": ("MCP-NET-009", "a Calico projectcalico.org/v3 NetworkPolicy (same "
                       "kind name, another API)",
                       _foreign_policy("projectcalico.org/v3", "NetworkPolicy", {
                           "selector": "app == 'other'", "types": ["Ingress", "Egress"]})),
    "net-009-calico-global": ("MCP-NET-009", "a Calico GlobalNetworkPolicy allowing all "
                              "egress",
                              _foreign_policy("projectcalico.org/v3", "GlobalNetworkPolicy", {
                                  "selector": "all()", "types": ["Egress"],
                                  "egress": [{"action": "Allow"}]}, namespaced=False)),
    "net-009-antrea": ("MCP-NET-009", "an Antrea crd.antrea.io ClusterNetworkPolicy",
                       _foreign_policy("crd.antrea.io/v1beta1", "ClusterNetworkPolicy", {
                           "priority": 1, "appliedTo": [{"podSelector": {}}],
                           "egress": [{"action": "Allow"}]}, namespaced=False)),
    "net-009-anp": ("MCP-NET-009", "an AdminNetworkPolicy allowing egress to 0.0.0.0/0",
                    _foreign_policy("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy", {
                        "priority": 10, "subject": {"namespaces": {}},
                        "egress": [{"name": "all", "action": "Allow",
                                    "to": [{"networks": ["0.0.0.0/0"]}]}]},
                        namespaced=False)),
})

# ---- the network model's questions (issue 18): unions, bogons, Cilium both ways,
# metadata hosts (kept as one block so parallel additions to CASES merge cleanly).

def _allow_rules(direction: str, index: int, **fields: Any) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _allow(docs)["spec"][direction][index].update(copy.deepcopy(fields))
    return mutate


def _ports_in_two_rules(docs: list[Doc]) -> None:
    ingress = _allow(docs)["spec"]["ingress"]
    ingress[0]["ports"] = [{"protocol": "TCP", "port": 1, "endPort": 40000}]
    ingress.append({**copy.deepcopy(ingress[0]),
                    "ports": [{"protocol": "TCP", "port": 40001, "endPort": 65535}]})


def _ports_in_two_policies(docs: list[Doc]) -> None:
    allow = _allow(docs)
    allow["spec"]["egress"][2]["ports"] = [{"protocol": "TCP", "port": 1, "endPort": 32767}]
    second = copy.deepcopy(allow)
    second["metadata"]["name"] += "-more"
    second["spec"]["ingress"] = []
    second["spec"]["egress"] = [{**copy.deepcopy(allow["spec"]["egress"][2]),
                                 "ports": [{"protocol": "TCP", "port": 32768,
                                            "endPort": 65535}]}]
    docs.append(second)


_NOT_THE_INTERNET = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                     "127.0.0.0/8", "169.254.0.0/16", "168.63.129.16/32", "240.0.0.0/4",
                     "224.0.0.0/4"]


def _cilium_ingress(rule: Doc) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        md = _get(docs, "Deployment")["metadata"]
        docs.append({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
                     "metadata": {"name": f"{md['name']}-ingress",
                                  "namespace": md["namespace"]},
                     "spec": {"endpointSelector": {"matchLabels": {
                         "k8s:app.kubernetes.io/name": md["name"]}},
                         "ingress": [{**rule, "toPorts": [{"ports": [
                             {"port": "8080", "protocol": "TCP"}]}]}]}})
    return mutate


def _cidr_group(cidrs: list[str]) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        name = _get(docs, "Deployment")["metadata"]["name"]
        docs.append({"apiVersion": "cilium.io/v2alpha1", "kind": "CiliumCIDRGroup",
                     "metadata": {"name": f"{name}-egress"}, "spec": {"externalCIDRs": cidrs}})
        _host_policy("CiliumNetworkPolicy", {
            "toCIDRSet": [{"cidrGroupRef": f"{name}-egress"}], "toPorts": _HTTPS})(docs)
    return mutate


def _service_to_metadata(docs: list[Doc]) -> None:
    md = _get(docs, "Deployment")["metadata"]
    ns, name = md["namespace"], f"{md['name']}-meta"
    docs.append({"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": name, "namespace": ns}, "spec": {"ports": [{"port": 80}]}})
    docs.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                 "metadata": {"name": f"{name}-1", "namespace": ns,
                              "labels": {"kubernetes.io/service-name": name}},
                 "addressType": "IPv4", "endpoints": [{"addresses": ["169.254.169.254"]}],
                 "ports": [{"port": 80}]})
    _host_policy("CiliumNetworkPolicy", {
        "toServices": [{"k8sService": {"serviceName": name, "namespace": ns}}],
        "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]})(docs)


def _egress_host(cidr: str, port: int) -> Callable[[list[Doc]], None]:
    def mutate(docs: list[Doc]) -> None:
        _allow(docs)["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": cidr}}],
                                               "ports": [{"protocol": "TCP", "port": port}]})
    return mutate


CASES.update({
    "net-006-two-rules": ("MCP-NET-006", "ingress ports 1-40000 and 40001-65535 in two rules",
                          _ports_in_two_rules),
    "net-008-two-policies": ("MCP-NET-008", "egress ports 1-32767 and 32768-65535 in two "
                             "policies selecting the server", _ports_in_two_policies),
    "net-003-bogons": ("MCP-NET-003", "ingress from 0.0.0.0/0 less private, metadata, "
                       "multicast and 240.0.0.0/4",
                       _allow_rules("ingress", 0, **{"from": [{"ipBlock": {
                           "cidr": "0.0.0.0/0", "except": _NOT_THE_INTERNET}}]})),
    "net-003-cilium-world": ("MCP-NET-003", "CiliumNetworkPolicy ingress fromEntities [world]",
                             _cilium_ingress({"fromEntities": ["world"]})),
    "net-003-cilium-reserved": ("MCP-NET-003", "CiliumNetworkPolicy ingress fromEndpoints "
                                "reserved:world", _cilium_ingress(
                                    {"fromEndpoints": [{"matchLabels": {"reserved:world": ""}}]})),
    "net-004-fqdn-tld": ("MCP-NET-004", "CiliumNetworkPolicy toFQDNs matchPattern \"*.com\"",
                         _host_policy("CiliumNetworkPolicy", {
                             "toFQDNs": [{"matchPattern": "*.com"}], "toPorts": _HTTPS})),
    "net-004-fqdn-io": ("MCP-NET-004", "CiliumNetworkPolicy toFQDNs matchPattern \"**.io\"",
                        _host_policy("CiliumNetworkPolicy", {
                            "toFQDNs": [{"matchPattern": "**.io"}], "toPorts": _HTTPS})),
    "net-004-gke-tld": ("MCP-NET-004", "FQDNNetworkPolicy matches pattern \"*.com\"",
                        _host_policy("FQDNNetworkPolicy", {
                            "matches": [{"pattern": "*.com"}],
                            "ports": [{"protocol": "TCP", "port": 443}]})),
    "net-004-cidr-group": ("MCP-NET-004", "CiliumNetworkPolicy cidrGroupRef to a "
                           "CiliumCIDRGroup of 10.0.0.0/8", _cidr_group(["10.0.0.0/8"])),
    "net-005-cidr-group": ("MCP-NET-005", "CiliumNetworkPolicy cidrGroupRef to a "
                           "CiliumCIDRGroup holding 169.254.169.254",
                           _cidr_group(["169.254.169.254/32"])),
    "net-009-cidr-group-absent": ("MCP-NET-009", "CiliumNetworkPolicy cidrGroupRef to a "
                                  "CiliumCIDRGroup not in the input",
                                  _host_policy("CiliumNetworkPolicy", {
                                      "toCIDRSet": [{"cidrGroupRef": "elsewhere"}],
                                      "toPorts": _HTTPS})),
    "net-005-fqdn-wildcard-tld": ("MCP-NET-005", "CiliumNetworkPolicy toFQDNs matchPattern "
                                  "\"metadata.google.*\"",
                                  _host_policy("CiliumNetworkPolicy", {
                                      "toFQDNs": [{"matchPattern": "metadata.google.*"}],
                                      "toPorts": _HTTPS})),
    "net-005-reserved-host": ("MCP-NET-005", "CiliumNetworkPolicy toEndpoints reserved:host",
                              _host_policy("CiliumNetworkPolicy", {
                                  "toEndpoints": [{"matchLabels": {"reserved:host": ""}}],
                                  "toPorts": _HTTPS})),
    "net-005-to-nodes": ("MCP-NET-005", "CiliumNetworkPolicy toNodes",
                         _host_policy("CiliumNetworkPolicy", {
                             "toNodes": [{"matchLabels": {"kubernetes.io/os": "linux"}}],
                             "toPorts": _HTTPS})),
    "net-005-to-services": ("MCP-NET-005", "CiliumNetworkPolicy toServices to a selector-less "
                            "Service whose EndpointSlice is 169.254.169.254",
                            _service_to_metadata),
    "net-005-gke-metadata": ("MCP-NET-005", "egress to 169.254.169.252/32 TCP 988 (GKE "
                             "metadata server)", _egress_host("169.254.169.252/32", 988)),
    "net-005-alibaba": ("MCP-NET-005", "egress to 100.100.100.200/32 (Alibaba Cloud "
                        "metadata)", _egress_host("100.100.100.200/32", 80)),
    "net-005-tencent": ("MCP-NET-005", "egress to 169.254.0.23/32 (Tencent Cloud metadata)",
                        _egress_host("169.254.0.23/32", 80)),
})

HARDENED = "hardened"


def build(case: str) -> list[Doc]:
    """The documents of one corpus case (or of the hardened bundle)."""
    docs = hardened(f"mcp-{case}")
    if case != HARDENED:
        CASES[case][2](docs)
    return docs


def render(case: str) -> str:
    """The YAML text of one case as stored in the corpus."""
    if case == HARDENED:
        head = "# The hardened reference bundle: every rule passes.\n"
    else:
        rule, what, _ = CASES[case]
        head = f"# Breaks exactly {rule}: {what}.\n"
    return head + "---\n".join(dump(d) for d in build(case))


def all_cases() -> list[str]:
    """The hardened bundle first, then every rule case."""
    return [HARDENED, *CASES]


def write_corpus() -> None:
    """(Re)write tests/policy/corpus/<case>/manifests.yaml for every case."""
    for case in all_cases():
        target = CORPUS / case / "manifests.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(case), encoding="utf-8")


if __name__ == "__main__":
    write_corpus()
