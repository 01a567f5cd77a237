"""The pipeline, and the only module that sequences I/O:
files -> outcomes (load + map, per file) -> selection (pure) -> feed set (pure) ->
content for the chosen entries only -> renderings of every feed and page -> atomic
writes, then removal of the files an earlier build wrote and this one does not.

Rendering a feed set is ``rendering``'s job; telling whether the last build still
stands (feed and input digests) is ``freshness``'s; this module decides what to do."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, Callable, Iterable

from mkfeeds.config import Settings
from mkfeeds.errors import ConfigError, OutputError
from mkfeeds.feedsets import all_specs
from mkfeeds.freshness import feed_digest, feed_stamps_path, inputs_digest, output_environment
from mkfeeds.loading import Loaded, load_outcomes
from mkfeeds.mapping import MappingSettings
from mkfeeds.model import Entry, Feed, FeedListing, FileOutcome, Problem
from mkfeeds.output import (MANIFEST, read_build_stamp, read_feed_stamps, read_manifest, remove_stale, write_all,
                            write_feed_stamps, write_manifest)
from mkfeeds.rendering import STYLESHEET, Contents, file_names, listing, make_feed, render_feeds
from mkfeeds.source import SourceFile, discover


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


OPML = "feeds.opml"
INDEX = "index.html"


def list_sources(settings: Settings) -> list[SourceFile]:
    """The article files, listed on as many cores as the build may use."""
    from mkfeeds.loading import allowed_processes

    return discover(settings.input, allowed_processes(settings))


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


def plan(settings: Settings, now: datetime, progress: Callable[[int], None] | None = None,
         reusable: dict[str, str] | None = None, sources: list[SourceFile] | None = None) -> Plan:
    """Read, map, select and render. Article problems are collected in the result;
    only configuration and input-folder failures raise. ``reusable`` maps feed keys to
    the digests of feeds whose files are on disk as the last build wrote them: a feed
    whose digest is unchanged is not rendered again (its files are ``kept``)."""
    check_input_folder(settings)
    rules = mapping_settings(settings)
    if sources is None:
        sources = list_sources(settings)
    with load_outcomes(sources, settings, rules, progress,  # cache warnings: the mkfeeds logger
                       meanwhile=lambda: _prepare_rendering(settings)) as loaded:
        return _plan(settings, now, sources, loaded, reusable)


def _prepare_rendering(settings: Settings) -> None:
    """While workers read articles: import Markdown, the sanitizer, the feed and page
    writers, and digest mkfeeds' code for the feed digests (``output_environment``)."""
    from mkfeeds import markup, pages, render  # noqa: F401

    markup.prepare()
    output_environment(settings, mapping_settings(settings))


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
    contents = Contents(by_rel, loaded, result.problems, settings)
    specs = all_specs(settings, selection.entries)
    environment = output_environment(settings, mapping_settings(settings))
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

    renderings = render_feeds(settings, specs, pending, contents)
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
          progress: Callable[[int], None] | None = None,
          listed: Callable[[int], None] | None = None) -> BuildResult:
    """Build and (with ``write``) publish: every file is rendered before the first is
    written; with ``strict`` a rejection writes nothing. Files an earlier build wrote
    (listed in its manifest) and this one does not are removed afterwards. When the
    inputs are exactly those of the last build (``up_to_date``), nothing is read and
    the last build's result is reported again. ``listed(n)`` is told how many article
    files there are before they are read (and ``progress`` moves as they are)."""
    started_ns = time.time_ns()
    stamps = feed_stamps_path(settings)
    check_input_folder(settings)
    sources = list_sources(settings)  # once: at 100,000 files, listing takes most of a second
    inputs = None
    if write and stamps is not None:
        last = read_build_stamp(stamps, settings.output)
        if last is not None:  # else there is nothing to compare with: the digest is taken at the end
            inputs = inputs_digest(settings, mapping_settings(settings), sources)
            replayed = up_to_date(last, inputs, sources, now)
            if replayed is not None:
                if settings.strict and replayed.rejected:
                    raise StrictFailure(replayed)
                return replayed
    if listed is not None:
        listed(len(sources))
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
        if stamps is not None and inputs is None:  # the inputs as listed at the start
            inputs = inputs_digest(settings, mapping_settings(settings), sources)
        record = None if inputs is None else build_record(result, inputs, started_ns, now)
        write_feed_stamps(stamps, settings.output, planned.digests, record, current | {MANIFEST})
        result.written = True
    return result


# ---------------------------------------------------------------------------------------------
# Up to date: the same inputs as the last build
# ---------------------------------------------------------------------------------------------

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
