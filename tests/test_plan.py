"""The plan: built once from checked values, frozen, and the only thing templates read.
One definition of each shared fact: what the bundle sets, users cannot override."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import nodes

from scaffold import conventions, plan, render, values
from scaffold.errors import ValuesError

from support import EXAMPLES

TEMPLATES = Path(render.__file__).resolve().parent.parent / "templates"
BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "github-mcp.yaml").read_text())


def _server(data: dict[str, Any]) -> plan.ServerPlan:
    bundle = plan.build(values.validate(data))
    assert len(bundle.servers) == 1
    return bundle.servers[0]


def test_the_plan_is_frozen() -> None:
    server = _server(copy.deepcopy(BASE))
    with pytest.raises(dataclasses.FrozenInstanceError):
        server.replicas = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        server.labels["team"] = "other"  # type: ignore[index]
    with pytest.raises(TypeError):
        server.pod.labels["x"] = "y"  # type: ignore[index]


@pytest.mark.parametrize("replicas", [1, 2, 3])
def test_pdb_and_spreading_come_together_from_two_replicas(replicas: int) -> None:
    data = copy.deepcopy(BASE)
    data["replicas"] = replicas
    files = {f.path: f.text for f in render.render(values.validate(data))}
    highly_available = replicas >= 2
    assert ("poddisruptionbudget.yaml" in files) is highly_available
    assert ("  - poddisruptionbudget.yaml" in files["kustomization.yaml"]) is highly_available
    pod = yaml.safe_load(files["deployment.yaml"])["spec"]["template"]["spec"]
    assert ("affinity" in pod) is highly_available
    assert ("topologySpreadConstraints" in pod) is highly_available


@pytest.mark.parametrize("runtime", ["generic", "node", "python"])
def test_no_env_var_the_bundle_sets_can_be_set_by_the_user(runtime: str) -> None:
    data = copy.deepcopy(BASE)
    data["runtime"] = runtime
    data["env"] = {}
    v = values.validate(data)
    deployment = next(f for f in render.render(v) if f.path == "deployment.yaml")
    container = yaml.safe_load(deployment.text)["spec"]["template"]["spec"]["containers"][0]
    bundle_env = {e["name"] for e in container["env"]} - set(v["secrets"]["files"])
    assert "TMPDIR" in bundle_env and ("HOME" in bundle_env) is (runtime != "generic")
    for name in sorted(bundle_env):
        attempt = copy.deepcopy(data)
        attempt["env"] = {name: "/elsewhere"}
        with pytest.raises(ValuesError) as info:
            values.validate(attempt)
        assert [p.key for p in info.value.problems] == [f"env.{name}"]


def test_the_reserved_env_names_are_the_ones_the_runtimes_set() -> None:
    expected = {"HOME", "TMPDIR", "XDG_CACHE_HOME", "NPM_CONFIG_CACHE", "UV_CACHE_DIR",
                "PIP_CACHE_DIR", "PYTHONDONTWRITEBYTECODE"}
    assert expected == conventions.RESERVED_ENV
    assert values.RESERVED_ENV == conventions.RESERVED_ENV  # until values imports it


def test_the_writable_home_cannot_hold_the_secrets() -> None:
    data = copy.deepcopy(BASE)
    data["secrets"]["mountPath"] = conventions.HOME
    with pytest.raises(ValuesError) as info:
        values.validate(data)
    assert "secrets.mountPath" in [p.key for p in info.value.problems]


def test_extra_labels_may_not_replace_a_generated_one() -> None:
    server = _server(copy.deepcopy(BASE))
    assert set(server.labels) - {"team"} == conventions.GENERATED_LABELS
    for key in sorted(conventions.GENERATED_LABELS):
        data = copy.deepcopy(BASE)
        data["labels"] = {key: "x"}
        with pytest.raises(ValuesError):
            values.validate(data)


def test_render_writes_exactly_the_files_the_plan_lists() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        raw = values.read_file(str(path))
        if raw.get("servers"):  # a tree: tests/test_servers.py
            continue
        v = values.validate(raw)
        server = plan.build(v).servers[0]
        files = render.render(v)
        assert [f.path for f in files] == [m.name for m in server.outputs if m.when]
        listed = yaml.safe_load(next(f.text for f in files if f.path == "kustomization.yaml"))
        assert listed["resources"] == [f.path for f in files if f.is_manifest]


def test_minimal_values_leave_out_what_they_do_not_need() -> None:
    server = _server(yaml.safe_load((EXAMPLES / "minimal.yaml").read_text()))
    left_out = {m.name for m in server.outputs if not m.when}
    assert left_out == {"role.yaml", "rolebinding.yaml", "clusterrole.yaml",
                        "clusterrolebinding.yaml", "secretproviderclass.yaml",
                        "poddisruptionbudget.yaml", "persistentvolumeclaim.yaml",
                        "ciliumnetworkpolicy.yaml", "fqdnnetworkpolicy.yaml"}
    assert server.api is None and server.secrets is None and not server.pod.projected_token


def test_internet_rules_except_private_ranges_and_say_so() -> None:
    data = copy.deepcopy(BASE)
    data["externalEgress"] = [{"cidr": "0.0.0.0/0", "ports": [443]},
                              {"cidr": "203.0.113.0/24", "ports": [443]}]
    internet, narrow = _server(data).network.external
    assert internet.internet and "10.0.0.0/8" in internet.block.excepts
    assert "169.254.0.0/16" in internet.block.excepts
    assert not narrow.internet and narrow.block.excepts == ()


def _names_read(template: Path) -> set[str]:
    env = render._environment()
    tree = env.parse(template.read_text())
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    return {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"} - assigned


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.j2")), ids=lambda p: p.name)
def test_templates_read_only_the_plan(template: Path) -> None:
    allowed = {"plan", "namespace", "files", "resources", "loop", "mapping", "metadata",
               "ip_block", "pod_template", "container", "probe", "volume", "rule_list", "subject"}
    assert _names_read(template) <= allowed


def test_the_pod_template_lays_out_a_sidecar_with_the_same_hardening() -> None:
    server = _server(copy.deepcopy(BASE))
    main = server.pod.containers[0]
    sidecar = dataclasses.replace(main, name="bridge", image=main.image, command=(), args=("--x",),
                                  env=(), liveness=None, readiness=None,
                                  mounts=(plan.Mount("tmp", conventions.TMP),))
    pod = dataclasses.replace(server.pod, containers=(main, sidecar))
    template = render._environment().from_string(
        '{%- from "_pod.j2" import pod_template -%}\nspec:\n  {{ pod_template(pod) }}\n')
    spec = yaml.safe_load(template.render(pod=pod))["spec"]["template"]["spec"]
    first, second = spec["containers"]
    assert second["name"] == "bridge" and second["args"] == ["--x"]
    assert second["securityContext"] == first["securityContext"]
    assert second["securityContext"]["readOnlyRootFilesystem"] is True
    assert "livenessProbe" not in second and second["volumeMounts"] == [
        {"name": "tmp", "mountPath": "/tmp"}]
    assert [v["name"] for v in spec["volumes"]] == ["tmp", "api-token", "secrets"]
