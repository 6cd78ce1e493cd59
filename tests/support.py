"""Helpers shared by the tests: the repo's paths and the real external tools. (Not in
conftest.py: test folders have conftest files of their own, so `import conftest` is ambiguous.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TOOLS = Path(os.environ.get("MCP_SCAFFOLD_TOOLS", ROOT / ".tools" / "bin"))
# Upstream files the tests compare against (SOURCES.md there says where each came from). They
# are not committed: CI places shared/ beside the checkout; MCP_SCAFFOLD_REFERENCE points
# elsewhere (e.g. from a git worktree).
REFERENCE = Path(os.environ.get("MCP_SCAFFOLD_REFERENCE", ROOT.parent / "shared" / "reference"))


def tool(name: str) -> str:
    """A real tool installed by scripts/install-tools.py (MCP_SCAFFOLD_TOOLS or
    <repo>/.tools/bin). Missing is a failure, never a skip: a test that skips the real tool
    proves nothing."""
    path = TOOLS / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {TOOLS}: run `python scripts/install-tools.py`")
    return str(path)


def reference(name: str) -> Path:
    """An upstream file from REFERENCE. Missing is a failure, never a skip."""
    path = REFERENCE / name
    if not path.is_file():
        pytest.fail(f"{name} is not in {REFERENCE}: place shared/reference beside the checkout"
                    " or set MCP_SCAFFOLD_REFERENCE to the directory holding it")
    return path


def run_tool(
    *args: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """Run an external command, capturing text output."""
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, check=False)


def example_values() -> list[Path]:
    """Every values file in examples/ (each has its rendered base beside it)."""
    return sorted(EXAMPLES.glob("*.yaml"))
