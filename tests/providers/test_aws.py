"""AWS provider (secrets-store-csi-driver-provider-aws): its mount-time rules refused before
anything is rendered, the files it produces, the parameters as the provider reads them, and
the identity wiring (IRSA or EKS Pod Identity).

Facts: aws/secrets-store-csi-driver-provider-aws `provider/secret_descriptor.go` (objectName,
objectType, objectAlias, jmesPath, the default pathTranslation of '/' to '_', an ARN's region
and service) and `auth/auth.go` (the token audience: sts.amazonaws.com for IRSA,
pods.eks.amazonaws.com for Pod Identity)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffold import providers, values

from provider_support import make, problem_keys, rendered_parameters

ROLE = "arn:aws:iam::111122223333:role/demo-mcp"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf"
BLOCK: dict[str, Any] = {
    "region": "us-east-1",
    "roleArn": ROLE,
    "objects": [
        {"objectName": "prod/demo/db", "objectType": "secretsmanager",
         "jmesPath": [{"path": "password", "objectAlias": "db-password"}]},
        {"objectName": "/demo/api-key", "objectType": "ssmparameter"},
    ],
}
FILES = {"DB_PASSWORD_FILE": "db-password", "API_KEY_FILE": "_demo_api-key"}


def _block(**changes: Any) -> dict[str, Any]:
    block = copy.deepcopy(BLOCK)
    block.update(changes)
    return block


def _valid(block: dict[str, Any] | None = None, files: dict[str, str] | None = None) -> Any:
    return values.validate(make("aws", block or BLOCK, FILES if files is None else files))


def test_produced_files_translate_slashes_and_add_jmes_aliases() -> None:
    assert providers.get("aws").produced_files(BLOCK) == {
        "prod_demo_db", "db-password", "_demo_api-key"}


def test_a_file_no_object_produces_is_refused_at_its_key() -> None:
    keys = problem_keys(make("aws", BLOCK, {**FILES, "OTHER_FILE": "demo/api-key"}))
    assert keys == ["secrets.files.OTHER_FILE"]


def test_parameters_are_what_the_provider_reads() -> None:
    params = rendered_parameters(_valid())
    assert params["region"] == "us-east-1"
    assert "usePodIdentity" not in params
    assert yaml.safe_load(params["objects"]) == [
        {"objectName": "prod/demo/db", "objectType": "secretsmanager",
         "jmesPath": [{"path": "password", "objectAlias": "db-password"}]},
        {"objectName": "/demo/api-key", "objectType": "ssmparameter"},
    ]
    pod_identity = _block(usePodIdentity=True)
    del pod_identity["roleArn"]
    assert rendered_parameters(_valid(pod_identity))["usePodIdentity"] == "true"


def test_irsa_wiring_annotates_the_role_and_requests_the_sts_audience() -> None:
    module = providers.get("aws")
    v = _valid()
    block = v["secrets"]["aws"]
    assert module.sa_annotations(block) == {"eks.amazonaws.com/role-arn": ROLE}
    assert module.audience(block) == "sts.amazonaws.com"
    text = "\n".join(module.prerequisites(block, v))
    assert "system:serviceaccount:mcp-prod:demo-mcp" in text and ROLE in text
    assert "`prod/demo/db`" in text and "`/demo/api-key`" in text and "us-east-1" in text


def test_pod_identity_wiring_has_no_role_annotation_and_its_own_audience() -> None:
    module = providers.get("aws")
    block = _block(usePodIdentity=True)
    del block["roleArn"]
    v = _valid(block)
    assert module.sa_annotations(v["secrets"]["aws"]) == {}
    assert module.audience(v["secrets"]["aws"]) == "pods.eks.amazonaws.com"
    text = "\n".join(module.prerequisites(v["secrets"]["aws"], v))
    assert "eks-pod-identity-agent" in text and "namespace `mcp-prod`" in text


@pytest.mark.parametrize(("block", "files", "key"), [
    # both identities, or neither
    (_block(usePodIdentity=True), FILES, "secrets.aws.roleArn"),
    ({k: v for k, v in BLOCK.items() if k != "roleArn"}, FILES, "secrets.aws.roleArn"),
    # an ARN of one service with the other objectType
    (_block(objects=[{"objectName": SECRET_ARN, "objectType": "ssmparameter"}]), {},
     "secrets.aws.objects[0].objectType"),
    # an ARN of another region than the provider's
    (_block(region="eu-west-1", objects=[{"objectName": SECRET_ARN,
                                           "objectType": "secretsmanager"}]), {},
     "secrets.aws.objects[0].objectName"),
    # the same object twice without an alias
    (_block(objects=[BLOCK["objects"][1], BLOCK["objects"][1]]), {},
     "secrets.aws.objects[1].objectName"),
    # a file name that climbs out of the mount, or one used twice
    (_block(objects=[{"objectName": "a", "objectType": "secretsmanager",
                      "objectAlias": ".."}]), {}, "secrets.aws.objects[0].objectAlias"),
    (_block(objects=[{"objectName": "a", "objectType": "secretsmanager"},
                     {"objectName": "b", "objectType": "secretsmanager",
                      "jmesPath": [{"path": "x", "objectAlias": "a"}]}]), {},
     "secrets.aws.objects[1].jmesPath[0].objectAlias"),
])
def test_each_mount_time_rule_refuses_at_its_key(block: dict[str, Any], files: dict[str, str],
                                                 key: str) -> None:
    assert key in problem_keys(make("aws", block, files))


def test_the_rules_accept_a_matching_arn() -> None:
    v = _valid(_block(objects=[{"objectName": SECRET_ARN, "objectType": "secretsmanager",
                                "objectAlias": "db"}]), {"DB_FILE": "db"})
    assert v["secrets"]["aws"]["objects"][0]["objectName"] == SECRET_ARN


def test_every_provider_has_a_test_file_of_its_own() -> None:
    """As kube-linter keeps a bats test per check: a provider whose rules no test of its own
    exercises can lose them with the suite still green (the AWS provider could, before this
    file)."""
    here = Path(__file__).parent
    names = {p.stem for p in (Path(providers.__file__).parent).glob("*.py")} - {"__init__",
                                                                               "base"}
    assert names == {"aws", "azure", "gcp", "vault"}
    assert not [n for n in names if not (here / f"test_{n}.py").is_file()]
