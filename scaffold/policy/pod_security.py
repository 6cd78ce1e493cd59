"""Pod Security Standards (baseline + restricted, per target version) and the extra hardening
the bundle promises: read-only root filesystem, size-limited emptyDirs, high UID/GID, and a
Namespace that enforces `restricted`.

The checks follow k8s.io/pod-security-admission `policy/check_*.go`: every check visits
init, regular and ephemeral containers, and the pod-level field counts where PSS says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .model import Context, Hit, Rule, Workload, as_dict, as_list, hit

P = "pod-security"
HOST_NAMESPACES = Rule(
    "MCP-PSS-001", P, "high", "Pod shares a host namespace (hostNetwork/hostPID/hostIPC)",
    "Remove hostNetwork, hostPID and hostIPC (or set them to false).",
)
PRIVILEGED = Rule(
    "MCP-PSS-002", P, "high", "Privileged container",
    "Remove securityContext.privileged or set it to false.",
)
CAP_ADD = Rule(
    "MCP-PSS-003", P, "high", "Container adds Linux capabilities",
    "Remove securityContext.capabilities.add; listen on a port >= 1024 instead of adding "
    "NET_BIND_SERVICE.",
)
CAP_DROP = Rule(
    "MCP-PSS-004", P, "high", "Container does not drop ALL capabilities",
    'Set securityContext.capabilities.drop: ["ALL"] on every container.',
)
VOLUMES = Rule(
    "MCP-PSS-005", P, "high", "Volume type not allowed by restricted (hostPath and others)",
    "Use only configMap, csi, downwardAPI, emptyDir (with sizeLimit), ephemeral, image, "
    "persistentVolumeClaim, projected or secret volumes.",
)
HOST_PORTS = Rule(
    "MCP-PSS-006", P, "high", "Container binds a hostPort",
    "Remove hostPort; expose the port through a Service.",
)
APPARMOR = Rule(
    "MCP-PSS-007", P, "high", "AppArmor profile set to Unconfined",
    "Remove the Unconfined AppArmor profile (leave it unset, or RuntimeDefault/Localhost).",
)
SELINUX = Rule(
    "MCP-PSS-008", P, "high", "SELinux options outside the allowed set",
    "Use seLinuxOptions.type container_t (or leave it unset) and never set user or role.",
)
PROC_MOUNT = Rule(
    "MCP-PSS-009", P, "high", "procMount is not Default",
    "Remove securityContext.procMount (or set it to Default).",
)
SECCOMP = Rule(
    "MCP-PSS-010", P, "high", "Seccomp profile missing or Unconfined",
    "Set spec.securityContext.seccompProfile.type: RuntimeDefault and remove Unconfined.",
)
SYSCTLS = Rule(
    "MCP-PSS-011", P, "high", "Unsafe sysctl for the target Kubernetes version",
    "Remove the sysctl; only the PSS safe set is allowed.",
)
HOST_PROCESS = Rule(
    "MCP-PSS-012", P, "high", "Windows hostProcess container",
    "Remove windowsOptions.hostProcess (or set it to false).",
)
PROBE_HOST = Rule(
    "MCP-PSS-013", P, "medium", "Probe or lifecycle handler targets another host",
    "Remove the host field from httpGet/tcpSocket probes and lifecycle handlers.",
)
PRIV_ESC = Rule(
    "MCP-PSS-014", P, "high", "allowPrivilegeEscalation is not false",
    "Set securityContext.allowPrivilegeEscalation: false on every container.",
)
RUN_AS_NON_ROOT = Rule(
    "MCP-PSS-015", P, "high", "runAsNonRoot is not true",
    "Set spec.securityContext.runAsNonRoot: true and never false on a container.",
)
RUN_AS_ROOT_UID = Rule(
    "MCP-PSS-016", P, "high", "runAsUser is 0 (root)",
    "Set runAsUser to a non-zero UID (>= 10000, e.g. 65532).",
)
HIGH_UID = Rule(
    "MCP-PSS-017", P, "low", "UID/GID not set to a value >= 10000",
    "Set runAsUser and runAsGroup to 10000 or more (e.g. 65532) at pod or container level.",
)
READ_ONLY_ROOT = Rule(
    "MCP-PSS-018", P, "medium", "Root filesystem is writable",
    "Set securityContext.readOnlyRootFilesystem: true; give writable paths a size-limited "
    "emptyDir.",
)
EMPTYDIR_SIZE = Rule(
    "MCP-PSS-019", P, "medium", "emptyDir without sizeLimit",
    "Set emptyDir.sizeLimit (e.g. 64Mi) so a compromised pod cannot fill the node's disk "
    "or memory.",
)
NAMESPACE_PSA = Rule(
    "MCP-PSS-020", P, "high", "Namespace holding workloads does not enforce restricted",
    "Label the Namespace pod-security.kubernetes.io/enforce: restricted (plus "
    "enforce-version, warn and audit).",
)
LONG_TOKEN = Rule(
    "MCP-PSS-021", P, "medium", "Projected ServiceAccount token valid for more than an hour",
    "Set serviceAccountToken.expirationSeconds to 3600 or less (the kubelet refreshes the "
    "file before it expires).",
)
ROOT_GROUP = Rule(
    "MCP-PSS-022", P, "high", "Pod or container runs with group 0 (root)",
    "Set runAsGroup and fsGroup to a non-zero GID (>= 10000, e.g. 65532) and remove 0 from "
    "supplementalGroups.",
)
SYSTEM_NAMESPACE = Rule(
    "MCP-PSS-023", P, "medium", "Workload in the default or a kube-* namespace",
    "Deploy the workload into its own namespace (metadata.namespace), never default, "
    "kube-system, kube-public or kube-node-lease.",
)
UNJUDGED = Rule(
    "MCP-PSS-024", P, "high", "Containers the checker cannot judge",
    "Check the pods this object creates another way (render them, or run check on the "
    "controller's output) and suppress this finding with the reason.",
)

RULES = (
    HOST_NAMESPACES, PRIVILEGED, CAP_ADD, CAP_DROP, VOLUMES, HOST_PORTS, APPARMOR, SELINUX,
    PROC_MOUNT, SECCOMP, SYSCTLS, HOST_PROCESS, PROBE_HOST, PRIV_ESC, RUN_AS_NON_ROOT,
    RUN_AS_ROOT_UID, HIGH_UID, READ_ONLY_ROOT, EMPTYDIR_SIZE, NAMESPACE_PSA, LONG_TOKEN,
    ROOT_GROUP, SYSTEM_NAMESPACE, UNJUDGED,
)
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
_RESTRICTED = "restricted"


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


def check(ctx: Context) -> Iterator[Hit]:
    """All pod-security findings for the documents in ``ctx``."""
    for w in ctx.workloads:
        yield from _pod(ctx, w)
        yield from _containers(ctx, w)
        yield from _groups(w)
        yield from _tokens(w)
        yield from _system_namespace(w)
    yield from _namespaces(ctx)
    for doc, path, why in ctx.unjudged:
        kind = doc.get("kind")
        yield hit(UNJUDGED, doc, path,
                  f"kind {kind} carries containers at {path} that the checker cannot judge "
                  f"({why})")


def _groups(w: Workload) -> Iterator[Hit]:
    psc, sp = w.pod_security_context, w.spec_path
    for key in ("runAsGroup", "fsGroup"):
        if _number(psc.get(key)) == 0:
            yield hit(ROOT_GROUP, w.doc, f"{sp}.securityContext.{key}",
                      f"{w.kind} {w.name} sets {key}: 0 (the root group)")
    for index, gid in enumerate(as_list(psc.get("supplementalGroups"))):
        if _number(gid) == 0:
            yield hit(ROOT_GROUP, w.doc, f"{sp}.securityContext.supplementalGroups[{index}]",
                      f"{w.kind} {w.name} adds group 0 (root) to supplementalGroups")
    for c in w.containers:
        if _number(_sc(c.spec).get("runAsGroup")) == 0:
            yield hit(ROOT_GROUP, w.doc, f"{c.path}.securityContext.runAsGroup",
                      f"{w.kind} {w.name} container {c.name} sets runAsGroup: 0 (the root "
                      "group)")


def _tokens(w: Workload) -> Iterator[Hit]:
    for vi, vol in enumerate(as_list(w.spec.get("volumes"))):
        sources = as_list(as_dict(as_dict(vol).get("projected")).get("sources"))
        for si, source in enumerate(sources):
            token = as_dict(source).get("serviceAccountToken")
            if not isinstance(token, dict):
                continue
            seconds = _number(token.get("expirationSeconds"))
            if seconds is not None and seconds > MAX_TOKEN_SECONDS:
                yield hit(LONG_TOKEN, w.doc,
                          f"{w.spec_path}.volumes[{vi}].projected.sources[{si}]"
                          ".serviceAccountToken.expirationSeconds",
                          f"{w.kind} {w.name} projects a ServiceAccount token valid for "
                          f"{seconds} s (more than {MAX_TOKEN_SECONDS}): a stolen copy works "
                          "that long")


def _system_namespace(w: Workload) -> Iterator[Hit]:
    # An empty namespace is left to kustomize or kubectl (-n): nothing to judge here.
    if w.namespace == "default" or w.namespace.startswith("kube-"):
        yield hit(SYSTEM_NAMESPACE, w.doc, "metadata.namespace",
                  f"{w.kind} {w.name} runs in namespace {w.namespace}, shared with "
                  "other workloads or the control plane")


def _pod(ctx: Context, w: Workload) -> Iterator[Hit]:
    doc, sp, psc = w.doc, w.spec_path, w.pod_security_context
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if w.spec.get(key) is True:
            yield hit(HOST_NAMESPACES, doc, f"{sp}.{key}",
                      f"{w.kind} {w.name} sets {key}: true")
    for index, vol in enumerate(as_list(w.spec.get("volumes"))):
        v = as_dict(vol)
        kinds = sorted(k for k in v if k != "name" and k not in ALLOWED_VOLUMES)
        for k in kinds:
            yield hit(VOLUMES, doc, f"{sp}.volumes[{index}].{k}",
                      f"{w.kind} {w.name} volume {v.get('name')!r} uses {k}")
        empty = v.get("emptyDir")
        if "emptyDir" in v and not as_dict(empty).get("sizeLimit"):
            yield hit(EMPTYDIR_SIZE, doc, f"{sp}.volumes[{index}].emptyDir",
                      f"{w.kind} {w.name} emptyDir volume {v.get('name')!r} has no sizeLimit")
    if as_dict(psc.get("appArmorProfile")).get("type") == "Unconfined":
        yield hit(APPARMOR, doc, f"{sp}.securityContext.appArmorProfile.type",
                  f"{w.kind} {w.name} sets the pod AppArmor profile to Unconfined")
    for key, value in w.annotations.items():
        allowed = not value or value == "runtime/default" or str(value).startswith("localhost/")
        if isinstance(key, str) and key.startswith(_APPARMOR_ANNOTATION) and not allowed:
            yield hit(APPARMOR, doc, f"{w.template_meta_path}.annotations[{key}]",
                      f"{w.kind} {w.name} annotation {key} is {value!r}")
    yield from _selinux(ctx, w, psc, f"{sp}.securityContext", "pod")
    for index, item in enumerate(as_list(psc.get("sysctls"))):
        sysctl = as_dict(item).get("name")
        if sysctl not in safe_sysctls(ctx.version):
            yield hit(SYSCTLS, doc, f"{sp}.securityContext.sysctls[{index}]",
                      f"{w.kind} {w.name} sets sysctl {sysctl!r}, not allowed at Kubernetes "
                      f"{ctx.version[0]}.{ctx.version[1]}")
    if as_dict(psc.get("windowsOptions")).get("hostProcess") is True:
        yield hit(HOST_PROCESS, doc, f"{sp}.securityContext.windowsOptions.hostProcess",
                  f"{w.kind} {w.name} runs as a Windows hostProcess pod")
    yield from _seccomp(w)
    yield from _run_as(ctx, w)


def _selinux(
    ctx: Context, w: Workload, sc: dict[str, Any], path: str, who: str
) -> Iterator[Hit]:
    opts = as_dict(sc.get("seLinuxOptions"))
    if not opts:
        return
    kind = opts.get("type", "")
    if kind not in _selinux_types(ctx.version):
        yield hit(SELINUX, w.doc, f"{path}.seLinuxOptions.type",
                  f"{w.kind} {w.name} {who} sets SELinux type {kind!r}")
    for key in ("user", "role"):
        if opts.get(key):
            yield hit(SELINUX, w.doc, f"{path}.seLinuxOptions.{key}",
                      f"{w.kind} {w.name} {who} sets SELinux {key} {opts[key]!r}")


def _seccomp(w: Workload) -> Iterator[Hit]:
    good = ("RuntimeDefault", "Localhost")
    pod_type = as_dict(w.pod_security_context.get("seccompProfile")).get("type")
    sp = w.spec_path
    if pod_type == "Unconfined":
        yield hit(SECCOMP, w.doc, f"{sp}.securityContext.seccompProfile.type",
                  f"{w.kind} {w.name} sets the pod seccomp profile to Unconfined")
    for c in w.containers:
        ctype = as_dict(_sc(c.spec).get("seccompProfile")).get("type")
        if ctype == "Unconfined":
            yield hit(SECCOMP, w.doc, f"{c.path}.securityContext.seccompProfile.type",
                      f"{w.kind} {w.name} container {c.name} sets seccomp Unconfined")
        elif pod_type not in good and ctype not in good and not w.is_windows:
            yield hit(SECCOMP, w.doc, f"{c.path}.securityContext.seccompProfile",
                      f"{w.kind} {w.name} container {c.name} has no seccomp profile "
                      "(neither the pod nor the container sets RuntimeDefault)")


def _user_ns_relaxed(ctx: Context, w: Workload) -> bool:
    # PSS 1.35+ skips runAsNonRoot/runAsUser for pods in a user namespace (hostUsers: false).
    return ctx.version >= (1, 35) and w.spec.get("hostUsers") is False


def _run_as(ctx: Context, w: Workload) -> Iterator[Hit]:
    if _user_ns_relaxed(ctx, w):
        return
    psc, sp = w.pod_security_context, w.spec_path
    pod_nonroot = psc.get("runAsNonRoot")
    if pod_nonroot is False:
        yield hit(RUN_AS_NON_ROOT, w.doc, f"{sp}.securityContext.runAsNonRoot",
                  f"{w.kind} {w.name} sets runAsNonRoot: false")
    for c in w.containers:
        cval = _sc(c.spec).get("runAsNonRoot")
        if cval is False:
            yield hit(RUN_AS_NON_ROOT, w.doc, f"{c.path}.securityContext.runAsNonRoot",
                      f"{w.kind} {w.name} container {c.name} sets runAsNonRoot: false")
        elif pod_nonroot is not True and cval is not True:
            yield hit(RUN_AS_NON_ROOT, w.doc, f"{c.path}.securityContext.runAsNonRoot",
                      f"{w.kind} {w.name} container {c.name} may run as root: runAsNonRoot "
                      "is set neither on the pod nor on the container")
    if _number(psc.get("runAsUser")) == 0:
        yield hit(RUN_AS_ROOT_UID, w.doc, f"{sp}.securityContext.runAsUser",
                  f"{w.kind} {w.name} sets runAsUser: 0")
    for c in w.containers:
        if _number(_sc(c.spec).get("runAsUser")) == 0:
            yield hit(RUN_AS_ROOT_UID, w.doc, f"{c.path}.securityContext.runAsUser",
                      f"{w.kind} {w.name} container {c.name} sets runAsUser: 0")
    for c in w.containers:
        for key in ("runAsUser", "runAsGroup"):
            value = _sc(c.spec).get(key, psc.get(key))
            number = _number(value)
            if number is None or number < 10000:
                shown = "unset" if value is None else repr(value)
                yield hit(HIGH_UID, w.doc, f"{c.path}.securityContext.{key}",
                          f"{w.kind} {w.name} container {c.name} effective {key} is {shown}, "
                          "not >= 10000")


def _containers(ctx: Context, w: Workload) -> Iterator[Hit]:
    doc = w.doc
    for c in w.containers:
        sc, where = _sc(c.spec), f"{w.kind} {w.name} container {c.name}"
        scp = f"{c.path}.securityContext"
        if sc.get("privileged") is True:
            yield hit(PRIVILEGED, doc, f"{scp}.privileged", f"{where} is privileged")
        caps = as_dict(sc.get("capabilities"))
        added = [str(a) for a in as_list(caps.get("add"))]
        if added:
            yield hit(CAP_ADD, doc, f"{scp}.capabilities.add",
                      f"{where} adds capabilities {', '.join(added)}")
        if "ALL" not in as_list(caps.get("drop")) and not w.is_windows:
            yield hit(CAP_DROP, doc, f"{scp}.capabilities.drop",
                      f"{where} does not drop ALL capabilities")
        for index, port in enumerate(as_list(c.spec.get("ports"))):
            host_port = as_dict(port).get("hostPort")
            if host_port not in (None, 0):
                yield hit(HOST_PORTS, doc, f"{c.path}.ports[{index}].hostPort",
                          f"{where} binds hostPort {host_port}")
        if as_dict(sc.get("appArmorProfile")).get("type") == "Unconfined":
            yield hit(APPARMOR, doc, f"{scp}.appArmorProfile.type",
                      f"{where} sets the AppArmor profile to Unconfined")
        yield from _selinux(ctx, w, sc, scp, f"container {c.name}")
        proc = sc.get("procMount")
        if proc not in (None, "Default"):
            yield hit(PROC_MOUNT, doc, f"{scp}.procMount", f"{where} sets procMount {proc!r}")
        if as_dict(sc.get("windowsOptions")).get("hostProcess") is True:
            yield hit(HOST_PROCESS, doc, f"{scp}.windowsOptions.hostProcess",
                      f"{where} runs as a Windows hostProcess container")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            for handler in ("httpGet", "tcpSocket"):
                host = as_dict(as_dict(c.spec.get(probe)).get(handler)).get("host")
                if host:
                    yield hit(PROBE_HOST, doc, f"{c.path}.{probe}.{handler}.host",
                              f"{where} {probe} targets host {host!r}")
        lifecycle = as_dict(c.spec.get("lifecycle"))
        for hook in ("postStart", "preStop"):
            for handler in ("httpGet", "tcpSocket"):
                host = as_dict(as_dict(lifecycle.get(hook)).get(handler)).get("host")
                if host:
                    yield hit(PROBE_HOST, doc, f"{c.path}.lifecycle.{hook}.{handler}.host",
                              f"{where} {hook} hook targets host {host!r}")
        if sc.get("allowPrivilegeEscalation") is not False and not w.is_windows:
            yield hit(PRIV_ESC, doc, f"{scp}.allowPrivilegeEscalation",
                      f"{where} does not set allowPrivilegeEscalation: false")
        if sc.get("readOnlyRootFilesystem") is not True:
            yield hit(READ_ONLY_ROOT, doc, f"{scp}.readOnlyRootFilesystem",
                      f"{where} does not set readOnlyRootFilesystem: true")


def _namespaces(ctx: Context) -> Iterator[Hit]:
    used = {w.namespace for w in ctx.workloads}
    for doc in ctx.of_kind("Namespace"):
        name = as_dict(doc.get("metadata")).get("name")
        if name not in used:
            continue
        labels = as_dict(as_dict(doc.get("metadata")).get("labels"))
        enforce = labels.get("pod-security.kubernetes.io/enforce")
        if enforce != _RESTRICTED:
            shown = "missing" if enforce is None else repr(enforce)
            yield hit(NAMESPACE_PSA, doc, "metadata.labels[pod-security.kubernetes.io/enforce]",
                      f"Namespace {name} holds workloads but its enforce label is {shown}, "
                      "not 'restricted'")
