"""`mcp-scaffold check`: the policy rules over any manifests, reported as text, JSON or SARIF.

Reads files, directories or a stream on stdin (``-``), e.g. ``kubectl kustomize . |
mcp-scaffold check -``, the way ``kubectl apply -f`` reads them (yamlio.load_kubectl): the
objects judged are the JSON kubectl would send. A directory is read like ``kubectl apply -R -f
DIR``: every *.yaml, *.yml and *.json file at any depth, dot-files and hidden directories
included (only ``.git`` is left out). A directory whose Kustomization changes what it lists
(a namespace, patches, generators...) is refused: what kustomize builds is what gets applied,
so pipe ``kubectl kustomize DIR`` instead. A document kubectl would refuse (a values file, a
Kustomization, no kind) is skipped with a note on stderr; everything kubectl would apply is
judged. Data goes to stdout, notes to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import kubeversions
from .errors import InputError, Problem, ProblemCode
from .policy import (
    RULES,
    SEVERITIES,
    evaluate_objects,
    parse_kube_version,
    select_rules,
    skips,
)
from .policy.model import last_applied
from .report import FORMATS, REPORTERS, Report, Result, Source
from .report.base import STDIN
from .safetext import printable
from .yamlio import load_kubectl

EXTENSIONS = (".yaml", ".yml", ".json")  # kubectl's, and as case-sensitive as its
# Kustomization file names (sigs.k8s.io/kustomize api/konfig: RecognizedKustomizationFileNames)
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# A Kustomization with only these keys builds exactly the files it lists, as they are.
_PLAIN_KUSTOMIZATION = frozenset(("apiVersion", "kind", "metadata", "resources"))
# Kinds that configure tools rather than the cluster: never judged, never "unknown". Flux's
# kustomize.toolkit.fluxcd.io Kustomization is not one: it is applied to the cluster, and its
# controller applies (and patches) workloads; the rules judge it (MCP-PSS-024).
_TOOL_GROUPS = ("kustomize.config.k8s.io/", "config.kubernetes.io/")


def run(
    paths: list[str],
    fmt: str = "text",
    kube_version: str = kubeversions.DEFAULT,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    select: Sequence[str] = (),
    skip: Sequence[str] = (),
) -> int:
    """Check the manifests at ``paths`` and write the report to ``stdout``.

    ``select`` and ``skip`` hold rule ids or pattern names (policy.select_rules: skip wins).
    Returns 0 when nothing is found, 1 when any unsuppressed finding remains. Raises
    InputError (exit 2 in the CLI) for a bad format, version, rule id, pattern or path,
    unreadable or invalid YAML/JSON, a malformed suppression annotation, or input without any
    Kubernetes object.
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    if fmt not in REPORTERS:
        raise InputError([Problem("--format", f"{fmt!r} is not one of {', '.join(FORMATS)}",
                                  ProblemCode.USAGE)])
    parse_kube_version(kube_version)
    rules = select_rules(select, skip)
    if not rules:
        raise InputError([Problem("--select/--skip", "leave no rule to run", ProblemCode.USAGE)])
    if not paths:
        raise InputError([Problem("", "no input: give one or more PATHs, or - for stdin",
                                  ProblemCode.USAGE)])
    objects: list[tuple[dict[str, Any], Source]] = []
    files: list[str] = []
    for label, text in _read_inputs(paths, stdin if stdin is not None else sys.stdin):
        files.append(label)
        objects.extend(_objects(label, text, err))
    problems = [
        Problem(printable(f"{src.file}: {doc.get('kind')} {_display_name(doc)}"), message,
                ProblemCode.INVALID)
        for doc, src in objects
        for message in skips(doc)[1]
    ]
    if problems:
        raise InputError(problems)
    if not objects:
        raise InputError(
            [Problem("", f"no Kubernetes objects found in {', '.join(files) or 'the input'}",
                     ProblemCode.EMPTY)]
        )
    sources = {id(doc): src for doc, src in objects}
    kept, replaced = last_applied([d for d, _ in objects])
    for earlier, later in replaced:
        src, by = sources[id(earlier)], sources[id(later)]
        err.write(f"note: {_where(src)}: {printable(str(earlier.get('apiVersion')))} "
                  f"{printable(str(earlier.get('kind')))} {printable(_display_name(earlier))} "
                  f"is replaced by the one at {_where(by)} (kubectl apply keeps the last): "
                  "only that one is judged\n")
    results = [
        (finding, sources[id(doc)])
        for doc, finding in evaluate_objects(kept, kube_version, rules)
    ]
    summary = _summary(results, len(objects), len(files), kube_version)
    REPORTERS[fmt].write(out, Report(results, summary, rules, kube_version))
    return 1 if summary["findings"] else 0


# ---- input --------------------------------------------------------------------------------

def _read_inputs(paths: list[str], stdin: TextIO) -> Iterator[tuple[str, str]]:
    stdin_used = False
    for given in paths:
        if given == STDIN:
            if stdin_used:
                raise InputError([Problem("-", "stdin can be read only once", ProblemCode.USAGE)])
            stdin_used = True
            try:
                yield STDIN, stdin.read()
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError([Problem("", f"cannot read stdin: {exc}",
                                          ProblemCode.UNREADABLE)], STDIN) from None
            continue
        path = Path(given)
        if path.is_dir():
            found = sorted(_walk(path))
            if not found:
                raise InputError(
                    [Problem("", "directory holds no *.yaml, *.yml or *.json file",
                             ProblemCode.EMPTY)], given
                )
            for file in found:
                yield str(file), _read_file(file)
        elif path.exists():
            yield given, _read_file(path)
        else:
            raise InputError([Problem("", "no such file or directory", ProblemCode.UNREADABLE)],
                             given)


def _walk(root: Path) -> Iterator[Path]:
    # kubectl apply -R -f DIR (cli-runtime resource/visitor.go FileVisitorForSTDIN,
    # ExpandPathsToFileVisitors): filepath.Walk, hidden files and directories included,
    # symlinked directories not followed, extensions compared case-sensitively. Without -R
    # kubectl reads only the top level: reading every level covers both.
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")  # git's own data, not manifests
        _refuse_transforming_kustomization(Path(dirpath), filenames)
        for name in filenames:
            if name.endswith(EXTENSIONS):
                yield Path(dirpath) / name


def _refuse_transforming_kustomization(directory: Path, filenames: list[str]) -> None:
    """InputError when a Kustomization here builds something other than the files check reads
    in this tree, as they are: `kubectl apply -k` would apply objects check never saw."""
    for name in KUSTOMIZATION_FILES:
        if name not in filenames:
            continue
        label = str(directory / name)
        why: list[str] = []
        for doc in load_kubectl(_read_file(directory / name), label):
            spec = doc.value if isinstance(doc.value, dict) else {}
            why += [f"{key!r} (kustomize changes or adds objects)"
                    for key in spec if key not in _PLAIN_KUSTOMIZATION]
            entries = spec.get("resources") or []
            why += [f"resource {entry!r} (not a file or directory check reads here)"
                    for entry in entries if not isinstance(entries, list) or not _local(
                        directory, entry)]
        if why:
            raise InputError(
                [Problem("", f"{'; '.join(why)}: `kubectl apply -k` applies what kustomize"
                         " builds, not these files. Check that instead: kubectl kustomize"
                         f" {directory} | mcp-scaffold check -", ProblemCode.USAGE)], label)


def _local(directory: Path, entry: Any) -> bool:
    if not isinstance(entry, str) or "://" in entry or entry.startswith(("/", "git@")):
        return False
    path = Path(entry)
    if ".." in path.parts:
        return False
    return (directory / path).is_dir() or path.name.endswith(EXTENSIONS)


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError([Problem("", "not UTF-8 text", ProblemCode.UNREADABLE)],
                         str(path)) from None
    except OSError as exc:
        raise InputError([Problem("", f"cannot read: {exc.strerror or exc}",
                                  ProblemCode.UNREADABLE)], str(path)) from None


def _parse(label: str, text: str) -> list[tuple[Any, int | None]]:
    """The non-empty documents of a file with the line each starts on, read as kubectl reads
    them whatever the file's extension (kubectl sniffs JSON by a leading "{")."""
    return [(doc.value, doc.line) for doc in load_kubectl(text, label)]


def _objects(label: str, text: str, err: TextIO) -> Iterator[tuple[dict[str, Any], Source]]:
    for number, (doc, line) in enumerate(_parse(label, text), start=1):
        items, why = _expand(doc)
        if why:
            err.write(printable(f"note: {label}: document {number} skipped: {why}") + "\n")
        for index, item in enumerate(items):
            why = _not_kubernetes(item)
            if why:
                where = f"document {number}" + (f" item {index + 1}" if item is not doc else "")
                err.write(printable(f"note: {label}: {where} skipped: {why}") + "\n")
                continue
            yield item, Source(label, line)


def _expand(doc: Any) -> tuple[list[Any], str]:
    """The objects kubectl applies from one document, and why it applies none when so.

    unstructured.UnstructuredJSONScheme (apimachinery unstructured.go decode, decodeToList)
    reads ANY object with an "items" key as a list, whatever its kind, and the builder applies
    the items instead: an item with neither kind nor apiVersion takes the list's apiVersion and
    its kind minus "List" (a PodList's items are Pods)."""
    if not isinstance(doc, dict) or "items" not in doc:
        return [doc], ""
    items, kind = doc["items"], doc.get("kind")
    if items is None or items == []:
        return [], "a list with no items: kubectl applies nothing"
    if not isinstance(items, list):
        return [], "items is not a list: kubectl refuses it"
    if not isinstance(kind, str) or not kind:
        return [], "a list without a kind: kubectl refuses it"
    found: list[Any] = []
    seen: set[int] = set()
    for item in items:
        if isinstance(item, dict):
            if not item.get("kind") and not item.get("apiVersion"):
                item = {**item, "kind": kind.removesuffix("List"),
                        "apiVersion": doc.get("apiVersion")}
            elif id(item) in seen:  # one alias listed twice: two objects for kubectl
                item = dict(item)
            seen.add(id(item))
        found.append(item)
    return found, ""


def _not_kubernetes(doc: Any) -> str:
    if not isinstance(doc, dict):
        return "not a Kubernetes object (not a mapping)"
    api, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str) or not api or not kind:
        return "not a Kubernetes object (no apiVersion/kind)"
    if api.startswith(_TOOL_GROUPS):
        return f"{kind} configures a tool, not the cluster"
    return ""


def _where(src: Source) -> str:
    return printable(src.file) + (f":{src.line}" if src.line is not None else "")


def _display_name(doc: dict[str, Any]) -> str:
    md = doc.get("metadata")
    md = md if isinstance(md, dict) else {}
    name, ns = md.get("name") or "(unnamed)", md.get("namespace")
    return f"{ns}/{name}" if ns else str(name)


# ---- reports ------------------------------------------------------------------------------

def _summary(results: list[Result], objects: int, files: int, version: str) -> dict[str, Any]:
    active = [f for f, _ in results if f.suppressed is None]
    return {
        "findings": len(active),
        "suppressed": len(results) - len(active),
        "bySeverity": {s: sum(1 for f in active if f.severity == s) for s in SEVERITIES},
        "byPattern": {
            p: sum(1 for f in active if f.pattern == p)
            for p in sorted({r.pattern for r in RULES.values()})
        },
        "objects": objects,
        "files": files,
        "kubernetesVersion": version,
    }
