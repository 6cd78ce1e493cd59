"""check cites the line each document starts on, found by a line scan instead of a second
parse: it must agree with PyYAML's own composition wherever both can say."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scaffold import render, values, yamlio
from scaffold.check import _document_lines

ROOT = Path(__file__).resolve().parents[2]


def _composed(text: str) -> list[int]:
    return [n.start_mark.line + 1 for n in yaml.compose_all(text, Loader=yaml.SafeLoader)
            if n is not None and n.tag != "tag:yaml.org,2002:null"]


TEXTS = [
    "a: 1\n",
    "# head\n\na: 1\n---\n# c\nb: 2\n",
    "--- {a: 1}\n--- [1]\n",
    "---\n---\na: 1\n...\n---\nb: 2\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: |\n  ---x\n  text\nb: 2\n---\nc: 3\n",
    "---   # comment only\nkind: X\n",
]


@pytest.mark.parametrize("text", TEXTS)
def test_edge_cases_agree_with_pyyaml(text: str) -> None:
    expected = _composed(text)
    assert _document_lines(text, len(expected)) == expected


def test_every_corpus_file_and_example_stream_agrees() -> None:
    texts = [p.read_text() for p in sorted((ROOT / "tests/policy/corpus").rglob("*.yaml"))]
    texts += [render.stream(render.render(values.load(str(p))))
              for p in sorted((ROOT / "examples").glob("*.yaml"))]
    assert len(texts) > 10
    for text in texts:
        expected = _composed(text)
        assert _document_lines(text, len(yamlio.load_all(text, "t"))) == expected


def test_disagreeing_counts_cite_no_line() -> None:
    assert _document_lines("a: 1\n---\nnull\n", 1) == [None]
