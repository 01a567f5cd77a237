"""The pipeline, and the only module that sequences I/O:
files -> outcomes (load + map, per file) -> selection (pure) -> content for the
selected entries only -> three renderings -> one atomic write of them all."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable, Iterable
from urllib.parse import urljoin

from mkfeeds import __version__, markup
from mkfeeds.config import Settings
from mkfeeds.errors import ArticleError, OutputError
from mkfeeds.mapping import MappingSettings, body_markdown
from mkfeeds.model import Author, Entry, Feed, FeedMeta, FileOutcome, Problem
from mkfeeds.output import WriteResult, write_all
from mkfeeds.render import render_atom, render_json, render_rss
from mkfeeds.loading import load_outcomes, problem_of
from mkfeeds.source import SourceFile, discover, load_article

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Selection:
    """The outcome of choosing what to publish, before any rendering."""

    entries: tuple[Entry, ...]  # every publishable entry, newest first (not yet limited)
    drafts: int
    scheduled: int
    problems: tuple[Problem, ...]  # duplicates found while selecting


@dataclass
class BuildResult:
    files_written: tuple[str, ...] = ()
    files_unchanged: tuple[str, ...] = ()
    entries: int = 0  # entries in the main feed
    published: int = 0  # articles that are publishable
    drafts: int = 0
    scheduled: int = 0
    problems: list[Problem] = field(default_factory=list)
    written: bool = False

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
    for outcome in sorted(outcomes, key=lambda o: o.rel):
        entry = outcome.entry
        if entry is None:
            continue
        if entry.draft and not drafts:
            n_drafts += 1
            continue
        if entry.published > now and not future:
            n_scheduled += 1
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
    return Selection(tuple(ordered), n_drafts, n_scheduled, tuple(problems))


def with_content(entry: Entry, source: SourceFile, rules: MappingSettings) -> Entry:
    """Fill in ``content_html``: the rendered body (re-read now: only the entries
    that are published pay for Markdown), then the related links."""
    body_html = ""
    if entry.has_body:
        body_html = markup.render_markdown(body_markdown(load_article(source)), entry.url)
    related = markup.related_list(entry.related)
    if body_html:
        content = body_html + ("\n" + related if related else "")
    elif related:
        content = (markup.paragraph(entry.summary) + "\n" if entry.summary else "") + related
    else:
        content = None
    return replace(entry, content_html=content)


def feed_meta(settings: Settings) -> FeedMeta:
    return FeedMeta(
        title=settings.title,
        description=settings.description,
        site_url=settings.home_url,
        author=Author(settings.author or settings.title, settings.author_url),
        language=settings.language,
        icon=settings.icon,
        copyright=settings.copyright,
        generator="mkfeeds",
        generator_version=__version__,
    )


def make_feed(settings: Settings, meta: FeedMeta, entries: tuple[Entry, ...], folder: str = "") -> Feed:
    """A feed whose ``updated`` is its newest entry's date: never the clock."""
    updated = max((e.updated for e in entries), key=lambda d: d.timestamp(), default=EPOCH)
    base = urljoin(settings.base_url, folder)
    return Feed(
        meta=meta,
        rss_url=urljoin(base, settings.rss_file),
        atom_url=urljoin(base, settings.atom_file),
        json_url=urljoin(base, settings.json_file),
        updated=updated,
        entries=entries,
    )


def render_feed(settings: Settings, feed: Feed, folder: str = "") -> dict[str, bytes]:
    return {
        folder + settings.rss_file: render_rss(feed),
        folder + settings.atom_file: render_atom(feed),
        folder + settings.json_file: render_json(feed),
    }


def check_input_folder(settings: Settings) -> None:
    if not settings.input.is_dir():
        raise OutputError(str(settings.input), "the input folder does not exist or is not a folder")


@dataclass(frozen=True)
class Plan:
    """Everything a build would publish, rendered, before anything is written."""

    result: BuildResult
    feeds: dict[str, Feed]  # folder ("" for the main feed) -> feed model
    files: dict[str, bytes]  # relative output path -> bytes


def plan(settings: Settings, now: datetime, progress: Callable[[int], None] | None = None) -> Plan:
    """Read, map, select and render. Article problems are collected in the result;
    only configuration and input-folder failures raise."""
    check_input_folder(settings)
    rules = mapping_settings(settings)
    sources = discover(settings.input)
    outcomes = load_outcomes(sources, settings, rules, progress)
    result = BuildResult()
    for outcome in outcomes:
        result.problems.extend(outcome.problems)
    selection = select(outcomes, now, drafts=settings.drafts, future=settings.future)
    result.problems.extend(selection.problems)
    result.published, result.drafts, result.scheduled = (
        len(selection.entries), selection.drafts, selection.scheduled)

    by_rel = {s.rel: s for s in sources}
    entries: list[Entry] = []
    for entry in selection.entries:
        if settings.limit and len(entries) >= settings.limit:
            break
        try:
            entries.append(with_content(entry, by_rel[entry.source], rules))
        except ArticleError as exc:  # changed or vanished since it was first read
            result.problems.append(problem_of(exc))
    result.entries = len(entries)
    feed = make_feed(settings, feed_meta(settings), tuple(entries))
    result.problems.sort(key=lambda p: (p.path, p.line or 0))
    return Plan(result, {"": feed}, render_feed(settings, feed))


def build(settings: Settings, now: datetime, *, write: bool = True,
          progress: Callable[[int], None] | None = None) -> BuildResult:
    """Build and (with ``write``) publish the feeds: every file is rendered before the
    first is written, and with ``strict`` a rejection writes nothing."""
    planned = plan(settings, now, progress)
    result = planned.result
    if settings.strict and result.rejected:
        raise StrictFailure(result)
    if write:
        outcome: WriteResult = write_all(settings.output, planned.files)
        result.files_written, result.files_unchanged = outcome.written, outcome.unchanged
        result.written = True
    return result
