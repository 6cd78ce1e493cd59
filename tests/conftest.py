"""Shared fixtures: the repo's paths, the real external tools, and an in-process CLI runner."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TOOLS = Path(os.environ.get("MCP_SCAFFOLD_TOOLS", ROOT / ".tools" / "bin"))


def tool(name: str) -> str:
    """Path of a real tool installed by scripts/install-tools.py. Never skipped: a missing
    tool is a failure, because a test that skips the real tool proves nothing."""
    path = TOOLS / name
    if path.exists():
        return str(path)
    found = shutil.which(name) if name != "kubectl" else None
    if found:
        return found
    pytest.fail(f"{name} is not installed: run `python scripts/install-tools.py` (looked in {TOOLS})")


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run mcp-scaffold in-process with captured stdout/stderr and a non-TTY stdin."""
    from scaffold.cli import main

    def run(*args: str, stdin: str = "") -> Result:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        return Result(code, out.getvalue(), err.getvalue())

    return run


def run_tool(
    *args: str, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """Run an external command, capturing text output."""
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, check=False)


def example_values() -> list[Path]:
    """Every values file in examples/ (each has its rendered base beside it)."""
    return sorted(EXAMPLES.glob("*.yaml"))
