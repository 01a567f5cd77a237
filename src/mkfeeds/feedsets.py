"""Which feeds a build publishes: the main feed, one per taxonomy term, and the custom
feeds of the config. Pure: the publishable entries' keys in, ``FeedSpec``s out, each
with the keys of the entries it shows (whole entries are decoded only for those).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import Any, Callable, Iterable

from mkfeeds.config import CustomFeed, Settings
from mkfeeds.model import EntryKey, FeedKind, History

SLUG_MAX = 60
_NOT_SLUG = re.compile(r"[^\w]+")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$")  # Windows device names


@dataclass(frozen=True)
class FeedSpec:
    """One logical feed: where it goes, what it is called, which entries it holds."""

    key: str  # "main", "topics/ai", "custom/top-stories"
    kind: FeedKind
    folder: str  # output folder relative to the output root, "" or ending in "/"
    title: str
    description: str
    entries: tuple[EntryKey, ...]
    full_content: bool
    complete: bool = False  # it shows every entry it has, with no archive (fh:complete)
    archived: tuple[EntryKey, ...] | None = None  # with archive pages: every entry it has, newest first
    page_size: int = 0  # entries per archive page
    history: History | None = None  # its place among the archive pages (``archives``)


def slugify(name: str) -> str:
    """A readable, safe folder name: lowercase letters and digits of any script joined
    by '-', never empty, never a device name, at most ``SLUG_MAX`` characters."""
    ascii_first = unicodedata.normalize("NFKD", name)
    ascii_first = "".join(c for c in ascii_first if not unicodedata.combining(c))
    slug = _NOT_SLUG.sub("-", ascii_first.casefold()).replace("_", "-").strip("-")
    slug = re.sub(r"-{2,}", "-", slug)[:SLUG_MAX].strip("-")
    if not slug or _RESERVED.match(slug):
        slug = (slug + "-" if slug else "") + _digest(name)
    return slug


def _digest(name: str) -> str:
    return hashlib.sha256(name.casefold().encode("utf-8", "surrogatepass")).hexdigest()[:8]


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """Slugs for distinct names (compared case-insensitively). Where two names share a
    slug, each name that does not spell its slug exactly gets a short hash suffix, so
    the plain slug stays with the obvious owner and no feed overwrites another."""
    by_slug: dict[str, list[str]] = {}
    for name in names:
        by_slug.setdefault(slugify(name), []).append(name)
    result: dict[str, str] = {}
    for slug, group in by_slug.items():
        if len(group) == 1:
            result[group[0]] = slug
            continue
        canonical = [n for n in group if n.casefold().replace(" ", "-") == slug]
        for name in group:
            keep_plain = len(canonical) == 1 and name == canonical[0]
            result[name] = slug if keep_plain else f"{slug[:SLUG_MAX - 9]}-{_digest(name)}"
    return result


def _limited(entries: list[EntryKey], limit: int) -> tuple[EntryKey, ...]:
    return tuple(entries[:limit] if limit else entries)


def _history(archive: bool, limit: int, settings: Settings, every: tuple[EntryKey, ...] | list[EntryKey],
             total: int | None = None) -> dict[str, Any]:
    """The archive fields of a feed showing ``limit`` of ``every`` (``total`` of them):
    every entry with archive pages, or whether it is complete without. A feed of every
    entry (limit 0) is complete and needs no archive."""
    total = len(every) if total is None else total
    if archive and limit:
        return {"archived": tuple(every), "page_size": settings.archive_page_size or limit}
    return {"complete": not limit or total <= limit}


def main_spec(settings: Settings, entries: tuple[EntryKey, ...]) -> FeedSpec:
    return FeedSpec("main", "main", "", settings.title, settings.description,
                    _limited(list(entries), settings.limit), settings.content == "full",
                    **_history(settings.archive, settings.limit, settings, entries))


TAXONOMY_LABELS = {"topics": "topic", "category": "category", "provider": "provider"}


def _terms(taxonomy: str) -> Callable[[EntryKey], Iterable[str]]:
    """The terms an entry has in a taxonomy: names as written (a provider: its domain)."""
    if taxonomy == "topics":
        return attrgetter("topics")
    if taxonomy == "category":
        return attrgetter("sections")
    return lambda e: (e.provider_key,) if e.provider_key else ()


def _spellings(taxonomy: str, entries: tuple[EntryKey, ...]) -> Counter[tuple[str, str]]:
    """(term, name as shown) -> how many times entries use it."""
    if taxonomy == "provider":  # a provider is its domain, whatever its name
        return Counter((e.provider_key, e.author.name if e.author else e.provider_key)
                       for e in entries if e.provider_key)
    names = Counter(chain.from_iterable(map(_terms(taxonomy), entries)))  # counted in C
    return Counter({(name, name): count for name, count in names.items()})


def _rank(entry: EntryKey) -> tuple[float, str]:
    return -entry.published.timestamp(), entry.id  # select.newest_first: the order of the entries


class TermIndex:
    """What ``taxonomy_specs`` takes of every entry, per taxonomy: how often each
    spelling is used, and every use of each term (its casefolded name) in the entries'
    order. Kept up to date as a few entries change (``changed``), it gives the specs
    ``taxonomy_specs`` gives from the entries, without going through them all."""

    def __init__(self, taxonomies: Iterable[str], entries: tuple[EntryKey, ...]) -> None:
        self.taxonomies = tuple(taxonomies)
        self.spellings = {taxonomy: _spellings(taxonomy, entries) for taxonomy in self.taxonomies}
        self.uses: dict[str, dict[str, list[tuple[tuple[float, str], int, EntryKey]]]] = {}
        for taxonomy in self.taxonomies:
            uses: dict[str, list[tuple[tuple[float, str], int, EntryKey]]] = {}
            terms_of = _terms(taxonomy)
            for entry in entries:
                terms = terms_of(entry)
                if terms:
                    rank = _rank(entry)
                    for position, term in enumerate(terms):
                        uses.setdefault(term.casefold(), []).append((rank, position, entry))
            self.uses[taxonomy] = uses

    def changed(self, removed: Iterable[EntryKey], added: Iterable[EntryKey]) -> bool:
        """Take out the entries ``removed``, put in those ``added`` (in place); False when
        an entry to take out is not where it should be (the index is then not to be used)."""
        for taxonomy in self.taxonomies:
            terms_of, spellings, uses = _terms(taxonomy), self.spellings[taxonomy], self.uses[taxonomy]
            for entry in removed:
                rank = _rank(entry)
                for position, term in enumerate(terms_of(entry)):
                    found = uses.get(term.casefold())
                    at = -1 if found is None else bisect_left(found, (rank, position))
                    if found is None or at == len(found) or found[at][2] is not entry:
                        return False
                    del found[at]
                spellings.subtract(_spellings(taxonomy, (entry,)))
            for entry in added:
                rank = _rank(entry)
                for position, term in enumerate(terms_of(entry)):
                    found = uses.setdefault(term.casefold(), [])
                    found.insert(bisect_left(found, (rank, position)), (rank, position, entry))
                spellings.update(_spellings(taxonomy, (entry,)))
            for spelling in [spelling for spelling, count in spellings.items() if count <= 0]:
                del spellings[spelling]
        return True


def taxonomy_specs(settings: Settings, entries: tuple[EntryKey, ...], index: TermIndex | None = None) -> list[FeedSpec]:
    """One feed per term with at least ``taxonomy_min_entries`` entries, named by its
    most used spelling. ``entries`` is newest first, so each term's list is too. Terms
    are counted first; then entries are taken, newest first, until every feed has as
    many as it shows, which is usually long before the oldest. ``index``: a
    ``TermIndex`` of these very entries, for these taxonomies (then the entries
    themselves are not gone through)."""
    limit = settings.limit if settings.taxonomy_limit is None else settings.taxonomy_limit
    specs = []
    for taxonomy in settings.taxonomies:
        counts: dict[str, int] = {}
        key_of: dict[str, str] = {}  # names that differ only in case are one term
        display_names: dict[str, tuple[int, str]] = {}
        spellings = _spellings(taxonomy, entries) if index is None else index.spellings[taxonomy]
        for (term, _), count in spellings.items():
            key = key_of.get(term)
            if key is None:
                key = key_of[term] = term.casefold()
            counts[key] = counts.get(key, 0) + count
        wanted = {key for key, count in counts.items() if count >= settings.taxonomy_min_entries}
        uses: Counter[tuple[str, str]] = Counter()  # (key, name) -> uses, over the term's spellings
        for (term, name), count in spellings.items():
            if key_of[term] in wanted:
                uses[(key_of[term], name)] += count
        for (key, name), count in uses.items():
            if key not in display_names or (-count, name) < display_names[key]:
                display_names[key] = (-count, name)
        archive = settings.taxonomy_archive and bool(limit)
        shown = {key: min(limit, counts[key]) if limit and not archive else counts[key] for key in wanted}
        if index is None:
            members = _newest_members(taxonomy, entries, {term: key for term, key in key_of.items() if key in wanted},
                                      shown)
        else:
            by_term = index.uses[taxonomy]
            members = {key: [use[2] for use in by_term[key][:count]] for key, count in shown.items()}
        slugs = unique_slugs(members)
        for key in sorted(members, key=lambda k: slugs[k]):
            display = display_names[key][1]
            slug = slugs[key]
            label = TAXONOMY_LABELS[taxonomy]
            specs.append(FeedSpec(
                key=f"{taxonomy}/{slug}", kind="taxonomy", folder=f"{taxonomy}/{slug}/",
                title=f"{settings.title}: {display}",
                description=f"Articles in the {label} {display} from {settings.title}",
                entries=_limited(members[key], limit), full_content=settings.taxonomy_content == "full",
                **_history(archive, limit, settings, members[key] if archive else (), counts[key]),
            ))
    return specs


def _newest_members(taxonomy: str, entries: tuple[EntryKey, ...], key_of: dict[str, str],
                    wanted: dict[str, int]) -> dict[str, list[EntryKey]]:
    """The first ``wanted[key]`` entries of each term (an entry that names a term
    twice, in two spellings, is there twice, as it is counted twice)."""
    members: dict[str, list[EntryKey]] = {key: [] for key in wanted}
    unfilled = sum(1 for n in wanted.values() if n)
    terms_of = _terms(taxonomy)
    for entry in entries:
        if not unfilled:
            break
        for term in terms_of(entry):
            key = key_of.get(term)
            if key is not None:
                group = members[key]
                if len(group) < wanted[key]:
                    group.append(entry)
                    unfilled -= len(group) == wanted[key]
    return members


def _matches(feed: CustomFeed) -> Callable[[EntryKey], bool]:
    topics = {t.casefold() for t in feed.topics}
    sections = {c.casefold() for c in feed.categories}
    providers = {p.casefold() for p in feed.providers}
    types = {t.casefold() for t in feed.types}

    def keep(entry: EntryKey) -> bool:
        if topics and not topics.intersection(n.casefold() for n in entry.topics):
            return False
        if sections and not sections.intersection(n.casefold() for n in entry.sections):
            return False
        if providers and not providers.intersection(
                n.casefold() for n in (entry.provider_key, entry.author.name if entry.author else None) if n):
            return False
        if types and (entry.article_type or "").casefold() not in types:
            return False
        return feed.min_quality is None or (entry.quality is not None and entry.quality >= feed.min_quality)

    return keep


def _sort_key(sort: str) -> Callable[[EntryKey], tuple[float, float, str]]:
    if sort == "newest":
        return lambda e: (0.0, -e.published.timestamp(), e.id)
    if sort == "heat":
        return lambda e: (-(e.heat or 0.0), -e.published.timestamp(), e.id)
    return lambda e: (-(e.quality or 0.0), -e.published.timestamp(), e.id)


def custom_specs(settings: Settings, entries: tuple[EntryKey, ...]) -> list[FeedSpec]:
    specs = []
    for feed in settings.feeds:
        chosen = sorted(filter(_matches(feed), entries), key=_sort_key(feed.sort))
        limit = settings.limit if feed.limit is None else feed.limit
        specs.append(FeedSpec(
            key=f"custom/{feed.name}", kind="custom", folder=feed.path + "/",
            title=feed.title if feed.title != feed.name else f"{settings.title}: {feed.name}",
            description=feed.description or f"{feed.title} from {settings.title}",
            entries=_limited(chosen, limit), full_content=feed.content == "full",
            **_history(settings.archive, limit, settings,
                       sorted(chosen, key=_sort_key("newest")) if settings.archive and limit else chosen),
        ))
    return specs


def all_specs(settings: Settings, entries: tuple[EntryKey, ...], terms: TermIndex | None = None) -> list[FeedSpec]:
    return [main_spec(settings, entries), *taxonomy_specs(settings, entries, terms), *custom_specs(settings, entries)]
