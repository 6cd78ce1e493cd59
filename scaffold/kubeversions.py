"""The Kubernetes version mcp-scaffold targets by default, and how a version is read. One
definition, used by the values (whose schema keeps a literal copy of the default:
tests/test_kubeversions.py holds them in step), `check --kube-version` and the policy rules.
The versions `new` can verify against are kubeschemas.supported_versions().

A leaf module that imports only `re`, so the CLI and `check` use it at no cost."""

from __future__ import annotations

import re

# The version `new` targets and `check` judges for when none is given.
DEFAULT = "1.33"

# "1.33", "v1.33" or "1.33.2" (a patch release targets its minor version).
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?")


def parse(text: str) -> tuple[int, int] | None:
    """(major, minor) of a version such as "1.33", "v1.33" or "1.33.2"; None if text is not
    one."""
    match = _VERSION.fullmatch(text.strip()) if isinstance(text, str) else None
    return (int(match[1]), int(match[2])) if match else None

