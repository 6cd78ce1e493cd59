"""Secret providers: one small module each, all with the same functions.

A provider module exposes:
  problems(block, values) -> list[Problem]     rules beyond the schema
  produced_files(block) -> set[str]            file names the mount will hold
  parameters(block, values) -> dict[str, Any]  SecretProviderClass parameters, before
                                               the embedded lists are dumped to strings
  sa_annotations(block) -> dict[str, str]      workload-identity wiring on the ServiceAccount
  prerequisites(block, values) -> list[str]    what the cluster / cloud side must have (README)
  audience(block) -> str                       the CSIDriver tokenRequests audience it needs
  REQUIRED_PARAMETERS: tuple[str, ...]         parameters it refuses to mount without

and may expose (absent means none):
  pod_labels(block) -> dict[str, str]          labels on the pod template (e.g. Azure's
                                               azure.workload.identity/use: "true")
  warnings(block, values) -> list[Problem]     doubts that do not stop rendering (printed to
                                               stderr), e.g. a Vault KV path without /data/

`block` is values['secrets'][<provider>] with defaults filled; `values` the whole values.
parameters() returns strings, or lists/dicts that the renderer dumps with yamlio.dump into
embedded YAML strings; booleans are already the strings "true" / "false".
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Provider names in the order the schema lists them (besides "none").
NAMES = ("aws", "azure", "gcp", "vault")


def get(name: str) -> ModuleType:
    """The provider module for name (one of NAMES)."""
    if name not in NAMES:
        raise KeyError(name)
    return importlib.import_module(f"{__name__}.{name}")
