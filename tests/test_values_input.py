"""Values refused as input (exit 2, every problem in one run, naming its key) rather than at
verification, and keys that change nothing reported as warnings."""

from __future__ import annotations

import copy
import ipaddress
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from support import EXAMPLES


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    return data


def _run(cli: Any, tmp_path: Path, data: dict[str, Any]) -> tuple[Any, Path]:
    f = tmp_path / "values.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    return cli("new", "--values", str(f), "--output", str(out), "--no-input"), out


def _keys(err: str) -> list[str]:
    # "mcp-scaffold: error: <file>: <key>: <message>"
    return [ln.split(": ")[3] for ln in err.strip().splitlines()]


def test_missing_image_and_metadata_cidr_are_reported_together(tmp_path: Path, cli: Any) -> None:
    f = tmp_path / "values.yaml"
    f.write_text("name: x\nnamespace: mcp\ningress: {namespace: ingress-nginx}\n"
                 "externalEgress:\n  - {cidr: 169.254.169.254/32, ports: [80]}\n")
    r = cli("new", "--values", str(f), "--output", str(tmp_path / "out"), "--no-input")
    assert r.code == 2
    assert set(_keys(r.err)) == {"image", "externalEgress[0].cidr"}, r.err
    assert "metadata" in r.err and "Traceback" not in r.err
    assert not (tmp_path / "out").exists()


def test_schema_and_field_problems_deep_in_lists_are_reported_together(
        tmp_path: Path, cli: Any) -> None:
    data = _example("github-mcp")
    del data["image"]
    data["port"] = 80  # a schema problem
    data["apiServer"]["cidrs"] = ["10.0.0.1/32", "0.0.0.0/0"]
    data["externalEgress"] = [{"cidr": "0.0.0.0/0", "ports": [443]},
                              {"cidr": "10.2.0.0/16", "ports": [5432]}]
    data["resources"] = {"limits": {"memory": "256m"}}
    data["secrets"]["mountPath"] = "//tmp"
    data["name"] = "github-mcp\n"
    r, out = _run(cli, tmp_path, data)
    assert r.code == 2
    assert set(_keys(r.err)) == {"image", "port", "apiServer.cidrs[1]", "externalEgress[1].cidr",
                                 "resources.limits.memory", "secrets.mountPath", "name"}, r.err
    assert not out.exists()


PROVIDER_CASES = [
    ("gcp-path-dotdot", "gcp-mcp", ("secrets", "gcp", "secrets", 0, "path"), "..data",
     "secrets.gcp.secrets[0].path", "not starting with '..'"),
    ("gcp-path-newline", "gcp-mcp", ("secrets", "gcp", "secrets", 0, "path"), "github-token\n",
     "secrets.gcp.secrets[0].path", "line break"),
    ("azure-alias-dotdot", "azure-mcp", ("secrets", "azure", "objects", 1, "objectAlias"), "..tls",
     "secrets.azure.objects[1].objectAlias", "not starting with '..'"),
    ("azure-guid-newline", "azure-mcp", ("secrets", "azure", "tenantID"),
     "72f988bf-86f1-41af-91ab-2d7cd011db47\n", "secrets.azure.tenantID", "line break"),
    ("vault-name-dotdot", "vault-mcp", ("secrets", "vault", "objects", 0, "objectName"), "..",
     "secrets.vault.objects[0].objectName", "not starting with '..'"),
    ("vault-address-newline", "vault-mcp", ("secrets", "vault", "vaultAddress"),
     "https://vault.vault.svc:8200\n", "secrets.vault.vaultAddress", "line break"),
    ("vault-path-line-separator", "vault-mcp", ("secrets", "vault", "objects", 0, "secretPath"),
     "secret/data/x\u2029", "secrets.vault.objects[0].secretPath", "U+2029"),
]


@pytest.mark.parametrize("case", PROVIDER_CASES, ids=[c[0] for c in PROVIDER_CASES])
def test_provider_fields_refused_at_their_key(case: tuple[Any, ...], tmp_path: Path,
                                              cli: Any) -> None:
    _, example, path, value, key, words = case
    data = _example(example)
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    r, out = _run(cli, tmp_path, data)
    assert r.code == 2, r.err
    hit = [ln for ln in r.err.splitlines() if f": {key}: " in ln]
    assert hit and any(words in ln for ln in hit), r.err
    assert "Traceback" not in r.err and not out.exists()


def test_free_text_keeps_line_breaks_and_tabs(tmp_path: Path, cli: Any) -> None:
    data = _example("github-mcp")
    data["env"] = {"MCP_BANNER": "line one\r\nline two\n\tindented\u2028"}
    data["args"] = ["--script", "echo a\necho b\n"]
    r = cli("new", "--values", str(_write(tmp_path, data)), "--output", "-", "--no-input")
    assert r.code == 0, r.err
    docs = list(yaml.safe_load_all(r.out))
    container = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"][
        "containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MCP_BANNER"] == "line one\r\nline two\n\tindented\u2028"
    assert container["args"] == ["--script", "echo a\necho b\n"]


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    f = tmp_path / "values.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return f


def test_internet_rule_and_public_ranges_are_accepted(tmp_path: Path, cli: Any) -> None:
    """What stays allowed: the internet as one rule, public ranges, ranges holding a whole
    private range (excepted from them), and host-route API servers."""
    data = _example("github-mcp")
    data["externalEgress"] = [{"cidr": "0.0.0.0/0", "ports": [443]},
                              {"cidr": "::/0", "ports": [443]},
                              {"cidr": "8.0.0.0/6", "ports": [8443]},
                              {"cidr": "140.82.112.0/20", "ports": [22]}]
    data["apiServer"]["cidrs"] = ["10.0.0.1/32", "fd00::1/128"]
    r = cli("new", "--values", str(_write(tmp_path, data)), "--output", "-", "--no-input")
    assert r.code == 0, r.err
    blocks = _ip_blocks(r.out)
    by_cidr = {b["cidr"]: b.get("except", []) for b in blocks}
    assert "10.0.0.0/8" in by_cidr["8.0.0.0/6"]


def _ip_blocks(stream: str) -> list[dict[str, Any]]:
    return [peer["ipBlock"] for d in yaml.safe_load_all(stream) if d["kind"] == "NetworkPolicy"
            for rule in d["spec"].get("egress", []) for peer in rule.get("to", [])
            if "ipBlock" in peer]


_Net = TypeVar("_Net", ipaddress.IPv4Network, ipaddress.IPv6Network)


def _less(net: _Net, excepts: list[_Net]) -> list[_Net]:
    """The addresses of net that none of excepts (one address family) removes."""
    nets = [net]
    for exc in excepts:
        nets = [piece for n in nets for piece in
                ([n] if not n.overlaps(exc) else [] if n.subnet_of(exc) else
                 list(n.address_exclude(exc)))]
    return nets


def _reach(blocks: list[dict[str, Any]]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for b in blocks:
        net = ipaddress.ip_network(b["cidr"])
        excepts = [ipaddress.ip_network(e) for e in b.get("except", [])]
        if isinstance(net, ipaddress.IPv4Network):
            out += _less(net, [e for e in excepts if isinstance(e, ipaddress.IPv4Network)])
        else:
            out += _less(net, [e for e in excepts if isinstance(e, ipaddress.IPv6Network)])
    return out


@pytest.mark.parametrize("cidrs", [
    ["0.0.0.0/0"], ["8.0.0.0/6", "168.0.0.0/8"], ["169.0.0.0/8"], ["172.0.0.0/8", "192.0.0.0/8"],
    ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2"], ["::/0"], ["fc00::/6"], ["fe00::/7"],
])
def test_rendered_egress_never_reaches_metadata_or_private_ranges(
        cidrs: list[str], tmp_path: Path, cli: Any) -> None:
    data = _example("minimal")
    data["externalEgress"] = [{"cidr": c, "ports": [443]} for c in cidrs]
    r = cli("new", "--values", str(_write(tmp_path, data)), "--output", "-", "--no-input")
    assert r.code == 0, r.err
    blocks = _ip_blocks(r.out)
    reach = _reach(blocks)
    forbidden = ["169.254.0.0/16", "168.63.129.16/32", "10.0.0.0/8", "172.16.0.0/12",
                 "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "fc00::/7", "::1/128",
                 "fe80::/10", "fd00:ec2::254/128"]
    for bad in map(ipaddress.ip_network, forbidden):
        assert not any(n.version == bad.version and n.overlaps(bad) for n in reach), (bad, blocks)


# --- warnings: keys accepted that change nothing -----------------------------------------------

WARNING_CASES = [
    ("api-port-without-access", "minimal", {"apiServer": {"port": 6443}}, "apiServer.port"),
    ("token-lifetime-without-access", "minimal", {"apiServer": {"tokenExpirationSeconds": 600}},
     "apiServer.tokenExpirationSeconds"),
    ("mount-path-without-provider", "minimal", {"secrets": {"mountPath": "/mnt/creds"}},
     "secrets.mountPath"),
    ("vault-insecure-flag-with-https", "vault-mcp", {"allowInsecureHttp": True},
     "secrets.vault.allowInsecureHttp"),
    ("vault-ca-with-http", "vault-mcp", {"vaultAddress": "http://vault.vault.svc:8200",
                                         "allowInsecureHttp": True},
     "secrets.vault.vaultCACertPath"),
]


@pytest.mark.parametrize("case", WARNING_CASES, ids=[c[0] for c in WARNING_CASES])
def test_keys_that_change_nothing_are_warned_about(case: tuple[Any, ...], tmp_path: Path,
                                                   cli: Any) -> None:
    _, example, change, key = case
    data = _example(example)
    if example == "vault-mcp":
        data["secrets"]["vault"].update(change)
    else:
        data.update(change)
    r = cli("new", "--values", str(_write(tmp_path, data)), "--output", "-", "--no-input")
    assert r.code == 0, r.err
    hit = [ln for ln in r.err.splitlines() if ln.startswith("mcp-scaffold: warning: ")
           and f": {key}: changes nothing" in ln]
    assert hit, r.err


@pytest.mark.parametrize("example", ["minimal", "github-mcp", "api-access", "azure-mcp",
                                     "gcp-mcp", "vault-mcp"])
def test_examples_warn_about_nothing_unused(example: str, tmp_path: Path, cli: Any) -> None:
    data = copy.deepcopy(_example(example))
    r = cli("new", "--values", str(_write(tmp_path, data)), "--output", "-", "--no-input")
    assert r.code == 0, r.err
    assert "changes nothing" not in r.err


# --- the schema's patterns match whole strings -------------------------------------------------


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return own + [p for v in node.values() for p in _patterns(v)]
    if isinstance(node, list):
        return [p for v in node for p in _patterns(v)]
    return []


def test_schema_pattern_does_not_accept_a_trailing_newline() -> None:
    # Below the control-character rule: the schema's own reading of `$` (ECMA-262: end of text).
    from scaffold import values

    problems = values.schema_problems({"name": "x\n", "namespace": "mcp\n", "image": "a",
                                       "ingress": {"namespace": "ingress-nginx\n"}})
    assert {p.key for p in problems} == {"name", "namespace", "ingress.namespace"}


def test_every_schema_pattern_with_an_end_anchor_refuses_a_final_newline() -> None:
    import re

    from scaffold import values

    samples = {"x", "a1", "us-east-1", "1.33", "128Mi", "/healthz", "secret/data/x", "vault",
               "kv-mcp-prod-01", "db-password", "00000000-0000-0000-0000-000000000000",
               "0" * 32, "https://vault.vault.svc:8200", "acme-prod", "oauth/client-secret",
               "arn:aws:iam::111122223333:role/x", "sa-name@acme-prod.iam.gserviceaccount.com",
               "projects/acme-prod/secrets/x/versions/latest", "/mnt/secrets"}
    checked = 0
    for pattern in _patterns(values.schema()):
        for sample in samples:
            if re.search(pattern, sample):  # a value Python's `$` and ECMA's agree on
                checked += 1
                validator = values._validator_class()({"type": "string", "pattern": pattern})
                assert validator.is_valid(sample)
                assert not validator.is_valid(sample + "\n"), pattern
    assert checked >= 20


def test_the_wizard_refuses_a_control_character_in_an_answer() -> None:
    from scaffold import values

    assert "line break" in (values.check_answer("name", "x\n") or "")
    assert "U+2028" in (values.check_answer("secrets.mountPath", "/mnt\u2028") or "")
    assert values.check_answer("secrets.mountPath", "//tmp")
    assert values.check_answer("apiServer.cidrs[]", "10.0.0.0/24")
    assert values.check_answer("apiServer.cidrs[]", "10.0.0.1/32") is None
