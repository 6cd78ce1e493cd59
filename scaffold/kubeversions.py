"""The Kubernetes version mcp-scaffold targets by default, and how a version is read. One
definition, used by the values (whose schema keeps a literal copy of the default:
tests/test_kubeversions.py holds them in step), `check --kube-version` and the policy rules.
The versions `new` can verify against, and `check` judges for, are supported_versions(): those
whose strict schemas the installed kubernetes-validate bundles.

A leaf module that imports only `re` (and, when asked where the schemas are, `pathlib`), so the
CLI and `check` use it at no cost."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pathlib costs `--help` ~4 ms (urllib.parse, ipaddress): imported when used
    from pathlib import Path

# The version `new` targets and `check` judges for when none is given.
DEFAULT = "1.33"

# "1.33", "v1.33" or "1.33.2" (a patch release targets its minor version).
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?")


def parse(text: str) -> tuple[int, int] | None:
    """(major, minor) of a version such as "1.33", "v1.33" or "1.33.2"; None if text is not
    one."""
    match = _VERSION.fullmatch(text.strip()) if isinstance(text, str) else None
    return (int(match[1]), int(match[2])) if match else None



@functools.cache
def package_dir() -> Path:
    """kubernetes-validate's package directory (found, not imported)."""
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("kubernetes_validate")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if Path(location, "kubernetes-json-schema").is_dir():
            return Path(location)
    raise ModuleNotFoundError("kubernetes-validate is not installed (its schemas are needed)",
                              name="kubernetes_validate")


def schema_root() -> Path:
    """The folder holding one folder of JSON schemas per Kubernetes version."""
    return package_dir() / "kubernetes-json-schema"


@functools.cache
def supported_versions() -> tuple[str, ...]:
    """Kubernetes minor versions whose strict schemas the installed kubernetes-validate bundles."""
    found = set()
    for entry in schema_root().iterdir():
        m = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", entry.name)
        if m:
            found.add((int(m[1]), int(m[2])))
    return tuple(f"{a}.{b}" for a, b in sorted(found))
