"""check cites the line each document starts on, as yamlio's kubectl reading finds it while it
splits the stream: it must agree with PyYAML's own composition wherever both read the text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scaffold import render, servers, values, yamlio

ROOT = Path(__file__).resolve().parents[2]


def _composed(text: str) -> list[int]:
    return [n.start_mark.line + 1 for n in yaml.compose_all(text, Loader=yaml.SafeLoader)
            if n is not None and n.tag != "tag:yaml.org,2002:null"]


def _cited(text: str) -> list[int]:
    return [d.line for d in yamlio.load_kubectl(text, "t") if d.value is not None]


TEXTS = [
    "a: 1\n",
    "# head\n\na: 1\n---\n# c\nb: 2\n",
    "---\n---\na: 1\n---\nb: 2\n",
    "a: |\n  ---x\n  text\nb: 2\n---\nc: 3\n",
    "---   # comment only\nkind: X\n",
    "{\"a\": 1}\n{\"b\": 2}\n",
    "{\"a\": 1}\n---\nb: 2\n",
]


@pytest.mark.parametrize("text", TEXTS)
def test_edge_cases_agree_with_pyyaml(text: str) -> None:
    if text.startswith("{\"a\": 1}\n{"):  # a JSON stream, which YAML cannot read at all
        assert _cited(text) == [1, 2]
        return
    assert _cited(text) == _composed(text)


def test_every_corpus_file_and_example_stream_agrees() -> None:
    texts = [p.read_text() for p in sorted((ROOT / "tests/policy/corpus").rglob("*.yaml"))]
    for p in sorted((ROOT / "examples").glob("*.yaml")):
        raw = values.read_file(str(p))
        files = (render.render_tree(servers.validate(raw)) if servers.has_servers(raw)
                 else render.render(values.validate(raw)))
        texts.append(render.stream(files))
    assert len(texts) > 10
    for text in texts:
        assert _cited(text) == _composed(text)


def test_crlf_and_a_later_byte_order_mark_cite_the_same_lines() -> None:
    text = "a: 1\n---\n\ufeffb: 2\n---\nc: 3\n"
    assert _cited(text) == [1, 3, 5]
    assert _cited(text.replace("\n", "\r\n")) == [1, 3, 5]
