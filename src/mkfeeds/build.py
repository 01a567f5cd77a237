"""The pipeline, and the only module that sequences I/O:
files -> outcomes (load + map, per file) -> selection (pure) -> feed set (pure) ->
content for the chosen entries only -> renderings of every feed and page -> atomic
writes, then removal of the files an earlier build wrote and this one does not."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import time

from dataclasses import dataclass, field, replace
from operator import attrgetter
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable
from urllib.parse import quote, urljoin

from mkfeeds import __version__
from mkfeeds.config import Settings
from mkfeeds.errors import ArticleError, ConfigError, OutputError
from mkfeeds.feedsets import FeedSpec, all_specs
from mkfeeds.loading import Loaded, load_outcomes, problem_of
from mkfeeds.mapping import MappingSettings, body_markdown
from mkfeeds.model import Article, Author, Entry, EntryKey, Feed, FeedFile, FeedListing, FeedMeta, FileOutcome, Problem
from mkfeeds.output import MANIFEST, read_build_stamp, read_feed_stamps, read_manifest, remove_stale, write_all, write_feed_stamps, write_manifest
from mkfeeds.source import SourceFile, discover, load_article

if TYPE_CHECKING:
    from mkfeeds.render import EntryMemo

# The date of a feed with no entries: fixed, so output stays reproducible, and after
# 1990, which validators take as the earliest plausible feed date.
EMPTY_FEED_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Selection:
    """The outcome of choosing what to publish, before any rendering."""

    entries: tuple[Entry, ...]  # every publishable entry, newest first (not yet limited)
    drafts: int
    scheduled: int
    problems: tuple[Problem, ...]  # duplicates found while selecting
    next_due: datetime | None = None  # when the first scheduled entry is due


@dataclass
class BuildResult:
    files_written: tuple[str, ...] = ()
    files_unchanged: tuple[str, ...] = ()
    entries: int = 0  # entries in the main feed
    published: int = 0  # articles that are publishable
    drafts: int = 0
    scheduled: int = 0
    files_removed: tuple[str, ...] = ()
    feeds: int = 0  # logical feeds (each in three formats)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # build-level warnings (feed size)
    written: bool = False
    next_due: datetime | None = None  # the output changes then, even if no file does
    up_to_date: bool = False  # nothing changed since the last build: nothing was read

    @property
    def rejected(self) -> int:
        return len({p.path for p in self.problems if p.severity == "error"})

    @property
    def withheld(self) -> int:
        return self.drafts + self.scheduled


class StrictFailure(Exception):
    """``--strict`` and at least one article was rejected: nothing was written."""

    def __init__(self, result: BuildResult) -> None:
        self.result = result
        super().__init__(f"{result.rejected} article(s) rejected; nothing written (--strict)")


def mapping_settings(settings: Settings) -> MappingSettings:
    return MappingSettings(site_url=settings.home_url, zone=settings.zone)


def select(outcomes: Iterable[FileOutcome], now: datetime, *, drafts: bool, future: bool) -> Selection:
    """Withhold drafts and scheduled articles, drop duplicate ids (the first by path
    wins), and order newest first, ties broken by id. Pure."""
    chosen: dict[str, Entry] = {}
    problems: list[Problem] = []
    n_drafts = n_scheduled = 0
    next_due: datetime | None = None
    for outcome in sorted(outcomes, key=attrgetter("rel")):
        entry = outcome.entry
        if entry is None:
            continue
        if entry.draft and not drafts:
            n_drafts += 1
            continue
        if entry.published > now and not future:
            n_scheduled += 1
            if next_due is None or entry.published < next_due:
                next_due = entry.published
            continue
        first = chosen.get(entry.id)
        if first is not None:
            problems.append(Problem(
                "error", entry.source,
                f"has the same link (id) as {first.source}, which is published instead",
                field="webUrl"))
            continue
        chosen[entry.id] = entry
    ordered = sorted(chosen.values(), key=lambda e: (-e.published.timestamp(), e.id))
    return Selection(tuple(ordered), n_drafts, n_scheduled, tuple(problems), next_due)


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
OPML = "feeds.opml"
INDEX = "index.html"
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


def check_input_folder(settings: Settings) -> None:
    if not settings.input.is_dir():
        raise OutputError(str(settings.input), "the input folder does not exist or is not a folder")


@dataclass(frozen=True)
class Plan:
    """Everything a build would publish, rendered, before anything is written."""

    result: BuildResult
    feeds: dict[str, Feed]  # feed key ("main", "topics/ai", ...) -> feed model
    files: dict[str, bytes]  # relative output path -> bytes, for what had to be rendered
    kept: tuple[str, ...] = ()  # files of feeds unchanged since the last build: not re-rendered
    digests: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # key -> digest, files


def feed_digest(environment: str, spec: FeedSpec, sources: dict[str, SourceFile],
                fingerprint: Callable[[Any], str] = repr) -> str:
    """What a feed's bytes depend on: the ``environment`` (``output_environment``), the
    feed's place and title, and each entry (``fingerprint``: its stored JSON, or its repr)
    with its file's size and mtime (for the body). Equal digests mean equal bytes, so an
    unchanged feed need not be rendered again."""
    digest = hashlib.sha256(repr((environment, spec.key, spec.kind, spec.folder, spec.title,
                                  spec.description, spec.full_content)).encode())
    for entry in spec.entries:
        source = sources[entry.source]
        digest.update(repr((fingerprint(entry), source.size, source.mtime_ns)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


# Rendering: in this process, or for a larger feed set on all cores
RENDER_PARALLEL_MIN = 8  # feeds; fewer render faster here than a pool starts
BODY_PARALLEL_MIN = 64  # bodies to render (about 2 ms each)


def _render_feeds(settings: Settings, specs: list[FeedSpec], pending: list[int],
                  contents: _Contents) -> dict[int, tuple[Feed, dict[str, bytes], int]]:
    """Render the ``pending`` feeds: spec index -> (feed, files, entries rendered). The
    bodies they show are rendered first, each once (``_Contents.prepare``). A feed set
    with many feeds (taxonomies) is rendered on all cores, by worker processes forked
    with the entries and bodies at hand; each feed's bytes are the same either way."""
    contents.prepare([key for index in pending if specs[index].full_content for key in specs[index].entries])
    if len(pending) >= RENDER_PARALLEL_MIN:
        rendered = _forked_map(lambda index: _render_in_worker(settings, specs[index], contents),
                               pending, _processes(settings, len(pending)))
        if rendered is not None:
            return _collect_renderings(settings, specs, pending, contents, rendered)
    return {index: _render_one(settings, specs[index], contents) for index in pending}


def _render_one(settings: Settings, spec: FeedSpec, contents: _Contents) -> tuple[Feed, dict[str, bytes], int]:
    entries = tuple(e for e in map(contents.full if spec.full_content else contents.entry, spec.entries)
                    if e is not None)
    feed = make_feed(settings, spec, entries)
    return feed, render_feed(settings, feed, spec.folder, contents.xml), len(entries)


def _render_in_worker(settings: Settings, spec: FeedSpec, contents: _Contents
                      ) -> tuple[dict[str, bytes], int, list[Problem]]:
    """Files, count and the problems met: the parent keeps its own model of each feed."""
    before = len(contents.result.problems)
    _, files, count = _render_one(settings, spec, contents)
    return files, count, contents.result.problems[before:]


def _collect_renderings(settings: Settings, specs: list[FeedSpec], pending: list[int], contents: _Contents,
                        results: list) -> dict[int, tuple[Feed, dict[str, bytes], int]]:
    """The workers' files with the parent's model of each feed (entries without their
    content, for ``Plan.feeds``); a problem of an entry in several feeds is told once."""
    seen = set(contents.result.problems)
    rendered = {}
    for index, (files, count, problems) in zip(pending, results):
        for problem in problems:
            if problem not in seen:
                seen.add(problem)
                contents.result.problems.append(problem)
        spec = specs[index]
        entries = tuple(e for e in map(contents.entry, spec.entries) if e is not None)
        rendered[index] = (make_feed(settings, spec, entries), files, count)
    return rendered


def _processes(settings: Settings, tasks: int) -> int:
    from mkfeeds.loading import available_cpus

    return min(settings.jobs or available_cpus(), tasks)


_forked: tuple | None = None  # what a worker of ``_forked_map`` inherits: (function, parent's pid)


def _forked_map(function: Callable[[Any], Any], items: list, processes: int) -> list | None:
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


class _Contents:
    """Whole entries, decoded once, and with their HTML content and their XML, rendered
    once, however many feeds hold them."""

    def __init__(self, sources: dict[str, SourceFile], loaded: Loaded, result: BuildResult,
                 settings: Settings) -> None:
        self.sources, self.loaded, self.result, self.settings = sources, loaded, result, settings
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
            results = _forked_map(lambda i: self._render_body(todo[i]), list(range(len(todo))),
                                  _processes(self.settings, len(todo) // (BODY_PARALLEL_MIN // 2)))
        if results is None:
            results = [self._render_body(entry) for entry in todo]
        keep = []
        for entry, (html, problems, reusable) in zip(todo, results):
            self.bodies[entry.id] = html
            self.result.problems.extend(problems)
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
            self.result.problems.append(_internal_error(entry, exc))
            return None


def _internal_error(entry: Entry, exc: Exception) -> Problem:
    return Problem("error", entry.source, f"internal error ({type(exc).__name__}); please report it")


def plan(settings: Settings, now: datetime, progress: Callable[[int], None] | None = None,
         reusable: dict[str, str] | None = None, sources: list[SourceFile] | None = None) -> Plan:
    """Read, map, select and render. Article problems are collected in the result;
    only configuration and input-folder failures raise. ``reusable`` maps feed keys to
    the digests of feeds whose files are on disk as the last build wrote them: a feed
    whose digest is unchanged is not rendered again (its files are ``kept``)."""
    check_input_folder(settings)
    rules = mapping_settings(settings)
    if sources is None:
        sources = discover(settings.input)
    with load_outcomes(sources, settings, rules, progress,  # cache warnings: the mkfeeds logger
                       meanwhile=_prepare_rendering) as loaded:
        return _plan(settings, now, sources, loaded, reusable)


def _prepare_rendering() -> None:
    """Import Markdown, the sanitizer, the feed and page writers while workers read articles."""
    from mkfeeds import markup, pages, render  # noqa: F401


def _plan(settings: Settings, now: datetime, sources: list[SourceFile], loaded: Loaded,
          reusable: dict[str, str] | None) -> Plan:
    result = BuildResult()
    for outcome in loaded.outcomes:
        result.problems.extend(outcome.problems)
    selection = select(loaded.outcomes, now, drafts=settings.drafts, future=settings.future)
    result.problems.extend(selection.problems)
    result.published, result.drafts, result.scheduled = (
        len(selection.entries), selection.drafts, selection.scheduled)
    result.next_due = selection.next_due

    by_rel = {s.rel: s for s in sources}
    contents = _Contents(by_rel, loaded, result, settings)
    specs = all_specs(settings, selection.entries)
    environment = output_environment(settings)
    claimed: set[str] = set()
    digests: dict[str, tuple[str, list[str]]] = {}
    kept: list[str] = []
    pending: list[int] = []  # the feeds to render
    for index, spec in enumerate(specs):
        names = [spec.folder + name for name in file_names(settings).values()]
        if claimed.intersection(names):
            raise ConfigError(f"two feeds would be written to {spec.folder or './'}: give the custom feed "
                              "another path")
        claimed.update(names)
        digest = feed_digest(environment, spec, by_rel, loaded.fingerprint)
        digests[spec.key] = (digest, names)
        if reusable and reusable.get(spec.key) == digest:
            kept.extend(names)
        else:
            for key in spec.entries:  # decoded here, before any worker starts: they share them
                contents.entry(key)
            pending.append(index)

    renderings = _render_feeds(settings, specs, pending, contents)
    feeds: dict[str, Feed] = {}
    files: dict[str, bytes] = {}
    listings: list[FeedListing] = []
    for index, spec in enumerate(specs):
        if index in renderings:
            feed, rendered, count = renderings[index]
            files.update(rendered)
            if count != len(spec.entries) or any(key.id in contents.troubled for key in spec.entries):
                # an entry could not be rendered, or had a problem a build must tell again: never reuse
                digests[spec.key] = ("", digests[spec.key][1])
        else:
            feed, count = make_feed(settings, spec, ()), len(spec.entries)  # on disk already; URLs only
        feeds[spec.key] = feed
        listings.append(listing(settings, spec, feed, count))
        if spec.key == "main":
            result.entries = count
    result.problems.extend(loaded.late_problems)
    result.feeds = len(feeds)
    from mkfeeds import pages

    if settings.stylesheet:
        files[STYLESHEET] = pages.stylesheet()
    if settings.pages:
        files[OPML] = pages.render_opml(settings.title, settings.home_url, listings)
        files[INDEX] = pages.render_index(settings.title, settings.description, settings.home_url, listings,
                                          opml_path=OPML, language=settings.language)
    result.notices.extend(_over_budget(settings, files))
    result.problems.sort(key=lambda p: (p.path, p.line or 0))
    return Plan(result, feeds, files, tuple(kept), digests)


def _over_budget(settings: Settings, files: dict[str, bytes]) -> list[str]:
    """Aggregators give up on feeds of 512 KB to 1 MB: say which feeds are too big."""
    budget = settings.max_feed_bytes
    feed_names = tuple(file_names(settings).values())
    return [
        f"{settings.output / name} is {len(data):,} bytes, above the {budget:,}-byte budget "
        "(max-feed-bytes); lower the limit or publish summaries only"
        for name, data in sorted(files.items())
        if budget and name.endswith(feed_names) and len(data) > budget
    ]


def build(settings: Settings, now: datetime, *, write: bool = True,
          progress: Callable[[int], None] | None = None) -> BuildResult:
    """Build and (with ``write``) publish: every file is rendered before the first is
    written; with ``strict`` a rejection writes nothing. Files an earlier build wrote
    (listed in its manifest) and this one does not are removed afterwards. When the
    inputs are exactly those of the last build (``up_to_date``), nothing is read and
    the last build's result is reported again."""
    started_ns = time.time_ns()
    stamps = feed_stamps_path(settings)
    sources = inputs = None
    if write and stamps is not None:
        check_input_folder(settings)
        sources = discover(settings.input)
        inputs = inputs_digest(settings, sources)
        replayed = up_to_date(read_build_stamp(stamps, settings.output), inputs, sources, now)
        if replayed is not None:
            if settings.strict and replayed.rejected:
                raise StrictFailure(replayed)
            return replayed
    planned = plan(settings, now, progress, reusable=read_feed_stamps(stamps, settings.output) if write else None,
                   sources=sources)
    result = planned.result
    if settings.strict and result.rejected:
        raise StrictFailure(result)
    if write:
        previous = read_manifest(settings.output)
        current = set(planned.files) | set(planned.kept)
        write_manifest(settings.output, previous | current)  # a crash leaves a superset
        outcome = write_all(settings.output, planned.files)
        result.files_written = outcome.written
        result.files_unchanged = tuple(sorted(outcome.unchanged + planned.kept))
        result.files_removed = tuple(remove_stale(settings.output, previous - current))
        write_manifest(settings.output, current)
        record = None if inputs is None else build_record(result, inputs, started_ns, now)
        write_feed_stamps(stamps, settings.output, planned.digests, record, current | {MANIFEST})
        result.written = True
    return result


# ---------------------------------------------------------------------------------------------
# Up to date: the same inputs as the last build
# ---------------------------------------------------------------------------------------------

# The libraries that write feeds and pages; those that read articles and make HTML of their
# bodies are in the cache's fingerprint (``cache.fingerprint``), so a new feedgen does not
# empty the cache.
_RENDERING_LIBRARIES = frozenset({"feedgen", "lxml"})


@functools.lru_cache(maxsize=1)
def _rendering_libraries() -> tuple[str, ...]:
    """The installed rendering libraries, as the names of their ``*.dist-info`` folders
    (``lxml-6.1.3.dist-info``), read without importing them."""
    from mkfeeds.cache import installed_versions

    return installed_versions(_RENDERING_LIBRARIES)


@functools.lru_cache(maxsize=1)
def _package_digest() -> str:
    """A digest of mkfeeds' own files: during development the version does not move."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=20)
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".xsl") and path.is_file():
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def output_environment(settings: Settings) -> str:
    """Everything besides the articles (and the clock) that output depends on: mkfeeds'
    code, the cache's fingerprint (mapping rules, model, parsers, input folder), Python,
    the rendering libraries and the settings. Part of every feed digest and of the
    up-to-date digest: a new renderer, even at the same version, renders again."""
    from mkfeeds.cache import CacheUnavailable, fingerprint

    try:
        cache_key = fingerprint(mapping_settings(settings), settings.input)
    except CacheUnavailable:
        cache_key = None
    relevant = replace(settings, quiet=False, verbose=False, jobs=0, cache=None, strict=False)
    return hashlib.blake2b(repr((__version__, _package_digest(), cache_key, sys.version, _rendering_libraries(),
                                 relevant)).encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def inputs_digest(settings: Settings, sources: list[SourceFile]) -> str:
    """The ``output_environment`` and every article file's path, size and modification
    time (the build cache's own test of a file being unchanged)."""
    digest = hashlib.blake2b(output_environment(settings).encode(), digest_size=20)
    digest.update("\n".join([f"{s.rel}\0{s.size}\0{s.mtime_ns}" for s in sources])
                  .encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def build_record(result: BuildResult, inputs: str, started_ns: int, now: datetime) -> dict[str, Any]:
    """What ``up_to_date`` needs to report this build again without doing it."""
    return {
        "inputs": inputs, "started_ns": started_ns, "now": now.isoformat(),
        "next_due": result.next_due.isoformat() if result.next_due else None,
        "result": {"entries": result.entries, "published": result.published, "drafts": result.drafts,
                   "scheduled": result.scheduled, "feeds": result.feeds, "notices": list(result.notices),
                   "problems": [[p.severity, p.path, p.message, p.field, p.line] for p in result.problems]},
    }


def up_to_date(record: dict[str, Any] | None, inputs: str, sources: list[SourceFile],
               now: datetime) -> BuildResult | None:
    """The last build's result, if this build would do exactly what it did: same inputs
    (``inputs_digest``), no file changed too close to the last build's start to trust its
    mtime (``cache.RACY_NS``), no scheduled entry due since, the clock not turned back,
    and its output files as it left them (``read_build_stamp``). Else None."""
    from mkfeeds.cache import RACY_NS

    if record is None or record.get("inputs") != inputs:
        return None
    try:
        started_ns = record["started_ns"]
        last_now = datetime.fromisoformat(record["now"])
        due = datetime.fromisoformat(record["next_due"]) if record["next_due"] else None
        if type(started_ns) is not int or now < last_now or (due is not None and now >= due):
            return None
        if any(s.mtime_ns > started_ns - RACY_NS for s in sources):
            return None
        saved = record["result"]
        result = BuildResult(
            files_unchanged=tuple(sorted(name for name in record["files"] if name != MANIFEST)),
            entries=int(saved["entries"]), published=int(saved["published"]), drafts=int(saved["drafts"]),
            scheduled=int(saved["scheduled"]), feeds=int(saved["feeds"]),
            problems=[Problem(*p) for p in saved["problems"]], notices=[str(n) for n in saved["notices"]],
            written=True, next_due=due, up_to_date=True)
    except (KeyError, TypeError, ValueError):
        return None
    return result


def feed_stamps_path(settings: Settings) -> Path | None:
    """Beside the build cache: no cache, no reuse of rendered feeds either."""
    return settings.cache.with_name(settings.cache.name + ".feeds.json") if settings.cache else None
