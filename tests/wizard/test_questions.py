"""Every question path of the wizard, driven through prompt_toolkit's pipe input."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from scaffold import values, wizard
from scaffold.errors import Interrupted, ValuesError

from wizard_support import (
    CTRL_C,
    CTRL_D,
    DOWN,
    ENTER,
    IMAGE,
    PROVIDERS,
    START,
    basics,
    choose,
    line,
    run,
)

pytestmark = pytest.mark.timeout(60)

RUNTIMES = values.subschema("runtime")["enum"]


def no_lists() -> str:
    """configMaps empty, no rbac, no cloudIdentity, no downstream service, no external egress."""
    return ENTER + "n" + "n" + "n" + "n"


def test_minimal_answers_use_schema_defaults(keys: Any, capsys: pytest.CaptureFixture[str]) -> None:
    v = run(keys, basics() + no_lists() + choose(PROVIDERS, "none") + ENTER + "y")
    assert (v["name"], v["namespace"], v["image"]) == ("demo", "mcp-demo", IMAGE)
    assert (v["port"], v["replicas"], v["runtime"]) == (8080, 1, "generic")
    assert v["ingress"] == {"namespace": "ingress-nginx", "podLabels": {}}
    assert v["configMaps"] == [] and v["apiServer"]["cidrs"] == []
    assert v["downstream"] == [] and v["externalEgress"] == []
    assert v["secrets"]["provider"] == "none" and v["kubernetesVersion"] == "1.33"
    # The summary goes to stderr, never into a YAML stream on stdout.
    out, err = capsys.readouterr()
    assert out == ""
    assert "Namespace/mcp-demo" in err and "NetworkPolicy/demo-default-deny" in err
    assert "automountServiceAccountToken: false" in err and "runAsNonRoot" in err


def test_typed_values_replace_defaults(keys: Any) -> None:
    script = (line("demo") + line("mcp-demo") + line(IMAGE) + line("3000") + line("2")
              + choose(RUNTIMES, "node") + START + line("ingress-nginx") + no_lists()
              + choose(PROVIDERS, "none") + line("1.31") + ENTER)
    v = run(keys, script)
    assert (v["port"], v["replicas"], v["runtime"], v["kubernetesVersion"]) == (3000, 2, "node", "1.31")


def test_rejected_answers_are_retyped(keys: Any) -> None:
    # Each wrong answer stays on its prompt (the error is shown inline); Ctrl-U and retype.
    script = (line("Demo_Server") + line("demo")          # not a DNS-1123 label
              + line("default") + line("mcp-demo")         # semantic rule: not 'default'
              + line("ghcr.io/acme/demo-mcp:1.0.0")        # a tag alone is refused
              + line("ghcr.io/acme/demo-mcp@sha256:abc123")  # not a digest
              + line(IMAGE)
              + line("80") + line("http") + line("8000")   # privileged port, not a number
              + line("0") + line("1")                      # replicas below the minimum
              + ENTER + START + line("ingress-nginx") + no_lists()
              + choose(PROVIDERS, "none") + line("1.2") + line("1.33") + "y")
    v = run(keys, script)
    assert (v["name"], v["namespace"], v["image"], v["port"]) == ("demo", "mcp-demo", IMAGE, 8000)
    assert v["replicas"] == 1 and v["kubernetesVersion"] == "1.33"


def test_validators_are_the_values_file_checks() -> None:
    # One implementation: the message the prompt shows is the one the values file gets.
    w = wizard._Wizard({})
    assert w.check("image", "string", "ghcr.io/a/b:1") == values.check_image("ghcr.io/a/b:1")
    assert w.check("namespace", "string", "kube-system") == values.check_namespace("kube-system")
    assert w.check("port", "integer", 80) == "must be between 1024 and 65535, got 80"
    assert w.check("image", "string", IMAGE) is None
    assert w.check("externalEgress[].cidr", "string", "169.254.169.254/32") \
        == values.check_cidr("169.254.169.254/32")
    assert w.check("downstream[0].podLabels", "map", {"bad key": "x"}) \
        == values.check_label_key("bad key")


def test_api_server_cidrs_asked_only_with_config_maps(keys: Any) -> None:
    script = (basics() + line("demo-config, demo-index") + "n" + "n"   # no rbac, no cloud
              + ENTER                          # empty: required when configMaps is not empty
              + line("10.0.0.1")               # no prefix length
              + line("10.0.0.1/32")
              + "n" + "n" + choose(PROVIDERS, "none") + ENTER + "y")
    v = run(keys, script)
    assert v["configMaps"] == ["demo-config", "demo-index"]
    assert v["apiServer"]["cidrs"] == ["10.0.0.1/32"]


def test_rbac_and_cloud_identity_questions(keys: Any) -> None:
    # Both optional blocks behind a yes/no; their fields come from the schema.
    script = (basics() + ENTER
              + "y"                                        # rbac
              + "y" + line('""') + line("pods, pods/log")  # a rule: the core group...
              + line("get, delete")                        # delete is not read-only: again
              + line("get, list") + ENTER                  # no resourceNames
              + "n"                                        # no second rule
              + line("team-a")                             # namespaces
              + choose(["(leave out)", "view"], "view")    # clusterRole
              + "n"                                        # not cluster-wide
              + "y" + choose(["aws", "gcp", "azure"], "gcp")
              + line("mcp-server@acme-prod.iam.gserviceaccount.com")
              + line("10.0.0.1/32")                        # API server: needed by rbac
              + "n" + "n" + choose(PROVIDERS, "none") + ENTER + "y")
    v = run(keys, script)
    assert v["rbac"] == {"rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"],
                                    "verbs": ["get", "list"]}],
                         "namespaces": ["team-a"], "clusterRole": "view"}
    assert v["cloudIdentity"] == {
        "gcp": {"gcpServiceAccount": "mcp-server@acme-prod.iam.gserviceaccount.com"}}
    assert v["apiServer"]["cidrs"] == ["10.0.0.1/32"]


def test_downstream_loop(keys: Any) -> None:
    script = (basics() + ENTER + "n" + "n"
              + "y" + line("postgres") + ENTER             # namespace: the server's
              + line("app") + line("app=postgres")         # 'app' is not key=value
              + line("5432")
              + "y" + line("redis") + line("cache")
              + line("bad key!=x") + line("app.kubernetes.io/name=redis,tier=cache")
              + line("6379, 70000") + line("6379, 6380")   # 70000 is not a port
              + "y" + line("postgres")                     # name used twice: asked again
              + ENTER + line("app=pg2") + line("5433") + line("pg2")
              + "n"
              + "n" + choose(PROVIDERS, "none") + ENTER + "y")
    v = run(keys, script)
    assert v["downstream"] == [
        {"name": "postgres", "namespace": "mcp-demo", "podLabels": {"app": "postgres"},
         "ports": [5432]},
        {"name": "redis", "namespace": "cache",
         "podLabels": {"app.kubernetes.io/name": "redis", "tier": "cache"}, "ports": [6379, 6380]},
        {"name": "pg2", "namespace": "mcp-demo", "podLabels": {"app": "pg2"}, "ports": [5433]},
    ]


def test_external_egress_loop(keys: Any) -> None:
    script = (basics() + ENTER + "n" + "n" + "n"
              + "y" + line("169.254.169.254/32") + line("0.0.0.0/0") + line("443")
              + "y" + line("2001:db8::1/32") + line("2001:db8::/32") + line("443,8443")
              + "n" + choose(PROVIDERS, "none") + ENTER + "y")
    v = run(keys, script)
    assert v["externalEgress"] == [{"cidr": "0.0.0.0/0", "ports": [443]},
                                   {"cidr": "2001:db8::/32", "ports": [443, 8443]}]


# --- each secret provider in the schema ----------------------------------------------------------

GUID = "0f0e0d0c-0b0a-0908-0706-050403020100"
PROVIDER_SCRIPTS: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
    # provider -> (keys for its questions and the *_FILE names, its expected block, files)
    "aws": (
        line("us-east-1") + line("arn:aws:iam::111122223333:role/demo") + "n"
        + line("prod/demo/db") + ENTER + ENTER + ENTER           # type secretsmanager
        + "y" + line("password") + line("db-password") + "n"     # one jmesPath entry
        + "n"
        + ENTER + line(""),                  # DB_PASSWORD_FILE; the whole secret not exposed
        {"region": "us-east-1", "roleArn": "arn:aws:iam::111122223333:role/demo",
         "usePodIdentity": False,
         "objects": [{"objectName": "prod/demo/db", "objectType": "secretsmanager",
                      "jmesPath": [{"path": "password", "objectAlias": "db-password"}]}]},
        {"DB_PASSWORD_FILE": "db-password"},
    ),
    "azure": (
        line("kv-demo") + line("not-a-guid") + line(GUID) + line(GUID) + ENTER
        + line("db-password") + ENTER + ENTER + ENTER
        + "y" + line("tls") + DOWN * 2 + ENTER + ENTER + line("tls.pem")
        + "n"
        + ENTER + line("TLS_FILE"),
        {"keyvaultName": "kv-demo", "tenantID": GUID, "clientID": GUID,
         "objects": [{"objectName": "db-password", "objectType": "secret"},
                     {"objectName": "tls", "objectType": "cert", "objectAlias": "tls.pem"}]},
        {"DB_PASSWORD_FILE": "db-password", "TLS_FILE": "tls.pem"},
    ),
    "gcp": (
        line("demo-sa@my-project.iam.gserviceaccount.com") + ENTER
        + line("projects/my-project/secrets/db/versions/latest") + line("db-password")
        + "n"
        + line("DB_PASSWORD"),               # its content needs a command (not given): refused
        {"gcpServiceAccount": "demo-sa@my-project.iam.gserviceaccount.com",
         "secrets": [{"resourceName": "projects/my-project/secrets/db/versions/latest",
                      "path": "db-password"}]},
        {"DB_PASSWORD_FILE": "db-password"},
    ),
    "vault": (
        line("https://vault.vault.svc:8200") + "n" + line("demo") + ENTER + ENTER + ENTER
        + ENTER                                                 # audience: default vault
        + line("db-password") + line("secret/data/demo") + line("password")
        + "n"
        + ENTER,
        {"vaultAddress": "https://vault.vault.svc:8200", "allowInsecureHttp": False,
         "roleName": "demo", "audience": "vault",
         "objects": [{"objectName": "db-password", "secretPath": "secret/data/demo",
                      "secretKey": "password"}]},
        {"DB_PASSWORD_FILE": "db-password"},
    ),
}
# The gcp script answers DB_PASSWORD first (refused), so its Enter after the retype is needed.
PROVIDER_SCRIPTS["gcp"] = (PROVIDER_SCRIPTS["gcp"][0] + line("DB_PASSWORD_FILE"),
                           *PROVIDER_SCRIPTS["gcp"][1:])


def test_every_schema_provider_has_a_script() -> None:
    # A provider added to the schema is asked for generically; this makes sure it is tested.
    assert set(PROVIDERS) - {"none"} == set(PROVIDER_SCRIPTS)


@pytest.mark.parametrize("provider", sorted(PROVIDER_SCRIPTS))
def test_provider_branch(keys: Any, provider: str) -> None:
    script, block, files = PROVIDER_SCRIPTS[provider]
    v = run(keys, basics() + no_lists() + choose(PROVIDERS, provider) + script + ENTER + "y")
    assert v["secrets"]["provider"] == provider
    assert v["secrets"][provider] == values.with_defaults(
        {"secrets": {"provider": provider, provider: block}})["secrets"][provider]
    assert v["secrets"]["files"] == files
    assert set(v["secrets"]) == {"provider", "mountPath", "files", "env", provider}


def test_provider_cross_field_rule_asks_again(keys: Any) -> None:
    # aws: roleArn left out without usePodIdentity breaks the provider's own rule; the wizard
    # shows it and asks for roleArn again.
    script = (basics() + no_lists() + choose(PROVIDERS, "aws")
              + line("us-east-1") + ENTER + "n" + line("db") + ENTER + ENTER + ENTER + "n" + "n"
              + line("arn:aws:iam::111122223333:role/demo")
              + ENTER + ENTER + "y")
    v = run(keys, script)
    assert v["secrets"]["aws"]["roleArn"] == "arn:aws:iam::111122223333:role/demo"
    assert v["secrets"]["files"] == {"DB_FILE": "db"}


def test_no_secret_file_exposed_asks_again(keys: Any) -> None:
    script = (basics() + no_lists() + choose(PROVIDERS, "gcp") + ENTER + ENTER
              + line("projects/my-project/secrets/db/versions/1") + line("db") + "n"
              + line("")                                       # nothing exposed: refused
              + ENTER + ENTER + ENTER + "y")
    v = run(keys, script)
    assert v["secrets"]["files"] == {"DB_FILE": "db"}


# --- partial values ------------------------------------------------------------------------------

PARTIAL: dict[str, Any] = {
    "name": "demo", "namespace": "mcp-demo", "port": 3000, "replicas": 1, "runtime": "python",
    "transport": "streamable-http", "configMaps": [], "downstream": [], "externalEgress": [],
    "secrets": {"provider": "none"}, "kubernetesVersion": "1.32",
}


def test_partial_values_ask_only_what_is_missing(keys: Any) -> None:
    # Only the image and the ingress namespace are missing; any other question would eat the
    # Ctrl-C tripwire and fail the test.
    v = run(keys, line(IMAGE) + line("ingress-nginx") + "y", PARTIAL)
    assert v["image"] == IMAGE and v["ingress"]["namespace"] == "ingress-nginx"
    assert (v["port"], v["runtime"], v["kubernetesVersion"]) == (3000, "python", "1.32")


def test_partial_nested_values_complete_the_missing_parts(keys: Any) -> None:
    raw = {**PARTIAL, "image": IMAGE, "ingress": {"namespace": "ingress-nginx"},
           "downstream": [{"name": "postgres", "podLabels": {"app": "postgres"}}],
           "secrets": {"provider": "aws", "aws": {"region": "us-east-1", "usePodIdentity": True}}}
    script = (ENTER + line("5432")            # downstream[0]: namespace (default), ports
              + ENTER                                        # aws.roleArn: left out
              + line("db") + ENTER + ENTER + ENTER + "n" + "n"  # aws.objects
              + ENTER + "y")                                 # DB_FILE
    v = run(keys, script, raw)
    assert v["downstream"][0]["ports"] == [5432]
    assert v["secrets"]["aws"]["usePodIdentity"] is True and "roleArn" not in v["secrets"]["aws"]
    assert v["secrets"]["files"] == {"DB_FILE": "db"}


def test_bad_answer_in_values_is_asked_again(keys: Any) -> None:
    raw = {**PARTIAL, "image": "ghcr.io/acme/demo-mcp:1.0.0", "port": 80}
    v = run(keys, line(IMAGE) + ENTER + line("ingress-nginx") + "y", raw)
    assert v["image"] == IMAGE and v["port"] == 8080


def test_bad_value_no_question_can_fix_fails_before_asking(keys: Any) -> None:
    with pytest.raises(ValuesError) as caught:
        run(keys, "", {**PARTIAL, "labels": "team"})
    assert [p.key for p in caught.value.problems] == ["labels"]


# --- the end: confirm, Ctrl-C, Ctrl-D ----------------------------------------------------------------


def test_confirm_no_aborts_with_130(keys: Any) -> None:
    with pytest.raises(wizard.Declined) as caught:
        run(keys, line(IMAGE) + line("ingress-nginx") + "n", PARTIAL)
    assert isinstance(caught.value, Interrupted) and caught.value.exit_code == 130
    assert "nothing was written" in str(caught.value)


@pytest.mark.parametrize("key", [CTRL_C, CTRL_D])
def test_ctrl_c_or_ctrl_d_interrupts(keys: Any, key: str) -> None:
    with pytest.raises(Interrupted) as caught:
        run(keys, line(IMAGE) + key, PARTIAL)
    assert caught.value.exit_code == 130


def test_non_interactive_path_does_not_import_prompt_libraries() -> None:
    code = ("import sys, scaffold.cli, scaffold.pipeline, scaffold.wizard;"
            " bad = [m for m in sys.modules if m.split('.')[0] in ('questionary', 'prompt_toolkit')];"
            " print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_env_name_suggestions() -> None:
    assert wizard._env_name("db-password") == "DB_PASSWORD_FILE"
    assert wizard._env_name("tls.pem") == "TLS_PEM_FILE"
    assert wizard._env_name("dir/1st") == "_1ST_FILE"


def test_problem_no_question_can_fix_is_reported_after_asking(keys: Any) -> None:
    # A semantic rule about a key the wizard never asks (a credential-looking env var) can
    # only be judged once everything is answered; it fails with the values file's message.
    raw = {**PARTIAL, "env": {"GITHUB_TOKEN": "x"}}
    with pytest.raises(ValuesError) as caught:
        run(keys, line(IMAGE) + line("ingress-nginx"), raw)
    assert [p.key for p in caught.value.problems] == ["env.GITHUB_TOKEN"]
