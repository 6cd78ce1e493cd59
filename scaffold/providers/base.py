"""What every secret provider is: the interface the values checks, the wizard, the plan and
verify call. One subclass per provider module, one instance each in the registry
(scaffold/providers/__init__.py).

`block` is values['secrets'][<provider>] with defaults filled; `values` the whole values."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from ..errors import Problem


class SecretProvider(ABC):
    """A Secrets Store CSI provider: its rules, the files it mounts, and the SecretProviderClass
    parameters and identity wiring it needs."""

    # The `provider` of the SecretProviderClass and the key under `secrets` in the values.
    name: ClassVar[str]
    # Parameters the provider refuses to mount without (checked in the SecretProviderClass schema).
    REQUIRED_PARAMETERS: ClassVar[tuple[str, ...]]

    @abstractmethod
    def problems(self, block: dict[str, Any], values: dict[str, Any]) -> list[Problem]:
        """Rules beyond the schema, checked before anything is rendered."""

    def warnings(self, block: dict[str, Any], values: dict[str, Any]) -> list[Problem]:
        """Doubts that do not stop rendering (printed to stderr); none by default."""
        return []

    @abstractmethod
    def produced_files(self, block: dict[str, Any]) -> set[str]:
        """File names the mount will hold."""

    @abstractmethod
    def parameters(self, block: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """SecretProviderClass parameters: strings, or lists/dicts the renderer dumps with
        yamlio.dump into embedded YAML strings; booleans already the strings "true"/"false"."""

    @abstractmethod
    def sa_annotations(self, block: dict[str, Any]) -> dict[str, str]:
        """Workload-identity wiring on the ServiceAccount."""

    def pod_labels(self, block: dict[str, Any]) -> dict[str, str]:
        """Labels on the pod template (e.g. Azure's azure.workload.identity/use); none by default."""
        return {}

    @abstractmethod
    def audience(self, block: dict[str, Any]) -> str:
        """The CSIDriver tokenRequests audience it needs."""

    @abstractmethod
    def prerequisites(self, block: dict[str, Any], values: dict[str, Any]) -> list[str]:
        """What the cluster and the cloud side must already have (README), names filled in."""

    def __repr__(self) -> str:
        return f"<SecretProvider {self.name}>"
