"""Which entries a build publishes: the publishing rules, applied to the entries' keys. Pure."""

from __future__ import annotations

from bisect import bisect_left
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

    def publishes(self, key: EntryKey) -> bool:
        """Is ``key`` one of the entries? (Found by its place in the order.)"""
        at = bisect_left(self.entries, newest_first(key), key=newest_first)
        return at < len(self.entries) and self.entries[at] == key


def newest_first(key: EntryKey) -> tuple[float, str]:
    return -key.published.timestamp(), key.id


def select(outcomes: Iterable[KeyedOutcome], now: datetime, *, drafts: bool, future: bool,
           shown: Callable[[str], str] = str) -> Selection:
    """Withhold drafts and scheduled articles, drop duplicate ids (the first by path
    wins), and order newest first, ties broken by id. ``shown`` turns an article's path
    into the form every message shows it in (a duplicate's message names the other file,
    as its location names this one)."""
    return _select(outcomes, now, drafts=drafts, future=future, shown=shown)[0]


def _select(outcomes: Iterable[KeyedOutcome], now: datetime, *, drafts: bool, future: bool,
            shown: Callable[[str], str]) -> tuple[Selection, dict[str, EntryKey], frozenset[str]]:
    """The selection, the chosen entries by id, and the ids more than one publishable
    article claims."""
    chosen: dict[str, EntryKey] = {}
    problems: list[Problem] = []
    contested: set[str] = set()
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
            contested.add(key.id)
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
    return Selection(tuple(ordered), n_drafts, n_scheduled, tuple(problems), next_due), chosen, frozenset(contested)


@dataclass(frozen=True)
class Choice:
    """A selection with what it takes to follow a few changed articles without going
    through them all again (a watch loop's rebuilds): ``rechoose`` gives what ``select``
    would. Treat it as immutable: ``rechoose`` copies before it changes anything."""

    selection: Selection
    now: datetime
    drafts: bool
    future: bool
    chosen: dict[str, EntryKey]  # id -> the entry published under it
    order: list[tuple[float, str]]  # newest_first of each entry of the selection, in its order
    contested: frozenset[str]  # ids more than one publishable article claims
    followed: bool = False  # made by ``rechoose``, from the choice before it:
    removed: tuple[EntryKey, ...] = ()  # the entries it no longer publishes
    added: tuple[EntryKey, ...] = ()  # and those it publishes now


def choose(outcomes: Iterable[KeyedOutcome], now: datetime, *, drafts: bool, future: bool,
           shown: Callable[[str], str] = str) -> Choice:
    """``select``, and what ``rechoose`` needs to follow changes."""
    selection, chosen, contested = _select(outcomes, now, drafts=drafts, future=future, shown=shown)
    return Choice(selection, now, drafts, future, chosen, list(map(newest_first, selection.entries)), contested)


def rechoose(choice: Choice, changes: Iterable[tuple[KeyedOutcome, KeyedOutcome]], now: datetime) -> Choice | None:
    """The choice after each (before, after) pair of outcomes of one file, or None when
    it cannot be had without going through every article: the clock moved back or
    past a scheduled article, or a change touches a scheduled article or an id claimed
    twice (whose messages name the other file)."""
    selection = choice.selection
    if now < choice.now or (selection.next_due is not None and now >= selection.next_due):
        return None
    chosen, order, entries = dict(choice.chosen), list(choice.order), list(selection.entries)
    n_drafts = selection.drafts
    removed: list[EntryKey] = []
    added_keys: list[EntryKey] = []
    for before, after in changes:
        for key, added in ((before.key, False), (after.key, True)):
            if key is None:
                continue
            if key.id in choice.contested:
                return None
            if key.draft and not choice.drafts:
                n_drafts += 1 if added else -1
                continue
            if key.published > now and not choice.future:
                return None
            rank = newest_first(key)
            if added:
                if key.id in chosen:  # a new duplicate
                    return None
                chosen[key.id] = key
                at = bisect_left(order, rank)
                order.insert(at, rank)
                entries.insert(at, key)
                added_keys.append(key)
            else:
                at = bisect_left(order, rank)
                if chosen.get(key.id) is not key or at == len(entries) or entries[at] is not key:
                    return None  # not where a selection has it: go through everything
                del chosen[key.id], order[at], entries[at]
                removed.append(key)
    return Choice(Selection(tuple(entries), n_drafts, selection.scheduled, selection.problems, selection.next_due),
                  now, choice.drafts, choice.future, chosen, order, choice.contested, True, tuple(removed),
                  tuple(added_keys))
