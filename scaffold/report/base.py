"""What every reporter receives: the findings with their sources, and the run's summary."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

if TYPE_CHECKING:  # the CLI builds --format choices from this package: keep it light
    from ..policy.model import Finding, Rule

STDIN = "-"


@dataclass(frozen=True)
class Source:
    """Where an object came from: the file as given (``-`` for stdin) and its first line."""

    file: str
    line: int | None


Result = tuple["Finding", Source]


@dataclass(frozen=True)
class Report:
    """One run of ``check``: its findings in order, the summary, the rules that ran."""

    results: list[Result]
    summary: dict[str, Any]
    rules: list[Rule]
    kube_version: str


class Reporter(ABC):
    """Writes a :class:`Report` in one format; ``name`` is the ``--format`` value."""

    name: ClassVar[str]

    @abstractmethod
    def write(self, out: TextIO, report: Report) -> None:
        """Write ``report`` to ``out``."""
