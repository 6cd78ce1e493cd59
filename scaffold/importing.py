"""`new --from FILE|NAME` and `catalog`: a server description (serverjson) turned into raw
values for the `new` pipeline, and the catalog listed (DESIGN.md, "Importing a server
description").

Order of precedence, key by key: the --values file, then what the user answers, then the
description. What the description cannot decide comes back as questions; the wizard asks them
first, or --no-input takes their defaults and fails naming the rest.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any, TextIO

from . import keypath, serverjson
from . import values as values_mod
from .errors import MissingAnswersError, Problem, ProblemCode, ValuesError
from .safetext import printable
from .serverjson import Hint, Question

# Keys an import may produce that this version's values schema may not define (they arrive
# with Contract v2). Without the key the base does exactly what the value says, so it is left
# out rather than refused. Inert once the schema defines the key.
_IMPLIED = {"transport": "streamable-http"}
# Keys nothing in a base without them reads (the MCP endpoint's path only feeds v2 probes,
# README and tests): left out with a note while the schema does not define them.
_UNREAD = ("path",)
_VARIABLE = re.compile(r"\{[A-Za-z0-9_.-]+\}")


@dataclass
class Imported:
    """Raw values (the description under --values), the questions still open, and where the
    values came from (the source problems are reported against)."""

    raw: dict[str, Any]
    questions: list[Question]
    source: str


# The ports a description may open to a named host by itself: HTTP and HTTPS (and HTTPS's
# usual alternative), which is how an MCP server calls a web API. Any other port (SMTP, SSH,
# a database, a range) is a channel the user grants, not the server's author (DESIGN.md,
# "Imported descriptions are untrusted input").
HOST_PORTS = frozenset({80, 443, 8443})
# Top-level keys an import may never decide: they say what the server is allowed.
# rbac carries clusterWide and its reason (the skip annotation `check` honours).
_PRIVILEGES = ("rbac", "cloudIdentity")


def _egress_privilege(rule: dict[str, Any]) -> bool:
    """A rule beyond a named host on HTTP(S): any CIDR (the internet included), other ports."""
    return "host" not in rule or not set(rule.get("ports", [])) <= HOST_PORTS


def _privileges(imported: dict[str, Any], asks: list[Question | Hint]
                ) -> tuple[dict[str, Any], list[Question | Hint], list[tuple[str, str]]]:
    """The description's values and asks without the privileges it asks for, and those
    privileges: (values key, what was asked for) for the refusal to name."""
    out = dict(imported)
    asked: list[tuple[str, str]] = []
    for key in _PRIVILEGES:
        if key in out:
            asked.append((key, json.dumps(out.pop(key), sort_keys=True)))
    clouds = [a for a in asks if isinstance(a, Question) and a.key.startswith("cloudIdentity.")]
    asked += [("cloudIdentity", f"a cloud identity ({a.key})") for a in clouds]
    rules = out.get("externalEgress", [])
    wide = [r for r in rules if _egress_privilege(r)]
    if wide:
        asked.append(("externalEgress", json.dumps(wide, sort_keys=True)
                      + f" (a description may ask only for named hosts on ports"
                        f" {', '.join(map(str, sorted(HOST_PORTS)))})"))
        del out["externalEgress"]
    dropped = {id(a) for a in clouds}  # the user's cloudIdentity picks its own provider
    if wide:  # the "internet is open" note is about the egress refused here
        dropped |= {id(a) for a in asks if isinstance(a, Hint) and a.key == "externalEgress"}
    return out, [a for a in asks if id(a) not in dropped], asked


def _refuse_privileges(asked: list[tuple[str, str]], given: dict[str, Any], source: str) -> None:
    """Privileges come only from the user's values: each one the description asks for and the
    values file does not give is refused, naming the key to put there. (Interactively too: the
    wizard has no step that shows a privilege and asks to confirm it.)"""
    problems = [Problem(key, f"the description asks for {printable(what)}; an imported"
                        " description cannot grant privileges: give it in your --values file"
                        " if you grant it")
                for key, what in asked if key not in given]
    if problems:
        raise ValuesError(problems, source)


def _known(key: str) -> bool:
    return key in values_mod.schema().get("properties", {})


def _fit(imported: dict[str, Any], asks: list[Question | Hint]
         ) -> tuple[dict[str, Any], list[Question | Hint]]:
    """Leave out the keys the schema lacks whose absence changes nothing (see _IMPLIED/_UNREAD)."""
    out = dict(imported)
    kept: list[Question | Hint] = []
    for key, value in _IMPLIED.items():
        if not _known(key) and out.get(key) == value:
            del out[key]
    for key in _UNREAD:
        if _known(key):
            continue
        if key in out:
            kept.append(Hint(key, f"{json.dumps(out.pop(key))} is not kept: this version's values"
                             f" have no `{key}` key (nothing in the base reads it)"))
        asks = [a for a in asks if not (isinstance(a, Question) and a.key == key)]
    return out, [*asks, *kept]


def _where(desc_source: str, ask: Question | Hint) -> str:
    return ": ".join(p for p in (desc_source, ask.source or ask.key) if p)


def _unknown_keys(imported: dict[str, Any], given: dict[str, Any], questions: list[Question],
                  source: str) -> None:
    """Refuse before any question what this version cannot deploy: keys the description maps to,
    or asks for, that the values schema does not define (Contract v2 keys). Keys the --values
    file adds are judged later, with the rest of that file."""
    found = {p.key for p in values_mod.schema_problems(serverjson.merge(imported, given))
             if p.code is ProblemCode.UNKNOWN_KEY and serverjson._answered(imported, p.key)}
    found |= {q.key for q in questions if not _known(re.split(r"[.\[]", q.key)[0])}
    if found:
        raise ValuesError([Problem(key, "the description needs this key, which this version of"
                                   " mcp-scaffold's values do not have") for key in found], source)


def prepare(from_: str, given: dict[str, Any], values_path: str | None, err: TextIO) -> Imported:
    """Load the description, map it, put --values over it, print its notes on err."""
    desc = serverjson.load(from_)
    imported, asks = serverjson.to_values(desc)
    imported, asks = _fit(imported, asks)
    imported, asks, asked = _privileges(imported, asks)
    _refuse_privileges(asked, given, desc.source)
    raw = serverjson.merge(imported, given)
    questions = serverjson.remaining(asks, raw)
    _unknown_keys(imported, given, questions, desc.source)
    for ask in asks:
        if isinstance(ask, Hint) and not (ask.key and serverjson._answered(given, ask.key)):
            err.write(f"mcp-scaffold: note: {printable(_where(desc.source, ask))}:"
                      f" {printable(ask.message)}\n")
    source = f"{values_path} over {desc.source}" if values_path else desc.source
    return Imported(raw, questions, source)


def fill(template: str | None, answer: str) -> str:
    """The value an answer gives: with a template holding exactly one {variable}, the answer
    is that variable's value; otherwise the answer is the whole value."""
    if template and len(_VARIABLE.findall(template)) == 1:
        return _VARIABLE.sub(lambda _: answer, template)
    return answer


def image_answer(template: str | None, answer: str) -> str:
    """A digest question's answer: a whole reference, or just `sha256:<hex>` (or `@sha256:...`)
    pinned onto the description's tag-only reference (minus a `latest` tag, which says nothing
    about what the digest pins)."""
    answer = answer.strip()
    if template and re.fullmatch(r"@?sha256:\S*", answer):
        base = re.sub(r":latest$", "", template)
        return f"{base}@{answer.removeprefix('@')}"
    return answer


def _missing(q: Question) -> Problem:
    where = f" ({q.source})" if q.source else ""
    if q.kind == "digest" and q.template:
        return Problem(q.key, f"tag-only {q.template} needs its digest{where}: give {q.key} with"
                       " @sha256:<64 hex> in --values")
    if q.key.startswith("args["):
        return Problem(q.key, f"{q.template} needs a value{where}: give the whole args list in"
                       " --values (it replaces the imported one)")
    return Problem(q.key, f"is missing{where}; nobody can be asked (no terminal or --no-input):"
                   " give it in --values")


def answer_defaults(imp: Imported) -> dict[str, Any]:
    """--no-input: each open question takes its default; MissingAnswersError names every one
    without, and every key the values schema still requires, at once."""

    raw = copy.deepcopy(imp.raw)
    missing: list[Problem] = []
    for q in imp.questions:
        if q.default is None:
            missing.append(_missing(q))
        else:
            keypath.set_at(raw, q.key, fill(q.template, q.default))
    if missing:
        named = {p.key for p in missing}
        hint = "is missing; nobody can be asked (no terminal or --no-input): give it in --values"
        missing += [Problem(p.key, hint, ProblemCode.REQUIRED)
                    for p in values_mod.schema_problems(raw)
                    if p.code is ProblemCode.REQUIRED and p.key not in named]
        raise MissingAnswersError(missing, imp.source)
    return raw


# --- catalog ---------------------------------------------------------------------------------


def catalog_entries() -> list[dict[str, Any]]:
    """Each built-in entry: name, description, source repo, the transport it is deployed with,
    and the keys it still needs from the user."""
    from . import catalog

    out = []
    for name, description, repo in catalog.summary():
        imported, asks = serverjson.to_values(serverjson.load(name))
        needs = [{"key": q.key, "kind": q.kind, "default": q.default}
                 for q in serverjson.remaining(asks, imported)]
        if imported.get("transport") == "stdio" and "bridge" not in imported:
            # Not a question the wizard can answer yet: the bridge image is the user's choice.
            needs.append({"key": "bridge", "kind": "text", "default": None})
        out.append({"name": name, "description": description, "source": repo,
                    "transport": imported.get("transport", "streamable-http"), "needs": needs})
    return out


def _need(need: dict[str, Any]) -> str:
    return need["key"] if need["default"] is None else f"{need['key']} (default {need['default']})"


def catalog_text(fmt: str) -> str:
    entries = catalog_entries()
    if fmt == "json":
        return json.dumps(entries, indent=2) + "\n"
    width = max(len(e["name"]) for e in entries)
    lines = []
    for e in entries:
        lines.append(f"{e['name']:<{width}}  {e['description']}")
        lines.append(f"{'':<{width}}  source: {e['source']}; transport: {e['transport']};"
                     f" needs: {', '.join(map(_need, e['needs'])) or 'nothing'}")
    lines.append("")
    lines.append("Deploy one with: mcp-scaffold new --from NAME [--values FILE]")
    return "\n".join(lines) + "\n"
