"""RBAC and service-account tokens: a compromised pod must not hold a usable token with more
than read access to the few named objects it needs.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..conventions import TOKEN_PATH
from .model import POD_SPEC, Context, Doc, Hit, as_dict, as_list, hit, name_of, namespace_of
from .registry import rule

P = "rbac"
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


def _strings(value: Any) -> list[str]:
    # RBAC compares names exactly (case-sensitive): "Secrets" grants nothing.
    return [v for v in as_list(value) if isinstance(v, str)]


def _grants(resources: list[str], resource: str) -> bool:
    # ResourceMatches in kubernetes/kubernetes pkg/apis/rbac/v1/evaluation_helpers.go:
    # '*', the exact resource[/subresource], or '*/<subresource>'.
    sub = resource.partition("/")[2]
    return any(r in ("*", resource) or (sub and r == f"*/{sub}") for r in resources)


@dataclass(frozen=True)
class _Grant:
    """One rule of a Role, a ClusterRole or a built-in ClusterRole bound by a RoleBinding,
    read once for the seven rules that judge what it grants."""

    doc: Doc
    what: str  # "<who> rule <index>", as messages name it
    path: str
    groups: list[str]
    resources: list[str]
    verbs: list[str]
    urls: list[str]
    names: bool  # has resourceNames

    @property
    def core(self) -> bool:
        return "" in self.groups or "*" in self.groups

    def verbs_in(self, verbs: tuple[str, ...]) -> list[str]:
        """The verbs of ``verbs`` this rule grants ('*' grants every one)."""
        return [v for v in verbs if "*" in self.verbs or v in self.verbs]


def _grants_of(doc: Doc, rules: list[Any], who: str, path: Callable[[int], str]) -> list[_Grant]:
    return [
        _Grant(doc, f"{who} rule {index}", path(index), _strings(r.get("apiGroups")),
               _strings(r.get("resources")), _strings(r.get("verbs")),
               _strings(r.get("nonResourceURLs")), bool(as_list(r.get("resourceNames"))))
        for index, r in ((i, as_dict(item)) for i, item in enumerate(rules))
    ]


@dataclass
class _Bindings:
    """What the bindings in the input grant the workloads' ServiceAccounts, resolved once."""

    cluster: list[Hit] = field(default_factory=list)  # MCP-RBAC-004 findings
    grants: list[_Grant] = field(default_factory=list)  # every role rule to judge


def _bindings(ctx: Context) -> _Bindings:
    accounts = _workload_accounts(ctx)
    cluster_roles = {name_of(d): d for d in ctx.of_kind("ClusterRole")}
    roles = [(namespace_of(d), name_of(d)) for d in ctx.of_kind("Role")]
    out = _Bindings()
    for doc in ctx.of_kind("ClusterRoleBinding", "RoleBinding"):
        ref = as_dict(doc.get("roleRef"))
        role = ref.get("name")
        who = f"{doc.get('kind')} {name_of(doc)}"
        namespaced = doc.get("kind") == "RoleBinding" and ref.get("kind") != "ClusterRole"
        if namespaced and any(n == role and _same_namespace(ns, namespace_of(doc))
                              for ns, n in roles):
            continue  # a namespaced Role in the input: its rules are judged on the Role
        for index, subject in enumerate(as_list(doc.get("subjects"))):
            via = reaches(doc, subject, accounts)
            if via is None:
                continue
            if namespaced:
                # Not judged "on the Role": there is none to judge, so the grant is unknown.
                out.cluster.append(hit(cluster_binding, doc, "roleRef",
                                       f"{who} grants Role {role!r} to {via}; the Role is not "
                                       "in the input, so what it grants cannot be judged"))
                continue
            if doc.get("kind") == "ClusterRoleBinding":
                out.cluster.append(hit(cluster_binding, doc, f"subjects[{index}]",
                                       f"{who} grants ClusterRole {role!r} cluster-wide to "
                                       f"{via}"))
                continue
            # A RoleBinding grants the ClusterRole's rules in its own namespace only: judge
            # those rules, not the binding.
            defined = cluster_roles.get(role) if isinstance(role, str) else None
            if defined is not None and not as_dict(defined.get("aggregationRule")):
                continue  # its rules are judged on the ClusterRole in the input
            if isinstance(role, str) and role in BUILTIN_CLUSTER_ROLES:
                # A built-in name is the built-in role whether or not its object is in the
                # input (admin, edit and view are aggregated, their rules filled by the
                # controller): one verdict, by its bootstrap rules, either way.
                out.grants += _grants_of(
                    doc, BUILTIN_CLUSTER_ROLES[role],
                    f"{who} (built-in ClusterRole {role}, bound to {via})", lambda _: "roleRef")
                continue
            why = ("is aggregated from every ClusterRole its aggregationRule selects"
                   if defined is not None else "is not in the input")
            out.cluster.append(hit(cluster_binding, doc, f"subjects[{index}]",
                                   f"{who} grants ClusterRole {role!r} to {via}; the "
                                   f"ClusterRole {why}, so what it grants cannot be judged"))
    for doc in ctx.of_kind("Role", "ClusterRole"):
        who = f"{doc.get('kind')} {as_dict(doc.get('metadata')).get('name')}"
        out.grants += _grants_of(doc, as_list(doc.get("rules")), who, lambda i: f"rules[{i}]")
    return out


def _granted(ctx: Context) -> list[_Grant]:
    return ctx.shared(_bindings).grants


_POD = [POD_SPEC]
_ROLES = ["Role", "ClusterRole", "RoleBinding"]
_ROLES_NOTE = """Checked on every Role and ClusterRole in the input, and on the built-in
ClusterRoles (`cluster-admin`, `admin`, `edit`, `view`, by their bootstrap rules) that a
RoleBinding grants to a workload's ServiceAccount (findings on the RoleBinding, path
`roleRef`), by what they grant as the RBAC authorizer matches it: names are compared exactly
(`Secrets` grants nothing), `*` in apiGroups, resources or verbs grants everything it stands
for, and `*/proxy` matches `pods/proxy`, `services/proxy` and `nodes/proxy`."""


@rule(
    "MCP-RBAC-001", P, "medium", "Pod runs as the default ServiceAccount", kinds=_POD,
    fix="Create a dedicated ServiceAccount and set spec.serviceAccountName to it.",
)
def default_sa(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        if w.service_account == "default":
            yield hit(default_sa, w.doc, f"{w.spec_path}.serviceAccountName",
                      f"{w.kind} {w.name} runs as the default ServiceAccount")


@rule(
    "MCP-RBAC-002", P, "high", "Pod automounts its ServiceAccount token", kinds=_POD,
    fix="Set automountServiceAccountToken: false on the pod spec; if the server must call the "
    "API, mount a short-lived projected serviceAccountToken volume instead.",
    description=f"""Judged by where the token lands, not only by the field: a volume
    mounted at `{TOKEN_PATH}` (or inside it, or at a parent such as `/var/run/secrets`;
    `/run/...` alike), where every client library picks the token up, must be a projected
    `serviceAccountToken` (bound to the pod, its lifetime judged by MCP-PSS-021, beside
    `configMap`/`downwardAPI` sources as in the kubelet's own volume). Any other volume
    there (a `secret` volume or source holding a token, an emptyDir, a CSI volume) is a token
    written out by hand that the rules cannot see expire.""",
)
def pod_automount(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        if w.spec.get("automountServiceAccountToken") is not False:
            yield hit(pod_automount, w.doc, f"{w.spec_path}.automountServiceAccountToken",
                      f"{w.kind} {w.name} does not set automountServiceAccountToken: false, "
                      f"so a token is mounted at {TOKEN_PATH}")
        volumes = {as_dict(v).get("name"): as_dict(v) for v in as_list(w.spec.get("volumes"))}
        for c in w.containers:
            for index, item in enumerate(as_list(c.spec.get("volumeMounts"))):
                mount = as_dict(item)
                path = mount.get("mountPath")
                if not (isinstance(path, str) and _at_token_path(path)):
                    continue
                why = _not_a_bound_token(volumes.get(mount.get("name")))
                if why:
                    yield hit(pod_automount, w.doc, f"{c.path}.volumeMounts[{index}]",
                              f"{w.kind} {w.name} container {c.name} mounts volume "
                              f"{mount.get('name')!r} at {path}, where every client library "
                              f"reads the ServiceAccount token, and {why}: a token that does "
                              "not expire, written out by hand")


# The token directory as the container sees it: /var/run is a symlink to /run in the images
# of every common base (Debian, Alpine, distroless), so both spellings are the same directory.
_TOKEN_DIRS = (TOKEN_PATH, TOKEN_PATH.replace("/var/run/", "/run/", 1))
# What a projected volume may hold beside the token and still be a bound, expiring token:
# the kubelet's own kube-api-access volume holds these (and the bundle's, plan.py api-token).
_TOKEN_COMPANIONS = ("serviceAccountToken", "configMap", "downwardAPI", "clusterTrustBundle")


def _not_a_bound_token(volume: dict[str, Any] | None) -> str:
    """'' when ``volume`` is a projected, bound ServiceAccount token (its lifetime is
    MCP-PSS-021's), else why what it puts at the token path is not one."""
    if volume is None:
        return "no volume of that name is in the pod spec"
    sources = as_list(as_dict(volume.get("projected")).get("sources"))
    if not sources:
        kinds = sorted(k for k in volume if k != "name")
        return f"it is a {', '.join(kinds) or 'volume'} volume, not a projected token"
    other = sorted({k for s in sources for k in as_dict(s) if k not in _TOKEN_COMPANIONS})
    if other:
        return f"it projects {', '.join(other)} (a token kept in a Secret never expires)"
    if not any("serviceAccountToken" in as_dict(s) for s in sources):
        return "it projects no serviceAccountToken"
    return ""


def _at_token_path(mount_path: str) -> bool:
    """Whether a volume mounted at ``mount_path`` puts files where clients read the token:
    at the token directory or inside it, or at a parent of it (a volume mounted at
    /var/run/secrets can hold kubernetes.io/serviceaccount/token)."""
    path = posixpath.normpath("/" + mount_path.lstrip("/"))
    return any(path == d or path.startswith(d + "/") or d.startswith(path.rstrip("/") + "/")
               for d in _TOKEN_DIRS)


@rule(
    "MCP-RBAC-003", P, "medium", "ServiceAccount automounts its token",
    kinds=["ServiceAccount"],
    fix="Set automountServiceAccountToken: false on the ServiceAccount.",
)
def sa_automount(ctx: Context) -> Iterator[Hit]:
    for doc in ctx.of_kind("ServiceAccount"):
        if doc.get("automountServiceAccountToken") is not False:
            name = as_dict(doc.get("metadata")).get("name")
            yield hit(sa_automount, doc, "automountServiceAccountToken",
                      f"ServiceAccount {name} does not set automountServiceAccountToken: false")


@rule(
    "MCP-RBAC-004", P, "high", "Cluster-wide role bound to a workload ServiceAccount",
    kinds=["ClusterRoleBinding", "RoleBinding"],
    fix="Bind only a namespaced Role (never a ClusterRole) with a RoleBinding in the server's "
    "namespace.",
    description="""Flags a ClusterRoleBinding whose subjects include a ServiceAccount used by
    a workload or defined in the input (or `default`), in any of the forms the API server
    matches: the `ServiceAccount` itself, `Group` `system:serviceaccounts`,
    `system:serviceaccounts:<ns>`, `system:authenticated` or `system:unauthenticated`
    (anonymous requests: the pod can use those grants without any token), `User`
    `system:serviceaccount:<ns>:<name>` or `system:anonymous`. A ServiceAccount subject
    without a namespace is in the RoleBinding's namespace; in a ClusterRoleBinding it matches
    nobody (the API refuses it). A RoleBinding to a ClusterRole grants that role's rules in
    one namespace, so it is judged by those rules (MCP-RBAC-005 to 011); a RoleBinding to a
    ClusterRole that is neither in the input nor built in, or to an aggregated one (its rules
    come from every ClusterRole its `aggregationRule` selects, which the input cannot show),
    is MCP-RBAC-004, and so is a RoleBinding to a Role the input does not hold (what it grants
    cannot be judged; the finding names the Role). A built-in ClusterRole (`admin`, `edit`,
    `view`, `cluster-admin`) is judged by its bootstrap rules whether or not its aggregated
    object is in the input.""",
)
def cluster_binding(ctx: Context) -> Iterator[Hit]:
    return iter(ctx.shared(_bindings).cluster)


@rule(
    "MCP-RBAC-005", P, "high", "Role rule uses a wildcard", kinds=_ROLES,
    fix="List explicit apiGroups, resources, verbs and nonResourceURLs; never '*'.",
    description=f"{_ROLES_NOTE} Flags `*` in `nonResourceURLs` too (`*`, `/api/*`).",
)
def wildcard(ctx: Context) -> Iterator[Hit]:
    for g in _granted(ctx):
        wild = [k for k, vals in (("apiGroups", g.groups), ("resources", g.resources),
                                  ("verbs", g.verbs), ("nonResourceURLs", g.urls))
                if any("*" in v for v in vals)]
        if wild:
            yield hit(wildcard, g.doc, g.path, f"{g.what} uses '*' in {', '.join(wild)}")


@rule(
    "MCP-RBAC-006", P, "high", "Role grants access to Secrets", kinds=_ROLES,
    fix="Remove secrets from the Role; mount secrets as files through the Secrets Store CSI "
    "driver.",
    description="Resources `*` in the core group include `secrets`.",
)
def secrets(ctx: Context) -> Iterator[Hit]:
    for g in _granted(ctx):
        if g.verbs and g.core and _grants(g.resources, "secrets"):
            yield hit(secrets, g.doc, g.path, f"{g.what} grants {', '.join(g.verbs)} on secrets")


@rule(
    "MCP-RBAC-007", P, "high",
    "Role grants pods/exec, attach, portforward, ephemeralcontainers or a proxy subresource",
    kinds=_ROLES,
    fix="Remove pods/exec, pods/attach, pods/portforward, pods/ephemeralcontainers and the "
    "pods/proxy, services/proxy and nodes/proxy subresources from the Role.",
    description="""Covers `pods/exec`, `pods/attach`, `pods/portforward`,
    `pods/ephemeralcontainers` (adds a container to a running pod) and the proxy
    subresources (reach pods, Services and the kubelet through the API server, bypassing
    NetworkPolicy).""",
)
def pod_subresources(ctx: Context) -> Iterator[Hit]:
    for g in _granted(ctx):
        subs = [s for s in _SUBRESOURCES if g.core and _grants(g.resources, s)]
        if g.verbs and subs:
            yield hit(pod_subresources, g.doc, g.path,
                      f"{g.what} grants {', '.join(g.verbs)} on {', '.join(subs)}")


@rule(
    "MCP-RBAC-008", P, "high", "Role grants write verbs", kinds=_ROLES,
    fix="Keep only get and watch; remove create, update, patch, delete and deletecollection.",
)
def write_verbs(ctx: Context) -> Iterator[Hit]:
    for g in _granted(ctx):
        writes = g.verbs_in(_WRITE)
        if writes:
            yield hit(write_verbs, g.doc, g.path,
                      f"{g.what} grants {', '.join(writes)} on "
                      f"{', '.join(g.resources or g.urls) or 'nothing'}")


@rule(
    "MCP-RBAC-009", P, "high", "Role grants bind, escalate or impersonate", kinds=_ROLES,
    fix="Remove the bind, escalate and impersonate verbs.",
)
def escalation_verbs(ctx: Context) -> Iterator[Hit]:
    for g in _granted(ctx):
        esc = g.verbs_in(_ESCALATE)
        if esc:
            yield hit(escalation_verbs, g.doc, g.path, f"{g.what} grants {', '.join(esc)}")


@rule(
    "MCP-RBAC-010", P, "medium", "Role reads objects without resourceNames", kinds=_ROLES,
    fix="Add resourceNames listing the exact objects (e.g. the ConfigMaps the server reads) "
    "and keep the verbs to get/watch.",
    description="The built-in `view` ClusterRole bound by a RoleBinding is flagged here.",
)
def unnamed_read(ctx: Context) -> Iterator[Hit]:
    for g in _granted(ctx):
        reads = g.verbs_in(_READ)
        if reads and g.resources and not g.names:
            yield hit(unnamed_read, g.doc, g.path,
                      f"{g.what} grants {', '.join(reads)} on {', '.join(g.resources)} "
                      "without resourceNames")


@rule(
    "MCP-RBAC-011", P, "high", "Role can mint ServiceAccount tokens (serviceaccounts/token)",
    kinds=_ROLES,
    fix="Remove create on serviceaccounts/token: it issues tokens for every ServiceAccount "
    "in the namespace; mount a projected serviceAccountToken volume instead.",
)
def token_request(ctx: Context) -> Iterator[Hit]:
    for g in _granted(ctx):
        if g.core and _grants(g.resources, "serviceaccounts/token") and g.verbs_in(("create",)):
            yield hit(token_request, g.doc, g.path,
                      f"{g.what} grants create on serviceaccounts/token")
