"""What `new` writes by itself and what the values refuse are the same facts: every env var the
bundle sets is a name a user may not set, every directory the bundle mounts is a place the
secrets volume may not go, every label the bundle puts on its objects is a key extra labels
may not replace. Judged on the rendered bundle, so a template that gains an env var, a mount
or a label without the values learning of it fails here."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from scaffold import values
from scaffold.errors import ProblemCode, ValuesError
from scaffold.render import render

from support import EXAMPLES

MINIMAL: dict[str, Any] = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
# Every runtime, and API access (which mounts the token).
SHAPES = {
    runtime: {**MINIMAL, "runtime": runtime, "configMaps": ["cfg"],
              "apiServer": {"cidrs": ["10.0.0.1/32"]}}
    for runtime in ("generic", "node", "python")
}


def _objects(data: dict[str, Any]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for f in render(values.validate(copy.deepcopy(data))):
        if f.is_manifest:
            docs += [d for d in yaml.safe_load_all(f.text) if d]
    return docs


def _container(data: dict[str, Any]) -> dict[str, Any]:
    deployment = next(d for d in _objects(data) if d["kind"] == "Deployment")
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def _codes(data: dict[str, Any], key: str) -> list[ProblemCode]:
    try:
        values.validate(data)
    except ValuesError as exc:
        return [p.code for p in exc.problems if p.key == key]
    return []


@pytest.mark.parametrize("runtime", sorted(SHAPES))
def test_every_env_var_the_bundle_sets_is_refused_as_a_user_env_var(runtime: str) -> None:
    shape = SHAPES[runtime]
    names = [e["name"] for e in _container(shape)["env"]]
    assert names  # TMPDIR at least
    for name in names:
        assert _codes({**shape, "env": {name: "x"}}, f"env.{name}") == [ProblemCode.RESERVED], name


@pytest.mark.parametrize("runtime", sorted(SHAPES))
def test_no_directory_the_bundle_mounts_can_hold_the_secrets(runtime: str) -> None:
    shape = SHAPES[runtime]
    paths = [m["mountPath"] for m in _container(shape)["volumeMounts"]]
    assert "/tmp" in paths
    for path in paths:
        data = {**shape, "secrets": {"provider": "vault", "mountPath": path}}
        assert ProblemCode.INVALID in _codes(data, "secrets.mountPath"), path
        message = values.check_mount_path(path)
        assert message is not None and "overlaps" in message, (path, message)


def test_every_label_the_bundle_sets_is_refused_as_an_extra_label() -> None:
    keys = {k for d in _objects(SHAPES["node"]) for k in d["metadata"].get("labels", {})
            if k.startswith("app.kubernetes.io/")}
    assert "app.kubernetes.io/instance" in keys
    for key in sorted(keys):
        assert _codes({**MINIMAL, "labels": {key: "x"}}, f"labels.{key}") == [
            ProblemCode.RESERVED], key
