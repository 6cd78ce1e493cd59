"""Text from input, made safe to echo: the one helper every output of the tool goes through.

A terminal obeys control characters: an ESC sequence in a skip reason, a server.json note or
a manifest name can move the cursor, erase lines and forge "No findings"; a newline can forge
a `mcp-scaffold: note:` line or a CI workflow command (`::error::`). So every character that is
not printable text is shown as an escape instead: C0 controls (newline and tab included),
DEL, C1 controls, the Unicode line and paragraph separators, and the bidirectional overrides
and isolates that reorder what a reviewer reads (CVE-2021-42574, "Trojan Source").

A leaf module: it imports nothing from the package."""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
# C0, DEL, C1; U+2028/2029 (line breaks to many readers); bidi embeddings, overrides and
# isolates (U+202A-202E, U+2066-2069), the marks U+200E/200F and U+061C, and U+FEFF (BOM).
_UNSAFE = re.compile("[\\\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                     "\u2066-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character escaped (a backslash as ``\\\\``), so that what
    is printed is one line that shows exactly what the input held. Printable text, non-ASCII
    letters included, is unchanged."""
    return _UNSAFE.sub(_escape, text)
