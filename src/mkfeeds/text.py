"""Plain-text cleaning shared by every text field: pure functions, no I/O.

XML 1.0 forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF; feedgen fails late
on them and JSON readers choke on surrogates. DEL (U+007F) and the C1 controls
(U+0080-U+009F) are legal XML but draw W3C warnings and are never meaningful in text,
so they go too.
"""

from __future__ import annotations

import re

_FORBIDDEN = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
ELLIPSIS = "\u2026"


def clean(text: str) -> str:
    """Remove characters that cannot travel in XML 1.0 (and DEL and C1 controls)."""
    return _FORBIDDEN.sub("", text)


def truncate(text: str, limit: int) -> str:
    """Cut to at most ``limit`` characters at a word boundary when one is near, marking
    the cut with an ellipsis. Done on plain text, before any escaping, so no entity or
    tag is ever cut in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not text[limit - 1].isspace():  # the cut splits a word: end at the one before
        space = cut.rfind(" ")
        if space > limit * 0.8:
            cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def one_line(text: str) -> str:
    """Collapse runs of white space (titles, names) into single spaces."""
    return " ".join(text.split())


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\udc80-\udcff]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a file name that is not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` (a path, a message naming one) safe to print as part of one line: control
    characters, line separators and undecodable bytes written as escapes (``\\n``,
    ``\\x1b``), as git and ls do, so a file name cannot break "one problem per line"."""
    return _UNPRINTABLE.sub(_escaped, text)
