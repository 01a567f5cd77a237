"""``mkfeeds init``: a starter folder, as ``hugo new site`` makes one: a commented
``mkfeeds.toml`` showing every key with its default, and one minimal article.

The config text is made from ``Settings`` itself (every field, its default), so a key
added later shows up here without anyone remembering to; the comments say what each
means. ``starter_files`` is pure; ``create`` is the I/O and never overwrites a file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from mkfeeds.config import KEYS, Settings
from mkfeeds.errors import MkfeedsError
from mkfeeds.output import write_all

CONFIG_FILE = "mkfeeds.toml"
ARTICLES = "articles"  # the starter's input folder: a name that says what is in it
EXAMPLE = f"{ARTICLES}/hello-mkfeeds.md"

# What each key means, in a few words (the README has the whole story).
_MEANING = {
    "input": "folder of articles, walked recursively",
    "output": "folder the feeds are written to",
    "base-url": "set it: the public URL of the output folder (self links, feed ids)",
    "site-url": "the site's home page; relative article links resolve against it (default: base-url)",
    "title": "feed title",
    "description": "feed description",
    "language": "language tag of the feeds, such as en or en-GB",
    "author": "feed author (Atom requires one); default: the title",
    "author-url": "the author's page",
    "icon": "URL of the feeds' icon",
    "copyright": "copyright notice",
    "limit": "entries per feed, newest first; 0 = all",
    "timezone": "zone of dates written without an offset",
    "drafts": "include articles with published: false",
    "future": "include articles dated after now (scheduled)",
    "strict": "a rejected article fails the build, which then writes nothing",
    "fail-on-warning": "an article's warning fails check and build too",
    "quiet": "print nothing but errors",
    "verbose": "also list every file written or removed",
    "rss-file": "output file names",
    "atom-file": "",
    "json-file": "",
    "stylesheet": "feed.xsl, so a feed opened in a browser reads as a page",
    "cache": "the state folder that makes rebuilds cheap; false keeps none",
    "jobs": "worker processes for cold builds; 0 = all cores",
    "content": "main feed: \"full\" content or \"summary\" only",
    "taxonomies": "which taxonomies get their own feeds",
    "taxonomy-min-entries": "a term's feed exists from this many entries",
    "taxonomy-limit": "entries per taxonomy feed (default: limit)",
    "taxonomy-content": "\"full\" or \"summary\" in taxonomy feeds",
    "pages": "feeds.opml and index.html",
    "max-feed-bytes": "warn when a feed file is larger; 0 = never",
    "archive": "every entry also in archive pages (RFC 5005), for the main and custom feeds",
    "archive-page-size": "entries per archive page (default: the feed's limit)",
    "taxonomy-archive": "archive pages for the taxonomy feeds too",
    "hub": "a WebSub hub every feed names; `mkfeeds ping` tells it of changes",
    "hubs": "more WebSub hubs, as a list",
    "ping-timeout": "seconds a hub has to answer one ping request",
    "ping-backoff": "seconds before a ping's second try; doubled before the third",
}

# Keys whose default is "none" (or derived), shown commented out with an example value.
_EXAMPLES: dict[str, Any] = {
    "site-url": "https://example.com/",
    "language": "en",
    "author": "Example Desk",
    "author-url": "https://example.com/about/",
    "icon": "https://example.com/icon.png",
    "copyright": "© Example Desk",
    "taxonomy-limit": 20,
    "archive-page-size": 50,
    "hub": "https://pubsubhubbub.appspot.com/",
}

# Keys the starter sets (uncommented), with the value it gives them.
_SET = {"input": ARTICLES, "title": "My feed", "description": "What this feed is about"}

_FEEDS_EXAMPLE = """\
# Custom feeds, as many as you like (none by default):
# [[feeds]]
# name = "top-stories"          # out/feeds/top-stories/ unless path is given
# title = "Top stories"
# sort = "newest"               # newest, heat or quality
# limit = 20
# topics = ["AI"]               # any of; also categories, providers, types
# content = "summary"
"""


def toml_value(value: Any) -> str:
    """A default as TOML writes it (the values ``Settings`` holds: text, paths, numbers,
    yes/no, lists of text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value}"
    if isinstance(value, Path):
        value = value.as_posix()
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def config_text() -> str:
    defaults = Settings()
    lines = [
        "# mkfeeds.toml: the settings of `mkfeeds build` and `mkfeeds check`.",
        "# Every key is here with its default. A line starting with '#' keeps the default;",
        "# remove the '#' to change it. Paths are relative to this file's folder, and",
        "# options on the command line override what is set here.",
        "",
    ]
    for key, field in KEYS.items():
        if key == "feeds":
            continue
        default = getattr(defaults, field.name)
        meaning = _MEANING.get(key, "see README.md")
        if key in _SET:
            note = f" (default: {toml_value(default)})" if key == "input" else ""
            lines.append(_line(f"{key} = {toml_value(_SET[key])}", meaning + note))
        elif default is None:
            example = _EXAMPLES.get(key, "")
            unset = "" if "default" in meaning else "; not set by default"
            lines.append(_line(f"# {key} = {toml_value(example)}", meaning + unset))
        else:
            try:
                lines.append(_line(f"# {key} = {toml_value(default)}", meaning))
            except TypeError:  # a value TOML cannot show in one line: the README tells it
                lines.append(f"# {key}: see README.md")
    lines.append("")
    return "\n".join(lines) + "\n" + _FEEDS_EXAMPLE


def _line(assignment: str, meaning: str) -> str:
    return f"{assignment:<44} # {meaning}" if meaning else assignment


def example_article(today: date) -> str:
    """The smallest article worth publishing: the keys an article needs, and a body."""
    return (
        "---\n"
        "title: Hello, mkfeeds\n"
        f"publishedDateTime: {today.isoformat()}\n"
        "webUrl: https://example.com/hello-mkfeeds/\n"
        "excerpt: The first article of this feed.\n"
        "---\n"
        "This is the article's body, in **Markdown**. Feeds that carry full content show it;\n"
        "the excerpt above is the summary.\n"
    )


def starter_files(today: date) -> dict[str, bytes]:
    return {CONFIG_FILE: config_text().encode(), EXAMPLE: example_article(today).encode()}


class AlreadyThere(MkfeedsError):
    """``init`` would overwrite a file: it writes nothing."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        verb = "exists" if len(paths) == 1 else "exist"
        super().__init__(f"{' and '.join(paths)} already {verb}; mkfeeds init never overwrites a file")
        self.hint = "move it away, or run mkfeeds init in another folder (mkfeeds init DIR)"


def create(folder: Path, today: date) -> list[str]:
    """Write the starter files under ``folder`` (made if missing); refuses, writing
    nothing, if any of them exists. Returns their paths relative to ``folder``."""
    files = starter_files(today)
    taken = [name for name in files if (folder / name).exists() or (folder / name).is_symlink()]
    if taken:
        raise AlreadyThere([(folder / name).as_posix() for name in taken])
    write_all(folder, files)
    return list(files)

