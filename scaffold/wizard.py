"""The interactive wizard: ask for what the values do not answer, check every answer with the
values' own checks, show a summary, confirm.

Questions come from values.schema.json (title, description as help, default, enum -> select);
provider questions are driven by the schema of `secrets.<provider>`, so a provider added to the
schema is asked for without changes here. questionary and prompt_toolkit are imported inside the
functions that prompt: the non-interactive path never loads them.
"""

from __future__ import annotations

import contextlib
import copy
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

from . import conventions, providers, servers
from . import values as values_mod
from .errors import Interrupted, Problem, ProblemCode, ScaffoldError, ValuesError
from .keypath import MISSING as _MISSING
from .keypath import delete as _delete
from .keypath import get as _get
from .keypath import last as _last
from .keypath import parent as _parent
from .keypath import parts as _parts
from .keypath import schema_path as _schema_path
from .keypath import set_at as _set
from .keypath import under as _under

Values = values_mod.Values

# The image must be typed (or pasted) by the user: a default digest would pin someone else's.
_NO_DEFAULT = {"image"}
# Top-level questions in the order a newcomer thinks about them (the order).
_FIRST = ("name", "namespace", "image", "port", "replicas", "runtime", "transport",
          "ingress.namespace", "configMaps")
# How the server starts, beyond the image's own ENTRYPOINT/CMD: asked behind one yes/no (a
# stdio server always needs a bridge and its command, so those are asked outright).
_START = ("command", "args", "env", "path", "probes")
# The choice offered for an optional enum (e.g. azure.cloudName) to leave the key out.
_LEAVE_OUT = "(leave out)"
# What one entry of a repeatable list is called in "Add another ...?" when the title does not
# pluralise into it.
_ENTRY_NAMES = {
    "downstream": "downstream service",
    "externalEgress": "external egress rule (CIDR or host name, + ports)",
    "jmesPath": "JSON key to extract (jmesPath)",
}
# Keys asked only when their alternative was left out: an egress rule is a cidr or a host.
_ALTERNATIVES = {"externalEgress[].host": "cidr"}


class Declined(Interrupted):
    """The user said "no" at the final confirm: a deliberate abort, exit 130, nothing written."""

    def __init__(self) -> None:
        # Interrupted's message says Ctrl-C; this one says what really happened.
        ScaffoldError.__init__(self, "not confirmed; nothing was written (run again to change"
                                     " the answers)")


# --- key paths (scaffold/keypath.py) and the schema under them ------------------------------------


def _node(path: str) -> dict[str, Any]:
    return values_mod.schema() if not path else values_mod.subschema(_schema_path(path))


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    if not ref.startswith("#/$defs/"):
        return node
    return {**values_mod.schema()["$defs"][ref.removeprefix("#/$defs/")],
            **{k: v for k, v in node.items() if k != "$ref"}}


def _kind(node: dict[str, Any]) -> str:
    """How a schema node is asked: enum, boolean, integer, string, list (of scalars), map,
    object (with properties) or objects (a list of them)."""
    if "enum" in node:
        return "enum"
    kind = node.get("type", "string")
    if kind == "array":
        items = _deref(node.get("items", {}))
        return "objects" if items.get("type") == "object" or "properties" in items else "list"
    if kind == "object":
        return "object" if "properties" in node else "map"
    return str(kind)


def _unit(key: str) -> str:
    """The part of a problem's key path that one question answers: the first leaf, map or list
    of scalars on the way down ('secrets.files.X_FILE' -> 'secrets.files')."""
    parts = _parts(key)
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else (f"{path}.{part}" if path else part)
        if isinstance(part, int):
            continue
        try:
            kind = _kind(_node(path))
        except (KeyError, TypeError):
            return path
        if kind not in ("object", "objects"):
            return path
    return path


# --- parsing typed text into values --------------------------------------------------------------


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _parse(kind: str, node: dict[str, Any], text: str) -> Any:
    """The value text stands for; ValueError with the message to show if it cannot be read."""
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if kind == "list":
        items = _deref(node.get("items", {}))
        # "" stands for the empty string (the core API group in rbac.rules[].apiGroups).
        return [_parse(_kind(items), items, "" if p == '""' else p) for p in _split(text)]
    if kind == "map":
        out: dict[str, str] = {}
        for pair in _split(text):
            k, eq, v = pair.partition("=")
            if not eq or not k.strip():
                raise ValueError(f"{pair!r} is not key=value; write k=v,k=v")
            out[k.strip()] = v.strip()
        return out
    return text


def _show_default(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _env_name(file_name: str) -> str:
    """A *_FILE env var name suggested for a secret file ('db-password' -> DB_PASSWORD_FILE)."""
    base = re.sub(r"[^A-Za-z0-9]+", "_", file_name.rsplit("/", 1)[-1]).strip("_").upper()
    base = re.sub(r"_(PEM|JSON|TXT|KEY|CRT)$", r"_\1", base) or "SECRET"
    return ("_" + base if base[0].isdigit() else base) + "_FILE"


# --- prompts (thin wrappers: the only code that touches questionary) ------------------------------


def _help(text: str) -> None:
    from prompt_toolkit import print_formatted_text
    from prompt_toolkit.formatted_text import FormattedText

    # Through the app session's output, so help lands where the prompts do (stderr for --output -).
    print_formatted_text(FormattedText([("fg:ansibrightblack", text)]))


def _text(message: str, *, default: str, instruction: str | None,
          validate: Callable[[str], bool | str]) -> str:
    import questionary

    # Validate on Enter only: an error flashing while a digest is being pasted helps nobody.
    answer: str = questionary.text(message, default=default, instruction=instruction,
                                   validate=validate, validate_while_typing=False).unsafe_ask()
    return answer


def _select(message: str, choices: list[str], default: str | None) -> str:
    import questionary

    answer: str = questionary.select(message, choices=choices, default=default).unsafe_ask()
    return answer


def _confirm(message: str, default: bool) -> bool:
    import questionary

    answer: bool = questionary.confirm(message, default=default).unsafe_ask()
    return answer


@contextlib.contextmanager
def _terminal() -> Iterator[None]:
    """Prompts on stderr when stdout is redirected (`--output -`), so the YAML stream stays clean
    and the questions still reach the terminal. An app session set up by the caller (tests) wins."""
    from prompt_toolkit.application.current import create_app_session, get_app_session

    if get_app_session()._output is not None or sys.stdout.isatty() or not sys.stderr.isatty():
        yield
        return
    from prompt_toolkit.output import create_output

    with create_app_session(output=create_output(stdout=sys.stderr)):
        yield


# --- the wizard --------------------------------------------------------------------------------


class _Wizard:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.answers: dict[str, Any] = copy.deepcopy(raw)
        # Paths already asked, so an optional question left empty is not asked again when a
        # later problem sends the wizard round once more.
        self.asked: set[str] = set()
        # Questions asked so far: a round that re-asks nothing cannot fix its problems.
        self.count = 0
        # Before each question's title: whose question it is ('[fetch-mcp] ') in a servers: file.
        self.prefix = ""
        # Checks an answer beyond the values' own rules (the pipeline's: is deploy/<name> a
        # destination that may be written?), so a bad one is refused at its question, not after
        # the last one.
        self.extra_checks: dict[str, Callable[[Any], str | None]] = {}
        # The answer to "set the command line ...?" (None: not asked yet).
        self.start_opted: bool | None = None

    # state

    def answered(self, path: str) -> bool:
        return path in self.asked or _get(self.answers, path) is not _MISSING

    def forget(self, path: str) -> None:
        # An entry of a list is emptied, not removed: its questions are asked again at the same
        # index, and the entries after it keep theirs (removing it shifted them, and writing
        # the re-asked answer into the item that was gone crashed the wizard).
        if isinstance(_parts(path)[-1], int) and isinstance(_get(self.answers, path), dict):
            _set(self.answers, path, {})
        else:
            _delete(self.answers, path)
        self.asked = {p for p in self.asked if not _under(p, path)}

    def problems_under(self, prefix: str, answers: dict[str, Any] | None = None) -> list[Problem]:
        """Problems the whole values would have under prefix (the cross-field rules too). Only
        judged once the values pass the schema: before that the schema problems of questions
        still to come hide the semantic ones, and check_answer covers the answer itself."""
        try:
            values_mod.validate(self.answers if answers is None else answers)
        except ValuesError as exc:
            return [p for p in exc.problems if _under(p.key, prefix)]
        return []

    # the order of questions

    def ask_all(self) -> None:
        for path in _FIRST:
            self.ask(path)
            if path == "transport":
                self.ask_start()
        self.ask_optional_blocks()
        if self.answers.get("configMaps") or values_mod.has_rbac(self.answers):
            # Egress to the API server is only opened for API access.
            self.ask("apiServer.cidrs", required=True)
        self.ask("downstream")
        self.ask("externalEgress")  # and networkPolicy.flavor after a host rule
        self.ask("secrets.provider")
        provider = _get(self.answers, "secrets.provider")
        if isinstance(provider, str) and provider != providers.NONE:
            if provider in _node("secrets").get("properties", {}):
                self.ask(f"secrets.{provider}", required=True)
            self.ask_files(provider)
        self.ask("kubernetesVersion")

    def ask_start(self) -> None:
        """How the server starts: a stdio server's bridge and command (required), then, behind
        one question (default no), its command line, environment, MCP path and probes."""
        if self.answers.get("transport") == "stdio":
            self.ask("bridge", required=True)
            self.ask("command", required=True)
        if self.start_opted is None:
            if "transport" not in self.asked:
                # A values file that says how the server speaks has said how it starts.
                self.start_opted = False
            elif any(key in self.answers for key in _START if key != "command"):
                self.start_opted = True  # the values file has started on them: complete it
            else:
                self.count += 1
                self.start_opted = _confirm(
                    "Set the server's command line, environment, MCP path or health probes"
                    " (no: the image's own command and CMD, /mcp, TCP probes)?", default=False)
        if self.start_opted:
            for key in _START:
                self.ask(key)

    def ask_optional_blocks(self) -> None:
        """rbac and cloudIdentity: optional blocks, each behind a yes/no question (default no),
        asked with the other API questions when configMaps was asked here (a values file that
        answers configMaps is complete about API access). Their fields come from the schema."""
        if "configMaps" not in self.asked:
            return
        if "rbac" not in self.answers and "rbac" not in self.asked:
            self.asked.add("rbac")
            self.count += 1
            if _confirm("Does the server read the Kubernetes API beyond those ConfigMaps"
                        " (rbac: read-only rules, the view role, other namespaces)?",
                        default=False):
                _set(self.answers, "rbac", {})
                self.ask("rbac.rules")
                self.ask("rbac.namespaces")
                self.ask("rbac.clusterRole")
                if _confirm("Grant it cluster-wide (a ClusterRoleBinding, recorded as an"
                            " exception with your reason)?", default=False):
                    _set(self.answers, "rbac.clusterWide", {})
        if isinstance(self.answers.get("rbac"), dict):
            for part in ("rules", "namespaces", "clusterRole"):
                self.ask(f"rbac.{part}")
            if isinstance(self.answers["rbac"].get("clusterWide"), dict):
                self.ask("rbac.clusterWide.reason", required=True)
        if "cloudIdentity" not in self.answers and "cloudIdentity" not in self.asked:
            self.asked.add("cloudIdentity")
            self.count += 1
            if _confirm("Does the server itself call cloud APIs with its own identity"
                        " (cloudIdentity; not needed for the secret provider)?", default=False):
                clouds = list(_node("cloudIdentity")["properties"])
                cloud = _select("Which cloud identity", clouds, clouds[0])
                _set(self.answers, f"cloudIdentity.{cloud}", {})
        ident = self.answers.get("cloudIdentity")
        if isinstance(ident, dict):
            for cloud in ident:
                if cloud in _node("cloudIdentity")["properties"]:
                    self.ask(f"cloudIdentity.{cloud}", required=True)

    def ask(self, path: str, *, required: bool | None = None) -> None:
        """Ask for the value at path unless the values already hold it; for objects and lists of
        objects already there, ask only their missing parts."""
        node = _node(path)
        kind = _kind(node)
        if required is None:
            required = _last(path) in _node(_parent(path)).get("required", [])
        current = _get(self.answers, path)
        if kind == "object":
            if current is _MISSING:
                if not required and path in self.asked:
                    return
                _set(self.answers, path, {})
            if isinstance(_get(self.answers, path), dict):
                self.ask_properties(path, node)
            return
        if kind == "objects":
            if current is _MISSING and path not in self.asked:
                self.ask_loop(path, node, required)
            elif isinstance(current, list):
                for i in range(len(current)):
                    self.ask_properties(f"{path}[{i}]", _node(f"{path}[{i}]"))
            return
        if self.answered(path):
            return
        self.asked.add(path)
        self.count += 1
        value = self.prompt(path, node, kind, required)
        if value is not _MISSING:
            _set(self.answers, path, value)

    def ask_properties(self, path: str, node: dict[str, Any]) -> None:
        for name in node.get("properties", {}):
            other = _ALTERNATIVES.get(_schema_path(f"{path}.{name}"))
            if other and _get(self.answers, f"{path}.{other}") is not _MISSING:
                continue
            self.ask(f"{path}.{name}")
        if _schema_path(path) == "externalEgress[]" and _get(self.answers, f"{path}.host") \
                is not _MISSING:
            self.ask("networkPolicy.flavor")  # before the rule is judged: it decides
        self.settle(path, lambda: self.ask_properties(path, node))

    def settle(self, prefix: str, again: Callable[[], None]) -> None:
        """Cross-field rules on a finished section (a duplicate name, roleArn vs usePodIdentity):
        show each problem, forget the answers it names and ask those again."""
        problems = self.problems_under(prefix)
        if not problems:
            return
        for p in problems:
            _help(f"  ✗ {p}")
            self.forget(_unit(p.key))
        before = self.count
        again()
        if self.count == before:
            raise ValuesError(problems)

    def ask_loop(self, path: str, node: dict[str, Any], required: bool) -> None:
        """A list of objects: 'Add a ...?' (skipped while below minItems), then each field."""
        items: list[Any] = []
        self.count += 1
        _set(self.answers, path, items)
        self.asked.add(path)
        title = node.get("title") or _last(path)
        entry = _ENTRY_NAMES.get(_last(path)) or title.lower().removesuffix("s")
        if node.get("description"):
            _help(f"{title}: {node['description']}")
        while True:
            # minItems binds once the list exists: an optional list may still be left out.
            least = node.get("minItems", 0) if (required or items) else 0
            if len(items) >= least:
                article = "another" if items else ("an" if entry[0] in "aeiou" else "a")
                if not _confirm(f"Add {article} {entry}?", default=False):
                    if not items and "default" not in node:
                        # Left out rather than [], which a minItems would refuse.
                        _delete(self.answers, path)
                    return
            items.append({})
            _help(f"— {entry} {len(items)} —")
            self.ask_properties(f"{path}[{len(items) - 1}]", _node(f"{path}[]"))

    def prompt(self, path: str, node: dict[str, Any], kind: str, required: bool) -> Any:
        """One question for one leaf; the value, or _MISSING for an optional one left empty."""
        title = self.prefix + (node.get("title") or _last(path))
        if node.get("description"):
            _help(f"{title}: {node['description']}")
        default = node.get("default", _MISSING) if path not in _NO_DEFAULT else _MISSING
        if _schema_path(path) == "downstream[].namespace":
            # The schema's rule ("defaults to the server's namespace"), offered as the answer.
            default = self.answers.get("namespace", _MISSING)
        if kind == "enum":
            choices = [str(c) for c in node["enum"]]
            if not required and default is _MISSING:
                choice = _select(title, [_LEAVE_OUT, *choices], _LEAVE_OUT)
                return _MISSING if choice == _LEAVE_OUT else choice
            return _select(title, choices, None if default is _MISSING else str(default))
        if kind == "boolean":
            return _confirm(title, default=bool(default) if default is not _MISSING else False)
        hint = {"list": "(comma-separated)", "map": "(key=value, comma-separated)"}.get(kind)
        if not required and default is _MISSING:
            hint = f"{hint or ''} (optional: Enter to leave out)".strip()

        def read(text: str) -> Any:
            text = text.strip()
            if not text and kind not in ("list", "map"):
                if required:
                    raise ValueError("an answer is required")
                return _MISSING
            if not text and not required and default is _MISSING:
                return _MISSING
            return _parse(kind, node, text)

        def validate(text: str) -> bool | str:
            try:
                value = read(text)
            except ValueError as exc:
                return str(exc)
            if value is _MISSING:
                return True
            message = self.check(path, kind, value)
            return message if message else True

        text = _text(title, default="" if default is _MISSING else _show_default(default),
                     instruction=hint, validate=validate)
        return read(text)

    def check(self, path: str, kind: str, value: Any) -> str | None:
        """The values file's own checks on one answer: the key's schema and semantic rule, each
        item's, label syntax, then every cross-field rule about this key (once judgeable)."""
        spath = _schema_path(path)
        if kind == "list":
            for item in value:
                message = values_mod.check_answer(f"{spath}[]", item)
                if message:
                    return f"{item}: {message}"
        message = values_mod.check_answer(spath, value)
        if message:
            return message
        if kind == "map" and _last(path) in ("podLabels", "labels"):
            for k, v in value.items():
                message = values_mod.check_label_key(k) or values_mod.check_label_value(v)
                if message:
                    return message
        extra = self.extra_checks.get(path)
        message = extra(value) if extra else None
        if message:
            return message
        trial = copy.deepcopy(self.answers)
        _set(trial, path, value)
        problems = self.problems_under(path, trial)
        return problems[0].message if problems else None

    def ask_files(self, provider: str) -> None:
        """secrets.files: for each file the provider's objects produce, the *_FILE env var that
        gets its path (empty: the app does not need it)."""
        path = "secrets.files"
        if self.answered(path):
            return
        self.asked.add(path)
        self.count += 1
        node = _node(path)
        try:
            block = values_mod.with_defaults(self.answers)["secrets"][provider]
            produced = sorted(providers.get(provider).produced_files(block))
        except (KeyError, TypeError, ValueError):
            produced = []
        if not produced:
            # Nothing to list (an unknown provider module): one key=value question instead.
            value = self.prompt(path, node, "map", required=True)
            _set(self.answers, path, value)
            return
        files: dict[str, str] = {}
        _set(self.answers, path, files)
        _help(f"{node.get('title', path)}: {node.get('description', '')}")
        # A name ending in _FILE gets the file's path (secrets.files); any other name gets its
        # content (secrets.env), for servers that read a token only from the environment.
        contents: dict[str, str] = self.answers["secrets"].setdefault("env", {})
        for name in produced:

            def validate(text: str, name: str = name) -> bool | str:
                env = text.strip()
                if not env:
                    return True
                if env in files or env in contents:
                    return f"{env} already gets {files.get(env) or contents[env]!r}"
                trial = copy.deepcopy(self.answers)
                key = "files" if env.endswith("_FILE") else "env"
                trial["secrets"][key] = {**trial["secrets"][key], env: name}
                problems = self.problems_under(f"secrets.{key}.{env}", trial)
                if key == "env":
                    # The loader execs `command`, which the wizard does not ask: say so here.
                    problems += self.problems_under("command", trial)
                return problems[0].message if problems else True

            env = _text(f"Env var for the file {name!r}", default=_env_name(name),
                        instruction="(NAME_FILE: its path; NAME: its content; Enter on empty:"
                        " not exposed)", validate=validate).strip()
            if env.endswith("_FILE"):
                files[env] = name
            elif env:
                contents[env] = name
        if not contents:
            del self.answers["secrets"]["env"]

    # the end

    def complete(self, source: str) -> Values:
        self.reask_bad_answers(source)
        before = -1
        while True:
            self.ask_all()
            try:
                return values_mod.validate(self.answers, source)
            except ValuesError as exc:
                units = {_unit(p.key) for p in exc.problems}
                if self.count == before or not all(self.askable(u) for u in units):
                    raise
                before = self.count
                for p in exc.problems:
                    _help(f"  ✗ {p}")
                for unit in units:
                    self.forget(unit)

    def askable(self, unit: str) -> bool:
        """True if ask_all asks for unit (so forgetting it leads to a new question)."""
        provider = _get(self.answers, "secrets.provider")
        roots = [*_FIRST, "apiServer.cidrs", "downstream", "externalEgress", "networkPolicy",
                 "secrets.provider",
                 "secrets.files", "kubernetesVersion"]
        if "configMaps" in self.asked:
            roots += ["rbac", "cloudIdentity"]
        if isinstance(provider, str):
            roots.append(f"secrets.{provider}")
        # Only what ask_start asks again: forgetting anything else would drop the answer.
        if self.answers.get("transport") == "stdio":
            roots += ["bridge", "command"]
        if self.start_opted:
            roots += list(_START)
        return unit != "secrets" and any(_under(unit, r) for r in roots)

    def reask_bad_answers(self, source: str) -> None:
        """Answers from --values that break the schema: ask those again (saying why) when the
        wizard has a question for them; anything else must be fixed in the file, so fail before
        the first question rather than after the last."""
        bad = [p for p in values_mod.schema_problems(self.answers)
               if p.code is not ProblemCode.REQUIRED]  # missing: asked in turn, not again
        # The per-key semantic rules too (a tag-only image), as values.validate judges them.
        bad += values_mod.field_problems(self.answers, {p.key for p in bad})
        if not bad:
            return
        if not all(self.askable(_unit(p.key)) for p in bad):
            raise ValuesError(bad, source)
        for p in bad:
            _help(f"  ✗ {source}: {p} (asking again)")
            self.forget(_unit(p.key))


# --- summary -----------------------------------------------------------------------------------


def summary(v: Values) -> str:
    """A compact account of what the base will hold: the objects and the controls in force,
    read from the plan the base is rendered from (never re-derived from the values)."""
    from . import plan as plan_mod
    from .render import render

    bundle = plan_mod.build(v)
    server = bundle.servers[0]
    objects: list[str] = []
    for f in render(v):
        if f.is_manifest:
            for d in _documents(f.text):
                ns = d["metadata"].get("namespace")
                where = f"{ns}/" if ns and ns != server.namespace else ""
                objects.append(f"{d['kind']}/{where}{d['metadata']['name']}")
    net = server.network
    egress = [f"DNS (UDP+TCP 53 to {net.dns.namespace})"]
    if net.downstream:
        egress.append(f"{len(net.downstream)} downstream service(s)")
    for rule in net.external:
        egress.append(f"{rule.block.cidr} on {', '.join(map(str, rule.ports))}"
                      + (f" except {', '.join(rule.block.excepts)}" if rule.block.excepts else ""))
    for host in net.hosts:
        egress.append(f"host {host.host} on {', '.join(map(str, host.ports))} ({net.flavor})")
    api = server.api
    if api is not None:
        egress.append("the API server " + ", ".join(b.cidr for b in api.blocks))
    if net.identity is not None:
        egress.append(", ".join(f"{c}:{port}" for c, port in net.identity.targets)
                      + f" ({net.identity.why})")
    if api is None:
        token = "ServiceAccount token not mounted (automountServiceAccountToken: false)"
    else:
        grants = []
        if api.config_maps:
            grants.append(f"get/watch on ConfigMaps {', '.join(api.config_maps)}")
        if api.rbac is not None:
            grants.extend(f"{'/'.join(r.verbs)} on {','.join(r.resources)}" for r in api.rbac.rules)
            if api.rbac.cluster_role:
                grants.append(f"ClusterRole {api.rbac.cluster_role}")
            where = ("cluster-wide (acknowledged: " + api.rbac.cluster_wide_reason + ")"
                     if api.rbac.cluster_wide_reason else
                     "in namespace(s) " + ", ".join(api.rbac.namespaces))
            grants.append(where)
        token = (f"a {api.token_expiration_seconds}s projected ServiceAccount token;"
                 f" API access: {'; '.join(grants)}")
    if server.cloud is not None:
        token += f"; {server.cloud.cloud} identity ({server.cloud.mode})"
    secrets = ("no secrets" if server.secrets is None else
               f"{server.secrets.provider.name} through the Secrets Store CSI driver, read-only"
               f" files at {server.secrets.mount_path}"
               + (f" ({', '.join(f.env for f in server.secrets.files)})" if server.secrets.files
                  else "") + "; no Secret objects")
    lines = [
        f"Objects ({len(objects)}): " + ", ".join(objects),
        "Controls:",
        f"  - {token}",
        f"  - NetworkPolicy default deny; ingress only from namespace {net.ingress.namespace}"
        f" on port {net.ingress.port}; egress only to " + ", ".join(egress),
        f"  - Pod Security {conventions.POD_SECURITY_LEVEL} (v{server.kubernetes_version}):"
        f" runAsNonRoot as UID {server.pod.run_as_user}, no privilege escalation, all"
        " capabilities dropped, seccomp RuntimeDefault, read-only root filesystem",
        f"  - image pinned by digest: {server.image}",
        f"  - secrets: {secrets}",
    ]
    return "\n".join(lines) + "\n"


def _documents(text: str) -> list[dict[str, Any]]:
    from .yamlio import load_all

    return [d for d in load_all(text, "summary") if isinstance(d, dict)]


def complete(raw: dict[str, Any], source: str, *,
             check_name: Callable[[Any], str | None] | None = None,
             keep: Callable[[dict[str, Any]], None] | None = None) -> Values:
    """Ask, in a terminal, for every answer raw does not give; return the checked values.

    Each answer is checked as it is typed with the values file's own checks (errors shown
    inline, retype to fix), and the name also with check_name (where the base would go).
    Ends with a summary on stderr and a confirm (default yes). Raises Interrupted on Ctrl-C /
    Ctrl-D, Declined (also exit 130) if the user says no, and ValuesError for problems no
    question can fix — after handing the answers given so far to keep, so none is lost."""
    wizard = _Wizard(raw)
    if check_name is not None:
        wizard.extra_checks["name"] = check_name
    try:
        with _terminal():
            try:
                values = wizard.complete(source)
            except Interrupted:
                raise
            except ScaffoldError:
                if keep is not None and wizard.count:
                    keep(wizard.answers)
                raise
            sys.stderr.write("\n" + summary(values))
            sys.stderr.flush()
            if not _confirm("Write this base?", default=True):
                raise Declined()
    except (KeyboardInterrupt, EOFError):
        raise Interrupted() from None
    return values


# --- a servers: file (many servers in one namespace) ----------------------------------------------


def _missing(answers: dict[str, Any], i: int, source: str) -> list[str]:
    """The keys servers[i] still lacks after inheritance ('image', 'namespace' for a namespace
    key), as servers.validate names them; [] when it lacks nothing."""
    try:
        servers.validate(answers, source)
    except ValuesError as exc:
        prefix = f"servers[{i}]."
        return [p.key.removeprefix(prefix) for p in exc.problems
                if p.code is ProblemCode.REQUIRED and p.key.startswith(prefix)]
    return []


def _complete_server(answers: dict[str, Any], i: int, source: str) -> None:
    """Ask what servers[i] lacks after inheritance, each question prefixed with the server's
    name; the answers go into the server's own entry (a namespace key into the top level,
    where servers.validate wants it)."""
    while True:
        missing = _missing(answers, i, source)
        if not missing:
            return
        item = answers["servers"][i]
        name = item.get("name")
        for key in dict.fromkeys(_unit(k) for k in missing):
            top = key.split(".", 1)[0] in servers.NAMESPACE_KEYS
            wizard = _Wizard({k: v for k, v in answers.items() if k != "servers"} if top
                             else servers.inherited(answers, item))
            wizard.prefix = "" if top else f"[{name if isinstance(name, str) else i + 1}] "
            wizard.ask(key, required=True)
            value = _get(wizard.answers, key)
            if value is not _MISSING:
                _set(answers if top else item, key, value)
        if _missing(answers, i, source) == missing:
            # A round that settles nothing has no question for these keys: the file must
            # give them (validate names every problem).
            servers.validate(answers, source)
            return


def _new_server(answers: dict[str, Any], source: str) -> None:
    """A server appended to the list: its own name (not another server's, not the namespace
    directory's), then whatever it cannot inherit (its image at least)."""
    taken = {s.get("name") for s in answers["servers"] if isinstance(s, dict)}

    def validate(text: str) -> bool | str:
        name = text.strip()
        if name in taken:
            return f"{name!r} is already a server's name; each server needs its own"
        if name == servers.NAMESPACE_DIR:
            return f"'{servers.NAMESPACE_DIR}' names the tree's directory of the Namespace"
        return values_mod.check_answer("name", name) or True

    index = len(answers["servers"])
    name = _text(f"[server {index + 1}] Name", default="", instruction=None,
                 validate=validate).strip()
    answers["servers"].append({"name": name})
    _complete_server(answers, index, source)


def _team_summary(team: servers.Team) -> str:
    shared = team.shared
    lines = [f"Namespace {shared['namespace']} (Pod Security {conventions.POD_SECURITY_LEVEL},"
             f" default deny, DNS egress), {len(team.servers)} servers:"]
    for v in team.servers:
        lines.append(f"  - {v['name']}: {v['image']} (port {v['port']}, secrets"
                     f" {v['secrets']['provider']})")
    return "\n".join(lines) + "\n"


def complete_team(raw: dict[str, Any], source: str) -> servers.Team:
    """Ask, in a terminal, what each server of a servers: file lacks after inheritance, then
    offer more servers (default no); return the checked servers.Team after a summary and a
    confirm. Raises as complete() does; ValuesError for problems no question can fix."""
    answers = copy.deepcopy(raw)
    try:
        with _terminal():
            for i in range(len(answers["servers"])):
                _complete_server(answers, i, source)
            while _confirm("Add another server?", default=False):
                _new_server(answers, source)
            team = servers.validate(answers, source)
            sys.stderr.write("\n" + _team_summary(team))
            sys.stderr.flush()
            if not _confirm("Write this tree?", default=True):
                raise Declined()
    except (KeyboardInterrupt, EOFError):
        raise Interrupted() from None
    return team


# --- questions a server description leaves open (new --from) ------------------------------------


def _ask_imported(q: Any, answers: dict[str, Any]) -> Any:
    """One serverjson.Question; the value for q.key. A choice is a select; a digest is checked
    as the values file checks `image`; a "secret" question never asks for the secret's value
    (that stays in the secret store), only for the name it is stored under; text is parsed and
    checked like the schema's own question for that key, when the schema has one."""
    from .importing import fill, image_answer

    if q.kind == "choice":
        return fill(q.template, _select(q.prompt, list(q.choices), q.default))
    if q.kind == "digest":

        def check_image(text: str) -> bool | str:
            return values_mod.check_answer("image", image_answer(q.template, text)) or True

        return image_answer(q.template, _text(
            q.prompt, default="", validate=check_image,
            instruction="(paste sha256:<64 hex>, or the whole repo:tag@sha256:<64 hex>)"))
    if q.kind == "secret":
        _help(f"{q.key}: the secret's value is never asked or written; give the name of the"
              " secret-store object (or file) that holds it")
    try:
        node = _node(_schema_path(q.key)) if not q.template else {}
        kind = _kind(node) if node else "string"
    except (KeyError, TypeError):
        node, kind = {}, "string"
    if kind not in ("string", "integer", "list", "map"):
        node, kind = {}, "string"
    wizard = _Wizard(answers)
    many = bool(q.template) and len(re.findall(r"\{[A-Za-z0-9_.-]+\}", q.template)) > 1

    def read(text: str) -> Any:
        text = text.strip()
        if not text:
            raise ValueError("an answer is required")
        return _parse(kind, node, text) if node else fill(q.template, text)

    def validate(text: str) -> bool | str:
        try:
            value = read(text)
        except ValueError as exc:
            return str(exc)
        if not node:
            message = values_mod.check_control(str(value), free_text=True)
            if message:
                return message
            if many and re.search(r"\{[A-Za-z0-9_.-]+\}", value):
                return "replace every {variable}"
            return True
        return wizard.check(q.key, kind, value) or True

    default = q.default if q.default is not None else (q.template if many else "")
    return read(_text(q.prompt, default=default or "", validate=validate,
                      instruction="(fill in the {variable})" if q.template and not many else None))


def ask_imported(raw: dict[str, Any], questions: list[Any]) -> dict[str, Any]:
    """Ask, in a terminal, the questions a server description leaves open (before the schema's
    own questions, which complete() asks afterwards); raw with the answers set."""
    answers = copy.deepcopy(raw)
    try:
        with _terminal():
            for q in questions:
                _set(answers, q.key, _ask_imported(q, answers))
    except (KeyboardInterrupt, EOFError):
        raise Interrupted() from None
    return answers
