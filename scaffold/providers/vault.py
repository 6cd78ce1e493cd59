"""HashiCorp Vault (hashicorp/vault-csi-provider; OpenBao's provider reads the same format).

Formats from the provider's own source (hashicorp/vault-csi-provider): `internal/config/config.go`
(roleName, vaultAddress, vaultKubernetesMountPath, vaultNamespace; `objects` is a YAML list of
Secret with objectName, secretPath, secretKey), `internal/auth/kubernetes_jwt.go` (login at
/v1/auth/<mount>/login with the driver's token for `audience`, else a self-minted one) and
`internal/provider/provider.go` (the provider process builds the Vault client, logs in, reads
every secret and hands the files to the driver: the application pod never talks to Vault).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from ..errors import Problem
from .base import SecretProvider

_KEY = "secrets.vault"
# Unicode categories refused in free-text fields: control, format (invisible), surrogate,
# private-use, unassigned, and the line/paragraph separators YAML treats as line breaks.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Mounts of engines that are not KV: their paths have no /data/ segment, so no warning.
_NOT_KV = {"pki", "pki_int", "database", "aws", "azure", "gcp", "ssh", "transit", "totp",
           "kubernetes", "identity", "sys", "auth", "cubbyhole", "consul", "nomad", "rabbitmq",
           "ldap", "openldap", "terraform", "transform", "kmip", "keymgmt"}


def _invisible(text: str) -> str | None:
    for ch in text:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return f"U+{ord(ch):04X}"
    return None


def _looks_kv_v2_without_data(path: str) -> bool:
    parts = path.strip("/").removeprefix("v1/").split("/")
    if len(parts) < 2 or parts[0] in _NOT_KV:
        return False
    return "data" not in parts[1:]


class Vault(SecretProvider):
    """Vault's Kubernetes (or JWT) auth with the driver's token."""

    name = "vault"
    REQUIRED_PARAMETERS = ("roleName", "objects")

    def produced_files(self, block: dict[str, Any]) -> set[str]:
        """Every file the mount holds: each object's objectName (Vault has no alias)."""
        return {obj["objectName"] for obj in block["objects"]}

    def problems(self, block: dict[str, Any], values: dict[str, Any]) -> list[Problem]:
        """Rules beyond the schema: TLS to Vault, unique file names, printable paths and keys."""
        out: list[Problem] = []
        if block["vaultAddress"].startswith("http://") and not block.get("allowInsecureHttp"):
            out.append(Problem(f"{_KEY}.vaultAddress", "must be https://: over http the pod's"
                               " service-account token and every secret cross the network in clear"
                               " text; set secrets.vault.allowInsecureHttp: true only for a dev Vault"))
        mount = block.get("vaultKubernetesMountPath", "")
        if mount == "auth" or mount.startswith("auth/"):
            out.append(Problem(f"{_KEY}.vaultKubernetesMountPath", "is the auth mount path without"
                               " the 'auth/' prefix (e.g. 'kubernetes'); the provider adds it"))
        seen: set[str] = set()
        for i, obj in enumerate(block["objects"]):
            okey = f"{_KEY}.objects[{i}]"
            name = obj["objectName"]
            if name in (".", ".."):
                out.append(Problem(f"{okey}.objectName", f"file name {name!r} is not allowed"))
            elif name in seen:
                # The provider refuses a duplicate objectName too (config.validate).
                out.append(Problem(f"{okey}.objectName", f"file name {name!r} is already used by"
                                   " another object; each objectName must be unique"))
            seen.add(name)
            for field in ("secretPath", "secretKey"):
                bad = _invisible(obj.get(field, ""))
                if bad:
                    out.append(Problem(f"{okey}.{field}", f"holds the invisible or line-breaking"
                                       f" character {bad}; only printable characters are allowed"))
        return out

    def warnings(self, block: dict[str, Any], values: dict[str, Any]) -> list[Problem]:
        """Not errors: a KV-looking path without /data/ reads nothing from a KV v2 mount."""
        out: list[Problem] = []
        for i, obj in enumerate(block["objects"]):
            path = obj["secretPath"]
            if _looks_kv_v2_without_data(path):
                mount, _, rest = path.strip("/").partition("/")
                out.append(Problem(f"{_KEY}.objects[{i}].secretPath",
                                   f"{path!r} has no /data/ segment: on a KV v2 mount the path is"
                                   f" {mount}/data/{rest} (the provider does not add it); ignore"
                                   " this for a KV v1 mount"))
        if block.get("allowInsecureHttp") and block["vaultAddress"].startswith("http://"):
            out.append(Problem(f"{_KEY}.vaultAddress", "is plain http (allowInsecureHttp): tokens"
                               " and secrets travel unencrypted; never use this outside development"))
        return out

    def parameters(self, block: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """SecretProviderClass parameters; `objects` is a plain list the caller dumps to YAML."""
        objects = []
        for obj in block["objects"]:
            item = {"objectName": obj["objectName"], "secretPath": obj["secretPath"]}
            if "secretKey" in obj:
                item["secretKey"] = obj["secretKey"]
            objects.append(item)
        params: dict[str, Any] = {"vaultAddress": block["vaultAddress"], "roleName": block["roleName"]}
        for field in ("vaultKubernetesMountPath", "vaultNamespace", "vaultCACertPath"):
            if field in block:
                params[field] = block[field]
        # Explicit, so the token the driver requests and the one the provider looks for agree.
        params["audience"] = block["audience"]
        params["objects"] = objects
        return params

    def sa_annotations(self, block: dict[str, Any]) -> dict[str, str]:
        """Vault binds the role to the ServiceAccount by name on the Vault side: no annotation."""
        return {}

    def audience(self, block: dict[str, Any]) -> str:
        """The token audience the CSIDriver must request (the SPC's `audience`, default vault)."""
        result: str = block["audience"]
        return result

    def prerequisites(self, block: dict[str, Any], values: dict[str, Any]) -> list[str]:
        """What the cluster and Vault must already have, with the concrete names filled in."""
        ns, sa = values["namespace"], values["name"]
        mount = block.get("vaultKubernetesMountPath", "kubernetes")
        aud = block["audience"]
        paths = ", ".join(sorted({f"`{o['secretPath'].split('?')[0]}`" for o in block["objects"]}))
        where = f" (Vault namespace `{block['vaultNamespace']}`)" if "vaultNamespace" in block else ""
        out = [
            "The Secrets Store CSI driver and the Vault CSI provider (hashicorp/vault-csi-provider,"
            " BUSL-1.1 since 1.4.1; OpenBao's provider is the MPL-2.0 alternative) installed as"
            " DaemonSets.",
            f"The CSIDriver `secrets-store.csi.k8s.io` lists `tokenRequests` audience `{aud}`; the"
            " provider then logs in with that token and needs no cluster-wide"
            " `serviceaccounts/token` create permission.",
            f"Vault{where} has the Kubernetes (or JWT) auth method at `auth/{mount}` and a role"
            f" `{block['roleName']}` with `bound_service_account_names={sa}`,"
            f" `bound_service_account_namespaces={ns}`, `audience={aud}`, and a policy granting"
            f" `read` on: {paths}.",
            f"Vault can review the token: a token whose audience is `{aud}` cannot call the"
            " TokenReview API itself, so give the auth method its own `token_reviewer_jwt` (or run"
            " Vault in the cluster with its own service account), or use JWT auth with the"
            " cluster's OIDC discovery / JWKS.",
            f"The Vault CSI provider DaemonSet, not this pod, connects to `{block['vaultAddress']}`:"
            " it logs in, reads the secrets and hands the files to the driver. The server pod gets"
            " no egress to Vault; if NetworkPolicies guard the provider's namespace, allow the"
            " provider pods' egress to Vault there (and Vault's ingress from them).",
        ]
        if "vaultCACertPath" in block:
            out.append(f"The CA certificate of Vault's TLS certificate at `{block['vaultCACertPath']}`"
                       " inside the Vault CSI provider pods (e.g. Helm `csi.volumes` /"
                       " `csi.volumeMounts`): the path is read by the provider, not by this pod.")
        return out
