"""The plan: what a bundle holds, worked out once from checked values, as frozen typed data.

render lays a plan out through the templates and knows no file names; the templates only
read the plan. A bundle is a namespace plan (the Namespace and its default-deny) and a list of
server plans; today's single-server base is one of each. Each server plan lists its output
files as `Manifest` entries: adding a file is one entry in `_outputs` plus one template."""

from __future__ import annotations

import dataclasses
import functools
import posixpath
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

from . import conventions, fqdnpolicy, netranges, providers
from .providers import SecretProvider
from .values import Values, check_label_value, egress_excepts, image_tag

Labels = Mapping[str, str]


def _frozen(items: Mapping[str, str]) -> Labels:
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class Manifest:
    """One output file: its name in the base, the template that lays it out, whether this
    bundle has it, and whether kustomize applies it (listed under `resources`)."""

    name: str
    template: str
    when: bool = True
    resource: bool = True


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str


@dataclass(frozen=True)
class Mount:
    volume: str
    path: str
    read_only: bool = False


@dataclass(frozen=True)
class EmptyDir:
    """A writable, size-limited scratch directory (the root filesystem is read-only)."""

    kind: ClassVar[str] = "emptyDir"
    name: str
    size_limit: str


@dataclass(frozen=True)
class ProjectedToken:
    """A short-lived service-account token bound to the pod, with the CA and namespace."""

    kind: ClassVar[str] = "projectedToken"
    name: str
    expiration_seconds: int


@dataclass(frozen=True)
class SecretsCsi:
    """The Secrets Store CSI volume of a SecretProviderClass, read-only."""

    kind: ClassVar[str] = "csi"
    name: str
    secret_provider_class: str


@dataclass(frozen=True)
class Claim:
    """A PersistentVolumeClaim the pod mounts (values `volumes` with persistent: true)."""

    kind: ClassVar[str] = "persistentVolumeClaim"
    name: str
    claim_name: str
    size: str
    storage_class: str | None


Volume = EmptyDir | ProjectedToken | SecretsCsi | Claim


@dataclass(frozen=True)
class Probe:
    """An HTTP GET of `path` on the named port, or a TCP connect when path is None."""

    port: str
    period_seconds: int
    path: str | None = None
    failure_threshold: int | None = None
    headers: tuple[tuple[str, str], ...] = ()  # sent with the HTTP GET (e.g. Host)


@dataclass(frozen=True)
class Port:
    name: str
    number: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class Resources:
    requests: Mapping[str, str]
    limits: Mapping[str, str]


@dataclass(frozen=True)
class ContainerPlan:
    """One container, hardened alike whatever its role (server, sidecar, init)."""

    name: str
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...]
    ports: tuple[Port, ...]
    env: tuple[EnvVar, ...]
    run_as_user: int
    run_as_group: int
    resources: Resources
    liveness: Probe | None
    readiness: Probe | None
    mounts: tuple[Mount, ...]
    working_dir: str | None = None


@dataclass(frozen=True)
class PodPlan:
    """The pod template any workload kind (Deployment, StatefulSet...) lays out."""

    labels: Labels
    service_account: str
    run_as_user: int
    run_as_group: int
    # Labels of the replicas to spread over nodes and zones; None for a single replica.
    spread: Labels | None
    containers: tuple[ContainerPlan, ...]
    volumes: tuple[Volume, ...]
    init_containers: tuple[ContainerPlan, ...] = ()

    @property
    def projected_token(self) -> bool:
        """True when the pod mounts a service-account token (only the explicit projected one)."""
        return any(isinstance(v, ProjectedToken) for v in self.volumes)


@dataclass(frozen=True)
class IpBlock:
    cidr: str
    excepts: tuple[str, ...]


@dataclass(frozen=True)
class ExternalEgress:
    block: IpBlock
    ports: tuple[int, ...]
    # The rule reaches whole private ranges, which it therefore excepts: "the internet".
    internet: bool


@dataclass(frozen=True)
class Downstream:
    name: str
    namespace: str
    pod_labels: Labels
    ports: tuple[int, ...]


@dataclass(frozen=True)
class IngressPlan:
    namespace: str
    pod_labels: Labels
    port: int


@dataclass(frozen=True)
class DnsPlan:
    namespace: str
    pod_labels: Labels
    node_local_cache: bool  # NodeLocal DNSCache runs on the nodes


@dataclass(frozen=True)
class ApiAccess:
    """Read access to named ConfigMaps through the API server."""

    config_maps: tuple[str, ...]
    blocks: tuple[IpBlock, ...]
    port: int
    token_expiration_seconds: int


@dataclass(frozen=True)
class HostEgress:
    host: str  # an exact name or a `*.` wildcard (fqdnpolicy.check_host)
    ports: tuple[int, ...]


@dataclass(frozen=True)
class NetworkPlan:
    """The server's allow policy: who may connect, and where it may connect to."""

    selector: Labels
    ingress: IngressPlan
    dns: DnsPlan
    downstream: tuple[Downstream, ...]
    api: ApiAccess | None
    external: tuple[ExternalEgress, ...]  # by address: in the NetworkPolicy
    # By host name: in the CNI's own policy (networkPolicy.flavor), never in the NetworkPolicy.
    hosts: tuple[HostEgress, ...] = ()
    flavor: str = "kubernetes"
    # The CiliumNetworkPolicy or FQDNNetworkPolicy enforcing hosts (None without hosts).
    host_policy: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SecretFile:
    env: str
    path: str


@dataclass(frozen=True)
class SecretsPlan:
    """A SecretProviderClass and what the pod reads from its mount."""

    provider: SecretProvider
    class_name: str
    mount_path: str
    files: tuple[SecretFile, ...]
    parameters: Mapping[str, Any]
    prerequisites: tuple[str, ...]
    sa_annotations: Labels  # workload-identity wiring on the ServiceAccount
    pod_labels: Labels  # e.g. a webhook opt-in


@dataclass(frozen=True)
class Disruption:
    """A PodDisruptionBudget: drains take at most one replica at a time."""

    eviction_policy: bool  # the API knows unhealthyPodEvictionPolicy


@dataclass(frozen=True)
class NamespacePlan:
    """The Namespace with its Pod Security labels, and the default-deny policy in it."""

    name: str
    labels: Labels
    kubernetes_version: str
    default_deny_name: str
    default_deny_labels: Labels
    # A tree's namespace/ also lets every pod of the namespace ask cluster DNS (None: a
    # single-server base, whose own NetworkPolicy allows it).
    dns: DnsPlan | None = None


@dataclass(frozen=True)
class ServerPlan:
    """One MCP server: its objects, and the files of its base."""

    name: str
    namespace: str
    labels: Labels
    selector: Labels
    kubernetes_version: str
    replicas: int
    port: int
    image: str
    sa_annotations: Labels
    pod: PodPlan
    network: NetworkPlan
    secrets: SecretsPlan | None
    disruption: Disruption | None
    home: str | None
    ingress_note: str
    answers: Mapping[str, Any]  # the values that produced it, written as values.yaml
    outputs: tuple[Manifest, ...]
    path: str = conventions.MCP_PATH  # the MCP endpoint's HTTP path
    bridge: BridgePlan | None = None

    @property
    def claims(self) -> tuple[Claim, ...]:
        """The PersistentVolumeClaims the pod mounts (one pod: see values.storage_problems)."""
        return tuple(v for v in self.pod.volumes if isinstance(v, Claim))

    @property
    def api(self) -> ApiAccess | None:
        return self.network.api

    @property
    def files(self) -> tuple[Manifest, ...]:
        """The output files this base has, in apply order."""
        return tuple(m for m in self.outputs if m.when)

    @property
    def resources(self) -> tuple[str, ...]:
        """The files kustomize applies, in apply order."""
        return tuple(m.name for m in self.outputs if m.when and m.resource)


@dataclass(frozen=True)
class BridgePlan:
    """transport stdio: the bridge that serves Streamable HTTP and runs the server as its child."""

    image: str
    binary: str  # where the server container runs it (the copy in conventions.BRIDGE_DIR)
    command_line: tuple[str, ...]  # exactly what the server container runs

    @property
    def shell_line(self) -> str:
        """The command line as a POSIX shell would take it (for the README)."""
        return shlex.join(self.command_line)


@dataclass(frozen=True)
class BundlePlan:
    """A namespace plan (None when the Namespace comes from elsewhere) and its servers."""

    namespace: NamespacePlan | None
    servers: tuple[ServerPlan, ...]


def build(v: Values) -> BundlePlan:
    """The plan for checked values (schema-checked, defaults filled): one server and, unless
    createNamespace is false, its namespace."""
    server = _server(v)
    if not v["createNamespace"]:
        return BundlePlan(namespace=None, servers=(server,))
    namespace = NamespacePlan(
        name=v["namespace"],
        labels=_namespace_labels(v),
        kubernetes_version=v["kubernetesVersion"],
        default_deny_name=f"{server.name}-default-deny",
        default_deny_labels=server.labels,
    )
    return BundlePlan(namespace=namespace, servers=(server,))


def build_tree(shared: Values, servers: tuple[Values, ...]) -> BundlePlan:
    """The plan of a `servers:` tree: its namespace (unless createNamespace is false), and the
    servers, each a base without Namespace or default-deny (checked with createNamespace false)."""
    namespace = None
    if shared["createNamespace"]:
        # The namespace's objects belong to no one server: the fixed labels but component.
        labels = _frozen({**{k: val for k, val in conventions.FIXED_LABELS.items()
                             if k != "app.kubernetes.io/component"},
                          **dict(sorted(shared["labels"].items()))})
        dns = shared["dns"]
        namespace = NamespacePlan(
            name=shared["namespace"],
            labels=_namespace_labels(shared),
            kubernetes_version=shared["kubernetesVersion"],
            default_deny_name="default-deny",
            default_deny_labels=labels,
            dns=DnsPlan(dns["namespace"], _frozen(dns["podLabels"]), dns["nodeLocalCache"]),
        )
    return BundlePlan(namespace=namespace, servers=tuple(_server(v) for v in servers))


def _labels(v: Values) -> Labels:
    name = v["name"]
    labels = {conventions.NAME_LABEL: name, conventions.INSTANCE_LABEL: name}
    tag = image_tag(v["image"])
    if tag and check_label_value(tag) is None:
        labels[conventions.VERSION_LABEL] = tag
    labels.update(conventions.FIXED_LABELS)
    labels.update(sorted(v["labels"].items()))
    return _frozen(labels)


def _namespace_labels(v: Values) -> Labels:
    labels = {}
    for mode in ("enforce", "warn", "audit"):
        labels[f"pod-security.kubernetes.io/{mode}"] = conventions.POD_SECURITY_LEVEL
        labels[f"pod-security.kubernetes.io/{mode}-version"] = f"v{v['kubernetesVersion']}"
    labels[conventions.MANAGED_BY_LABEL] = conventions.FIXED_LABELS[conventions.MANAGED_BY_LABEL]
    labels.update(sorted(v["labels"].items()))
    return _frozen(labels)


def _secrets(v: Values) -> SecretsPlan | None:
    s = v["secrets"]
    provider = providers.lookup(s["provider"])
    if provider is None:
        return None
    block = s[provider.name]
    mount = s["mountPath"]
    return SecretsPlan(
        provider=provider,
        class_name=f"{v['name']}-secrets",
        mount_path=mount,
        files=tuple(SecretFile(env, f"{mount.rstrip('/')}/{f}") for env, f in sorted(s["files"].items())),
        parameters=MappingProxyType(provider.parameters(block, v)),
        prerequisites=tuple(provider.prerequisites(block, v)),
        sa_annotations=_frozen(provider.sa_annotations(block)),
        pod_labels=_frozen(provider.pod_labels(block)),
    )


def _api(v: Values) -> ApiAccess | None:
    if not v["configMaps"]:
        return None
    api = v["apiServer"]
    return ApiAccess(config_maps=tuple(v["configMaps"]),
                     blocks=tuple(_ip_block(c) for c in api["cidrs"]),
                     port=api["port"], token_expiration_seconds=api["tokenExpirationSeconds"])


@functools.lru_cache(maxsize=512)
def _ip_block(cidr: str) -> IpBlock:
    # Cached: the set arithmetic is the costliest step, and servers share their CIDRs.
    return IpBlock(cidr, tuple(egress_excepts(cidr)))


_PRIVATE = frozenset(str(n) for n in netranges.PRIVATE)


def _external(rule: Mapping[str, Any]) -> ExternalEgress:
    block = _ip_block(rule["cidr"])
    return ExternalEgress(block, tuple(rule["ports"]), internet=not _PRIVATE.isdisjoint(block.excepts))


def _network(v: Values, api: ApiAccess | None, labels: Labels) -> NetworkPlan:
    dns = v["dns"]
    return NetworkPlan(
        selector=_frozen({conventions.INSTANCE_LABEL: v["name"]}),
        ingress=IngressPlan(v["ingress"]["namespace"], _frozen(v["ingress"]["podLabels"]), v["port"]),
        dns=DnsPlan(dns["namespace"], _frozen(dns["podLabels"]), dns["nodeLocalCache"]),
        downstream=tuple(Downstream(d["name"], d.get("namespace", v["namespace"]),
                                    _frozen(d["podLabels"]), tuple(d["ports"]))
                         for d in v["downstream"]),
        api=api,
        external=tuple(_external(r) for r in v["externalEgress"] if "cidr" in r),
        **_host_egress(v, labels),
    )


def _host_egress(v: Values, labels: Labels) -> dict[str, Any]:
    """The host-name rules and the policy of networkPolicy.flavor that enforces them (values
    refuse host rules with flavor kubernetes)."""
    hosts = tuple(HostEgress(r["host"], tuple(r["ports"])) for r in v["externalEgress"]
                  if "host" in r)
    flavor = v["networkPolicy"]["flavor"]
    pairs = [(h.host, h.ports) for h in hosts]
    selector = {conventions.INSTANCE_LABEL: v["name"]}
    policy: dict[str, Any] | None = None
    if hosts and flavor == "cilium":
        dns = v["dns"]
        policy = fqdnpolicy.cilium_network_policy(v["name"], v["namespace"], selector, pairs,
                                                  [(dns["namespace"], dns["podLabels"])], labels)
    elif hosts and flavor == "gke":
        policy = fqdnpolicy.fqdn_network_policy(v["name"], v["namespace"], selector, pairs, labels)
    return {"hosts": hosts, "flavor": flavor, "host_policy": policy}


def _server_container(v: Values, home: str | None, api: ApiAccess | None,
                      secrets: SecretsPlan | None) -> ContainerPlan:
    mounts = [Mount("tmp", conventions.TMP)]
    if home:
        mounts.append(Mount("home", home))
    if api:
        mounts.append(Mount("api-token", conventions.TOKEN_PATH, read_only=True))
    if secrets:
        mounts.append(Mount("secrets", secrets.mount_path, read_only=True))
    env = [EnvVar(k, val) for k, val in sorted(v["env"].items())]
    env += [EnvVar(k, val) for k, val in conventions.RUNTIME_ENV[v["runtime"]]]
    env += [EnvVar(f.env, f.path) for f in secrets.files] if secrets else []
    paths = {k: p.get("path") or None for k, p in v["probes"].items()}
    return ContainerPlan(
        name="mcp-server",
        image=v["image"],
        command=tuple(v["command"]),
        args=tuple(v["args"]),
        ports=(Port("http", v["port"]),),
        env=tuple(env),
        run_as_user=v["runAsUser"],
        run_as_group=v["runAsGroup"],
        resources=Resources(_frozen(v["resources"]["requests"]), _frozen(v["resources"]["limits"])),
        liveness=Probe("http", 20, paths.get("liveness"), failure_threshold=3),
        readiness=Probe("http", 10, paths.get("readiness")),
        mounts=tuple(mounts),
    )


def _pod(v: Values, labels: Labels, selector: Labels, home: str | None, api: ApiAccess | None,
         secrets: SecretsPlan | None) -> PodPlan:
    volumes: list[Volume] = [EmptyDir("tmp", v["tmpSize"])]
    if home:
        volumes.append(EmptyDir("home", v["tmpSize"]))
    if api:
        volumes.append(ProjectedToken("api-token", api.token_expiration_seconds))
    if secrets:
        volumes.append(SecretsCsi("secrets", secrets.class_name))
    return PodPlan(
        labels=_frozen({**labels, **secrets.pod_labels}) if secrets else labels,
        service_account=v["name"],
        run_as_user=v["runAsUser"],
        run_as_group=v["runAsGroup"],
        spread=selector if v["replicas"] >= conventions.HA_REPLICAS else None,
        containers=(_server_container(v, home, api, secrets),),
        volumes=tuple(volumes),
    )


def _ingress_note(v: Values) -> str:
    namespace = v["ingress"]["namespace"]
    if v["ingress"]["podLabels"]:
        return f"An ingress controller in namespace `{namespace}`."
    return (f"An ingress controller in namespace `{namespace}`; every pod there may connect"
            " (set ingress.podLabels to narrow it).")


def _outputs(api: ApiAccess | None, secrets: SecretsPlan | None, disruption: Disruption | None,
             namespace: bool, flavor: str | None, claims: bool = False) -> tuple[Manifest, ...]:
    # Apply order: the namespace and identity first, the workload after what it needs.
    return (
        Manifest("namespace.yaml", "namespace.yaml.j2", namespace),
        Manifest("serviceaccount.yaml", "serviceaccount.yaml.j2"),
        Manifest("role.yaml", "role.yaml.j2", api is not None),
        Manifest("rolebinding.yaml", "rolebinding.yaml.j2", api is not None),
        Manifest("networkpolicy.yaml", "networkpolicy.yaml.j2"),
        Manifest("ciliumnetworkpolicy.yaml", "ciliumnetworkpolicy.yaml.j2", flavor == "cilium"),
        Manifest("fqdnnetworkpolicy.yaml", "fqdnnetworkpolicy.yaml.j2", flavor == "gke"),
        Manifest("secretproviderclass.yaml", "secretproviderclass.yaml.j2", secrets is not None),
        Manifest("persistentvolumeclaim.yaml", "persistentvolumeclaim.yaml.j2", claims),
        Manifest("deployment.yaml", "deployment.yaml.j2"),
        Manifest("service.yaml", "service.yaml.j2"),
        Manifest("poddisruptionbudget.yaml", "poddisruptionbudget.yaml.j2", disruption is not None),
        Manifest("kustomization.yaml", "kustomization.yaml.j2", resource=False),
        Manifest("values.yaml", "values.yaml.j2", resource=False),
        Manifest("README.md", "README.md.j2", resource=False),
    )


def _server(v: Values) -> ServerPlan:
    name = v["name"]
    labels = _labels(v)
    selector = _frozen({conventions.NAME_LABEL: name, conventions.INSTANCE_LABEL: name})
    home = conventions.HOME if v["runtime"] in conventions.HOME_RUNTIMES else None
    api = _api(v)
    secrets = _secrets(v)
    major, minor = (int(x) for x in v["kubernetesVersion"].split("."))
    disruption = (Disruption((major, minor) >= conventions.PDB_EVICTION_POLICY_SINCE)
                  if v["replicas"] >= conventions.HA_REPLICAS else None)
    network = _network(v, api, labels)
    return ServerPlan(
        name=name,
        namespace=v["namespace"],
        labels=labels,
        selector=selector,
        kubernetes_version=v["kubernetesVersion"],
        replicas=v["replicas"],
        port=v["port"],
        image=v["image"],
        sa_annotations=secrets.sa_annotations if secrets else _frozen({}),
        pod=_v2_pod(_pod(v, labels, selector, home, api, secrets), v),
        network=network,
        secrets=secrets,
        disruption=disruption,
        home=home,
        ingress_note=_ingress_note(v),
        answers=v,
        outputs=_outputs(api, secrets, disruption, namespace=v["createNamespace"],
                         flavor=network.flavor if network.host_policy else None,
                         claims=any(vol["persistent"] for vol in v["volumes"])),
        path=v["path"],
        bridge=_bridge(v),
    )


# --- transport stdio, volumes, workingDir, probe headers (contract v2) ------------------------

BRIDGE_VOLUME = "mcp-bridge"


def bridge_args(args: list[str], port: int, path: str, command: list[str]) -> list[str]:
    """The bridge's arguments: {port} and {path} filled in; the server's command and args as
    one POSIX-shell-quoted string where {command} stands (supergateway's --stdio runs it with
    a shell), else appended as separate arguments."""
    out = [a.replace("{port}", str(port)).replace("{path}", path) for a in args]
    if any("{command}" in a for a in args):
        line = shlex.join(command)
        return [a.replace("{command}", line) for a in out]
    return out + command


def _bridge(v: Values) -> BridgePlan | None:
    b = v.get("bridge")
    if v["transport"] != "stdio" or b is None:
        return None
    binary = f"{conventions.BRIDGE_DIR}/{posixpath.basename(b['binary'])}"
    args = bridge_args(b["args"], v["port"], v["path"], [*v["command"], *v["args"]])
    return BridgePlan(image=b["image"], binary=binary, command_line=(binary, *args))


def _volume_name(i: int) -> str:
    return f"data-{i}"


def _v2_pod(pod: PodPlan, v: Values) -> PodPlan:
    """The pod with the v2 keys applied: volumes, workingDir, probe headers and the bridge."""
    volumes: list[Volume] = list(pod.volumes)
    mounts: list[Mount] = []
    for i, vol in enumerate(v["volumes"]):
        name = _volume_name(i)
        volumes.append(Claim(name, f"{v['name']}-{name}", vol["size"], vol.get("storageClassName"))
                       if vol["persistent"] else EmptyDir(name, vol["size"]))
        mounts.append(Mount(name, vol["mountPath"]))
    server = pod.containers[0]
    headers = {k: tuple(sorted(p.get("headers", {}).items())) for k, p in v["probes"].items()}
    server = dataclasses.replace(
        server,
        mounts=(*server.mounts, *mounts),
        working_dir=v.get("workingDir") or None,
        liveness=server.liveness and dataclasses.replace(server.liveness,
                                                         headers=headers.get("liveness", ())),
        readiness=server.readiness and dataclasses.replace(server.readiness,
                                                           headers=headers.get("readiness", ())),
    )
    init: tuple[ContainerPlan, ...] = ()
    bridge = _bridge(v)
    if bridge is not None:
        volumes.append(EmptyDir(BRIDGE_VOLUME, conventions.BRIDGE_SIZE))
        # The bridge replaces the image's ENTRYPOINT; the server is its child process.
        server = dataclasses.replace(
            server, command=bridge.command_line[:1], args=bridge.command_line[1:],
            mounts=(*server.mounts, Mount(BRIDGE_VOLUME, conventions.BRIDGE_DIR, read_only=True)))
        # Same hardening as the server (one container macro); it only copies the binary.
        init = (dataclasses.replace(
            server, name="mcp-bridge-install", image=bridge.image,
            command=("cp", v["bridge"]["binary"], bridge.binary), args=(), ports=(), env=(),
            liveness=None, readiness=None, working_dir=None,
            mounts=(Mount(BRIDGE_VOLUME, conventions.BRIDGE_DIR),)),)
    return dataclasses.replace(pod, containers=(server, *pod.containers[1:]),
                               volumes=tuple(volumes), init_containers=init)
