"""Azure Key Vault provider: parameters as the provider parses them, identity wiring, bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import providers, values

from provider_support import (
    AZURE_BLOCK,
    AZURE_CLIENT,
    AZURE_FILES,
    AZURE_TENANT,
    HOSTILE,
    accepted_or_refused_at,
    assert_all_strings,
    azure_objects,
    make,
    problem_keys,
    rendered_parameters,
    set_at,
)


def _valid(block: dict[str, Any] | None = None, files: dict[str, str] | None = None) -> Any:
    return values.validate(make("azure", block or AZURE_BLOCK, files or AZURE_FILES))


def test_parameters_parse_like_the_provider() -> None:
    v = _valid()
    params = rendered_parameters(v)
    assert_all_strings(params)
    assert params["usePodIdentity"] == "false"
    assert params["clientID"] == AZURE_CLIENT
    assert params["tenantID"] == AZURE_TENANT
    assert params["keyvaultName"] == "kv-demo-01"
    assert "useVMManagedIdentity" not in params and "userAssignedIdentityID" not in params
    assert azure_objects(params["objects"]) == AZURE_BLOCK["objects"]


def test_objects_entries_are_yaml_strings_in_an_array() -> None:
    # The shape types.StringArray expects: `array:` of strings, each one YAML mapping.
    raw = providers.get("azure").parameters(_valid()["secrets"]["azure"], {})
    assert list(raw["objects"]) == ["array"]
    assert all(isinstance(e, str) for e in raw["objects"]["array"])


def test_identity_wiring_and_readme() -> None:
    v = _valid()
    module = providers.get("azure")
    block = v["secrets"]["azure"]
    assert module.sa_annotations(block) == {"azure.workload.identity/client-id": AZURE_CLIENT}
    assert module.pod_labels(block) == {"azure.workload.identity/use": "true"}
    assert module.audience(block) == "api://AzureADTokenExchange"
    text = "\n".join(module.prerequisites(block, v))
    assert "system:serviceaccount:mcp-prod:demo-mcp" in text
    assert AZURE_CLIENT in text and AZURE_TENANT in text and "kv-demo-01.vault.azure.net" in text
    assert "api://AzureADTokenExchange" in text
    assert module.produced_files(block) == {"db-password", "tls.pem"}


def test_sovereign_cloud_name_is_passed_and_named_in_readme() -> None:
    block = {**AZURE_BLOCK, "cloudName": "AzureUSGovernmentCloud"}
    v = _valid(block)
    assert rendered_parameters(v)["cloudName"] == "AzureUSGovernmentCloud"
    assert "kv-demo-01.vault.usgovcloudapi.net" in "\n".join(
        providers.get("azure").prerequisites(v["secrets"]["azure"], v))


@pytest.mark.parametrize("name", ["ab", "1kv", "-kv", "kv-", "kv--demo", "kv_demo", "k" * 25,
                                  "kv.demo", "https://kv.vault.azure.net"])
def test_bad_vault_name(name: str) -> None:
    assert problem_keys(make("azure", {**AZURE_BLOCK, "keyvaultName": name}, AZURE_FILES)) == [
        "secrets.azure.keyvaultName"]


@pytest.mark.parametrize("name", ["abc", "a-1", "Kv-Demo-2024", "k" * 24])
def test_good_vault_name(name: str) -> None:
    _valid({**AZURE_BLOCK, "keyvaultName": name})


@pytest.mark.parametrize("key", ["tenantID", "clientID"])
@pytest.mark.parametrize("guid", ["not-a-guid", "11111111-2222-3333-4444-55555555555",
                                  "{11111111-2222-3333-4444-555555555555}",
                                  "11111111222233334444555555555555", "adfs"])
def test_bad_guid(key: str, guid: str) -> None:
    assert problem_keys(make("azure", {**AZURE_BLOCK, key: guid}, AZURE_FILES)) == [f"secrets.azure.{key}"]


def test_bad_object_type_is_case_sensitive() -> None:
    block = copy.deepcopy(AZURE_BLOCK)
    block["objects"][0]["objectType"] = "Secret"
    assert problem_keys(make("azure", block, AZURE_FILES)) == ["secrets.azure.objects[0].objectType"]


def test_duplicate_alias_refused() -> None:
    block = copy.deepcopy(AZURE_BLOCK)
    block["objects"][1]["objectAlias"] = "db-password"
    assert problem_keys(make("azure", block, {"DB_PASSWORD_FILE": "db-password"})) == [
        "secrets.azure.objects[1].objectAlias"]


def test_duplicate_name_without_alias_refused() -> None:
    block = copy.deepcopy(AZURE_BLOCK)
    block["objects"].append({"objectName": "db-password", "objectType": "key"})
    assert problem_keys(make("azure", block, AZURE_FILES)) == ["secrets.azure.objects[2].objectName"]


def test_file_no_object_produces() -> None:
    files = {**AZURE_FILES, "API_KEY_FILE": "api-key"}
    assert problem_keys(make("azure", AZURE_BLOCK, files)) == ["secrets.files.API_KEY_FILE"]


@pytest.mark.parametrize("key", ["usePodIdentity", "useVMManagedIdentity", "tenantId"])
def test_weak_or_legacy_modes_are_unknown_keys(key: str) -> None:
    assert problem_keys(make("azure", {**AZURE_BLOCK, key: "true"}, AZURE_FILES)) == [f"secrets.azure.{key}"]


FIELDS = ["keyvaultName", "tenantID", "clientID", "objects[0].objectName",
          "objects[1].objectAlias", "objects[1].objectVersion"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(field=st.sampled_from(FIELDS), text=st.one_of(st.sampled_from(HOSTILE), st.text()))
def test_hostile_strings_round_trip_or_are_refused(field: str, text: str) -> None:
    block = copy.deepcopy(AZURE_BLOCK)
    set_at(block, field, text)
    files = dict(AZURE_FILES)
    if field.endswith("objectAlias"):
        files["TLS_FILE"] = text
    elif field.endswith("objectName"):
        files["DB_PASSWORD_FILE"] = text
    v = accepted_or_refused_at(make("azure", block, files), f"secrets.azure.{field}")
    if v is None:
        return
    params = rendered_parameters(v)
    assert_all_strings(params)
    assert azure_objects(params["objects"]) == block["objects"]
    for key in ("keyvaultName", "tenantID", "clientID"):
        assert params[key] == block[key]
