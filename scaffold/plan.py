"""The plan: what a bundle holds, worked out once from checked values, as frozen typed data.

render lays a plan out through the templates and knows no file names; the templates only
read the plan. A bundle is a namespace plan (the Namespace and its default-deny) and a list of
server plans; today's single-server base is one of each. Each server plan lists its output
files as `Manifest` entries: adding a file is one entry in `_outputs` plus one template."""

from __future__ import annotations

import dataclasses
import functools
import posixpath
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from . import conventions, envloader, fqdnpolicy, netranges, providers
from .providers import SecretProvider
from .values import Values, check_label_value, egress_excepts, has_rbac, image_tag

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
    kind: ClassVar[str] = "value"
    name: str
    value: str


@dataclass(frozen=True)
class FileKeyEnv:
    """An env var the kubelet reads from an env file on a volume (env[].valueFrom.fileKeyRef)."""

    kind: ClassVar[str] = "fileKeyRef"
    name: str
    volume: str
    path: str
    key: str


Env = EnvVar | FileKeyEnv


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
    # "Memory": a tmpfs, for secret-bearing scratch space only (it counts against memory).
    medium: str | None = None


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
    env: tuple[Env, ...]
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
    annotations: Labels = field(default_factory=lambda: MappingProxyType({}))

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
class RbacRule:
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    resource_names: tuple[str, ...]


@dataclass(frozen=True)
class RbacPlan:
    """Read-only API access beyond ConfigMaps (values `rbac`): `rules` and the `view`
    ClusterRole, granted per namespace, or cluster-wide with a recorded reason."""

    rules: tuple[RbacRule, ...]
    namespaces: tuple[str, ...]  # the server's own first
    cluster_role: str | None
    cluster_wide_reason: str | None
    cluster_name: str  # name of the cluster-scoped objects (unique per namespace and server)
    # mcp-scaffold.io/skip values: the findings the values acknowledge, with their reasons.
    unnamed_read_skip: str
    cluster_binding_skip: str | None


@dataclass(frozen=True)
class ApiAccess:
    """Read access through the API server: named ConfigMaps, and `rbac`."""

    config_maps: tuple[str, ...]
    blocks: tuple[IpBlock, ...]
    port: int
    token_expiration_seconds: int
    rbac: RbacPlan | None = None

    @property
    def namespaced_rbac(self) -> RbacPlan | None:
        """The rbac granted by RoleBindings (None when cluster-wide or absent)."""
        return self.rbac if self.rbac and self.rbac.cluster_wide_reason is None else None

    @property
    def cluster_rbac(self) -> RbacPlan | None:
        """The rbac granted by ClusterRoleBindings."""
        return self.rbac if self.rbac and self.rbac.cluster_wide_reason is not None else None

    @property
    def own_role(self) -> bool:
        """The server's namespace has a Role (ConfigMaps, or rules granted per namespace)."""
        ns = self.namespaced_rbac
        return bool(self.config_maps or (ns and ns.rules))


@dataclass(frozen=True)
class IdentityEgress:
    """Egress to the node-local endpoint that hands out the server's cloud credentials, in a
    policy of its own that acknowledges MCP-NET-005 for exactly these /32s."""

    why: str
    targets: tuple[tuple[str, int], ...]  # (cidr, port)
    skip: str


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
    identity: IdentityEgress | None = None


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
    env_loads: tuple[envloader.EnvLoad, ...] = ()  # secrets.env
    env_mode: str = "wrapper"
    env_loader_image: str | None = None


@dataclass(frozen=True)
class CloudIdentity:
    """The cloud identity the SERVER uses (values `cloudIdentity`): its wiring and the
    cloud-side binding the README names."""

    cloud: str  # aws | gcp | azure
    mode: str  # irsa | pod-identity | workload-identity
    sa_annotations: Labels
    pod_labels: Labels
    binding: str  # the cloud-side step, names filled in (README)


@dataclass(frozen=True)
class Disruption:
    """A PodDisruptionBudget: drains take at most one replica at a time."""

    eviction_policy: bool  # the API knows unhealthyPodEvictionPolicy


# The NetworkPolicy names a tree's namespace/ base writes, and the suffix of a server's
# cloud-identity policy: a server of the tree may not take one of them as its own name (its
# NetworkPolicy, named after it, would replace the namespace's, or another server's).
TREE_DEFAULT_DENY = "default-deny"
TREE_DNS_POLICY = "dns"
CLOUD_IDENTITY_POLICY_SUFFIX = "-cloud-identity"
TREE_POLICY_NAMES = (TREE_DEFAULT_DENY, TREE_DNS_POLICY)


@dataclass(frozen=True)
class NamespacePlan:
    """The Namespace with its Pod Security labels, and the default-deny policy in it."""

    dns_policy_name: ClassVar[str] = TREE_DNS_POLICY

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

    @property
    def cloud_identity_policy_name(self) -> str:
        return self.name + CLOUD_IDENTITY_POLICY_SUFFIX

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
    cloud: CloudIdentity | None
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
            default_deny_name=TREE_DEFAULT_DENY,
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
        env_loads=tuple(envloader.loads(s["env"], mount)),
        env_mode=envloader.mode_for(s.get("envLoader", {}).get("image")),
        env_loader_image=s.get("envLoader", {}).get("image"),
    )


def _rbac(v: Values) -> RbacPlan | None:
    r = v.get("rbac") or {}
    if not has_rbac(v):
        return None
    reason = r.get("clusterWide", {}).get("reason")
    source = "rbac in values.yaml"
    return RbacPlan(
        rules=tuple(RbacRule(tuple(x["apiGroups"]), tuple(x["resources"]), tuple(x["verbs"]),
                             tuple(x.get("resourceNames", ()))) for x in r.get("rules", [])),
        namespaces=(v["namespace"], *r.get("namespaces", [])),
        cluster_role=r.get("clusterRole"),
        cluster_wide_reason=reason,
        cluster_name=f"mcp-{v['namespace']}-{v['name']}",
        unnamed_read_skip=(f"{UNNAMED_READ_RULE}=read-only access the server lists and"
                           f" watches by design ({source}): get, list, watch only, no secrets"),
        cluster_binding_skip=f"{CLUSTER_BINDING_RULE}={reason.strip()}" if reason else None,
    )


def _api(v: Values) -> ApiAccess | None:
    rbac = _rbac(v)
    if not v["configMaps"] and rbac is None:
        return None
    api = v["apiServer"]
    return ApiAccess(config_maps=tuple(v["configMaps"]),
                     blocks=tuple(_ip_block(c) for c in api["cidrs"]),
                     port=api["port"], token_expiration_seconds=api["tokenExpirationSeconds"],
                     rbac=rbac)


# The rules of `mcp-scaffold check` that the generated objects acknowledge with a reason.
UNNAMED_READ_RULE = "MCP-RBAC-010"
CLUSTER_BINDING_RULE = "MCP-RBAC-004"
CREDENTIAL_ENDPOINT_RULE = "MCP-NET-005"
ACKNOWLEDGED_RULES = frozenset({UNNAMED_READ_RULE, CLUSTER_BINDING_RULE, CREDENTIAL_ENDPOINT_RULE})
# Node-local credential endpoints (scaffold/netranges.CREDENTIAL_ENDPOINTS holds the ranges
# `check` judges). EKS Pod Identity agent: docs.aws.amazon.com/eks/latest/userguide/
# pod-id-how-it-works.html (169.254.170.23, port 80). GKE metadata server with Workload
# Identity: cloud.google.com/kubernetes-engine/docs/how-to/workload-identity (169.254.169.254
# port 80; with GKE Dataplane V2 the policy must allow 169.254.169.252 port 988).
EKS_POD_IDENTITY_AGENT = (("169.254.170.23/32", 80),)
GKE_METADATA_SERVER = (("169.254.169.254/32", 80), ("169.254.169.252/32", 988))


def _cloud(v: Values) -> CloudIdentity | None:
    ident = v.get("cloudIdentity") or {}
    subject = f"system:serviceaccount:{v['namespace']}:{v['name']}"
    if "aws" in ident:
        role, mode = ident["aws"]["roleArn"], ident["aws"]["mode"]
        if mode == "pod-identity":
            return CloudIdentity(
                "aws", mode, _frozen({}), _frozen({}),
                "An EKS Pod Identity association: `aws eks create-pod-identity-association"
                f" --cluster-name <cluster> --namespace {v['namespace']} --service-account"
                f" {v['name']} --role-arn {role}`, the EKS Pod Identity Agent add-on, and a"
                " trust policy on the role for `pods.eks.amazonaws.com`"
                " (sts:AssumeRole, sts:TagSession).")
        return CloudIdentity(
            "aws", mode, _frozen({"eks.amazonaws.com/role-arn": role}), _frozen({}),
            f"IRSA: the cluster's OIDC provider in IAM, and a trust policy on `{role}` allowing"
            " sts:AssumeRoleWithWebIdentity for `<oidc-provider>:sub` ="
            f" `{subject}` and `<oidc-provider>:aud` = `sts.amazonaws.com`.")
    if "gcp" in ident:
        gsa = ident["gcp"]["gcpServiceAccount"]
        project = gsa.split("@", 1)[1].split(".", 1)[0]
        return CloudIdentity(
            "gcp", "workload-identity", _frozen({"iam.gke.io/gcp-service-account": gsa}),
            _frozen({}),
            "GKE Workload Identity on the cluster and node pool, and `gcloud iam"
            f" service-accounts add-iam-policy-binding {gsa} --role"
            " roles/iam.workloadIdentityUser --member"
            f" \"serviceAccount:<pool-project>.svc.id.goog[{v['namespace']}/{v['name']}]\"`"
            f" (pool project: the cluster's; `{project}` if it is the same project).")
    if "azure" in ident:
        client, tenant = ident["azure"]["clientID"], ident["azure"]["tenantID"]
        return CloudIdentity(
            "azure", "workload-identity",
            _frozen({"azure.workload.identity/client-id": client,
                     "azure.workload.identity/tenant-id": tenant}),
            _frozen({"azure.workload.identity/use": "true"}),
            "The azure-workload-identity webhook (AKS: --enable-workload-identity), the"
            " cluster's OIDC issuer, and a federated identity credential on the application or"
            f" managed identity `{client}` (tenant `{tenant}`) with subject `{subject}` and"
            " audience `api://AzureADTokenExchange`.")
    return None


def _identity_egress(cloud: CloudIdentity | None) -> IdentityEgress | None:
    if cloud is None:
        return None
    if cloud.cloud == "aws" and cloud.mode == "pod-identity":
        return IdentityEgress("the EKS Pod Identity agent, which hands the server its"
                              " cloudIdentity.aws role's credentials", EKS_POD_IDENTITY_AGENT,
                              f"{CREDENTIAL_ENDPOINT_RULE}=cloudIdentity.aws (EKS Pod Identity):"
                              " the agent at 169.254.170.23:80 serves the server's own role")
    if cloud.cloud == "gcp":
        return IdentityEgress("the GKE metadata server, which hands the server its"
                              " cloudIdentity.gcp Workload Identity token", GKE_METADATA_SERVER,
                              f"{CREDENTIAL_ENDPOINT_RULE}=cloudIdentity.gcp (GKE Workload"
                              " Identity): on GKE these addresses are the GKE metadata server,"
                              " which serves only the pod's own identity")
    return None


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
        identity=_identity_egress(_cloud(v)),
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
    env: list[Env] = [EnvVar(k, val) for k, val in sorted(v["env"].items())]
    env += [EnvVar(k, val) for k, val in conventions.RUNTIME_ENV[v["runtime"]]]
    env += [EnvVar(f.env, f.path) for f in secrets.files] if secrets else []
    command = tuple(v["command"])
    if secrets and secrets.env_loads and secrets.env_mode == "fileKeyRef":
        env += [FileKeyEnv(e.name, envloader.ENV_VOLUME, envloader.ENV_FILE, e.name)
                for e in secrets.env_loads]
    elif secrets and secrets.env_loads:
        command = tuple(envloader.wrapper_command(command, secrets.env_loads))
    paths = {k: p.get("path") or None for k, p in v["probes"].items()}
    return ContainerPlan(
        name=SERVER_CONTAINER,
        image=v["image"],
        command=command,
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


SERVER_CONTAINER = "mcp-server"
# eks.amazonaws.com/skip-containers: the containers the EKS pod-identity webhook must leave
# alone: "A comma-separated list of container names to skip adding environment variables and
# volumes to. Applies to `initContainers` and `containers`" (aws/amazon-eks-pod-identity-webhook
# pkg/annotations.go). The CSI provider does not need the injected token: it gets one from the
# CSIDriver's tokenRequests (aws/secrets-store-csi-driver-provider-aws auth/auth.go).
EKS_SKIP_CONTAINERS = "eks.amazonaws.com/skip-containers"


def _env_init_container(v: Values, secrets: SecretsPlan) -> ContainerPlan:
    spec = envloader.env_file_init_container(
        secrets.env_loads, secrets.env_loader_image or "", secrets_volume="secrets",
        mount_path=secrets.mount_path, run_as_user=v["runAsUser"], run_as_group=v["runAsGroup"],
        resources=v["resources"])
    return ContainerPlan(
        name=spec["name"], image=spec["image"], command=tuple(spec["command"]), args=(),
        ports=(), env=(), run_as_user=v["runAsUser"], run_as_group=v["runAsGroup"],
        resources=Resources(_frozen(v["resources"]["requests"]), _frozen(v["resources"]["limits"])),
        liveness=None, readiness=None,
        mounts=tuple(Mount(m["name"], m["mountPath"],
                           read_only=bool(m.get("readOnly"))) for m in spec["volumeMounts"]),
    )


def _aws_in_play(v: Values) -> bool:
    s = v["secrets"]
    return s["provider"] == "aws" or "aws" in (v.get("cloudIdentity") or {})


def _pod(v: Values, labels: Labels, selector: Labels, home: str | None, api: ApiAccess | None,
         secrets: SecretsPlan | None, cloud: CloudIdentity | None) -> PodPlan:
    volumes: list[Volume] = [EmptyDir("tmp", v["tmpSize"])]
    if home:
        volumes.append(EmptyDir("home", v["tmpSize"]))
    if api:
        volumes.append(ProjectedToken("api-token", api.token_expiration_seconds))
    if secrets:
        volumes.append(SecretsCsi("secrets", secrets.class_name))
    init: tuple[ContainerPlan, ...] = ()
    if secrets and secrets.env_loads and secrets.env_mode == "fileKeyRef":
        volumes.append(EmptyDir(envloader.ENV_VOLUME, envloader.ENV_VOLUME_SIZE, medium="Memory"))
        init = (_env_init_container(v, secrets),)
    containers = (_server_container(v, home, api, secrets),)
    # No cloud token unless cloudIdentity asks for one: the webhooks' injection is refused
    # for every container that is not the server with its own identity.
    annotations: dict[str, str] = {}
    if _aws_in_play(v):
        skipped = [c.name for c in init]
        if cloud is None or cloud.cloud != "aws":
            skipped.append(SERVER_CONTAINER)
        if skipped:
            annotations[EKS_SKIP_CONTAINERS] = ",".join(skipped)
    # The Azure webhook injects only into pods labelled azure.workload.identity/use (the
    # provider's pod_labels): that label goes on the pod only with cloudIdentity.azure.
    pod_labels = {**labels, **(cloud.pod_labels if cloud else {})}
    return PodPlan(
        labels=_frozen(pod_labels),
        service_account=v["name"],
        run_as_user=v["runAsUser"],
        run_as_group=v["runAsGroup"],
        spread=selector if v["replicas"] >= conventions.HA_REPLICAS else None,
        containers=containers,
        volumes=tuple(volumes),
        init_containers=init,
        annotations=_frozen(annotations),
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
    namespaced = api.namespaced_rbac if api else None
    cluster = api.cluster_rbac if api else None
    return (
        Manifest("namespace.yaml", "namespace.yaml.j2", namespace),
        Manifest("serviceaccount.yaml", "serviceaccount.yaml.j2"),
        Manifest("role.yaml", "role.yaml.j2",
                 api is not None and (api.own_role or bool(namespaced and namespaced.rules))),
        Manifest("rolebinding.yaml", "rolebinding.yaml.j2",
                 api is not None and (api.own_role or namespaced is not None)),
        Manifest("clusterrole.yaml", "clusterrole.yaml.j2", bool(cluster and cluster.rules)),
        Manifest("clusterrolebinding.yaml", "clusterrolebinding.yaml.j2", cluster is not None),
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
    cloud = _cloud(v)
    major, minor = (int(x) for x in v["kubernetesVersion"].split("."))
    disruption = (Disruption((major, minor) >= conventions.PDB_EVICTION_POLICY_SINCE)
                  if v["replicas"] >= conventions.HA_REPLICAS else None)
    network = _network(v, api, labels)
    pod = _v2_pod(_pod(v, labels, selector, home, api, secrets, cloud), v)
    return ServerPlan(
        name=name,
        namespace=v["namespace"],
        labels=labels,
        selector=selector,
        kubernetes_version=v["kubernetesVersion"],
        replicas=v["replicas"],
        port=v["port"],
        image=v["image"],
        sa_annotations=_frozen({**(secrets.sa_annotations if secrets else {}),
                                **(cloud.sa_annotations if cloud else {})}),
        pod=pod,
        network=network,
        secrets=secrets,
        disruption=disruption,
        cloud=cloud,
        home=home,
        ingress_note=_ingress_note(v),
        answers=v,
        outputs=_outputs(api, secrets, disruption, namespace=v["createNamespace"],
                         flavor=network.flavor if network.host_policy else None,
                         claims=any(vol["persistent"] for vol in v["volumes"])),
        path=v["path"],
        bridge=_bridge(v, pod.containers[0]),
    )


# --- transport stdio, volumes, workingDir, probe headers (contract v2) ------------------------

BRIDGE_VOLUME = "mcp-bridge"


_REFERENCE = re.compile(r"\$(\$|\(([^)]*)\))")


def kubelet_expand(text: str, env: Mapping[str, str]) -> str:
    """What the kubelet makes of `text` in command, args or an env value
    (kubernetes/kubernetes third_party/forked/golang/expansion/expand.go): `$$` is a literal
    `$`, `$(NAME)` is NAME's value when `env` defines it and stays as written otherwise, any
    other `$` (an unclosed `$(` too) is itself."""
    def repl(m: re.Match[str]) -> str:
        if m.group(1) == "$":
            return "$"
        return env.get(m.group(2), m.group(0))
    return _REFERENCE.sub(repl, text)


def kubelet_env(env: Sequence[Env]) -> dict[str, str]:
    """The container's literal env as the kubelet resolves it: in order, each value expanded
    with the variables defined before it (kubelet_pods.go makeEnvironmentVariables). Values
    read at run time (fileKeyRef) are not known here and are left out."""
    out: dict[str, str] = {}
    for e in env:
        if isinstance(e, EnvVar):
            out[e.name] = kubelet_expand(e.value, out)
    return out


def bridge_args(args: list[str], port: int, path: str, command: list[str],
                env: Mapping[str, str] | None = None) -> list[str]:
    """The bridge's arguments: {port} and {path} filled in; the server's command and args as
    one POSIX-shell-quoted string where {command} stands (supergateway's --stdio runs it with
    a shell), else appended as separate arguments.

    The kubelet expands `$(NAME)` in every argument before the bridge sees it, so a line
    quoted first and expanded after would put an env value, quotes and all, into the shell
    (`it's` breaks the line, `'; cmd '` runs cmd). So the command is expanded here, as the
    kubelet would with the container's `env`, then quoted, then every `$` is written `$$`,
    which the kubelet turns back into `$`: the shell gets exactly the quoted line."""
    out = [a.replace("{port}", str(port)).replace("{path}", path) for a in args]
    if any("{command}" in a for a in args):
        known = env or {}
        line = shlex.join(kubelet_expand(a, known) for a in command).replace("$", "$$")
        return [a.replace("{command}", line) for a in out]
    return out + command


def _bridge(v: Values, server: ContainerPlan) -> BridgePlan | None:
    b = v.get("bridge")
    if v["transport"] != "stdio" or b is None:
        return None
    binary = f"{conventions.BRIDGE_DIR}/{posixpath.basename(b['binary'])}"
    args = bridge_args(b["args"], v["port"], v["path"], [*v["command"], *v["args"]],
                       kubelet_env(server.env))
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
    bridge = _bridge(v, server)
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
    annotations = dict(pod.annotations)
    if init and (_aws_in_play(v)):
        # The bridge installer needs no cloud token either (see _pod).
        listed = [n for n in annotations.get(EKS_SKIP_CONTAINERS, "").split(",") if n]
        annotations[EKS_SKIP_CONTAINERS] = ",".join([*(c.name for c in init), *listed])
    return dataclasses.replace(pod, containers=(server, *pod.containers[1:]),
                               volumes=tuple(volumes),
                               init_containers=(*init, *pod.init_containers),
                               annotations=_frozen(annotations))
