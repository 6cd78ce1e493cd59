"""Render checked values into the files of a Kustomize base: one Jinja2 template per file.

The plan (scaffold/plan.py) works out what the objects hold and which files the base has;
the templates lay it out. Every user value reaches the YAML through the |q filter (a
JSON-quoted scalar), |yaml or |document (a YAML dumper), so no value can add keys or change
type."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from . import codecache, plan, yamlio
from .values import Values


@dataclass(frozen=True)
class RenderedFile:
    """One file of the base: its name in the output directory, its text, and whether it holds
    Kubernetes objects kustomize applies (the plan's Manifest.resource: kustomization.yaml,
    values.yaml and the READMEs do not). Change a file's text with dataclasses.replace, which
    keeps the flag."""

    path: str
    text: str
    is_manifest: bool = False


# A plain (unquoted) scalar only where every YAML 1.1 and 1.2 reader agrees it is this string:
# starts with a letter, no ':', '#', spaces or flow characters, and is no boolean/null word.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9._/-]*")  # matched as a whole string (fullmatch)
_NOT_PLAIN = {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "nan", "inf"}


def _q(value: Any) -> str:
    # JSON is YAML: a quoted string cannot break out of its scalar, numbers stay numbers.
    if isinstance(value, bool | int) and not isinstance(value, float):
        return json.dumps(value)
    if not isinstance(value, str):
        raise TypeError(f"refusing to interpolate a {type(value).__name__}; use |yaml")
    # fullmatch: `$` also matches before a final newline, so "A\n" went out plain and YAML
    # read it back as "A" (0.2.0 dropped a trailing newline from env values, command and args).
    if _PLAIN.fullmatch(value) and value.lower() not in _NOT_PLAIN:
        return value
    return _UNPRINTABLE.sub(_escape, json.dumps(value, ensure_ascii=False))


# Characters YAML may not carry raw (or reads as line breaks inside a quoted scalar); JSON
# already escapes C0 controls. Escaped as \uXXXX, which a YAML double-quoted scalar decodes.
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _yaml(value: dict[str, Any], indent: int) -> str:
    # Embedded lists inside SecretProviderClass parameters are strings holding YAML that the
    # provider parses: dump them, then dump the mapping of strings.
    flat = {k: v if isinstance(v, str) else yamlio.dump(v) for k, v in value.items()}
    pad = " " * indent
    return "\n".join(pad + line if line else line for line in yamlio.dump(flat).splitlines())


def _document(value: Any) -> str:
    # A whole YAML document from the dumper (values.yaml): the structure is the dumper's.
    return yamlio.dump(value)


def _spaces(count: int) -> str:
    # Indentation only: an int, so it can carry nothing from the values.
    if not isinstance(count, int):
        raise TypeError("spaces takes an int")
    return " " * count


def _bytecode_cache(jinja2: Any, options: dict[str, Any]) -> Any:
    """Compiled templates on disk, so a new process skips compiling them (~30 ms). Jinja keys
    each entry by template path and source checksum (its magic by Jinja and Python version) and
    writes it atomically; the directory is keyed by the Jinja version and the options that
    change compiled code. MCP_SCAFFOLD_NO_CACHE=1, or an unwritable cache, disables it."""
    # Jinja's entries are pickles and code objects that run when loaded: the same rule as
    # codecache's (a directory of ours nobody else may write; here each entry as well).
    base = codecache.directory()  # None when disabled (MCP_SCAFFOLD_NO_CACHE) or not ours
    if base is None:
        return None
    key = hashlib.sha256(f"{jinja2.__version__} {sorted(options.items())}".encode()).hexdigest()
    directory = os.path.join(base, f"jinja-{key[:16]}")
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        st = os.stat(directory)
    except OSError:
        return None
    if not codecache.ours(st) or not os.access(directory, os.W_OK):
        return None

    class _Checked(jinja2.FileSystemBytecodeCache):  # type: ignore[misc]
        def load_bytecode(self, bucket: Any) -> None:
            try:
                entry = os.lstat(self._get_cache_filename(bucket))
            except OSError:
                return
            if stat.S_ISREG(entry.st_mode) and codecache.ours(entry):
                super().load_bytecode(bucket)

    return _Checked(directory)


@functools.cache
def _environment() -> Any:
    import jinja2  # deferred: only rendering pays for it

    root = resources.files("scaffold.templates")
    options: dict[str, Any] = {
        "autoescape": False,  # YAML, not HTML: values are quoted by |q instead
        "keep_trailing_newline": True,
        "trim_blocks": False,
        "lstrip_blocks": False,
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_bytecode_cache(jinja2, options),
        **options,
    )
    env.filters["q"] = _q
    env.filters["yaml"] = _yaml
    env.filters["spaces"] = _spaces
    env.filters["document"] = _document
    return env


def render(v: Values) -> list[RenderedFile]:
    """The files of the base for checked values, in a fixed order; same values, same bytes."""
    bundle = plan.build(v)
    env = _environment()
    files: list[RenderedFile] = []
    for server in bundle.servers:
        outputs = server.files
        ctx = {"plan": server, "namespace": bundle.namespace, "resources": server.resources,
               "files": [m.name for m in outputs]}
        files += [RenderedFile(m.name, env.get_template(m.template).render(ctx), m.resource)
                  for m in outputs]
    return files


# The files of a tree's namespace/ directory, and of the tree's top: (name, template).
_NAMESPACE_FILES = (plan.Manifest("namespace.yaml", "namespace.yaml.j2"),
                    plan.Manifest("networkpolicy.yaml", "namespace-networkpolicy.yaml.j2"),
                    plan.Manifest("kustomization.yaml", "namespace-kustomization.yaml.j2",
                                  resource=False),
                    plan.Manifest("README.md", "namespace-README.md.j2", resource=False))
_TOP_FILES = (plan.Manifest("kustomization.yaml", "tree-kustomization.yaml.j2", resource=False),
              plan.Manifest("values.yaml", "values.yaml.j2", resource=False),
              plan.Manifest("README.md", "tree-README.md.j2", resource=False))


def render_tree(team: Any) -> list[RenderedFile]:
    """The files of a `servers:` tree (servers.Team): the top kustomization.yaml, values.yaml
    and README.md, namespace/ (unless createNamespace is false), then one directory per
    server holding what `new` renders for that server alone; same values, same bytes."""
    from .servers import NAMESPACE_DIR

    bundle = plan.build_tree(team.shared, team.servers)
    env = _environment()
    dirs = ([NAMESPACE_DIR] if bundle.namespace else []) + [s.name for s in bundle.servers]
    ctx = {"namespace": bundle.namespace, "resources": [d + "/" for d in dirs],
           # values.yaml of a tree is the file as given: defaults filled at the top would
           # read as settings every server inherits.
           "plan": {"servers": bundle.servers, "answers": team.answers}}
    files = [RenderedFile(m.name, env.get_template(m.template).render(ctx), m.resource)
             for m in _TOP_FILES]
    if bundle.namespace:
        ns_ctx = {**ctx, "resources": ["namespace.yaml", "networkpolicy.yaml"]}
        files += [RenderedFile(f"{NAMESPACE_DIR}/{m.name}", env.get_template(m.template)
                               .render(ns_ctx), m.resource) for m in _NAMESPACE_FILES]
    for v in team.servers:
        files += [replace(f, path=f"{v['name']}/{f.path}") for f in render(v)]
    return files


def stream(files: list[RenderedFile]) -> str:
    """The Kubernetes objects of a base as one multi-document YAML stream."""
    return "---\n".join(f.text if f.text.endswith("\n") else f.text + "\n"
                        for f in files if f.is_manifest)
