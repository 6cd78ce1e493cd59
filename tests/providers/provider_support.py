"""Shared helpers for the provider tests: minimal values, the renderer's parameter embedding,
and the providers' own ways of reading the embedded YAML."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from scaffold import providers, values, yamlio
from scaffold.errors import ValuesError

BASE: dict[str, Any] = {
    "name": "demo-mcp",
    "namespace": "mcp-prod",
    "image": "ghcr.io/acme/demo-mcp:1.0.0@sha256:" + "ab" * 32,
    "ingress": {"namespace": "ingress-nginx"},
}

# Strings YAML likes to reinterpret or that break naive templating.
HOSTILE = [
    '"double"', "it's", "line\nbreak", "trailing\n", "#comment", "a #b", "a: b", "key:",
    "yes", "no", "on", "off", "y", "true", "False", "null", "~", "0755", "0o17", "1e3", "0x1F",
    ".inf", "-.5", "2024-01-01", "- item", "[x]", "{a: 1}", "&anchor", "*alias", "!tag", "|",
    ">", "%TAG", "@at", "`tick`", " leading", "trailing ", "---", "...", "tab\there", "",
    "\u2028", "\ufeffbom", "\x85", "ok-name", "a/b", "../up", "é", "日本",
]


# Each provider's valid block and the files it produces: used by the provider's own tests and
# by test_rendered.py (test modules import helpers, never each other).
AZURE_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AZURE_CLIENT = "11111111-2222-3333-4444-555555555555"
AZURE_BLOCK: dict[str, Any] = {
    "keyvaultName": "kv-demo-01",
    "tenantID": AZURE_TENANT,
    "clientID": AZURE_CLIENT,
    "objects": [
        {"objectName": "db-password", "objectType": "secret"},
        {"objectName": "tls", "objectType": "secret", "objectAlias": "tls.pem",
         "objectVersion": "0123456789abcdef0123456789abcdef"},
    ],
}
AZURE_FILES = {"DB_PASSWORD_FILE": "db-password", "TLS_FILE": "tls.pem"}
GCP_GSA = "demo-mcp@acme-prod.iam.gserviceaccount.com"
GCP_BLOCK: dict[str, Any] = {
    "gcpServiceAccount": GCP_GSA,
    "secrets": [
        {"resourceName": "projects/acme-prod/secrets/db-password/versions/latest",
         "path": "db-password"},
        {"resourceName": "projects/acme-prod/locations/europe-west1/secrets/api_key/versions/3",
         "path": "keys/api-key"},
    ],
}
GCP_FILES = {"DB_PASSWORD_FILE": "db-password", "API_KEY_FILE": "keys/api-key"}
VAULT_BLOCK: dict[str, Any] = {
    "vaultAddress": "https://vault.vault.svc:8200",
    "roleName": "demo-mcp",
    "objects": [
        {"objectName": "db-password", "secretPath": "secret/data/demo-mcp/db",
         "secretKey": "password"},
        {"objectName": "cert.json", "secretPath": "pki/issue/web"},
    ],
}
VAULT_FILES = {"DB_PASSWORD_FILE": "db-password", "CERT_FILE": "cert.json"}


def make(provider: str, block: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
    """A complete raw values mapping using provider with block and files."""
    data = copy.deepcopy(BASE)
    data["secrets"] = {"provider": provider, "files": dict(files), provider: copy.deepcopy(block)}
    return data


def problem_keys(data: dict[str, Any]) -> list[str]:
    """The problem keys validate() reports; fails the test if the values are accepted."""
    with pytest.raises(ValuesError) as info:
        values.validate(data)
    return [p.key for p in info.value.problems]


def rendered_parameters(v: dict[str, Any]) -> dict[str, Any]:
    """The SecretProviderClass parameters as the API server will store them.

    Same steps as the renderer: non-string values dumped with yamlio.dump, the mapping of
    strings dumped into the document, which is then read back."""
    provider = v["secrets"]["provider"]
    module = providers.get(provider)
    raw = module.parameters(v["secrets"][provider], v)
    flat = {k: val if isinstance(val, str) else yamlio.dump(val) for k, val in raw.items()}
    doc = yamlio.dump({"spec": {"provider": provider, "parameters": flat}})
    loaded = yamlio.load_one(doc, "spc")
    params: dict[str, Any] = loaded["spec"]["parameters"]
    return params


def assert_all_strings(params: dict[str, Any]) -> None:
    """The CRD types parameters as map[string]string: every value must load as a string."""
    for key, val in params.items():
        assert isinstance(val, str), f"parameters.{key} is a {type(val).__name__}"


def azure_objects(text: str) -> list[dict[str, Any]]:
    """Read `objects` like the Azure provider: a StringArray, then each entry a mapping."""
    outer = yaml.safe_load(text)
    assert isinstance(outer, dict) and list(outer) == ["array"], outer
    entries = outer["array"]
    assert all(isinstance(e, str) for e in entries), entries
    result = [yaml.safe_load(e) for e in entries]
    assert all(isinstance(r, dict) for r in result)
    return result


def yaml_list(text: str) -> list[dict[str, Any]]:
    """Read `secrets` (GCP) or `objects` (Vault) like those providers: a YAML list of mappings."""
    result = yaml.safe_load(text)
    assert isinstance(result, list) and all(isinstance(r, dict) for r in result), result
    return result


def set_at(block: dict[str, Any], path: str, value: Any) -> None:
    """Set block[path] for a path like 'objects[0].secretKey' or 'roleName'."""
    node: Any = block
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


def accepted_or_refused_at(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """validate(data): the values if accepted; if refused, every problem must name key."""
    try:
        return values.validate(data)
    except ValuesError as exc:
        keys = {p.key for p in exc.problems}
        # The secrets.files entry given the same text is judged as a file name too.
        node: Any = data
        for part in key.replace("]", "").replace("[", ".").split("."):
            node = node[int(part)] if part.isdigit() else node[part]
        same = {f"secrets.files.{env}" for env, name in data["secrets"]["files"].items()
                if name == node}
        assert key in keys and keys <= {key} | same, f"expected problems at {key}, got {exc.problems}"
        return None
