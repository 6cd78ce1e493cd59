"""Azure Key Vault (secrets-store-csi-driver-provider-azure), Microsoft Entra Workload ID only.

Formats from the provider's own parser (Azure/secrets-store-csi-driver-provider-azure):
`pkg/provider/types/types.go` (KeyVaultObject, StringArray), `types/parameters.go` (tenantID
read before the legacy tenantId, `objects` unmarshalled into StringArray, then each entry into
KeyVaultObject) and `pkg/provider/validate.go` (file name relative, no '..').
"""

from __future__ import annotations

from typing import Any

from .. import yamlio
from ..errors import Problem
from .base import SecretProvider

# The provider always looks the pod token up under this audience, whatever the cloud
# (DefaultTokenAudience in pkg/auth/auth.go; see reference/secrets-csi.md section 4.5).
AUDIENCE = "api://AzureADTokenExchange"
_KEY = "secrets.azure"
# cloudName -> (Key Vault DNS suffix, Entra ID login host), for the egress note in the README.
_ENDPOINTS = {
    "AzurePublicCloud": ("vault.azure.net", "login.microsoftonline.com"),
    "AzureUSGovernmentCloud": ("vault.usgovcloudapi.net", "login.microsoftonline.us"),
    "AzureChinaCloud": ("vault.azure.cn", "login.chinacloudapi.cn"),
}


def _file_name(obj: dict[str, Any]) -> str:
    # GetFileName: objectAlias if set, else objectName (no path translation in Azure).
    name: str = obj.get("objectAlias") or obj["objectName"]
    return name


class Azure(SecretProvider):
    """Key Vault through Microsoft Entra Workload ID."""

    name = "azure"
    REQUIRED_PARAMETERS = ("keyvaultName", "tenantID", "objects")

    def produced_files(self, block: dict[str, Any]) -> set[str]:
        """Every file the mount holds: each object's alias, or its name when it has none."""
        return {_file_name(obj) for obj in block["objects"]}

    def problems(self, block: dict[str, Any], values: dict[str, Any]) -> list[Problem]:
        """Rules beyond the schema: one file per object, no two objects writing the same file."""
        out: list[Problem] = []
        seen: set[str] = set()
        for i, obj in enumerate(block["objects"]):
            name = _file_name(obj)
            # Point at the key the user must change: the alias if they gave one, else the name.
            where = f"{_KEY}.objects[{i}]." + ("objectAlias" if "objectAlias" in obj else "objectName")
            if name in (".", ".."):
                out.append(Problem(where, f"file name {name!r} is not allowed"))
            elif name in seen:
                out.append(Problem(where, f"file name {name!r} is already used by another object;"
                                   " give each object its own objectAlias"))
            seen.add(name)
        return out

    def parameters(self, block: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """SecretProviderClass parameters for workload identity.

        `objects` is the provider's StringArray shape, `{"array": [<str>, ...]}`, where every entry
        is already a YAML document (dumped here, since only Azure nests strings); the caller
        dumps the outer mapping like every other non-string parameter."""
        entries = []
        for obj in block["objects"]:
            item: dict[str, str] = {"objectName": obj["objectName"], "objectType": obj["objectType"]}
            for field in ("objectVersion", "objectAlias"):
                if field in obj:
                    item[field] = obj[field]
            entries.append(yamlio.dump(item))
        params: dict[str, Any] = {
            # Explicit: a stale default or a copied example must not switch to aad-pod-identity.
            "usePodIdentity": "false",
            # clientID set and no other mode on: the provider uses workload identity.
            "clientID": block["clientID"],
            "keyvaultName": block["keyvaultName"],
            "tenantID": block["tenantID"],
        }
        if "cloudName" in block:
            params["cloudName"] = block["cloudName"]
        params["objects"] = {"array": entries}
        return params

    def sa_annotations(self, block: dict[str, Any]) -> dict[str, str]:
        """Workload identity: the Entra client the ServiceAccount is federated with.

        The CSI provider itself reads clientID from the SecretProviderClass; the annotation
        serves the azure-workload-identity webhook and SDK calls from the app (Azure#1022)."""
        return {"azure.workload.identity/client-id": block["clientID"]}

    def pod_labels(self, block: dict[str, Any]) -> dict[str, str]:
        """Opts the pod into the azure-workload-identity webhook (token + env for Azure SDKs)."""
        return {"azure.workload.identity/use": "true"}

    def audience(self, block: dict[str, Any]) -> str:
        """The token audience the CSIDriver must request for this pod."""
        return AUDIENCE

    def prerequisites(self, block: dict[str, Any], values: dict[str, Any]) -> list[str]:
        """What the cluster and Azure must already have, with the concrete names filled in."""
        subject = f"system:serviceaccount:{values['namespace']}:{values['name']}"
        names = ", ".join(f"`{o['objectName']}` ({o['objectType']})" for o in block["objects"])
        vault_suffix, login = _ENDPOINTS[block.get("cloudName", "AzurePublicCloud")]
        return [
            "The Secrets Store CSI driver and the Azure Key Vault provider"
            " (csi-secrets-store-provider-azure) installed as DaemonSets, or the AKS add-on"
            " `azure-keyvault-secrets-provider`.",
            f"The CSIDriver `secrets-store.csi.k8s.io` lists `tokenRequests` audience `{AUDIENCE}`"
            " (the provider chart sets it; without it the mount fails with \"service account"
            " tokens not found\").",
            "A cluster OIDC issuer, and on the Entra application or user-assigned managed identity"
            f" with client ID `{block['clientID']}` (tenant `{block['tenantID']}`) a federated"
            f" identity credential: issuer = the cluster's OIDC issuer URL, subject = `{subject}`,"
            f" audience = `{AUDIENCE}`.",
            f"That identity may read from the key vault `{block['keyvaultName']}` (RBAC role"
            " \"Key Vault Secrets User\" for secrets, \"Key Vault Certificate User\" /"
            " \"Key Vault Crypto User\" for certificates and keys, or an access policy with"
            f" `get`) these objects: {names}.",
            "Egress from the Azure provider DaemonSet (not from this pod) to"
            f" `{block['keyvaultName']}.{vault_suffix}:443` and to Microsoft Entra ID (`{login}:443`);"
            " the provider makes these calls, so the server pod gets no such egress.",
        ]
