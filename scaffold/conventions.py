"""What every bundle sets by itself: paths, env names, label keys and thresholds.

One definition each, read by the plan (what `new` emits) and by the values checks (what a user
may not override). A leaf module: it imports nothing from the package, so any module can use
it without an import cycle."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Writable paths: the root filesystem is read-only, so these are size-limited emptyDirs.
TMP = "/tmp"
# HOME for runtimes whose package managers write caches there (npx, uvx).
HOME = "/home/mcp"
# Where Kubernetes (and client libraries) look for the service-account token.
TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"

# transport stdio: an init container copies the bridge binary into this size-limited emptyDir,
# which the server container mounts read-only and runs (the server is the bridge's child).
BRIDGE_DIR = "/opt/mcp-bridge"
BRIDGE_SIZE = "128Mi"
# The MCP Streamable HTTP endpoint's path unless values say otherwise (`path`).
MCP_PATH = "/mcp"

# Runtimes that get a writable HOME (and its caches) besides /tmp.
HOME_RUNTIMES = frozenset({"node", "python"})

_HOME_ENV = (("HOME", HOME), ("XDG_CACHE_HOME", f"{HOME}/.cache"))
# Env vars the bundle sets per runtime, in the order the container lists them (after the
# user's env): they point tools' caches at the writable emptyDirs.
RUNTIME_ENV: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType({
    "generic": (("TMPDIR", TMP),),
    "node": (*_HOME_ENV, ("NPM_CONFIG_CACHE", f"{HOME}/.npm"), ("TMPDIR", TMP)),
    "python": (*_HOME_ENV, ("UV_CACHE_DIR", f"{HOME}/.cache/uv"),
               ("PIP_CACHE_DIR", f"{HOME}/.cache/pip"), ("PYTHONDONTWRITEBYTECODE", "1"),
               ("TMPDIR", TMP)),
})
# A user env var of one of these names would silently override the bundle's.
RESERVED_ENV = frozenset(name for env in RUNTIME_ENV.values() for name, _ in env)

# Label keys every object gets from the bundle (recommended labels), in output order;
# extra labels may not replace them.
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
VERSION_LABEL = "app.kubernetes.io/version"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
FIXED_LABELS: Mapping[str, str] = MappingProxyType({
    "app.kubernetes.io/component": "mcp-server",
    "app.kubernetes.io/part-of": "mcp-servers",
    MANAGED_BY_LABEL: "mcp-scaffold",
})
GENERATED_LABELS = frozenset({NAME_LABEL, INSTANCE_LABEL, VERSION_LABEL, *FIXED_LABELS})

# From this many replicas on, pods are spread over nodes and zones and a PodDisruptionBudget
# keeps drains to one replica at a time (with one replica it would block every drain).
HA_REPLICAS = 2
# PodDisruptionBudget.spec.unhealthyPodEvictionPolicy exists from Kubernetes 1.27 on.
PDB_EVICTION_POLICY_SINCE = (1, 27)
# The Pod Security Standards level the Namespace enforces, warns and audits.
POD_SECURITY_LEVEL = "restricted"
