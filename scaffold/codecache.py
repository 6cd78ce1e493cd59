"""Generated Python code, compiled once and kept in the user's cache directory
($XDG_CACHE_HOME/mcp-scaffold, else ~/.cache/mcp-scaffold), so a new process loads it instead
of generating and compiling it again.

The caller names an entry by everything its code depends on (the key); a changed input is a new
key, never a stale hit. Entries are written atomically (a private temporary file, then
os.replace) into a directory only the user can write; code is never loaded from a cache
directory another user could have written. MCP_SCAFFOLD_NO_CACHE=1, or a cache that cannot be
used, compiles in memory every time: same code, same results, only slower."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import marshal
import os
import sys
import time
from collections.abc import Callable, Iterable
from types import CodeType

_STALE_SECONDS = 30 * 24 * 3600


@functools.cache
def directory() -> str | None:
    """The cache directory, created private; None if disabled or not safely ours."""
    if os.environ.get("MCP_SCAFFOLD_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "mcp-scaffold")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError:
        return None
    # Code loaded from here runs: only from a directory of ours that nobody else may write.
    if not ours(st) or not os.access(path, os.W_OK):
        return None
    return path


def ours(st: os.stat_result) -> bool:
    """Whether a cache directory or entry may be trusted to hold code that runs: owned by this
    user and writable by nobody else (no group or other write bit)."""
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def file_stamp(path: str) -> str:
    """What identifies a file's contents without reading it: any write moves its ctime, which
    no caller can set back (unlike the mtime); a copy elsewhere is another path."""
    st = os.stat(path)
    return f"{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def key(parts: Iterable[str]) -> str:
    """A cache key covering parts and the interpreter (code objects are Python-specific)."""
    text = "\n".join([sys.version, sys.implementation.cache_tag or "", *parts])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def compiled(name: str, entry_key: str, make_source: Callable[[], str | None]) -> CodeType | None:
    """The code object of the source make_source() returns, from the cache when an entry for
    (name, entry_key) exists; None when make_source returns None (remembered as well)."""
    folder = directory()
    path = os.path.join(folder, f"{name}-{entry_key}.code") if folder else None
    if path is not None:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            pass
        else:
            if not data:
                return None  # remembered: no compiled code for this input
            try:
                code = marshal.loads(data)
            except (EOFError, ValueError, TypeError):
                code = None  # damaged entry: make it again
            if isinstance(code, CodeType):
                return code
    text = make_source()
    code = None if text is None else compile(text, f"<{name}>", "exec")
    if path is not None:
        _store(path, name, entry_key, b"" if code is None else marshal.dumps(code))
    return code


def _store(path: str, name: str, entry_key: str, data: bytes) -> None:
    folder = os.path.dirname(path)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        # Entries of the same name under other keys are mostly dead (an upgrade, an edited
        # schema) but may serve another installation: drop only those a month old.
        stale = time.time() - _STALE_SECONDS
        for other in os.listdir(folder):
            rest = other[len(name) + 1:]
            if other.startswith(f"{name}-") and len(rest) == len(entry_key) + 5 \
                    and rest.endswith(".code") and other != os.path.basename(path):
                old = os.path.join(folder, other)
                if os.stat(old).st_mtime < stale:
                    os.unlink(old)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
