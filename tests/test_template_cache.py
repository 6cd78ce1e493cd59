"""The Jinja bytecode cache holds code that runs when loaded: like codecache's entries, it is
used only from a directory of ours and only entries nobody else may write."""

from __future__ import annotations

import io
import marshal
import os
import pickle
import subprocess
import sys
from pathlib import Path

from scaffold import codecache

from support import EXAMPLES

RENDER = ("import sys\nfrom scaffold import render, values\n"
          f"render.render(values.load({str(EXAMPLES / 'minimal.yaml')!r}))\n")


def _render(cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    env.pop("MCP_SCAFFOLD_NO_CACHE", None)
    return subprocess.run([sys.executable, "-c", RENDER], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def _plant(cache: Path, marker: Path, mode: int) -> None:
    """Every Jinja entry replaced by code that writes marker when loaded (checksum kept, so
    Jinja takes it as current)."""
    entries = list(cache.glob("mcp-scaffold/jinja-*/*.cache"))
    assert entries, "rendering wrote no Jinja cache entries"
    from jinja2.bccache import bc_magic

    for entry in entries:
        f = io.BytesIO(entry.read_bytes())
        assert f.read(len(bc_magic)) == bc_magic
        checksum = pickle.load(f)
        code = compile(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n", "x", "exec")
        entry.write_bytes(bc_magic + pickle.dumps(checksum, 2) + marshal.dumps(code))
        entry.chmod(mode)


def test_a_planted_entry_of_ours_runs_proving_the_plant(tmp_path: Path) -> None:
    assert _render(tmp_path).returncode == 0
    marker = tmp_path / "ran"
    _plant(tmp_path, marker, 0o600)
    _render(tmp_path)
    assert marker.exists()  # what the mode check below keeps out


def test_a_group_writable_entry_is_not_loaded(tmp_path: Path) -> None:
    assert _render(tmp_path).returncode == 0
    marker = tmp_path / "ran"
    _plant(tmp_path, marker, 0o664)
    proc = _render(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()


def test_a_cache_directory_others_may_write_is_not_used(tmp_path: Path) -> None:
    assert _render(tmp_path).returncode == 0
    marker = tmp_path / "ran"
    _plant(tmp_path, marker, 0o600)
    for d in (tmp_path / "mcp-scaffold", *tmp_path.glob("mcp-scaffold/jinja-*")):
        d.chmod(0o777)
    proc = _render(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()


def test_ownership_is_part_of_the_rule() -> None:
    mine = os.stat_result((0o100600, 0, 0, 1, os.getuid(), 0, 0, 0, 0, 0))
    other = os.stat_result((0o100600, 0, 0, 1, os.getuid() + 1, 0, 0, 0, 0, 0))
    assert codecache.ours(mine)
    assert not codecache.ours(other)
    assert not codecache.ours(os.stat_result((0o100620, 0, 0, 1, os.getuid(), 0, 0, 0, 0, 0)))
