"""One default Kubernetes version for `new` (the values schema), `check --kube-version` and the
policy rules; one grammar for reading a version; the supported versions are the ones the
installed kubernetes-validate has strict schemas for (kubeschemas)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffold import kubeschemas, kubeversions, values
from scaffold.cli import main
from scaffold.errors import InputError, ProblemCode
from scaffold.policy import parse_kube_version

from support import EXAMPLES

MINIMAL: dict[str, Any] = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
HARDENED = Path(__file__).parent / "policy" / "corpus" / "hardened" / "manifests.yaml"


def test_the_schema_default_is_the_one_default() -> None:
    # The schema keeps a literal (editors read it); this keeps it in step with the code.
    assert values.schema()["properties"]["kubernetesVersion"]["default"] == kubeversions.DEFAULT


def test_new_targets_the_default_when_no_version_is_given() -> None:
    assert values.validate(MINIMAL)["kubernetesVersion"] == kubeversions.DEFAULT


def test_the_default_is_a_version_new_can_verify() -> None:
    assert kubeversions.DEFAULT in kubeschemas.supported_versions()


def test_supported_versions_are_minor_versions_oldest_first() -> None:
    found = kubeschemas.supported_versions()
    parsed = [kubeversions.parse(v) for v in found]
    assert None not in parsed and parsed == sorted(parsed)  # type: ignore[type-var]
    assert all(v == f"{m[0]}.{m[1]}" for v, m in zip(found, parsed, strict=True) if m)


def test_a_version_without_schemas_is_refused_naming_the_range() -> None:
    oldest, newest = kubeschemas.supported_versions()[0], kubeschemas.supported_versions()[-1]
    with pytest.raises(InputError) as caught:
        values.validate({**MINIMAL, "kubernetesVersion": "1.2"})
    assert [(p.key, p.code, p.message) for p in caught.value.problems] == [
        ("kubernetesVersion", ProblemCode.INVALID,
         f"must be one of the versions with bundled schemas: {oldest} to {newest}")]


def test_check_judges_for_the_default_when_no_version_is_given(cli: Callable[..., Any]) -> None:
    result = cli("check", "--format", "json", str(HARDENED))
    assert result.code == 0, result.err
    assert json.loads(result.out)["summary"]["kubernetesVersion"] == kubeversions.DEFAULT


def test_check_help_names_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    assert f"(default: {kubeversions.DEFAULT})" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(("text", "version"), [
    ("1.33", (1, 33)), ("v1.30", (1, 30)), ("1.31.4", (1, 31)), (" 1.29\n", (1, 29)),
    ("1.33.", None), ("1", None), ("1.x", None), ("v", None), ("1.33-rc1", None), ("", None),
])
def test_the_version_grammar(text: str, version: tuple[int, int] | None) -> None:
    assert kubeversions.parse(text) == version


def test_an_unreadable_kube_version_is_a_usage_problem() -> None:
    with pytest.raises(InputError) as caught:
        parse_kube_version("1.x")
    assert [(p.key, p.code, p.message) for p in caught.value.problems] == [
        ("--kube-version", ProblemCode.USAGE,
         f"'1.x' is not a Kubernetes version like {kubeversions.DEFAULT}")]
