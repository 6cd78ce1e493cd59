"""The one credential detector: `new` refuses what it finds in values, `check` flags it in
manifests (env values, ConfigMap data, container command and args).

A credential is recognised by its value where the value says so (a password in a URI's
userinfo, a bearer string, a well-known token format, a PEM private key), and by its name
where the name says so (GITHUB_TOKEN, DB_PASSWORD, *_PAT) unless the value is plainly a
setting: a boolean, a number or duration, a path, a short enum-like word, or a reference to
another env var. So ``ENABLE_TOKEN_PASSTHROUGH: "true"`` is a flag, not a credential.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

# Words that mark a credential, matched on whole name parts so MAX_TOKENS or TOKENIZER pass,
# and as the end of a run-together part (GITHUBTOKEN, DBPASSWORD) for the unambiguous ones.
_CREDENTIAL_WORDS = frozenset({
    "password", "passwd", "pwd", "pass", "pat", "secret", "token", "jwt", "bearer",
    "credential", "credentials", "apikey", "key", "privatekey", "passphrase",
})
_CREDENTIAL_ENDINGS = ("password", "passwd", "secret", "token", "credential", "credentials",
                       "apikey", "privatekey", "passphrase")
# A last name part that makes the name a pointer to a credential, not the credential itself:
# the bundle's own NAME_FILE pattern, directories, and where to fetch one.
_POINTER_SUFFIXES = frozenset({"file", "path", "dir", "files", "url", "uri", "endpoint"})
_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# A last name part that makes the name an identifier of or around a credential, which is
# published, not kept secret: an ARN or key ID names the secret (DB_SECRET_ARN, KMS_KEY_ID),
# a JWT issuer or audience is a URL or string every verifier knows (JWT_ISSUER,
# OAUTH_TOKEN_AUDIENCE), a header or vault name says where (API_KEY_HEADER, KEY_VAULT_NAME),
# a prefix or scopes are settings (CACHE_KEY_PREFIX, PAT_SCOPES).
_IDENTIFIER_SUFFIXES = frozenset({
    "arn", "id", "ids", "kid", "issuer", "iss", "audience", "audiences", "aud", "header",
    "headers", "name", "names", "prefix", "scope", "scopes", "region", "alg", "algorithm",
    "type", "version",
})
# A key that is public by name (PUBLIC_KEY, JWT_PUBLIC_KEY, PUBKEY): the other half of a
# key pair, published by design.
_PUBLIC_KEY = re.compile(r"(?:^|_)pub(?:lic)?_?key$")
# A value read at run time by the shell: a whole command substitution or parameter expansion
# (REDIS_PWD="$(cat "$REDIS_PWD_FILE")", TOKEN=${TOKEN_FROM_ENV}), not a literal.
_SHELL_READ = re.compile(r"\$\((?:[^()]|\([^()]*\))*\)|\$\{[A-Za-z_][A-Za-z0-9_]*\}"
                         r"|\$[A-Za-z_][A-Za-z0-9_]*|`[^`]*`")

# Values that are settings whatever the name: YAML 1.1 and common booleans, modes and
# auth scheme names (TOKEN_TYPE=bearer), log levels. Compared case-insensitively.
_SETTING_WORDS = frozenset({
    "true", "false", "yes", "no", "y", "n", "on", "off", "enabled", "disabled", "enable",
    "disable", "none", "null", "nil", "auto", "always", "never", "required", "optional",
    "strict", "lax", "passthrough", "bearer", "basic", "digest", "oauth", "oauth2", "jwt",
    "opaque", "header", "query", "cookie", "env", "file", "memory", "debug", "info", "warn",
    "warning", "error", "trace",
})
# Numbers, durations and quantities (TOKEN_TTL=1h, MAX_TOKEN_BYTES=4Ki).
_NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
                     r"(?:ns|us|ms|s|m|h|d|w|k|K|M|G|T|Ki|Mi|Gi|Ti)?")
# $(OTHER_VAR): Kubernetes expands it from another env var, so the text is not the value.
_ENV_REFERENCE = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[A-Za-z_][A-Za-z0-9_]*\}")

# scheme://user:password@host (RFC 3986 userinfo); an empty password or a $(VAR) placeholder
# is not a literal credential.
_URI_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:(?P<pw>[^\s/@]+)@")
# RFC 6750 / RFC 7617 credentials; a token of lowercase letters only is prose ("Bearer
# authentication"), not a credential.
_BEARER = re.compile(r"\b(?:Bearer|Basic)\s+(?P<tok>(?![a-z]+\b)[A-Za-z0-9._~+/=-]{8,})")
# An Authorization header line with any credential in it ("Authorization: token ghp_...").
_AUTH_HEADER = re.compile(r"(?i:\b(?:proxy-)?authorization)\s*:\s*(?:[A-Za-z]+\s+)?"
                          r"(?P<cred>(?![a-z]+\b)[A-Za-z0-9._~+/=-]{8,})")
# Another header whose name marks a credential ("X-API-Key: abc123").
_HEADER = re.compile(r"(?P<name>[A-Za-z][A-Za-z0-9-]*)\s*:\s*(?P<value>\S.*)", re.DOTALL)
# key=value connection strings (libpq, ODBC, JDBC properties): password=... inside the value.
_DSN_PASSWORD = re.compile(r"(?i)(?:^|[\s;&?])(?:password|passwd|pwd)\s*=\s*(?P<pw>[^\s;&]+)")
_KNOWN_TOKENS = (
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("an API secret key (sk-...)", re.compile(r"\bsk-(?:[a-z]+-)?[A-Za-z0-9_-]{20,}")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+")),
    ("a PEM private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")),
)
# An option or env assignment whose name can be judged: --token=x, -e TOKEN=x, TOKEN=x.
_OPTION = re.compile(r"(?P<dashes>-{1,2})(?P<name>[A-Za-z][A-Za-z0-9_.-]*)(?:=(?P<value>.*))?",
                     re.DOTALL)
_ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)", re.DOTALL)


def _parts(name: str) -> list[str]:
    return [p.lower() for p in _PARTS.findall(name)]


def credential_name(name: str) -> bool:
    """Whether an env var, ConfigMap key or option name marks a credential (not a pointer to
    one such as NAME_FILE or TOKEN_URL)."""
    parts = _parts(name)
    if not parts or parts[-1] in _POINTER_SUFFIXES or parts[-1] in _IDENTIFIER_SUFFIXES:
        return False
    if _PUBLIC_KEY.search("_".join(parts)):
        return False
    return any(p in _CREDENTIAL_WORDS or p.endswith(_CREDENTIAL_ENDINGS) for p in parts) \
        or "apikey" in name.lower()


def is_setting(value: str) -> bool:
    """Whether a value is plainly a setting, never a secret: empty, a boolean, a number,
    duration or quantity, an absolute path, a short enum-like word, or a $(VAR) reference."""
    text = value.strip()
    return (not text or text.lower() in _SETTING_WORDS or text.startswith("/")
            or _NUMBER.fullmatch(text) is not None or _ENV_REFERENCE.fullmatch(text) is not None)


def value_reason(value: str) -> str | None:
    """Why a value holds a credential whatever it is called, or None."""
    uri = _URI_PASSWORD.search(value)
    if uri and not _ENV_REFERENCE.fullmatch(uri["pw"]):
        return "a URI with a password in its userinfo (scheme://user:password@host)"
    bearer = _BEARER.search(value)
    if bearer and not _ENV_REFERENCE.match(bearer["tok"]):
        return f"an Authorization credential ({bearer[0].split()[0]} ...)"
    header = _AUTH_HEADER.search(value)
    if header and not is_setting(header["cred"]):  # a token, not prose about the header
        return "an Authorization header"
    dsn = _DSN_PASSWORD.search(value)
    if dsn and not is_setting(dsn["pw"]):
        return "a connection string with password=..."
    for what, pattern in _KNOWN_TOKENS:
        if pattern.search(value):
            return what
    return None


def credential_reason(name: str, value: str | None) -> str | None:
    """Why ``name`` = ``value`` is a credential written in clear text, or None.

    ``value`` None means "not known yet": the name alone decides. The one definition behind
    `new` (env values) and `check` (env values and ConfigMap data).
    """
    if value is not None:
        found = value_reason(value)
        if found:
            return found
    if not credential_name(name):
        return None
    if value is not None and is_setting(value):
        return None
    return f"a literal value under the credential name {name}"


def _tokens(args: Sequence[object]) -> list[tuple[int, str]]:
    # A shell command (`sh -c "server --token=abc"`) hides options inside one string: split
    # strings with spaces the way the shell would, keeping the index of the original item.
    out: list[tuple[int, str]] = []
    for index, item in enumerate(args):
        if not isinstance(item, str):
            continue
        out.append((index, item))
        if any(ch.isspace() for ch in item.strip()):
            try:
                words = shlex.split(item)
            except ValueError:
                words = item.split()
            out += [(index, word) for word in words]
    return out


def argument_reasons(args: Sequence[object]) -> list[tuple[int, str]]:
    """(index, why) for every item of a command/args list that carries a credential:
    ``--token=x``, ``--password x`` (two items), ``-e TOKEN=x``, a bearer string, a URI with
    a password. One entry per item, first reason found."""
    found: dict[int, str] = {}
    tokens = _tokens(args)
    for position, (index, word) in enumerate(tokens):
        if index in found:
            continue
        why = value_reason(word)
        # A string with spaces is judged by its shell words too (see _tokens): read whole as
        # one NAME=value, `REDIS_PWD="$(cat "$F")" exec redis` would be one long "value".
        split = any(ch.isspace() for ch in word.strip())
        option = None if split else _OPTION.fullmatch(word)
        assignment = None if split else _ASSIGNMENT.fullmatch(word)
        if why is None and option and option["value"] is not None:
            why = _named(option["name"], option["value"], word)
        elif why is None and option and credential_name(option["name"]):
            following = tokens[position + 1][1] if position + 1 < len(tokens) else None
            if following is not None and not following.startswith("-"):
                why = _named(option["name"], following, word)
                if why:
                    index = tokens[position + 1][0]
        elif why is None and assignment:
            why = _named(assignment["name"], assignment["value"], word)
        elif why is None and (header := _HEADER.fullmatch(word)):
            why = _named(header["name"], header["value"], word.split(":", 1)[0])
        if why and index not in found:
            found[index] = why
    return sorted(found.items())


def _named(name: str, value: str, word: str) -> str | None:
    if _SHELL_READ.fullmatch(value.strip()):  # read when the line runs, e.g. from a *_FILE
        return None
    # A shell word cut inside an unquoted substitution (TOKEN=$(cat /mnt/x) splits into
    # "TOKEN=$(cat" and "/mnt/x)"): it starts a read, it is no literal.
    if re.match(r"\$[({]|`", value.strip().lstrip('"')):
        return None
    if credential_name(name) and not is_setting(value):
        return f"{word.split('=', 1)[0]} is given a literal credential"
    return None
