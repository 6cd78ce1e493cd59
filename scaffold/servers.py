"""Many servers in one namespace: a values file with `servers:` holds the shared keys and a
list of servers, each of which inherits what it does not set.

Inheritance is a deep merge of the server over the shared keys: mappings merge key by key
(the server's value wins, recursively: `secrets: {files: {...}}` in a server keeps the shared
`secrets.provider` and `secrets.aws`), while lists and scalars are replaced whole (a server's
`externalEgress` or `args` replaces the shared one; nothing is appended). namespace,
kubernetesVersion and createNamespace belong to the namespace: set at the top only. Each
server is then checked as a complete single-server values file (createNamespace false: the
namespace is the tree's), and its problems are named `servers[i].key`. Shared provider
settings (`secrets.vault: {vaultAddress: ...}`) reach only the servers whose secrets.provider
is that provider, and may be partial (each server adds roleName, objects...)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from . import plan, providers
from . import values as values_mod
from .errors import Problem, ProblemCode, ValuesError

# Keys of the namespace, not of a server: one value for the whole tree.
NAMESPACE_KEYS = ("namespace", "kubernetesVersion", "createNamespace")
# The tree's directory holding the Namespace and its policies; no server may be called so.
NAMESPACE_DIR = "namespace"


@dataclass(frozen=True)
class Team:
    """Checked values of a tree: the shared keys (defaults filled) and every server's values
    after inheritance (complete single-server values, createNamespace false)."""

    shared: values_mod.Values
    servers: tuple[values_mod.Values, ...]
    answers: dict[str, Any]  # the file as given, written as the tree's values.yaml


def has_servers(raw: Any) -> bool:
    """True for a values file that lists servers (an empty list is a single server)."""
    return isinstance(raw, dict) and bool(raw.get("servers"))


def merge(shared: Any, server: Any) -> Any:
    """server over shared: mappings merge key by key, anything else is replaced."""
    if isinstance(shared, dict) and isinstance(server, dict):
        out = dict(shared)
        for key, value in server.items():
            out[key] = merge(shared[key], value) if key in shared else copy.deepcopy(value)
        return out
    return copy.deepcopy(server)


def _drop_unused_providers(merged: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    # Shared provider settings serve the servers that use that provider: a server using
    # another one (or none) does not inherit them. A block the server sets itself stays (and
    # is refused if its provider differs, as in a single-server file).
    secrets = merged.get("secrets")
    given = item.get("secrets")
    own: dict[str, Any] = given if isinstance(given, dict) else {}
    if not isinstance(secrets, dict):
        return merged
    provider = secrets.get("provider", "none")
    for name in providers.NAMES:
        if name != provider and name in secrets and name not in own:
            secrets = {k: v for k, v in secrets.items() if k != name}
    return {**merged, "secrets": secrets}


def inherited(shared: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """One server's values as checked: item over the shared keys (without `servers`), in a
    namespace the tree creates."""
    merged = _drop_unused_providers(
        merge({k: v for k, v in shared.items() if k != "servers"},
              {k: v for k, v in item.items() if k not in NAMESPACE_KEYS}), item)
    merged["createNamespace"] = False
    return dict(merged)


def _top_problems(raw: dict[str, Any]) -> list[Problem]:
    # The shared keys against the schema; name and image may be left to the servers.
    # Shared blocks may be partial (secrets.vault without the server's roleName): what is
    # required is judged on each server after inheritance.
    out = [p for p in values_mod.schema_problems(raw) if p.code is not ProblemCode.REQUIRED]
    if "name" in raw:
        out.append(Problem("name", "with servers, each server has its own name: set it as"
                           " servers[i].name"))
    return out


def _server_key(key: str, i: int, item: dict[str, Any], message: str) -> str:
    # A problem about a key the server set (or one it lacks) is the server's; one about an
    # inherited key is the shared key's, named once for every server.
    root = key.split(".", 1)[0].split("[", 1)[0]
    return f"servers[{i}].{key}" if root in item or message == "is required" or not key \
        else key


def validate(raw: dict[str, Any], source: str = "") -> Team:
    """Check a values file with servers; ValuesError names every problem (`servers[i].key`
    for a server's own keys)."""
    problems = _top_problems(raw)
    shared = {k: v for k, v in raw.items() if k != "servers"}
    checked: list[values_mod.Values] = []
    names: dict[str, int] = {}
    for i, item in enumerate(raw["servers"]):
        if not isinstance(item, dict):
            continue  # the schema said so
        for key in (*NAMESPACE_KEYS, "servers"):
            if key in item:
                problems.append(Problem(f"servers[{i}].{key}", "is set for the whole namespace:"
                                        " give it at the top level only"))
        name = item.get("name")
        if name == NAMESPACE_DIR:
            problems.append(Problem(f"servers[{i}].name", f"'{NAMESPACE_DIR}' names the tree's"
                                    " directory of the Namespace; choose another name"))
        elif isinstance(name, str) and name in names:
            problems.append(Problem(f"servers[{i}].name", f"{name!r} is also servers"
                                    f"[{names[name]}].name; each server needs its own"))
        elif isinstance(name, str) and name in plan.TREE_POLICY_NAMES:
            problems.append(Problem(f"servers[{i}].name", f"{name!r} names a NetworkPolicy of"
                                    " the tree's namespace/ base, which the server's own would"
                                    " replace; choose another name"))
        if isinstance(name, str):
            names.setdefault(name, i)
        merged = inherited(shared, item)
        try:
            checked.append(values_mod.validate(merged, source))
        except ValuesError as exc:
            problems += [Problem(_server_key(p.key, i, item, p.message), p.message, p.code)
                         for p in exc.problems]
    for name, i in names.items():
        owner = name.removesuffix(plan.CLOUD_IDENTITY_POLICY_SUFFIX)
        if owner != name and owner in names:
            problems.append(Problem(f"servers[{i}].name", f"{name!r} is the name of servers"
                                    f"[{names[owner]}]'s cloud-identity NetworkPolicy; choose"
                                    " another name"))
    if problems:
        raise ValuesError(sorted(set(problems), key=problems.index), source)
    return Team(shared=values_mod.with_defaults(shared), servers=tuple(checked),
                answers=copy.deepcopy(raw))


def warnings(team: Team) -> list[Problem]:
    """Each server's warnings, named as its problems are; one about an inherited key only
    when it holds for every server (a shared flavor that only some servers use is fine)."""
    out: list[Problem] = []
    per_server = []
    for i, (v, item) in enumerate(zip(team.servers, team.answers["servers"], strict=True)):
        found = [Problem(_server_key(p.key, i, item, p.message), p.message, p.code)
                 for p in values_mod.warnings(v)]
        per_server.append(set(found))
        out += found
    return [p for p in sorted(set(out), key=out.index)
            if p.key.startswith("servers[") or all(p in found for found in per_server)]


def name_collisions(files: list[Any], team: Team) -> list[Problem]:
    """Objects of a rendered tree that another object of the tree would replace (same kind,
    namespace and name: `kubectl apply` keeps one, `kubectl kustomize` of the tree fails). A
    server named `dns` or `default-deny` takes the name of the namespace's own policies, one
    named `x-cloud-identity` that of server x's identity egress. Judged on the objects as
    rendered, so every name a template makes is covered without a list of them here. The later
    server is named (the namespace's objects come first)."""
    from .yamlio import load_all

    owner: dict[tuple[str, str, str, str], str] = {}
    index = {v["name"]: i for i, v in enumerate(team.servers)}
    problems: list[Problem] = []
    for f in files:
        if not f.is_manifest or "/" not in f.path:
            continue
        directory = f.path.split("/", 1)[0]
        for doc in load_all(f.text, f.path):
            if not isinstance(doc, dict):
                continue
            meta = doc.get("metadata") or {}
            ident = (str(doc.get("apiVersion", "")).split("/")[0], str(doc.get("kind")),
                     str(meta.get("namespace", "")), str(meta.get("name")))
            first = owner.setdefault(ident, directory)
            if first != directory and directory in index:
                whose = ("the namespace's" if first == NAMESPACE_DIR else
                         f"server {first}'s")
                problems.append(Problem(
                    f"servers[{index[directory]}].name",
                    f"{directory!r} makes {ident[1]} {ident[3]}, the name of {whose} own"
                    f" {ident[1]}: one would replace the other; choose another name",
                    ProblemCode.CONFLICT))
    return list(dict.fromkeys(problems))
