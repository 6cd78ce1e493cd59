"""AWS Secrets Manager and SSM Parameter Store (secrets-store-csi-driver-provider-aws)."""

from __future__ import annotations

import re
from typing import Any

from ..errors import Problem
from .base import SecretProvider

_ARN = re.compile(r"^arn:aws[a-z-]*:(?P<service>secretsmanager|ssm):(?P<region>[a-z0-9-]+):")


def _file_name(obj: dict[str, Any]) -> str:
    # The provider's default pathTranslation turns '/' in a name into '_'.
    name: str = obj.get("objectAlias") or obj["objectName"]
    return name.replace("/", "_")


class Aws(SecretProvider):
    """IRSA or EKS Pod Identity; objects from Secrets Manager or SSM Parameter Store."""

    name = "aws"
    REQUIRED_PARAMETERS = ("objects",)

    def produced_files(self, block: dict[str, Any]) -> set[str]:
        """Every file the mount holds: each object (alias or translated name) and jmesPath alias."""
        files = set()
        for obj in block["objects"]:
            files.add(_file_name(obj))
            files.update(j["objectAlias"] for j in obj.get("jmesPath", []))
        return files

    def problems(self, block: dict[str, Any], values: dict[str, Any]) -> list[Problem]:
        """The provider's own mount-time rules, checked before anything is rendered."""
        out = []
        key = "secrets.aws"
        if block.get("usePodIdentity") and block.get("roleArn"):
            out.append(Problem(f"{key}.roleArn", "give roleArn (IRSA) or usePodIdentity: true, not both"))
        if not block.get("usePodIdentity") and not block.get("roleArn"):
            out.append(Problem(f"{key}.roleArn", "is required unless usePodIdentity is true: the"
                               " provider needs the pod's IAM role"))
        seen: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        for i, obj in enumerate(block["objects"]):
            okey = f"{key}.objects[{i}]"
            arn = _ARN.match(obj["objectName"])
            if arn:
                service = "secretsmanager" if arn["service"] == "secretsmanager" else "ssmparameter"
                if service != obj["objectType"]:
                    out.append(Problem(f"{okey}.objectType", f"the ARN is a {service} ARN"))
                if arn["region"] != block["region"]:
                    out.append(Problem(f"{okey}.objectName", "the ARN's region must equal"
                                       f" secrets.aws.region ({block['region']})"))
            pair = (obj["objectName"], obj.get("objectAlias") or obj.get("objectVersionLabel") or "")
            if pair in pairs:
                out.append(Problem(f"{okey}.objectName", "is listed twice; give each an objectAlias"))
            pairs.add(pair)
            names = [(f"{okey}.objectAlias", _file_name(obj))]
            names += [(f"{okey}.jmesPath[{j}].objectAlias", jp["objectAlias"])
                      for j, jp in enumerate(obj.get("jmesPath", []))]
            for where, name in names:
                if name in (".", "..") or ".." in name.split("_"):
                    out.append(Problem(where, f"file name {name!r} is not allowed"))
                elif name in seen:
                    out.append(Problem(where, f"file name {name!r} is already used; aliases must be unique"))
                seen.add(name)
        return out

    def parameters(self, block: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """SecretProviderClass parameters; `objects` is a plain list the caller dumps to YAML."""
        objects = []
        for obj in block["objects"]:
            item: dict[str, Any] = {"objectName": obj["objectName"], "objectType": obj["objectType"]}
            for field in ("objectAlias", "objectVersionLabel"):
                if field in obj:
                    item[field] = obj[field]
            if "jmesPath" in obj:
                item["jmesPath"] = [{"path": j["path"], "objectAlias": j["objectAlias"]}
                                    for j in obj["jmesPath"]]
            objects.append(item)
        params: dict[str, Any] = {"region": block["region"], "objects": objects}
        if block.get("usePodIdentity"):
            params["usePodIdentity"] = "true"
        return params

    def sa_annotations(self, block: dict[str, Any]) -> dict[str, str]:
        """IRSA: the role the provider assumes for this ServiceAccount."""
        return {"eks.amazonaws.com/role-arn": block["roleArn"]} if block.get("roleArn") else {}

    def audience(self, block: dict[str, Any]) -> str:
        """The token audience the CSIDriver must request for this pod."""
        return "pods.eks.amazonaws.com" if block.get("usePodIdentity") else "sts.amazonaws.com"

    def prerequisites(self, block: dict[str, Any], values: dict[str, Any]) -> list[str]:
        """What the cluster and AWS must already have, with the concrete names filled in."""
        subject = f"system:serviceaccount:{values['namespace']}:{values['name']}"
        out = [
            "The Secrets Store CSI driver and the AWS provider (secrets-store-csi-driver-provider-aws"
            " >= 3.0) installed as DaemonSets; not available on Fargate.",
            "The CSIDriver `secrets-store.csi.k8s.io` lists `tokenRequests` audience"
            f" `{self.audience(block)}`"
            " (the AWS provider chart sets it; a separately installed driver needs it added).",
        ]
        if block.get("usePodIdentity"):
            out.append("The `eks-pod-identity-agent` add-on, an IAM role trusted by"
                       " `pods.eks.amazonaws.com` (`sts:AssumeRole`, `sts:TagSession`), and a pod"
                       f" identity association for namespace `{values['namespace']}`, service account"
                       f" `{values['name']}`.")
        else:
            out.append(f"An IAM OIDC provider for the cluster and the role `{block['roleArn']}` whose"
                       f" trust policy allows `sts:AssumeRoleWithWebIdentity` for `{subject}`"
                       " (audience `sts.amazonaws.com`).")
        out.append("The role may call `secretsmanager:GetSecretValue` and `secretsmanager:DescribeSecret`"
                   " (and `ssm:GetParameters` for SSM parameters, `kms:Decrypt` for customer-managed"
                   f" keys) on exactly these objects in `{block['region']}`: "
                   + ", ".join(f"`{o['objectName']}`" for o in block["objects"]) + ".")
        return out
