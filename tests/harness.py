"""Run the server container of a rendered base the way the pod would, and talk MCP to it.

What comes from the rendered Deployment, exactly as written: command, args (with Kubernetes'
`$(VAR)` expansion), env, workingDir, runAsUser/runAsGroup, readOnlyRootFilesystem, every
volumeMount, the container port and the probes. Each init container runs first, to completion, in
its own sandbox built the same way, sharing the pod's emptyDirs with the server container (e.g.
the bridge copied into an emptyDir the server container mounts read-only). The MCP path comes
from the base's values.yaml (`path`, Contract v2; `/mcp` until the product renders it). The CSI
volume holds the files the rendered SecretProviderClass would produce; the projected token volume
holds its three files; a PersistentVolumeClaim is a directory the test gives.

The one thing mapped is the image: IMAGES says, per image repository, which locally installed
directories and files stand in for the image's PATH and files, its ENV, WORKDIR and ENTRYPOINT.
Nothing else is faked; the kubelet's own additions are the KUBERNETES_SERVICE_* variables.

The sandbox is bubblewrap (Debian's `bwrap`): the host's root, read-only, stands in for the image
filesystem, less the interpreters the image does not have (Image.runtimes: a Python image has no
node, a distroless one no sh); only the rendered writable mounts are writable; the process runs as
the rendered non-root UID/GID, as PID 1 like a container's entrypoint, in its own user, PID and
network namespaces, under its resources.limits.memory (a memory cgroup per container, as the
kubelet sets one). The network namespace has loopback and the pod IP (POD_IP, set up before the
server starts, as the CNI does): the client, the probes and the Service's traffic connect on
the pod IP, so a server that binds 127.0.0.1 is never Ready, as in a cluster; the client joins
that namespace from one thread (setns). Init containers run first, each in its own sandbox with
its own mounts and limit; `valueFrom.fileKeyRef` is filled from the env file they wrote, with the
kubelet's parser (tests/kubelet.py).
Not modelled: emptyDir sizeLimit (bwrap 0.8 has no tmpfs size), CPU and ephemeral-storage limits,
seccomp, and file modes: the pod's UID maps to the host user running the tests (root in CI), so a
host file the pod could not read in a cluster (e.g. mode 0600) is still readable here; writes are
stopped by the read-only mounts, not by ownership.

The acceptance tests (tests/acceptance/) import this module by bare name; it lives in tests/ so
that mypy, which checks the tests, names tests/acceptance/conftest.py "acceptance.conftest" (see
[tool.mypy] in pyproject.toml).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from kubelet import EnvFileError, kubelet_expand, kubelet_parse_env

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
NPM_BIN = TOOLS / "npm" / "node_modules" / ".bin"
# What a node or python base image has on PATH besides what the image installs.
BASE_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
START_TIMEOUT = 60.0  # bounded wait for the port; the 2-core CI machine can be slow
CLONE_NEWNET = 0x40000000
MEMORY_PKG = NPM_BIN.parent / "@modelcontextprotocol" / "server-memory"
FILESYSTEM_PKG = NPM_BIN.parent / "@modelcontextprotocol" / "server-filesystem"


@dataclass(frozen=True)
class Image:
    """What an image holds, as installed on this machine by scripts/install-tools.py."""

    path: tuple[Path, ...] = ()  # local directories standing in for the image's own PATH entries
    # Absolute path in the image -> local file or directory, bound read-only at that path in the
    # sandbox (and run from its local path when it is the command).
    files: dict[str, Path] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # the image's ENV besides PATH
    entrypoint: tuple[str, ...] = ()  # ENTRYPOINT, used when the Deployment sets no command
    workdir: str = "/"  # WORKDIR, used when the Deployment sets no workingDir
    # The interpreters the image has (node, python, sh). The host's others are hidden in the
    # sandbox, so a Python image cannot borrow the host's node (or a distroless one its sh).
    runtimes: frozenset[str] = frozenset()


NODE_ALPINE = frozenset({"node", "sh"})  # node:22-alpine: node, npm, busybox sh; no python
# Where this machine keeps each interpreter: hidden (an empty file or directory bound over it)
# in the sandbox of an image that does not have it.
INTERPRETERS: dict[str, tuple[str, ...]] = {
    "node": ("/usr/bin/node", "/usr/bin/nodejs", "/usr/lib/node_modules", "/usr/local/bin/node",
             "/usr/local/lib/node_modules"),
    "python": ("/usr/bin/python3", "/usr/bin/python3.11", "/usr/lib/python3", "/usr/lib/python3.11",
               "/usr/local/bin/python3", "/root/.pyenv"),
    "sh": ("/usr/bin/sh", "/usr/bin/dash", "/usr/bin/bash", "/usr/bin/busybox"),
}
# The pod's own address in its network namespace (TEST-NET-1, RFC 5737: documentation only,
# never routed). The client, the probes and the Service's traffic reach the server here, as
# the kubelet and kube-proxy reach the pod IP: a server bound to 127.0.0.1 does not answer.
POD_IP = "192.0.2.10"

# The explicit table from image repository to local install. Each repository is one the
# examples name, built as the comment says; the harness refuses any other image.
IMAGES: dict[str, Image] = {
    # FROM node:22-alpine; RUN npm install -g @modelcontextprotocol/server-everything@2026.8.31
    "ghcr.io/acme/mcp-server-everything": Image(path=(NPM_BIN,), runtimes=NODE_ALPINE),
    # FROM python:3.12-slim with node; RUN pip install mcp-server-time==2026.10.19 and
    # npm install -g supergateway@4.0.0 (the bridge and the stdio server in one image)
    "ghcr.io/acme/mcp-server-time-supergateway": Image(
        path=(NPM_BIN, TOOLS / "mcp-server-time" / "bin"),
        runtimes=frozenset({"node", "python", "sh"}),
    ),
    # FROM node:22-alpine; RUN npm install -g supergateway@4.0.0
    #   @modelcontextprotocol/server-memory@2026.8.31
    "ghcr.io/acme/mcp-server-memory-supergateway": Image(path=(NPM_BIN,), runtimes=NODE_ALPINE),
    # The project's own image (containers/kubernetes-mcp-server Dockerfile: WORKDIR /app,
    # ENTRYPOINT ["/app/kubernetes-mcp-server"]); the npm platform package ships the same binary.
    "quay.io/containers/kubernetes_mcp_server": Image(
        files={"/app/kubernetes-mcp-server": NPM_BIN.parent / "kubernetes-mcp-server-linux-amd64" / "bin"
               / "kubernetes-mcp-server-linux-amd64"},
        entrypoint=("/app/kubernetes-mcp-server",),
        workdir="/app",
        runtimes=frozenset(),  # a static Go binary: no interpreter is lent to it
    ),
    # examples/memory-stdio.yaml. The server image, as modelcontextprotocol/servers
    # src/memory/Dockerfile builds it: node:22-alpine, WORKDIR /app holding package.json, dist/
    # and node_modules/, ENTRYPOINT ["node", "dist/index.js"].
    "registry.example.com/mcp/memory": Image(
        files={"/app/package.json": MEMORY_PKG / "package.json", "/app/dist": MEMORY_PKG / "dist",
               "/app/node_modules": NPM_BIN.parent},
        entrypoint=("node", "dist/index.js"),
        workdir="/app",
        runtimes=NODE_ALPINE,
    ),
    # examples/filesystem-stdio.yaml: the same layout, as modelcontextprotocol/servers
    # src/filesystem/Dockerfile builds it (WORKDIR /app, ENTRYPOINT ["node", "dist/index.js"]).
    "registry.example.com/mcp/filesystem": Image(
        files={"/app/package.json": FILESYSTEM_PKG / "package.json",
               "/app/dist": FILESYSTEM_PKG / "dist", "/app/node_modules": NPM_BIN.parent},
        entrypoint=("node", "dist/index.js"),
        workdir="/app",
        runtimes=NODE_ALPINE,
    ),
    # The bridge image (README, "stdio servers: the bridge"): supergateway 4.0.0 bundled into one
    # file at /usr/local/bin/supergateway, plus `cp`; install-tools.py builds the same bundle.
    "registry.example.com/mcp/supergateway-bundle": Image(
        files={"/usr/local/bin/supergateway": TOOLS / "bridge" / "supergateway"},
        runtimes=frozenset({"sh"}),  # FROM busybox: cp and sh, no node of its own
    ),
    # secrets.envLoader.image in the acceptance tests: FROM busybox (a POSIX /bin/sh and cat).
    "registry.example.com/mcp/env-loader": Image(runtimes=frozenset({"sh"})),
}
# Set by the kubelet in every container, whatever the Deployment says (enableServiceLinks only
# drops the other services' variables). The pod's network namespace has nothing at this address:
# an API call is refused there and never leaves the machine.
PROJECTED_TOKEN = "test-projected-token"  # what the kubelet would write; nothing can verify it here
KUBELET_ENV = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}


def render_example(values_file: Path, out: Path) -> Path:
    """A base rendered by the real CLI (a subprocess, as a user runs `mcp-scaffold new`)."""
    proc = subprocess.run(
        [sys.executable, "-m", "scaffold", "new", "--values", str(values_file), "--output", str(out),
         "--no-input"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, f"mcp-scaffold new failed ({proc.returncode}):\n{proc.stderr}"
    return out


def _fail(message: str) -> None:
    pytest.fail(message, pytrace=False)


def _find(docs: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    return next((d for d in docs if d.get("kind") == kind), None)


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' dependent-variable expansion in command/args/env (the shared oracle)."""
    return kubelet_expand(text, env)


def csi_file_names(spc: dict[str, Any]) -> list[str]:
    """The files a provider writes into the CSI mount for this SecretProviderClass, read from
    its rendered parameters the way each provider documents them."""
    provider = spc["spec"]["provider"]
    params = spc["spec"]["parameters"]
    names: list[str] = []
    if provider == "aws":
        # aws/secrets-store-csi-driver-provider-aws provider/secret_descriptor.go GetFileName:
        # objectAlias, else objectName, with "/" translated to pathTranslation (default "_");
        # each jmesPath entry adds a file named by its objectAlias.
        translate = params.get("pathTranslation", "_")
        for obj in yaml.safe_load(params["objects"]):
            name = obj.get("objectAlias") or obj["objectName"]
            names.append(name.lstrip("/") if translate == "False" else name.replace("/", translate))
            names.extend(j["objectAlias"] for j in obj.get("jmesPath", []))
    elif provider in ("azure", "vault"):
        names.extend(o.get("objectAlias") or o["objectName"] for o in yaml.safe_load(params["objects"]))
    elif provider == "gcp":
        names.extend(s["path"] for s in yaml.safe_load(params["secrets"]))
    else:
        _fail(f"the harness does not know provider {provider!r}")
    return names


def _repository(image: str) -> str:
    name = image.split("@", 1)[0]
    return name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name


FileReader = Callable[[str, str], "str | None"]


def _plain_env(container: dict[str, Any], read: FileReader | None = None) -> dict[str, str]:
    """The container's env as the kubelet builds it, in order (a `$(NAME)` sees only the names
    before it). `valueFrom.fileKeyRef` reads the env file an init container wrote on the named
    volume (`read(volume, path)`, None when it is missing) with the kubelet's parser; before the
    init containers ran (read is None) such a variable is not known yet and is left out."""
    env: dict[str, str] = {}
    for e in container.get("env", []):
        ref = e.get("valueFrom", {}).get("fileKeyRef")
        if "value" in e:
            env[e["name"]] = expand(e["value"], env)
        elif ref is not None:
            if read is None:
                continue
            text = read(ref["volumeName"], ref["path"])
            try:
                value = kubelet_parse_env(text, ref["key"]) if text is not None else None
            except EnvFileError as exc:  # the kubelet refuses to start the container
                raise AssertionError(f"env {e['name']}: the kubelet cannot parse"
                                     f" {ref['volumeName']}/{ref['path']}: {exc}") from None
            if not value and not ref.get("optional"):
                raise AssertionError(f"env {e['name']}: key {ref['key']} is not in"
                                     f" {ref['volumeName']}/{ref['path']}: the kubelet would not"
                                     " start the container")
            if value is not None:
                env[e["name"]] = value
        else:
            raise AssertionError(f"env {e['name']} is not a plain value nor a fileKeyRef: {e}")
    return env


def _ids(container: dict[str, Any], spec: dict[str, Any]) -> tuple[int, int]:
    csc = container.get("securityContext", {})
    psc = spec.get("securityContext", {})
    return int(csc.get("runAsUser", psc.get("runAsUser"))), int(csc.get("runAsGroup", psc.get("runAsGroup")))


@dataclass
class InitContainer:
    """An init container of the rendered pod: it runs to completion before the server starts."""

    name: str
    image: str
    command: list[str]
    args: list[str]
    env: dict[str, str]
    working_dir: str | None
    uid: int
    gid: int
    read_only_root: bool
    mounts: list[dict[str, Any]]
    memory_limit: int | None = None

    @classmethod
    def from_spec(cls, container: dict[str, Any], spec: dict[str, Any]) -> InitContainer:
        env = _plain_env(container)
        uid, gid = _ids(container, spec)
        return cls(
            name=container["name"],
            image=container["image"],
            command=[expand(c, env) for c in container.get("command", [])],
            args=[expand(a, env) for a in container.get("args", [])],
            env=env,
            working_dir=container.get("workingDir"),
            uid=uid,
            gid=gid,
            read_only_root=bool(container.get("securityContext", {}).get("readOnlyRootFilesystem")),
            mounts=list(container.get("volumeMounts", [])),
            memory_limit=_memory_limit(container),
        )

    @property
    def repository(self) -> str:
        return _repository(self.image)


@dataclass
class Pod:
    """The server container of a rendered base, as the kubelet would start it."""

    base: Path
    image: str
    command: list[str]
    args: list[str]
    env: dict[str, str]
    working_dir: str | None
    uid: int
    gid: int
    read_only_root: bool
    port: int
    path: str
    probes: dict[str, dict[str, Any]]
    mounts: list[dict[str, Any]]
    volumes: dict[str, dict[str, Any]]
    secret_files: list[str]
    init_containers: list[InitContainer] = field(default_factory=list)
    memory_limit: int | None = None  # bytes, resources.limits.memory
    container: dict[str, Any] = field(default_factory=dict, repr=False)  # as rendered

    def with_files(self, read: FileReader) -> Pod:
        """The pod once its init containers ran: env (and command/args, which may name it)
        with the fileKeyRef variables read from their volumes."""
        env = _plain_env(self.container, read)
        return replace(self, env=env,
                       command=[expand(c, env) for c in self.container.get("command", [])],
                       args=[expand(a, env) for a in self.container.get("args", [])])

    @classmethod
    def from_base(cls, base: Path) -> Pod:
        docs: list[dict[str, Any]] = []
        for f in sorted(base.glob("*.yaml")):
            if f.name != "values.yaml":
                docs.extend(d for d in yaml.safe_load_all(f.read_text()) if d)
        deployment = _find(docs, "Deployment")
        if deployment is None:
            raise AssertionError(f"{base} has no Deployment")
        spec = deployment["spec"]["template"]["spec"]
        container = next(c for c in spec["containers"] if c["name"] == "mcp-server")
        csc = container.get("securityContext", {})
        env = _plain_env(container)
        uid, gid = _ids(container, spec)
        values = yaml.safe_load((base / "values.yaml").read_text())
        spc = _find(docs, "SecretProviderClass")
        http_port = next(p for p in container["ports"] if p["name"] == "http")
        return cls(
            base=base,
            image=container["image"],
            command=[expand(c, env) for c in container.get("command", [])],
            args=[expand(a, env) for a in container.get("args", [])],
            env=env,
            working_dir=container.get("workingDir"),
            uid=uid,
            gid=gid,
            read_only_root=bool(csc.get("readOnlyRootFilesystem")),
            port=int(http_port["containerPort"]),
            path=str(values.get("path", "/mcp")),
            probes={k: container[k] for k in ("livenessProbe", "readinessProbe") if k in container},
            mounts=list(container.get("volumeMounts", [])),
            volumes={v["name"]: v for v in spec.get("volumes", [])},
            secret_files=csi_file_names(spc) if spc else [],
            init_containers=[InitContainer.from_spec(c, spec) for c in spec.get("initContainers", [])],
            memory_limit=_memory_limit(container),
            container=container,
        )

    @property
    def repository(self) -> str:
        return _repository(self.image)


_QUANTITY = re.compile(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?")
_UNITS = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20,
          "Gi": 2**30, "Ti": 2**40}


def _memory_limit(container: dict[str, Any]) -> int | None:
    text = container.get("resources", {}).get("limits", {}).get("memory")
    if text is None:
        return None
    match = _QUANTITY.fullmatch(str(text))
    assert match, f"memory limit {text!r} is not a quantity the harness reads"
    return int(float(match[1]) * _UNITS[match[2]])


def _resolve_in_root(path: str) -> str:
    """The host path a mount target lands on: the runtime resolves symlinks in the image's
    root (runc's securejoin), e.g. Debian's /var/run -> /run."""
    parts = Path(path).parts[1:]
    current = Path("/")
    for i, part in enumerate(parts):
        nxt = current / part
        if not nxt.is_symlink():
            current = nxt
            continue
        current = Path(os.path.realpath(nxt))
        return str(Path(_resolve_in_root(str(current))).joinpath(*parts[i + 1:]))
    return str(current)


def _root_args(targets: list[str]) -> list[str]:
    """bwrap arguments that lay the host root read-only over the sandbox's tmpfs root, with a
    fresh directory at each mount target and on its way (bwrap cannot create a mount point
    inside a read-only bind, and nothing may be created on the host)."""
    out: list[str] = []

    def carve(host_dir: Path) -> None:
        for child in sorted(host_dir.iterdir()):
            p = str(child)
            if p in ("/proc", "/dev") or p in targets:
                continue
            if child.is_symlink():
                out.extend(["--symlink", os.readlink(child), p])
            elif child.is_dir() and any(t.startswith(p + "/") for t in targets):
                out.extend(["--dir", p])
                carve(child)
            elif child.exists():
                out.extend(["--ro-bind", p, p])

    carve(Path("/"))
    return out


@dataclass
class Running:
    pod: Pod
    proc: subprocess.Popen[bytes]
    child_pid: int
    stderr: Path
    secrets: dict[str, str]  # the files in the CSI mount: name -> content
    cgroup: Path | None = None  # the server container's memory cgroup

    @property
    def url(self) -> str:
        return f"http://{POD_IP}:{self.pod.port}{self.pod.path}"

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")

    def in_pod_net(self, fn: Callable[[], T]) -> T:
        """Call fn on a thread that has joined the pod's network namespace: its sockets reach
        the pod's loopback and nothing else."""
        box: dict[str, Any] = {}

        def run() -> None:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/proc/{self.child_pid}/ns/net", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    box["error"] = OSError(ctypes.get_errno(), "setns into the pod's network")
                    return
            finally:
                os.close(fd)
            try:
                box["value"] = fn()
            except BaseException as exc:
                box["error"] = exc

        t = threading.Thread(target=run)
        t.start()
        t.join()
        if "error" in box:
            raise box["error"]
        return box["value"]  # type: ignore[no-any-return]

    def exec(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run another process in the pod's namespaces (as `kubectl exec` would), with the
        container's UID, env and mounts."""
        return subprocess.run(
            ["nsenter", f"--target={self.child_pid}", "--user", "--mount", "--net", "--pid",
             "--preserve-credentials", f"--setuid={self.pod.uid}", f"--setgid={self.pod.gid}",
             "env", "-i", *[f"{k}={v}" for k, v in self.env().items()], *argv],
            capture_output=True, text=True, timeout=30, check=False,
        )

    def env(self) -> dict[str, str]:
        return container_env(self.pod, image_of(self.pod))


T = TypeVar("T")


def image_of(pod: Pod | InitContainer) -> Image:
    image = IMAGES.get(pod.repository)
    if image is None:
        _fail(f"image {pod.image}: not in tests/harness.py IMAGES (known: {sorted(IMAGES)})")
    assert image is not None
    for d in (*image.path, *image.files.values()):
        if not d.exists():
            _fail(f"{d} is missing (image {pod.repository}): run `python scripts/install-tools.py`")
    return image


def container_env(pod: Pod | InitContainer, image: Image) -> dict[str, str]:
    """The process environment: the image's ENV, overridden by the Deployment's env, then the
    kubelet's service variables."""
    path = ":".join([*map(str, image.path), *BASE_PATH])
    return {"PATH": path, **image.env, **pod.env, **KUBELET_ENV}


def _argv(pod: Pod | InitContainer, image: Image, env: dict[str, str],
          binds: dict[str, Path] | None = None) -> list[str]:
    """The process's argv. `binds` maps a mount path to the host directory behind it, so a
    command an init container put on a shared volume is read where it lies."""
    # Kubernetes: command replaces ENTRYPOINT, args replace CMD (an image CMD is dropped when
    # command is set).
    argv = [*(pod.command or image.entrypoint), *pod.args]
    if not argv:
        _fail(f"no command and image {pod.repository} has no ENTRYPOINT in IMAGES")
    if argv[0] in image.files:
        return [str(image.files[argv[0]]), *argv[1:]]
    exe = argv[0] if "/" in argv[0] else shutil.which(argv[0], path=env["PATH"])
    if exe is None:
        _fail(f"{argv[0]!r} is not on the PATH of image {pod.repository}: {env['PATH']}")
    assert exe is not None
    host_exe = exe
    for target, host in (binds or {}).items():
        if exe.startswith(target.rstrip("/") + "/"):
            host_exe = str(host / exe[len(target.rstrip("/")) + 1:])
    if not Path(host_exe).is_file():
        _fail(f"{exe!r} is not in image {pod.repository} nor on a volume an init container filled")
    # An npm or pip entry script names its interpreter (`#!/usr/bin/env node`): the image has it.
    with open(host_exe, "rb") as f:
        shebang = f.readline().split()
    interpreter = (shebang[1] if shebang[:1] == [b"#!/usr/bin/env"] and len(shebang) > 1
                   else shebang[0][2:] if shebang[:1] and shebang[0].startswith(b"#!") else b"")
    runtime = _runtime(interpreter.decode(errors="replace"))
    if runtime and runtime not in image.runtimes:
        _fail(f"{exe} needs {interpreter.decode()!r}: image {pod.repository} has no {runtime}"
              f" (it has: {', '.join(sorted(image.runtimes)) or 'no interpreter'})")
    if _runtime(argv[0]) and _runtime(argv[0]) not in image.runtimes:
        _fail(f"{argv[0]!r}: image {pod.repository} has no {_runtime(argv[0])}")
    if interpreter and shutil.which(interpreter.decode(errors="replace"), path=env["PATH"]) is None:
        _fail(f"{exe} needs {interpreter.decode()!r}, which is not installed on this machine")
    return [exe, *argv[1:]]


def _runtime(program: str) -> str | None:
    """The interpreter family a program name or shebang path belongs to, if any."""
    name = program.rsplit("/", 1)[-1]
    if name in ("node", "nodejs"):
        return "node"
    if re.fullmatch(r"python3?(\.\d+)?", name):
        return "python"
    if name in ("sh", "dash", "bash", "ash", "busybox"):
        return "sh"
    return None


def _mount_args(mounts: list[dict[str, Any]], volumes: dict[str, dict[str, Any]], secrets_dir: Path,
                token_dir: Path, dirs: dict[str, Path]) -> list[str]:
    """bwrap arguments for a container's volumeMounts. `dirs` holds the host directory of each
    volume that outlives one container: an emptyDir an init container shares, a claim."""
    out: list[str] = []
    for m in mounts:
        vol = volumes[m["name"]]
        target = _resolve_in_root(m["mountPath"])
        if m["name"] in dirs:
            # The same directory in every container that mounts it, read-only where the
            # mount says so.
            out.extend(["--ro-bind" if m.get("readOnly") else "--bind", str(dirs[m["name"]]), target])
        elif "persistentVolumeClaim" in vol:
            _fail(f"claim {vol['persistentVolumeClaim']['claimName']}: the test gave no directory for it")
        elif "emptyDir" in vol:
            if m.get("readOnly"):
                raise AssertionError(f"emptyDir {m['name']} mounted read-only")
            # A fresh tmpfs owned by the pod's user (fsGroup makes emptyDirs group-writable).
            out.extend(["--perms", "0777", "--tmpfs", target])
        elif "csi" in vol:
            if not (m.get("readOnly") and vol["csi"].get("readOnly")):
                raise AssertionError(f"CSI volume {m['name']} is not read-only")
            out.extend(["--ro-bind", str(secrets_dir), target])
        elif "projected" in vol:
            out.extend(["--ro-bind", str(token_dir), target])
        else:
            raise AssertionError(f"the harness does not know volume {vol}")
    return out


def _hide_args(image: Image) -> list[str]:
    """bwrap arguments hiding the host's interpreters the image does not have."""
    out: list[str] = []
    for runtime, paths in INTERPRETERS.items():
        if runtime in image.runtimes:
            continue
        for path in paths:
            if os.path.islink(path) or not os.path.exists(path):
                continue  # a link resolves to one of the others; nothing to hide
            out.extend(["--tmpfs", path] if os.path.isdir(path) else ["--ro-bind", "/dev/null", path])
    return out


def _image_file_args(image: Image) -> list[str]:
    out: list[str] = []
    for target, local in sorted(image.files.items()):
        out.extend(["--ro-bind", str(local), target])
    return out


def _sandbox(uid: int, gid: int, targets: list[str], workdir: str) -> list[str]:
    """The bwrap command up to the mounts: namespaces, the rendered UID/GID, the read-only root
    with mount points carved for `targets`, /dev and /proc."""
    # The image's WORKDIR exists in the image; a directory the host lacks is made in the
    # sandbox's read-only root.
    make_workdir = not Path(workdir).exists() and workdir not in targets
    return [
        "bwrap", "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
        "--unshare-uts", "--die-with-parent", "--new-session", "--as-pid-1",
        "--uid", str(uid), "--gid", str(gid),
        *_root_args([*targets, workdir] if make_workdir else targets),
        *(["--dir", workdir] if make_workdir else []), "--dev", "/dev", "--proc", "/proc",
    ]


def _env_args(env: dict[str, str]) -> list[str]:
    out: list[str] = ["--clearenv"]
    for k, v in env.items():
        out.extend(["--setenv", k, v])
    return out


def run_init_containers(pod: Pod, dirs: dict[str, Path], secrets_dir: Path, token_dir: Path,
                        cgroups: Path) -> None:
    """Each init container in order, to completion, as the kubelet runs them, with its own
    mounts and memory limit; a failure fails."""
    for init in pod.init_containers:
        assert init.read_only_root, f"init container {init.name} must have readOnlyRootFilesystem: true"
        image = image_of(init)
        env = container_env(init, image)
        argv = _argv(init, image, env)
        targets = [_resolve_in_root(m["mountPath"]) for m in init.mounts] + sorted(image.files)
        workdir = init.working_dir or image.workdir
        cmd = [
            *_sandbox(init.uid, init.gid, targets, workdir),
            *_mount_args(init.mounts, pod.volumes, secrets_dir, token_dir, dirs),
            *_image_file_args(image),
            *_hide_args(image),
            *_unhide_tools(targets),
            "--remount-ro", "/", "--chdir", workdir, *_env_args(env),
        ]
        with _memory_cgroup(cgroups / init.name, init.memory_limit) as join:
            proc = subprocess.run([*join, *cmd, "--", "/usr/bin/env", "-u", "PWD", *argv],
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=120, check=False)
        assert proc.returncode == 0, f"init container {init.name} exited {proc.returncode}:\n{proc.stderr}"


MEMORY_CGROUPS = Path("/sys/fs/cgroup/memory")


@contextlib.contextmanager
def _memory_cgroup(name: Path, limit: int | None) -> Iterator[list[str]]:
    """A memory cgroup (v1, as this machine mounts it) holding the container's limit, as the
    kubelet sets one per container: the argv prefix that starts a command inside it (a shell
    joins the cgroup, then execs the command, so nothing runs outside the limit)."""
    if limit is None:
        yield []
        return
    if not (MEMORY_CGROUPS / "cgroup.procs").exists():
        _fail(f"{MEMORY_CGROUPS} is not a memory cgroup: the harness cannot apply resources.limits")
    group = MEMORY_CGROUPS / f"mcp-accept-{os.getpid()}-{name.parent.name}-{name.name}"
    group.mkdir()
    try:
        (group / "memory.limit_in_bytes").write_text(str(limit))
        swap = group / "memory.memsw.limit_in_bytes"
        if swap.exists():  # no swap beyond the limit, as a node without swap gives none
            swap.write_text(str(limit))
        yield ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(group / "cgroup.procs")]
    finally:
        for _ in range(50):  # the processes are gone once killed; the kernel frees the group
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def memory_peak(running: Running) -> int | None:
    """The most memory the server container used (bytes), read from its cgroup."""
    peak = running.cgroup / "memory.max_usage_in_bytes" if running.cgroup else None
    return int(peak.read_text()) if peak and peak.exists() else None


def _pod_network(child_pid: int) -> None:
    """Give the pod's network namespace its pod IP (a veth pair, both ends inside it): the
    kubelet's probes and the Service reach a pod there, never on its loopback."""
    net = f"--net=/proc/{child_pid}/ns/net"
    for argv in (["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1"],
                 ["ip", "addr", "add", f"{POD_IP}/32", "dev", "eth0"],
                 ["ip", "link", "set", "eth1", "up"], ["ip", "link", "set", "eth0", "up"]):
        proc = subprocess.run(["nsenter", net, *argv], capture_output=True, text=True,
                              timeout=30, check=False)
        assert proc.returncode == 0, f"pod network: {' '.join(argv)}: {proc.stderr}"


def _unhide_tools(targets: list[str]) -> list[str]:
    """A checkout under a path the pod mounts over (e.g. /tmp) would hide the installed image
    contents: bind them back, read-only."""
    tools = str(TOOLS.resolve())
    if any(tools.startswith(t.rstrip("/") + "/") for t in targets):
        return ["--ro-bind", tools, tools]
    return []


def _write_token_dir(pod: Pod, token_dir: Path) -> None:
    for vol in pod.volumes.values():
        for src in vol.get("projected", {}).get("sources", []):
            if "serviceAccountToken" in src:
                (token_dir / src["serviceAccountToken"]["path"]).write_text(PROJECTED_TOKEN)
            items = src.get("configMap", {}).get("items", []) + src.get("downwardAPI", {}).get("items", [])
            for item in items:
                (token_dir / item["path"]).write_text(f"test-{item['path']}")
    for f in token_dir.iterdir():
        f.chmod(0o444)


def _wait_for_port(running: Running, deadline: float) -> None:
    def probe() -> bool:
        while time.monotonic() < deadline:
            if running.proc.poll() is not None:
                return False
            with contextlib.suppress(OSError), socket.create_connection((POD_IP, running.pod.port), 1):
                return True
            time.sleep(0.1)
        return False

    if not running.in_pod_net(probe):
        state = "exited" if running.proc.poll() is not None else f"not listening after {START_TIMEOUT}s"
        raise AssertionError(f"server {state} on port {running.pod.port}:\n{running.log()}")


def _probe_port(pod: Pod, action: dict[str, Any]) -> int:
    """A probe's port: a number, or the name of a container port (only `http` is rendered)."""
    port = action["port"]
    if isinstance(port, int):
        return port
    assert port == "http", f"probe port {port!r} names no rendered container port"
    return pod.port


def check_probes(running: Running) -> dict[str, int | None]:
    """Each rendered probe, done as the kubelet does: httpGet succeeds on 200-399 (kubelet
    pkg/probe/http), tcpSocket when the connection opens. Returns the HTTP status per probe."""

    def do() -> dict[str, int | None]:
        seen: dict[str, int | None] = {}
        for name, probe in running.pod.probes.items():
            if "httpGet" in probe:
                conn = http.client.HTTPConnection(POD_IP, _probe_port(running.pod, probe["httpGet"]),
                                                  timeout=10)
                headers = {h["name"]: h["value"] for h in probe["httpGet"].get("httpHeaders", [])}
                conn.request("GET", probe["httpGet"]["path"], headers=headers)
                status = conn.getresponse().status
                conn.close()
                assert 200 <= status < 400, f"{name} {probe['httpGet']['path']}: HTTP {status}"
                seen[name] = status
            elif "tcpSocket" in probe:
                port = _probe_port(running.pod, probe["tcpSocket"])
                socket.create_connection((POD_IP, port), 10).close()
                seen[name] = None
            else:
                raise AssertionError(f"the harness does not know probe {probe}")
        return seen

    return running.in_pod_net(do)


@contextlib.contextmanager
def run_pod(base: Path, secrets: dict[str, str] | None = None,
            claims: dict[str, Path] | None = None) -> Iterator[Running]:
    """Run the base's init containers, then start its server container in the sandbox; yield
    once its port answers on the pod IP and its probes pass; always kill the whole process
    group. `secrets` gives file contents by name (each a file the SecretProviderClass
    produces); `claims` the directory that stands in for each PersistentVolumeClaim, by claim
    name. Each container runs under its own memory limit."""
    if shutil.which("bwrap") is None:
        _fail("bwrap (Debian package bubblewrap) is missing: run `python scripts/install-tools.py`")
    pod = Pod.from_base(base)
    assert pod.read_only_root, "the rendered container must have readOnlyRootFilesystem: true"
    image = image_of(pod)
    unknown = sorted(set(secrets or {}) - set(pod.secret_files))
    if unknown:
        raise AssertionError(f"secrets {unknown} are no file the provider writes: {sorted(pod.secret_files)}")
    # Files the test does not care about still exist in the mount, as the provider writes them.
    secrets = {name: f"test content of {name}" for name in pod.secret_files} | (secrets or {})
    with tempfile.TemporaryDirectory(prefix="mcp-accept-") as tmp:
        secrets_dir, token_dir = Path(tmp, "secrets"), Path(tmp, "token")
        secrets_dir.mkdir()
        token_dir.mkdir()
        for name, content in secrets.items():
            (secrets_dir / name).write_text(content)
            (secrets_dir / name).chmod(0o644)  # the CSI driver's default filePermission
        _write_token_dir(pod, token_dir)
        dirs = {name: path for name, vol in pod.volumes.items() if "persistentVolumeClaim" in vol
                for path in [(claims or {}).get(vol["persistentVolumeClaim"]["claimName"])] if path}
        # An emptyDir lives as long as the pod: one that an init container fills is a directory
        # both sandboxes bind (fresh, writable by the pod's user through the UID mapping).
        for init in pod.init_containers:
            for m in init.mounts:
                if "emptyDir" in pod.volumes[m["name"]] and m["name"] not in dirs:
                    dirs[m["name"]] = Path(tmp, "emptydir", m["name"])
                    dirs[m["name"]].mkdir(parents=True)
        cgroups = Path(tmp).name
        run_init_containers(pod, dirs, secrets_dir, token_dir, Path(cgroups))

        def read(volume: str, path: str) -> str | None:
            f = dirs.get(volume, Path(tmp, "no-such-volume")) / path
            return f.read_text() if f.is_file() else None

        pod = pod.with_files(read)
        env = container_env(pod, image)
        argv = _argv(pod, image, env, {_resolve_in_root(m["mountPath"]): dirs[m["name"]]
                                       for m in pod.mounts if m["name"] in dirs})
        targets = [_resolve_in_root(m["mountPath"]) for m in pod.mounts] + sorted(image.files)
        workdir = pod.working_dir or image.workdir
        info_r, info_w = os.pipe()
        block_r, block_w = os.pipe()
        cmd = [
            *_sandbox(pod.uid, pod.gid, targets, workdir),
            *_mount_args(pod.mounts, pod.volumes, secrets_dir, token_dir, dirs),
            *_image_file_args(image),
            *_hide_args(image),
            *_unhide_tools(targets),
            "--remount-ro", "/", "--info-fd", str(info_w), "--block-fd", str(block_r),
            "--chdir", workdir, *_env_args(env),
        ]
        stderr = Path(tmp, "stderr.log")
        with _memory_cgroup(Path(cgroups) / "mcp-server", pod.memory_limit) as join, \
                stderr.open("wb") as err:
            # bwrap sets PWD after --chdir; a container runtime does not: env drops it and
            # execs the server in place.
            proc = subprocess.Popen([*join, *cmd, "--", "/usr/bin/env", "-u", "PWD", *argv],
                                    stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                    pass_fds=(info_w, block_r), start_new_session=True)
            os.close(info_w)
            os.close(block_r)
            group = Path(join[-1]).parent if join else None
            try:
                with os.fdopen(info_r) as info:
                    raw = info.read()
                if not raw:
                    raise AssertionError(f"bwrap failed: {stderr.read_text(errors='replace')}")
                child = int(json.loads(raw)["child-pid"])
                # The pod's network is set up before the server starts, as the CNI does.
                _pod_network(child)
                os.write(block_w, b"x")
                os.close(block_w)
                block_w = -1
                running = Running(pod, proc, child, stderr, secrets, group)
                _wait_for_port(running, time.monotonic() + START_TIMEOUT)
                check_probes(running)
                try:
                    yield running
                except BaseException:
                    print(f"--- server stderr ({pod.base.name}) ---\n{running.log()}")
                    raise
            finally:
                if block_w != -1:
                    os.close(block_w)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


@dataclass
class Session:
    server_name: str
    tools: list[str]
    result: Any


def mcp_call(running: Running, tool: str, arguments: dict[str, Any]) -> Session:
    """The official MCP Python SDK client: connect over Streamable HTTP at the pod's path,
    initialize, list tools and call one."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def go() -> Session:
        async with streamable_http_client(running.url) as (read, write), ClientSession(read, write) as s:
            init = await s.initialize()
            listed = await s.list_tools()
            result = await s.call_tool(tool, arguments)
            return Session(init.server_info.name, [t.name for t in listed.tools], result)

    return running.in_pod_net(lambda: asyncio.run(asyncio.wait_for(go(), 60)))


def text_of(result: Any) -> str:
    """The text parts of a tools/call result; a tool error fails with its message."""
    text = "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")
    assert not result.is_error, f"tool returned an error: {text}"
    return text
