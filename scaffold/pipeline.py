"""The `new` job end to end, in one direction: values -> render -> verify -> write."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any, TextIO

from . import servers
from . import values as values_mod
from .errors import (
    Interrupted,
    MissingAnswersError,
    OutputError,
    Problem,
    ProblemCode,
    ScaffoldError,
    ValuesError,
)
from .render import RenderedFile, render, render_tree
from .verify import verify
from .write import (
    check_destination,
    keep_answers,
    write_directory,
    write_listing,
    write_stream,
)


def build(v: values_mod.Values) -> list[RenderedFile]:
    """Render checked values and verify the result; VerificationError if it fails."""
    files = render(v)
    verify(files, v["kubernetesVersion"])
    return files


def _tree(raw: dict[str, Any], source: str, interactive: bool,
          err: TextIO) -> tuple[list[RenderedFile], str]:
    """A `servers:` file: checked (what its servers lack asked, when someone can be asked),
    rendered as a tree and verified as one bundle."""
    try:
        team = servers.validate(raw, source)
    except ValuesError as exc:
        required = [p.code is ProblemCode.REQUIRED for p in exc.problems]
        if not any(required):
            raise
        if interactive and all(required):
            from . import wizard

            team = wizard.complete_team(raw, source)
        else:
            # The wizard completes a file whose only problems are missing keys.
            hint = ("is missing: give it in --values (nothing is asked while the file has"
                    " other problems)" if interactive else
                    "is missing; nobody can be asked (no terminal or --no-input): give it in"
                    " --values")
            raise MissingAnswersError(
                [Problem(p.key, hint, ProblemCode.REQUIRED) if p.code is ProblemCode.REQUIRED
                 else p for p in exc.problems], source) from None
    for warning in servers.warnings(team):
        err.write(f"mcp-scaffold: warning: {source}: {warning}\n")
    files = render_tree(team)
    collisions = servers.name_collisions(files, team)
    if collisions:
        raise ValuesError(collisions, source)
    verify(files, team.shared["kubernetesVersion"])
    return files, f"deploy/{team.shared['namespace']}"


def _complete(raw: dict[str, Any], source: str, interactive: bool,
              dest: _Destination | None = None) -> values_mod.Values:
    # One validation: complete values pass straight through; if answers are missing, the
    # wizard asks for them, or, with nobody to ask, every problem is reported at once.
    try:
        return values_mod.validate(raw, source)
    except ValuesError as exc:
        if not any(p.code is ProblemCode.REQUIRED for p in exc.problems):
            raise
        if interactive:
            from . import wizard  # deferred: questionary is loaded only when a prompt is needed

            dest = dest or _Destination(None, False, None, sys.stderr)
            dest.asked = True
            return wizard.complete(raw, source, check_name=dest.name_problem, keep=dest.keep)
        hint = "is missing; nobody can be asked (no terminal or --no-input): give it in --values"
        raise MissingAnswersError(
            [replace(p, message=hint) if p.code is ProblemCode.REQUIRED else p
             for p in exc.problems],
            source) from None


class _Destination:
    """Where the base goes, checked as soon as it is known: --output at the start, else
    deploy/<name> once the name is (given, or answered: the wizard refuses a name whose
    directory may not be written, at its question). Keeps a wizard's answers when a later step
    fails, so that nothing typed is lost."""

    def __init__(self, output: str | None, force: bool, values_path: str | None,
                 err: TextIO) -> None:
        self.output, self.force, self.values_path, self.err = output, force, values_path, err
        self.asked = False  # did the wizard ask anything (are there answers to keep)?

    def check(self, target: str) -> None:
        if target != "-":
            check_destination(target, self.force, self.values_path)

    def name_problem(self, name: Any) -> str | None:
        if self.output is not None or not isinstance(name, str):
            return None
        try:
            self.check(f"deploy/{name}")
        except OutputError as exc:
            return f"deploy/{name} {exc.reason}; choose another name, or give --output"
        return None

    def keep(self, answers: dict[str, Any]) -> None:
        from .yamlio import dump

        name = answers.get("name") if isinstance(answers.get("name"), str) else "answers"
        target = self.output if self.output not in (None, "-") else f"deploy/{name}"
        path = keep_answers(dump(answers), str(target))
        self.err.write(f"mcp-scaffold: your answers are kept in {path}: fix what the error"
                       f" says, then run again with --values {path}\n")


def _from_description(from_: str, given: dict[str, Any], values_path: str | None,
                      interactive: bool, err: TextIO) -> tuple[dict[str, Any], str]:
    """`--from`: the description under the values file; its open questions asked (or, with
    nobody to ask, their defaults taken). Returns the raw values and their source."""
    from . import importing

    imp = importing.prepare(from_, given, values_path, err)
    if not imp.questions:
        return imp.raw, imp.source
    if interactive:
        from . import wizard

        return wizard.ask_imported(imp.raw, imp.questions), imp.source
    return importing.answer_defaults(imp), imp.source


def _resolve_images(raw: dict[str, Any], source: str, err: TextIO) -> dict[str, Any]:
    # Before validation: a pinned image then passes the digest rule as if written so, and the
    # pinned form is what values.yaml records (later renders offline and identical).
    from . import images

    if not images.tag_only(raw):
        return raw
    try:
        raw, warnings = images.resolve_values(raw, source)
    except ValuesError as exc:
        # Every problem of the file at once, as without resolution: the image's own (why it
        # could not be pinned) in place of "must be pinned", then the rest.
        try:
            values_mod.validate(raw, source)
            others: list[Problem] = []
        except ValuesError as rest:
            keys = {p.key for p in exc.problems}
            others = [p for p in rest.problems if p.key not in keys]
        raise ValuesError([*exc.problems, *others], source) from None
    for warning in warnings:
        err.write(f"mcp-scaffold: warning: {source}: {warning}\n")
    return raw


def new(values_path: str | None, output: str | None, *, interactive: bool, force: bool,
        dry_run: bool, from_: str | None = None, stdout: TextIO | None = None,
        stderr: TextIO | None = None, offline: bool = False) -> int:
    """Run `mcp-scaffold new`; return the exit code (errors are raised)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    raw: dict[str, Any] = values_mod.read_file(values_path) if values_path else {}
    source = values_path or "answers"
    dest = _Destination(output, force, values_path, err)
    if output is not None:
        dest.check(output)  # before any question or rendering; --dry-run too
    if from_ is not None:
        raw, source = _from_description(from_, raw, values_path, interactive, err)
    tree = servers.has_servers(raw)
    if not offline and not tree:
        raw = _resolve_images(raw, source, err)
    known = raw.get("namespace") if tree else raw.get("name")
    if output is None and isinstance(known, str) and values_mod.check_answer(
            "namespace" if tree else "name", known) is None:
        dest.check(f"deploy/{known}")  # given (values, description): checked before asking
    v: values_mod.Values | None = None
    if tree:
        files, target = _tree(raw, source, interactive, err)
    else:
        v = _complete(raw, source, interactive, dest)
        for warning in values_mod.warnings(v):
            err.write(f"mcp-scaffold: warning: {source}: {warning}\n")
    try:
        if v is not None:
            files = build(v)
            target = f"deploy/{v['name']}"
        target = output or target
        dest.check(target)  # the default one too, also for --dry-run
        if target == "-":
            write_stream(files, out)
        elif dry_run:
            write_listing(files, target, out)
            err.write(f"dry run: nothing written ({len(files)} files would go to {target})\n")
        else:
            for note in write_directory(files, target, force, values_path):
                err.write(f"mcp-scaffold: warning: {note}\n")
            err.write(f"wrote {len(files)} files to {target}; apply with: kubectl apply -k"
                      f" {target}\n")
    except ScaffoldError as exc:
        if v is not None and dest.asked and not isinstance(exc, Interrupted):
            dest.keep(dict(v))
        raise
    return 0
