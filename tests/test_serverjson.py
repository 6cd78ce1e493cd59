"""Importing an MCP registry server.json: reading, our schema against upstream's, the mapping to
values, and merging with --values."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold import serverjson
from scaffold.errors import InputError
from scaffold.serverjson import Hint, Question, merge, remaining, to_values

from support import reference

DIGEST = "sha256:" + "a" * 64
DEPLOY = "mcp-scaffold.io/deploy"


def doc(**package: Any) -> dict[str, Any]:
    """A minimal valid server.json with one OCI package (streamable HTTP) overridden by `package`."""
    base: dict[str, Any] = {
        "registryType": "oci", "identifier": f"ghcr.io/acme/weather:1.2.0@{DIGEST}",
        "transport": {"type": "streamable-http", "url": "http://localhost:8080/mcp"},
    }
    base.update(package)
    return {"name": "io.github.acme/weather", "description": "Weather", "version": "1.2.0",
            "packages": [base]}


def imported(data: dict[str, Any]) -> tuple[dict[str, Any], list[Question | Hint]]:
    return to_values(serverjson.parse(json.dumps(data), "server.json"))


def problems_of(data: Any) -> dict[str, str]:
    with pytest.raises(InputError) as caught:
        serverjson.parse(data if isinstance(data, str) else json.dumps(data), "server.json")
    assert caught.value.source == "server.json"
    return {p.key: p.message for p in caught.value.problems}


def questions(asks: list[Question | Hint]) -> dict[str, Question]:
    return {a.key: a for a in asks if isinstance(a, Question)}


# --- valid input -------------------------------------------------------------------------------------


def test_oci_package_with_digest_gives_image_transport_port_and_path() -> None:
    values, asks = imported(doc())
    assert values["image"] == f"ghcr.io/acme/weather:1.2.0@{DIGEST}"
    assert values["name"] == "weather"
    assert (values["transport"], values["port"], values["path"]) == ("streamable-http", 8080, "/mcp")
    assert "image" not in questions(asks)
    assert "namespace" in questions(asks)  # no description can know it


def test_tag_only_image_is_left_missing_and_asked_as_a_digest() -> None:
    values, asks = imported(doc(identifier="ghcr.io/acme/weather:1.2.0"))
    assert "image" not in values
    ask = questions(asks)["image"]
    assert ask.kind == "digest" and ask.default is None
    assert "ghcr.io/acme/weather:1.2.0" in ask.prompt and "digest" in ask.prompt
    assert ask.source == "packages[0].identifier"
    assert [q.key for q in remaining(asks, values) if q.key == "image"] == ["image"]


def test_npm_package_is_a_stdio_server_behind_the_bridge_with_the_node_runtime() -> None:
    values, asks = imported(doc(registryType="npm", identifier="@acme/weather", version="1.2.0",
                                transport={"type": "stdio"}))
    assert (values["runtime"], values["transport"]) == ("node", "stdio")
    assert "image" not in values
    hints = {a.key: a.message for a in asks if isinstance(a, Hint)}
    assert "an image holding it is needed" in hints["image"]
    assert "bridge" in hints["bridge"]
    assert questions(asks)["image"].kind == "digest"


def test_pypi_package_gets_the_python_runtime_and_a_known_image_from_the_deploy_hints() -> None:
    data = doc(registryType="pypi", identifier="mcp-server-time", version="0.6.2",
               transport={"type": "stdio"})
    data["_meta"] = {DEPLOY: {"image": f"ghcr.io/acme/time:0.6.2@{DIGEST}"}}
    values, asks = imported(data)
    assert (values["runtime"], values["transport"]) == ("python", "stdio")
    assert values["image"] == f"ghcr.io/acme/time:0.6.2@{DIGEST}"
    assert "image" not in questions(asks)


def test_secret_variables_become_secrets_env_with_derived_file_names() -> None:
    values, asks = imported(doc(environmentVariables=[
        {"name": "NOTION_TOKEN", "isSecret": True, "isRequired": True},
        {"name": "API_KEY", "isSecret": True, "default": "never-used"},
    ]))
    assert values["secrets"]["env"] == {"NOTION_TOKEN": "notion-token", "API_KEY": "api-key"}
    assert "env" not in values  # a secret's default never reaches a manifest
    assert "never-used" not in json.dumps(values)
    assert questions(asks)["secrets.provider"].choices == ("aws", "azure", "gcp", "vault")


def test_secrets_whose_names_derive_the_same_file_get_distinct_files() -> None:
    values, _ = imported(doc(environmentVariables=[{"name": "A_B", "isSecret": True},
                                                   {"name": "A-B", "isSecret": True}]))
    assert values["secrets"]["env"] == {"A_B": "a-b", "A-B": "a-b-2"}


def test_transport_url_variables_come_from_arguments_and_env() -> None:
    values, _ = imported(doc(
        transport={"type": "streamable-http", "url": "http://localhost:{port}{MCP_PATH}"},
        packageArguments=[{"type": "named", "name": "--port", "default": "9000"}],
        environmentVariables=[{"name": "MCP_PATH", "default": "/rpc"}]))
    assert (values["port"], values["path"]) == (9000, "/rpc")


def test_path_reading_secret_goes_to_secrets_files() -> None:
    data = doc(environmentVariables=[
        {"name": "GRAFANA_SERVICE_ACCOUNT_TOKEN_FILE", "isSecret": True, "format": "filepath"},
        {"name": "MCP_GRAFANA_SERVER_TOKEN", "isSecret": True}])
    data["_meta"] = {DEPLOY: {"secretFiles": ["GRAFANA_SERVICE_ACCOUNT_TOKEN_FILE"]}}
    values, _ = imported(data)
    assert values["secrets"] == {
        "files": {"GRAFANA_SERVICE_ACCOUNT_TOKEN_FILE": "grafana-service-account-token"},
        "env": {"MCP_GRAFANA_SERVER_TOKEN": "mcp-grafana-server-token"}}


def test_plain_variables_with_value_or_default_go_to_env_others_are_asked() -> None:
    values, asks = imported(doc(environmentVariables=[
        {"name": "LOG_LEVEL", "default": "info"},
        {"name": "REGION", "value": "{zone}-1", "variables": {"zone": {"default": "eu"}}},
        {"name": "GRAFANA_URL", "isRequired": True, "description": "Grafana base URL"},
        {"name": "MODE", "choices": ["read", "write"], "default": "read"},
        {"name": "OPTIONAL_THING"},
    ]))
    assert values["env"] == {"LOG_LEVEL": "info", "REGION": "eu-1"}
    asked = questions(asks)
    assert asked["env.GRAFANA_URL"].kind == "text" and "Grafana base URL" in asked["env.GRAFANA_URL"].prompt
    assert (asked["env.MODE"].kind, asked["env.MODE"].choices, asked["env.MODE"].default) == (
        "choice", ("read", "write"), "read")
    assert "env.OPTIONAL_THING" not in asked
    assert any(isinstance(a, Hint) and a.key == "env.OPTIONAL_THING" for a in asks)


def test_named_and_positional_arguments_with_variables() -> None:
    values, asks = imported(doc(packageArguments=[
        {"type": "named", "name": "--port", "value": "{port}", "variables": {"port": {"default": "8080"}}},
        {"type": "named", "name": "--mode", "default": "ro"},
        {"type": "positional", "value": "/data/{tenant}", "variables": {"tenant": {"description": "t"}}},
        {"type": "positional", "valueHint": "config_path", "isRequired": True},
        {"type": "positional", "valueHint": "optional_extra"},
        {"type": "named", "name": "--level", "choices": ["low", "high"], "isRequired": True},
    ], runtimeArguments=[{"type": "named", "name": "--rm"}]))
    # The format's rule for a named argument is `--flag={value}`.
    assert values["args"] == ["--port=8080", "--mode=ro", "/data/{tenant}", "{config_path}",
                              "--level={level}"]
    asked = questions(asks)
    assert asked["args[2]"].template == "/data/{tenant}"
    assert asked["args[3]"].template == "{config_path}"
    assert (asked["args[4]"].kind, asked["args[4]"].choices) == ("choice", ("low", "high"))
    assert "--rm" not in values["args"]
    assert any(isinstance(a, Hint) and "runtimeArguments" in a.source for a in asks)


def test_deploy_hints_give_http_command_line_probes_egress_and_rbac() -> None:
    data = doc(transport={"type": "stdio"}, packageArguments=[{"type": "named", "name": "--read-only",
                                                               "value": "true"}])
    data["_meta"] = {DEPLOY: {
        "transport": "streamable-http", "args": ["http", "--port", "8082"], "port": 8082, "path": "/mcp",
        "healthPath": "/healthz", "probeHeaders": {"Host": "localhost"},
        "egress": {"hosts": [{"host": "api.github.com", "ports": [443]}],
                   "cidrs": [{"cidr": "203.0.113.0/24", "ports": [443]}]},
        "apiAccess": {"clusterRole": "view", "clusterWide": {"reason": "reads every namespace"}},
        "workingDir": "/home/node", "volumes": [{"mountPath": "/data", "size": "1Gi", "persistent": True}],
        "env": {"PORT": "8082"}}}
    values, asks = imported(data)
    assert values["transport"] == "streamable-http"
    assert values["args"] == ["http", "--port", "8082", "--read-only=true"]
    assert values["probes"]["liveness"] == {"path": "/healthz", "headers": {"Host": "localhost"}}
    assert values["externalEgress"] == [{"host": "api.github.com", "ports": [443]},
                                        {"cidr": "203.0.113.0/24", "ports": [443]}]
    assert values["rbac"] == {"clusterRole": "view", "clusterWide": {"reason": "reads every namespace"}}
    assert (values["workingDir"], values["env"]) == ("/home/node", {"PORT": "8082"})
    asked = questions(asks)
    assert asked["networkPolicy.flavor"].choices == ("cilium", "gke")
    assert "apiServer.cidrs" in asked


def test_package_choice_prefers_oci_and_honours_an_index() -> None:
    data = doc()
    npm = {"registryType": "npm", "identifier": "@acme/weather", "version": "1.2.0",
           "transport": {"type": "stdio"}}
    data["packages"].insert(0, npm)
    assert imported(data)[0]["image"].startswith("ghcr.io/acme/weather")
    first = serverjson.to_values(serverjson.parse(json.dumps(data), "x"), package_index=0)[0]
    assert first["runtime"] == "node"
    with pytest.raises(InputError) as caught:
        serverjson.to_values(serverjson.parse(json.dumps(data), "x"), package_index=5)
    assert caught.value.problems[0].key == "packages"


# --- invalid input -----------------------------------------------------------------------------------


def test_invalid_transport_names_the_json_path_and_what_is_allowed() -> None:
    found = problems_of(doc(transport={"type": "websocket"}))
    assert found == {"packages[0].transport.type": 'must be one of: "stdio", "streamable-http", "sse"'}


def test_every_problem_is_reported_once_with_its_path() -> None:
    data = doc(environmentVariables=[{"description": "no name"}],
               packageArguments=[{"type": "positional"}, {"type": "named"}])
    del data["version"]
    found = problems_of(data)
    assert set(found) == {"version", "packages[0].environmentVariables[0].name",
                          "packages[0].packageArguments[0]", "packages[0].packageArguments[1].name"}
    assert found["version"] == "is required"
    assert "value or valueHint" in found["packages[0].packageArguments[0]"]


def test_unknown_deploy_key_is_named_with_the_allowed_keys() -> None:
    data = doc()
    data["_meta"] = {DEPLOY: {"prot": 8080}}
    found = problems_of(data)
    assert list(found) == ['_meta["mcp-scaffold.io/deploy"].prot']
    assert "port" in found['_meta["mcp-scaffold.io/deploy"].prot']


@pytest.mark.parametrize("text, fragment", [
    ("{", "not valid JSON"),
    ('{"name": "a/b", "name": "c/d"}', "duplicate key 'name'"),
    ('{"version": NaN}', "NaN is not JSON"),
    ("[" * 100_000, "not valid JSON"),
])
def test_unreadable_json_is_one_problem_not_a_traceback(text: str, fragment: str) -> None:
    found = problems_of(text)
    assert list(found) == ["(document)"] and fragment in found["(document)"]


def test_unusable_packages_are_refused_naming_the_key() -> None:
    sse = doc(transport={"type": "sse", "url": "http://x/sse"})
    with pytest.raises(InputError) as caught:
        imported(sse)
    assert caught.value.problems[0].key == "packages[0].transport.type"
    mcpb = doc(registryType="mcpb", identifier="https://github.com/a/b/releases/download/v1/s.mcpb",
               fileSha256="b" * 64, transport={"type": "stdio"})
    with pytest.raises(InputError) as caught:
        imported(mcpb)
    assert caught.value.problems[0].key == "packages[0].registryType"
    remote_only = {k: v for k, v in doc().items() if k != "packages"}
    remote_only["remotes"] = [{"type": "streamable-http", "url": "https://mcp.example.com/mcp"}]
    with pytest.raises(InputError) as caught:
        imported(remote_only)
    assert caught.value.problems[0].key == "packages"


def test_load_reads_a_file_or_a_catalog_name_and_refuses_anything_else(tmp_path: Path) -> None:
    path = tmp_path / "server.json"
    path.write_text(json.dumps(doc()))
    assert serverjson.load(str(path)).name == "io.github.acme/weather"
    assert serverjson.load("grafana").source == "catalog:grafana"
    with pytest.raises(InputError) as caught:
        serverjson.load(str(tmp_path / "missing.json"))
    assert caught.value.problems[0].key == "--from"
    assert "grafana" in caught.value.problems[0].message  # lists what the catalog has


# --- merge with --values -----------------------------------------------------------------------------


def test_values_win_key_by_key_and_lists_are_replaced() -> None:
    ours = {"name": "weather", "env": {"A": "1", "B": "2"}, "args": ["--x", "{tenant}"],
            "secrets": {"env": {"T": "t"}}, "port": 8080}
    given = {"env": {"B": "given"}, "args": ["--y"], "secrets": {"provider": "aws"}, "namespace": "mcp"}
    merged = merge(ours, given)
    assert merged == {"name": "weather", "env": {"A": "1", "B": "given"}, "args": ["--y"],
                      "secrets": {"env": {"T": "t"}, "provider": "aws"}, "port": 8080,
                      "namespace": "mcp"}
    assert ours["env"] == {"A": "1", "B": "2"}  # inputs untouched


def test_remaining_drops_what_the_values_answer() -> None:
    values, asks = imported(doc(identifier="ghcr.io/acme/weather:1.2.0", packageArguments=[
        {"type": "positional", "valueHint": "dir", "isRequired": True}],
        environmentVariables=[{"name": "URL", "isRequired": True}]))
    before = {q.key for q in remaining(asks, values)}
    assert {"image", "namespace", "env.URL", "args[0]"} <= before
    merged = merge(values, {"image": f"ghcr.io/acme/weather:1.2.0@{DIGEST}", "namespace": "mcp",
                            "env": {"URL": "http://x"}, "args": ["/srv"]})
    assert {q.key for q in remaining(asks, merged)} == before - {"image", "namespace", "env.URL", "args[0]"}


# --- our schema against upstream's -------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        node: Any = d
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = parts[-1]
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return mutate


_DELETE = object()

# (mutation, why ours refuses what upstream accepts; None: both must agree)
MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], None], str | None]] = [
    ("unchanged", lambda d: None, None),
    ("no name", _set("name", _DELETE), None),
    ("name without slash", _set("name", "weather"), None),
    ("name too short", _set("name", "a/"), None),
    ("description too long", _set("description", "x" * 101), None),
    ("description empty", _set("description", ""), None),
    ("version missing", _set("version", _DELETE), None),
    ("version a number", _set("version", 1), None),
    ("packages not a list", _set("packages", {}), None),
    ("unknown registryType", _set("packages.0.registryType", "cargo"), None),
    ("no transport", _set("packages.0.transport", _DELETE), None),
    ("transport type websocket", _set("packages.0.transport.type", "websocket"), None),
    ("streamable-http without url", _set("packages.0.transport.url", _DELETE), None),
    ("stdio transport", _set("packages.0.transport", {"type": "stdio"}), None),
    ("sse transport", _set("packages.0.transport", {"type": "sse", "url": "http://x/sse"}), None),
    ("npm without version", _set("packages.0", {"registryType": "npm", "identifier": "x",
                                                "transport": {"type": "stdio"}}), None),
    ("npm version latest", _set("packages.0", {"registryType": "npm", "identifier": "x",
                                               "version": "latest", "transport": {"type": "stdio"}}), None),
    ("npm pinned", _set("packages.0", {"registryType": "npm", "identifier": "x", "version": "1.0.0",
                                       "transport": {"type": "stdio"}}), None),
    ("mcpb without sha", _set("packages.0", {"registryType": "mcpb", "identifier": "https://x/y.mcpb",
                                             "transport": {"type": "stdio"}}), None),
    ("env var without name", _set("packages.0.environmentVariables", [{"value": "x"}]), None),
    ("env var isSecret a string", _set("packages.0.environmentVariables",
                                       [{"name": "A", "isSecret": "yes"}]), None),
    ("env var unknown format", _set("packages.0.environmentVariables",
                                    [{"name": "A", "format": "date"}]), None),
    ("env var choices not strings", _set("packages.0.environmentVariables",
                                         [{"name": "A", "choices": [1]}]), None),
    ("env var with variables", _set("packages.0.environmentVariables",
                                    [{"name": "A", "value": "{x}",
                                      "variables": {"x": {"default": "1"}}}]), None),
    ("positional without value or hint", _set("packages.0.packageArguments", [{"type": "positional"}]), None),
    ("positional with hint", _set("packages.0.packageArguments",
                                  [{"type": "positional", "valueHint": "dir"}]), None),
    ("named without name", _set("packages.0.packageArguments", [{"type": "named"}]), None),
    ("argument of unknown type", _set("packages.0.packageArguments", [{"type": "flag", "name": "-x"}]), None),
    ("named argument", _set("packages.0.packageArguments", [{"type": "named", "name": "--port",
                                                             "value": "1"}]), None),
    ("remote without url", _set("remotes", [{"type": "streamable-http"}]), None),
    ("remote stdio", _set("remotes", [{"type": "stdio"}]), None),
    ("_meta not an object", _set("_meta", []), None),
    ("unknown top-level key", _set("x-extra", 1), None),
    # Where ours is stricter, and why:
    ("OCI identifier without tag or digest", _set("packages.0.identifier", "ghcr.io/acme/weather"),
     "upstream's own description requires a tag or digest but its schema does not check it; a"
     " bare name means `latest`, never a pinned image"),
    ("env name with a shell metacharacter", _set("packages.0.environmentVariables",
                                                 [{"name": "A;rm -rf /"}]),
     "a pod env name must be one Kubernetes accepts; carried verbatim it would break the manifest"),
    ("named argument name with a space", _set("packages.0.packageArguments",
                                              [{"type": "named", "name": "--a b", "value": "1"}]),
     "a flag with a space or no leading dash is a second argument or a value in disguise"),
    ("header name with a colon", _set("packages.0.transport.headers", [{"name": "X:Y"}]),
     "not an HTTP header token; it would inject a second header"),
    ("deploy port below 1024", _set("_meta", {DEPLOY: {"port": 80}}),
     "our own _meta extension: the base runs as non-root without capabilities, so ports < 1024 fail"),
    ("deploy unknown key", _set("_meta", {DEPLOY: {"prot": 80}}),
     "our own _meta extension refuses unknown keys so a typo is not silently ignored"),
]


@pytest.mark.parametrize("label, mutate, stricter", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_our_schema_accepts_and_refuses_like_upstream(
    label: str, mutate: Callable[[dict[str, Any]], None], stricter: str | None
) -> None:
    upstream = jsonschema.Draft7Validator(json.loads(reference("mcp-server.schema.json").read_text()))
    data = copy.deepcopy(doc())
    mutate(data)
    upstream_ok = upstream.is_valid(data)
    ours_ok = not serverjson.problems(data)
    if stricter is None:
        assert ours_ok == upstream_ok, f"{label}: upstream {upstream_ok}, ours {ours_ok}"
    else:
        assert (upstream_ok, ours_ok) == (True, False), f"{label}: expected only ours to refuse"


# --- hostile strings ---------------------------------------------------------------------------------

hostile = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=hostile, value=hostile, flag_value=hostile, positional=hostile)
def test_hostile_env_names_and_args_are_refused_by_path_or_carried_verbatim(
    name: str, value: str, flag_value: str, positional: str
) -> None:
    data = doc(environmentVariables=[{"name": name, "value": value}], packageArguments=[
        {"type": "named", "name": "--opt", "value": flag_value},
        {"type": "positional", "value": positional}])
    try:
        values, _ = imported(data)
    except InputError as exc:
        assert {p.key for p in exc.problems} <= {
            "packages[0].environmentVariables[0].name", "packages[0].environmentVariables[0].value",
            "packages[0].packageArguments[0].value", "packages[0].packageArguments[1].value"}
        assert all("\n" not in line for line in exc.lines())
        return
    assert values["env"] == {name: value}
    assert values["args"] == [f"--opt={flag_value}", positional]


@pytest.mark.parametrize("escaped", ["\\u0000", "a\\ud800b", "\\udfff"])
def test_strings_no_process_can_receive_are_refused_by_path(escaped: str) -> None:
    text = json.dumps(doc(environmentVariables=[{"name": "A", "value": "PLACEHOLDER"}]))
    found = problems_of(text.replace("PLACEHOLDER", escaped))
    assert list(found) == ["packages[0].environmentVariables[0].value"]


@settings(max_examples=100, deadline=None)
@given(key=st.text(max_size=20))
def test_hostile_keys_cannot_forge_a_problem_line(key: str) -> None:
    data = doc()
    data["_meta"] = {DEPLOY: {key: 1}}
    try:
        serverjson.parse(json.dumps(data), "server.json")
    except InputError as exc:
        assert all("\n" not in line and "\r" not in line for line in exc.lines())
