"""Fixtures for the acceptance suite: a base rendered by the real `mcp-scaffold new`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from support import EXAMPLES


@pytest.fixture
def rendered(tmp_path: Path) -> Callable[[str], Path]:
    """Render examples/<stem>.yaml with the real CLI (a subprocess, as a user runs it) and
    return the base directory it wrote."""

    def render(stem: str) -> Path:
        out = tmp_path / stem
        proc = subprocess.run(
            [sys.executable, "-m", "scaffold", "new", "--values", str(EXAMPLES / f"{stem}.yaml"),
             "--output", str(out), "--no-input"],
            capture_output=True, text=True, timeout=300, check=False,
        )
        assert proc.returncode == 0, f"mcp-scaffold new failed ({proc.returncode}):\n{proc.stderr}"
        return out

    return render
