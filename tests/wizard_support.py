"""Helpers of the wizard tests (tests/wizard/): key sequences, the example image, the installed
entry point. Here rather than in tests/wizard/ so that mypy, which checks the tests, names
tests/wizard/conftest.py "wizard.conftest" (see [tool.mypy] in pyproject.toml)."""

from __future__ import annotations

import shutil

import pytest

DIGEST = "sha256:" + "ab" * 32
IMAGE = f"ghcr.io/acme/demo-mcp:1.0.0@{DIGEST}"

# Raw keys as a terminal sends them (questionary's tests/utils.py KeyInputs).
ENTER = "\r"
DOWN = "\x1b[B"
CLEAR = "\x15"  # Ctrl-U: erase the pre-filled default (or a rejected answer) before typing
CTRL_C = "\x03"
CTRL_D = "\x04"


def line(text: str) -> str:
    """Replace whatever the prompt holds (its default) with text, then Enter."""
    return CLEAR + text + ENTER


def choose(options: list[str], value: str) -> str:
    """Keys that pick value in a select whose pointer starts on the first option."""
    return DOWN * options.index(value) + ENTER


def command() -> str:
    """The installed mcp-scaffold entry point (what a user runs)."""
    found = shutil.which("mcp-scaffold")
    if not found:
        pytest.fail("mcp-scaffold is not on PATH: pip install -e .")
    return found
