"""Secret providers: one small module each, all with the same functions.

A provider module exposes:
  problems(block, values) -> list[Problem]     rules beyond the schema
  produced_files(block) -> set[str]            file names the mount will hold
  parameters(block, values) -> dict[str, Any]  SecretProviderClass parameters, before
                                               the embedded lists are dumped to strings
  sa_annotations(block) -> dict[str, str]      workload-identity wiring on the ServiceAccount
  prerequisites(block, values) -> list[str]    what the cluster / cloud side must have (README)
  audience(block) -> str                       the CSIDriver tokenRequests audience it needs
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Provider names in the order the schema lists them (besides "none").
NAMES = ("aws",)


def get(name: str) -> ModuleType:
    """The provider module for name (one of NAMES)."""
    if name not in NAMES:
        raise KeyError(name)
    return importlib.import_module(f"{__name__}.{name}")
