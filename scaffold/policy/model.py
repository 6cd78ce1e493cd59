"""The policy engine's data model and the helpers every rule module shares.

Rules read manifests written by people, so nothing here trusts a field's type: a malformed
object yields no finding from a rule that cannot read it (the Kubernetes schema check is the
place that rejects it), never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

Doc = dict[str, Any]
T = TypeVar("T")

PATTERNS = ("rbac", "network", "secrets", "pod-security", "image", "resources")
SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class Finding:
    """One rule broken by one object.

    ``path`` is the field inside the object (``spec.template.spec.containers[0].image``);
    ``suppressed`` holds the reason from a ``mcp-scaffold.io/skip`` annotation, or None.
    """

    rule: str
    pattern: str
    severity: str
    kind: str
    name: str
    namespace: str
    path: str
    message: str
    fix: str
    suppressed: str | None = None


Hit = tuple[Doc, Finding]
Check = Callable[["Context"], Iterator[Hit]]

# The kind that stands for every object carrying a pod spec: the built-in workload kinds and
# any custom kind whose pod spec is found by shape (see find_pod_specs), as kube-linter's
# "DeploymentLike" does.
POD_SPEC = "PodSpec"
# Every kind: a rule that looks at any object (Secret producers, containers outside a pod spec).
ANY_KIND = "*"


@dataclass(frozen=True)
class Rule:
    """One rule: its stable metadata and the check that finds what breaks it.

    ``kinds`` are the object kinds its findings are about (POD_SPEC for any object with a pod
    spec); ``description`` is the longer note docs/check.md shows. ``check`` yields only
    findings of this rule; built and registered by :func:`scaffold.policy.registry.rule`.
    """

    id: str
    pattern: str
    severity: str
    title: str
    fix: str
    kinds: tuple[str, ...]
    check: Check = field(compare=False, repr=False)
    description: str = ""


def as_dict(value: Any) -> dict[str, Any]:
    """The value if it is a mapping, else an empty one (malformed input never raises)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """The value if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def meta(doc: Doc) -> dict[str, Any]:
    """The object's metadata mapping."""
    return as_dict(doc.get("metadata"))


def group_of(doc: Doc) -> str | None:
    """The API group of an object: ``apps`` for ``apps/v1``, ``""`` for the core ``v1``;
    None when ``apiVersion`` is missing or not a string (the schema check reports it)."""
    api = doc.get("apiVersion")
    if not isinstance(api, str) or not api:
        return None
    return api.rpartition("/")[0]


# The API group of each kind the engine reads by name (Kubernetes API reference; Cilium
# pkg/k8s/apis/cilium.io; GKE networking.gke.io; the Secrets Store CSI driver). A kind of the
# same name in another group (Calico's and Antrea's NetworkPolicy, a CRD named Role) is
# another kind: `of_kind("NetworkPolicy")` never returns a projectcalico.org one.
KIND_GROUPS: dict[str, str] = {
    **dict.fromkeys(("Pod", "Service", "ServiceAccount", "Secret", "ConfigMap", "Namespace",
                     "Endpoints", "ReplicationController", "PersistentVolumeClaim"), ""),
    **dict.fromkeys(("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"), "apps"),
    **dict.fromkeys(("Job", "CronJob"), "batch"),
    "NetworkPolicy": "networking.k8s.io",
    **dict.fromkeys(("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"),
                    "rbac.authorization.k8s.io"),
    "EndpointSlice": "discovery.k8s.io",
    **dict.fromkeys(("AdminNetworkPolicy", "BaselineAdminNetworkPolicy"),
                    "policy.networking.k8s.io"),
    **dict.fromkeys(("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy",
                     "CiliumCIDRGroup"), "cilium.io"),
    "FQDNNetworkPolicy": "networking.gke.io",
    "SecretProviderClass": "secrets-store.csi.x-k8s.io",
}


def is_kind(doc: Doc, kind: str) -> bool:
    """Whether ``doc`` is of ``kind`` in that kind's own API group (KIND_GROUPS; any group
    for a kind not listed there). An object without an apiVersion is matched by kind alone:
    kubectl refuses it, and the rules still say what is wrong with it."""
    if doc.get("kind") != kind:
        return False
    group, expected = group_of(doc), KIND_GROUPS.get(kind)
    return expected is None or group is None or group == expected


def identity(doc: Doc) -> tuple[str, str, str, str] | None:
    """(group, kind, namespace, name) as the API server keys an object, or None when the
    object lacks a kind or a name (then it replaces nothing)."""
    kind, name, group = doc.get("kind"), name_of(doc), group_of(doc)
    if not isinstance(kind, str) or not kind or not name or group is None:
        return None
    return group, kind, namespace_of(doc), name


def last_applied(documents: list[Doc]) -> tuple[list[Doc], list[tuple[Doc, Doc]]]:
    """The documents as ``kubectl apply`` leaves them, and (replaced, replacement) pairs.

    Applying a second object with the same group, kind, namespace and name replaces the
    first (its last-applied configuration is the second's), so only the last one is judged:
    a second default-deny listing only Ingress un-isolates egress.
    """
    last: dict[tuple[str, str, str, str], Doc] = {}
    for doc in documents:
        key = identity(doc)
        if key is not None:
            last[key] = doc
    kept: list[Doc] = []
    replaced: list[tuple[Doc, Doc]] = []
    for doc in documents:
        key = identity(doc)
        if key is None or last[key] is doc:
            kept.append(doc)
        else:
            replaced.append((doc, last[key]))
    return kept, replaced


def name_of(doc: Doc) -> str:
    """metadata.name, or '' when absent."""
    value = meta(doc).get("name")
    return value if isinstance(value, str) else ""


def namespace_of(doc: Doc) -> str:
    """metadata.namespace, or '' (cluster-scoped, or left to kustomize/kubectl)."""
    value = meta(doc).get("namespace")
    return value if isinstance(value, str) else ""


def hit(rule: Rule, doc: Doc, path: str, message: str) -> Hit:
    """A finding of ``rule`` on ``doc`` at field ``path``, paired with the object it is about."""
    kind = doc.get("kind")
    return doc, Finding(
        rule=rule.id,
        pattern=rule.pattern,
        severity=rule.severity,
        kind=kind if isinstance(kind, str) else "",
        name=name_of(doc),
        namespace=namespace_of(doc),
        path=path,
        message=message,
        fix=rule.fix,
    )


# Where each workload kind keeps its pod spec; the pod template's metadata sits beside it.
_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_KINDS = tuple(_POD_SPEC_PATHS)
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class Container:
    """One container of a pod spec with the field path that reaches it."""

    path: str
    name: str
    spec: dict[str, Any]
    field: str  # initContainers | containers | ephemeralContainers


@dataclass(frozen=True)
class Workload:
    """A pod-bearing object: its pod spec, template labels and where they live."""

    doc: Doc
    kind: str
    name: str
    namespace: str
    spec: dict[str, Any]
    spec_path: str
    labels: dict[str, Any]
    annotations: dict[str, Any]
    template_meta_path: str
    containers: list[Container] = field(default_factory=list)

    @property
    def pod_security_context(self) -> dict[str, Any]:
        """spec.securityContext of the pod."""
        return as_dict(self.spec.get("securityContext"))

    @property
    def service_account(self) -> str:
        """The effective ServiceAccount name (the deprecated field counts, default otherwise)."""
        for key in ("serviceAccountName", "serviceAccount"):
            value = self.spec.get(key)
            if isinstance(value, str) and value:
                return value
        return "default"

    @property
    def is_windows(self) -> bool:
        """True for pods declaring spec.os.name: windows (PSS exempts some Linux checks)."""
        return as_dict(self.spec.get("os")).get("name") == "windows"

    @property
    def is_batch(self) -> bool:
        """Jobs and CronJobs run to completion, so probes do not apply."""
        return self.kind in ("Job", "CronJob")


def _workload_at(doc: Doc, kind: str, keys: tuple[Any, ...], spec: dict[str, Any]) -> Workload:
    """The Workload for the pod spec ``spec`` found at ``keys`` inside ``doc``.

    The pod template's metadata sits beside the spec (``template.metadata`` next to
    ``template.spec``); a spec directly under the object (a Pod) uses the object's metadata.
    """
    if len(keys) <= 1:
        template_meta: dict[str, Any] = meta(doc)
        template_meta_path = "metadata"
    else:
        parent: Any = doc
        for key in keys[:-1]:
            parent = (parent[key] if isinstance(parent, list) and isinstance(key, int)
                      else as_dict(parent).get(key))
        template_meta = as_dict(as_dict(parent).get("metadata"))
        template_meta_path = _join((*keys[:-1], "metadata"))
    spec_path = _join(keys)
    containers = []
    for fld in CONTAINER_FIELDS:
        for index, item in enumerate(as_list(spec.get(fld))):
            if isinstance(item, dict):
                cname = item.get("name")
                containers.append(
                    Container(
                        path=f"{spec_path}.{fld}[{index}]",
                        name=cname if isinstance(cname, str) else f"#{index}",
                        spec=item,
                        field=fld,
                    )
                )
    return Workload(
        doc=doc,
        kind=kind,
        name=name_of(doc),
        namespace=namespace_of(doc),
        spec=spec,
        spec_path=spec_path,
        labels=as_dict(template_meta.get("labels")),
        annotations=as_dict(template_meta.get("annotations")),
        template_meta_path=template_meta_path,
        containers=containers,
    )


def _join(keys: tuple[Any, ...]) -> str:
    """A field path as findings spell it: ``spec.templates[0].container``."""
    out = ""
    for key in keys:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += f".{key}" if out else str(key)
    return out


def workload(doc: Doc) -> Workload | None:
    """The Workload view of a document of a built-in workload kind, or None."""
    kind = doc.get("kind")
    if not isinstance(kind, str) or kind not in _POD_SPEC_PATHS or not is_kind(doc, kind):
        return None
    keys = _POD_SPEC_PATHS[kind]
    node: Any = doc
    for key in keys:
        node = as_dict(node).get(key)
    return _workload_at(doc, kind, keys, as_dict(node))


# Fields of a custom kind that hold containers the checker cannot judge as a pod: a single
# container (Argo Workflows `container`/`script`), build or pipeline steps (Tekton `steps`,
# `sidecars`). Any mapping in them with a string `image` is a container that will run.
_CONTAINER_LIKE = ("container", "script", "steps", "sidecars")


def _is_container(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("image"), str)


# Built-in kinds that never carry a pod template: not searched (a stream of bases is mostly
# these). A custom resource of the same kind name in another group is still searched.
_NO_PODS = frozenset({
    "ConfigMap", "Secret", "Service", "ServiceAccount", "Namespace", "Endpoints",
    "NetworkPolicy", "Ingress", "IngressClass", "Role", "ClusterRole", "RoleBinding",
    "ClusterRoleBinding", "PodDisruptionBudget", "HorizontalPodAutoscaler", "LimitRange",
    "ResourceQuota", "PriorityClass", "PersistentVolumeClaim", "PersistentVolume",
    "StorageClass", "CustomResourceDefinition", "SecretProviderClass",
})


def _never_has_pods(doc: Doc) -> bool:
    kind = doc.get("kind")
    return isinstance(kind, str) and kind in _NO_PODS and (
        is_kind(doc, kind) if kind in KIND_GROUPS
        else "." not in (group_of(doc) or "") or str(group_of(doc)).endswith(".k8s.io"))


def find_pod_specs(doc: Doc) -> tuple[list[Workload], list[tuple[str, str]]]:
    """Pod specs found by shape in an object of any kind, and containers that are not one.

    A pod spec is a mapping whose ``containers`` is a non-empty list of containers (mappings
    with a string ``image``): an Argo Rollout's or Knative Service's ``spec.template.spec``, an
    OpenKruise CloneSet's, a PodTemplate's ``template.spec``, each replica type of a training
    job. Such a spec is judged like a Deployment's. Returned besides: (path, why) for every
    place that carries containers the rules cannot judge as a pod: a ``containers`` list
    whose items lack an image (a patch the operator merges into a pod it builds), or a single
    container or step list (Argo Workflows, Tekton).
    """
    kind = doc.get("kind")
    found: list[Workload] = []
    unjudged: list[tuple[str, str]] = []
    if not isinstance(kind, str) or _never_has_pods(doc):
        return found, unjudged
    stack: list[tuple[tuple[Any, ...], Any]] = [
        ((key,), value) for key, value in reversed(list(doc.items()))
        if key not in ("metadata", "status", "apiVersion", "kind")
    ]
    while stack:
        keys, node = stack.pop()
        if isinstance(node, list):
            stack.extend(((*keys, i), item) for i, item in reversed(list(enumerate(node))))
            continue
        if not isinstance(node, dict):
            continue
        containers = node.get("containers")
        if isinstance(containers, list) and containers:
            if all(_is_container(c) for c in containers):
                found.append(_workload_at(doc, kind, tuple(keys), node))
            else:
                unjudged.append((_join((*keys, "containers")),
                                 "containers without an image: a patch or partial template"))
            continue  # nothing inside a pod spec is another pod
        for key, value in reversed(list(node.items())):
            if key == "metadata":
                continue
            if key in _CONTAINER_LIKE and (
                _is_container(value)
                or (isinstance(value, list) and any(_is_container(v) for v in value))
            ):
                unjudged.append((_join((*keys, key)), f"'{key}' outside any pod spec"))
                continue
            stack.append(((*keys, key), value))
    return found, unjudged


def selector_matches(selector: Any, labels: dict[str, Any]) -> bool:
    """Whether a LabelSelector selects an object with ``labels`` (empty selects everything)."""
    sel = as_dict(selector)
    for key, value in as_dict(sel.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expr in as_list(sel.get("matchExpressions")):
        e = as_dict(expr)
        label, op = str(e.get("key")), e.get("operator")
        values = as_list(e.get("values"))
        present = label in labels
        if op == "In" and not (present and labels[label] in values):
            return False
        if op == "NotIn" and present and labels[label] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


@dataclass
class Context:
    """Everything a rule may look at: all documents, their workloads and the target version."""

    documents: list[Doc]
    version: tuple[int, int]
    workloads: list[Workload] = field(default_factory=list)
    # (document, field path, why) for containers no rule could judge; reported as findings.
    unjudged: list[tuple[Doc, str, str]] = field(default_factory=list)
    _shared: dict[Callable[..., Any], Any] = field(default_factory=dict, repr=False)
    _kinds: dict[tuple[str, ...], list[Doc]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # What kubectl apply leaves: the last object of each group/kind/namespace/name.
        self.documents = last_applied(self.documents)[0]
        # Built-in kinds by their documented path; any other kind by shape, so a privileged
        # Argo Rollout is judged like a privileged Deployment.
        for doc in self.documents:
            known = workload(doc)
            if known is not None:
                self.workloads.append(known)
                continue
            found, unjudged = find_pod_specs(doc)
            self.workloads.extend(found)
            self.unjudged.extend((doc, path, why) for path, why in unjudged)

    def shared(self, compute: Callable[[Context], T]) -> T:
        """``compute(self)``, computed once per Context however many rules ask for it.

        Several rules read one analysis (which NetworkPolicies select a workload, what a
        RoleBinding grants): each rule runs its own check, the analysis runs once.
        """
        if compute not in self._shared:
            self._shared[compute] = compute(self)
        result: T = self._shared[compute]
        return result

    def of_kind(self, *kinds: str) -> Iterator[Doc]:
        """The documents of the given kinds, each in its own API group (:func:`is_kind`),
        in input order (looked up once per kinds: many rules ask for the same ones)."""
        found = self._kinds.get(kinds)
        if found is None:
            found = self._kinds[kinds] = [
                d for d in self.documents
                if d.get("kind") in kinds and is_kind(d, str(d.get("kind")))]
        return iter(found)
