"""Settings: defaults, then the config file, then command-line options on top.

The config file is ``mkfeeds.toml`` in the working directory, else ``[tool.mkfeeds]`` in
``pyproject.toml``, or the file named by ``--config``. Keys are the long option names
(``base-url``, ``limit``, ...) plus feed metadata. Unknown keys are errors that list the
known ones. Parsing is pure (``settings_from_mapping``); ``load_config`` is the thin I/O.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mkfeeds.errors import ConfigError
from mkfeeds.suggest import closest
from mkfeeds.urls import BadURL, absolute_url

PLACEHOLDER_URL = "https://example.com/"
RESERVED_FILE_NAMES = frozenset({"index.html", "feeds.opml", "feed.xsl", ".mkfeeds-manifest.json"})
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


TAXONOMIES = ("topics", "category", "provider")
SORTS = ("newest", "heat", "quality")
CONTENT_MODES = ("full", "summary")


@dataclass(frozen=True)
class CustomFeed:
    """A named feed from the config's ``[[feeds]]`` tables: a filter, a sort, a limit."""

    name: str
    title: str
    path: str  # output folder, relative; default feeds/<name>
    description: str | None = None
    limit: int | None = None  # None: the main limit
    sort: str = "newest"
    content: str = "full"
    topics: tuple[str, ...] = ()  # any of (case-insensitive); empty: no filter
    categories: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()  # provider domain or name
    types: tuple[str, ...] = ()
    min_quality: float | None = None


@dataclass(frozen=True)
class Settings:
    """Everything a build needs to know besides the articles."""

    input: Path = Path("seeds")
    output: Path = Path("out")
    base_url: str = PLACEHOLDER_URL  # where the feed files are served; for self links
    site_url: str | None = None  # the home page; defaults to base_url
    title: str = "mkfeeds sample feed"
    description: str = "Articles published with mkfeeds (placeholder description: set it in mkfeeds.toml)"
    language: str | None = None
    author: str | None = None  # feed author name; defaults to the title
    author_url: str | None = None
    icon: str | None = None
    copyright: str | None = None
    limit: int = 50
    timezone: str = "UTC"
    drafts: bool = False
    future: bool = False
    strict: bool = False
    fail_on_warning: bool = False  # an article's warning fails check, and build as --strict does
    quiet: bool = False
    verbose: bool = False
    rss_file: str = "rss.xml"
    atom_file: str = "atom.xml"
    json_file: str = "feed.json"
    stylesheet: bool = True
    cache: Path | None = Path(".mkfeeds-cache")  # the state folder; None: no state kept
    jobs: int = 0  # worker processes for cold builds; 0 = all cores
    content: str = "full"  # main feed: full content or summary only
    taxonomies: tuple[str, ...] = TAXONOMIES  # which taxonomies get their own feeds
    taxonomy_min_entries: int = 1  # a taxonomy feed exists from this many entries
    taxonomy_limit: int | None = None  # None: the main limit
    taxonomy_content: str = "full"
    feeds: tuple[CustomFeed, ...] = ()
    pages: bool = True  # feeds.opml, index.html and each feed's HTML page
    max_feed_bytes: int = 1_000_000  # warn above this size; 0 = never
    archive: bool = False  # RFC 5005 archive pages for the main and custom feeds
    archive_page_size: int | None = None  # entries per archive page; None: the feed's limit
    taxonomy_archive: bool = False  # archive pages for taxonomy feeds too
    hub: str | None = None  # a WebSub hub every feed names, and ``ping`` tells of changes
    hubs: tuple[str, ...] = ()  # more hubs, as a list
    ping_timeout: float = 10.0  # seconds a hub has to answer one request
    ping_backoff: float = 1.0  # seconds before the second try; doubled before each further one

    @property
    def home_url(self) -> str:
        return self.site_url or self.base_url

    @property
    def hub_urls(self) -> tuple[str, ...]:
        """``hub`` and ``hubs``, each once, in the order given."""
        return tuple(dict.fromkeys(((self.hub,) if self.hub else ()) + self.hubs))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def uses_placeholder_url(self) -> bool:
        return self.base_url == PLACEHOLDER_URL


KEYS = {f.name.replace("_", "-"): f for f in fields(Settings)}


def settings_from_mapping(values: dict[str, Any], source: str | None = None) -> Settings:
    """Check and convert config keys (kebab-case) into ``Settings``."""
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise _unknown_key(unknown[0], KEYS, f"unknown key {unknown[0]!r}; known keys: {', '.join(sorted(KEYS))}",
                           source)
    converted = {KEYS[key].name: _convert(key, value, source) for key, value in values.items()
                 if value is not None}
    settings = Settings(**converted)
    names = {settings.rss_file, settings.atom_file, settings.json_file}
    if len(names) != 3:
        raise ConfigError("rss-file, atom-file and json-file must be three different names", source)
    if names & RESERVED_FILE_NAMES:
        raise ConfigError(f"{sorted(names & RESERVED_FILE_NAMES)[0]} is written by mkfeeds itself; "
                          "choose another feed file name", source)
    return settings


_URL_EXAMPLES = {"base-url": "https://feeds.example.org/", "site-url": "https://news.example.org/",
                 "author-url": "https://news.example.org/about/", "icon": "https://news.example.org/icon.png"}


def _unknown_key(name: str, known: Any, message: str, source: str | None) -> ConfigError:
    """The error for an unknown key, with a "did you mean" hint when one is close."""
    error = ConfigError(message, source)
    guess = closest(name, known)
    if guess is not None:
        error.hint = f"did you mean {guess}?"
    return error


def _convert(key: str, value: Any, source: str | None) -> Any:
    def bad(what: str) -> ConfigError:
        return ConfigError(f"{key} {what}", source)

    if key in ("drafts", "future", "strict", "quiet", "verbose", "stylesheet", "fail-on-warning", "archive",
               "taxonomy-archive"):
        if not isinstance(value, bool):
            raise bad("must be true or false")
        return value
    if key == "feeds":
        if not isinstance(value, (list, tuple)):
            raise bad("must be a list of [[feeds]] tables")
        feeds = tuple(v if isinstance(v, CustomFeed) else _custom_feed(i, v, source) for i, v in enumerate(value))
        names = [f.name for f in feeds]
        paths = [f.path for f in feeds]
        if len(set(names)) != len(names) or len(set(paths)) != len(paths):
            raise bad("must have unique names and paths")
        return feeds
    if key == "taxonomies":
        if not isinstance(value, (list, tuple)) or any(v not in TAXONOMIES for v in value):
            raise bad(f"must be a list drawn from: {', '.join(TAXONOMIES)}")
        return tuple(dict.fromkeys(value))
    if key in ("content", "taxonomy-content"):
        if value not in CONTENT_MODES:
            raise bad("must be \"full\" or \"summary\"")
        return value
    if key == "pages":
        if not isinstance(value, bool):
            raise bad("must be true or false")
        return value
    if key in ("taxonomy-min-entries", "archive-page-size"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad("must be a whole number, 1 or more")
        return value
    if key in ("limit", "jobs", "taxonomy-limit", "max-feed-bytes"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad("must be a whole number, 0 or more")
        return value
    if key in ("ping-timeout", "ping-backoff"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3600 \
                or (key == "ping-timeout" and value == 0):
            raise bad("must be a number of seconds" + (", more than 0" if key == "ping-timeout" else "")
                      + ", at most 3600")
        return float(value)
    if key == "hubs":
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise bad("must be a list of hub URLs")
        return tuple(_hub_url(key, v, source) for v in value)
    if key == "hub":
        if not isinstance(value, str):
            raise bad("must be a hub URL (use hubs for a list)")
        return _hub_url(key, value, source)
    if key in ("input", "output", "cache"):
        if key == "cache" and value is False:
            return None
        if not isinstance(value, (str, Path)) or not str(value):
            raise bad("must be a path")
        return Path(value).expanduser()
    if not isinstance(value, str):
        raise bad("must be text")
    if key in ("base-url", "site-url", "author-url", "icon"):
        try:
            url = absolute_url(value)
        except BadURL as exc:
            if "://" not in value:  # a path such as "feeds/" or "/feeds/": say what an absolute URL is
                example = _URL_EXAMPLES.get(key, "https://feeds.example.org/")
                raise bad(f"must be an absolute URL, with its scheme and host, such as {example} "
                          f"(a relative one has nothing to be resolved against)") from None
            raise bad(f"must be an absolute http(s) URL: it {exc}") from None
        return url if key != "base-url" or url.endswith("/") else url + "/"
    if key == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise bad("must be an IANA time zone name such as UTC or Europe/Paris") from None
        return value
    if key in ("rss-file", "atom-file", "json-file"):
        if not _FILE_NAME.match(value) or value in (".", ".."):
            raise bad("must be a plain file name (letters, digits, '.', '-', '_')")
        return value
    if key == "language" and not re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", value):
        raise bad("must be a language tag such as en or en-GB")
    if not value.strip():
        raise bad("must not be empty")
    return value.strip()


def _hub_url(key: str, value: str, source: str | None) -> str:
    """A hub's URL exactly as it is published in the feeds and requested."""
    try:
        return absolute_url(value.strip())
    except BadURL as exc:
        raise ConfigError(f"{key} must be an absolute http(s) URL: it {exc}", source) from None


_FEED_KEYS = {"name", "title", "description", "path", "limit", "sort", "content", "topics",
              "categories", "providers", "types", "min-quality"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _custom_feed(index: int, table: Any, source: str | None) -> CustomFeed:
    """One ``[[feeds]]`` table."""
    def bad(what: str) -> ConfigError:
        return ConfigError(f"feeds[{index}] {what}", source)

    if not isinstance(table, dict):
        raise bad("must be a table")
    unknown = sorted(set(table) - _FEED_KEYS)
    if unknown:
        raise _unknown_key(unknown[0], _FEED_KEYS, f"feeds[{index}] has unknown key {unknown[0]!r}; "
                           f"known keys: {', '.join(sorted(_FEED_KEYS))}", source)
    name = table.get("name")
    if not isinstance(name, str) or not _SLUG.match(name):
        raise bad("needs a name of lowercase letters, digits, '-' and '_'")
    path = table.get("path", f"feeds/{name}")
    if not isinstance(path, str) or not all(_SLUG.match(part) for part in path.strip("/").split("/")):
        raise bad("path must be folder names of lowercase letters, digits, '-' and '_'")

    def text(key: str, default: str | None) -> str | None:
        value = table.get(key, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise bad(f"{key} must be text")
        return value.strip() if isinstance(value, str) else value

    def names(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad(f"{key} must be a list of names")
        return tuple(value)

    limit = table.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise bad("limit must be a whole number, 0 or more")
    min_quality = table.get("min-quality")
    if min_quality is not None and (isinstance(min_quality, bool) or not isinstance(min_quality, (int, float))):
        raise bad("min-quality must be a number")
    if table.get("sort", "newest") not in SORTS:
        raise bad(f"sort must be one of: {', '.join(SORTS)}")
    if table.get("content", "full") not in CONTENT_MODES:
        raise bad("content must be \"full\" or \"summary\"")
    return CustomFeed(
        name=name, title=text("title", name) or name, path=path.strip("/"),
        description=text("description", None), limit=limit, sort=table.get("sort", "newest"),
        content=table.get("content", "full"), topics=names("topics"), categories=names("categories"),
        providers=names("providers"), types=names("types"),
        min_quality=float(min_quality) if min_quality is not None else None,
    )


def find_config_file(cwd: Path) -> tuple[Path, str | None] | None:
    """``mkfeeds.toml``, else ``pyproject.toml`` with a ``[tool.mkfeeds]`` table."""
    own = cwd / "mkfeeds.toml"
    if os.path.lexists(own):  # not only a regular file: anything else there is an error, not ignored
        return own, None
    pyproject = cwd / "pyproject.toml"
    if os.path.lexists(pyproject):
        return pyproject, "tool.mkfeeds"
    return None


def read_config_file(path: Path, table: str | None = None) -> dict[str, Any]:
    try:  # opened without blocking and checked: a FIFO there must not hang the command
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError("is not a regular file; the config must be a TOML file", _shown(path))
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("config file not found", _shown(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file ({exc.strerror})", _shown(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", _shown(path)) from None
    if table:
        for part in table.split("."):
            document = document.get(part, {})
            if not isinstance(document, dict):
                raise ConfigError(f"[{table}] must be a table", _shown(path))
    return document


def load_config(config_file: Path | None, overrides: dict[str, Any], cwd: Path) -> Settings:
    """Defaults <- config file <- command-line options (``overrides``, kebab-case keys,
    ``None`` meaning "not given"). Paths in a config file are relative to its folder."""
    values: dict[str, Any] = {}
    found = (config_file, None) if config_file else find_config_file(cwd)
    if found:
        path, table = found
        values = read_config_file(path, table)
        shown = _shown(path)
        source = shown if not table else f"{shown} [{table}]"
        settings_from_mapping(values, source)  # blame the file for its own mistakes
        for key in ("input", "output", "cache"):
            if isinstance(values.get(key), str):
                values[key] = _relative_to_file(path, values[key])
    given = {key: value for key, value in overrides.items() if value is not None}
    return settings_from_mapping({**values, **given}, "command line" if given else None)


def _relative_to_file(config_path: Path, value: str) -> str:
    """A path from a config file, read from the file's folder; shown relative to the
    working directory when it lies inside it, so messages stay short."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return str(path)
    return _shown(config_path.parent / path)


def _shown(path: Path) -> str:
    """Relative to the working directory when inside it, else absolute."""
    path = path.absolute()
    try:
        return str(path.relative_to(Path.cwd().absolute()))
    except ValueError:
        return str(path)
