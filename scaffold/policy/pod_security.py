"""Pod Security Standards (baseline + restricted, per target version) and the extra hardening
the bundle promises: read-only root filesystem, size-limited emptyDirs, high UID/GID, and a
Namespace that enforces `restricted`.

The checks follow k8s.io/pod-security-admission `policy/check_*.go`: every check visits
init, regular and ephemeral containers, and the pod-level field counts where PSS says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import conventions
from .model import (
    ANY_KIND,
    POD_SPEC,
    Container,
    Context,
    Doc,
    Hit,
    Workload,
    as_dict,
    as_list,
    hit,
    name_of,
)
from .registry import rule
from .resources import unset_quantity

P = "pod-security"
# The kubelet's default and the longest lifetime the bundle accepts for a projected token.
MAX_TOKEN_SECONDS = 3600

ALLOWED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
    "persistentVolumeClaim", "projected", "secret",
}
# policy/check_sysctls.go: the safe set grows with the Kubernetes minor version.
_SYSCTLS_BY_VERSION: tuple[tuple[tuple[int, int], tuple[str, ...]], ...] = (
    ((1, 0), ("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
              "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
              "net.ipv4.ip_unprivileged_port_start")),
    ((1, 27), ("net.ipv4.ip_local_reserved_ports",)),
    ((1, 29), ("net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
               "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes")),
    ((1, 32), ("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem")),
    ((1, 37), ("net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat")),
)
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
_RESTRICTED = conventions.POD_SECURITY_LEVEL


def safe_sysctls(version: tuple[int, int]) -> set[str]:
    """The sysctls PSS baseline allows at ``version``."""
    allowed: set[str] = set()
    for since, names in _SYSCTLS_BY_VERSION:
        if version >= since:
            allowed.update(names)
    return allowed


def _selinux_types(version: tuple[int, int]) -> set[str]:
    types = {"", "container_t", "container_init_t", "container_kvm_t"}
    if version >= (1, 31):
        types.add("container_engine_t")
    return types


def _sc(container: dict[str, Any]) -> dict[str, Any]:
    return as_dict(container.get("securityContext"))


def _number(value: Any) -> int | None:
    """The integer the API server stores for an int64 field written as ``value``, or None.

    kubectl turns YAML into JSON through sigs.k8s.io/yaml, where a float with an integral
    value (``0.0``, ``-0.0``, ``0e0``) is encoded as that integer, so the API server accepts
    it as 0; a boolean or a quoted "0" is refused by the decoder, so it never runs.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _named(w: Workload, c: Container) -> str:
    return f"{w.kind} {w.name} container {c.name}"


def _each_container(ctx: Context) -> Iterator[tuple[Workload, Container, dict[str, Any]]]:
    """Every container of every pod spec with its securityContext."""
    for w in ctx.workloads:
        for c in w.containers:
            yield w, c, _sc(c.spec)


_POD = [POD_SPEC]
_PSS = """Follows the Pod Security Standards `baseline` and `restricted` checks of
k8s.io/pod-security-admission for the target version, visiting init, regular and ephemeral
containers."""


@rule(
    "MCP-PSS-001", P, "high", "Pod shares a host namespace (hostNetwork/hostPID/hostIPC)",
    kinds=_POD, fix="Remove hostNetwork, hostPID and hostIPC (or set them to false).",
    description=_PSS,
)
def host_namespaces(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if w.spec.get(key) is True:
                yield hit(host_namespaces, w.doc, f"{w.spec_path}.{key}",
                          f"{w.kind} {w.name} sets {key}: true")


@rule(
    "MCP-PSS-002", P, "high", "Privileged container", kinds=_POD,
    fix="Remove securityContext.privileged or set it to false.", description=_PSS,
)
def privileged(ctx: Context) -> Iterator[Hit]:
    for w, c, sc in _each_container(ctx):
        if sc.get("privileged") is True:
            yield hit(privileged, w.doc, f"{c.path}.securityContext.privileged",
                      f"{_named(w, c)} is privileged")


@rule(
    "MCP-PSS-003", P, "high", "Container adds Linux capabilities", kinds=_POD,
    fix="Remove securityContext.capabilities.add; listen on a port >= 1024 instead of adding "
    "NET_BIND_SERVICE.",
    description="""Stricter than PSS restricted, which allows adding `NET_BIND_SERVICE`:
    any `capabilities.add` is flagged; listen on a port >= 1024 instead.""",
)
def cap_add(ctx: Context) -> Iterator[Hit]:
    for w, c, sc in _each_container(ctx):
        added = [str(a) for a in as_list(as_dict(sc.get("capabilities")).get("add"))]
        if added:
            yield hit(cap_add, w.doc, f"{c.path}.securityContext.capabilities.add",
                      f"{_named(w, c)} adds capabilities {', '.join(added)}")


@rule(
    "MCP-PSS-004", P, "high", "Container does not drop ALL capabilities", kinds=_POD,
    fix='Set securityContext.capabilities.drop: ["ALL"] on every container.',
    description=_PSS,
)
def cap_drop(ctx: Context) -> Iterator[Hit]:
    for w, c, sc in _each_container(ctx):
        if "ALL" not in as_list(as_dict(sc.get("capabilities")).get("drop")) and not (
                w.is_windows):
            yield hit(cap_drop, w.doc, f"{c.path}.securityContext.capabilities.drop",
                      f"{_named(w, c)} does not drop ALL capabilities")


@rule(
    "MCP-PSS-005", P, "high", "Volume type not allowed by restricted (hostPath and others)",
    kinds=_POD,
    fix="Use only configMap, csi, downwardAPI, emptyDir (with sizeLimit), ephemeral, image, "
    "persistentVolumeClaim, projected or secret volumes.",
    description=_PSS,
)
def volumes(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        for index, vol in enumerate(as_list(w.spec.get("volumes"))):
            v = as_dict(vol)
            for k in sorted(k for k in v if k != "name" and k not in ALLOWED_VOLUMES):
                yield hit(volumes, w.doc, f"{w.spec_path}.volumes[{index}].{k}",
                          f"{w.kind} {w.name} volume {v.get('name')!r} uses {k}")


@rule(
    "MCP-PSS-006", P, "high", "Container binds a hostPort", kinds=_POD,
    fix="Remove hostPort; expose the port through a Service.", description=_PSS,
)
def host_ports(ctx: Context) -> Iterator[Hit]:
    for w, c, _ in _each_container(ctx):
        for index, port in enumerate(as_list(c.spec.get("ports"))):
            host_port = as_dict(port).get("hostPort")
            if host_port not in (None, 0):
                yield hit(host_ports, w.doc, f"{c.path}.ports[{index}].hostPort",
                          f"{_named(w, c)} binds hostPort {host_port}")


@rule(
    "MCP-PSS-007", P, "high", "AppArmor profile set to Unconfined", kinds=_POD,
    fix="Remove the Unconfined AppArmor profile (leave it unset, or RuntimeDefault/Localhost).",
    description=_PSS + " Both the `appArmorProfile` field and the older annotation count.",
)
def apparmor(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        psc, sp = w.pod_security_context, w.spec_path
        if as_dict(psc.get("appArmorProfile")).get("type") == "Unconfined":
            yield hit(apparmor, w.doc, f"{sp}.securityContext.appArmorProfile.type",
                      f"{w.kind} {w.name} sets the pod AppArmor profile to Unconfined")
        for key, value in w.annotations.items():
            allowed = (not value or value == "runtime/default"
                       or str(value).startswith("localhost/"))
            if isinstance(key, str) and key.startswith(_APPARMOR_ANNOTATION) and not allowed:
                yield hit(apparmor, w.doc, f"{w.template_meta_path}.annotations[{key}]",
                          f"{w.kind} {w.name} annotation {key} is {value!r}")
        for c in w.containers:
            if as_dict(_sc(c.spec).get("appArmorProfile")).get("type") == "Unconfined":
                yield hit(apparmor, w.doc, f"{c.path}.securityContext.appArmorProfile.type",
                          f"{_named(w, c)} sets the AppArmor profile to Unconfined")


@rule(
    "MCP-PSS-008", P, "high", "SELinux options outside the allowed set", kinds=_POD,
    fix="Use seLinuxOptions.type container_t (or leave it unset) and never set user or role.",
    description=_PSS + " `container_engine_t` is allowed from Kubernetes 1.31.",
)
def selinux(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        yield from _selinux(ctx, w, w.pod_security_context, f"{w.spec_path}.securityContext",
                            "pod")
        for c in w.containers:
            yield from _selinux(ctx, w, _sc(c.spec), f"{c.path}.securityContext",
                                f"container {c.name}")


@rule(
    "MCP-PSS-009", P, "high", "procMount is not Default", kinds=_POD,
    fix="Remove securityContext.procMount (or set it to Default).", description=_PSS,
)
def proc_mount(ctx: Context) -> Iterator[Hit]:
    for w, c, sc in _each_container(ctx):
        proc = sc.get("procMount")
        if proc not in (None, "Default"):
            yield hit(proc_mount, w.doc, f"{c.path}.securityContext.procMount",
                      f"{_named(w, c)} sets procMount {proc!r}")


@rule(
    "MCP-PSS-010", P, "high", "Seccomp profile missing or Unconfined", kinds=_POD,
    fix="Set spec.securityContext.seccompProfile.type: RuntimeDefault and remove Unconfined.",
    description=_PSS,
)
def seccomp(ctx: Context) -> Iterator[Hit]:
    good = ("RuntimeDefault", "Localhost")
    for w in ctx.workloads:
        pod_type = as_dict(w.pod_security_context.get("seccompProfile")).get("type")
        if pod_type == "Unconfined":
            yield hit(seccomp, w.doc, f"{w.spec_path}.securityContext.seccompProfile.type",
                      f"{w.kind} {w.name} sets the pod seccomp profile to Unconfined")
        for c in w.containers:
            ctype = as_dict(_sc(c.spec).get("seccompProfile")).get("type")
            if ctype == "Unconfined":
                yield hit(seccomp, w.doc, f"{c.path}.securityContext.seccompProfile.type",
                          f"{_named(w, c)} sets seccomp Unconfined")
            elif pod_type not in good and ctype not in good and not w.is_windows:
                yield hit(seccomp, w.doc, f"{c.path}.securityContext.seccompProfile",
                          f"{_named(w, c)} has no seccomp profile (neither the pod nor the "
                          "container sets RuntimeDefault)")


@rule(
    "MCP-PSS-011", P, "high", "Unsafe sysctl for the target Kubernetes version", kinds=_POD,
    fix="Remove the sysctl; only the PSS safe set is allowed.",
    description=_PSS + " The safe set grows with `--kube-version`.",
)
def sysctls(ctx: Context) -> Iterator[Hit]:
    allowed = safe_sysctls(ctx.version)
    for w in ctx.workloads:
        for index, item in enumerate(as_list(w.pod_security_context.get("sysctls"))):
            sysctl = as_dict(item).get("name")
            if sysctl not in allowed:
                yield hit(sysctls, w.doc, f"{w.spec_path}.securityContext.sysctls[{index}]",
                          f"{w.kind} {w.name} sets sysctl {sysctl!r}, not allowed at "
                          f"Kubernetes {ctx.version[0]}.{ctx.version[1]}")


@rule(
    "MCP-PSS-012", P, "high", "Windows hostProcess container", kinds=_POD,
    fix="Remove windowsOptions.hostProcess (or set it to false).", description=_PSS,
)
def host_process(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        if as_dict(w.pod_security_context.get("windowsOptions")).get("hostProcess") is True:
            yield hit(host_process, w.doc,
                      f"{w.spec_path}.securityContext.windowsOptions.hostProcess",
                      f"{w.kind} {w.name} runs as a Windows hostProcess pod")
        for c in w.containers:
            if as_dict(_sc(c.spec).get("windowsOptions")).get("hostProcess") is True:
                yield hit(host_process, w.doc,
                          f"{c.path}.securityContext.windowsOptions.hostProcess",
                          f"{_named(w, c)} runs as a Windows hostProcess container")


@rule(
    "MCP-PSS-013", P, "medium", "Probe or lifecycle handler targets another host", kinds=_POD,
    fix="Remove the host field from httpGet/tcpSocket probes and lifecycle handlers.",
    description="""Flagged for every Kubernetes version although PSS enforces it only from
    1.34: a probe aimed at another host makes the kubelet connect there.""",
)
def probe_host(ctx: Context) -> Iterator[Hit]:
    for w, c, _ in _each_container(ctx):
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            for handler in ("httpGet", "tcpSocket"):
                host = as_dict(as_dict(c.spec.get(probe)).get(handler)).get("host")
                if host:
                    yield hit(probe_host, w.doc, f"{c.path}.{probe}.{handler}.host",
                              f"{_named(w, c)} {probe} targets host {host!r}")
        lifecycle = as_dict(c.spec.get("lifecycle"))
        for hook in ("postStart", "preStop"):
            for handler in ("httpGet", "tcpSocket"):
                host = as_dict(as_dict(lifecycle.get(hook)).get(handler)).get("host")
                if host:
                    yield hit(probe_host, w.doc, f"{c.path}.lifecycle.{hook}.{handler}.host",
                              f"{_named(w, c)} {hook} hook targets host {host!r}")


@rule(
    "MCP-PSS-014", P, "high", "allowPrivilegeEscalation is not false", kinds=_POD,
    fix="Set securityContext.allowPrivilegeEscalation: false on every container.",
    description=_PSS,
)
def priv_esc(ctx: Context) -> Iterator[Hit]:
    for w, c, sc in _each_container(ctx):
        if sc.get("allowPrivilegeEscalation") is not False and not w.is_windows:
            yield hit(priv_esc, w.doc, f"{c.path}.securityContext.allowPrivilegeEscalation",
                      f"{_named(w, c)} does not set allowPrivilegeEscalation: false")


@rule(
    "MCP-PSS-015", P, "high", "runAsNonRoot is not true", kinds=_POD,
    fix="Set spec.securityContext.runAsNonRoot: true and never false on a container.",
    description=_PSS + " From 1.35 a pod in a user namespace (`hostUsers: false`) is exempt.",
)
def run_as_non_root(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        if _user_ns_relaxed(ctx, w):
            continue
        pod_nonroot = w.pod_security_context.get("runAsNonRoot")
        if pod_nonroot is False:
            yield hit(run_as_non_root, w.doc, f"{w.spec_path}.securityContext.runAsNonRoot",
                      f"{w.kind} {w.name} sets runAsNonRoot: false")
        for c in w.containers:
            cval = _sc(c.spec).get("runAsNonRoot")
            if cval is False:
                yield hit(run_as_non_root, w.doc, f"{c.path}.securityContext.runAsNonRoot",
                          f"{_named(w, c)} sets runAsNonRoot: false")
            elif pod_nonroot is not True and cval is not True:
                yield hit(run_as_non_root, w.doc, f"{c.path}.securityContext.runAsNonRoot",
                          f"{_named(w, c)} may run as root: runAsNonRoot is set neither on "
                          "the pod nor on the container")


@rule(
    "MCP-PSS-016", P, "high", "runAsUser is 0 (root)", kinds=_POD,
    fix="Set runAsUser to a non-zero UID (>= 10000, e.g. 65532).",
    description=_PSS + " From 1.35 a pod in a user namespace (`hostUsers: false`) is exempt.",
)
def run_as_root_uid(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        if _user_ns_relaxed(ctx, w):
            continue
        if _number(w.pod_security_context.get("runAsUser")) == 0:
            yield hit(run_as_root_uid, w.doc, f"{w.spec_path}.securityContext.runAsUser",
                      f"{w.kind} {w.name} sets runAsUser: 0")
        for c in w.containers:
            if _number(_sc(c.spec).get("runAsUser")) == 0:
                yield hit(run_as_root_uid, w.doc, f"{c.path}.securityContext.runAsUser",
                          f"{_named(w, c)} sets runAsUser: 0")


@rule(
    "MCP-PSS-017", P, "low", "UID/GID not set to a value >= 10000", kinds=_POD,
    fix="Set runAsUser and runAsGroup to 10000 or more (e.g. 65532) at pod or container "
    "level.",
    description="Not PSS but part of the bundle's contract: a UID no host account uses.",
)
def high_uid(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        if _user_ns_relaxed(ctx, w):
            continue
        psc = w.pod_security_context
        for c in w.containers:
            for key in ("runAsUser", "runAsGroup"):
                value = _sc(c.spec).get(key, psc.get(key))
                number = _number(value)
                if number is None or number < 10000:
                    shown = "unset" if value is None else repr(value)
                    yield hit(high_uid, w.doc, f"{c.path}.securityContext.{key}",
                              f"{_named(w, c)} effective {key} is {shown}, not >= 10000")


@rule(
    "MCP-PSS-018", P, "medium", "Root filesystem is writable", kinds=_POD,
    fix="Set securityContext.readOnlyRootFilesystem: true; give writable paths a size-limited "
    "emptyDir.",
    description="Not PSS but part of the bundle's contract.",
)
def read_only_root(ctx: Context) -> Iterator[Hit]:
    for w, c, sc in _each_container(ctx):
        if sc.get("readOnlyRootFilesystem") is not True:
            yield hit(read_only_root, w.doc, f"{c.path}.securityContext.readOnlyRootFilesystem",
                      f"{_named(w, c)} does not set readOnlyRootFilesystem: true")


@rule(
    "MCP-PSS-019", P, "medium", "emptyDir without sizeLimit", kinds=_POD,
    fix="Set emptyDir.sizeLimit (e.g. 64Mi) so a compromised pod cannot fill the node's disk "
    "or memory.",
    description="""Not PSS but part of the bundle's contract. A sizeLimit of zero in any
    spelling (`"0"`, `0Ki`) is no limit to the kubelet.""",
)
def emptydir_size(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        for index, vol in enumerate(as_list(w.spec.get("volumes"))):
            v = as_dict(vol)
            if "emptyDir" not in v:
                continue
            why = unset_quantity(as_dict(v.get("emptyDir")).get("sizeLimit"))
            if why is not None:
                yield hit(emptydir_size, w.doc, f"{w.spec_path}.volumes[{index}].emptyDir",
                          f"{w.kind} {w.name} emptyDir volume {v.get('name')!r} has no "
                          "sizeLimit" + ("" if why == "unset" else f" ({why})"))


@rule(
    "MCP-PSS-020", P, "high", "Namespace holding workloads does not enforce restricted",
    kinds=["Namespace"],
    fix="Label the Namespace pod-security.kubernetes.io/enforce: restricted (plus "
    "enforce-version, warn and audit).",
    description="""Needs the Namespace object in the input; a bundle without one is not
    judged on it.""",
)
def namespace_psa(ctx: Context) -> Iterator[Hit]:
    used = {w.namespace for w in ctx.workloads}
    for doc in ctx.of_kind("Namespace"):
        name = as_dict(doc.get("metadata")).get("name")
        if name not in used:
            continue
        labels = as_dict(as_dict(doc.get("metadata")).get("labels"))
        enforce = labels.get("pod-security.kubernetes.io/enforce")
        if enforce != _RESTRICTED:
            shown = "missing" if enforce is None else repr(enforce)
            yield hit(namespace_psa, doc, "metadata.labels[pod-security.kubernetes.io/enforce]",
                      f"Namespace {name} holds workloads but its enforce label is {shown}, "
                      "not 'restricted'")


@rule(
    "MCP-PSS-021", P, "medium", "Projected ServiceAccount token valid for more than an hour",
    kinds=_POD,
    fix="Set serviceAccountToken.expirationSeconds to 3600 or less (the kubelet refreshes the "
    "file before it expires).",
    description="""A projected `serviceAccountToken` with `expirationSeconds` above 3600
    (unset means the one-hour default).""",
)
def long_token(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        for vi, vol in enumerate(as_list(w.spec.get("volumes"))):
            sources = as_list(as_dict(as_dict(vol).get("projected")).get("sources"))
            for si, source in enumerate(sources):
                token = as_dict(source).get("serviceAccountToken")
                if not isinstance(token, dict):
                    continue
                seconds = _number(token.get("expirationSeconds"))
                if seconds is not None and seconds > MAX_TOKEN_SECONDS:
                    yield hit(long_token, w.doc,
                              f"{w.spec_path}.volumes[{vi}].projected.sources[{si}]"
                              ".serviceAccountToken.expirationSeconds",
                              f"{w.kind} {w.name} projects a ServiceAccount token valid for "
                              f"{seconds} s (more than {MAX_TOKEN_SECONDS}): a stolen copy "
                              "works that long")


@rule(
    "MCP-PSS-022", P, "high", "Pod or container runs with group 0 (root)", kinds=_POD,
    fix="Set runAsGroup and fsGroup to a non-zero GID (>= 10000, e.g. 65532) and remove 0 "
    "from supplementalGroups.",
    description="""Group 0 in `runAsGroup` (pod or container), `fsGroup` or
    `supplementalGroups`, in any spelling the API server accepts as 0 (kubectl turns `0.0`
    into `0`; a quoted `"0"` or a boolean is refused by the API server, not a group).""",
)
def root_group(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        psc, sp = w.pod_security_context, w.spec_path
        for key in ("runAsGroup", "fsGroup"):
            if _number(psc.get(key)) == 0:
                yield hit(root_group, w.doc, f"{sp}.securityContext.{key}",
                          f"{w.kind} {w.name} sets {key}: 0 (the root group)")
        for index, gid in enumerate(as_list(psc.get("supplementalGroups"))):
            if _number(gid) == 0:
                yield hit(root_group, w.doc,
                          f"{sp}.securityContext.supplementalGroups[{index}]",
                          f"{w.kind} {w.name} adds group 0 (root) to supplementalGroups")
        for c in w.containers:
            if _number(_sc(c.spec).get("runAsGroup")) == 0:
                yield hit(root_group, w.doc, f"{c.path}.securityContext.runAsGroup",
                          f"{_named(w, c)} sets runAsGroup: 0 (the root group)")


@rule(
    "MCP-PSS-023", P, "medium", "Workload in the default or a kube-* namespace", kinds=_POD,
    fix="Deploy the workload into its own namespace (metadata.namespace), never default, "
    "kube-system, kube-public or kube-node-lease.",
    description="""An object without a namespace (left to kustomize or `kubectl -n`) is not
    judged on it.""",
)
def system_namespace(ctx: Context) -> Iterator[Hit]:
    for w in ctx.workloads:
        # An empty namespace is left to kustomize or kubectl (-n): nothing to judge here.
        if w.namespace == "default" or w.namespace.startswith("kube-"):
            yield hit(system_namespace, w.doc, "metadata.namespace",
                      f"{w.kind} {w.name} runs in namespace {w.namespace}, shared with "
                      "other workloads or the control plane")


@rule(
    "MCP-PSS-024", P, "high", "Containers the checker cannot judge", kinds=[ANY_KIND],
    fix="Check the pods this object creates another way (render them, or run check on the "
    "controller's output) and suppress this finding with the reason.",
    description="""Containers outside any pod spec: a `container`/`script` or
    `steps`/`sidecars` list (Argo Workflows, Tekton), a `containers` list without images
    (an operator's patch), or any other `image` of a custom resource outside a pod spec the
    checker found (an operator that builds its pods from fields of its own, such as a
    SparkApplication's `spec.image` with `driver`/`executor`). Also a Flux `Kustomization`
    (kustomize.toolkit.fluxcd.io) that rewrites the workloads it applies (`patches`,
    `patchesStrategicMerge`, `patchesJson6902`, `images`, `postBuild`): checking its source
    does not show what it applies. Suppress it with a reason once the pods are checked another
    way.""",
)
def unjudged(ctx: Context) -> Iterator[Hit]:
    for doc, path, why in ctx.unjudged:
        yield hit(unjudged, doc, path,
                  f"kind {doc.get('kind')} carries containers at {path} that the checker "
                  f"cannot judge ({why})")
    covered: dict[int, list[str]] = {}
    for w in ctx.workloads:
        covered.setdefault(id(w.doc), []).append(w.spec_path)
    for doc, path, _ in ctx.unjudged:
        covered.setdefault(id(doc), []).append(path)
    for doc in ctx.documents:
        group = _api_group(doc)
        if "." not in group:
            continue  # the built-in workload groups: their pod specs are found by path
        for path in _images_outside(doc, covered.get(id(doc), [])):
            yield hit(unjudged, doc, path,
                      f"kind {doc.get('kind')} names an image at {path} outside any pod spec "
                      "the checker can find: the pod its operator builds cannot be judged")
        if group == FLUX_KUSTOMIZE_GROUP and doc.get("kind") == "Kustomization":
            spec = as_dict(doc.get("spec"))
            for key in _FLUX_REWRITES:
                if spec.get(key):
                    yield hit(unjudged, doc, f"spec.{key}",
                              f"Flux Kustomization {name_of(doc)} rewrites the objects it "
                              f"applies from its source (spec.{key}): what reaches the "
                              "cluster cannot be judged from the source or from this object")


# Flux's kustomize-controller applies a Kustomization's source through these transforms
# (fluxcd/kustomize-controller api/v1 kustomization_types.go).
FLUX_KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
_FLUX_REWRITES = ("patches", "patchesStrategicMerge", "patchesJson6902", "images", "postBuild")


def _api_group(doc: Doc) -> str:
    api = doc.get("apiVersion")
    return api.rpartition("/")[0] if isinstance(api, str) else ""


def _images_outside(doc: Doc, covered: list[str]) -> Iterator[str]:
    """The paths of string ``image`` fields in ``doc`` outside the ``covered`` subtrees (pod
    specs found, places already reported), written as findings write paths."""
    stack: list[tuple[str, Any]] = [
        (str(key), value) for key, value in reversed(list(doc.items()))
        if key not in ("metadata", "status", "apiVersion", "kind")]
    while stack:
        path, node = stack.pop()
        if path in covered:
            continue
        if isinstance(node, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(node))))
        elif isinstance(node, dict):
            if isinstance(node.get("image"), str):
                yield f"{path}.image"
            stack.extend((f"{path}.{key}", value) for key, value in reversed(list(node.items()))
                         if key != "image")


def _selinux(
    ctx: Context, w: Workload, sc: dict[str, Any], path: str, who: str
) -> Iterator[Hit]:
    opts = as_dict(sc.get("seLinuxOptions"))
    if not opts:
        return
    kind = opts.get("type", "")
    if kind not in _selinux_types(ctx.version):
        yield hit(selinux, w.doc, f"{path}.seLinuxOptions.type",
                  f"{w.kind} {w.name} {who} sets SELinux type {kind!r}")
    for key in ("user", "role"):
        if opts.get(key):
            yield hit(selinux, w.doc, f"{path}.seLinuxOptions.{key}",
                      f"{w.kind} {w.name} {who} sets SELinux {key} {opts[key]!r}")


def _user_ns_relaxed(ctx: Context, w: Workload) -> bool:
    # PSS 1.35+ skips runAsNonRoot/runAsUser for pods in a user namespace (hostUsers: false).
    return ctx.version >= (1, 35) and w.spec.get("hostUsers") is False
