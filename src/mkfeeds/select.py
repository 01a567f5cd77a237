"""Which entries a build publishes: the publishing rules, applied to the entries' keys. Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from mkfeeds.model import EntryKey, KeyedOutcome, Problem


@dataclass(frozen=True)
class Selection:
    """The outcome of choosing what to publish, before any rendering."""

    entries: tuple[EntryKey, ...]  # every publishable entry, newest first (not yet limited)
    drafts: int
    scheduled: int
    problems: tuple[Problem, ...]  # duplicates found while selecting
    next_due: datetime | None = None  # when the first scheduled entry is due


def newest_first(key: EntryKey) -> tuple[float, str]:
    return -key.published.timestamp(), key.id


def select(outcomes: Iterable[KeyedOutcome], now: datetime, *, drafts: bool, future: bool,
           shown: Callable[[str], str] = str) -> Selection:
    """Withhold drafts and scheduled articles, drop duplicate ids (the first by path
    wins), and order newest first, ties broken by id. ``shown`` turns an article's path
    into the form every message shows it in (a duplicate's message names the other file,
    as its location names this one)."""
    chosen: dict[str, EntryKey] = {}
    problems: list[Problem] = []
    n_drafts = n_scheduled = 0
    next_due: datetime | None = None
    for outcome in sorted(outcomes, key=attrgetter("rel")):
        key = outcome.key
        if key is None:
            continue
        if key.draft and not drafts:
            n_drafts += 1
            continue
        if key.published > now and not future:
            n_scheduled += 1
            if next_due is None or key.published < next_due:
                next_due = key.published
            continue
        first = chosen.get(key.id)
        if first is not None:
            if key.id.startswith(("http://", "https://")):  # the link, unless the article's own id says so
                problems.append(Problem("error", key.source,
                                        f"has the same link (id) as {shown(first.source)}, which is published instead",
                                        field="webUrl"))
            else:
                problems.append(Problem("error", key.source,
                                        f"has the same id as {shown(first.source)}, which is published instead",
                                        field="id"))
            continue
        chosen[key.id] = key
    ordered = sorted(chosen.values(), key=newest_first)
    return Selection(tuple(ordered), n_drafts, n_scheduled, tuple(problems), next_due)
