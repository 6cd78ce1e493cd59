"""Every bad input is refused with exit 2, one line per problem naming the key, no traceback,
and nothing written."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import EXAMPLES

BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "github-mcp.yaml").read_text())
DIGEST = "@sha256:" + "a" * 64


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        data = data[int(k)] if isinstance(data, list) else data[k]
    if value is _DELETE:
        del data[keys[-1]]
    elif isinstance(data, list):
        data[int(keys[-1])] = value
    else:
        data[keys[-1]] = value


_DELETE = object()

# (id, key path to change, new value, key the message must name, words it must contain)
CASES = [
    ("image-tag-only", "image", "ghcr.io/acme/x:1.0", "image", "digest"),
    ("image-latest", "image", "ghcr.io/acme/x:latest" + DIGEST, "image", "latest"),
    ("image-short-digest", "image", "ghcr.io/acme/x@sha256:abc123", "image", "64"),
    ("image-upper-hex", "image", "ghcr.io/acme/x@sha256:" + "A" * 64, "image", "lowercase"),
    ("name-not-dns", "name", "GitHub_MCP", "name", "DNS-1123"),
    ("name-too-long", "name", "a" * 51, "name", "50"),
    ("namespace-default", "namespace", "default", "namespace", "default"),
    ("namespace-kube", "namespace", "kube-system", "namespace", "kube-"),
    ("port-privileged", "port", 80, "port", "1024"),
    ("port-too-high", "port", 70000, "port", "65535"),
    ("port-string", "port", "3000", "port", "integer"),
    ("cidr-garbage", "externalEgress.0.cidr", "not-a-cidr", "externalEgress[0].cidr", "CIDR"),
    ("cidr-host-bits", "externalEgress.0.cidr", "10.1.2.3/8", "externalEgress[0].cidr", "10.0.0.0/8"),
    ("cidr-no-prefix", "apiServer.cidrs.0", "10.0.0.1", "apiServer.cidrs[0]", "/32"),
    ("cidr-imds", "externalEgress.0.cidr", "169.254.169.254/32", "externalEgress[0].cidr", "metadata"),
    ("cidr-imds-v6", "externalEgress.0.cidr", "fd00:ec2::254/128", "externalEgress[0].cidr", "metadata"),
    ("api-without-cidrs", "apiServer.cidrs", [], "apiServer.cidrs", "configMaps"),
    ("cidrs-without-api", "configMaps", [], "apiServer.cidrs", "configMaps"),
    ("env-bad-name", "env", {"1BAD": "x"}, "env.1BAD", "env var name"),
    ("env-credential", "env", {"GITHUB_TOKEN": "ghp_x"}, "env.GITHUB_TOKEN", "secrets.files"),
    ("env-reserved", "env", {"HOME": "/x"}, "env.HOME", "set by the bundle"),
    ("env-twice", "env", {"DB_PASSWORD_FILE": "/x"}, "env.DB_PASSWORD_FILE", "once"),
    ("file-env-suffix", "secrets.files", {"DB_PASSWORD": "db-password"},
     "secrets.files.DB_PASSWORD", "_FILE"),
    ("file-twice", "secrets.files", {"A_FILE": "db-password", "B_FILE": "db-password"},
     "secrets.files.B_FILE", "already"),
    ("file-not-produced", "secrets.files", {"X_FILE": "nope"}, "secrets.files.X_FILE", "produces"),
    ("alias-twice", "secrets.aws.objects.1.jmesPath.0.objectAlias", "redis-password",
     "secrets.aws.objects[1].jmesPath[0].objectAlias", "unique"),
    ("label-key", "labels", {"bad key": "x"}, "labels.bad key", "label key"),
    ("label-value", "labels", {"team": "has space"}, "labels.team", "label value"),
    ("label-generated", "labels", {"app.kubernetes.io/name": "x"}, "labels.app.kubernetes.io/name", "set by"),
    ("version-unquoted", "kubernetesVersion", 1.30, "kubernetesVersion", "quote"),
    ("version-unsupported", "kubernetesVersion", "1.12", "kubernetesVersion", "1.25"),
    ("unknown-key", "replcas", 2, "replcas", "did you mean 'replicas'"),
    ("runtime-enum", "runtime", "ruby", "runtime", "generic, node, python"),
    ("requests-over-limits", "resources", {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}},
     "resources.requests.cpu", "exceed"),
    ("quantity", "tmpSize", "lots", "tmpSize", "quantity"),
    ("role-arn", "secrets.aws.roleArn", "arn:aws:iam::123:role/x", "secrets.aws.roleArn", "12-digit"),
    ("provider-block-missing", "secrets.aws", _DELETE, "secrets.aws", "required"),
    ("missing-required", "ingress", _DELETE, "ingress", "missing"),
    # Whole strings: a trailing line break or a control character is refused at its key.
    ("name-trailing-newline", "name", "github-mcp\n", "name", "line break"),
    ("namespace-trailing-newline", "namespace", "mcp-prod\n", "namespace", "line break"),
    ("image-trailing-newline", "image", BASE["image"] + "\n", "image", "line break"),
    ("label-value-newline", "labels", {"team": "ai\n"}, "labels.team", "line break"),
    ("label-value-line-separator", "labels", {"team": "a\u2028b"}, "labels.team", "U+2028"),
    ("label-key-newline", "labels", {"team\n": "ai"}, 'labels."team\\n"', "control"),
    ("alias-nel", "secrets.aws.objects.1.jmesPath.0.objectAlias", "db\u0085password",
     "secrets.aws.objects[1].jmesPath[0].objectAlias", "U+0085"),
    ("cidr-trailing-newline", "externalEgress.0.cidr", "0.0.0.0/0\n", "externalEgress[0].cidr",
     "line break"),
    ("quantity-trailing-newline", "tmpSize", "64Mi\n", "tmpSize", "line break"),
    ("probe-path-tab", "probes.liveness.path", "/health\tz", "probes.liveness.path", "U+0009"),
    ("env-name-newline", "env", {"MCP_X\n": "1"}, 'env."MCP_X\\n"', "control"),
    ("env-value-nul", "env", {"MCP_X": "a\x00b"}, "env.MCP_X", "U+0000"),
    ("env-value-escape", "env", {"MCP_X": "\x1b[31mred"}, "env.MCP_X", "U+001B"),
    ("arg-nul", "args", ["--x\x00"], "args[0]", "U+0000"),
    ("files-key-newline", "secrets.files", {"DB_PASSWORD_FILE\n": "db-password"},
     'secrets.files."DB_PASSWORD_FILE\\n"', "control"),
    ("unknown-key-newline", "replicas\n", 2, '"replicas\\n"', "control"),
    # Refused as input, not only at verification.
    ("egress-private", "externalEgress.0.cidr", "10.1.0.0/16", "externalEgress[0].cidr", "private"),
    ("egress-private-host", "externalEgress.0.cidr", "192.168.1.10/32", "externalEgress[0].cidr",
     "192.168.0.0/16"),
    ("egress-cgnat", "externalEgress.0.cidr", "100.64.0.0/10", "externalEgress[0].cidr", "private"),
    ("egress-loopback", "externalEgress.0.cidr", "127.0.0.1/32", "externalEgress[0].cidr", "private"),
    ("egress-ula", "externalEgress.0.cidr", "fd12:3456::/32", "externalEgress[0].cidr", "fc00::/7"),
    ("egress-loopback-v6", "externalEgress.0.cidr", "::1/128", "externalEgress[0].cidr", "private"),
    ("egress-wireserver", "externalEgress.0.cidr", "168.63.129.16/32", "externalEgress[0].cidr",
     "never reachable"),
    ("egress-two-halves", "externalEgress", [{"cidr": "0.0.0.0/1", "ports": [443]},
                                             {"cidr": "128.0.0.0/1", "ports": [443]}],
     "externalEgress[1].cidr", "0.0.0.0/0"),
    ("egress-v6-pieces", "externalEgress", [{"cidr": "::/1", "ports": [443]},
                                            {"cidr": "8000::/2", "ports": [443]},
                                            {"cidr": "c000::/2", "ports": [443]}],
     "externalEgress[2].cidr", "::/0"),
    ("egress-private-halves", "externalEgress", [{"cidr": "10.0.0.0/9", "ports": [443]},
                                                 {"cidr": "10.128.0.0/9", "ports": [443]}],
     "externalEgress[1].cidr", "10.0.0.0/8"),
    ("api-cidr-internet", "apiServer.cidrs.0", "0.0.0.0/0", "apiServer.cidrs[0]", "host route"),
    ("api-cidr-subnet", "apiServer.cidrs.0", "10.0.0.0/24", "apiServer.cidrs[0]", "/32"),
    # A token living longer than an hour is a finding of check (MCP-PSS-021): refused as input.
    ("token-lifetime-day", "apiServer.tokenExpirationSeconds", 86400,
     "apiServer.tokenExpirationSeconds", "3600"),
    ("api-cidr-v6-range", "apiServer.cidrs.0", "fd00::/64", "apiServer.cidrs[0]", "/128"),
    ("memory-milli", "resources", {"limits": {"memory": "256m"}}, "resources.limits.memory", "256Mi"),
    ("memory-request-milli", "resources", {"requests": {"memory": "128m"}},
     "resources.requests.memory", "milli"),
    ("storage-milli", "resources", {"limits": {"ephemeral-storage": "512m"}},
     "resources.limits.ephemeral-storage", "milli"),
    ("tmpsize-milli", "tmpSize", "64m", "tmpSize", "milli"),
    ("alias-dotdot-prefix", "secrets.aws.objects.1.jmesPath.0.objectAlias", "..data",
     "secrets.aws.objects[1].jmesPath[0].objectAlias", "not starting with '..'"),
    ("alias-dot", "secrets.aws.objects.1.objectAlias", ".",
     "secrets.aws.objects[1].objectAlias", "not '.'"),
    ("alias-slash", "secrets.aws.objects.1.jmesPath.0.objectAlias", "a/b",
     "secrets.aws.objects[1].jmesPath[0].objectAlias", "file name"),
    ("object-name-dotdot-file", "secrets.aws.objects.0.objectName", "..github",
     "secrets.aws.objects[0].objectName", "objectAlias"),
    ("mount-root", "secrets.mountPath", "/", "secrets.mountPath", "system directory"),
    ("mount-double-slash-tmp", "secrets.mountPath", "//tmp", "secrets.mountPath", "/tmp"),
    ("mount-tmp-slash", "secrets.mountPath", "/tmp/", "secrets.mountPath", "/tmp"),
    ("mount-under-tmp", "secrets.mountPath", "/tmp/secrets", "secrets.mountPath", "/tmp"),
    ("mount-token-dir", "secrets.mountPath", "/var//run/secrets/kubernetes.io/serviceaccount",
     "secrets.mountPath", "/var/run/secrets"),
    ("mount-run-secrets", "secrets.mountPath", "/run/secrets", "secrets.mountPath", "overlaps"),
    ("mount-var", "secrets.mountPath", "/var", "secrets.mountPath", "system directory"),
    ("mount-var-run", "secrets.mountPath", "/var/run", "secrets.mountPath", "overlaps /var/run/secrets"),
    ("mount-etc", "secrets.mountPath", "/etc", "secrets.mountPath", "system directory"),
    ("mount-etc-dot", "secrets.mountPath", "/etc/.", "secrets.mountPath", "system directory"),
    ("mount-usr", "secrets.mountPath", "/usr/", "secrets.mountPath", "system directory"),
    ("mount-bin", "secrets.mountPath", "/bin", "secrets.mountPath", "system directory"),
    ("mount-lib", "secrets.mountPath", "/lib", "secrets.mountPath", "system directory"),
    ("mount-proc", "secrets.mountPath", "/proc/self", "secrets.mountPath", "/proc"),
    ("mount-sys", "secrets.mountPath", "/sys", "secrets.mountPath", "/sys"),
    ("mount-dev", "secrets.mountPath", "/dev/shm", "secrets.mountPath", "/dev"),
    ("mount-resolv", "secrets.mountPath", "/etc/resolv.conf", "secrets.mountPath", "overlaps"),
    ("mount-home", "secrets.mountPath", "/home/mcp/.secrets", "secrets.mountPath", "/home/mcp"),
    ("mount-dotdot", "secrets.mountPath", "/mnt/../etc", "secrets.mountPath", "'..'"),
    ("mount-relative", "secrets.mountPath", "mnt/secrets", "secrets.mountPath", "absolute"),
    ("mount-not-normal", "secrets.mountPath", "/mnt//secrets/", "secrets.mountPath",
     "normal form: /mnt/secrets"),
    # Egress by host name (networkPolicy.flavor, externalEgress[].host).
    ("host-with-kubernetes-flavor", "externalEgress", [{"host": "api.github.com", "ports": [443]}],
     "externalEgress[0].host", "flavor"),
    ("host-and-cidr", "externalEgress.0.host", "api.github.com", "externalEgress[0]",
     "exactly one"),
    ("host-nor-cidr", "externalEgress", [{"ports": [443]}], "externalEgress[0]", "exactly one"),
    ("host-ip", "externalEgress", [{"host": "140.82.112.5", "ports": [443]}],
     "externalEgress[0].host", "cidr rule"),
    ("host-star", "externalEgress", [{"host": "*", "ports": [443]}], "externalEgress[0].host",
     "every host"),
    ("host-metadata", "externalEgress", [{"host": "metadata.google.internal", "ports": [80]}],
     "externalEgress[0].host", "metadata"),
    ("host-upper", "externalEgress", [{"host": "API.github.com", "ports": [443]}],
     "externalEgress[0].host", "lower case"),
    ("host-inner-wildcard", "externalEgress", [{"host": "api.*.com", "ports": [443]}],
     "externalEgress[0].host", "first label"),
    ("host-newline", "externalEgress", [{"host": "api.github.com\n", "ports": [443]}],
     "externalEgress[0].host", "line break"),
    ("host-not-string", "externalEgress", [{"host": 7, "ports": [443]}],
     "externalEgress[0].host", "string"),
    ("flavor-enum", "networkPolicy", {"flavor": "calico"}, "networkPolicy.flavor",
     "kubernetes, cilium, gke"),
    ("flavor-unknown-key", "networkPolicy", {"flavour": "cilium"}, "networkPolicy.flavour",
     "did you mean 'flavor'"),
    ("create-namespace-string", "createNamespace", "no", "createNamespace", "boolean"),
    # secrets.env (issue 11 item 1) and files named in args (item 2).
    ("senv-bad-name", "secrets.env", {"1X": "redis-password"}, "secrets.env.1X", "shell variable"),
    ("senv-loader-control", "secrets.env", {"LD_PRELOAD": "redis-password"},
     "secrets.env.LD_PRELOAD", "dynamic loader"),
    ("senv-reserved", "secrets.env", {"HOME": "redis-password"}, "secrets.env.HOME", "set by the bundle"),
    ("senv-also-a-file", "secrets.env", {"DB_PASSWORD_FILE": "db-password"},
     "secrets.env.DB_PASSWORD_FILE", "secrets.files"),
    ("senv-not-produced", "secrets.env", {"GITHUB_PERSONAL_ACCESS_TOKEN": "nope"},
     "secrets.env.GITHUB_PERSONAL_ACCESS_TOKEN", "produces"),
    ("senv-file-name", "secrets.env", {"TOKEN": "../etc/passwd"}, "secrets.env.TOKEN", "file name"),
    ("senv-needs-command", "secrets.env", {"GITHUB_PERSONAL_ACCESS_TOKEN": "redis-password"},
     "command", "required with secrets.env"),
    ("envloader-not-pinned", "secrets.envLoader", {"image": "busybox:1.36"},
     "secrets.envLoader.image", "digest"),
    ("envloader-without-env", "secrets.envLoader", {"image": "busybox@sha256:" + "b" * 64},
     "secrets.envLoader", "without secrets.env"),
    ("args-file-not-produced", "args", ["--env-file", "/mnt/secrets/app.env"], "args[1]",
     "no secrets provider object produces"),
    ("args-file-glued", "args", ["--env-file=/mnt/secrets/./x/../app.env"], "args[0]",
     "redis-password"),
    # rbac (item 4): read-only, never the dangerous resources, a reason for cluster-wide.
    ("rbac-write-verb", "rbac", {"rules": [{"apiGroups": [""], "resources": ["pods"],
                                            "verbs": ["get", "delete"]}]},
     "rbac.rules[0].verbs", "delete is not read-only"),
    ("rbac-secrets", "rbac", {"rules": [{"apiGroups": [""], "resources": ["secrets"],
                                         "verbs": ["get"]}]},
     "rbac.rules[0].resources", "secrets is never granted"),
    ("rbac-wildcard", "rbac", {"rules": [{"apiGroups": ["apps"], "resources": ["*"],
                                          "verbs": ["list"]}]},
     "rbac.rules[0].resources", "wildcard"),
    ("rbac-wildcard-verb", "rbac", {"rules": [{"apiGroups": [""], "resources": ["pods"],
                                               "verbs": ["*"]}]},
     "rbac.rules[0].verbs", "wildcard"),
    ("rbac-exec", "rbac", {"rules": [{"apiGroups": [""], "resources": ["pods/exec"],
                                      "verbs": ["get"]}]},
     "rbac.rules[0].resources", "runs code"),
    ("rbac-proxy", "rbac", {"rules": [{"apiGroups": [""], "resources": ["services/proxy"],
                                       "verbs": ["get"]}]},
     "rbac.rules[0].resources", "proxies"),
    ("rbac-token", "rbac", {"rules": [{"apiGroups": [""], "resources": ["serviceaccounts/token"],
                                       "verbs": ["get"]}]},
     "rbac.rules[0].resources", "mints tokens"),
    ("rbac-nodes", "rbac", {"rules": [{"apiGroups": [""], "resources": ["nodes/metrics"],
                                       "verbs": ["get"]}]},
     "rbac.rules[0].resources", "nodes"),
    ("rbac-ephemeral", "rbac", {"rules": [{"apiGroups": [""],
                                           "resources": ["pods/ephemeralcontainers"],
                                           "verbs": ["get"]}]},
     "rbac.rules[0].resources", "adds containers"),
    ("rbac-edit-role", "rbac", {"clusterRole": "edit"}, "rbac.clusterRole", "view"),
    ("rbac-cluster-wide-no-reason", "rbac", {"clusterRole": "view", "clusterWide": {}},
     "rbac.clusterWide.reason", "missing"),
    ("rbac-cluster-wide-blank-reason", "rbac",
     {"clusterRole": "view", "clusterWide": {"reason": "  "}}, "rbac.clusterWide.reason",
     "must say why"),
    ("rbac-reason-newline", "rbac",
     {"clusterRole": "view", "clusterWide": {"reason": "x\nMCP-NET-001=y"}},
     "rbac.clusterWide.reason", "line break"),
    ("rbac-own-namespace", "rbac", {"clusterRole": "view", "namespaces": ["mcp-prod"]},
     "rbac.namespaces[0]", "own namespace"),
    ("rbac-grants-nothing", "rbac", {"namespaces": ["team-a"]}, "rbac", "grants nothing"),
    # cloudIdentity (item 3).
    ("cloud-two-identities", "cloudIdentity",
     {"aws": {"roleArn": "arn:aws:iam::111122223333:role/github-mcp"},
      "gcp": {"gcpServiceAccount": "mcp-sa@acme-prod.iam.gserviceaccount.com"}},
     "cloudIdentity", "too many"),
    ("cloud-role-differs", "cloudIdentity",
     {"aws": {"roleArn": "arn:aws:iam::111122223333:role/other"}},
     "cloudIdentity.aws.roleArn", "differs from secrets.aws.roleArn"),
    ("cloud-mode-differs", "cloudIdentity",
     {"aws": {"roleArn": "arn:aws:iam::111122223333:role/github-mcp", "mode": "pod-identity"}},
     "cloudIdentity.aws.mode", "usePodIdentity"),
    ("cloud-azure-guid", "cloudIdentity", {"azure": {"clientID": "x", "tenantID": "y"}},
     "cloudIdentity.azure.clientID", "GUID"),
    ("cloud-gcp-account", "cloudIdentity", {"gcp": {"gcpServiceAccount": "someone@gmail.com"}},
     "cloudIdentity.gcp.gcpServiceAccount", "iam.gserviceaccount.com"),
]

# (id, externalEgress, networkPolicy, dns, key the message must name, words it must contain)
HOST_CASES = [
    ("host-port-open-to-internet", [{"cidr": "0.0.0.0/0", "ports": [443]},
                                    {"host": "api.github.com", "ports": [443]}],
     {"flavor": "cilium"}, {}, "externalEgress[1].host", "restricts nothing"),
    ("host-port-open-to-v6-internet", [{"host": "api.github.com", "ports": [443, 80]},
                                       {"cidr": "::/0", "ports": [80]}],
     {"flavor": "gke"}, {}, "externalEgress[0].host", "port 80"),
    ("host-twice", [{"host": "api.github.com", "ports": [443]},
                    {"host": "api.github.com", "ports": [80]}],
     {"flavor": "gke"}, {}, "externalEgress[1].host", "twice"),
    ("cilium-node-local-dns", [{"host": "api.github.com", "ports": [443]}],
     {"flavor": "cilium"}, {"nodeLocalCache": True}, "dns.nodeLocalCache", "DNS proxy"),
]


@pytest.mark.parametrize("case", HOST_CASES, ids=[c[0] for c in HOST_CASES])
def test_bad_host_rules_exit_2_naming_the_key(case: tuple[Any, ...], tmp_path: Path,
                                              cli: Any) -> None:
    _, egress, network_policy, dns, key, words = case
    data = {**copy.deepcopy(BASE), "externalEgress": egress, "networkPolicy": network_policy,
            "dns": dns}
    f = tmp_path / "values.yaml"
    f.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    r = cli("new", "--values", str(f), "--output", str(out), "--no-input",
            "--offline")  # judged as written: no registry is asked
    assert r.code == 2, r.err
    hit = [ln for ln in r.err.strip().splitlines() if f": {key}: " in ln]
    assert hit and any(words.lower() in ln.lower() for ln in hit), r.err
    assert "Traceback" not in r.err
    assert not out.exists() and list(tmp_path.iterdir()) == [f]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_values_exit_2_naming_the_key(case: tuple[Any, ...], tmp_path: Path, cli: Any) -> None:
    _, path, value, key, words = case
    data = copy.deepcopy(BASE)
    _set(data, path, value)
    f = tmp_path / "values.yaml"
    f.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    r = cli("new", "--values", str(f), "--output", str(out), "--no-input",
            "--offline")  # judged as written: no registry is asked
    assert r.code == 2, r.err
    lines = r.err.strip().splitlines()
    hit = [ln for ln in lines if f": {key}: " in ln]
    assert hit, f"no line names {key!r}: {lines}"
    assert any(words.lower() in ln.lower() for ln in hit), hit
    assert "Traceback" not in r.err
    assert all(ln.startswith("mcp-scaffold: error: ") for ln in lines)
    assert not out.exists() and list(tmp_path.iterdir()) == [f]


# Cases that change several keys at once: (id, {path: value}, key, words).
MULTI_CASES = [
    ("envloader-before-1-35", {"secrets.env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "redis-password"},
                               "secrets.envLoader": {"image": "busybox@sha256:" + "b" * 64}},
     "secrets.envLoader.image", "1.35"),
    ("senv-in-args", {"secrets.env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "redis-password"},
                      "command": ["/server"],
                      "args": ["--token=$(GITHUB_PERSONAL_ACCESS_TOKEN)"]},
     "args[0]", "references $(GITHUB_PERSONAL_ACCESS_TOKEN)"),
    ("senv-dash-command", {"secrets.env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "redis-password"},
                           "command": ["-x"]}, "command[0]", "program to run"),
    ("senv-without-provider", {"secrets": {"provider": "none",
                                           "env": {"TOKEN": "token"}}},
     "secrets.env", "needs a secrets.provider"),
    ("rbac-without-api-server", {"rbac": {"clusterRole": "view"}, "configMaps": [],
                                 "apiServer": _DELETE},
     "apiServer.cidrs", "rbac"),
    ("rbac-namespaces-with-cluster-wide", {
        "rbac": {"clusterRole": "view", "namespaces": ["team-a"],
                 "clusterWide": {"reason": "reads every namespace"}}},
     "rbac.namespaces", "changes nothing"),
]


@pytest.mark.parametrize("case", MULTI_CASES, ids=[c[0] for c in MULTI_CASES])
def test_bad_combinations_exit_2_naming_the_key(case: tuple[Any, ...], tmp_path: Path,
                                                cli: Any) -> None:
    _, changes, key, words = case
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        _set(data, path, value)
    f = tmp_path / "values.yaml"
    f.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    r = cli("new", "--values", str(f), "--output", str(out), "--no-input",
            "--offline")  # judged as written: no registry is asked
    assert r.code == 2, r.err
    hit = [ln for ln in r.err.strip().splitlines() if f": {key}: " in ln]
    assert hit and any(words.lower() in ln.lower() for ln in hit), r.err
    assert "Traceback" not in r.err
    assert not out.exists() and list(tmp_path.iterdir()) == [f]


FILE_CASES = [
    ("missing", None, "no such file"),
    ("empty", "", "empty"),
    ("comments-only", "# nothing\n", "empty"),
    ("not-mapping", "- a\n- b\n", "mapping"),
    ("scalar", "hello\n", "mapping"),
    ("invalid-yaml", "name: [unclosed\n", "invalid YAML"),
    ("duplicate-key", "name: a\nname: b\n", "duplicate key"),
    ("two-documents", "name: a\n---\nname: b\n", "several"),
    ("not-utf8", b"name: \xff\xfe\n", "UTF-8"),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_unreadable_values_file(case: tuple[Any, ...], tmp_path: Path, cli: Any) -> None:
    _, content, words = case
    f = tmp_path / "values.yaml"
    if isinstance(content, bytes):
        f.write_bytes(content)
    elif content is not None:
        f.write_text(content)
    r = cli("new", "--values", str(f), "--output", str(tmp_path / "out"), "--no-input",
            "--offline")  # judged as written: no registry is asked
    assert r.code == 2
    assert str(f) in r.err and words.lower() in r.err.lower(), r.err
    assert "Traceback" not in r.err
    assert not (tmp_path / "out").exists()


def test_directory_as_values_file(tmp_path: Path, cli: Any) -> None:
    r = cli("new", "--values", str(tmp_path), "--output", "-")
    assert r.code == 2 and "directory" in r.err


def test_every_problem_is_reported_at_once(tmp_path: Path, cli: Any) -> None:
    f = tmp_path / "values.yaml"
    f.write_text("name: X\nnamespace: default\nimage: nginx\nport: 80\ningress: {namespace: a}\n")
    r = cli("new", "--values", str(f), "--output", "-", "--offline")
    assert r.code == 2
    keys = {ln.split(": ")[3] for ln in r.err.strip().splitlines()}
    assert {"name", "namespace", "image", "port"} <= keys


def test_missing_answers_without_terminal_names_each_key(tmp_path: Path, cli: Any) -> None:
    f = tmp_path / "values.yaml"
    f.write_text("name: x\n")
    r = cli("new", "--values", str(f), "--output", "-", "--offline")  # stdin is not a TTY
    assert r.code == 2
    for key in ("namespace", "image", "ingress"):
        assert f": {key}: is missing" in r.err
    assert "--values" in r.err


def test_usage_error_exit_2(cli: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        cli("new", "--bogus")
    assert exc.value.code == 2


def test_missing_and_bad_keys_are_reported_together(tmp_path: Path, cli: Any) -> None:
    f = tmp_path / "values.yaml"
    f.write_text("name: x\nport: 80\n")
    r = cli("new", "--values", str(f), "--output", "-", "--no-input",
            "--offline")  # judged as written: no registry is asked
    assert r.code == 2
    assert ": image: is missing" in r.err and ": port: must be between 1024 and 65535" in r.err


# Contract v2: transport stdio with a bridge, volumes, workingDir, probe headers. Changed on
# the stdio example (a bridge and a persistent volume), so each case breaks one thing.
STDIO: dict[str, Any] = yaml.safe_load((EXAMPLES / "memory-stdio.yaml").read_text())

V2_CASES = [
    ("stdio-without-bridge", "bridge", _DELETE, "bridge", "required"),
    ("stdio-without-command", "command", [], "command", "stdio"),
    ("bridge-with-http", "transport", "streamable-http", "bridge", "transport"),
    ("transport-enum", "transport", "sse", "transport", "streamable-http, stdio"),
    ("bridge-image-tag-only", "bridge.image", "ghcr.io/acme/bridge:1.0", "bridge.image", "digest"),
    ("bridge-image-missing", "bridge.image", _DELETE, "bridge.image", "missing"),
    ("bridge-binary-relative", "bridge.binary", "supergateway", "bridge.binary", "absolute"),
    ("bridge-binary-dotdot", "bridge.binary", "/usr/../bin/sh", "bridge.binary", "'..'"),
    ("bridge-binary-root", "bridge.binary", "/", "bridge.binary", "file"),
    ("bridge-binary-newline", "bridge.binary", "/bin/x\n", "bridge.binary", "line break"),
    ("bridge-command-twice", "bridge.args", ["--stdio", "{command}", "--x", "{command}"],
     "bridge.args[3]", "second time"),
    ("bridge-arg-nul", "bridge.args", ["--port\x00"], "bridge.args[0]", "U+0000"),
    ("bridge-unknown-key", "bridge.imag", "x", "bridge.imag", "did you mean 'image'"),
    ("path-relative", "path", "mcp", "path", "absolute URL path"),
    ("volume-claim-two-replicas", "replicas", 2, "volumes[0].persistent", "ReadWriteOnce"),
    ("volume-under-tmp", "volumes.0.mountPath", "/tmp/data", "volumes[0].mountPath", "/tmp"),
    ("volume-bridge-dir", "volumes.0.mountPath", "/opt/mcp-bridge", "volumes[0].mountPath",
     "overlaps"),
    ("volume-etc", "volumes.0.mountPath", "/etc", "volumes[0].mountPath", "system directory"),
    ("volume-relative", "volumes.0.mountPath", "data", "volumes[0].mountPath", "absolute"),
    ("volume-no-size", "volumes.0.size", _DELETE, "volumes[0].size", "missing"),
    ("volume-size-milli", "volumes.0.size", "1m", "volumes[0].size", "milli"),
    ("volume-size-garbage", "volumes.0.size", "big", "volumes[0].size", "quantity"),
    ("volume-class-on-emptydir", "volumes.0.persistent", False, "volumes[0].storageClassName",
     "emptyDir"),
    ("volume-class-bad", "volumes.0.storageClassName", "Fast_SSD", "volumes[0].storageClassName",
     "DNS subdomain"),
    ("volume-overlap", "volumes", [{"mountPath": "/data", "size": "1Gi"},
                                   {"mountPath": "/data/cache", "size": "1Gi"}],
     "volumes[1].mountPath", "overlaps volumes[0].mountPath"),
    ("volume-emptydir-too-big", "volumes", [{"mountPath": "/data", "size": "10Gi"}], "volumes",
     "ephemeral-storage"),
    ("volume-unknown-key", "volumes.0.readOnly", True, "volumes[0].readOnly", "unknown key"),
    ("workdir-relative", "workingDir", "data", "workingDir", "absolute"),
    ("workdir-not-normal", "workingDir", "/data/", "workingDir", "normal form: /data"),
    ("workdir-proc", "workingDir", "/proc/self", "workingDir", "kernel"),
    ("workdir-newline", "workingDir", "/data\n", "workingDir", "line break"),
    ("header-name-space", "probes.liveness.headers", {"Bad Name": "x"}, "probes.liveness.headers",
     "header name"),
    ("header-without-path", "probes.readiness", {"headers": {"Host": "localhost"}},
     "probes.readiness.headers", "path"),
    ("header-value-newline", "probes.liveness.headers", {"Host": "a\nb"},
     "probes.liveness.headers.Host", "control"),
    ("header-twice", "probes.liveness.headers", {"Host": "a", "host": "b"},
     "probes.liveness.headers.host", "repeats Host"),
    ("header-value-number", "probes.liveness.headers", {"X-Port": 8080},
     "probes.liveness.headers.X-Port", "quote it"),
]


@pytest.mark.parametrize("case", V2_CASES, ids=[c[0] for c in V2_CASES])
def test_bad_v2_values_exit_2_naming_the_key(case: tuple[Any, ...], tmp_path: Path,
                                             cli: Any) -> None:
    _, path, value, key, words = case
    data = copy.deepcopy(STDIO)
    _set(data, path, value)
    f = tmp_path / "values.yaml"
    f.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    r = cli("new", "--values", str(f), "--output", str(out), "--no-input",
            "--offline")  # judged as written: no registry is asked
    assert r.code == 2, r.err
    lines = r.err.strip().splitlines()
    hit = [ln for ln in lines if f": {key}: " in ln]
    assert hit, f"no line names {key!r}: {lines}"
    assert any(words.lower() in ln.lower() for ln in hit), hit
    assert "Traceback" not in r.err
    assert all(ln.startswith("mcp-scaffold: error: ") for ln in lines)
    assert not out.exists() and list(tmp_path.iterdir()) == [f]
