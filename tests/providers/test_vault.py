"""Vault provider: parameters as the provider parses them, TLS, warnings, bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import providers, values

from provider_support import (
    HOSTILE,
    VAULT_BLOCK,
    VAULT_FILES,
    accepted_or_refused_at,
    assert_all_strings,
    make,
    problem_keys,
    rendered_parameters,
    set_at,
    yaml_list,
)


def _valid(block: dict[str, Any] | None = None, files: dict[str, str] | None = None) -> Any:
    return values.validate(make("vault", VAULT_BLOCK if block is None else block, files or VAULT_FILES))


def test_parameters_parse_like_the_provider() -> None:
    v = _valid()
    params = rendered_parameters(v)
    assert_all_strings(params)
    assert params["vaultAddress"] == "https://vault.vault.svc:8200"
    assert params["roleName"] == "demo-mcp"
    assert params["audience"] == "vault"  # the default, written out so both sides agree
    assert "vaultSkipTLSVerify" not in params
    assert yaml_list(params["objects"]) == VAULT_BLOCK["objects"]


def test_optional_parameters_are_passed() -> None:
    block = {**VAULT_BLOCK, "vaultKubernetesMountPath": "clusters/prod", "vaultNamespace": "admin/team",
             "vaultCACertPath": "/vault/tls/ca.crt", "audience": "https://vault.acme.example"}
    v = _valid(block)
    params = rendered_parameters(v)
    for key in ("vaultKubernetesMountPath", "vaultNamespace", "vaultCACertPath", "audience"):
        assert params[key] == block[key]
    module = providers.get("vault")
    assert module.audience(v["secrets"]["vault"]) == "https://vault.acme.example"
    text = "\n".join(module.prerequisites(v["secrets"]["vault"], v))
    assert "auth/clusters/prod" in text and "/vault/tls/ca.crt" in text


def test_identity_and_readme_say_the_provider_talks_to_vault() -> None:
    v = _valid()
    module = providers.get("vault")
    block = v["secrets"]["vault"]
    assert module.sa_annotations(block) == {}
    assert module.audience(block) == "vault"
    text = "\n".join(module.prerequisites(block, v))
    assert "bound_service_account_names=demo-mcp" in text
    assert "bound_service_account_namespaces=mcp-prod" in text
    assert "role `demo-mcp`" in text and "audience=vault" in text
    assert "`secret/data/demo-mcp/db`" in text
    assert "provider DaemonSet, not this pod, connects to `https://vault.vault.svc:8200`" in text
    assert "no egress to Vault" in text
    assert module.produced_files(block) == {"db-password", "cert.json"}


@pytest.mark.parametrize("address", ["http://vault.vault.svc:8200", "http://10.0.0.5:8200"])
def test_http_refused_unless_allowed(address: str) -> None:
    assert problem_keys(make("vault", {**VAULT_BLOCK, "vaultAddress": address}, VAULT_FILES)) == [
        "secrets.vault.vaultAddress"]
    v = _valid({**VAULT_BLOCK, "vaultAddress": address, "allowInsecureHttp": True})
    warned = providers.get("vault").warnings(v["secrets"]["vault"], v)
    assert "secrets.vault.vaultAddress" in [w.key for w in warned]


@pytest.mark.parametrize("address", ["vault.vault.svc:8200", "https://vault/v1/secret",
                                     "ftp://vault:21", "https://", "https://va ult",
                                     "HTTPS://vault:8200", "https://vault:8200?x=1"])
def test_bad_address(address: str) -> None:
    assert problem_keys(make("vault", {**VAULT_BLOCK, "vaultAddress": address}, VAULT_FILES)) == [
        "secrets.vault.vaultAddress"]


@pytest.mark.parametrize("address", ["https://vault.vault.svc:8200", "https://vault.acme.example",
                                     "https://10.0.0.5:8200/", "https://[fd00::5]:8200"])
def test_good_address(address: str) -> None:
    _valid({**VAULT_BLOCK, "vaultAddress": address})


def test_kv_v2_path_without_data_warns_not_fails() -> None:
    block = copy.deepcopy(VAULT_BLOCK)
    block["objects"][0]["secretPath"] = "secret/demo-mcp/db"
    v = _valid(block)  # accepted
    warned = providers.get("vault").warnings(v["secrets"]["vault"], v)
    assert [w.key for w in warned] == ["secrets.vault.objects[0].secretPath"]
    assert "secret/data/demo-mcp/db" in warned[0].message


@pytest.mark.parametrize("path", ["secret/data/app", "/v1/kv/data/team/app", "pki/issue/web",
                                  "database/creds/readonly", "secret"])
def test_no_warning_for_data_paths_and_other_engines(path: str) -> None:
    block = copy.deepcopy(VAULT_BLOCK)
    block["objects"][0]["secretPath"] = path
    v = _valid(block)
    assert providers.get("vault").warnings(v["secrets"]["vault"], v) == []


def test_duplicate_object_name_refused() -> None:
    block = copy.deepcopy(VAULT_BLOCK)
    block["objects"][1]["objectName"] = "db-password"
    assert problem_keys(make("vault", block, {"DB_PASSWORD_FILE": "db-password"})) == [
        "secrets.vault.objects[1].objectName"]


def test_file_no_object_produces() -> None:
    files = {**VAULT_FILES, "TOKEN_FILE": "token"}
    assert problem_keys(make("vault", VAULT_BLOCK, files)) == ["secrets.files.TOKEN_FILE"]


def test_auth_prefix_on_mount_path_refused() -> None:
    block = {**VAULT_BLOCK, "vaultKubernetesMountPath": "auth/kubernetes"}
    assert problem_keys(make("vault", block, VAULT_FILES)) == ["secrets.vault.vaultKubernetesMountPath"]


@pytest.mark.parametrize("key,value", [("vaultSkipTLSVerify", "true"), ("objectPath", "x")])
def test_unknown_keys_refused(key: str, value: str) -> None:
    assert problem_keys(make("vault", {**VAULT_BLOCK, key: value}, VAULT_FILES)) == [f"secrets.vault.{key}"]


def test_block_of_another_provider_refused() -> None:
    data = make("vault", VAULT_BLOCK, VAULT_FILES)
    data["secrets"]["azure"] = {
        "keyvaultName": "kv-demo", "tenantID": "11111111-2222-3333-4444-555555555555",
        "clientID": "11111111-2222-3333-4444-555555555555",
        "objects": [{"objectName": "db", "objectType": "secret"}]}
    assert problem_keys(data) == ["secrets.azure"]


FIELDS = ["objects[0].secretKey", "objects[0].secretPath", "objects[1].secretPath",
          "objects[0].objectName", "roleName", "vaultNamespace", "vaultKubernetesMountPath",
          "audience", "vaultAddress"]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(field=st.sampled_from(FIELDS), text=st.one_of(st.sampled_from(HOSTILE), st.text()))
def test_hostile_strings_round_trip_or_are_refused(field: str, text: str) -> None:
    block = copy.deepcopy(VAULT_BLOCK)
    set_at(block, field, text)
    files = dict(VAULT_FILES)
    if field == "objects[0].objectName":
        files["DB_PASSWORD_FILE"] = text
    v = accepted_or_refused_at(make("vault", block, files), f"secrets.vault.{field}")
    if v is None:
        return
    params = rendered_parameters(v)
    assert_all_strings(params)
    assert yaml_list(params["objects"]) == block["objects"]
    for key in ("vaultAddress", "roleName", "vaultNamespace", "vaultKubernetesMountPath",
                "audience"):
        if key in block:
            assert params[key] == block[key]


@settings(max_examples=200, deadline=None)
@given(key=st.text(min_size=1))
def test_any_printable_secret_key_round_trips(key: str) -> None:
    # Vault KV keys are free text: everything printable must reach the provider unchanged.
    block = copy.deepcopy(VAULT_BLOCK)
    block["objects"][0]["secretKey"] = key
    v = accepted_or_refused_at(make("vault", block, VAULT_FILES), "secrets.vault.objects[0].secretKey")
    if v is None:
        assert any(not ch.isprintable() for ch in key) or "\u2028" in key or "\u2029" in key
        return
    assert yaml_list(rendered_parameters(v)["objects"])[0]["secretKey"] == key
