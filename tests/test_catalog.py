"""The built-in catalog: every entry valid against the upstream registry schema and ours, with the
facts read from each server's own repository (sources named in the entry)."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest

from scaffold import catalog, serverjson
from scaffold.serverjson import Question

from support import reference

DEPLOY = "mcp-scaffold.io/deploy"
REQUIRED = {"github", "grafana", "notion", "atlassian", "kubernetes", "aws-api", "postgres",
            "playwright", "everything", "fetch", "filesystem", "memory"}

# name -> (transport, port, path, health path, egress hosts), as the sources say.
FACTS: dict[str, tuple[str, int | None, str, str | None, list[str]]] = {
    "github": ("streamable-http", 8082, "/", None,
               ["api.github.com", "uploads.github.com", "raw.githubusercontent.com"]),
    "grafana": ("streamable-http", 8000, "/mcp", "/healthz", []),
    "notion": ("streamable-http", 3000, "/mcp", "/health", ["api.notion.com"]),
    "atlassian": ("streamable-http", 8000, "/mcp", "/healthz", ["*.atlassian.net"]),
    "kubernetes": ("streamable-http", 8080, "/mcp", "/healthz", []),
    "aws-api": ("streamable-http", 8000, "/mcp", None,
                ["*.amazonaws.com", "api-mcp.global.api.aws"]),
    # The released 0.3.0 speaks stdio and SSE only (streamable HTTP is unreleased upstream).
    "postgres": ("stdio", None, "/mcp", None, []),
    "playwright": ("streamable-http", 8931, "/mcp", None, []),
    "everything": ("streamable-http", 3001, "/mcp", None, []),
    "fetch": ("stdio", None, "/mcp", None, []),
    "filesystem": ("stdio", None, "/mcp", None, []),
    "memory": ("stdio", None, "/mcp", None, []),
}


def raw(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(catalog.text(name))
    return data


def test_the_catalog_holds_the_twelve_servers() -> None:
    assert set(catalog.names()) >= REQUIRED
    assert [row[0] for row in catalog.summary()] == catalog.names()
    with pytest.raises(KeyError):
        catalog.text("../values.schema")


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_entry_is_valid_against_the_upstream_schema_and_ours(name: str) -> None:
    upstream = jsonschema.Draft7Validator(json.loads(reference("mcp-server.schema.json").read_text()),
                                          format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    data = raw(name)
    assert [e.message for e in upstream.iter_errors(data)] == []
    assert serverjson.problems(data) == []


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_entry_cites_files_of_its_own_repository(name: str) -> None:
    data = raw(name)
    sources = data["_meta"][DEPLOY]["sources"]
    assert sources and all(s["path"] for s in sources)
    assert {s["repo"] for s in sources} == {data["repository"]["url"].removeprefix("https://github.com/")}


@pytest.mark.parametrize("name", sorted(FACTS))
def test_entry_maps_to_the_facts_its_sources_state(name: str) -> None:
    transport, port, path, health, hosts = FACTS[name]
    values, asks = serverjson.to_values(serverjson.load(name))
    assert (values["transport"], values.get("port"), values["path"]) == (transport, port, path)
    assert values.get("probes", {}).get("liveness", {}).get("path") == health
    assert [r["host"] for r in values.get("externalEgress", []) if "host" in r] == hosts
    asked = {a.key: a for a in asks if isinstance(a, Question)}
    # Catalog images are tag-only: the digest is the user's to pin, never guessed.
    assert "image" not in values and asked["image"].kind == "digest"
    assert "namespace" in asked


def test_grafana_reads_its_token_from_a_file_and_probes_with_a_host_header() -> None:
    values, _ = serverjson.to_values(serverjson.load("grafana"))
    assert values["secrets"]["files"] == {
        "GRAFANA_SERVICE_ACCOUNT_TOKEN_FILE": "grafana-service-account-token"}
    # http_security.go DefaultAllowedHosts compares Host with its port: bare "localhost" is 403.
    assert values["probes"]["readiness"]["headers"] == {"Host": "localhost:8000"}
    assert values["args"] == ["-t", "streamable-http", "--address", "0.0.0.0:8000"]


def test_credentials_are_secrets_env_never_plain_env() -> None:
    expected = {"notion": {"NOTION_TOKEN", "AUTH_TOKEN"},
                "atlassian": {"JIRA_API_TOKEN", "CONFLUENCE_API_TOKEN"},
                "postgres": {"DATABASE_URI"}, "grafana": {"MCP_GRAFANA_SERVER_TOKEN"}}
    for name, secret_names in expected.items():
        values, _ = serverjson.to_values(serverjson.load(name))
        assert set(values["secrets"]["env"]) == secret_names
        assert not secret_names & set(values.get("env", {}))


def test_stdio_servers_need_the_bridge_and_keep_their_data() -> None:
    for name in ("memory", "filesystem"):
        values, asks = serverjson.to_values(serverjson.load(name))
        assert values["runtime"] == "node"
        assert values["volumes"] == [{"mountPath": "/data", "size": "1Gi", "persistent": True}]
        assert any(a.key == "bridge" for a in asks)
    assert serverjson.to_values(serverjson.load("memory"))[0]["env"] == {
        "MEMORY_FILE_PATH": "/data/memory.jsonl"}
    assert serverjson.to_values(serverjson.load("filesystem"))[0]["args"] == ["/data"]


def test_kubernetes_server_reads_cluster_wide_only_with_a_reason() -> None:
    values, asks = serverjson.to_values(serverjson.load("kubernetes"))
    assert values["rbac"]["clusterRole"] == "view"
    assert values["rbac"]["clusterWide"]["reason"]
    assert any(a.key == "apiServer.cidrs" for a in asks)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_entry_pins_the_upstream_revision_it_was_read_at(name: str) -> None:
    # A catalog fact is only checkable against a fixed revision: the notes name it, and the
    # entry pins a version rather than a moving tag.
    data = raw(name)
    assert re.search(r"\b[0-9a-f]{40}\b", " ".join(data["_meta"][DEPLOY]["notes"]))
    assert data["version"] != "latest" and not data["version"].startswith("latest")
    package = data["packages"][0]
    assert not package["identifier"].endswith(":latest")
    assert package.get("version", data["version"]) == data["version"]


def test_servers_that_bind_loopback_by_default_are_told_to_listen_on_all_interfaces() -> None:
    # notion (scripts/server-options.ts DEFAULT_HTTP_HOST), aws-api (config.py HOST) and
    # playwright (--host, README) bind 127.0.0.1/localhost unless told otherwise.
    notion, _ = serverjson.to_values(serverjson.load("notion"))
    assert notion["args"][notion["args"].index("--host") + 1] == "0.0.0.0"
    playwright, _ = serverjson.to_values(serverjson.load("playwright"))
    assert playwright["args"][playwright["args"].index("--host") + 1] == "0.0.0.0"
    aws, _ = serverjson.to_values(serverjson.load("aws-api"))
    assert aws["env"]["AWS_API_MCP_HOST"] == "0.0.0.0"


def test_host_checks_the_catalog_cannot_satisfy_are_asked() -> None:
    # Playwright allows only localhost:<port> and the AWS server only its bind host unless told;
    # the Service name clients use is the user's to give.
    _, asks = serverjson.to_values(serverjson.load("playwright"))
    assert any(isinstance(a, Question) and a.template == "--allowed-hosts={hosts}" for a in asks)
    _, asks = serverjson.to_values(serverjson.load("aws-api"))
    asked = {a.key: a for a in asks if isinstance(a, Question)}
    assert "env.AWS_API_MCP_ALLOWED_HOSTS" in asked
    # config.py get_server_auth refuses streamable-http without AUTH_TYPE.
    assert asked["env.AUTH_TYPE"].kind == "choice"
    assert set(asked["env.AUTH_TYPE"].choices) == {"no-auth", "oauth"}
