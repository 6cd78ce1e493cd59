"""Property: every pattern-checked or identifier field of the values, given a valid value with a
trailing line break or a control character inserted anywhere, is refused at that key with
exit 2 through the real CLI: never accepted, never a traceback, nothing written."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import EXAMPLES


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    return data


BASES = {name: _example(name) for name in ("github-mcp", "azure-mcp", "gcp-mcp", "vault-mcp")}
BASES["github-mcp"]["env"] = {"MCP_LOG_LEVEL": "info"}

# (example, path to a string value, the key the error must name). A path ending in ("key",)
# changes the last mapping key instead of its value.
FIELDS: list[tuple[str, tuple[Any, ...], str]] = [
    ("github-mcp", ("name",), "name"),
    ("github-mcp", ("namespace",), "namespace"),
    ("github-mcp", ("image",), "image"),
    ("github-mcp", ("ingress", "namespace"), "ingress.namespace"),
    ("github-mcp", ("configMaps", 0), "configMaps[0]"),
    ("github-mcp", ("apiServer", "cidrs", 0), "apiServer.cidrs[0]"),
    ("github-mcp", ("downstream", 0, "name"), "downstream[0].name"),
    ("github-mcp", ("downstream", 1, "namespace"), "downstream[1].namespace"),
    ("github-mcp", ("downstream", 0, "podLabels", "app"), "downstream[0].podLabels.app"),
    ("github-mcp", ("externalEgress", 0, "cidr"), "externalEgress[0].cidr"),
    ("github-mcp", ("probes", "liveness", "path"), "probes.liveness.path"),
    ("github-mcp", ("kubernetesVersion",), "kubernetesVersion"),
    ("github-mcp", ("runtime",), "runtime"),
    ("github-mcp", ("labels", "team"), "labels.team"),
    ("github-mcp", ("ingress", "podLabels", "app.kubernetes.io/name"),
     "ingress.podLabels.app.kubernetes.io/name"),
    ("github-mcp", ("secrets", "provider"), "secrets.provider"),
    ("github-mcp", ("secrets", "files", "REDIS_PASSWORD_FILE"), "secrets.files.REDIS_PASSWORD_FILE"),
    ("github-mcp", ("secrets", "aws", "region"), "secrets.aws.region"),
    ("github-mcp", ("secrets", "aws", "roleArn"), "secrets.aws.roleArn"),
    ("github-mcp", ("secrets", "aws", "objects", 0, "objectName"),
     "secrets.aws.objects[0].objectName"),
    ("github-mcp", ("secrets", "aws", "objects", 0, "jmesPath", 0, "path"),
     "secrets.aws.objects[0].jmesPath[0].path"),
    ("github-mcp", ("secrets", "aws", "objects", 0, "jmesPath", 0, "objectAlias"),
     "secrets.aws.objects[0].jmesPath[0].objectAlias"),
    ("azure-mcp", ("secrets", "azure", "keyvaultName"), "secrets.azure.keyvaultName"),
    ("azure-mcp", ("secrets", "azure", "clientID"), "secrets.azure.clientID"),
    ("azure-mcp", ("secrets", "azure", "tenantID"), "secrets.azure.tenantID"),
    ("azure-mcp", ("secrets", "azure", "objects", 1, "objectName"),
     "secrets.azure.objects[1].objectName"),
    ("azure-mcp", ("secrets", "azure", "objects", 1, "objectAlias"),
     "secrets.azure.objects[1].objectAlias"),
    ("azure-mcp", ("secrets", "azure", "objects", 1, "objectVersion"),
     "secrets.azure.objects[1].objectVersion"),
    ("gcp-mcp", ("secrets", "gcp", "gcpServiceAccount"), "secrets.gcp.gcpServiceAccount"),
    ("gcp-mcp", ("secrets", "gcp", "clusterProject"), "secrets.gcp.clusterProject"),
    ("gcp-mcp", ("secrets", "gcp", "secrets", 1, "resourceName"),
     "secrets.gcp.secrets[1].resourceName"),
    ("gcp-mcp", ("secrets", "gcp", "secrets", 1, "path"), "secrets.gcp.secrets[1].path"),
    ("vault-mcp", ("secrets", "vault", "vaultAddress"), "secrets.vault.vaultAddress"),
    ("vault-mcp", ("secrets", "vault", "roleName"), "secrets.vault.roleName"),
    ("vault-mcp", ("secrets", "vault", "vaultKubernetesMountPath"),
     "secrets.vault.vaultKubernetesMountPath"),
    ("vault-mcp", ("secrets", "vault", "vaultCACertPath"), "secrets.vault.vaultCACertPath"),
    ("vault-mcp", ("secrets", "vault", "objects", 0, "objectName"),
     "secrets.vault.objects[0].objectName"),
    ("vault-mcp", ("secrets", "vault", "objects", 0, "secretPath"),
     "secrets.vault.objects[0].secretPath"),
    ("vault-mcp", ("secrets", "vault", "objects", 0, "secretKey"),
     "secrets.vault.objects[0].secretKey"),
    # Keys that are names: label keys, env names, secret file env names.
    ("github-mcp", ("labels", "team", "key"), "labels"),
    ("github-mcp", ("env", "MCP_LOG_LEVEL", "key"), "env"),
    ("github-mcp", ("secrets", "files", "REDIS_PASSWORD_FILE", "key"), "secrets.files"),
]
# Fields whose defaults the examples leave out: set to a valid value first.
SET_FIRST = [
    ("github-mcp", ("secrets", "mountPath"), "/mnt/secrets", "secrets.mountPath"),
    ("github-mcp", ("tmpSize",), "64Mi", "tmpSize"),
    ("github-mcp", ("resources",), {"limits": {"memory": "256Mi"}}, "resources.limits.memory"),
    ("github-mcp", ("dns",), {"namespace": "kube-system", "podLabels": {"k8s-app": "kube-dns"}},
     "dns.namespace"),
    ("vault-mcp", ("secrets", "vault", "audience"), "vault", "secrets.vault.audience"),
    ("vault-mcp", ("secrets", "vault", "vaultNamespace"), "admin/team",
     "secrets.vault.vaultNamespace"),
]

# C0, DEL, C1 (NEL among them) and the Unicode line and paragraph separators.
CONTROLS = st.one_of(st.characters(min_codepoint=0, max_codepoint=0x1F),
                     st.characters(min_codepoint=0x7F, max_codepoint=0x9F),
                     st.sampled_from(["\u2028", "\u2029"]))


def _node(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _spoil(text: str, where: int, char: str, trailing_newline: bool) -> str:
    if trailing_newline:
        return text + "\n"
    at = where % (len(text) + 1)
    return text[:at] + char + text[at:]


def _case(index: int) -> tuple[dict[str, Any], tuple[Any, ...], str]:
    if index < len(FIELDS):
        example, path, key = FIELDS[index]
        return copy.deepcopy(BASES[example]), path, key
    example, path, value, key = SET_FIRST[index - len(FIELDS)]
    data = copy.deepcopy(BASES[example])
    _node(data, path[:-1])[path[-1]] = copy.deepcopy(value)
    if key == "resources.limits.memory":
        path = ("resources", "limits", "memory")
    elif key == "dns.namespace":
        path = ("dns", "namespace")
    return data, path, key


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(index=st.integers(0, len(FIELDS) + len(SET_FIRST) - 1), where=st.integers(0, 10**6),
       char=CONTROLS, trailing_newline=st.booleans())
def test_a_control_character_is_refused_at_its_key(index: int, where: int, char: str,
                                                   trailing_newline: bool, tmp_path: Path,
                                                   cli: Any) -> None:
    data, path, key = _case(index)
    if path[-1] == "key":
        mapping, old = _node(data, path[:-2]), path[-2]
        new = _spoil(old, where, char, trailing_newline)
        mapping[new] = mapping.pop(old)
        # The key is shown quoted (JSON escapes), so the line stays one line.
        key = f"{key}.{json.dumps(new)}"
    else:
        parent = _node(data, path[:-1])
        parent[path[-1]] = _spoil(parent[path[-1]], where, char, trailing_newline)
    f = tmp_path / "values.yaml"
    # JSON is YAML, and its escapes (\u0085) carry every character exactly; PyYAML's dumper
    # folds a NEL into a space.
    f.write_text(json.dumps(data), encoding="utf-8")
    assert yaml.safe_load(f.read_text(encoding="utf-8")) == data  # the file holds the character
    out = tmp_path / "out"
    r = cli("new", "--values", str(f), "--output", str(out), "--no-input")
    assert r.code == 2, (key, r.err)
    lines = r.err.strip().splitlines()
    assert all(ln.startswith("mcp-scaffold: error: ") for ln in lines), lines
    assert any(f": {key}: " in ln for ln in lines), (key, lines)
    assert "Traceback" not in r.err
    assert not out.exists()
