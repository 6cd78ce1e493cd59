"""A real OCI registry (Debian `docker-registry`, CNCF distribution) on 127.0.0.1 for tests, and
images built with no base image by umoci, pushed by skopeo
(recipe: shared/reference/oci-registry-facts.md). A missing tool fails, never skips."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

TOOLS = ("docker-registry", "umoci", "skopeo")


def need_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        raise AssertionError(f"missing {', '.join(missing)}: run scripts/install-tools.py")


class Registry:
    def __init__(self, root: Path) -> None:
        need_tools()
        self.root = root
        cfg = root / "config.yml"
        cfg.write_text(
            "version: 0.1\nlog: {level: info, accesslog: {disabled: true}}\n"
            f"storage: {{filesystem: {{rootdirectory: {root}/data}}}}\n"
            'http: {addr: "127.0.0.1:0", secret: test-only}\n')
        self.log = root / "reg.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(["docker-registry", "serve", str(cfg)], stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            text = self.log.read_text()
            if 'listening on 127.0.0.1:' in text:
                self.addr = text.split("listening on ", 1)[1].split('"')[0].split()[0]
                return
            time.sleep(0.02)
        self.stop()
        raise AssertionError(f"registry did not start: {self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()

    def push(self, repo: str, tag: str, entrypoint: list[str], cmd: list[str],
             user: str = "65532:65532", ports: tuple[str, ...] = ("8080/tcp",)) -> str:
        """Build a one-file image and push it; return the manifest digest."""
        oci = self.root / "oci"
        if not oci.exists():
            subprocess.run(["umoci", "init", "--layout", str(oci)], check=True)
        image = f"{oci}:{tag}"
        subprocess.run(["umoci", "new", "--image", image], check=True)
        args = ["umoci", "config", "--image", image, "--config.user", user,
                "--config.workingdir", "/app", "--os", "linux", "--architecture", "amd64"]
        for e in entrypoint:
            args += ["--config.entrypoint", e]
        for c in cmd:
            args += ["--config.cmd", c]
        for p in ports:
            args += ["--config.exposedports", p]
        subprocess.run(args, check=True)
        subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{image}",
                        f"docker://{self.addr}/{repo}:{tag}"], check=True)
        index = json.loads((oci / "index.json").read_text())
        for m in index["manifests"]:
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
                return str(m["digest"])
        raise AssertionError(f"no {tag} in {index}")
