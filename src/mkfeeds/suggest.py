""""Did you mean": the known name closest to a misspelled one, as click does for options
and git for commands. Pure.

Names are compared without case, dashes and underscores first (``baseurl``, ``site_url``
and ``Base_URL`` all mean ``base-url``), then by ``difflib``'s similarity. Only names are
ever suggested or quoted, never the values under them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

CUTOFF = 0.75  # difflib ratio; below it a "suggestion" is a guess that misleads
_LOOSE = re.compile(r"[-_\s]")
_QUOTABLE = re.compile(r"^[A-Za-z0-9_.\-]{1,60}$")  # a name worth echoing back in a message


def loose(name: str) -> str:
    return _LOOSE.sub("", name).casefold()


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` most likely misspells, or None: the same name but for
    case and dashes; else the one name it abbreviates (its letters in order, at least
    half of them: ``publishDate`` -> ``publishedDateTime``); else difflib's closest."""
    by_loose = {loose(k): k for k in known if k != name}
    wanted = loose(name)
    if not wanted:
        return None
    if wanted in by_loose:
        return by_loose[wanted]
    shortened = [k for lk, k in by_loose.items() if len(wanted) >= 4 and 2 * len(wanted) >= len(lk)
                 and _in_order(wanted, lk)]
    if len(shortened) == 1:
        return shortened[0]
    matches = difflib.get_close_matches(wanted, list(by_loose), n=1, cutoff=CUTOFF)
    return by_loose[matches[0]] if matches else None


def _in_order(letters: str, word: str) -> bool:
    rest = iter(word)
    return all(letter in rest for letter in letters)


def quotable(name: object) -> bool:
    """Is this key name plain enough to echo back (letters, digits, ``-_.``, short)?"""
    return isinstance(name, str) and bool(_QUOTABLE.match(name))
