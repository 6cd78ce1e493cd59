"""The provider registry: the names a values file may choose are the registered providers
(plus "none"), each is a typed SecretProvider, and a misspelt hook is a type error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scaffold import providers
from scaffold.providers import SecretProvider

ROOT = Path(__file__).resolve().parent.parent.parent


def test_provider_choices_are_the_schemas_enum() -> None:
    schema = json.loads((ROOT / "scaffold" / "values.schema.json").read_text())
    enum = schema["properties"]["secrets"]["properties"]["provider"]["enum"]
    assert list(providers.choices()) == enum
    assert list(providers.NAMES) == ["aws", "azure", "gcp", "vault"]


def test_every_provider_block_in_the_schema_has_a_provider() -> None:
    schema = json.loads((ROOT / "scaffold" / "values.schema.json").read_text())
    blocks = set(schema["properties"]["secrets"]["properties"]) - {
        "provider", "mountPath", "files", "env", "envLoader"}
    assert blocks == set(providers.NAMES)


@pytest.mark.parametrize("name", providers.NAMES)
def test_each_name_gives_its_provider(name: str) -> None:
    provider = providers.get(name)
    assert isinstance(provider, SecretProvider)
    assert provider.name == name
    assert providers.lookup(name) is provider
    assert provider.REQUIRED_PARAMETERS  # the SecretProviderClass schema needs at least one


def test_none_is_no_provider() -> None:
    assert providers.lookup("none") is None


@pytest.mark.parametrize("bad", ["none", "AWS", "k8s", ""])
def test_unknown_names_are_refused_by_get(bad: str) -> None:
    with pytest.raises(KeyError):
        providers.get(bad)


def test_unknown_names_are_refused_by_lookup() -> None:
    with pytest.raises(KeyError):
        providers.lookup("hashicorp")


def test_an_incomplete_provider_cannot_be_made() -> None:
    class Half(SecretProvider):
        name = "half"
        REQUIRED_PARAMETERS = ("x",)

    with pytest.raises(TypeError, match="abstract"):
        Half()  # type: ignore[abstract]


def test_optional_hooks_have_defaults() -> None:
    assert providers.get("aws").pod_labels({}) == {}
    assert providers.get("aws").warnings({}, {}) == []
    assert providers.get("azure").pod_labels({}) == {"azure.workload.identity/use": "true"}


def test_a_misspelt_hook_fails_the_type_check(tmp_path: Path) -> None:
    # The hooks are methods of a typed class, not attributes probed on a module: mypy --strict
    # refuses a typo that type-checked while get() returned a ModuleType.
    snippet = tmp_path / "typo.py"
    snippet.write_text("from scaffold import providers\n"
                       "providers.get('aws').paramters({}, {})\n"
                       "providers.get('aws').parameters({}, {})\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
         str(snippet)], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 1, result.stdout
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "typo.py:2:" in errors[0] and '"paramters"' in errors[0], errors
