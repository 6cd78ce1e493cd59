"""Write a verified bundle: atomically into a directory, as a listing (dry run), or as one
YAML stream to stdout. An existing non-empty output is replaced only when forced."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TextIO

from .errors import InputError, OutputExistsError, Problem
from .render import RenderedFile, stream


def _is_nonempty(path: Path) -> bool:
    if not path.exists():
        return False
    if not path.is_dir():
        return True
    return any(path.iterdir())


def check_destination(output: str, force: bool) -> None:
    """Refuse, before any work is done, an output that would be overwritten without --force."""
    path = Path(output)
    if path.exists() and not path.is_dir():
        raise InputError([Problem("--output", "exists and is not a directory")], output)
    if _is_nonempty(path) and not force:
        raise OutputExistsError(output)


def write_directory(files: list[RenderedFile], output: str, force: bool) -> None:
    """Write files into output atomically: all of them or, on any failure or interrupt,
    none (the previous content, if any, stays as it was)."""
    check_destination(output, force)
    target = Path(output).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    backup: Path | None = None
    try:
        for f in files:
            dest = staging / f.path
            with open(dest, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(f.text)
                fh.flush()
                os.fsync(fh.fileno())
        staging.chmod(0o755)
        if target.exists():
            # Keep the old base until the new one is in place, so an interrupt loses nothing.
            backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.rmdir(backup)
            os.rename(target, backup)
        os.rename(staging, target)
    except BaseException:
        if backup is not None and not target.exists():
            os.rename(backup, target)
            backup = None
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def write_listing(files: list[RenderedFile], output: str, out: TextIO) -> None:
    """--dry-run: what would be written, one line per file, and nothing else."""
    for f in files:
        size = len(f.text.encode("utf-8"))
        out.write(f"{os.path.join(output, f.path)}\t{size} bytes\n")


def write_stream(files: list[RenderedFile], out: TextIO) -> None:
    """--output -: the Kubernetes objects as one multi-document YAML stream."""
    out.write(stream(files))
    out.flush()
