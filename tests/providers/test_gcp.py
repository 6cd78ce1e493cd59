"""Google Secret Manager provider: parameters as the provider parses them, identity, bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import providers, values

from provider_support import (
    GCP_BLOCK,
    GCP_FILES,
    GCP_GSA,
    HOSTILE,
    accepted_or_refused_at,
    assert_all_strings,
    make,
    problem_keys,
    rendered_parameters,
    set_at,
    yaml_list,
)


def _valid(block: dict[str, Any] | None = None, files: dict[str, str] | None = None) -> Any:
    return values.validate(make("gcp", GCP_BLOCK if block is None else block, files or GCP_FILES))


def test_parameters_parse_like_the_provider() -> None:
    params = rendered_parameters(_valid())
    assert_all_strings(params)
    assert params["auth"] == "pod-adc"
    # Only fields config.Secret knows; `secrets`, never `objects`.
    assert set(params) == {"auth", "secrets"}
    assert yaml_list(params["secrets"]) == GCP_BLOCK["secrets"]


def test_identity_wiring_and_readme() -> None:
    v = _valid()
    module = providers.get("gcp")
    block = v["secrets"]["gcp"]
    assert module.sa_annotations(block) == {"iam.gke.io/gcp-service-account": GCP_GSA}
    assert module.pod_labels(block) == {}  # no webhook opt-in label
    assert module.audience(block) == "acme-prod.svc.id.goog"
    text = "\n".join(module.prerequisites(block, v))
    assert "serviceAccount:acme-prod.svc.id.goog[mcp-prod/demo-mcp]" in text
    assert "roles/secretmanager.secretAccessor" in text and GCP_GSA in text
    assert module.produced_files(block) == {"db-password", "keys/api-key"}
    assert module.warnings(block, v) == []


def test_without_gsa_uses_direct_principal_binding() -> None:
    block = {k: v for k, v in GCP_BLOCK.items() if k != "gcpServiceAccount"}
    v = _valid(block)
    module = providers.get("gcp")
    assert module.sa_annotations(v["secrets"]["gcp"]) == {}
    text = "\n".join(module.prerequisites(v["secrets"]["gcp"], v))
    assert "workloadIdentityPools/acme-prod.svc.id.goog/subject/ns/mcp-prod/sa/demo-mcp" in text


def test_cluster_project_sets_the_audience() -> None:
    v = _valid({**GCP_BLOCK, "clusterProject": "acme-gke"})
    module = providers.get("gcp")
    assert module.audience(v["secrets"]["gcp"]) == "acme-gke.svc.id.goog"
    assert "assumed" not in "\n".join(module.prerequisites(v["secrets"]["gcp"], v))


def test_project_numbers_without_cluster_project_warn() -> None:
    block = copy.deepcopy(GCP_BLOCK)
    block["secrets"][0]["resourceName"] = "projects/123456789012/secrets/db-password/versions/1"
    v = _valid(block)
    warned = providers.get("gcp").warnings(v["secrets"]["gcp"], v)
    assert [w.key for w in warned] == ["secrets.gcp.clusterProject"]


@pytest.mark.parametrize("name", [
    "projects/acme-prod/secrets/db/version/1",           # 'versions' is plural
    "projects/acme-prod/secrets/db",
    "projects/acme-prod/secrets/db/versions/",
    "projects/acme-prod/secrets/db/versions/latest/",
    "/projects/acme-prod/secrets/db/versions/1",
    "projects/acme-prod/secrets/db/versions/0",
    "projects/Acme/secrets/db/versions/1",
    "projects/acme-prod/secrets/db.pw/versions/1",
    "projects/acme-prod/locations/global/parameters/p/versions/v1",
    "acme-prod/db",
])
def test_bad_resource_name(name: str) -> None:
    block = copy.deepcopy(GCP_BLOCK)
    block["secrets"][0]["resourceName"] = name
    assert problem_keys(make("gcp", block, GCP_FILES)) == ["secrets.gcp.secrets[0].resourceName"]


@pytest.mark.parametrize("gsa", ["demo@acme-prod.iam.gserviceaccount.com.evil.org",
                                 "123-compute@developer.gserviceaccount.com", "demo-mcp"])
def test_bad_gcp_service_account(gsa: str) -> None:
    assert problem_keys(make("gcp", {**GCP_BLOCK, "gcpServiceAccount": gsa}, GCP_FILES)) == [
        "secrets.gcp.gcpServiceAccount"]


@pytest.mark.parametrize("path", ["../db", "keys/../db", "./db", "/db", "keys/", "a b"])
def test_bad_path(path: str) -> None:
    block = copy.deepcopy(GCP_BLOCK)
    block["secrets"][1]["path"] = path
    assert problem_keys(make("gcp", block, {"API_KEY_FILE": path})) == [
        "secrets.gcp.secrets[1].path"]


def test_duplicate_path_refused() -> None:
    block = copy.deepcopy(GCP_BLOCK)
    block["secrets"][1]["path"] = "db-password"
    assert problem_keys(make("gcp", block, {"DB_PASSWORD_FILE": "db-password"})) == [
        "secrets.gcp.secrets[1].path"]


def test_file_and_directory_clash_refused() -> None:
    block = copy.deepcopy(GCP_BLOCK)
    block["secrets"][1]["path"] = "db-password/inner"
    assert problem_keys(make("gcp", block, {"DB_PASSWORD_FILE": "db-password"})) == [
        "secrets.gcp.secrets[1].path"]


def test_file_no_secret_produces() -> None:
    files = {**GCP_FILES, "TOKEN_FILE": "token"}
    assert problem_keys(make("gcp", GCP_BLOCK, files)) == ["secrets.files.TOKEN_FILE"]


@pytest.mark.parametrize("key", ["auth", "project_id", "objects"])
def test_unknown_keys_refused(key: str) -> None:
    assert problem_keys(make("gcp", {**GCP_BLOCK, key: "provider-adc"}, GCP_FILES)) == [
        f"secrets.gcp.{key}"]


FIELDS = ["gcpServiceAccount", "clusterProject", "secrets[0].resourceName", "secrets[0].path",
          "secrets[1].path"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(field=st.sampled_from(FIELDS), text=st.one_of(st.sampled_from(HOSTILE), st.text()))
def test_hostile_strings_round_trip_or_are_refused(field: str, text: str) -> None:
    block = copy.deepcopy(GCP_BLOCK)
    set_at(block, field, text)
    files = dict(GCP_FILES)
    if field == "secrets[0].path":
        files["DB_PASSWORD_FILE"] = text
    elif field == "secrets[1].path":
        files["API_KEY_FILE"] = text
    v = accepted_or_refused_at(make("gcp", block, files), f"secrets.gcp.{field}")
    if v is None:
        return
    params = rendered_parameters(v)
    assert_all_strings(params)
    assert yaml_list(params["secrets"]) == block["secrets"]
    assert providers.get("gcp").sa_annotations(v["secrets"]["gcp"]) == {
        "iam.gke.io/gcp-service-account": block["gcpServiceAccount"]}
