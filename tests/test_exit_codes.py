"""A CI gate must tell a broken tool from bad manifests: an internal error is exit 3 with one
line and no traceback, never 1 (findings) — also when it happens while the arguments are
parsed (the --format choices come from the reporters' registry, imported on first use)."""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from typing import Any

import pytest

from scaffold import cli as cli_module

from support import EXAMPLES, ROOT


def _boom(*args: object, **kwargs: object) -> int:
    raise RuntimeError("boom\x1b[2J")


@pytest.mark.parametrize("argv", [
    ("check", str(EXAMPLES / "minimal")),
    ("new", "--values", str(EXAMPLES / "minimal.yaml"), "--output", "-"),
    ("rules",),
    ("catalog",),
    ("schema",),
])
def test_an_internal_error_is_exit_3_with_one_line(
        argv: tuple[str, ...], cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCP_SCAFFOLD_DEBUG", raising=False)
    monkeypatch.setattr(cli_module, "_run", _boom)
    result = cli(*argv)
    assert result.code == 3 == cli_module.INTERNAL_EXIT
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert result.err.startswith("mcp-scaffold: internal error: RuntimeError: boom\\x1b[2J")
    assert "\x1b" not in result.err  # the message is escaped like every echo


@pytest.mark.parametrize("argv", [("check", "--help"), ("check", "--format", "json", "x"),
                                  ("rules", "--format", "sarif")])
def test_an_import_that_fails_while_parsing_is_exit_3(
        argv: tuple[str, ...], cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCP_SCAFFOLD_DEBUG", raising=False)
    real_import = builtins.__import__

    def no_report(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "report" or name.endswith(".report") or name == "scaffold.report":
            raise ImportError("No module named 'scaffold.report'")
        fromlist = args[2] if len(args) > 2 else kwargs.get("fromlist")
        if name == "" and fromlist and "report" in fromlist:
            raise ImportError("No module named 'scaffold.report'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_report)
    result = cli(*argv)
    assert result.code == 3
    assert "Traceback" not in result.err
    assert result.err.startswith("mcp-scaffold: internal error: ImportError")


def test_the_readme_exit_code_table_is_the_one_the_help_prints() -> None:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Exit codes"):]
    section = section[:section.index("\n## ")]
    table = dict(re.findall(r"^\| (\d+) \| (.+) \|$", section, re.M))
    assert set(table) == {"0", "1", "2", "3", "129", "130", "143"}
    assert "internal error" in table["3"] and "findings" in table["1"]
    for epilog in (cli_module.NEW_EPILOG, cli_module.CHECK_EPILOG):
        codes = set(re.findall(r"(?<![\w.-])(\d+) ", epilog.replace("\n", " ")))
        assert codes <= set(table), codes - set(table)
        assert "3" in codes
