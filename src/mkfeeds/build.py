"""The pipeline, and the only module that sequences the stages:
list files -> read and map the changed ones (``loading``) -> select (pure) -> feed sets
(pure) -> whole entries and bodies for the feeds that must be rendered -> render -> write
atomically, then remove the files an earlier build wrote and this one does not.

What makes a rebuild cheap (stored outcomes, bodies, feed digests, the up-to-date
record) is ``incremental``'s; only this module talks to it, and the stages never know
whether a value came from a file or from there."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from operator import attrgetter
from typing import Any, cast

from mkfeeds import archives, bodies, loading
from mkfeeds.config import PLACEHOLDER_URL, Settings
from mkfeeds.errors import ConfigError, Interrupted, OutputError
from mkfeeds.feedsets import FeedSpec, all_specs
from mkfeeds.incremental import BuildRecord, Incremental, Memory, Reuse, StoredEntry
from mkfeeds.mapping import MappingSettings
from mkfeeds.model import Entry, EntryKey, Feed, FeedListing, Format, KeyedOutcome, Problem
from mkfeeds.output import MANIFEST, publishing, read_archive_ends, read_manifest, remove_stale, write_all
from mkfeeds.parallel import allowed_processes
from mkfeeds.htmlparts import INDEX_ENTRIES, PAGE_ENTRIES
from mkfeeds.select import Selection
from mkfeeds.rendering import STYLESHEET, file_names, listing, make_feed, page_name, render_feeds, render_page
from mkfeeds.source import NOT_AN_ARTICLE, Skipped, SourceFile, discover

OPML = "feeds.opml"
INDEX = "index.html"


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
    problems: list[Problem] = field(default_factory=list)  # about articles
    notices: list[str] = field(default_factory=list)  # about the build: the state, feed sizes
    written: bool = False
    next_due: datetime | None = None  # the output changes then, even if no file does
    up_to_date: bool = False  # nothing changed since the last build: nothing was read
    skipped: tuple[Skipped, ...] = ()  # files of the input folder not read (hidden files and backups aside)
    leftovers_removed: tuple[str, ...] = ()  # temp files of a killed build, removed

    @property
    def rejected(self) -> int:
        return len({p.path for p in self.problems if p.severity == "error"})

    @property
    def withheld(self) -> int:
        return self.drafts + self.scheduled


class StrictFailure(Exception):
    """``--strict`` and at least one article was rejected (or ``--fail-on-warning`` and
    an article drew a warning): nothing was written."""

    def __init__(self, result: BuildResult, option: str = "--strict") -> None:
        self.result = result
        if option == "--strict":
            what = f"{result.rejected:,} article{'' if result.rejected == 1 else 's'} rejected"
        else:
            warnings = sum(p.severity == "warning" for p in result.problems)
            what = f"{warnings:,} warning{'' if warnings == 1 else 's'}"
        super().__init__(f"{what}; nothing written ({option})")


def refuse_if_strict(settings: Settings, result: BuildResult) -> None:
    """``--strict``: a rejection writes nothing; ``--fail-on-warning``: neither does a warning."""
    if settings.strict and result.rejected:
        raise StrictFailure(result)
    if settings.fail_on_warning and any(p.severity == "warning" for p in result.problems):
        raise StrictFailure(result, "--fail-on-warning")


class NotPublished(Exception):
    """The caller's ``publish`` refused this build's result: nothing was written."""

    def __init__(self, result: BuildResult) -> None:
        self.result = result
        super().__init__("nothing written")


def mapping_settings(settings: Settings) -> MappingSettings:
    return MappingSettings(site_url=settings.home_url, zone=settings.zone,
                           placeholder_site=settings.home_url == PLACEHOLDER_URL)


def check_input_folder(settings: Settings) -> None:
    if not settings.input.is_dir():
        error = OutputError(str(settings.input), "the input folder does not exist or is not a folder")
        error.hint = ("name the folder of articles with --input DIR or the input key of mkfeeds.toml; "
                      "mkfeeds init starts one with an example article")
        raise error


@dataclass(frozen=True)
class Plan:
    """Everything a build would publish, rendered, before anything is written."""

    result: BuildResult
    feeds: dict[str, Feed]  # feed key ("main", "topics/ai", ...) -> feed model
    files: dict[str, bytes]  # relative output path -> bytes, for what had to be rendered
    kept: tuple[str, ...] = ()  # files of feeds unchanged since the last build: not rendered
    digests: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # key -> digest, files
    streams: tuple[LongFeed, ...] = ()  # long feeds, rendered as they are written
    pages: tuple[ArchivePages, ...] = ()  # archive pages to render, a batch at a time as they are written
    archive_ends: dict[str, Any] = field(default_factory=dict)  # feed key -> where its full pages end
    self_urls: dict[str, str] = field(default_factory=dict)  # feed file -> its self URL (the WebSub topic)


def build(settings: Settings, now: datetime, *, write: bool = True,
          progress: Callable[[int], None] | None = None,
          listed: Callable[[int], None] | None = None, sources: Sequence[SourceFile] | None = None,
          stage: Callable[[str], None] | None = None,
          publish: Callable[[BuildResult], bool] | None = None, memory: Memory | None = None) -> BuildResult:
    """Build and (with ``write``) publish: every file is rendered before the first is
    written; with ``strict`` a rejection writes nothing. Files an earlier build wrote
    (listed in its manifest) and this one does not are removed afterwards. When the
    inputs are exactly those of the last build, nothing is read and the last build's
    result is reported again. ``listed(n)`` is told how many article files there are
    before they are read (and ``progress`` moves as they are); ``stage`` is told each
    stage after that ("rendering 110 feeds", "writing"). Calling it again in the
    same process gives what a fresh process would. ``sources``: the article files as
    ``discover`` lists them, from a caller that knows them already (a watch loop told
    which files changed). ``publish``: asked before anything is written; False raises
    ``NotPublished`` and the previous feeds stay. ``memory``: a ``Memory`` the caller
    keeps between its builds (one per watch session), in which a build leaves what the
    next needs, so that it goes through the changed files only; the bytes written are
    the same with or without it."""
    started_ns = time.time_ns()
    check_input_folder(settings)
    skipped: list[Skipped] | None = None  # what the listing left out; unknown for a caller's sources
    if sources is None:
        skipped = []
        sources = discover(settings.input, allowed_processes(settings.jobs), skipped)
    with Incremental(settings, mapping_settings(settings), keep=write, memory=memory) as state:
        replayed = state.replay(sources, now)
        if replayed is not None:
            result = _replayed(replayed)
            tell_skipped(settings, result, sources, skipped)
            refuse_if_strict(settings, result)
            if write:  # nothing to write, but a killed build's leftovers still go
                try:
                    with publishing(settings.output, settings.cache) as leftovers:
                        result.leftovers_removed = tuple(leftovers)
                except OutputError:  # a folder it may not write to (read-only): nothing to write there anyway
                    pass
            return result
        if listed is not None:
            listed(len(sources))
        planned = _plan(settings, now, sources, state, progress, stage)
        result = planned.result
        told = tell_skipped(settings, result, sources, skipped)
        refuse_if_strict(settings, result)
        if publish is not None and not publish(result):
            raise NotPublished(result)
        if not write:
            return result
        with publishing(settings.output, settings.cache) as leftovers:  # the build lock, and a clean folder
            result.leftovers_removed = tuple(leftovers)
            previous = read_manifest(settings.output)
            current = set(planned.files) | set(planned.kept)
            # The manifest goes with the feeds, in the same commit; until the files it no longer
            # lists are removed, it lists them too (a build killed meanwhile leaves a superset).
            current |= {name for stream in planned.streams for name in stream.names}
            current |= {name for batch in planned.pages for name in batch.names}
            if stage is not None:
                stage("writing")
            outcome = write_all(settings.output, {**planned.files,
                                                  MANIFEST: manifest_bytes(previous | current, planned.archive_ends)},
                                (*planned.streams, *planned.pages))
            try:  # from here on the new feeds are in place, whatever interrupts the upkeep
                for stream in planned.streams:
                    result.problems.extend(stream.problems)
                    result.notices.extend(stream.over_budget())
                    if stream.troubled:
                        planned.digests[stream.spec.key] = ("", planned.digests[stream.spec.key][1])
                for batch in planned.pages:
                    result.problems.extend(batch.problems)
                    for key in batch.troubled:
                        planned.digests[key] = ("", planned.digests[key][1])
                result.problems.sort(key=lambda p: (p.path, p.line or 0))
                result.files_written = tuple(name for name in outcome.written if name != MANIFEST)
                result.files_unchanged = tuple(sorted([name for name in outcome.unchanged if name != MANIFEST]
                                                      + list(planned.kept)))
                if previous - current:
                    result.files_removed = tuple(remove_stale(settings.output, set(previous - current)))
                    write_all(settings.output, {MANIFEST: manifest_bytes(current, planned.archive_ends)})
                if settings.hub_urls:
                    result.notices.extend(record_pings(settings, planned.self_urls, result.files_written))
                own = [notice for notice in result.notices if notice not in state.notices]  # the state tells its own
                record = BuildRecord(state.inputs(sources), started_ns, now, result.next_due, result.entries,
                                     result.published, result.drafts, result.scheduled, result.feeds,
                                     [p for p in result.problems if p not in told], own,
                                     sorted(current | {MANIFEST}))
                state.finish(planned.digests, record)
                result.notices.extend(n for n in state.notices if n not in result.notices)
                result.written = True
            except KeyboardInterrupt:
                raise Interrupted(published=True) from None
    return result


def tell_skipped(settings: Settings, result: BuildResult, sources: Sequence[SourceFile],
                 skipped: list[Skipped] | None) -> set[Problem]:
    """Every file not read is in the result: a file that is not an article is counted (and
    listed with -v); any other (a link leading out, a FIFO, an unreadable file) draws a
    warning naming it. They are found anew by every build, never stored. A build that
    finds no article says so. Returns the warnings added. ``skipped`` is None when the
    caller listed the files (a watch loop): then there is nothing to tell."""
    if skipped is None:
        return set()
    result.skipped = tuple(skipped)
    told = {Problem("warning", item.rel, f"skipped: {item.reason}") for item in skipped if not item.not_an_article}
    result.problems.extend(sorted(told - set(result.problems), key=lambda p: p.path))
    result.problems.sort(key=lambda p: (p.path, p.line or 0))
    if not sources:
        others = sum(item.not_an_article for item in skipped)
        folder = settings.input.as_posix().rstrip("/") + "/"
        notice = (f"no articles in {folder}; {others:,} file{'' if others == 1 else 's'} skipped: {NOT_AN_ARTICLE}"
                  if others else f"no articles in {folder}: it holds no .txt, .md or .markdown file")
        if notice not in result.notices:
            result.notices.append(notice)
    return told


def record_pings(settings: Settings, self_urls: dict[str, str], written: tuple[str, ...]) -> list[str]:
    """Record, for ``mkfeeds ping``, that the hubs must be told of each feed file whose
    bytes this build changed. Returns the notices to tell."""
    from mkfeeds import pings

    notices = []
    damaged = False
    try:
        previous = pings.read_pending(settings.output)
    except pings.DamagedRecord as exc:
        notices.append(f"{exc}; it is replaced")
        previous, damaged = (), True
    pending = pings.after_build(previous, settings.hub_urls, pings.changed_topics(written, self_urls))
    if damaged or pending != previous or not (settings.output / pings.RECORD).exists():
        pings.write_pending(settings.output, pending)
    return notices


def manifest_bytes(files: set[str] | frozenset[str], archive_ends: dict[str, Any] | None = None) -> bytes:
    import json

    document: dict[str, Any] = {"generator": "mkfeeds", "files": sorted(files)}
    if archive_ends:
        document["archives"] = archive_ends
    return (json.dumps(document, indent=1) + "\n").encode()


def _replayed(record: BuildRecord) -> BuildResult:
    return BuildResult(
        files_unchanged=tuple(name for name in record.files if name != MANIFEST), entries=record.entries,
        published=record.published, drafts=record.drafts, scheduled=record.scheduled, feeds=record.feeds,
        problems=list(record.problems), notices=list(record.notices), written=True,
        next_due=record.next_due, up_to_date=True)


def plan(settings: Settings, now: datetime, progress: Callable[[int], None] | None = None) -> Plan:
    """Everything a build would write, rendered, writing nothing (not even the state)."""
    check_input_folder(settings)
    sources = discover(settings.input, allowed_processes(settings.jobs))
    with Incremental(settings, mapping_settings(settings), keep=False) as state:
        return _plan(settings, now, sources, state, progress)


def _plan(settings: Settings, now: datetime, sources: Sequence[SourceFile], state: Incremental,
          progress: Callable[[int], None] | None = None, stage: Callable[[str], None] | None = None) -> Plan:
    """Read, map, select and render. Article problems are collected in the result;
    only configuration failures raise."""
    outcomes = read_outcomes(settings, sources, state, progress)
    result = BuildResult()
    result.problems.extend(chain.from_iterable(map(attrgetter("problems"), outcomes)))
    selection = state.selection(outcomes, now, drafts=settings.drafts, future=settings.future,
                                shown=lambda rel: (settings.input / rel).as_posix())  # as the CLI shows paths
    result.problems.extend(selection.problems)
    result.published, result.drafts, result.scheduled = len(selection.entries), selection.drafts, selection.scheduled
    result.next_due = selection.next_due
    result.problems.extend(changed_ids(selection, outcomes, state.previous_ids(), state.entry))

    by_rel = state.sources_by_path(sources)
    terms = state.term_index(tuple(settings.taxonomies), selection) if settings.taxonomies else None
    specs, archive_pages, archive_ends = _archived(settings, all_specs(settings, selection.entries, terms))
    page_keys = {page.key for page in archive_pages}
    reusable = state.kept_feeds()
    claimed: set[str] = set()
    digests: dict[str, tuple[str, list[str]]] = {}
    kept: list[str] = []
    pending: list[FeedSpec] = []
    pending_pages: list[FeedSpec] = []
    for spec in (*specs, *archive_pages):
        names = [spec.folder + name for name in file_names(settings).values()]
        page = page_name(settings, spec)
        if page is not None and spec.key != "main" and spec.key not in page_keys:  # main: the index, always
            names.append(page)
        if claimed.intersection(names):
            raise ConfigError(f"two feeds would be written to {spec.folder or './'}: give the custom feed "
                              "another path")
        claimed.update(names)
        digest = state.feed_digest(spec, by_rel)
        digests[spec.key] = (digest, names)
        if reusable.get(spec.key) == digest:
            kept.extend(names)
        else:
            (pending_pages if spec.key in page_keys else pending).append(spec)

    if stage is not None:  # after reading, the rest is rendering: say so, not a bar standing at 100%
        stage(f"rendering {len(pending):,} feed{'' if len(pending) == 1 else 's'}")
    streams = tuple(LongFeed(settings, spec, state, by_rel) for spec in pending if len(spec.entries) > STREAM_MIN)
    pending = [spec for spec in pending if len(spec.entries) <= STREAM_MIN]
    contents = ShownEntries(settings, state, by_rel, result.problems)
    shown = [[contents.entry(key, spec.full_content) for key in spec.entries] for spec in pending]
    contents.prepare_bodies()  # every body the pending feeds show, each once
    feeds_to_render: list[tuple[str, Feed]] = []
    for spec, entries in zip(pending, shown):
        whole = tuple(contents.finished(entry) for entry in entries if entry is not None)
        complete = tuple(entry for entry in whole if entry is not None)
        if len(complete) != len(spec.entries) or contents.troubled(spec):
            digests[spec.key] = ("", digests[spec.key][1])  # a problem a build must tell again: never reuse
        feeds_to_render.append((spec.folder, make_feed(settings, spec, complete)))
    rendered = render_feeds(settings, feeds_to_render, settings.jobs, state.renderings())

    feeds: dict[str, Feed] = {}
    files: dict[str, bytes] = {}
    listings: list[FeedListing] = []
    by_key = {spec.key: (feed, produced) for spec, (_, feed), produced in zip(pending, feeds_to_render, rendered)}
    streamed = {stream.spec.key: stream for stream in streams}
    latest: tuple[Entry, ...] = ()
    for spec in specs:
        shown_now: tuple[Entry, ...] | None = None  # the entries rendered now, if the feed was
        if spec.key in by_key:
            feed, produced = by_key[spec.key]
            files.update(produced)
            count = len(feed.entries)
            shown_now = feed.entries
        elif spec.key in streamed:
            feed, count = streamed[spec.key].feed, len(spec.entries)
        else:
            feed, count = make_feed(settings, spec, ()), len(spec.entries)  # on disk already; URLs only
        feeds[spec.key] = feed
        item = listing(settings, spec, feed, count)
        listings.append(item)
        if spec.key == "main":
            result.entries = count
            if settings.pages:  # the site index is the main feed's page, rewritten with every build
                latest = shown_now if shown_now is not None else contents.newest(spec, INDEX_ENTRIES)
        elif item.page is not None and (shown_now is not None or spec.key in streamed):  # a kept feed keeps its page
            page_entries = shown_now if shown_now is not None else contents.newest(spec, PAGE_ENTRIES)
            files[item.page] = render_page(settings, spec, item, page_entries)
    result.feeds = len(feeds)
    from mkfeeds import pages  # the page writers: only for a build that renders

    if settings.stylesheet:
        files[STYLESHEET] = pages.stylesheet(page_link=settings.pages)
    if settings.pages:
        files[OPML] = pages.render_opml(settings.title, settings.home_url, listings)
        files[INDEX] = pages.render_index(settings.title, settings.description, settings.home_url, listings,
                                          opml_path=OPML, language=settings.language,
                                          latest=latest[:INDEX_ENTRIES], zone=settings.zone)
    result.notices.extend(state.notices)
    result.notices.extend(_over_budget(settings, files))
    result.problems.sort(key=lambda p: (p.path, p.line or 0))
    batches = tuple(ArchivePages(settings, batch, state, by_rel) for batch in ArchivePages.batches(pending_pages))
    self_urls = {file.path: file.url for feed_listing in listings for file in feed_listing.files}
    return Plan(result, feeds, files, tuple(kept), digests, streams, batches, archive_ends, self_urls)


def _archived(settings: Settings, specs: list[FeedSpec]) -> tuple[list[FeedSpec], list[FeedSpec], dict[str, Any]]:
    """The feeds linked to their archive pages, the pages, and where the full pages end
    (the last build's ends, from its manifest, are kept)."""
    previous = read_archive_ends(settings.output)
    feeds: list[FeedSpec] = []
    pages: list[FeedSpec] = []
    ends: dict[str, Any] = {}
    for spec in specs:
        feed, feed_pages, feed_ends = archives.archived(spec, archives.Ends.from_document(previous.get(spec.key)))
        feeds.append(feed)
        pages.extend(feed_pages)
        if feed_ends is not None:
            ends[spec.key] = feed_ends.document()
    return feeds, pages, ends


def changed_ids(selection: Selection, outcomes: list[KeyedOutcome], previous: dict[str, str],
                whole: Callable[[EntryKey], Entry | None]) -> list[Problem]:
    """A warning for each published article whose id is not the one it had in the last
    build because its link changed (say from http to https): readers would show it again
    as new. An id the article gives itself (``id``) changes only when meant: no warning.
    ``previous``: path -> the id it had, for the files read again (a few, usually);
    ``outcomes``: every file's, sorted by path."""
    problems = []
    for rel, old in sorted(previous.items()):
        at = bisect_left(outcomes, rel, key=attrgetter("rel"))
        key = outcomes[at].key if at < len(outcomes) and outcomes[at].rel == rel else None
        if key is None or old == key.id or not selection.publishes(key):
            continue
        entry = whole(key)  # only for the few articles whose id changed
        if entry is not None and entry.id != entry.url:
            continue
        problems.append(Problem("warning", key.source, f"its id changed from {old} to {key.id} since the last "
                                "build, so readers will show it again as new; to keep the old id, add "
                                f"`id: {old}` to its front matter", field="id"))
    return problems


def read_outcomes(settings: Settings, sources: Sequence[SourceFile], state: Incremental,
                  progress: Callable[[int], None] | None) -> list[KeyedOutcome]:
    """Every source's outcome, in order: stored, or read and mapped now."""
    rules = mapping_settings(settings)
    reuse = state.reuse(sources)
    if progress is not None and len(reuse.work) < len(sources):
        progress(len(sources) - len(reuse.work))
    work = reuse.work
    while work:
        again: list[int] = []
        for reads in loading.read_files(sources, work, reuse.confirm, rules, state.encode, jobs=settings.jobs,
                                        progress=progress, meanwhile=prepare_rendering):
            again.extend(state.take(sources, reads, reuse))
        work = again  # stored outcomes that did not decode after all: read those files again
    state.index_rows(reuse)
    return _complete(reuse)


def _complete(reuse: Reuse) -> list[KeyedOutcome]:
    if None in reuse.outcomes:
        raise AssertionError("a file without an outcome")
    return cast("list[KeyedOutcome]", reuse.outcomes)  # checked just above


def prepare_rendering() -> None:
    """Import Markdown, the sanitizer and the feed writers: while workers read articles,
    and for a process that will build again (a watch loop) after a build that rendered
    nothing, so that its first rebuild does not pay for it."""
    from mkfeeds import markup, render  # noqa: F401

    markup.prepare()


class ShownEntries:
    """Whole entries for the feeds to render, each decoded once and given its content
    once, however many feeds show it: from the state where it can prove it holds them,
    else from the files."""

    def __init__(self, settings: Settings, state: Incremental, sources: Mapping[str, SourceFile],
                 problems: list[Problem], stored: Mapping[str, StoredEntry] | None = None) -> None:
        """``stored``: what ``Incremental.stored`` gave for the entries to be shown, so that
        nothing here asks the state's store (in a worker process, which must not)."""
        self.settings, self.state, self.sources, self.problems = settings, state, sources, problems
        self._stored = stored if stored is not None else {}
        self._entries: dict[str, Entry | None] = {}
        self._bodies: dict[str, str | None] = {}  # path -> body HTML; None: it could not be had
        self._wanted: dict[str, Entry] = {}  # bodies to render
        self._troubled: set[str] = set()  # paths whose body came with a problem
        self._finished: dict[tuple[str, bool], Entry | None] = {}

    def entry(self, key: EntryKey, full: bool) -> tuple[Entry, bool] | None:
        """The whole entry of ``key`` (and whether its feed shows the full content)."""
        rel = key.source
        if rel not in self._entries:
            self._entries[rel] = self._decoded(key)
        entry = self._entries[rel]
        if entry is None:
            return None
        if full and entry.has_body and rel not in self._bodies and rel not in self._wanted:
            cached = self._stored[rel][1] if rel in self._stored else self.state.body(key)
            if cached is not None:
                self._bodies[rel] = cached
            else:
                self._wanted[rel] = entry
        return entry, full

    def _decoded(self, key: EntryKey) -> Entry | None:
        stored = self._stored.get(key.source)
        entry = self.state.decoded(key, stored[0]) if stored is not None else self.state.entry(key)
        if entry is not None:
            return entry
        source = self.sources[key.source]  # not provably stored: read the file again
        fresh = loading.process_file(source, mapping_settings(self.settings)).entry
        if fresh is not None and EntryKey.of(fresh) == key:
            return fresh
        self.problems.append(Problem("error", key.source, "changed while the feeds were being built; "
                                     "it is left out until the next build"))
        return None

    def prepare_bodies(self) -> None:
        """Render every body asked for so far (on all cores when there are many)."""
        wanted = self.wanted_bodies()
        if wanted:
            rendered = bodies.render_bodies(wanted, self.sources, self.settings.jobs)
            self.keep(self.take_bodies(zip([entry.source for entry in wanted], rendered)))

    def wanted_bodies(self) -> list[Entry]:
        """The entries asked for whose body is still to be rendered (each once)."""
        wanted = list(self._wanted.values())
        self._wanted = {}
        return wanted

    def take_bodies(self, rendered: Iterable[tuple[str, bodies.Body]]) -> list[tuple[str, str]]:
        """Note the bodies rendered, by path; the (path, HTML) pairs that may be kept
        for later builds."""
        keep = []
        for rel, body in rendered:
            self._bodies[rel] = body.html
            self.problems.extend(body.problems)
            if body.problems:
                self._troubled.add(rel)
            if body.keep and body.html is not None:
                keep.append((rel, body.html))
        return keep

    def keep(self, rendered: list[tuple[str, str]]) -> None:
        """Keep bodies in the state (by the build's own process, never a worker)."""
        self.state.keep_bodies(rendered)

    def finished(self, shown: tuple[Entry, bool], rendered: Mapping[str, str | None] | None = None) -> Entry | None:
        """The entry as its feed shows it: with its content, or its summary only.
        ``rendered``: bodies rendered since they were asked for, not yet taken."""
        entry, full = shown
        if not full:
            return entry
        found = self._finished.get((entry.source, full), ...)
        if found is not ...:
            return found
        known = rendered if rendered is not None and entry.source in rendered else self._bodies
        html = known.get(entry.source, "") if entry.has_body else ""
        result = None if html is None else bodies.with_content(entry, html)
        self._finished[(entry.source, full)] = result
        return result

    def newest(self, spec: FeedSpec, count: int) -> tuple[Entry, ...]:
        """The feed's first ``count`` entries without their content (what its page shows)."""
        found = (self.entry(key, False) for key in spec.entries[:count])
        return tuple(shown[0] for shown in found if shown is not None)

    def any_troubled(self) -> bool:
        """Did a body of these entries come with a problem?"""
        return bool(self._troubled)

    def troubled(self, spec: FeedSpec) -> bool:
        return spec.full_content and any(key.source in self._troubled for key in spec.entries)


STREAM_MIN = 1000  # entries; a longer feed is rendered a chunk at a time as it is written
STREAM_CHUNK = 2048  # entries fetched from the state and handed to the workers at a time


class LongFeed:
    """A feed too long to hold: a chunk at a time, its entries are fetched from the state,
    then decoded, given their bodies and rendered in all three formats by workers (on all
    cores), each group written as it comes while the next chunk is fetched, so memory
    does not grow with the feed (``output.Stream``)."""

    def __init__(self, settings: Settings, spec: FeedSpec, state: Incremental,
                 sources: Mapping[str, SourceFile]) -> None:
        self.settings, self.spec, self.state, self.sources = settings, spec, state, sources
        self.feed = make_feed(settings, spec, ())
        self.names = tuple(spec.folder + name for name in file_names(settings).values())
        self.problems: list[Problem] = []
        self.troubled = False  # an entry was lost or drew a problem: the feed is never reused
        self.sizes: dict[str, int] = {}

    def produce(self, sinks: dict[str, Callable[[bytes], object]]) -> None:
        from mkfeeds.render.stream import Pieces, Writer

        formats = list(file_names(self.settings).items())
        pieces = {fmt: Pieces(fmt, self.feed) for fmt, _ in formats}
        writers = {fmt: Writer(pieces[fmt], self._counted(self.spec.folder + name, sinks[self.spec.folder + name]))
                   for fmt, name in formats}
        keys = self.spec.entries
        running: _Rendering | None = None
        for start in range(0, len(keys), STREAM_CHUNK):
            chunk = keys[start:start + STREAM_CHUNK]
            stored = self.state.stored(chunk, self.spec.full_content)  # while the workers render the last
            if running is not None:
                self._written(running, writers, formats)
            running = _Rendering(self, chunk, dict(zip([key.source for key in chunk], stored)),
                                 [pieces[fmt] for fmt, _ in formats])
        if running is not None:
            self._written(running, writers, formats)
        for writer in writers.values():
            writer.finish()
        self.problems = list(dict.fromkeys(self.problems))  # an entry in several chunks' feeds: told once

    def _written(self, running: _Rendering, writers: dict[Format, Any], formats: list[tuple[Format, str]]) -> None:
        """Write a chunk's pieces as they come, and keep its bodies."""
        contents = ShownEntries(self.settings, self.state, self.sources, self.problems)
        for group, (group_pieces, rendered, count, problems) in running.results():
            self.problems.extend(problems)
            contents.keep(contents.take_bodies(rendered))
            self.troubled |= count != len(group)
            self._add(writers, formats, group_pieces)
        self.troubled |= contents.any_troubled()

    @staticmethod
    def _add(writers: dict[Format, Any], formats: list[tuple[Format, str]], group_pieces: list[bytes]) -> None:
        for (fmt, _), piece in zip(formats, group_pieces):
            writers[fmt].add(piece)

    def _counted(self, name: str, sink: Callable[[bytes], object]) -> Callable[[bytes], object]:
        self.sizes[name] = 0

        def write(data: bytes) -> object:
            self.sizes[name] += len(data)
            return sink(data)

        return write

    def over_budget(self) -> list[str]:
        budget = self.settings.max_feed_bytes
        return [f"{self.settings.output / name} is {size:,} bytes, above the {budget:,}-byte budget "
                "(max-feed-bytes); lower the limit or publish summaries only"
                for name, size in sorted(self.sizes.items()) if budget and size > budget]


# A group's pieces by format, the bodies rendered for it by path, how many of its
# entries it shows, and the problems met.
_Rendered = tuple[list[bytes], list[tuple[str, bodies.Body]], int, list[Problem]]


class _Rendering:
    """A chunk of a long feed being rendered by workers, a group of entries each, from
    what the state holds for them: their decoding, their bodies, then their pieces in
    every format (one pool, started now)."""

    GROUP = 64  # entries

    def __init__(self, feed: LongFeed, keys: Sequence[EntryKey], stored: dict[str, StoredEntry],
                 pieces: list[Any]) -> None:
        from mkfeeds import parallel

        self.feed, self.stored, self.pieces = feed, stored, pieces
        parts = max(1, len(keys) // self.GROUP)
        self.groups = [keys[i * len(keys) // parts:(i + 1) * len(keys) // parts] for i in range(parts)]
        jobs = feed.settings.jobs
        processes = parallel.processes_for(jobs, parts) if len(keys) >= 2 * self.GROUP else 1
        self._map = parallel.forked_map(self._render, self.groups, processes)

    def _render(self, group: Sequence[EntryKey]) -> _Rendered:
        """In a worker (or here): the group's entries, their bodies, then its pieces."""
        feed = self.feed
        problems: list[Problem] = []
        contents = ShownEntries(feed.settings, feed.state, feed.sources, problems, self.stored)
        shown = [found for key in group if (found := contents.entry(key, feed.spec.full_content)) is not None]
        wanted = contents.wanted_bodies()
        rendered = [(entry.source, bodies.render_body(entry, feed.sources[entry.source])) for entry in wanted]
        html = {rel: body.html for rel, body in rendered}
        entries = [done for entry in shown if (done := contents.finished(entry, html)) is not None]
        return [piece.entries(entries) for piece in self.pieces], rendered, len(entries), problems

    def results(self) -> Iterator[tuple[Sequence[EntryKey], _Rendered]]:
        from mkfeeds import parallel

        done = 0
        try:
            with self._map as rendered:
                for result in rendered:
                    yield self.groups[done], result
                    done += 1
        except parallel.PoolBroken:  # a worker died: render the rest of the chunk here
            for group in self.groups[done:]:
                yield group, self._render(group)


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


ARCHIVE_BATCH = 1024  # entries: archive pages are decoded, given their bodies and rendered this many at a time


class ArchivePages:
    """A few archive pages, rendered when they are written (``output.Stream``): a build
    holds one batch of pages at a time, so its memory does not grow with the history.
    Pages a build has already written and whose entries did not change are not rendered
    at all (their digests)."""

    def __init__(self, settings: Settings, specs: list[FeedSpec], state: Incremental,
                 sources: Mapping[str, SourceFile]) -> None:
        self.settings, self.specs, self.state, self.sources = settings, specs, state, sources
        self.names = tuple(spec.folder + name for spec in specs for name in file_names(settings).values())
        self.problems: list[Problem] = []
        self.troubled: list[str] = []  # pages that lost an entry or drew a problem: never reused

    @staticmethod
    def batches(specs: list[FeedSpec]) -> list[list[FeedSpec]]:
        batches: list[list[FeedSpec]] = [[]]
        size = 0
        for spec in specs:
            if batches[-1] and size + len(spec.entries) > ARCHIVE_BATCH:
                batches.append([])
                size = 0
            batches[-1].append(spec)
            size += len(spec.entries)
        return [batch for batch in batches if batch]

    def produce(self, sinks: dict[str, Callable[[bytes], object]]) -> None:
        contents = ShownEntries(self.settings, self.state, self.sources, self.problems)
        shown = [[contents.entry(key, spec.full_content) for key in spec.entries] for spec in self.specs]
        contents.prepare_bodies()
        feeds: list[tuple[str, Feed]] = []
        for spec, entries in zip(self.specs, shown):
            whole = [contents.finished(entry) for entry in entries if entry is not None]
            complete = tuple(entry for entry in whole if entry is not None)
            if len(complete) != len(spec.entries) or contents.troubled(spec):
                self.troubled.append(spec.key)
            feeds.append((spec.folder, make_feed(self.settings, spec, complete)))
        for files in render_feeds(self.settings, feeds, self.settings.jobs):
            for name, data in files.items():
                sinks[name](data)
        self.problems = list(dict.fromkeys(self.problems))
