"""RBAC and service-account tokens: a compromised pod must not hold a usable token with more
than read access to the few named objects it needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .model import Context, Doc, Hit, Rule, as_dict, as_list, hit, namespace_of

P = "rbac"
DEFAULT_SA = Rule(
    "MCP-RBAC-001", P, "medium", "Pod runs as the default ServiceAccount",
    "Create a dedicated ServiceAccount and set spec.serviceAccountName to it.",
)
POD_AUTOMOUNT = Rule(
    "MCP-RBAC-002", P, "high", "Pod automounts its ServiceAccount token",
    "Set automountServiceAccountToken: false on the pod spec; if the server must call the "
    "API, mount a short-lived projected serviceAccountToken volume instead.",
)
SA_AUTOMOUNT = Rule(
    "MCP-RBAC-003", P, "medium", "ServiceAccount automounts its token",
    "Set automountServiceAccountToken: false on the ServiceAccount.",
)
CLUSTER_BINDING = Rule(
    "MCP-RBAC-004", P, "high", "Cluster-wide role bound to a workload ServiceAccount",
    "Bind only a namespaced Role (never a ClusterRole) with a RoleBinding in the server's "
    "namespace.",
)
WILDCARD = Rule(
    "MCP-RBAC-005", P, "high", "Role rule uses a wildcard",
    "List explicit apiGroups, resources and verbs; never '*'.",
)
SECRETS = Rule(
    "MCP-RBAC-006", P, "high", "Role grants access to Secrets",
    "Remove secrets from the Role; mount secrets as files through the Secrets Store CSI "
    "driver.",
)
POD_SUBRESOURCES = Rule(
    "MCP-RBAC-007", P, "high", "Role grants pods/exec, attach, portforward or nodes/proxy",
    "Remove pods/exec, pods/attach, pods/portforward and nodes/proxy from the Role.",
)
WRITE_VERBS = Rule(
    "MCP-RBAC-008", P, "high", "Role grants write verbs",
    "Keep only get and watch; remove create, update, patch, delete and deletecollection.",
)
ESCALATION_VERBS = Rule(
    "MCP-RBAC-009", P, "high", "Role grants bind, escalate or impersonate",
    "Remove the bind, escalate and impersonate verbs.",
)
UNNAMED_READ = Rule(
    "MCP-RBAC-010", P, "medium", "Role reads objects without resourceNames",
    "Add resourceNames listing the exact objects (e.g. the ConfigMaps the server reads) and "
    "keep the verbs to get/watch.",
)

RULES = (
    DEFAULT_SA, POD_AUTOMOUNT, SA_AUTOMOUNT, CLUSTER_BINDING, WILDCARD, SECRETS,
    POD_SUBRESOURCES, WRITE_VERBS, ESCALATION_VERBS, UNNAMED_READ,
)

_WRITE = ("create", "update", "patch", "delete", "deletecollection")
_ESCALATE = ("bind", "escalate", "impersonate")
_READ = ("get", "list", "watch")
_SUBRESOURCES = ("pods/exec", "pods/attach", "pods/portforward", "nodes/proxy")


def check(ctx: Context) -> Iterator[Hit]:
    """All RBAC findings for the documents in ``ctx``."""
    for w in ctx.workloads:
        if w.service_account == "default":
            yield hit(DEFAULT_SA, w.doc, f"{w.spec_path}.serviceAccountName",
                      f"{w.kind} {w.name} runs as the default ServiceAccount")
        if w.spec.get("automountServiceAccountToken") is not False:
            yield hit(POD_AUTOMOUNT, w.doc, f"{w.spec_path}.automountServiceAccountToken",
                      f"{w.kind} {w.name} does not set automountServiceAccountToken: false, "
                      "so a token is mounted at /var/run/secrets/kubernetes.io/serviceaccount")
    for doc in ctx.of_kind("ServiceAccount"):
        if doc.get("automountServiceAccountToken") is not False:
            name = as_dict(doc.get("metadata")).get("name")
            yield hit(SA_AUTOMOUNT, doc, "automountServiceAccountToken",
                      f"ServiceAccount {name} does not set automountServiceAccountToken: false")
    yield from _bindings(ctx)
    for doc in ctx.of_kind("Role", "ClusterRole"):
        yield from _role(doc)


def _workload_accounts(ctx: Context) -> set[tuple[str, str]]:
    # The accounts the workloads in the input run as, plus every ServiceAccount defined there:
    # checking a base without its Deployment must still catch a cluster-admin binding.
    accounts = {(w.namespace, w.service_account) for w in ctx.workloads}
    for doc in ctx.of_kind("ServiceAccount"):
        name = as_dict(doc.get("metadata")).get("name")
        if isinstance(name, str):
            accounts.add((namespace_of(doc), name))
    return accounts


def _bindings(ctx: Context) -> Iterator[Hit]:
    accounts = _workload_accounts(ctx)
    for doc in ctx.of_kind("ClusterRoleBinding", "RoleBinding"):
        ref = as_dict(doc.get("roleRef"))
        if doc.get("kind") == "RoleBinding" and ref.get("kind") != "ClusterRole":
            continue
        for index, subject in enumerate(as_list(doc.get("subjects"))):
            s = as_dict(subject)
            if s.get("kind") != "ServiceAccount":
                continue
            ns = s.get("namespace") or namespace_of(doc)
            if (ns, s.get("name")) in accounts or s.get("name") == "default":
                yield hit(CLUSTER_BINDING, doc, f"subjects[{index}]",
                          f"{doc.get('kind')} {as_dict(doc.get('metadata')).get('name')} "
                          f"grants ClusterRole {ref.get('name')!r} to ServiceAccount "
                          f"{ns}/{s.get('name')}")


def _strings(value: Any) -> list[str]:
    return [str(v).lower() for v in as_list(value)]


def _role(doc: Doc) -> Iterator[Hit]:
    who = f"{doc.get('kind')} {as_dict(doc.get('metadata')).get('name')}"
    for index, item in enumerate(as_list(doc.get("rules"))):
        rule = as_dict(item)
        path = f"rules[{index}]"
        groups, resources = _strings(rule.get("apiGroups")), _strings(rule.get("resources"))
        verbs = _strings(rule.get("verbs"))
        wild = [f"{k}" for k, vals in (("apiGroups", groups), ("resources", resources),
                                       ("verbs", verbs)) if any("*" in v for v in vals)]
        if wild:
            yield hit(WILDCARD, doc, path, f"{who} rule {index} uses '*' in {', '.join(wild)}")
        if "secrets" in resources and verbs:
            yield hit(SECRETS, doc, path,
                      f"{who} rule {index} grants {', '.join(verbs)} on secrets")
        subs = [r for r in resources if r in _SUBRESOURCES]
        if subs:
            yield hit(POD_SUBRESOURCES, doc, path,
                      f"{who} rule {index} grants {', '.join(verbs)} on {', '.join(subs)}")
        writes = [v for v in verbs if v in _WRITE]
        if writes:
            yield hit(WRITE_VERBS, doc, path,
                      f"{who} rule {index} grants {', '.join(writes)} on "
                      f"{', '.join(resources) or 'nothing'}")
        esc = [v for v in verbs if v in _ESCALATE]
        if esc:
            yield hit(ESCALATION_VERBS, doc, path, f"{who} rule {index} grants {', '.join(esc)}")
        reads = [v for v in verbs if v in _READ]
        if reads and resources and not as_list(rule.get("resourceNames")):
            yield hit(UNNAMED_READ, doc, path,
                      f"{who} rule {index} grants {', '.join(reads)} on "
                      f"{', '.join(resources)} without resourceNames")
