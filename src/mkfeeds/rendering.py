"""Rendering a feed set: each feed's model, and its files in the three formats.

Feeds of a set show the same entries again and again (an article is in the main feed,
in each of its topics, its category, its provider), so each entry's content (its
Markdown body: the dearest step) and each format's rendering of it are made once per
build (``Contents``, ``render.EntryMemo``). A set of many feeds is rendered on all
cores by worker processes forked with what they need already at hand (``forked_map``);
the bytes are the same as in one process."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote, urljoin

from mkfeeds import __version__
from mkfeeds.config import Settings
from mkfeeds.errors import ArticleError
from mkfeeds.feedsets import FeedSpec
from mkfeeds.loading import Loaded, problem_of
from mkfeeds.mapping import body_markdown
from mkfeeds.model import Article, Author, Entry, EntryKey, Feed, FeedFile, FeedListing, FeedMeta, Problem
from mkfeeds.source import SourceFile, load_article

if TYPE_CHECKING:
    from mkfeeds.render import EntryMemo

# The date of a feed with no entries: fixed, so output stays reproducible, and after
# 1990, which validators take as the earliest plausible feed date.
EMPTY_FEED_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)


def with_content(entry: Entry, body_html: str = "") -> Entry:
    """Fill in ``content_html``: the body's HTML (``body_html``, for the entries that are
    published: only they pay for Markdown), then the related links."""
    from mkfeeds import markup  # Markdown and the sanitizer: imported when first needed, after the
                                # workers have started (0.07 s a build need not wait for)
    related = markup.related_list(entry.related)
    if body_html:
        content = body_html + ("\n" + related if related else "")
    elif related:
        content = (markup.paragraph(entry.summary) + "\n" if entry.summary else "") + related
    else:
        content = None
    return replace(entry, content_html=content)


def body_html(entry: Entry, article: Article) -> str:
    """The article's body (or its ``content`` field) as sanitized HTML."""
    from mkfeeds import markup

    return markup.render_markdown(body_markdown(article), entry.url) if entry.has_body else ""


def feed_meta(settings: Settings, spec: FeedSpec) -> FeedMeta:
    return FeedMeta(
        title=spec.title,
        description=spec.description,
        site_url=settings.home_url,
        author=Author(settings.author or settings.title, settings.author_url),
        language=settings.language,
        icon=settings.icon,
        copyright=settings.copyright,
        generator="mkfeeds",
        generator_version=__version__,
    )


STYLESHEET = "feed.xsl"
MEDIA_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}


def file_names(settings: Settings) -> dict[str, str]:
    return {"rss": settings.rss_file, "atom": settings.atom_file, "json": settings.json_file}


def make_feed(settings: Settings, spec: FeedSpec, entries: tuple[Entry, ...]) -> Feed:
    """A feed whose ``updated`` is its newest entry's date: never the clock."""
    updated = max((e.updated for e in entries), key=lambda d: d.timestamp(), default=EMPTY_FEED_DATE)
    base = urljoin(settings.base_url, quote(spec.folder))
    names = file_names(settings)
    depth = spec.folder.count("/")
    return Feed(
        meta=feed_meta(settings, spec),
        rss_url=urljoin(base, names["rss"]),
        atom_url=urljoin(base, names["atom"]),
        json_url=urljoin(base, names["json"]),
        updated=updated,
        entries=entries,
        stylesheet="../" * depth + STYLESHEET if settings.stylesheet else None,
    )


def render_feed(settings: Settings, feed: Feed, folder: str = "", memo: EntryMemo | None = None) -> dict[str, bytes]:
    """The feed in the three formats. A ``memo`` shared by the feeds of a build has each
    entry's XML built once, however many feeds show it."""
    from mkfeeds.render import render_atom, render_json, render_rss  # feedgen and lxml: 40 ms to import,
                                                                    # while the workers read (_prepare_rendering)
    names = file_names(settings)
    return {
        folder + names["rss"]: render_rss(feed, memo),
        folder + names["atom"]: render_atom(feed, memo),
        folder + names["json"]: render_json(feed, memo),
    }


def listing(settings: Settings, spec: FeedSpec, feed: Feed, entries: int) -> FeedListing:
    urls = {"rss": feed.rss_url, "atom": feed.atom_url, "json": feed.json_url}
    return FeedListing(
        key=spec.key, kind=spec.kind, title=spec.title, description=spec.description,  # type: ignore[arg-type]
        entries=entries,
        files=tuple(FeedFile(fmt, spec.folder + name, urls[fmt], MEDIA_TYPES[fmt])  # type: ignore[arg-type]
                    for fmt, name in file_names(settings).items()),
    )


# Rendering: in this process, or for a larger feed set on all cores
RENDER_PARALLEL_MIN = 8  # feeds; fewer render faster here than a pool starts
BODY_PARALLEL_MIN = 64  # bodies to render (about 2 ms each)
BODIES_PER_PROCESS = 32  # at least, so that a pool's start-up pays


def render_feeds(settings: Settings, specs: list[FeedSpec], pending: list[int],
                 contents: Contents) -> dict[int, tuple[Feed, dict[str, bytes], int]]:
    """Render the ``pending`` feeds: spec index -> (feed, files, entries rendered). The
    bodies they show are rendered first, each once (``Contents.prepare``). A feed set
    with many feeds (taxonomies) is rendered on all cores, by worker processes forked
    with the entries and bodies at hand; each feed's bytes are the same either way."""
    contents.prepare([key for index in pending if specs[index].full_content for key in specs[index].entries])
    if len(pending) >= RENDER_PARALLEL_MIN:
        rendered = forked_map(lambda index: _render_in_worker(settings, specs[index], contents),
                              pending, _processes(settings, len(pending)))
        if rendered is not None:
            return _collect_renderings(settings, specs, pending, contents, rendered)
    return {index: _render_one(settings, specs[index], contents) for index in pending}


def _render_one(settings: Settings, spec: FeedSpec, contents: Contents) -> tuple[Feed, dict[str, bytes], int]:
    entries = tuple(e for e in map(contents.full if spec.full_content else contents.entry, spec.entries)
                    if e is not None)
    feed = make_feed(settings, spec, entries)
    return feed, render_feed(settings, feed, spec.folder, contents.xml), len(entries)


def _render_in_worker(settings: Settings, spec: FeedSpec, contents: Contents
                      ) -> tuple[dict[str, bytes], int, list[Problem]]:
    """Files, count and the problems met: the parent keeps its own model of each feed."""
    before = len(contents.problems)
    _, files, count = _render_one(settings, spec, contents)
    return files, count, contents.problems[before:]


def _collect_renderings(settings: Settings, specs: list[FeedSpec], pending: list[int], contents: Contents,
                        results: list) -> dict[int, tuple[Feed, dict[str, bytes], int]]:
    """The workers' files with the parent's model of each feed (entries without their
    content, for ``Plan.feeds``); a problem of an entry in several feeds is told once."""
    seen = set(contents.problems)
    rendered = {}
    for index, (files, count, problems) in zip(pending, results):
        for problem in problems:
            if problem not in seen:
                seen.add(problem)
                contents.problems.append(problem)
        spec = specs[index]
        entries = tuple(e for e in map(contents.entry, spec.entries) if e is not None)
        rendered[index] = (make_feed(settings, spec, entries), files, count)
    return rendered


def _processes(settings: Settings, tasks: int) -> int:
    from mkfeeds.loading import allowed_processes

    return min(allowed_processes(settings), tasks)


_forked: tuple | None = None  # what a worker of ``forked_map`` inherits: (function, parent's pid)


def forked_map(function: Callable[[Any], Any], items: list, processes: int) -> list | None:
    """``[function(item) for item in items]`` in worker processes forked from this one,
    so ``function`` (a closure) and all it reads are inherited, not sent; only items and
    results are. None when it does not pay (one process) or no pool can be had: the
    caller then does the work here."""
    if processes < 2 or not sys.platform.startswith("linux"):
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _forked
    _forked = (function, os.getpid())
    try:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_start_forked) as executor:
            return list(executor.map(_call_forked, items, chunksize=max(1, len(items) // (processes * 8))))
    except (BrokenProcessPool, OSError):
        return None
    finally:
        _forked = None


def _start_forked() -> None:
    import gc

    from mkfeeds.loading import watch_parent

    assert _forked is not None
    gc.freeze()  # the parent's objects are never garbage here: do not scan (and copy) them
    watch_parent(_forked[1])


def _call_forked(item: Any) -> Any:
    assert _forked is not None
    return _forked[0](item)


class Contents:
    """Whole entries, decoded once, and with their HTML content and their XML, rendered
    once, however many feeds hold them."""

    def __init__(self, sources: dict[str, SourceFile], loaded: Loaded, problems: list[Problem],
                 settings: Settings) -> None:
        self.sources, self.loaded, self.problems, self.settings = sources, loaded, problems, settings
        self.entries: dict[str, Entry | None] = {}
        self.done: dict[str, Entry | None] = {}
        self.bodies: dict[str, str | None] = {}  # entry id -> body HTML; None: it could not be had
        self.troubled: set[str] = set()  # ids of entries whose body came with a problem
        from mkfeeds.render import EntryMemo

        self.xml = EntryMemo()

    def entry(self, key: Entry | EntryKey) -> Entry | None:
        if key.id not in self.entries:
            self.entries[key.id] = self.loaded.entry(key)
        return self.entries[key.id]

    def full(self, key: Entry | EntryKey) -> Entry | None:
        if key.id not in self.done:
            entry = self.entry(key)
            self.done[key.id] = None if entry is None else self._with_content(entry)
        return self.done[key.id]

    def prepare(self, keys: list[Entry | EntryKey]) -> None:
        """Render the bodies of these entries, each once: from the cache where an earlier
        build rendered the same text, else here or, when there are many, on all cores;
        the new ones go to the cache. Entries without a body need no file."""
        wanted: dict[str, Entry] = {}
        for key in keys:
            entry = self.entry(key)
            if entry is not None and entry.has_body and entry.id not in self.bodies and entry.id not in wanted:
                cached = self.loaded.body(entry)
                if cached is not None:
                    self.bodies[entry.id] = cached
                else:
                    wanted[entry.id] = entry
        if not wanted:
            return
        todo = list(wanted.values())
        results = None
        if len(todo) >= BODY_PARALLEL_MIN:
            results = forked_map(lambda i: self._render_body(todo[i]), list(range(len(todo))),
                                 _processes(self.settings, len(todo) // BODIES_PER_PROCESS))
        if results is None:
            results = [self._render_body(entry) for entry in todo]
        keep = []
        for entry, (html, problems, reusable) in zip(todo, results):
            self.bodies[entry.id] = html
            self.problems.extend(problems)
            if problems:
                self.troubled.add(entry.id)
            if reusable:
                keep.append((html, entry.source))
        self.loaded.keep_bodies(keep)

    def _render_body(self, entry: Entry) -> tuple[str | None, list[Problem], bool]:
        """(HTML or None, problems, whether the HTML may be cached): the file is read
        again, as only published entries pay for Markdown."""
        from mkfeeds import markup

        try:
            article = load_article(self.sources[entry.source])
        except ArticleError as exc:  # changed or vanished since it was first read
            return None, [problem_of(exc)], False
        problems = []
        if markup.too_much_markup(body_markdown(article)):
            problems.append(Problem("warning", entry.source, f"more than {markup.MAX_RAW_TAGS:,} HTML tags; "
                                    "the body's raw HTML is shown as text", field="body"))
        try:
            html = body_html(entry, article)
        except Exception as exc:  # a bug must not cost the other articles
            if os.environ.get("MKFEEDS_DEBUG"):
                raise
            return None, [*problems, _internal_error(entry, exc)], False
        return html, problems, not problems  # with a warning, not cached: it is told at every build

    def _with_content(self, entry: Entry) -> Entry | None:
        if entry.has_body and entry.id not in self.bodies:
            self.prepare([entry])
        html = self.bodies.get(entry.id, "")
        if html is None:
            return None
        try:
            return with_content(entry, html)
        except Exception as exc:  # a bug must not cost the other articles
            if os.environ.get("MKFEEDS_DEBUG"):
                raise
            self.problems.append(_internal_error(entry, exc))
            return None


def _internal_error(entry: Entry, exc: Exception) -> Problem:
    return Problem("error", entry.source, f"internal error ({type(exc).__name__}); please report it")
