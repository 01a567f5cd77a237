"""A process that builds again and again (``mkfeeds serve``) keeps a ``Memory`` of its
last build, so that the next goes through the changed files only: the bytes it writes
are those a fresh build writes, whatever happens between builds (edits, additions,
deletions, files touched within a timestamp tick, the clock moving, a refused build,
another process building meanwhile). The row index follows a few changed rows without
being written again. And the selection follows changed articles as ``select`` would."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import NOW, article_text, index_mirrors_table, state_file, write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mkfeeds import incremental
from mkfeeds.build import Memory, NotPublished, build
from mkfeeds.config import Settings
from mkfeeds.incremental import codec
from mkfeeds.feedsets import TermIndex, taxonomy_specs
from mkfeeds.model import Author, EntryKey, KeyedOutcome
from mkfeeds.select import choose, newest_first, rechoose, select
from mkfeeds.watch import Listing

from test_incremental import CORPORA, EDITS, apply, backdate, outputs, settings_for


@pytest.fixture
def decoded(monkeypatch) -> list[str]:
    """The paths of the stored keys decoded in this process (each row a build takes
    from the state, and each file just read)."""
    seen: list[str] = []
    real = codec.outcome_decoder

    def spying(memo=None):
        decode = real(memo)

        def spy(rel, key):
            seen.append(rel)
            return decode(rel, key)

        return spy

    monkeypatch.setattr(codec, "outcome_decoder", spying)
    return seen


def corpus(root: Path, count: int = 40) -> None:
    write_tree(root / "in", {
        f"{i % 4}/{i:03}.txt": article_text(f"Body *{i}*." if i % 3 else "", title=f"Story {i}",
                                            webUrl=f"https://news.example.org/{i}/", topics=[f"T{i % 5}"],
                                            publishedDateTime=f"2024-01-{1 + i % 28:02}T00:{i % 60:02}:00Z")
        for i in range(count)})
    write_tree(root / "in", {"bad.txt": "---\ntitle: [\n---\n"})
    backdate(root / "in")


def session(root: Path, count: int = 40, **overrides) -> tuple[Settings, Memory, Listing]:
    """A corpus, and a watch session's first build of it: the settings, the memory, the listing."""
    corpus(root, count)
    settings = settings_for(root, "out", cache=root / "state", **overrides)
    memory, listing = Memory(), Listing.of(settings)
    build(settings, NOW, sources=listing.sources, memory=memory)
    return settings, memory, listing


def reference(root: Path, now: datetime = NOW, out: str = "reference") -> dict[str, bytes]:
    """What a build without any state or memory writes."""
    build(settings_for(root, out), now)
    return outputs(root / out)


def edit(root: Path, rel: str, title: str) -> str:
    path = root / "in" / rel
    path.write_text(article_text(f"Edited: {title}.", title=title, webUrl=f"https://news.example.org/{rel}/"))
    return str(path)


# --- the same bytes ---------------------------------------------------------------------------

@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(files=CORPORA, steps=st.lists(st.tuples(EDITS, st.integers(-2, 400), st.booleans()), min_size=1, max_size=4))
def test_builds_with_a_memory_write_what_a_fresh_build_writes(files, steps, tmp_path_factory):
    """Each step: edits (some within a tick of the last build), the clock moved (back,
    too), the listing told which paths changed (as a watcher tells it), and a build
    with the memory; or, for some steps, the folder listed again by the build."""
    root = tmp_path_factory.mktemp("memory")
    write_tree(root / "in", files)
    backdate(root / "in")
    settings = settings_for(root, "out", cache=root / "state")
    memory = Memory()
    listing = Listing.of(settings)
    build(settings, NOW, sources=listing.sources, memory=memory)
    now = NOW
    for number, (edits, hours, relist) in enumerate(steps):
        apply(root / "in", edits)
        if relist or not listing.update([str(root / "in" / name) for _, name, _ in edits]):
            listing = Listing.of(settings)  # as the watch loop does when a folder came or went
        now += timedelta(hours=hours)
        shutil.copytree(root / "state", root / f"state-{number}")  # the same state, for a build without memory
        fresh = build(settings_for(root, f"fresh-{number}", cache=root / f"state-{number}"), now)
        result = build(settings, now, sources=listing.sources, memory=memory)
        assert outputs(root / "out") == outputs(root / f"fresh-{number}")
        assert (result.problems, result.published, result.drafts, result.scheduled, result.next_due) == (
            fresh.problems, fresh.published, fresh.drafts, fresh.scheduled, fresh.next_due)
        assert index_mirrors_table(root / "state")


def test_a_rebuild_with_the_memory_decodes_only_the_changed_file(tmp_path: Path, decoded):
    corpus(tmp_path)
    settings = settings_for(tmp_path, "out", cache=tmp_path / "state")
    build(settings, NOW)  # another process's build: the state holds every row
    memory, listing = Memory(), Listing.of(settings)
    decoded.clear()
    build(settings, NOW, sources=listing.sources, memory=memory)
    assert len(decoded) == 41  # the first build in this process takes every row from the state
    listing.update([edit(tmp_path, "2/002.txt", "Edited once")])
    decoded.clear()
    build(settings, NOW, sources=listing.sources, memory=memory)
    assert decoded == ["2/002.txt"]  # the file just read, and no stored row
    assert outputs(tmp_path / "out") == reference(tmp_path)


def test_without_the_listing_the_memory_still_spares_decoding(tmp_path: Path, decoded):
    """A caller that lets each build list the folder: every file is compared with its
    row again, but no unchanged row is decoded."""
    corpus(tmp_path)
    settings = settings_for(tmp_path, "out", cache=tmp_path / "state")
    memory = Memory()
    build(settings, NOW, memory=memory)
    edit(tmp_path, "1/005.txt", "Edited")
    (tmp_path / "in/3/003.txt").unlink()
    write_tree(tmp_path / "in", {"new.txt": article_text(title="New", webUrl="https://news.example.org/new/")})
    decoded.clear()
    build(settings, NOW, memory=memory)
    assert sorted(decoded) == ["1/005.txt", "new.txt"]
    assert outputs(tmp_path / "out") == reference(tmp_path)


def test_a_build_by_another_process_meanwhile_makes_the_memory_start_again(tmp_path: Path, decoded):
    settings, memory, listing = session(tmp_path)
    path = edit(tmp_path, "0/004.txt", "Changed by the other process's turn")
    build(settings, NOW)  # another process: it commits, and the memory no longer describes the state
    listing.update([path, edit(tmp_path, "0/008.txt", "Then this one")])
    decoded.clear()
    build(settings, NOW, sources=listing.sources, memory=memory)
    assert len(decoded) == 41  # every row taken from the state again: the memory was not trusted
    assert outputs(tmp_path / "out") == reference(tmp_path)


def test_a_refused_build_leaves_the_memory_as_true_as_the_state(tmp_path: Path, decoded):
    settings, memory, listing = session(tmp_path)
    listing.update([edit(tmp_path, "1/001.txt", "Refused")])
    with pytest.raises(NotPublished):
        build(settings, NOW, sources=listing.sources, memory=memory, publish=lambda result: False)
    listing.update([edit(tmp_path, "3/007.txt", "Published")])
    decoded.clear()
    build(settings, NOW, sources=listing.sources, memory=memory)
    assert sorted(decoded) == ["1/001.txt", "3/007.txt"]  # the refused read was rolled back: read again
    assert outputs(tmp_path / "out") == reference(tmp_path)


def test_a_memory_without_a_state_folder_holds_nothing(tmp_path: Path, decoded):
    """``--no-cache``: nothing to agree with, so nothing is kept (every build reads all)."""
    corpus(tmp_path, 10)
    settings = settings_for(tmp_path, "out")
    memory = Memory()
    build(settings, NOW, memory=memory)
    assert memory.rows is None and memory.outcomes == []
    assert outputs(tmp_path / "out") == reference(tmp_path)


def test_a_file_touched_within_a_tick_of_its_reading_is_checked_again_by_a_rebuild_with_memory(tmp_path: Path):
    """The memory keeps the rule of the rows: a file whose stat is too recent to
    trust is confirmed by its digest by the next build, even if the listing kept its
    object (a same-size edit within the tick, mtime restored, is seen)."""
    corpus(tmp_path, 10)
    settings = settings_for(tmp_path, "out", cache=tmp_path / "state")
    memory, listing = Memory(), Listing.of(settings)
    path = Path(edit(tmp_path, "0/000.txt", "Version A"))
    listing.update([str(path)])
    build(settings, NOW, sources=listing.sources, memory=memory)
    stat = path.stat()
    path.write_text(path.read_text().replace("Version A", "Version B"))  # same size, same tick
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    build(settings, NOW, sources=listing.sources, memory=memory)  # the listing was not told
    assert b"Version B" in (tmp_path / "out/feed.json").read_bytes()


def test_a_rebuild_with_the_memory_renders_only_the_entries_that_changed(tmp_path: Path, monkeypatch):
    """The feeds showing an edited article are rendered again, but their other entries
    are copied from the renderings of the last build (found by value: same entry, same
    bytes), so feedgen builds only the edited one, in RSS and in Atom."""
    from feedgen.entry import FeedEntry

    settings, memory, listing = session(tmp_path, limit=20)
    built: list[str] = []
    real = FeedEntry.title

    def spy(self, *args, **kwargs):
        if args:
            built.append(args[0])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(FeedEntry, "title", spy)
    listing.update([edit(tmp_path, "3/039.txt", "Edited, and shown first")])  # in the main feed and others
    build(settings, NOW, sources=listing.sources, memory=memory)
    assert built == ["Edited, and shown first"] * 2
    fresh = settings_for(tmp_path, "fresh", limit=20)
    build(fresh, NOW)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "fresh")


def test_an_edit_that_keeps_the_key_shows_up_in_the_next_rebuild(tmp_path: Path):
    """A new title, excerpt or body leaves the article's key (what selection needs) as
    it was: the whole entry and its renderings must still be the new ones."""
    settings, memory, listing = session(tmp_path, 12)
    path = tmp_path / "in/3/011.txt"
    for round_ in range(2):
        path.write_text(path.read_text().replace("Story 11" if round_ == 0 else "Retitled once",
                                                 "Retitled once" if round_ == 0 else "Retitled twice"))
        listing.update([str(path)])
        build(settings, NOW, sources=listing.sources, memory=memory)
        assert outputs(tmp_path / "out") == reference(tmp_path, out=f"reference-{round_}")
    assert b"Retitled twice" in (tmp_path / "out/feed.json").read_bytes()


# --- the row index ------------------------------------------------------------------------------

def index_blobs(folder: Path) -> list[bytes]:
    import sqlite3

    with sqlite3.connect(state_file(folder)) as db:
        found = [blob for (blob,) in db.execute("SELECT value FROM meta WHERE key LIKE 'row_index/%' "
                                               "ORDER BY CAST(substr(key, 11) AS INTEGER)")]
    db.close()
    return found


def test_a_few_changed_rows_are_listed_beside_the_index_not_written_into_it(tmp_path: Path, decoded):
    corpus(tmp_path)
    settings = settings_for(tmp_path, "out", cache=tmp_path / "state")
    build(settings, NOW)
    before = index_blobs(tmp_path / "state")
    edit(tmp_path, "2/006.txt", "Edited")
    write_tree(tmp_path / "in", {"0/new.txt": article_text(title="New", webUrl="https://news.example.org/n/")})
    (tmp_path / "in/1/009.txt").unlink()
    backdate(tmp_path / "in")
    build(settings, NOW)
    assert index_blobs(tmp_path / "state") == before  # not written again
    assert index_mirrors_table(tmp_path / "state")
    decoded.clear()
    build(settings_for(tmp_path, "again", cache=tmp_path / "state"), NOW)  # the index and its changes
    assert sorted(decoded) == sorted(p.relative_to(tmp_path / "in").as_posix() for p in (tmp_path / "in").rglob("*.txt"))
    assert outputs(tmp_path / "again") == reference(tmp_path)


def test_many_changed_rows_write_the_index_again(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(incremental, "INDEX_CHANGES_MIN", 2)
    corpus(tmp_path)
    settings = settings_for(tmp_path, "out", cache=tmp_path / "state")
    build(settings, NOW)
    before = index_blobs(tmp_path / "state")
    edit(tmp_path, "0/000.txt", "One")
    build(settings, NOW)
    assert index_blobs(tmp_path / "state") == before  # one change: listed
    for rel in ("1/001.txt", "2/002.txt"):
        edit(tmp_path, rel, "More")
    build(settings, NOW)
    assert index_blobs(tmp_path / "state") != before  # three: the index is written again
    assert index_mirrors_table(tmp_path / "state")
    assert outputs(tmp_path / "out") == reference(tmp_path)


# --- the selection, following changes -----------------------------------------------------------

IDS = st.sampled_from([f"https://news.example.org/{i}/" for i in range(6)] + ["urn:a", "urn:b"])
WHEN = st.integers(-30, 30).map(lambda days: NOW + timedelta(days=days))
KEYS = st.one_of(st.none(), st.builds(
    lambda id_, when, draft: EntryKey(id_, "", when, when, draft), IDS, WHEN, st.booleans()))


def outcomes_of(keys) -> list[KeyedOutcome]:
    return [KeyedOutcome(f"{i:02}.txt", None if key is None else key._replace(source=f"{i:02}.txt"))
            for i, key in enumerate(keys)]


@settings(max_examples=300, deadline=None)
@given(before=st.lists(KEYS, min_size=1, max_size=8), changes=st.lists(st.tuples(st.integers(0, 7), KEYS), max_size=3),
       hours=st.integers(-48, 48), drafts=st.booleans(), future=st.booleans())
def test_following_changed_articles_selects_what_select_selects(before, changes, hours, drafts, future):
    old = outcomes_of(before)
    new = list(old)
    for at, key in changes:
        at %= len(new)
        new[at] = outcomes_of([None] * at + [key])[at]
    later = NOW + timedelta(hours=hours)
    choice = rechoose(choose(old, NOW, drafts=drafts, future=future),
                      [(a, b) for a, b in zip(old, new) if a is not b], later)
    if choice is not None:
        assert choice.selection == select(new, later, drafts=drafts, future=future)
        assert choice.order == sorted(choice.order)


def test_an_edited_article_is_followed_without_going_through_all():
    keys = [EntryKey(f"https://news.example.org/{i}/", f"{i:02}.txt", NOW - timedelta(days=i), NOW) for i in range(5)]
    old = [KeyedOutcome(key.source, key) for key in keys]
    new = list(old)
    new[3] = KeyedOutcome("03.txt", keys[3]._replace(published=NOW + timedelta(minutes=-1)))
    choice = rechoose(choose(old, NOW, drafts=False, future=False), [(old[3], new[3])], NOW)
    assert choice is not None
    assert [key.source for key in choice.selection.entries] == ["00.txt", "03.txt", "01.txt", "02.txt", "04.txt"]


# --- the feed sets, following changes ----------------------------------------------------------

NAMES_OF_TERMS = st.sampled_from(["AI", "ai", "Space", "Robots", "robots", "Sport"])
TERM_KEYS = st.builds(
    lambda i, days, topics, sections, provider, author: EntryKey(
        f"https://news.example.org/{i}/", f"{i:02}.txt", NOW - timedelta(days=days), NOW,
        author=None if author is None else Author(author), topics=tuple(topics), sections=tuple(sections),
        provider_key=provider),
    st.integers(0, 30), st.integers(0, 20), st.lists(NAMES_OF_TERMS, max_size=3), st.lists(NAMES_OF_TERMS, max_size=2),
    st.sampled_from([None, "example.org", "other.net"]), st.sampled_from([None, "Example", "Other"]))


def newest_first_unique(keys) -> tuple[EntryKey, ...]:
    unique = {key.id: key for key in keys}
    return tuple(sorted(unique.values(), key=newest_first))


@settings(max_examples=200, deadline=None)
@given(before=st.lists(TERM_KEYS, max_size=12), removed=st.sets(st.integers(0, 11), max_size=3),
       added=st.lists(TERM_KEYS, max_size=3), minimum=st.integers(1, 3), limit=st.integers(0, 4))
def test_following_changed_entries_gives_the_feed_sets_of_all_entries(before, removed, added, minimum, limit):
    old = newest_first_unique(before)
    gone = [key for at, key in enumerate(old) if at in removed]
    ids = {key.id for key in old if key not in gone}
    fresh = [key for key in newest_first_unique(added) if key.id not in ids]
    new = tuple(sorted([key for key in old if key not in gone] + fresh, key=newest_first))
    config = Settings(input=Path("in"), output=Path("out"), taxonomies=("topics", "category", "provider"),
                      taxonomy_min_entries=minimum, limit=limit)
    index = TermIndex(config.taxonomies, old)
    assert index.changed(gone, fresh)
    assert taxonomy_specs(config, new, index) == taxonomy_specs(config, new)
