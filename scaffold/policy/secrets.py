"""Secrets: nothing secret in etcd. No Secret objects with data, no secret env vars, no
credential-looking literals, and no SecretProviderClass syncing back into a Secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .model import Context, Hit, Rule, as_dict, as_list, hit, name_of

P = "secrets"
SECRET_OBJECT = Rule(
    "MCP-SEC-001", P, "high", "Secret object carries data",
    "Delete the Secret; keep the value in the external store and mount it through a Secrets "
    "Store CSI SecretProviderClass as a read-only file.",
)
SECRET_ENV = Rule(
    "MCP-SEC-002", P, "high", "Secret exposed as an environment variable",
    "Replace secretKeyRef/envFrom.secretRef with a read-only CSI (or secret) volume and pass "
    "the file path in a *_FILE variable.",
)
CREDENTIAL_LITERAL = Rule(
    "MCP-SEC-003", P, "high", "Credential-like environment variable with a literal value",
    "Move the value to the secret store, mount it as a file and set NAME_FILE to its path.",
)
SECRET_OBJECTS_SYNC = Rule(
    "MCP-SEC-004", P, "high", "SecretProviderClass syncs secrets into a Kubernetes Secret",
    "Remove spec.secretObjects; read the mounted files instead.",
)
CONFIGMAP_CREDENTIAL = Rule(
    "MCP-SEC-005", P, "high", "ConfigMap key looks like a credential",
    "Move the value out of the ConfigMap into the secret store and mount it as a file.",
)

RULES = (SECRET_OBJECT, SECRET_ENV, CREDENTIAL_LITERAL, SECRET_OBJECTS_SYNC, CONFIGMAP_CREDENTIAL)

# Words that mark a credential, matched on whole name parts so MAX_TOKENS or TOKENIZER pass,
# and as the end of a run-together part (GITHUBTOKEN, DBPASSWORD) for the unambiguous ones.
_CREDENTIAL_WORDS = {
    "password", "passwd", "pwd", "secret", "token", "jwt", "bearer", "credential",
    "credentials", "apikey", "key", "privatekey", "passphrase",
}
_CREDENTIAL_ENDINGS = ("password", "passwd", "secret", "token", "credential", "credentials",
                       "apikey", "privatekey", "passphrase")
# Names for a path to a file holding the value: the pattern the bundle itself uses.
_PATH_SUFFIXES = ("file", "path", "dir", "files")
_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _parts(name: str) -> list[str]:
    return [p.lower() for p in _PARTS.findall(name)]


def credential_name(name: str) -> bool:
    """Whether an env var or ConfigMap key name marks a credential (not a path to one).
    The one definition: `new` refuses such env names, `check` flags them with literal values."""
    parts = _parts(name)
    if not parts or parts[-1] in _PATH_SUFFIXES:
        return False
    return any(p in _CREDENTIAL_WORDS or p.endswith(_CREDENTIAL_ENDINGS) for p in parts) \
        or "apikey" in name.lower()


def looks_like_credential(name: str, value: Any) -> bool:
    """Whether ``name`` = ``value`` looks like a credential written in clear text."""
    if not credential_name(name):
        return False
    text = "" if value is None else str(value).strip()
    # Empty values, paths, numbers and switches are settings, not credentials.
    if not text or text.startswith("/") or text.lower() in ("true", "false"):
        return False
    return not re.fullmatch(r"[0-9]+", text)


def check(ctx: Context) -> Iterator[Hit]:
    """All secrets findings for the documents in ``ctx``."""
    for doc in ctx.of_kind("Secret"):
        keys = [*as_dict(doc.get("data")), *as_dict(doc.get("stringData"))]
        if keys:
            yield hit(SECRET_OBJECT, doc, "data",
                      f"Secret {name_of(doc)} stores {', '.join(map(str, keys))} in etcd")
    for doc in ctx.of_kind("SecretProviderClass"):
        if as_list(as_dict(doc.get("spec")).get("secretObjects")):
            yield hit(SECRET_OBJECTS_SYNC, doc, "spec.secretObjects",
                      f"SecretProviderClass {name_of(doc)} copies mounted secrets into "
                      "Kubernetes Secrets (etcd) through secretObjects")
    for doc in ctx.of_kind("ConfigMap"):
        for key, value in as_dict(doc.get("data")).items():
            if looks_like_credential(str(key), value):
                yield hit(CONFIGMAP_CREDENTIAL, doc, f"data[{key}]",
                          f"ConfigMap {name_of(doc)} key {key} looks like a credential")
    for w in ctx.workloads:
        for c in w.containers:
            where = f"{w.kind} {w.name} container {c.name}"
            for index, item in enumerate(as_list(c.spec.get("env"))):
                env = as_dict(item)
                ref = as_dict(as_dict(env.get("valueFrom")).get("secretKeyRef"))
                if ref:
                    yield hit(SECRET_ENV, w.doc, f"{c.path}.env[{index}].valueFrom.secretKeyRef",
                              f"{where} reads Secret {ref.get('name')!r} into env "
                              f"{env.get('name')}")
                elif "value" in env and looks_like_credential(
                    str(env.get("name", "")), env.get("value")
                ):
                    yield hit(CREDENTIAL_LITERAL, w.doc, f"{c.path}.env[{index}].value",
                              f"{where} env {env.get('name')} holds a literal credential-like "
                              "value")
            for index, item in enumerate(as_list(c.spec.get("envFrom"))):
                ref = as_dict(as_dict(item).get("secretRef"))
                if ref:
                    yield hit(SECRET_ENV, w.doc, f"{c.path}.envFrom[{index}].secretRef",
                              f"{where} loads every key of Secret {ref.get('name')!r} into env")
