"""The `new` job end to end, in one direction: values -> render -> verify -> write."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any, TextIO

from . import servers
from . import values as values_mod
from .errors import MissingAnswersError, Problem, ProblemCode, ValuesError
from .render import RenderedFile, render, render_tree
from .verify import verify
from .write import check_destination, write_directory, write_listing, write_stream


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
    verify(files, team.shared["kubernetesVersion"])
    return files, f"deploy/{team.shared['namespace']}"


def _complete(raw: dict[str, Any], source: str, interactive: bool) -> values_mod.Values:
    # One validation: complete values pass straight through; if answers are missing, the
    # wizard asks for them, or, with nobody to ask, every problem is reported at once.
    try:
        return values_mod.validate(raw, source)
    except ValuesError as exc:
        if not any(p.code is ProblemCode.REQUIRED for p in exc.problems):
            raise
        if interactive:
            from . import wizard  # deferred: questionary is loaded only when a prompt is needed

            return wizard.complete(raw, source)
        hint = "is missing; nobody can be asked (no terminal or --no-input): give it in --values"
        raise MissingAnswersError(
            [replace(p, message=hint) if p.code is ProblemCode.REQUIRED else p
             for p in exc.problems],
            source) from None


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
    raw, warnings = images.resolve_values(raw, source)
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
    if output not in (None, "-") and not dry_run:
        check_destination(output, force, values_path)  # before any question or rendering
    if from_ is not None:
        raw, source = _from_description(from_, raw, values_path, interactive, err)
    if not offline and not servers.has_servers(raw):
        raw = _resolve_images(raw, source, err)
    if servers.has_servers(raw):
        files, target = _tree(raw, source, interactive, err)
    else:
        v = _complete(raw, source, interactive)
        for warning in values_mod.warnings(v):
            err.write(f"mcp-scaffold: warning: {source}: {warning}\n")
        files = build(v)
        target = f"deploy/{v['name']}"
    target = output or target
    if target == "-":
        write_stream(files, out)
    elif dry_run:
        write_listing(files, target, out)
        err.write(f"dry run: nothing written ({len(files)} files would go to {target})\n")
    else:
        for note in write_directory(files, target, force, values_path):
            err.write(f"mcp-scaffold: warning: {note}\n")
        err.write(f"wrote {len(files)} files to {target}; apply with: kubectl apply -k {target}\n")
    return 0
