"""Google Secret Manager (secrets-store-csi-driver-provider-gcp), GKE Workload Identity only.

Formats from the provider's own parser (GoogleCloudPlatform/secrets-store-csi-driver-provider-gcp):
`config/config.go` (parameters `auth` and `secrets`; `secrets` is a YAML list of Secret with
resourceName, path / legacy fileName, mode), `util/constants.go` (resourceName regexes) and
`auth/auth.go` (the iam.gke.io/gcp-service-account annotation, the `<project>.svc.id.goog`
token audience).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Problem
from .base import SecretProvider

_KEY = "secrets.gcp"
# Global and regional secret versions (util/constants.go: globalSecretRegex,
# regionalSecretRegex); the schema holds the strict form, this only takes it apart.
_RESOURCE = re.compile(
    r"^projects/(?P<project>[^/]+)/(?:locations/(?P<location>[^/]+)/)?"
    r"secrets/(?P<secret>[^/]+)/versions/(?P<version>[^/]+)$"
)


def _project(resource_name: str) -> str:
    m = _RESOURCE.match(resource_name)
    return m["project"] if m else ""


def pool_project(block: dict[str, Any]) -> str:
    """Project whose workload identity pool (`<project>.svc.id.goog`) the cluster uses.

    clusterProject when given; otherwise the first secret's project, the common single-project
    layout (the README says this was assumed)."""
    explicit: str | None = block.get("clusterProject")
    return explicit or _project(block["secrets"][0]["resourceName"])


class Gcp(SecretProvider):
    """Secret Manager through GKE Workload Identity."""

    name = "gcp"
    REQUIRED_PARAMETERS = ("secrets",)

    def produced_files(self, block: dict[str, Any]) -> set[str]:
        """Every file the mount holds: each secret's `path` (relative, may hold directories)."""
        return {s["path"] for s in block["secrets"]}

    def problems(self, block: dict[str, Any], values: dict[str, Any]) -> list[Problem]:
        """Rules beyond the schema: relative paths without '.'/'..' segments, no path twice."""
        out: list[Problem] = []
        seen: set[str] = set()
        for i, entry in enumerate(block["secrets"]):
            where = f"{_KEY}.secrets[{i}].path"
            path = entry["path"]
            if any(part in (".", "..") for part in path.split("/")):
                out.append(Problem(where, f"path {path!r} must not have '.' or '..' segments"))
            elif path in seen:
                out.append(Problem(where, f"path {path!r} is already used by another secret;"
                                   " give each its own path"))
            # A file and a directory of the same name cannot both exist under the mount.
            elif any(other.startswith(path + "/") or path.startswith(other + "/") for other in seen):
                out.append(Problem(where, f"path {path!r} clashes with another secret's path"
                                   " (one is a directory of the other)"))
            seen.add(path)
        return out

    def warnings(self, block: dict[str, Any], values: dict[str, Any]) -> list[Problem]:
        """Not errors: the token audience had to be guessed from the secrets' project."""
        if block.get("clusterProject"):
            return []
        projects = sorted({_project(s["resourceName"]) for s in block["secrets"]})
        if len(projects) > 1 or projects[0].isdigit():
            return [Problem(f"{_KEY}.clusterProject", "is not set and the secrets do not name one"
                            f" project ID ({', '.join(projects)}); set it to the project ID of the"
                            " GKE cluster, whose workload identity pool issues the token audience")]
        return []

    def parameters(self, block: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """SecretProviderClass parameters; `secrets` is a plain list the caller dumps to YAML."""
        secrets = [{"resourceName": s["resourceName"], "path": s["path"]} for s in block["secrets"]]
        # pod-adc explicitly: the pod's own workload identity, never the provider DaemonSet's
        # (provider-adc has no namespace isolation).
        return {"auth": "pod-adc", "secrets": secrets}

    def sa_annotations(self, block: dict[str, Any]) -> dict[str, str]:
        """Impersonation of a Google service account, which the provider reads itself (auth.go).

        None without gcpServiceAccount: the identity-binding token of the Kubernetes service
        account is then used directly (IAM principal binding)."""
        gsa = block.get("gcpServiceAccount")
        return {"iam.gke.io/gcp-service-account": gsa} if gsa else {}

    def audience(self, block: dict[str, Any]) -> str:
        """The token audience the CSIDriver must request: the workload identity pool."""
        return f"{pool_project(block)}.svc.id.goog"

    def prerequisites(self, block: dict[str, Any], values: dict[str, Any]) -> list[str]:
        """What the cluster and Google Cloud must already have, with the concrete names filled in."""
        ns, sa = values["namespace"], values["name"]
        project = pool_project(block)
        assumed = "" if block.get("clusterProject") else (
            f" (assumed: the cluster runs in project `{project}`, the project of the first secret;"
            " set secrets.gcp.clusterProject if not)")
        # IAM grants sit on the secret, not on one of its versions.
        secrets = dict.fromkeys(s["resourceName"].rsplit("/versions/", 1)[0] for s in block["secrets"])
        names = ", ".join(f"`{name}`" for name in secrets)
        out = [
            "The Secrets Store CSI driver and the Google Secret Manager provider"
            " (secrets-store-csi-driver-provider-gcp, `provider: gcp`) installed as DaemonSets. Not the"
            " GKE-managed add-on, which is a different provider (`gke`) and driver.",
            "GKE Workload Identity enabled on the cluster and the node pool.",
            f"The CSIDriver `secrets-store.csi.k8s.io` lists `tokenRequests` audience"
            f" `{self.audience(block)}`{assumed}; without it the provider mints tokens itself and needs"
            " cluster-wide `serviceaccounts/token` create.",
        ]
        gsa = block.get("gcpServiceAccount")
        if gsa:
            out.append(f"`roles/iam.workloadIdentityUser` on the Google service account `{gsa}` for"
                       f" `serviceAccount:{project}.svc.id.goog[{ns}/{sa}]`, and"
                       f" `roles/secretmanager.secretAccessor` for `{gsa}` on the secrets {names}.")
        else:
            out.append("`roles/secretmanager.secretAccessor` on these secrets: " + names + ", for"
                       " `principal://iam.googleapis.com/projects/<PROJECT_NUMBER>/locations/global/"
                       f"workloadIdentityPools/{project}.svc.id.goog/subject/ns/{ns}/sa/{sa}`"
                       f" (<PROJECT_NUMBER> of `{project}`: `gcloud projects describe {project}"
                       " --format='value(projectNumber)'`).")
        out.append("Egress from the GCP provider DaemonSet (not from this pod) to"
                   " `secretmanager.googleapis.com`, `securetoken.googleapis.com` and"
                   " `iamcredentials.googleapis.com` on 443; the provider makes these calls, so the"
                   " server pod gets no such egress.")
        return out
