"""The one credential detector (scaffold/credentials.py): properties over hostile input and
the forms a credential takes in a name, a value and a command line."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold.credentials import (
    argument_reasons,
    credential_name,
    credential_reason,
    is_setting,
    value_reason,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CREDENTIAL_WORDS = ["TOKEN", "PASSWORD", "PASSWD", "PWD", "PASS", "PAT", "SECRET", "API_KEY",
                    "APIKEY", "JWT", "BEARER", "CREDENTIALS", "PRIVATE_KEY", "PASSPHRASE"]
POINTERS = ["FILE", "PATH", "DIR", "FILES", "URL", "URI", "ENDPOINT"]
WORD = st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=8)
# High-entropy values: letters and digits with at least one of each, long enough to be a key;
# starting with a letter (so never a number, a quantity or a path, and never read as the
# next option after `--token`).
SECRET = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=12, max_size=40) \
    .filter(lambda s: s[0].isalpha() and any(c.isdigit() for c in s))
BOOLEANS = ["true", "false", "True", "FALSE", "yes", "no", "on", "off", "y", "n", "Y", "N"]
SETTING = st.one_of(
    st.sampled_from([*BOOLEANS, "enabled", "disabled", "none", "auto", "debug", "passthrough"]),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.tuples(st.integers(0, 10**6), st.sampled_from(["s", "m", "h", "ms", "Mi", "Gi", ""]))
    .map(lambda t: f"{t[0]}{t[1]}"),
    st.lists(st.text(alphabet=string.ascii_lowercase + string.digits + "_.-", min_size=1,
                     max_size=10), min_size=1, max_size=5).map(lambda p: "/" + "/".join(p)),
    st.from_regex(r"\$\([A-Z_][A-Z0-9_]{0,15}\)", fullmatch=True),
)


def _name(prefix: list[str], word: str, suffix: list[str]) -> str:
    return "_".join([*prefix, word, *suffix])


@SETTINGS
@given(st.lists(WORD, max_size=2), st.sampled_from(CREDENTIAL_WORDS), SECRET)
def test_credential_name_with_a_secret_value_is_a_credential(
        prefix: list[str], word: str, value: str) -> None:
    name = _name(prefix, word, [])
    assert credential_reason(name, value) is not None
    assert credential_reason(name, None) is not None  # value unknown: the name decides


@SETTINGS
@given(st.lists(WORD, max_size=2), st.sampled_from(CREDENTIAL_WORDS), SETTING)
def test_a_setting_is_never_a_credential(prefix: list[str], word: str, value: str) -> None:
    # ENABLE_TOKEN_PASSTHROUGH: "true", TOKEN_TTL: 3600, DB_PASSWORD: /mnt/secrets/db ...
    assert credential_reason(_name(prefix, word, []), value) is None
    assert is_setting(value)


@SETTINGS
@given(st.lists(WORD, max_size=2), st.sampled_from(CREDENTIAL_WORDS),
       st.sampled_from(POINTERS), SECRET)
def test_a_pointer_name_is_not_a_credential(prefix: list[str], word: str, pointer: str,
                                            value: str) -> None:
    name = _name(prefix, word, [pointer])
    assert not credential_name(name)
    assert credential_reason(name, value) is None


@SETTINGS
@given(st.sampled_from(["postgres", "mysql", "redis", "amqp", "mongodb+srv", "https"]),
       st.text(alphabet=string.ascii_letters + string.digits, max_size=8), SECRET,
       st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,10}){0,2}(:[0-9]{2,5})?", fullmatch=True),
       st.sampled_from(["LOG_LEVEL", "DATABASE_URL", "UPSTREAM", "X"]))
def test_a_uri_with_a_password_is_a_credential_whatever_the_name(
        scheme: str, user: str, password: str, host: str, name: str) -> None:
    uri = f"{scheme}://{user}:{password}@{host}/db"
    assert credential_reason(name, uri) is not None
    assert credential_reason(name, f"{scheme}://{user}@{host}/db") is None
    assert credential_reason(name, f"{scheme}://{user}:$(DB_PASSWORD)@{host}/db") is None


@SETTINGS
@given(st.text(max_size=200), st.text(max_size=200))
def test_arbitrary_text_never_raises(name: str, value: str) -> None:
    reason = credential_reason(name, value)
    assert reason is None or isinstance(reason, str)


@SETTINGS
@given(st.lists(st.one_of(st.text(max_size=60), st.integers(), st.none()), max_size=8))
def test_arbitrary_arguments_never_raise(args: list[object]) -> None:
    found = argument_reasons(args)
    assert all(0 <= index < len(args) for index, _ in found)
    assert [i for i, _ in found] == sorted({i for i, _ in found})


HARMLESS = st.lists(st.sampled_from(["--port", "8000", "--transport", "stdio", "-v",
                                     "--max-tokens=4096", "serve", "--token-file=/run/t"]),
                    max_size=4)


@SETTINGS
@given(HARMLESS, HARMLESS, st.sampled_from(["token", "password", "api-key", "client-secret"]),
       SECRET, st.booleans())
def test_a_credential_option_is_found_at_its_index(
        before: list[str], after: list[str], option: str, value: str, joined: bool) -> None:
    assert argument_reasons(before + after) == []
    middle = [f"--{option}={value}"] if joined else [f"--{option}", value]
    found = argument_reasons([*before, *middle, *after])
    assert [i for i, _ in found] == [len(before) + len(middle) - 1]


@pytest.mark.parametrize(("value", "what"), [
    ("Authorization: Bearer eyJhbGciOi.x1", "Bearer"),
    ("Basic dXNlcjpwYXNzd29yZA==", "Basic"),
    ("host=db port=5432 password=hunter2 sslmode=require", "password="),
    ("Server=db;Database=app;User Id=app;Pwd=hunter2;", "password="),
    ("ghp_" + "a1B2c3D4e5" * 4, "GitHub"),
    ("github_pat_" + "A1b2C3d4E5" * 4, "GitHub"),
    ("glpat-" + "A1b2C3d4E5" * 2, "GitLab"),
    ("xoxb-1234567890-abcdef", "Slack"),
    ("AKIAIOSFODNN7EXAMPLE", "AWS"),
    ("sk-proj-" + "A1b2C3d4E5" * 3, "sk-"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "JSON Web Token"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", "PEM"),
])
def test_values_that_are_credentials(value: str, what: str) -> None:
    reason = value_reason(value)
    assert reason is not None and what.lower() in reason.lower(), reason


@pytest.mark.parametrize("value", [
    "https://example.com/path", "Bearer authentication", "password=$(DB_PASSWORD)",
    "task-runner-0123456789abcdefghij", "info", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 user@host",
])
def test_values_that_are_not_credentials(value: str) -> None:
    assert value_reason(value) is None


@pytest.mark.parametrize(("args", "index"), [
    (["sh", "-c", "exec server --token=abc123def456"], 2),
    (["env", "GITHUB_TOKEN=abc123def456", "server"], 1),
    (["curl", "-H", "Authorization: Bearer abc123def456", "https://x"], 2),
    (["--password", "--port", "8000"], None),  # no value follows the option
    (["curl", "-H", "Authorization: token ghp_x1234567", "https://x"], 2),
    (["curl", "-H", "X-API-Key: abc123def456", "https://x"], 2),
    (["curl", "-H", "Content-Type: application/json", "https://x:8443/p"], None),
    (["--help-text", "see the Authorization: header docs"], None),
])
def test_argument_forms(args: list[str], index: int | None) -> None:
    assert [i for i, _ in argument_reasons(args)] == ([] if index is None else [index])


# Issue 20 item 5: identifiers around a credential are published, not secret.
@pytest.mark.parametrize("name", ["DB_SECRET_ARN", "KMS_KEY_ID", "JWT_ISSUER", "JWT_AUDIENCE",
                                  "OAUTH_TOKEN_AUDIENCE", "API_KEY_HEADER", "KEY_VAULT_NAME",
                                  "PUBLIC_KEY", "JWT_PUBLIC_KEY", "CACHE_KEY_PREFIX",
                                  "PAT_SCOPES"])
def test_identifiers_are_not_credentials(name: str) -> None:
    assert credential_reason(name, "arn:aws:secretsmanager:eu-west-1:1:secret:db-AbC123") is None
    assert credential_reason(name, None) is None


@pytest.mark.parametrize("name", ["DB_SECRET", "KMS_KEY", "JWT_SECRET", "OAUTH_TOKEN", "API_KEY",
                                  "PRIVATE_KEY", "GITHUB_PAT", "CLIENT_SECRET"])
def test_the_credentials_next_to_them_still_are(name: str) -> None:
    assert credential_reason(name, "abc123XYZ456def") is not None


def test_a_shell_line_reading_a_file_is_not_a_literal() -> None:
    line = 'REDIS_PWD="$(cat "$REDIS_PWD_FILE")" exec redis-server --requirepass "$REDIS_PWD"'
    assert argument_reasons(["sh", "-c", line]) == []
    assert argument_reasons(["sh", "-c", "TOKEN=${FROM_ENV} exec server"]) == []
    # The literal next to it is still found.
    assert [i for i, _ in argument_reasons(["sh", "-c", "REDIS_PWD=hunter2secret9 exec r"])] \
        == [2]


# --- identifiers are not secrets (issue 20, item 5) ---------------------------------------------

@pytest.mark.parametrize("name", [
    "DB_SECRET_ARN", "KMS_KEY_ID", "JWT_ISSUER", "JWT_AUDIENCE", "OAUTH_TOKEN_AUDIENCE",
    "API_KEY_HEADER", "KEY_VAULT_NAME", "PUBLIC_KEY", "CACHE_KEY_PREFIX", "PAT_SCOPES",
    "AWS_ACCESS_KEY_ID", "JWT_PUBLIC_KEY", "SECRET_NAME",
])
def test_an_identifier_about_a_credential_is_not_one(name: str) -> None:
    # Values such identifiers hold: an ARN, a key id, a URL, a header name, a PEM public key.
    for value in ("arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbC",
                  "1234abcd-12ab-34cd-56ef-1234567890ab", "https://login.example.com/realms/mcp",
                  "X-API-Key", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----",
                  "mcp:", "repo,read:org"):
        assert credential_reason(name, value) is None, (name, value)


@pytest.mark.parametrize(("name", "value"), [
    ("DB_PASSWORD", "hunter2hunter2"), ("API_KEY", "abcdef123456"), ("JWT_SECRET", "s3cr3t-value"),
    ("GITHUB_TOKEN", "abcdefgh12345678"), ("PRIVATE_KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
    ("SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
])
def test_a_credential_is_still_one(name: str, value: str) -> None:
    assert credential_reason(name, value) is not None


def test_a_literal_credential_under_an_identifier_name_is_still_found_by_its_value() -> None:
    assert credential_reason("KMS_KEY_ID", "ghp_" + "a" * 36) == "a GitHub token"


@pytest.mark.parametrize("line", [
    'REDIS_PWD="$(cat "$REDIS_PWD_FILE")" exec server',
    "TOKEN=$(cat /mnt/secrets/token) exec server",
    "API_KEY=${API_KEY_FROM_ENV} server",
    "DB_PASSWORD=$DB_PASSWORD server --flag",
])
def test_a_shell_line_that_reads_a_secret_from_elsewhere_is_not_a_literal(line: str) -> None:
    assert argument_reasons(["/bin/sh", "-c", line]) == []


def test_a_shell_line_with_a_literal_secret_is_found() -> None:
    assert argument_reasons(["/bin/sh", "-c", "REDIS_PWD=hunter2hunter2 exec server"]) == [
        (2, "REDIS_PWD is given a literal credential")]


def test_new_accepts_identifiers_in_env_and_check_does_not_flag_them() -> None:
    # The same detector behind `new` (env values) and MCP-SEC-003 (`check`).
    from scaffold import values
    from scaffold.errors import ValuesError
    from scaffold.policy import evaluate
    from scaffold.render import render

    from support import EXAMPLES

    raw = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
    raw["env"] = {"DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbC",
                  "JWT_ISSUER": "https://login.example.com/realms/mcp",
                  "API_KEY_HEADER": "X-API-Key", "PAT_SCOPES": "repo,read:org",
                  "CACHE_KEY_PREFIX": "mcp:", "KEY_VAULT_NAME": "kv-demo-01"}
    v = values.validate(raw)
    docs = [d for f in render(v) if f.is_manifest for d in yaml.safe_load_all(f.text) if d]
    assert not [f for f in evaluate(docs) if f.rule == "MCP-SEC-003"]
    raw["env"] = {"DB_PASSWORD": "hunter2hunter2"}
    with pytest.raises(ValuesError) as caught:
        values.validate(raw)
    assert [p.key for p in caught.value.problems] == ["env.DB_PASSWORD"]
