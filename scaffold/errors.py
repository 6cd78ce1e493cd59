"""The one exception hierarchy. Each error carries the exit code the CLI maps it to."""

from __future__ import annotations

import signal
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class ProblemCode(StrEnum):
    """What kind of thing is wrong, for code to act on: the wizard asks again for a REQUIRED
    key, `new --no-input` names it as missing. Code compares codes, never messages (those are
    for people and may be reworded)."""

    REQUIRED = "required"  # a key the schema requires is absent: an answer still to give
    UNKNOWN_KEY = "unknown-key"  # a key the schema does not know (a typo)
    TYPE = "type"  # the wrong kind of value (a number for a string, a list for a mapping)
    ENUM = "enum"  # not one of the listed choices
    RANGE = "range"  # a number outside its bounds
    EMPTY = "empty"  # an empty list, mapping or text where one entry is needed
    DUPLICATE = "duplicate"  # an item, name, CIDR or file given twice
    PATTERN = "pattern"  # text not of the allowed form (the schema's pattern or format)
    CONTROL_CHAR = "control-char"  # a control character in a name, path or free text
    RESERVED = "reserved"  # a name the bundle sets itself (an env var, a label key)
    CONFLICT = "conflict"  # keys that contradict each other or depend on one another
    CREDENTIAL = "credential"  # a secret written where it would be stored in plain text
    INVALID = "invalid"  # a value a rule refuses (an unpinned image, a metadata CIDR...)
    NO_EFFECT = "no-effect"  # (a warning) a key set to something the bundle never reads
    UNREADABLE = "unreadable"  # an input that cannot be read (missing, a directory, not UTF-8)
    USAGE = "usage"  # a command-line option or argument that cannot be used


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input: where (a dotted key path or a file), what is allowed
    (the message people read) and what kind of problem it is (the code programs act on)."""

    key: str
    message: str
    code: ProblemCode = ProblemCode.INVALID

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


class ScaffoldError(Exception):
    """Base of every error mcp-scaffold reports to a user (never as a traceback)."""

    exit_code = 2

    def lines(self) -> list[str]:
        """The message, one line per problem, as printed on stderr."""
        return [str(self)]


class InputError(ScaffoldError):
    """Bad input or usage: exit 2, one line per problem."""

    def __init__(self, problems: Iterable[Problem], source: str = "") -> None:
        # One line per (key, message): the same problem found twice (e.g. by the schema and by
        # a semantic check, with different codes) is reported once, with its first code.
        unique: dict[tuple[str, str], Problem] = {}
        for p in problems:
            unique.setdefault((p.key, p.message), p)
        self.problems = sorted(unique.values(), key=lambda p: (p.key, p.message))
        self.source = source
        super().__init__("; ".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        prefix = f"{self.source}: " if self.source else ""
        return [f"{prefix}{p}" for p in self.problems]


class ValuesError(InputError):
    """The values (from a file or the wizard) break the schema or a semantic rule."""


class OutputError(ScaffoldError):
    """The output cannot or may not be written (a directory that is not a base, a link, a
    busy or unwritable target): exit 2, one line, nothing changed."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"--output {path}: {reason}")


class OutputExistsError(OutputError):
    """The output is a base an earlier `new` wrote, and --force was not given."""

    def __init__(self, path: str) -> None:
        super().__init__(path, "is an existing base written by mcp-scaffold; pass --force to"
                         " replace it")


class MissingAnswersError(InputError):
    """Values are missing and nobody can be asked (no terminal, or --no-input)."""


class VerificationError(ScaffoldError):
    """A rendered bundle failed schema or policy verification: exit 1, nothing written."""

    exit_code = 1

    def __init__(self, failures: Iterable[str]) -> None:
        self.failures = list(failures)
        super().__init__("; ".join(self.failures))

    def lines(self) -> list[str]:
        return [f"verification failed: {f}" for f in self.failures]


class Interrupted(ScaffoldError):
    """The user pressed Ctrl-C: exit 130, nothing written."""

    exit_code = 130

    def __init__(self) -> None:
        super().__init__("interrupted; nothing was written")


class Signalled(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP arrived. A KeyboardInterrupt, so it unwinds exactly as Ctrl-C
    does (no `except Exception` can swallow it); the CLI exits 128 + the signal number."""

    def __init__(self, signum: int, written: str | None = None) -> None:
        self.signum = signum
        self.written = written  # the output, when the signal came after it was complete
        super().__init__(self.message())

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def message(self) -> str:
        name = signal.Signals(self.signum).name
        if self.written is not None:
            return f"interrupted ({name}) after {self.written} was written in full"
        return f"interrupted ({name}); nothing was written"
