"""The rules on the corpus (one hardened bundle, one bundle per rule) and on edge cases."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from scaffold import plan
from scaffold.errors import InputError
from scaffold.policy import PATTERNS, RULES, Finding, evaluate, skips
from scaffold.yamlio import load_all

import corpus

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def test_every_rule_has_a_corpus_case() -> None:
    covered = {rule for rule, _, _ in corpus.CASES.values()}
    assert covered == set(RULES), f"rules without a case: {set(RULES) - covered}"


def test_rule_metadata_is_complete() -> None:
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule.pattern in PATTERNS
        assert rule.severity in ("high", "medium", "low")
        assert rule.title and rule.fix.endswith(".")


def test_hardened_bundle_is_clean() -> None:
    assert evaluate(corpus.build(corpus.HARDENED)) == []


@pytest.mark.parametrize("case", list(corpus.CASES))
def test_case_flags_its_rule_and_only_its_pattern(case: str) -> None:
    rule, _, _ = corpus.CASES[case]
    findings = evaluate(corpus.build(case))
    assert rule in {f.rule for f in findings}, findings
    assert {f.pattern for f in findings} == {RULES[rule].pattern}, findings
    for f in findings:
        assert f.fix and f.message and f.path and f.kind and f.name
        assert f.suppressed is None


@pytest.mark.parametrize("case", corpus.all_cases())
def test_corpus_files_are_current(case: str) -> None:
    stored = corpus.CORPUS / case / "manifests.yaml"
    assert stored.read_text(encoding="utf-8") == corpus.render(case), (
        "corpus out of date: run python tests/policy/corpus.py"
    )
    assert load_all(stored.read_text(encoding="utf-8"), str(stored)) == corpus.build(case)


def _example_bases() -> list[Path]:
    return sorted(p.parent for p in EXAMPLES.glob("*/kustomization.yaml"))


@pytest.mark.parametrize("base", _example_bases(), ids=lambda p: p.name)
def test_example_bases_are_clean(base: Path) -> None:
    docs: list[dict[str, Any]] = []
    for file in sorted(base.glob("*.yaml")):
        docs += [d for d in load_all(file.read_text(encoding="utf-8"), str(file))
                 if isinstance(d, dict) and "apiVersion" in d]
    # Clean, apart from the exceptions the values asked for and the base records on the object
    # (docs/check.md, "Exceptions `new` writes itself").
    assert [f for f in evaluate(docs)
            if not (f.suppressed and f.rule in plan.ACKNOWLEDGED_RULES)] == []


# ---- targeted behaviour ---------------------------------------------------------------------

def _docs() -> list[dict[str, Any]]:
    return corpus.build(corpus.HARDENED)


def _kind(docs: list[dict[str, Any]], kind: str, index: int = 0) -> dict[str, Any]:
    return [d for d in docs if d["kind"] == kind][index]


def _pod(docs: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = _kind(docs, "Deployment")["spec"]["template"]["spec"]
    return spec


def _egress(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = _kind(docs, "NetworkPolicy", 1)["spec"]["egress"]
    return rules


def _rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def test_finding_is_frozen() -> None:
    finding = evaluate(corpus.build("img-001"))[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.rule = "x"  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(Finding)] == [
        "rule", "pattern", "severity", "kind", "name", "namespace", "path", "message", "fix",
        "suppressed",
    ]


def test_api_server_egress_with_projected_token_is_allowed() -> None:
    docs = _docs()
    assert any("projected" in v for v in _pod(docs)["volumes"])
    assert {"ipBlock": {"cidr": "10.0.0.1/32"}} in _egress(docs)[2]["to"]
    assert evaluate(docs) == []


def test_ipv6_metadata_needs_an_except() -> None:
    docs = _docs()
    _egress(docs)[3]["to"][1]["ipBlock"]["except"] = ["fe80::/10"]
    findings = evaluate(docs)
    assert _rules(findings) == {"MCP-NET-004", "MCP-NET-005"}
    assert any("fd00:ec2::254" in f.message for f in findings)


def test_metadata_except_must_cover_all_link_local_and_wireserver() -> None:
    # Excepting the IMDS address alone leaves the ECS/EKS credential agents reachable.
    docs = _docs()
    privates = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8"]
    block = _egress(docs)[3]["to"][0]["ipBlock"]
    block["except"] = ["169.254.169.254/32", "168.63.129.16/32", *privates]
    findings = evaluate(docs)
    assert _rules(findings) == {"MCP-NET-005"}
    assert "169.254.0.0/16" in findings[0].message
    block["except"] = ["169.254.0.0/17", "169.254.128.0/17", "168.63.129.16/32", *privates]
    assert evaluate(docs) == []  # the same addresses, spelled as two halves
    block["except"] = ["169.254.0.0/16", *privates]
    assert "168.63.129.16/32" in evaluate(docs)[0].message


def test_link_local_cidr_reaching_metadata_is_flagged() -> None:
    docs = _docs()
    _egress(docs)[1]["to"][0]["ipBlock"]["cidr"] = "169.254.0.0/16"
    assert _rules(evaluate(docs)) == {"MCP-NET-005"}


def test_wide_private_cidr_is_all_destinations() -> None:
    docs = _docs()
    _egress(docs)[2]["to"][0]["ipBlock"]["cidr"] = "10.0.0.0/8"
    assert _rules(evaluate(docs)) == {"MCP-NET-004"}


def test_policy_in_another_namespace_does_not_isolate() -> None:
    docs = _docs()
    for policy in [d for d in docs if d["kind"] == "NetworkPolicy"]:
        policy["metadata"]["namespace"] = "elsewhere"
    assert _rules(evaluate(docs)) == {"MCP-NET-001", "MCP-NET-002"}


def test_match_expressions_select_the_pod() -> None:
    docs = _docs()
    policy = _kind(docs, "NetworkPolicy", 1)
    docs.remove(_kind(docs, "NetworkPolicy", 0))  # the default-deny selects every pod
    name = policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
    policy["spec"]["podSelector"] = {"matchExpressions": [
        {"key": "app.kubernetes.io/name", "operator": "In", "values": [name]}]}
    assert evaluate(docs) == []
    policy["spec"]["podSelector"]["matchExpressions"][0]["operator"] = "NotIn"
    assert _rules(evaluate(docs)) == {"MCP-NET-001", "MCP-NET-002"}


def test_sysctl_allowed_depends_on_version() -> None:
    docs = _docs()
    _pod(docs)["securityContext"]["sysctls"] = [{"name": "net.ipv4.tcp_rmem", "value": "1"}]
    assert evaluate(docs, "1.32") == []
    assert _rules(evaluate(docs, "1.31")) == {"MCP-PSS-011"}


def test_selinux_container_engine_t_from_1_31() -> None:
    docs = _docs()
    _pod(docs)["securityContext"]["seLinuxOptions"] = {"type": "container_engine_t"}
    assert evaluate(docs, "1.31") == []
    assert _rules(evaluate(docs, "1.30")) == {"MCP-PSS-008"}


def test_user_namespace_relaxes_run_as_checks_from_1_35() -> None:
    docs = _docs()
    pod = _pod(docs)
    pod["hostUsers"] = False
    pod["containers"][0]["securityContext"]["runAsUser"] = 0
    assert evaluate(docs, "1.35") == []
    assert _rules(evaluate(docs, "1.34")) == {"MCP-PSS-016", "MCP-PSS-017"}


def test_init_and_ephemeral_containers_are_checked() -> None:
    docs = _docs()
    pod = _pod(docs)
    init = copy.deepcopy(pod["containers"][0])
    init.update(name="init", image="busybox:1.36")
    del init["readinessProbe"], init["livenessProbe"]
    pod["initContainers"] = [init]
    assert _rules(evaluate(docs)) == {"MCP-IMG-001"}  # probes are not required of init
    debug = {"name": "debug", "image": f"busybox:1.36@{corpus.DIGEST}",
             "imagePullPolicy": "Always", "securityContext": {"privileged": True}}
    pod["ephemeralContainers"] = [debug]
    assert "MCP-PSS-002" in _rules(evaluate(docs))


def test_pod_level_security_context_is_enough_for_pss() -> None:
    docs = _docs()
    sc = _pod(docs)["containers"][0]["securityContext"]
    for key in ("runAsNonRoot", "runAsUser", "runAsGroup", "seccompProfile"):
        del sc[key]
    assert evaluate(docs) == []


def test_other_workload_kinds() -> None:
    docs = _docs()
    deployment = _kind(docs, "Deployment")
    template = deployment["spec"]["template"]
    cron: dict[str, Any] = {"apiVersion": "batch/v1", "kind": "CronJob",
                            "metadata": {**deployment["metadata"], "name": "nightly"},
                            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {
                                "template": copy.deepcopy(template)}}}}
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {**copy.deepcopy(template["metadata"]),
                        "name": "single", "namespace": deployment["metadata"]["namespace"]},
           "spec": copy.deepcopy(template["spec"])}
    cron_spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    del cron_spec["containers"][0]["readinessProbe"]  # jobs need no probes
    assert evaluate([*docs, cron, pod]) == []
    pod["spec"]["hostPID"] = True
    cron_spec["automountServiceAccountToken"] = True
    findings = evaluate([*docs, cron, pod])
    assert {(f.kind, f.rule) for f in findings} == {
        ("Pod", "MCP-PSS-001"), ("CronJob", "MCP-RBAC-002")}
    cron_path = next(f.path for f in findings if f.kind == "CronJob")
    assert cron_path.startswith("spec.jobTemplate.spec.template.spec")


def test_rolebinding_to_clusterrole_is_flagged() -> None:
    docs = _docs()
    binding = _kind(docs, "RoleBinding")
    # A ClusterRole neither in the input nor built-in: what it grants cannot be judged.
    binding["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                          "name": "mcp-reader"}
    assert _rules(evaluate(docs)) == {"MCP-RBAC-004"}


def test_credential_heuristics() -> None:
    docs = _docs()
    env = _pod(docs)["containers"][0]["env"]
    env += [{"name": "MAX_TOKENS", "value": "4096"}, {"name": "TOKENIZER", "value": "bpe"},
            {"name": "API_KEY_PATH", "value": "/mnt/secrets/key"},
            {"name": "AUTH_ENABLED", "value": "true"}]
    assert evaluate(docs) == []
    env.append({"name": "OpenAIApiKey", "value": "sk-abc"})
    assert _rules(evaluate(docs)) == {"MCP-SEC-003"}


def test_suppression_annotation() -> None:
    docs = corpus.build("img-004")
    deployment = _kind(docs, "Deployment")
    deployment["metadata"]["annotations"] = {
        "mcp-scaffold.io/skip": "MCP-IMG-004=digest pinned; node cache is trusted\n"}
    findings = evaluate(docs)
    assert [(f.rule, f.suppressed) for f in findings] == [
        ("MCP-IMG-004", "digest pinned; node cache is trusted")]


def test_suppression_needs_a_reason_and_a_known_rule() -> None:
    doc = {"metadata": {"annotations": {"mcp-scaffold.io/skip": "MCP-IMG-004\nMCP-NOPE-1=x"}}}
    found, problems = skips(doc)
    assert found == {}
    assert len(problems) == 2 and "needs a reason" in " ".join(problems)


def test_malformed_objects_do_not_crash() -> None:
    weird: list[Any] = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": None, "spec": "x"},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "spec": {"template": {"spec": {"containers": [None, "x", {"securityContext": []}],
                                        "volumes": ["x", {"emptyDir": None}]}}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "spec": {"egress": [{"to": [{"ipBlock": {"cidr": "not-a-cidr"}}]}], "ingress": "x"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "rules": [None, {}]},
        {"kind": "Secret", "data": []},
        "not a dict",
    ]
    findings = evaluate(weird)
    assert all(isinstance(f, Finding) for f in findings)


def test_bad_kube_version() -> None:
    with pytest.raises(InputError):
        evaluate([], "latest")
    assert evaluate([], "v1.33.2") == []


# ---- network: meaning, not spelling --------------------------------------------------------

def _ingress(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = _kind(docs, "NetworkPolicy", 1)["spec"]["ingress"]
    return rules


def _expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    out: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        out["values"] = list(values)
    return out


NAME = "kubernetes.io/metadata.name"


@pytest.mark.parametrize("selector, every", [
    ({}, True),
    ({"matchExpressions": [_expr(NAME, "Exists")]}, True),
    ({"matchExpressions": [_expr(NAME, "NotIn", "kube-system", "default")]}, True),
    ({"matchExpressions": [_expr("no-namespace-has-this", "DoesNotExist")]}, True),
    ({"matchExpressions": [_expr(NAME, "NotIn", "a"), _expr("team", "DoesNotExist")]}, True),
    ({"matchLabels": {NAME: "ingress-nginx"}}, False),
    ({"matchExpressions": [_expr(NAME, "In", "ingress-nginx", "gateway")]}, False),
    ({"matchExpressions": [_expr("team", "Exists")]}, False),
    ({"matchExpressions": [_expr(NAME, "NotIn", "a"), _expr("team", "In", "web")]}, False),
])
def test_namespace_selector_that_selects_every_namespace(
        selector: dict[str, Any], every: bool) -> None:
    docs = _docs()
    _ingress(docs)[0]["from"] = [{"namespaceSelector": selector}]
    assert _rules(evaluate(docs)) == ({"MCP-NET-003"} if every else set())


def test_pods_selected_in_every_namespace_are_still_everyone() -> None:
    docs = _docs()
    _ingress(docs)[0]["from"] = [{"namespaceSelector": {}, "podSelector": {
        "matchLabels": {"app": "frontend"}}}]
    findings = evaluate(docs)
    assert _rules(findings) == {"MCP-NET-003"}
    assert "app=frontend" in findings[0].message


def test_dns_in_every_namespace_is_lower_severity_only_on_port_53() -> None:
    docs = _docs()
    dns = _egress(docs)[0]
    dns["to"][0]["namespaceSelector"] = {"matchExpressions": [_expr(NAME, "Exists")]}
    findings = evaluate(docs)
    assert [(f.rule, f.severity) for f in findings] == [("MCP-NET-007", "medium")]
    dns["ports"].append({"protocol": "TCP", "port": 443})
    assert _rules(evaluate(docs)) == {"MCP-NET-004"}
    dns["ports"] = dns["ports"][:2]
    dns["to"][0]["podSelector"] = {}  # every pod in every namespace
    assert _rules(evaluate(docs)) == {"MCP-NET-004"}


@pytest.mark.parametrize("blocks", [
    [{"cidr": "10.0.0.0/9"}, {"cidr": "10.128.0.0/9"}],
    [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}, {"cidr": "10.1.0.0/16"}],
])
def test_ipblocks_of_one_rule_add_up(blocks: list[dict[str, Any]]) -> None:
    docs = _docs()
    _egress(docs)[2]["to"] = [{"ipBlock": b} for b in blocks]
    findings = evaluate(docs)
    assert _rules(findings) == {"MCP-NET-004"}
    assert findings[0].path == "spec.egress[2]" and "10.0.0.0/8" in findings[0].message


def test_ipblocks_of_two_rules_of_one_policy_add_up() -> None:
    docs = _docs()
    _egress(docs)[2]["to"] = [{"ipBlock": {"cidr": "192.168.0.0/17"}}]
    _egress(docs).append({"to": [{"ipBlock": {"cidr": "192.168.128.0/17"}}],
                          "ports": [{"protocol": "TCP", "port": 5432}]})
    findings = evaluate(docs)
    assert [(f.rule, f.path) for f in findings] == [("MCP-NET-004", "spec.egress")]


def test_ipblocks_of_policies_add_up_only_for_pods_both_select() -> None:
    docs = corpus.build("net-004-policies")
    findings = evaluate(docs)
    assert [(f.rule, f.kind) for f in findings] == [("MCP-NET-004", "Deployment")]
    other = _kind(docs, "NetworkPolicy", 2)
    other["spec"]["podSelector"] = {"matchLabels": {"app": "someone-else"}}
    assert evaluate(docs) == []


@pytest.mark.parametrize("blocks", [
    ["0.0.0.0/0"],
    ["0.0.0.0/1", "128.0.0.0/1"],
    # the public internet without the private ranges is still every source that matters
    ["0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3",
     "64.0.0.0/2", "128.0.0.0/1"],
])
def test_ingress_from_everyone_in_any_spelling(blocks: list[str]) -> None:
    docs = _docs()
    _ingress(docs)[0]["from"] = [{"ipBlock": {"cidr": b, "except": [
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8"]}}
        for b in blocks]
    assert _rules(evaluate(docs)) == {"MCP-NET-003"}


def test_ingress_from_a_public_range_is_fine() -> None:
    docs = _docs()
    _ingress(docs)[0]["from"] = [{"ipBlock": {"cidr": "203.0.113.0/24"}}]
    assert evaluate(docs) == []


@pytest.mark.parametrize("ports, every", [
    ([], True),
    ([{"protocol": "TCP"}], True),
    ([{"protocol": "UDP"}], True),
    ([{"protocol": "TCP", "port": 1, "endPort": 65535}], True),
    ([{"port": 1, "endPort": 40000}, {"protocol": "TCP", "port": 40001, "endPort": 65535}], True),
    ([{"protocol": "TCP", "port": 1, "endPort": 65534}], False),
    ([{"protocol": "TCP", "port": 1, "endPort": 100}, {"protocol": "UDP", "port": 101,
                                                       "endPort": 65535}], False),
    ([{"protocol": "TCP", "port": "http"}], False),
    ([{"protocol": "TCP", "port": 8080}], False),
])
def test_ports_that_open_every_port(ports: list[dict[str, Any]], every: bool) -> None:
    docs = _docs()
    _ingress(docs)[0]["ports"] = ports
    _egress(docs)[3]["ports"] = copy.deepcopy(ports)
    expected = {"MCP-NET-006", "MCP-NET-008"} if every else set()
    assert _rules(evaluate(docs)) == expected


@pytest.mark.parametrize("cidr, flagged", [
    ("169.254.20.10/32", False),     # NodeLocal DNSCache: a single node-local address
    ("169.254.169.254/32", True),
    ("169.254.170.2/32", True),      # ECS task credentials
    ("169.254.170.23/32", True),     # EKS Pod Identity agent
    ("fd00:ec2::23/128", True),
    ("168.63.129.16/32", True),      # Azure WireServer
    ("169.254.170.0/24", True),
    ("168.63.0.0/16", True),
    ("fe80::/64", True),
])
def test_metadata_judged_on_addresses_reached(cidr: str, flagged: bool) -> None:
    # On the API server rule (TCP 443): DNS alone to 169.254.169.254 is GKE Cloud DNS's
    # resolver (tests/policy/test_network_model.py), not the credential endpoint.
    docs = _docs()
    _egress(docs)[2]["to"][0]["ipBlock"]["cidr"] = cidr
    assert _rules(evaluate(docs)) == ({"MCP-NET-005"} if flagged else set())


def test_index_selects_exactly_what_every_selector_selects() -> None:
    # The namespace/label index must give the same policies as testing each one.
    from scaffold.policy import network
    from scaffold.policy.model import Context, selector_matches

    selectors: list[Any] = [
        {}, {"matchLabels": {"a": "1"}}, {"matchLabels": {"a": "1", "b": "2"}},
        {"matchLabels": {"b": "2"}}, {"matchExpressions": [_expr("a", "In", "1", "3")]},
        {"matchExpressions": [_expr("b", "Exists")]},
        {"matchExpressions": [_expr("a", "NotIn", "1")]},
        {"matchExpressions": [_expr("c", "DoesNotExist")]},
        {"matchLabels": {"a": 1}}, None,
    ]
    label_sets: list[dict[str, Any]] = [
        {}, {"a": "1"}, {"a": "1", "b": "2"}, {"b": "2"}, {"a": "3", "c": "x"}, {"a": 1},
    ]
    policies: list[dict[str, Any]] = [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                       "metadata": {"name": f"p{i}", "namespace": ns},
                                       "spec": {"podSelector": sel, "policyTypes": ["Ingress"]}}
                                      for ns in ("x", "y") for i, sel in enumerate(selectors)]
    pods = [{"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": f"w{i}", "namespace": ns, "labels": labels},
             "spec": {"containers": [{"name": "c", "image": "i"}]}}
            for ns in ("x", "y", "z") for i, labels in enumerate(label_sets)]
    ctx = Context([*policies, *pods], (1, 33))
    index = network._Index(network._judge_policy(p)[0] for p in policies)
    for w in ctx.workloads:
        expected = {p["metadata"]["name"] for p in policies
                    if p["metadata"]["namespace"] == w.namespace
                    and selector_matches(p["spec"]["podSelector"], w.labels)}
        group, found = index.selecting(w)
        got = [p.doc["metadata"]["name"] for p in (*group.members, *found)]
        assert sorted(got) == sorted(expected), w.labels


# ---- pod security: tokens, group 0, namespaces, pod specs of any kind ----------------------

def _token(docs: list[dict[str, Any]]) -> dict[str, Any]:
    token: dict[str, Any] = _pod(docs)["volumes"][2]["projected"]["sources"][0][
        "serviceAccountToken"]
    return token


@pytest.mark.parametrize("seconds, flagged", [
    (3600, False), (600, False), (3601, True), (86400, True), (7200.0, True)])
def test_projected_token_lifetime(seconds: float, flagged: bool) -> None:
    docs = _docs()
    _token(docs)["expirationSeconds"] = seconds
    assert _rules(evaluate(docs)) == ({"MCP-PSS-021"} if flagged else set())


def test_projected_token_without_expiration_is_the_default_hour() -> None:
    docs = _docs()
    del _token(docs)["expirationSeconds"]
    assert evaluate(docs) == []


@pytest.mark.parametrize("where, key, value", [
    ("pod", "fsGroup", 0),
    ("pod", "fsGroup", 0.0),
    ("pod", "fsGroup", -0.0),
    ("pod", "supplementalGroups", [65532, 0]),
    ("pod", "supplementalGroups", [0.0]),
])
def test_group_zero_in_any_numeric_spelling(where: str, key: str, value: Any) -> None:
    docs = _docs()
    _pod(docs)["securityContext"][key] = value
    findings = evaluate(docs)
    assert _rules(findings) == {"MCP-PSS-022"}
    assert findings[0].path.startswith(f"spec.template.spec.securityContext.{key}")


@pytest.mark.parametrize("level", ["pod", "container"])
def test_run_as_group_zero(level: str) -> None:
    docs = _docs()
    target = (_pod(docs) if level == "pod" else _pod(docs)["containers"][0])
    _pod(docs)["containers"][0]["securityContext"].pop("runAsGroup")
    target["securityContext"]["runAsGroup"] = 0
    # group 0 is also below the bundle's 10000 floor
    assert _rules(evaluate(docs)) == {"MCP-PSS-022", "MCP-PSS-017"}


@pytest.mark.parametrize("value", [False, "0"])
def test_values_the_api_server_refuses_are_not_group_zero(value: Any) -> None:
    # A boolean or a quoted number never reaches a pod: the decoder refuses it (the schema
    # check reports it); it is not the root group.
    docs = _docs()
    _pod(docs)["securityContext"]["fsGroup"] = value
    assert "MCP-PSS-022" not in _rules(evaluate(docs))


def test_run_as_user_false_is_not_root() -> None:
    docs = _docs()
    _pod(docs)["containers"][0]["securityContext"]["runAsUser"] = False
    assert "MCP-PSS-016" not in _rules(evaluate(docs))
    _pod(docs)["containers"][0]["securityContext"]["runAsUser"] = 0.0
    assert "MCP-PSS-016" in _rules(evaluate(docs))


@pytest.mark.parametrize("namespace, flagged", [
    ("default", True), ("kube-system", True), ("kube-public", True), ("kube-node-lease", True),
    ("kubeflow", False), ("team-default", False), ("", False)])
def test_workload_namespace(namespace: str, flagged: bool) -> None:
    docs = _docs()
    if namespace:
        corpus._in_namespace(namespace)(docs)
    else:  # left to kustomize: no namespace on any object
        for doc in docs:
            doc["metadata"].pop("namespace", None)
    findings = evaluate(docs)
    assert ("MCP-PSS-023" in _rules(findings)) is flagged
    assert all(f.pattern == "pod-security" for f in findings if f.rule == "MCP-PSS-023")


def _template_of(docs: list[dict[str, Any]]) -> dict[str, Any]:
    template: dict[str, Any] = copy.deepcopy(_kind(docs, "Deployment")["spec"]["template"])
    return template


@pytest.mark.parametrize("kind, api, make, spec_path", [
    ("Rollout", "argoproj.io/v1alpha1",
     lambda t: {"replicas": 2, "template": t}, "spec.template.spec"),
    ("Service", "serving.knative.dev/v1", lambda t: {"template": t}, "spec.template.spec"),
    ("CloneSet", "apps.kruise.io/v1alpha1", lambda t: {"template": t}, "spec.template.spec"),
    ("PyTorchJob", "kubeflow.org/v1",
     lambda t: {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": t},
                                        "Worker": {"replicas": 2, "template": t}}},
     "spec.pytorchReplicaSpecs.Master.template.spec"),
])
def test_pod_specs_of_any_kind_are_judged(
        kind: str, api: str, make: Any, spec_path: str) -> None:
    docs = _docs()
    template = _template_of(docs)
    docs.remove(_kind(docs, "Deployment"))
    obj = {"apiVersion": api, "kind": kind,
           "metadata": {"name": "other", "namespace": _kind(docs, "ServiceAccount")[
               "metadata"]["namespace"]},
           "spec": make(template)}
    docs.append(obj)
    assert evaluate(docs) == []  # the hardened pod, judged: clean
    template["spec"]["containers"][0]["securityContext"]["privileged"] = True
    template["spec"]["hostNetwork"] = True
    findings = evaluate(docs)
    assert {(f.kind, f.rule) for f in findings} == {(kind, "MCP-PSS-002"), (kind, "MCP-PSS-001")}
    assert any(f.path.startswith(spec_path) for f in findings)


def test_pod_template_labels_of_any_kind_meet_network_policies() -> None:
    docs = _docs()
    template = _template_of(docs)
    docs.remove(_kind(docs, "Deployment"))
    template["metadata"]["labels"] = {"app": "unselected"}
    docs.append({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                 "metadata": {"name": "r", "namespace": "elsewhere"},
                 "spec": {"template": template}})
    assert _rules(evaluate(docs)) == {"MCP-NET-001", "MCP-NET-002"}


@pytest.mark.parametrize("spec, path", [
    ({"templates": [{"name": "main", "container": {"image": "busybox"}}]},
     "spec.templates[0].container"),
    ({"steps": [{"name": "build", "image": "golang"}]}, "spec.steps"),
    # an operator's container patch: merged into a pod the checker never sees
    ({"containers": [{"name": "prometheus", "args": ["--log.level=debug"]}]},
     "spec.containers"),
])
def test_containers_the_checker_cannot_judge_are_reported(
        spec: dict[str, Any], path: str) -> None:
    doc = {"apiVersion": "example.com/v1", "kind": "Thing",
           "metadata": {"name": "t", "namespace": "n"}, "spec": spec}
    findings = evaluate([doc])
    assert [(f.rule, f.path) for f in findings] == [("MCP-PSS-024", path)]
    assert "Thing" in findings[0].message


def test_objects_without_containers_are_not_workloads() -> None:
    docs = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
             "data": {"containers": "[]", "image": "x"}},
            {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
             "spec": {"image": {"repository": "x"}, "containers": []}}]
    assert evaluate(docs) == []


@pytest.mark.parametrize("case", list(corpus.SPELLING_CASES))
def test_spelling_case_flags_its_rule_and_nothing_else(case: str) -> None:
    rule, _, _ = corpus.SPELLING_CASES[case]
    assert _rules(evaluate(corpus.build(case))) == {rule}


@pytest.mark.parametrize(("where", "value", "flagged"), [
    ("limits", "0", True), ("limits", "0Mi", True), ("limits", "0.0", True),
    ("limits", "0Ki", True), ("limits", 0, True), ("limits", 0.0, True), ("limits", "-0", True),
    ("limits", "0e3", True), ("limits", "1Gi", False), ("limits", "1e9", False),
    ("limits", "500m", False), ("limits", "lots", True),
    # A request of zero is a request (the pod asks for nothing, and says so).
    ("requests", "0", False), ("requests", 0, False), ("requests", "lots", True),
])
def test_resources_are_judged_as_quantities(where: str, value: Any, flagged: bool) -> None:
    docs = _docs()
    resources = _pod(docs)["containers"][0]["resources"]
    resources["requests"]["memory"] = resources["limits"]["memory"] = "1Gi"
    resources[where]["memory"] = value
    rule = "MCP-RES-002" if where == "limits" else "MCP-RES-001"
    findings = evaluate(docs)
    assert _rules(findings) == ({rule} if flagged else set())
    if flagged:
        assert "memory" in findings[0].message and "cpu" not in findings[0].message


@pytest.mark.parametrize(("value", "flagged"), [
    ("0", True), ("0Mi", True), (0, True), ("0.0", True), ("64Mi", False), ("1e6", False),
    ("64m", False), ("big", True),
])
def test_empty_dir_size_limit_is_judged_as_a_quantity(value: Any, flagged: bool) -> None:
    docs = _docs()
    _pod(docs)["volumes"][0]["emptyDir"] = {"sizeLimit": value}
    assert _rules(evaluate(docs)) == ({"MCP-PSS-019"} if flagged else set())


@pytest.mark.parametrize(("image", "policy", "expected"), [
    ("registry.example.com/model:1.0", "Always", {"MCP-IMG-001"}),
    ("registry.example.com/model", "Always", {"MCP-IMG-001", "MCP-IMG-003"}),
    ("registry.example.com/model:1.0@sha256:abc", "Always", {"MCP-IMG-002"}),
    (f"registry.example.com/model:1.0@{corpus.DIGEST}", "IfNotPresent", {"MCP-IMG-004"}),
    (f"registry.example.com/model:1.0@{corpus.DIGEST}", "Always", set()),
])
def test_image_volumes_are_judged_like_containers(
        image: str, policy: str, expected: set[str]) -> None:
    docs = _docs()
    pod = _pod(docs)
    pod["volumes"].append({"name": "model", "image": {"reference": image,
                                                      "pullPolicy": policy}})
    findings = evaluate(docs)
    assert _rules(findings) == expected
    assert all(f.path.startswith("spec.template.spec.volumes[3].image.") for f in findings)


def test_every_image_of_a_pod_spec_is_judged_for_a_digest() -> None:
    docs = _docs()
    pod = _pod(docs)
    unpinned = {"image": "busybox:1.36", "imagePullPolicy": "Always"}
    pod["initContainers"] = [{**copy.deepcopy(pod["containers"][0]), "name": "init",
                              **unpinned}]
    pod["ephemeralContainers"] = [{**copy.deepcopy(pod["containers"][0]), "name": "debug",
                                   **unpinned}]
    pod["volumes"].append({"name": "v", "image": {"reference": "busybox:1.36",
                                                  "pullPolicy": "Always"}})
    paths = {f.path for f in evaluate(docs) if f.rule == "MCP-IMG-001"}
    assert paths == {"spec.template.spec.initContainers[0].image",
                     "spec.template.spec.ephemeralContainers[0].image",
                     "spec.template.spec.volumes[3].image.reference"}


def _custom(api: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": "t", "namespace": "n"},
            "spec": spec}


@pytest.mark.parametrize(("doc", "paths"), [
    # Kubeflow Spark operator: driver and executor are built from fields of its own.
    (_custom("sparkoperator.k8s.io/v1beta2", "SparkApplication", {
        "image": "spark:3.5.0", "driver": {"cores": 1, "securityContext": {"privileged": True}},
        "executor": {"instances": 2, "image": "spark-exec:3.5.0"}}),
     ["spec.image", "spec.executor.image"]),
    (_custom("monitoring.coreos.com/v1", "Prometheus", {"image": "quay.io/prometheus:v3"}),
     ["spec.image"]),
    # Already reported at its container: not twice.
    (_custom("argoproj.io/v1alpha1", "Workflow", {"templates": [
        {"name": "m", "container": {"image": "busybox"}}]}), ["spec.templates[0].container"]),
])
def test_images_outside_any_pod_spec_are_unjudged(
        doc: dict[str, Any], paths: list[str]) -> None:
    findings = evaluate([doc])
    assert sorted((f.rule, f.path) for f in findings) == sorted(
        ("MCP-PSS-024", p) for p in paths)


def _flux(spec: dict[str, Any]) -> dict[str, Any]:
    return _custom("kustomize.toolkit.fluxcd.io/v1", "Kustomization", {
        "interval": "10m", "path": "./apps", "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "apps"}, **spec})


@pytest.mark.parametrize("key, value", [
    ("patches", [{"patch": "- op: add\n  path: /spec/hostNetwork\n  value: true\n",
                  "target": {"kind": "Deployment"}}]),
    ("patchesStrategicMerge", [{"kind": "Deployment", "metadata": {"name": "x"}}]),
    ("images", [{"name": "registry.example.com/org/mcp-server", "newTag": "latest"}]),
    ("postBuild", {"substitute": {"IMAGE_TAG": "latest"}}),
])
def test_flux_kustomization_that_rewrites_workloads_is_unjudged(key: str, value: Any) -> None:
    findings = evaluate([_flux({key: value})])
    assert [(f.rule, f.path) for f in findings] == [("MCP-PSS-024", f"spec.{key}")]
    assert "Flux Kustomization t" in findings[0].message


def test_flux_kustomization_without_rewrites_applies_its_source_as_is() -> None:
    assert evaluate([_flux({})]) == []
