"""Rendering is safe by construction: every template interpolation is quoted, hostile
strings in free-text fields either are refused (exit 2) or come out exactly, with no extra
keys and no changed types; every supported Kubernetes version verifies."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import nodes

from scaffold import render, values, verify
from scaffold.errors import ValuesError, VerificationError

from support import EXAMPLES

TEMPLATES = Path(render.__file__).resolve().parent.parent / "templates"
BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "github-mcp.yaml").read_text())
MACROS = {"mapping", "metadata", "ip_block", "pod_template", "container", "probe", "volume",
          "rule_list", "subject"}
# Filters that quote a value or dump a structure; nothing else may reach the YAML.
QUOTING = ("q", "yaml", "document", "spaces")


def _unquoted(template: Path) -> list[str]:
    env = render._environment()
    tree = env.parse(template.read_text())
    bad = []
    for output in tree.find_all(nodes.Output):
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData | nodes.Const):
                continue
            if isinstance(node, nodes.Filter) and node.name in QUOTING:
                continue
            if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) \
                    and node.node.name in MACROS:
                continue
            bad.append(f"{template.name}:{node.lineno}")
    return bad


@pytest.mark.parametrize("template", [*sorted(TEMPLATES.glob("*.yaml.j2")), *sorted(TEMPLATES.glob("_*.j2"))],
                         ids=lambda p: p.name)
def test_every_interpolation_is_quoted(template: Path) -> None:
    assert _unquoted(template) == []


def test_the_lint_catches_an_unquoted_value(tmp_path: Path) -> None:
    bad = tmp_path / "x.yaml.j2"
    bad.write_text("a: {{ v.name }}\nb: {{ v.name | q }}\n")
    assert _unquoted(bad) == ["x.yaml.j2:1"]


def _build(data: dict[str, Any]) -> list[dict[str, Any]]:
    v = values.validate(data)
    return verify.verify(render.render(v), v["kubernetesVersion"])


def _deployment(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == "Deployment")


TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40) | st.sampled_from(
    ["yes", "no", "on", "0755", "1e3", "null", "~", "# c", "a: b", "- x", "'q'", '"dq"',
     "x\n  injected: pwned\nkind2: x", "{a: 1}", "[1]", "&anchor", "*alias", "!!int 3", "",
     "trailing ", " leading", "tab\there", "😀", "\u2028", "%TAG", "@at", "`tick`", "|", ">"])
HYPO = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYPO
@given(value=TEXT)
def test_env_value_round_trips_or_is_refused(value: str) -> None:
    data = copy.deepcopy(BASE)
    data["env"] = {"MCP_SETTING": value}
    try:
        docs = _build(data)
    except ValuesError:
        return
    container = _deployment(docs)["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["MCP_SETTING"] == {"name": "MCP_SETTING", "value": value}
    assert set(container) == {"name", "image", "imagePullPolicy", "args", "ports", "env",
                              "securityContext",
                              "resources", "livenessProbe", "readinessProbe", "volumeMounts"}


@HYPO
@given(args=st.lists(TEXT, min_size=1, max_size=4), command=st.lists(TEXT, max_size=2))
def test_args_and_command_round_trip(args: list[str], command: list[str]) -> None:
    data = copy.deepcopy(BASE)
    data["args"], data["command"] = args, command
    # Free text keeps tabs and line breaks; NUL (exec cuts the string there) and the other
    # control characters are refused at their key.
    if any(re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", s) for s in args + command):
        with pytest.raises(ValuesError, match=r"(args|command)\[\d+\]: contains the control"):
            _build(data)
        return
    container = _deployment(_build(data))["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == args
    assert container.get("command", []) == command


@HYPO
@given(name=TEXT, path=TEXT, label=TEXT)
def test_aws_object_strings_round_trip_through_the_provider_format(name: str, path: str, label: str) -> None:
    data = copy.deepcopy(BASE)
    obj = data["secrets"]["aws"]["objects"][0]
    obj["objectName"], obj["jmesPath"][0]["path"] = name, path
    obj["objectVersionLabel"] = label
    try:
        docs = _build(data)
    except ValuesError:
        return
    spc = next(d for d in docs if d["kind"] == "SecretProviderClass")
    params = spc["spec"]["parameters"]
    assert all(isinstance(p, str) for p in params.values())
    objects = yaml.safe_load(params["objects"])  # the AWS provider's parse
    assert objects[0]["objectName"] == name
    assert objects[0]["jmesPath"][0]["path"] == path
    assert objects[0]["objectVersionLabel"] == label
    assert set(objects[0]) == {"objectName", "objectType", "objectVersionLabel", "jmesPath"}


@HYPO
@given(path=TEXT)
def test_probe_path_round_trips_or_is_refused(path: str) -> None:
    data = copy.deepcopy(BASE)
    data["probes"] = {"liveness": {"path": path}}
    try:
        docs = _build(data)
    except ValuesError:
        return
    probe = _deployment(docs)["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    assert probe["httpGet"] == {"path": path, "port": "http"}


@HYPO
@given(key=TEXT, value=TEXT)
def test_labels_are_refused_or_exact(key: str, value: str) -> None:
    data = copy.deepcopy(BASE)
    data["labels"] = {key: value}
    try:
        docs = _build(data)
    except ValuesError:
        return
    for doc in docs:
        assert doc["metadata"]["labels"][key] == value


@pytest.mark.parametrize("version", values.supported_versions())
def test_every_supported_version_verifies(version: str) -> None:
    data = copy.deepcopy(BASE)
    data["kubernetesVersion"] = version
    docs = _build(data)
    ns = next(d for d in docs if d["kind"] == "Namespace")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce-version"] == f"v{version}"


def test_verification_failure_exits_1_and_writes_nothing(
        tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real = render.render

    def broken(v: Any) -> list[render.RenderedFile]:
        return [dataclasses.replace(f, text=f.text.replace("enableServiceLinks", "enableServiceLink"))
                for f in real(v)]

    monkeypatch.setattr("scaffold.pipeline.render", broken)
    r = cli("new", "--values", str(EXAMPLES / "github-mcp.yaml"), "--output", str(tmp_path / "o"))
    assert r.code == 1
    assert "Deployment/github-mcp: spec.template.spec" in r.err and "enableServiceLink" in r.err
    assert not (tmp_path / "o").exists()


def test_a_document_without_schema_is_an_error() -> None:
    doc = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert "no schema" in verify.schema_failures(doc, "1.33")[0]


def test_secret_objects_are_refused_by_the_crd_schema() -> None:
    files = render.render(values.load(str(EXAMPLES / "github-mcp.yaml")))
    spc = "  provider: aws\n  secretObjects: []"
    bad = [dataclasses.replace(f, text=f.text.replace("  provider: aws", spc))
           for f in files]
    with pytest.raises(VerificationError, match="secretObjects is not allowed"):
        verify.verify(bad, "1.33")


def test_a_policy_finding_blocks_the_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    # Schema-valid but weaker: the pod would mount the service-account token automatically.
    files = render.render(values.load(str(EXAMPLES / "github-mcp.yaml")))
    weaker = [dataclasses.replace(f, text=f.text.replace(
        "      automountServiceAccountToken: false", "      automountServiceAccountToken: true"))
        for f in files]
    with pytest.raises(VerificationError, match=r"Deployment/github-mcp: .*\[MCP-"):
        verify.verify(weaker, "1.33")


def _strings(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_strings(k) | _strings(v) for k, v in node.items())) if node else set()
    if isinstance(node, list):
        return set().union(*(_strings(v) for v in node)) if node else set()
    return {node} if isinstance(node, str) else set()


# Every other free-text field of the contract: patterned ones must refuse what they cannot
# carry; whatever they accept must come out verbatim, and no value may add keys or objects.
FIELDS = ["name", "namespace", "ingress.namespace", "configMaps.0", "secrets.mountPath",
          "secrets.files.DB_PASSWORD_FILE", "downstream.0.namespace",
          "tmpSize", "resources.limits.memory", "dns.namespace", "apiServer.cidrs.0",
          "secrets.aws.region", "secrets.aws.roleArn", "image"]
FULL = values.with_defaults(BASE)


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    node: Any = data
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    if isinstance(node, list):
        node[int(keys[-1])] = value
    else:
        node[keys[-1]] = value


def _shape(docs: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    # A downstream's ingress allow exists only while it shares the server's namespace (a value
    # decides that, by design): the shape of everything else must not change.
    return sorted((d["kind"], tuple(sorted(d)), tuple(sorted(d["metadata"].get("labels", {}))))
                  for d in docs if not (d["kind"] == "NetworkPolicy"
                                        and d["spec"].get("policyTypes") == ["Ingress"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=TEXT)
def test_any_free_text_field_is_refused_or_exact(field: str, value: str) -> None:
    data = copy.deepcopy(FULL)
    _put(data, field, value)
    if field == "secrets.files.DB_PASSWORD_FILE":  # the file must still be produced
        data["secrets"]["aws"]["objects"][1]["jmesPath"][0]["objectAlias"] = value
    try:
        docs = _build(data)
    except ValuesError as exc:
        assert exc.exit_code == 2 and exc.problems
        return
    assert any(value in s for d in docs for s in _strings(d))
    assert _shape(docs) == _shape(_build(copy.deepcopy(FULL)))


def test_a_parameter_the_provider_requires_is_enforced_by_the_crd_schema() -> None:
    files = render.render(values.load(str(EXAMPLES / "github-mcp.yaml")))
    bad = [dataclasses.replace(f, text=f.text.replace("    objects: |", "    objekts: |"))
           for f in files]
    with pytest.raises(VerificationError, match="'objects' is a required property"):
        verify.verify(bad, "1.33")


@pytest.mark.parametrize("value", ["A\n", "a/b\n", "x\n\n", "plain"])
def test_a_trailing_newline_reaches_the_container(value: str) -> None:
    from scaffold import values as values_mod
    from scaffold.render import render as render_values

    from support import EXAMPLES

    raw = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
    raw["env"] = {"GREETING": value}
    raw["args"] = [value]
    files = render_values(values_mod.validate(raw))
    deployment = next(yaml.safe_load(f.text) for f in files if f.path == "deployment.yaml")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == [value]
    assert {e["name"]: e.get("value") for e in container["env"]}["GREETING"] == value


def test_a_downstream_in_the_servers_namespace_accepts_the_server() -> None:
    # The namespace's default-deny isolates the downstream's pods too: without an ingress rule
    # on them, the server's egress to them has nothing to meet (0.2.0 wrote none).
    from scaffold import values as values_mod
    from scaffold.render import render as render_values

    from support import EXAMPLES

    raw = yaml.safe_load((EXAMPLES / "github-mcp.yaml").read_text())
    docs = [d for f in render_values(values_mod.validate(raw)) if f.path == "networkpolicy.yaml"
            for d in yaml.safe_load_all(f.text)]
    by_name = {d["metadata"]["name"]: d for d in docs}
    allow = by_name["github-mcp-to-postgres"]
    assert allow["spec"]["podSelector"] == {"matchLabels": {"app": "postgres"}}
    assert allow["spec"]["policyTypes"] == ["Ingress"]
    [rule] = allow["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": by_name["github-mcp"]["spec"][
        "podSelector"]["matchLabels"]}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]
    # the downstream in another namespace is that namespace's to admit: nothing written for it
    assert "github-mcp-to-redis" not in by_name
