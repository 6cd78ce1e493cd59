"""The one escaping helper for every echo of input: hostile text cannot move the cursor,
start a new line or reorder what is read, and what it held can still be read back."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from scaffold.safetext import printable

_CONTROLS = st.characters(min_codepoint=0, max_codepoint=0x9F).filter(
    lambda c: unicodedata.category(c) == "Cc")


def _unescape(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


@given(st.text(alphabet=st.one_of(st.characters(), _CONTROLS,
                                  st.sampled_from("\x1b[2J\x1b[1A\u202e\u2028\\\n\r\t\x85"))))
def test_no_control_character_survives_and_the_text_reads_back(text: str) -> None:
    shown = printable(text)
    assert not any(unicodedata.category(c) == "Cc" for c in shown)
    assert not any(c in shown for c in "\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067"
                   "\u2068\u2069\u200e\u200f\u061c\ufeff")
    assert _unescape(shown) == text


def test_forged_lines_and_screen_clears_are_shown_not_obeyed() -> None:
    assert printable("ok\x1b[2J\nmcp-scaffold: note: fine") == (
        "ok\\x1b[2J\\nmcp-scaffold: note: fine")
    assert printable("::error::x\r\n") == "::error::x\\r\\n"
    assert printable("\x9b31m") == "\\x9b31m"
    assert printable("a\u202eb") == "a\\u202eb"


def test_printable_text_is_unchanged() -> None:
    for text in ("plain", "Grüße, 東京", "path/with spaces", "emoji 🙂"):
        assert printable(text) == text
