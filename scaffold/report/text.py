"""``--format text``: findings grouped by object, for a person; colour only at a terminal."""

from __future__ import annotations

import os
from typing import TextIO

from ..safetext import printable
from .base import Report, Reporter, Result

_COLOURS = {"high": "31", "medium": "33", "low": "36", "bold": "1", "dim": "2"}


def use_colour(out: TextIO) -> bool:
    """Colour only for a person at a terminal; NO_COLOR (no-color.org) always wins."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(out, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class TextReporter(Reporter):
    """Everything taken from the input (file names, kinds, names, messages, paths, fixes,
    suppression reasons) is escaped with :func:`~scaffold.safetext.printable`, so the only
    line breaks and escape sequences in the report are the reporter's own: an ESC sequence in
    a skip reason cannot clear the screen and forge "No findings", nor a newline a CI
    workflow command. JSON and SARIF escape them by being JSON."""

    name = "text"

    def write(self, out: TextIO, report: Report) -> None:
        colour = use_colour(out)

        def paint(text: str, style: str) -> str:
            return f"\033[{_COLOURS[style]}m{text}\033[0m" if colour else text

        groups: dict[tuple[str, str, str, str], list[Result]] = {}
        for finding, src in report.results:
            key = (src.file, finding.kind, finding.namespace, finding.name)
            groups.setdefault(key, []).append((finding, src))
        for (file, kind, ns, name), items in groups.items():
            line = items[0][1].line
            where = printable(f"{file}:{line}" if line is not None else file)
            shown = printable(f"{kind} {ns}/{name}" if ns else f"{kind} {name}")
            out.write(f"{paint(shown, 'bold')}  {paint(where, 'dim')}\n")
            for finding, _ in items:
                if finding.suppressed is not None:
                    reason = printable(finding.suppressed)
                    out.write(paint(f"  suppressed {finding.rule}: {reason}", "dim") + "\n")
                    continue
                level = paint(f"{finding.severity.upper():<6}", finding.severity)
                out.write(f"  {level} {finding.rule}  {printable(finding.message)}\n")
                out.write(f"         at  {printable(finding.path)}\n")
                out.write(f"         fix {printable(finding.fix)}\n")
            out.write("\n")
        _summary_line(out, report)


def _summary_line(out: TextIO, report: Report) -> None:
    summary = report.summary
    count = summary["findings"]
    checked = (f"{summary['objects']} object(s) in {summary['files']} file(s), "
               f"Kubernetes {summary['kubernetesVersion']}")
    suppressed = f"; {summary['suppressed']} suppressed" if summary["suppressed"] else ""
    if count:
        by = ", ".join(f"{n} {s}" for s, n in summary["bySeverity"].items() if n)
        out.write(f"{count} finding(s) ({by}){suppressed}; checked {checked}\n")
    else:
        out.write(f"No findings{suppressed}; checked {checked}\n")
