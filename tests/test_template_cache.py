"""The compiled-template cache runs as code: it is used only where nobody else can write
(codecache's rule), so an entry planted by another user is never loaded (issue 20)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest

from scaffold import codecache, render

OPTIONS = {"autoescape": False}


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("MCP_SCAFFOLD_NO_CACHE", raising=False)
    codecache.directory.cache_clear()
    yield tmp_path
    codecache.directory.cache_clear()


def test_our_private_cache_is_used(cache_home: Path) -> None:
    cache = render._bytecode_cache(jinja2, OPTIONS)
    assert cache is not None
    assert Path(cache.directory).parent == cache_home / "mcp-scaffold"
    assert os.stat(cache.directory).st_mode & 0o077 == 0


@pytest.mark.parametrize("where", ["cache", "subdir"])
def test_a_cache_another_user_can_write_is_not_used(cache_home: Path, where: str) -> None:
    (cache_home / "mcp-scaffold").mkdir(mode=0o700)
    first = render._bytecode_cache(jinja2, OPTIONS)
    assert first is not None
    codecache.directory.cache_clear()
    target = cache_home / "mcp-scaffold" if where == "cache" else Path(first.directory)
    target.chmod(0o777)  # another user could plant a compiled template here
    assert render._bytecode_cache(jinja2, OPTIONS) is None


def test_a_cache_owned_by_another_user_is_not_used(cache_home: Path) -> None:
    if os.getuid() != 0:
        pytest.fail("run as root (CI does): chown to another user needs it")
    (cache_home / "mcp-scaffold").mkdir(mode=0o700)
    os.chown(cache_home / "mcp-scaffold", 12345, 12345)
    assert render._bytecode_cache(jinja2, OPTIONS) is None
