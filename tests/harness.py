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
filesystem; only the rendered writable mounts are writable; the process runs as the rendered
non-root UID/GID, as PID 1 like a container's entrypoint, in its own user, PID and network
namespaces. The network namespace has only loopback, so a server that binds 0.0.0.0 is still
reachable on nothing but the pod's own 127.0.0.1; the client joins that namespace from one
thread (setns) to connect, as a sidecar or the kubelet's probe on the pod IP would.
Not modelled: emptyDir sizeLimit (bwrap 0.8 has no tmpfs size), resource limits, seccomp, and
file modes: the pod's UID maps to the host user running the tests (root in CI), so a host file
the pod could not read in a cluster (e.g. mode 0600) is still readable here; writes are stopped
by the read-only mounts, not by ownership.

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
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from kubelet import kubelet_expand

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


# The explicit table from image repository to local install. Each repository is one the
# examples name, built as the comment says; the harness refuses any other image.
IMAGES: dict[str, Image] = {
    # FROM node:22-alpine; RUN npm install -g @modelcontextprotocol/server-everything@2026.8.31
    "ghcr.io/acme/mcp-server-everything": Image(path=(NPM_BIN,)),
    # FROM python:3.12-slim with node; RUN pip install mcp-server-time==2026.10.19 and
    # npm install -g supergateway@4.0.0 (the bridge and the stdio server in one image)
    "ghcr.io/acme/mcp-server-time-supergateway": Image(
        path=(NPM_BIN, TOOLS / "mcp-server-time" / "bin")
    ),
    # FROM node:22-alpine; RUN npm install -g supergateway@4.0.0
    #   @modelcontextprotocol/server-memory@2026.8.31
    "ghcr.io/acme/mcp-server-memory-supergateway": Image(path=(NPM_BIN,)),
    # The project's own image (containers/kubernetes-mcp-server Dockerfile: WORKDIR /app,
    # ENTRYPOINT ["/app/kubernetes-mcp-server"]); the npm platform package ships the same binary.
    "quay.io/containers/kubernetes_mcp_server": Image(
        files={"/app/kubernetes-mcp-server": NPM_BIN.parent / "kubernetes-mcp-server-linux-amd64" / "bin"
               / "kubernetes-mcp-server-linux-amd64"},
        entrypoint=("/app/kubernetes-mcp-server",),
        workdir="/app",
    ),
    # examples/memory-stdio.yaml. The server image, as modelcontextprotocol/servers
    # src/memory/Dockerfile builds it: node:22-alpine, WORKDIR /app holding package.json, dist/
    # and node_modules/, ENTRYPOINT ["node", "dist/index.js"].
    "registry.example.com/mcp/memory": Image(
        files={"/app/package.json": MEMORY_PKG / "package.json", "/app/dist": MEMORY_PKG / "dist",
               "/app/node_modules": NPM_BIN.parent},
        entrypoint=("node", "dist/index.js"),
        workdir="/app",
    ),
    # examples/filesystem-stdio.yaml: the same layout, as modelcontextprotocol/servers
    # src/filesystem/Dockerfile builds it (WORKDIR /app, ENTRYPOINT ["node", "dist/index.js"]).
    "registry.example.com/mcp/filesystem": Image(
        files={"/app/package.json": FILESYSTEM_PKG / "package.json",
               "/app/dist": FILESYSTEM_PKG / "dist", "/app/node_modules": NPM_BIN.parent},
        entrypoint=("node", "dist/index.js"),
        workdir="/app",
    ),
    # The bridge image (README, "stdio servers: the bridge"): supergateway 4.0.0 bundled into one
    # file at /usr/local/bin/supergateway, plus `cp`; install-tools.py builds the same bundle.
    "registry.example.com/mcp/supergateway-bundle": Image(
        files={"/usr/local/bin/supergateway": TOOLS / "bridge" / "supergateway"},
    ),
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


def _plain_env(container: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for e in container.get("env", []):
        if "value" not in e:
            raise AssertionError(f"env {e['name']} is not a plain value: {e}")
        env[e["name"]] = expand(e["value"], env)
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
        )

    @property
    def repository(self) -> str:
        return _repository(self.image)


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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.pod.port}{self.pod.path}"

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
    if shebang[:1] == [b"#!/usr/bin/env"] and len(shebang) > 1:
        interpreter = shebang[1].decode()
        if shutil.which(interpreter, path=env["PATH"]) is None:
            _fail(f"{exe} needs {interpreter!r}, which is not installed on this machine")
    return [exe, *argv[1:]]


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


def run_init_containers(pod: Pod, dirs: dict[str, Path], tmp: Path) -> None:
    """Each init container in order, to completion, as the kubelet runs them; a failure fails."""
    for init in pod.init_containers:
        assert init.read_only_root, f"init container {init.name} must have readOnlyRootFilesystem: true"
        image = image_of(init)
        env = container_env(init, image)
        argv = _argv(init, image, env)
        targets = [_resolve_in_root(m["mountPath"]) for m in init.mounts] + sorted(image.files)
        workdir = init.working_dir or image.workdir
        cmd = [
            *_sandbox(init.uid, init.gid, targets, workdir),
            *_mount_args(init.mounts, pod.volumes, tmp, tmp, dirs),
            *_image_file_args(image),
            *_unhide_tools(targets),
            "--remount-ro", "/", "--chdir", workdir, *_env_args(env),
        ]
        proc = subprocess.run([*cmd, "--", "/usr/bin/env", "-u", "PWD", *argv], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, f"init container {init.name} exited {proc.returncode}:\n{proc.stderr}"


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
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", running.pod.port), 1):
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
                conn = http.client.HTTPConnection("127.0.0.1", _probe_port(running.pod, probe["httpGet"]),
                                                  timeout=10)
                headers = {h["name"]: h["value"] for h in probe["httpGet"].get("httpHeaders", [])}
                conn.request("GET", probe["httpGet"]["path"], headers=headers)
                status = conn.getresponse().status
                conn.close()
                assert 200 <= status < 400, f"{name} {probe['httpGet']['path']}: HTTP {status}"
                seen[name] = status
            elif "tcpSocket" in probe:
                port = _probe_port(running.pod, probe["tcpSocket"])
                socket.create_connection(("127.0.0.1", port), 10).close()
                seen[name] = None
            else:
                raise AssertionError(f"the harness does not know probe {probe}")
        return seen

    return running.in_pod_net(do)


@contextlib.contextmanager
def run_pod(base: Path, secrets: dict[str, str] | None = None,
            claims: dict[str, Path] | None = None) -> Iterator[Running]:
    """Run the base's init containers, then start its server container in the sandbox; yield
    once its port answers and its probes pass; always kill the whole process group. `secrets`
    gives file contents by name (each a file the SecretProviderClass produces); `claims` the
    directory that stands in for each PersistentVolumeClaim, by claim name."""
    if shutil.which("bwrap") is None:
        _fail("bwrap (Debian package bubblewrap) is missing: run `python scripts/install-tools.py`")
    pod = Pod.from_base(base)
    assert pod.read_only_root, "the rendered container must have readOnlyRootFilesystem: true"
    image = image_of(pod)
    env = container_env(pod, image)
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
        run_init_containers(pod, dirs, Path(tmp))
        argv = _argv(pod, image, env, {_resolve_in_root(m["mountPath"]): dirs[m["name"]]
                                       for m in pod.mounts if m["name"] in dirs})
        targets = [_resolve_in_root(m["mountPath"]) for m in pod.mounts] + sorted(image.files)
        workdir = pod.working_dir or image.workdir
        info_r, info_w = os.pipe()
        cmd = [
            *_sandbox(pod.uid, pod.gid, targets, workdir),
            *_mount_args(pod.mounts, pod.volumes, secrets_dir, token_dir, dirs),
            *_image_file_args(image),
            *_unhide_tools(targets),
            "--remount-ro", "/", "--info-fd", str(info_w), "--chdir", workdir, *_env_args(env),
        ]
        stderr = Path(tmp, "stderr.log")
        with stderr.open("wb") as err:
            # bwrap sets PWD after --chdir; a container runtime does not: env drops it and
            # execs the server in place.
            proc = subprocess.Popen([*cmd, "--", "/usr/bin/env", "-u", "PWD", *argv],
                                    stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                    pass_fds=(info_w,), start_new_session=True)
        os.close(info_w)
        try:
            with os.fdopen(info_r) as info:
                raw = info.read()
            if not raw:
                raise AssertionError(f"bwrap failed: {stderr.read_text(errors='replace')}")
            running = Running(pod, proc, int(json.loads(raw)["child-pid"]), stderr, secrets)
            _wait_for_port(running, time.monotonic() + START_TIMEOUT)
            check_probes(running)
            try:
                yield running
            except BaseException:
                print(f"--- server stderr ({pod.base.name}) ---\n{running.log()}")
                raise
        finally:
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
