"""RBAC and service-account tokens: a compromised pod must not hold a usable token with more
than read access to the few named objects it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .model import Context, Doc, Hit, Rule, as_dict, as_list, hit, name_of, namespace_of

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
    "List explicit apiGroups, resources, verbs and nonResourceURLs; never '*'.",
)
SECRETS = Rule(
    "MCP-RBAC-006", P, "high", "Role grants access to Secrets",
    "Remove secrets from the Role; mount secrets as files through the Secrets Store CSI "
    "driver.",
)
POD_SUBRESOURCES = Rule(
    "MCP-RBAC-007", P, "high",
    "Role grants pods/exec, attach, portforward, ephemeralcontainers or a proxy subresource",
    "Remove pods/exec, pods/attach, pods/portforward, pods/ephemeralcontainers and the "
    "pods/proxy, services/proxy and nodes/proxy subresources from the Role.",
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

TOKEN_REQUEST = Rule(
    "MCP-RBAC-011", P, "high", "Role can mint ServiceAccount tokens (serviceaccounts/token)",
    "Remove create on serviceaccounts/token: it issues tokens for every ServiceAccount in "
    "the namespace; mount a projected serviceAccountToken volume instead.",
)

RULES = (
    DEFAULT_SA, POD_AUTOMOUNT, SA_AUTOMOUNT, CLUSTER_BINDING, WILDCARD, SECRETS,
    POD_SUBRESOURCES, WRITE_VERBS, ESCALATION_VERBS, UNNAMED_READ, TOKEN_REQUEST,
)

_READ = ("get", "list", "watch")
_WRITE = ("create", "update", "patch", "delete", "deletecollection")
_ESCALATE = ("bind", "escalate", "impersonate")
# Core-group subresources that run code in a pod, attach to it, or reach pods, Services and
# the kubelet through the API server's proxy (bypassing NetworkPolicy).
_SUBRESOURCES = ("pods/exec", "pods/attach", "pods/portforward", "pods/ephemeralcontainers",
                 "pods/proxy", "services/proxy", "nodes/proxy")

# The built-in ClusterRoles a RoleBinding may name without the input defining them, as the
# bootstrap policy writes them (kubernetes/kubernetes plugin/pkg/auth/authorizer/rbac/
# bootstrappolicy/policy.go: cluster-admin; admin, edit and view aggregated from
# system:aggregate-to-*), reduced to what the rules below look at.
_VIEW: list[dict[str, Any]] = [
    {"apiGroups": [""], "verbs": list(_READ),
     "resources": ["pods", "pods/log", "pods/status", "configmaps", "endpoints", "events",
                   "persistentvolumeclaims", "replicationcontrollers", "serviceaccounts",
                   "services", "namespaces", "limitranges", "resourcequotas"]},
    {"apiGroups": ["apps", "batch", "autoscaling", "networking.k8s.io", "policy"],
     "verbs": list(_READ),
     "resources": ["deployments", "replicasets", "statefulsets", "daemonsets", "jobs",
                   "cronjobs", "horizontalpodautoscalers", "ingresses", "networkpolicies",
                   "poddisruptionbudgets"]},
]
_EDIT: list[dict[str, Any]] = [
    {"apiGroups": [""], "verbs": list(_READ),
     "resources": ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets",
                   "services/proxy"]},
    {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]},
    {"apiGroups": [""], "verbs": list(_WRITE),
     "resources": ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward",
                   "replicationcontrollers", "serviceaccounts", "services", "services/proxy",
                   "endpoints", "persistentvolumeclaims", "configmaps", "secrets"]},
    *_VIEW,
]
BUILTIN_CLUSTER_ROLES: dict[str, list[dict[str, Any]]] = {
    "cluster-admin": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                      {"nonResourceURLs": ["*"], "verbs": ["*"]}],
    "admin": [*_EDIT, {"apiGroups": ["rbac.authorization.k8s.io"],
                       "resources": ["roles", "rolebindings"],
                       "verbs": [*_READ, *_WRITE]}],
    "edit": _EDIT,
    "view": _VIEW,
}

# Groups every ServiceAccount belongs to (and the anonymous group, whose grants any pod that
# can reach the API server uses without a token); see the Kubernetes RBAC docs, "Referring to
# subjects" and "Default roles and role bindings".
_ALL_ACCOUNTS_GROUPS = ("system:serviceaccounts", "system:authenticated",
                        "system:unauthenticated")
_ALL_ACCOUNTS_USERS = ("system:anonymous", "system:authenticated", "system:unauthenticated")
_SA_GROUP_PREFIX = "system:serviceaccounts:"
_SA_USER_PREFIX = "system:serviceaccount:"


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
        who = f"{doc.get('kind')} {as_dict(doc.get('metadata')).get('name')}"
        yield from _rules(doc, as_list(doc.get("rules")), who, lambda i: f"rules[{i}]")


def _workload_accounts(ctx: Context) -> set[tuple[str, str]]:
    # The accounts the workloads in the input run as, plus every ServiceAccount defined there:
    # checking a base without its Deployment must still catch a cluster-admin binding.
    accounts = {(w.namespace, w.service_account) for w in ctx.workloads}
    for doc in ctx.of_kind("ServiceAccount"):
        name = as_dict(doc.get("metadata")).get("name")
        if isinstance(name, str):
            accounts.add((namespace_of(doc), name))
    return accounts


def _same_namespace(a: str, b: str) -> bool:
    # '' is a namespace left to kustomize or kubectl: it may become any namespace.
    return not a or not b or a == b


def reaches(binding: Doc, subject: Any, accounts: set[tuple[str, str]]) -> str | None:
    """How ``subject`` of ``binding`` includes one of ``accounts`` (namespace, name), as
    words for a message, or None when it does not."""
    s = as_dict(subject)
    kind, name = s.get("kind"), s.get("name")
    if not isinstance(name, str):
        return None
    if kind == "ServiceAccount":
        # A RoleBinding's subject defaults to the binding's namespace; a ClusterRoleBinding's
        # must name one (the API refuses it otherwise, and the authorizer matches nothing).
        # kubernetes/kubernetes pkg/registry/rbac/validation/rule.go appliesToUser.
        ns = s.get("namespace") if isinstance(s.get("namespace"), str) else ""
        if not ns and binding.get("kind") == "RoleBinding":
            ns = namespace_of(binding)
        elif not ns:
            return None
        if name == "default" or any(
                n == name and _same_namespace(ns, a) for a, n in accounts):
            return f"ServiceAccount {ns or '<namespace>'}/{name}"
        return None
    if kind == "Group":
        if name in _ALL_ACCOUNTS_GROUPS:
            return f"Group {name} (every ServiceAccount, the server's included)"
        if name.startswith(_SA_GROUP_PREFIX):
            ns = name[len(_SA_GROUP_PREFIX):]
            if any(_same_namespace(ns, a) for a, _ in accounts):
                return f"Group {name} (every ServiceAccount in {ns}, the server's included)"
        return None
    if kind == "User":
        if name in _ALL_ACCOUNTS_USERS:
            return f"User {name} (any caller, the server included)"
        if name.startswith(_SA_USER_PREFIX):
            ns, _, sa = name[len(_SA_USER_PREFIX):].partition(":")
            if any(n == sa and _same_namespace(ns, a) for a, n in accounts):
                return f"User {name} (the server's ServiceAccount)"
    return None


def _bindings(ctx: Context) -> Iterator[Hit]:
    accounts = _workload_accounts(ctx)
    cluster_roles = {name_of(d): d for d in ctx.of_kind("ClusterRole")}
    for doc in ctx.of_kind("ClusterRoleBinding", "RoleBinding"):
        ref = as_dict(doc.get("roleRef"))
        if doc.get("kind") == "RoleBinding" and ref.get("kind") != "ClusterRole":
            continue  # a namespaced Role: its rules are judged on the Role itself
        role = ref.get("name")
        who = f"{doc.get('kind')} {name_of(doc)}"
        for index, subject in enumerate(as_list(doc.get("subjects"))):
            via = reaches(doc, subject, accounts)
            if via is None:
                continue
            if doc.get("kind") == "ClusterRoleBinding":
                yield hit(CLUSTER_BINDING, doc, f"subjects[{index}]",
                          f"{who} grants ClusterRole {role!r} cluster-wide to {via}")
                continue
            # A RoleBinding grants the ClusterRole's rules in its own namespace only: judge
            # those rules, not the binding.
            defined = cluster_roles.get(role) if isinstance(role, str) else None
            if defined is not None and not as_dict(defined.get("aggregationRule")):
                continue  # its rules are judged on the ClusterRole in the input
            if defined is None and isinstance(role, str) and role in BUILTIN_CLUSTER_ROLES:
                yield from _rules(doc, BUILTIN_CLUSTER_ROLES[role],
                                  f"{who} (built-in ClusterRole {role}, bound to {via})",
                                  lambda _: "roleRef")
                continue
            why = ("is aggregated from every ClusterRole its aggregationRule selects"
                   if defined is not None else "is not in the input")
            yield hit(CLUSTER_BINDING, doc, f"subjects[{index}]",
                      f"{who} grants ClusterRole {role!r} to {via}; the ClusterRole {why}, "
                      "so what it grants cannot be judged")


def _strings(value: Any) -> list[str]:
    # RBAC compares names exactly (case-sensitive): "Secrets" grants nothing.
    return [v for v in as_list(value) if isinstance(v, str)]


def _grants(resources: list[str], resource: str) -> bool:
    # ResourceMatches in kubernetes/kubernetes pkg/apis/rbac/v1/evaluation_helpers.go:
    # '*', the exact resource[/subresource], or '*/<subresource>'.
    sub = resource.partition("/")[2]
    return any(r in ("*", resource) or (sub and r == f"*/{sub}") for r in resources)


def _rules(doc: Doc, rules: list[Any], who: str, where: Callable[[int], str]) -> Iterator[Hit]:
    for index, item in enumerate(rules):
        rule = as_dict(item)
        path = where(index)
        groups, resources = _strings(rule.get("apiGroups")), _strings(rule.get("resources"))
        verbs, urls = _strings(rule.get("verbs")), _strings(rule.get("nonResourceURLs"))
        all_verbs = "*" in verbs
        core = "" in groups or "*" in groups
        shown = ", ".join(verbs) or "no verbs"
        wild = [k for k, vals in (("apiGroups", groups), ("resources", resources),
                                  ("verbs", verbs), ("nonResourceURLs", urls))
                if any("*" in v for v in vals)]
        if wild:
            yield hit(WILDCARD, doc, path, f"{who} rule {index} uses '*' in {', '.join(wild)}")
        if not verbs:
            continue
        if core and _grants(resources, "secrets"):
            yield hit(SECRETS, doc, path, f"{who} rule {index} grants {shown} on secrets")
        subs = [s for s in _SUBRESOURCES if core and _grants(resources, s)]
        if subs:
            yield hit(POD_SUBRESOURCES, doc, path,
                      f"{who} rule {index} grants {shown} on {', '.join(subs)}")
        if core and _grants(resources, "serviceaccounts/token") and (
                all_verbs or "create" in verbs):
            yield hit(TOKEN_REQUEST, doc, path,
                      f"{who} rule {index} grants create on serviceaccounts/token")
        writes = [v for v in _WRITE if all_verbs or v in verbs]
        if writes:
            yield hit(WRITE_VERBS, doc, path,
                      f"{who} rule {index} grants {', '.join(writes)} on "
                      f"{', '.join(resources or urls) or 'nothing'}")
        esc = [v for v in _ESCALATE if all_verbs or v in verbs]
        if esc:
            yield hit(ESCALATION_VERBS, doc, path, f"{who} rule {index} grants {', '.join(esc)}")
        reads = [v for v in _READ if all_verbs or v in verbs]
        if reads and resources and not as_list(rule.get("resourceNames")):
            yield hit(UNNAMED_READ, doc, path,
                      f"{who} rule {index} grants {', '.join(reads)} on "
                      f"{', '.join(resources)} without resourceNames")
