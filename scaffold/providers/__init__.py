"""Secret providers: one SecretProvider subclass per module, one instance each, registered here.

Adding a provider: a module with a SecretProvider subclass, one entry in _REGISTERED, and its
block in values.schema.json (tests/providers/test_provider_registry.py checks the schema's enum).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .aws import Aws
from .azure import Azure
from .base import SecretProvider
from .gcp import Gcp
from .vault import Vault

__all__ = ["NAMES", "NONE", "REGISTRY", "SecretProvider", "choices", "get", "lookup"]

# In the order the schema lists them.
_REGISTERED: tuple[SecretProvider, ...] = (Aws(), Azure(), Gcp(), Vault())
REGISTRY: Mapping[str, SecretProvider] = MappingProxyType({p.name: p for p in _REGISTERED})
# Provider names (what a SecretProviderClass may name), without "none".
NAMES: tuple[str, ...] = tuple(REGISTRY)
# secrets.provider when the server has no secrets: no SecretProviderClass, no CSI volume.
NONE = "none"


def choices() -> tuple[str, ...]:
    """Every value secrets.provider may take, in the schema's order."""
    return (NONE, *NAMES)


def get(name: str) -> SecretProvider:
    """The provider called name (one of NAMES); KeyError for any other name, "none" included."""
    return REGISTRY[name]


def lookup(name: str) -> SecretProvider | None:
    """The provider for a secrets.provider value: None for "none"; KeyError for an unknown name."""
    return None if name == NONE else REGISTRY[name]
