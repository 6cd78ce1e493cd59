"""Helpers of the wizard tests (tests/wizard/): key sequences, the example image, the installed
entry point, the wizard driven through a pipe (run). Here rather than in tests/wizard/ so that mypy,
which checks the tests, names tests/wizard/conftest.py "wizard.conftest" (see [tool.mypy] in
pyproject.toml)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from scaffold import values, wizard

DIGEST = "sha256:" + "ab" * 32
IMAGE = f"ghcr.io/acme/demo-mcp:1.0.0@{DIGEST}"

# Raw keys as a terminal sends them (questionary's tests/utils.py KeyInputs).
ENTER = "\r"
DOWN = "\x1b[B"
CLEAR = "\x15"  # Ctrl-U: erase the pre-filled default (or a rejected answer) before typing
CTRL_C = "\x03"
CTRL_D = "\x04"


def line(text: str) -> str:
    """Replace whatever the prompt holds (its default) with text, then Enter."""
    return CLEAR + text + ENTER


def choose(options: list[str], value: str) -> str:
    """Keys that pick value in a select whose pointer starts on the first option."""
    return DOWN * options.index(value) + ENTER


def command() -> str:
    """The installed mcp-scaffold entry point (what a user runs)."""
    found = shutil.which("mcp-scaffold")
    if not found:
        pytest.fail("mcp-scaffold is not on PATH: pip install -e .")
    return found


PROVIDERS = values.subschema("secrets.provider")["enum"]


# transport: streamable-http (the default), and "no" to setting the command line, env,
# path and probes (the image's own are kept).
START = ENTER + "n"


def basics(name: str = "demo") -> str:
    """name, namespace, image, port, replicas, runtime, transport and start (defaults kept),
    ingress namespace."""
    return (line(name) + line("mcp-demo") + line(IMAGE) + ENTER + ENTER + ENTER + START
            + line("ingress-nginx"))


def run(pipe: Any, script: str, raw: dict[str, Any] | None = None) -> dict[str, Any]:
    """Send the script (and the Ctrl-C tripwire), run the wizard; on failure the questions it
    asked are in the captured output, to see where a script and the wizard parted ways."""
    pipe.send_text(script + CTRL_C)
    asked: list[str] = []
    originals = (wizard._text, wizard._select, wizard._confirm)

    def tracing(original: Any) -> Any:
        def ask(message: str, *args: Any, **kwargs: Any) -> Any:
            asked.append(message)
            answer = original(message, *args, **kwargs)
            asked[-1] += f" -> {answer!r}"
            return answer
        return ask

    wizard._text, wizard._select, wizard._confirm = (tracing(f) for f in originals)
    try:
        return wizard.complete(raw or {}, "answers")
    except BaseException:
        print("questions asked:", *asked, sep="\n  ")
        raise
    finally:
        wizard._text, wizard._select, wizard._confirm = originals


class AnswerBook:
    """The wizard's three prompts replaced at their lowest layer (wizard._text, _select,
    _confirm) by answers looked up by question: the first entry whose key the question's text
    contains. Every text answer goes through the prompt's own validate, as questionary does on
    Enter; one it refuses is a test failure naming the question and the message. A question no
    entry answers takes the prompt's default when that validates (a confirm: no), else fails.
    `asked` records every question and answer, in order."""

    def __init__(self, book: dict[str, Any]) -> None:
        self.book = book
        self.asked: list[tuple[str, Any]] = []

    def _lookup(self, message: str) -> Any:
        for key, value in self.book.items():
            if key in message:
                return value
        return None

    def text(self, message: str, *, default: str, instruction: str | None,
             validate: Any) -> str:
        answer = self._lookup(message)
        answer = default if answer is None else answer
        if isinstance(answer, list):  # successive answers to a question asked again
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        verdict = validate(answer)
        if verdict is not True:
            pytest.fail(f"{message!r}: {answer!r} refused: {verdict}\nasked: {self.asked}")
        self.asked.append((message, answer))
        return str(answer)

    def select(self, message: str, choices: list[str], default: str | None) -> str:
        answer = self._lookup(message)
        answer = answer if answer is not None else (default or choices[0])
        assert answer in choices, f"{message!r}: {answer!r} not in {choices}"
        self.asked.append((message, answer))
        return str(answer)

    def confirm(self, message: str, default: bool) -> bool:
        answer = self._lookup(message)
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        self.asked.append((message, bool(answer)))
        return bool(answer)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(wizard, "_text", self.text)
        monkeypatch.setattr(wizard, "_select", self.select)
        monkeypatch.setattr(wizard, "_confirm", self.confirm)
        monkeypatch.setattr(wizard, "_help", lambda text: None)
        monkeypatch.setattr(wizard, "_terminal", _no_terminal)


@contextlib.contextmanager
def _no_terminal() -> Iterator[None]:
    yield
