"""The build's state (``--cache``, a folder holding ``state.sqlite``): what it reuses,
what invalidates it, and that a state in any condition (missing, damaged, locked,
someone else's, a FIFO) never fails a build nor changes a feed."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import NOW, article_text, index_mirrors_table, state_file, write_tree

from mkfeeds import bodies, build as build_module, loading, parallel, rendering
from mkfeeds.build import build
from mkfeeds.cli import cli
from mkfeeds.incremental import codec, fingerprint, store
from mkfeeds.model import Author, Entry, FileOutcome, Image, Link, Problem
from mkfeeds.source import discover

ARTICLES = {
    "a.txt": article_text(title="Alpha", webUrl="https://news.example.org/a/",
                          publishedDateTime="2024-03-01T10:00:00+02:00"),
    "b.txt": article_text(title="Beta", webUrl="https://news.example.org/b/",
                          publishedDateTime="2024-03-02 10:00:00"),  # naive: read in the zone
    "sub/c.md": article_text("Some *body*.", title="Gamma", webUrl="https://news.example.org/c/"),
    "bad.txt": "---\ntitle: [unclosed\n---\n",
    "draft.txt": article_text(title="Draft", webUrl="https://news.example.org/d/", published=False),
}
INDEX_WIDTH = store.KEY_AT + len(codec.KEY_COLUMNS)


@pytest.fixture
def tree(tmp_path):
    write_tree(tmp_path / "in", ARTICLES)
    return tmp_path / "in"


@pytest.fixture
def parsed(monkeypatch):
    """The paths of the files whose text was parsed and mapped, in this process."""
    seen: list[str] = []
    real = loading.outcome_of_text

    def spy(rel, text, rules):
        seen.append(rel)
        return real(rel, text, rules)

    monkeypatch.setattr(loading, "outcome_of_text", spy)
    return seen


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def state_of(tmp_path: Path) -> Path:
    """The state file of the ``cached`` settings."""
    return state_file(tmp_path / "cache.sqlite")


def query(path: Path, statement: str, *parameters) -> list[tuple]:
    with sqlite3.connect(path) as db:
        found = db.execute(statement, parameters).fetchall()
    db.close()
    return found


def rows(tmp_path: Path) -> dict[str, tuple]:
    """rel -> (size, mtime_ns, ctime_ns, ino, digest, checked_ns)."""
    return {r[0]: r[1:] for r in query(state_of(tmp_path), f"SELECT {', '.join(store.STAT_COLUMNS)} FROM files")}


def age(path: Path, seconds: float = 60) -> None:
    """Date a file back, as if it had been written well before the last build."""
    stamp = path.stat().st_mtime_ns - int(seconds * 1e9)
    os.utime(path, ns=(stamp, stamp))


def age_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            age(path)


def forget_last_build(tmp_path: Path) -> None:
    """Remove the record that lets an unchanged build skip everything (``meta.build``):
    the next build then goes through the rows, as these tests mean it to."""
    query(state_of(tmp_path), "DELETE FROM meta WHERE key = 'build'")


def tamper(tmp_path: Path, statement: str, *, keep_index: bool = False) -> None:
    """Change the state behind mkfeeds' back, and forget the last build, so that the next
    build reads the rows. The row index mirrors the table as mkfeeds left it: it goes too
    (unless ``keep_index``), or the next build would read the rows from it, undamaged."""
    query(state_of(tmp_path), statement)
    if not keep_index:
        query(state_of(tmp_path), "DELETE FROM meta WHERE key = 'row_index'")
    forget_last_build(tmp_path)


def no_cache_build(make_settings, tmp_path: Path, name: str = "ref"):
    """What a build without any state publishes (``--no-cache``): the reference."""
    result = build(make_settings(output=tmp_path / name), NOW)
    return result, outputs(tmp_path / name)


# --- reuse -----------------------------------------------------------------------------------

def test_a_second_build_parses_nothing_and_writes_the_same_feeds(tree, cached, parsed, tmp_path):
    """A warm build reads every outcome from the state and publishes the same bytes."""
    age_tree(tree)
    build(cached(), NOW)
    first = outputs(tmp_path / "out")
    assert sorted(parsed) == sorted(s.rel for s in discover(tree))
    parsed.clear()
    result = build(cached(output=tmp_path / "out2"), NOW)
    assert parsed == [] and not result.up_to_date  # another output folder: a real build
    assert outputs(tmp_path / "out2") == first


def test_problems_are_reported_again_from_the_cache(tree, cached, tmp_path):
    """A rejected file stays rejected on a warm build, with the same message."""
    age_tree(tree)
    cold = build(cached(), NOW).problems
    forget_last_build(tmp_path)
    warm = build(cached(), NOW)
    assert not warm.up_to_date
    assert warm.problems == cold and any(p.path == "bad.txt" and p.severity == "error" for p in warm.problems)


def test_an_edited_article_is_read_again(tree, cached, parsed, tmp_path):
    age_tree(tree)
    build(cached(), NOW)
    parsed.clear()
    (tree / "a.txt").write_text(article_text(title="Alpha, edited", webUrl="https://news.example.org/a/"))
    build(cached(), NOW)
    assert parsed == ["a.txt"]
    assert "Alpha, edited" in (tmp_path / "out" / "feed.json").read_text()


def test_a_touched_but_unchanged_article_is_confirmed_by_digest_not_parsed(tree, cached, parsed, tmp_path):
    age_tree(tree)
    build(cached(), NOW)
    parsed.clear()
    size, mtime, ctime, ino, digest, checked = rows(tmp_path)["a.txt"]
    os.utime(tree / "a.txt", ns=(mtime + 10**9, mtime + 10**9))
    build(cached(), NOW)
    assert parsed == []
    after = rows(tmp_path)["a.txt"]
    assert after[1] == mtime + 10**9 and after[4] == digest  # new mtime, same digest


def test_a_same_size_edit_with_its_mtime_restored_is_seen(tree, cached, parsed, tmp_path):
    """Same size, same mtime, new text, long after the last build: the change time and
    the inode, which no tool sets back, show it (as in git's index)."""
    age_tree(tree)
    build(cached(), NOW)
    path = tree / "a.txt"
    before = path.stat()
    path.write_text(path.read_text().replace("Alpha", "Alfa!"))  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    parsed.clear()
    build(cached(), NOW)
    assert parsed == ["a.txt"]
    assert "Alfa!" in (tmp_path / "out" / "feed.json").read_text()


def test_a_file_changed_within_a_timestamp_tick_of_its_reading_is_checked_again(tree, cached, parsed, tmp_path,
                                                                               monkeypatch):
    """Same size and mtime, new text: caught because the row was written too soon after
    the file's last change to trust the timestamp alone, even on a file system that
    reports no change time nor inode (as here, to leave the mtime the only clue)."""
    real = build_module.discover
    monkeypatch.setattr(build_module, "discover",
                        lambda *args: [s._replace(ctime_ns=0, ino=0) for s in real(*args)])
    build(cached(), NOW)  # files written just now: their rows are "racy"
    stat = (tree / "a.txt").stat()
    text = (tree / "a.txt").read_text()
    (tree / "a.txt").write_text(text.replace("Alpha", "Alfa!"))  # same length
    os.utime(tree / "a.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    parsed.clear()
    build(cached(), NOW)
    assert parsed == ["a.txt"]
    assert "Alfa!" in (tmp_path / "out" / "feed.json").read_text()


def test_a_racy_file_is_read_and_confirmed_by_its_digest(tree, cached, parsed, monkeypatch):
    """A file changed within a tick of the last build is read again, but not parsed when
    its text is the same."""
    read: list[str] = []
    real = loading.read_text
    monkeypatch.setattr(loading, "read_text", lambda source: read.append(source.rel) or real(source))
    build(cached(), NOW)  # files written just now
    read.clear()
    parsed.clear()
    build(cached(), NOW)
    assert sorted(read) == sorted(ARTICLES) and parsed == []


def test_a_deleted_article_leaves_the_feeds_and_the_cache(tree, cached, tmp_path):
    age_tree(tree)
    build(cached(), NOW)
    assert "Gamma" in (tmp_path / "out" / "feed.json").read_text()
    (tree / "sub" / "c.md").unlink()
    build(cached(), NOW)
    assert "Gamma" not in (tmp_path / "out" / "feed.json").read_text()
    assert "sub/c.md" not in rows(tmp_path)


def test_a_new_article_is_added(tree, cached, parsed, tmp_path):
    age_tree(tree)
    build(cached(), NOW)
    parsed.clear()
    write_tree(tree, {"a0.txt": article_text(title="Newcomer", webUrl="https://news.example.org/n/")})
    build(cached(), NOW)
    assert parsed == ["a0.txt"]
    assert "Newcomer" in (tmp_path / "out" / "feed.json").read_text()


def test_an_unreadable_file_is_not_cached(tree, cached, tmp_path, monkeypatch):
    """Read errors depend on more than the text (permissions, races): never stored."""
    age_tree(tree)
    real = loading.read_text

    def failing(source):
        if source.rel == "a.txt":
            from mkfeeds.errors import ArticleError
            raise ArticleError(source.rel, "cannot be read (Permission denied)")
        return real(source)

    monkeypatch.setattr(loading, "read_text", failing)
    result = build(cached(), NOW)
    assert any(p.path == "a.txt" and "Permission denied" in p.message for p in result.problems)
    assert "a.txt" not in rows(tmp_path) and "b.txt" in rows(tmp_path)


class _Watched:
    """An SQLite connection that notes, in a file, the pid of every process using it."""

    def __init__(self, db: sqlite3.Connection, log: Path) -> None:
        self._db, self._log = db, log

    def __getattr__(self, name: str):
        with open(self._log, "a") as log:
            log.write(f"{os.getpid()}\n")
        return getattr(self._db, name)


def test_a_forked_worker_never_touches_the_cache(cached, tmp_path, monkeypatch):
    """An SQLite connection must not be used across fork: the workers that read
    articles, render bodies and render feeds inherit the open state, and never use it."""
    write_tree(tmp_path / "in", {
        f"{i}.txt": article_text(f"A *body* {i}.", title=f"Story {i}", webUrl=f"https://n.example/{i}",
                                 topics=[f"Topic {i}"])
        for i in range(12)})  # more than a chunk of files (8): two workers read them
    age_tree(tmp_path / "in")
    for module, name in ((loading, "PARALLEL_MIN"), (loading, "PER_PROCESS_MIN"), (bodies, "PARALLEL_MIN"),
                         (bodies, "PER_PROCESS_MIN"), (rendering, "RENDER_PARALLEL_MIN")):
        monkeypatch.setattr(module, name, 1)
    log = tmp_path / "uses"
    real_connect = store._connect
    monkeypatch.setattr(store, "_connect", lambda path: _Watched(real_connect(path), log))
    forked: list[str] = []
    real_map = parallel.forked_map

    def spy(function, items, processes, **kwargs):
        mapped = real_map(function, items, processes, **kwargs)
        if mapped.forked:
            forked.append(function.__module__)
        return mapped

    monkeypatch.setattr(parallel, "forked_map", spy)
    build(cached(jobs=2), NOW)
    (tmp_path / "in" / "0.txt").write_text(article_text("Changed.", title="Story 0", webUrl="https://n.example/0"))
    build(cached(jobs=2, output=tmp_path / "out2"), NOW)  # rows reused, bodies from the state
    assert {"mkfeeds.loading", "mkfeeds.bodies", "mkfeeds.rendering"} <= set(forked)
    assert set(log.read_text().split()) == {str(os.getpid())}


def test_a_file_name_that_is_not_utf8_is_published_and_simply_not_cached(cached, tmp_path):
    """SQLite holds UTF-8 text only: such a file (its body too) is read at every build."""
    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsencode(folder) + b"/caf\xe9.txt"
    with open(name, "wb") as handle:
        handle.write(article_text("A *body*.", title="Latin-1 name", webUrl="https://n.example/cafe").encode())
    write_tree(folder, {"plain.txt": article_text("Another *body*.", title="Plain", webUrl="https://n.example/p")})
    for _ in range(2):
        result = build(cached(), NOW)
        assert result.published == 2 and not result.problems and not result.notices
        assert b"&lt;em&gt;body&lt;/em&gt;" in (tmp_path / "out/rss.xml").read_bytes()
    assert query(state_of(tmp_path), "SELECT rel, body IS NOT NULL FROM files") == [("plain.txt", 1)]


# --- invalidation ----------------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    {"site_url": "https://elsewhere.example.org/"},
    {"timezone": "Europe/Paris"},
])
def test_a_change_of_mapping_settings_empties_the_cache(tree, cached, parsed, change):
    age_tree(tree)
    build(cached(), NOW)
    parsed.clear()
    build(cached(**change), NOW)
    assert sorted(parsed) == sorted(s.rel for s in discover(tree))


def test_settings_that_do_not_change_outcomes_keep_the_cache(tree, cached, parsed):
    age_tree(tree)
    build(cached(), NOW)
    parsed.clear()
    result = build(cached(limit=1, drafts=True, title="Another title"), NOW)
    assert parsed == [] and not result.up_to_date


@pytest.mark.parametrize("what", ["mapping_version", "version", "code", "pyyaml", "markdown"])
def test_a_new_mkfeeds_version_or_rules_empty_the_cache(tree, cached, parsed, monkeypatch, what):
    age_tree(tree)
    build(cached(), NOW)
    parsed.clear()
    if what == "mapping_version":
        import mkfeeds.mapping
        monkeypatch.setattr(mkfeeds.mapping, "MAPPING_VERSION", mkfeeds.mapping.MAPPING_VERSION + 1)
    elif what == "version":
        import mkfeeds
        monkeypatch.setattr(mkfeeds, "__version__", mkfeeds.__version__ + ".post1")
    elif what == "pyyaml":
        import yaml
        monkeypatch.setattr(yaml, "__version__", "99.0")
    elif what == "markdown":  # the state holds bodies as HTML
        real = fingerprint.installed_versions
        monkeypatch.setattr(fingerprint, "installed_versions", lambda names: (
            ("cmarkgfm-9999.1.1.dist-info",) if names == fingerprint.BODY_LIBRARIES else real(names)))
    else:
        monkeypatch.setattr(fingerprint, "code_digest", lambda: "another-rule-set")
    build(cached(), NOW)
    assert sorted(parsed) == sorted(s.rel for s in discover(tree))


def test_the_code_digest_covers_the_modules_that_compute_outcomes():
    covered = fingerprint.code_digest().split(":")[1].split(",")
    assert {"source", "mapping", "loading", "model", "incremental.codec", "bodies", "dates", "text", "urls",
            "markup"} <= set(covered)
    assert "cli" not in covered and "build" not in covered


def test_the_body_libraries_are_found_without_importing_them():
    found = fingerprint.installed_versions(fingerprint.BODY_LIBRARIES)
    assert [name.split("-")[0].lower() for name in found] == ["cmarkgfm", "nh3"]


# --- a state in any condition never fails a build --------------------------------------------

def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_missing_cache_is_created_silently(tree, cached, tmp_path, caplog):
    result = build(cached(), NOW)
    assert state_of(tmp_path).is_file()
    assert result.notices == [] and warnings_of(caplog) == []


def test_a_file_that_is_not_sqlite_is_left_alone(tree, cached, make_settings, tmp_path):
    path = state_of(tmp_path)
    path.parent.mkdir()
    path.write_bytes(b"my precious notes\n")
    result = build(cached(), NOW)
    assert path.read_bytes() == b"my precious notes\n"
    assert result.published == 3
    [notice] = result.notices
    assert "cache not used" in notice and "not mkfeeds' state" in notice
    assert "remove it, or choose another --cache" in notice
    assert outputs(tmp_path / "out") == no_cache_build(make_settings, tmp_path)[1]


def test_a_cache_path_that_is_a_file_is_not_used(tree, cached, tmp_path):
    (tmp_path / "notes").write_text("mine")
    result = build(cached(cache=tmp_path / "notes"), NOW)
    assert result.published == 3 and (tmp_path / "notes").read_text() == "mine"
    [notice] = result.notices
    assert "is not a folder; remove it, or choose another --cache" in notice


def test_a_state_file_that_is_a_folder_is_not_used(tree, cached, tmp_path):
    state_of(tmp_path).mkdir(parents=True)
    result = build(cached(), NOW)
    assert result.published == 3 and state_of(tmp_path).is_dir()
    [notice] = result.notices
    assert "is not a regular file; remove it or choose another --cache" in notice


def test_someone_elses_database_is_left_alone(tree, cached, tmp_path):
    path = state_of(tmp_path)
    path.parent.mkdir()
    query(path, "CREATE TABLE precious (x)")
    query(path, "INSERT INTO precious VALUES (42)")
    result = build(cached(), NOW)
    assert query(path, "SELECT x FROM precious") == [(42,)]
    assert result.published == 3
    [notice] = result.notices
    assert "not mkfeeds' state" in notice and "left alone" in notice


def test_a_damaged_cache_is_replaced_with_a_warning(tree, cached, parsed, make_settings, tmp_path):
    age_tree(tree)
    build(cached(), NOW)
    path = state_of(tmp_path)
    data = bytearray(path.read_bytes())
    data[100:] = b"\x5a" * (len(data) - 100)  # keep the header, wreck every page
    path.write_bytes(bytes(data))
    parsed.clear()
    result = build(cached(), NOW)
    assert sorted(parsed) == sorted(s.rel for s in discover(tree))
    assert result.published == 3
    assert any("damaged" in m and "replaced" in m for m in result.notices)
    forget_last_build(tmp_path)
    parsed.clear()
    again = build(cached(), NOW)  # the replacement works
    assert parsed == [] and again.notices == []
    assert outputs(tmp_path / "out") == no_cache_build(make_settings, tmp_path)[1]


def test_a_damaged_row_is_read_again(tree, cached, parsed, tmp_path):
    age_tree(tree)
    build(cached(), NOW)
    tamper(tmp_path, "UPDATE files SET k_published = 'not a date' WHERE rel = 'a.txt'")
    parsed.clear()
    build(cached(), NOW)
    assert parsed == ["a.txt"]
    assert "Alpha" in (tmp_path / "out" / "feed.json").read_text()


def test_a_damaged_entry_behind_a_good_key_is_read_again(tree, cached, parsed, tmp_path):
    """The key part of a row is read on every build, the entry part only when a feed
    shows the entry: damage there is found late, and the file is read then."""
    age_tree(tree)
    build(cached(), NOW)
    (tmp_path / "out" / "feed.json").unlink()  # so that the main feed is rendered again
    tamper(tmp_path, "UPDATE files SET entry = '[1, 2]' WHERE rel = 'a.txt'")
    parsed.clear()
    build(cached(), NOW)
    assert parsed == ["a.txt"]
    assert "Alpha" in (tmp_path / "out" / "feed.json").read_text()


def test_an_entry_that_cannot_be_had_late_is_left_out_with_an_error(tree, cached, tmp_path, monkeypatch):
    """Damage found when the entry is decoded, and the file changed since it was listed:
    the entry is left out of this build, with an error naming the file."""
    age_tree(tree)
    build(cached(), NOW)
    tamper(tmp_path, "UPDATE files SET entry = '[]' WHERE rel = 'a.txt'", keep_index=True)
    real = loading.process_file

    def edited_meanwhile(source, rules):  # someone saves the file as the feeds are built
        if source.rel == "a.txt":
            (tree / "a.txt").write_text(article_text(title="Rewritten", webUrl="https://n.example/moved/"))
        return real(source, rules)

    monkeypatch.setattr(loading, "process_file", edited_meanwhile)
    result = build(cached(output=tmp_path / "out2"), NOW)
    assert "a.txt: error: changed while the feeds were being built; it is left out until the next build" in [
        str(p) for p in result.problems]
    feed = (tmp_path / "out2" / "feed.json").read_text()
    assert "Alpha" not in feed and "Rewritten" not in feed and "Beta" in feed


def test_a_damaged_body_or_entry_changes_no_output(tree, cached, make_settings, tmp_path):
    """A stored body or entry changed behind mkfeeds' back (one character is enough) is
    proven not to be the one stored: the build publishes what it would without a state."""
    age_tree(tree)
    build(cached(), NOW)
    assert query(state_of(tmp_path), "SELECT count(*) FROM files WHERE body IS NOT NULL") == [(1,)]
    reference, expected = no_cache_build(make_settings, tmp_path)
    tamper(tmp_path, "UPDATE files SET body = char(1) || body", keep_index=True)
    tamper(tmp_path, "UPDATE files SET entry = replace(entry, 'Alpha', 'Alpxa')", keep_index=True)
    assert query(state_of(tmp_path), "SELECT count(*) FROM files WHERE entry LIKE '%Alpxa%'") == [(1,)]
    result = build(cached(output=tmp_path / "again"), NOW)  # another folder: every feed is rendered
    assert outputs(tmp_path / "again") == expected
    assert result.problems == reference.problems and result.rejected == reference.rejected == 1


def test_a_long_feed_fetches_its_entries_proven_and_reads_damaged_ones_again(tree, cached, parsed, make_settings,
                                                                                tmp_path, monkeypatch):
    """A long feed asks the state for a chunk of entries and bodies at once and decodes
    them in workers: the same proofs hold, and damage costs nothing but a read."""
    from mkfeeds import build as build_module

    monkeypatch.setattr(build_module, "STREAM_MIN", 1)  # every feed streams
    age_tree(tree)
    build(cached(limit=0, taxonomies=(), pages=False), NOW)
    reference, expected = no_cache_build(lambda **o: make_settings(limit=0, taxonomies=(), pages=False, **o), tmp_path)
    tamper(tmp_path, "UPDATE files SET body = char(1) || body", keep_index=True)
    tamper(tmp_path, "UPDATE files SET entry = replace(entry, 'Alpha', 'Alpxa')", keep_index=True)
    parsed.clear()
    result = build(cached(limit=0, taxonomies=(), pages=False, output=tmp_path / "again"), NOW)
    assert outputs(tmp_path / "again") == expected
    assert set(parsed) == {"a.txt"}  # the damaged entry's file, read again (the body's is rendered again)
    assert result.problems == reference.problems
    assert any("damaged" in notice for notice in result.notices)
    assert query(state_of(tmp_path), "SELECT count(*) FROM files WHERE rel = 'a.txt'") == [(0,)]  # forgotten


def test_damage_found_while_reading_the_rows_falls_back_to_a_full_build(tree, cached, parsed, make_settings,
                                                                        tmp_path):
    """The schema pages read fine, the rows do not: every article is read, the state replaced."""
    age_tree(tree)
    write_tree(tree, {f"many/{i:03}.txt": article_text(title=f"Story {i}", webUrl=f"https://n.example/{i}/")
                      for i in range(300)})
    age_tree(tree)
    build(cached(), NOW)
    path = state_of(tmp_path)
    tamper(tmp_path, "VACUUM")  # no row index (else the rows come from it), no free pages
    data = bytearray(path.read_bytes())
    assert len(data) > 40 * 4096
    data[20 * 4096:] = b"\x5a" * (len(data) - 20 * 4096)
    path.write_bytes(bytes(data))
    parsed.clear()
    result = build(cached(), NOW)
    assert len(parsed) == len(discover(tree))
    damage = [m for m in result.notices if "damaged" in m]  # found on opening, or on reading the rows
    assert len(damage) == 1 and damage[0].startswith(f"cache {path.parent} was damaged (database disk image is "
                                                     "malformed)") and damage[0].endswith("every article is read")
    assert outputs(tmp_path / "out") == no_cache_build(make_settings, tmp_path)[1]
    assert result.published == 303
    forget_last_build(tmp_path)
    parsed.clear()
    build(cached(), NOW)
    assert parsed == []


def test_values_of_the_wrong_type_in_the_table_count_as_damage(tree, cached, parsed, tmp_path):
    """SQLite lets any column hold any type: a tampered row must not crash the build."""
    age_tree(tree)
    build(cached(), NOW)
    tamper(tmp_path, "UPDATE files SET checked_ns = x'00' WHERE rel = 'b.txt'")
    parsed.clear()
    result = build(cached(), NOW)
    assert result.published == 3
    assert sorted(parsed) == sorted(s.rel for s in discover(tree))
    assert any("damaged" in m for m in result.notices)


def test_a_cache_locked_by_another_build_is_not_waited_for(tree, cached, tmp_path, monkeypatch):
    build(cached(), NOW)
    monkeypatch.setattr(store, "LOCK_TIMEOUT", 0.05)
    other = sqlite3.connect(state_of(tmp_path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        result = build(cached(output=tmp_path / "out2"), NOW)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.published == 3
    assert any("in use by another build" in m for m in result.notices)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "out2")


@pytest.mark.parametrize("where", ["out/c", "in/c", "out", "in"])
def test_a_cache_inside_the_output_or_input_folder_is_refused(tree, cached, tmp_path, where):
    """In out/ it would be published, drafts and all; in/ is never modified."""
    result = build(cached(cache=tmp_path / where), NOW)
    assert result.published == 3
    assert not state_file(tmp_path / where).exists() and not (tmp_path / "in" / "c").exists()
    [notice] = result.notices
    assert "inside the" in notice and "choose another --cache" in notice


def test_a_cache_that_cannot_be_written_leaves_the_build_intact(tree, cached, make_settings, tmp_path,
                                                               monkeypatch):
    def full(self, rows):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store.Store, "put", full)
    result = build(cached(), NOW)
    assert result.published == 3
    assert any("could not be updated" in m for m in result.notices)
    assert outputs(tmp_path / "out") == no_cache_build(make_settings, tmp_path)[1]


def test_cache_warnings_are_notices_of_the_result_not_log_records(tree, cached, tmp_path, caplog):
    """Warnings about the state go to ``BuildResult.notices`` (for the CLI to print)."""
    state_of(tmp_path).parent.mkdir()
    state_of(tmp_path).write_text("not a database")
    result = build(cached(), NOW)
    assert len(result.notices) == 1 and result.notices[0].startswith("cache not used:")
    assert warnings_of(caplog) == []


# --- FIFOs and strangers at the state's paths ------------------------------------------------

def run_build_process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m mkfeeds build`` in a process of its own, which must end in seconds."""
    return subprocess.run([sys.executable, "-m", "mkfeeds", "build", "--input", "in", "--output", "out",
                           "--base-url", "https://f.example/", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=20)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX's")
@pytest.mark.parametrize("name", ["state.sqlite", "state.sqlite-journal", "state.sqlite-wal"])
def test_a_fifo_at_a_state_path_is_not_waited_for(tree, cached, tmp_path, name):
    """Opening a FIFO blocks until someone writes to it: the build must not open one."""
    if name != "state.sqlite":
        build(cached(), NOW)  # a state file, with a FIFO beside it
    shutil.rmtree(tmp_path / "out", ignore_errors=True)  # the feeds to be written
    (tmp_path / "cache.sqlite").mkdir(exist_ok=True)
    os.mkfifo(tmp_path / "cache.sqlite" / name)
    done = run_build_process(tmp_path, "--cache", "cache.sqlite")  # raises TimeoutExpired if it blocks
    assert done.returncode == 1  # bad.txt, as always
    assert "is not a regular file; remove it or choose another --cache" in done.stderr
    assert name in done.stderr
    assert (tmp_path / "out" / "rss.xml").is_file() and (tmp_path / "out" / "feed.json").is_file()


# --- the row index -----------------------------------------------------------------------

def row_index(tmp_path: Path) -> list[bytes]:
    """The row index's columns as stored: a BLOB a column."""
    return [blob for (blob,) in query(state_of(tmp_path), "SELECT value FROM meta WHERE key LIKE 'row_index/%' "
                                      "ORDER BY CAST(substr(key, 11) AS INTEGER)")]


def set_row_index(tmp_path: Path, blobs) -> None:
    query(state_of(tmp_path), "DELETE FROM meta WHERE key LIKE 'row_index/%'")
    for position, blob in enumerate(blobs):
        query(state_of(tmp_path), "INSERT INTO meta VALUES (?, ?)", f"row_index/{position}", blob)


def test_a_rebuild_reads_the_rows_from_the_index_not_the_table(tree, cached, parsed, tmp_path, monkeypatch):
    """A row damaged in the table goes unnoticed while the index holds: the rows are
    read from it, in one piece, not from the table."""
    age_tree(tree)
    build(cached(), NOW)
    assert index_mirrors_table(tmp_path / "cache.sqlite")
    tamper(tmp_path, "UPDATE files SET checked_ns = x'00' WHERE rel = 'b.txt'", keep_index=True)
    decoded: list[bool] = []
    real = store._column_of_blob
    monkeypatch.setattr(store, "_column_of_blob", lambda blob: decoded.append(True) or real(blob))
    parsed.clear()
    result = build(cached(output=tmp_path / "again"), NOW)
    assert decoded == [True] * (INDEX_WIDTH + 1)  # each column, and the paths changed since
    assert parsed == [] and result.notices == []
    assert outputs(tmp_path / "again") == outputs(tmp_path / "out")


@pytest.mark.parametrize("chunk", [1, 2, 4096])
def test_a_cold_builds_row_index_holds_every_row_however_its_rows_were_packed(tree, cached, parsed, tmp_path,
                                                                             monkeypatch, chunk):
    """A cold build packs its rows as it puts them (compressed chunks of ``chunk`` rows)
    and writes the row index from them: the index holds the table's rows, and a rebuild
    takes them from it without reading a file."""
    monkeypatch.setattr(store.PackedRows, "CHUNK", chunk)
    age_tree(tree)
    build(cached(), NOW)
    assert index_mirrors_table(tmp_path / "cache.sqlite")
    forget_last_build(tmp_path)
    decoded: list[bool] = []
    real = store._column_of_blob
    monkeypatch.setattr(store, "_column_of_blob", lambda blob: decoded.append(real(blob) is not None) or real(blob))
    parsed.clear()
    build(cached(output=tmp_path / "again"), NOW)
    assert decoded == [True] * (INDEX_WIDTH + 1) and parsed == []
    assert outputs(tmp_path / "again") == outputs(tmp_path / "out")


def test_a_cold_build_given_its_files_out_of_path_order_still_writes_a_true_row_index(tree, cached, tmp_path,
                                                                                     monkeypatch):
    """Rows put out of path order cannot be packed as the index holds them: they are
    unpacked and sorted before the index is written."""
    monkeypatch.setattr(store.PackedRows, "CHUNK", 2)
    age_tree(tree)
    settings = cached()
    build(settings, NOW, sources=list(reversed(discover(settings.input))))
    assert index_mirrors_table(tmp_path / "cache.sqlite")


def test_a_cold_build_spills_its_packed_rows_and_leaves_nothing_behind(tree, cached, tmp_path, monkeypatch):
    """The packed rows of a cold build go to an unnamed file beside the state file: no
    name in the folder, no descriptor left open after the build."""
    monkeypatch.setattr(store.PackedRows, "CHUNK", 1)
    spills: list[object] = []
    real = store.PackedRows.__init__

    def watched(self, width, shared, spill=None):
        spills.append(spill)
        real(self, width, shared, spill)

    monkeypatch.setattr(store.PackedRows, "__init__", watched)
    descriptors = len(os.listdir("/proc/self/fd"))
    build(cached(), NOW)
    assert len(spills) == 1 and spills[0] is not None and spills[0].closed
    assert len(os.listdir("/proc/self/fd")) == descriptors
    assert sorted(p.name for p in (tmp_path / "cache.sqlite").iterdir()) == [store.STATE_FILE]
    assert index_mirrors_table(tmp_path / "cache.sqlite")


def test_spilled_rows_that_cannot_be_read_back_cost_only_the_state(tree, cached, parsed, make_settings, tmp_path,
                                                                  monkeypatch):
    """The spill cut short (a full disk, say): the build's output is right, the state
    is not kept, with a notice, and the next build reads every file and keeps it."""
    age_tree(tree)
    monkeypatch.setattr(store.PackedRows, "CHUNK", 1)
    with monkeypatch.context() as patched:
        patched.setattr(store.PackedRows, "_chunk", lambda self, held: (_ for _ in ()).throw(OSError("cut short")))
        result = build(cached(), NOW)
    assert any("could not be updated" in m for m in result.notices)
    assert outputs(tmp_path / "out") == no_cache_build(make_settings, tmp_path)[1]
    parsed.clear()
    build(cached(output=tmp_path / "again"), NOW)
    assert sorted(parsed) == sorted(s.rel for s in discover(tree)) and index_mirrors_table(tmp_path / "cache.sqlite")


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def _first(spoil):
    """A spoil of the first column's BLOB (the paths)."""
    return lambda blobs: [spoil(blobs[0]), *blobs[1:]]


def _misshapen(blobs: list[bytes], change) -> list[bytes]:
    """An index whose CRCs hold, of rows that do not: the index of ``change(columns)``."""
    columns = [store._column_of_blob(blob) for blob in blobs]
    assert None not in columns
    return [store._column_blob(column, False) for column in change(columns)]


SPOILS = {
    "cut short": _first(lambda data: data[:-1]),
    "a bit flipped": _first(lambda data: _flip(data, len(data) // 2)),
    "its CRC flipped": _first(lambda data: _flip(data, len(data) - 1)),
    "another format": _first(lambda data: b"mkfeeds row index 0\n" + data[len(store._INDEX_FORMAT):]),
    "empty": _first(lambda data: b""),
    "not an index": _first(lambda data: b"not an index"),
    "text": _first(lambda data: "a string"),
    "a column short": lambda blobs: blobs[:-1],
    "columns of unequal lengths": lambda data: _misshapen(data, lambda columns: [columns[0][:-1], *columns[1:]]),
    "a digest that is not one": lambda data: _misshapen(
        data, lambda columns: [*columns[:5], [b"short"] * len(columns[5]), *columns[6:]]),
    "unsorted paths": lambda data: _misshapen(data, lambda columns: [list(reversed(c)) for c in columns]),
}


@pytest.mark.parametrize("spoil", SPOILS.values(), ids=SPOILS.keys())
def test_an_index_that_does_not_hold_is_ignored_and_the_rows_read_from_the_table(tree, cached, parsed, tmp_path,
                                                                                 spoil):
    age_tree(tree)
    build(cached(), NOW)
    set_row_index(tmp_path, spoil(row_index(tmp_path)))
    forget_last_build(tmp_path)
    parsed.clear()
    result = build(cached(output=tmp_path / "again"), NOW)
    assert parsed == []  # the rows came from the table
    assert outputs(tmp_path / "again") == outputs(tmp_path / "out")
    assert result.notices == []  # an optimisation, not a problem to report


@pytest.mark.parametrize("spoil", [SPOILS["a bit flipped"], SPOILS["a column short"]],
                         ids=["a bit flipped", "a column short"])
def test_an_index_that_does_not_hold_is_written_again(tree, cached, tmp_path, spoil):
    age_tree(tree)
    build(cached(), NOW)
    set_row_index(tmp_path, spoil(row_index(tmp_path)))
    forget_last_build(tmp_path)
    build(cached(output=tmp_path / "again"), NOW)
    assert index_mirrors_table(tmp_path / "cache.sqlite")


def test_the_index_follows_edits_additions_and_deletions(tree, cached, tmp_path):
    age_tree(tree)
    build(cached(), NOW)
    (tree / "a.txt").write_text(article_text(title="Alpha again", webUrl="https://news.example.org/a/"))
    (tree / "sub" / "c.md").unlink()
    write_tree(tree, {"new.txt": article_text(title="New", webUrl="https://news.example.org/new/")})
    age_tree(tree)
    build(cached(), NOW)
    assert index_mirrors_table(tmp_path / "cache.sqlite")
    assert sorted(rows(tmp_path)) == ["a.txt", "b.txt", "bad.txt", "draft.txt", "new.txt"]
    build(cached(output=tmp_path / "fresh", cache=None), NOW)
    forget_last_build(tmp_path)
    build(cached(output=tmp_path / "warm"), NOW)
    assert outputs(tmp_path / "warm") == outputs(tmp_path / "fresh")


@pytest.mark.parametrize("change", ["nothing", "replaced", "dropped", "added first, dropped last", "touched"])
def test_index_updates_are_those_of_the_table(tree, cached, tmp_path, change):
    """After any change, the index a build leaves decodes to exactly the table's rows."""
    age_tree(tree)
    build(cached(), NOW)
    if change == "replaced":
        (tree / "b.txt").write_text(article_text(title="Beta 2", webUrl="https://news.example.org/b2/"))
    elif change == "dropped":
        (tree / "a.txt").unlink()
    elif change == "added first, dropped last":
        write_tree(tree, {"0.txt": article_text(title="Zero", webUrl="https://news.example.org/0/")})
        (tree / "sub" / "c.md").unlink()
    elif change == "touched":  # confirmed by its digest: new stat, same key
        stamp = (tree / "b.txt").stat().st_mtime_ns + 10**9
        os.utime(tree / "b.txt", ns=(stamp, stamp))
    age_tree(tree)
    forget_last_build(tmp_path)
    build(cached(), NOW)
    assert index_mirrors_table(tmp_path / "cache.sqlite")
    listed = sorted(s.rel for s in discover(tree))
    assert sorted(rows(tmp_path)) == listed
    assert [(s.rel, s.size, s.mtime_ns, s.ctime_ns, s.ino) for s in discover(tree)] == [
        (rel, *rows(tmp_path)[rel][:4]) for rel in listed]


def test_an_unwritable_index_costs_only_the_speed(tree, cached, parsed, make_settings, tmp_path, monkeypatch):
    """An index that cannot be made (too big to marshal): this build's state is not
    kept, with a notice; the output is right, and the next build keeps it."""
    age_tree(tree)

    def refuse(*args):
        raise MemoryError

    with monkeypatch.context() as patched:
        patched.setattr(store, "_column_blob", refuse)
        result = build(cached(), NOW)
    assert any("could not be updated" in m for m in result.notices)
    assert outputs(tmp_path / "out") == no_cache_build(make_settings, tmp_path)[1]
    parsed.clear()
    build(cached(output=tmp_path / "again"), NOW)
    assert sorted(parsed) == sorted(ARTICLES) and index_mirrors_table(tmp_path / "cache.sqlite")
    forget_last_build(tmp_path)
    parsed.clear()
    build(cached(output=tmp_path / "again"), NOW)
    assert parsed == []


def test_a_changed_fingerprint_empties_the_index_with_the_table(tree, cached, parsed, tmp_path):
    age_tree(tree)
    build(cached(), NOW)
    parsed.clear()
    build(cached(site_url="https://elsewhere.example.org/"), NOW)
    assert sorted(parsed) == sorted(s.rel for s in discover(tree))
    assert index_mirrors_table(tmp_path / "cache.sqlite")


def test_bodies_kept_after_the_index_was_settled_leave_it_true(tree, cached, tmp_path):
    """Bodies are rendered and kept after the rows are settled (and the index written):
    they are not in the index, which still mirrors the table."""
    age_tree(tree)
    build(cached(), NOW)
    assert query(state_of(tmp_path), "SELECT rel FROM files WHERE body IS NOT NULL") == [("sub/c.md",)]
    assert index_mirrors_table(tmp_path / "cache.sqlite")


def test_the_index_is_kept_in_the_state_file_and_nothing_is_left_beside_it(tree, cached, tmp_path):
    """One file, one transaction: no index file, no temporary file, no journal left."""
    age_tree(tree)
    build(cached(), NOW)
    (tree / "a.txt").write_text(article_text(title="Alpha 2", webUrl="https://news.example.org/a/"))
    build(cached(), NOW)
    assert sorted(os.listdir(tmp_path / "cache.sqlite")) == ["state.sqlite"]
    assert all(type(blob) is bytes for blob in row_index(tmp_path)) and index_mirrors_table(tmp_path / "cache.sqlite")


# --- any value of any row, wrong -------------------------------------------------------------

SWEEP_ARTICLES = {
    "a.txt": article_text("Some *body*.", title="Alpha", webUrl="https://news.example.org/a/",
                          author="Ann", topics=["AI"]),
    "bad.txt": "---\ntitle: [unclosed\n---\n",
    "d.txt": article_text(title="Draft", webUrl="https://news.example.org/d/", published=False),
}
FILES_COLUMNS = [*store.STAT_COLUMNS, *(f"k_{name}" for name in codec.KEY_COLUMNS),
                 "key_seal", "entry", "entry_seal", "body", "body_seal"]
WRONG = ("null", "string", "number", "flipped")
SWEEP = [(column, rel, wrong) for column in FILES_COLUMNS for rel in SWEEP_ARTICLES for wrong in WRONG
         if not (wrong == "null" and column in store.STAT_COLUMNS)]  # NOT NULL: SQLite refuses it
def test_the_sweep_covers_every_column(swept, tmp_path):
    settings, state_bytes, _, _ = swept
    path = state_file(tmp_path / "state")
    path.parent.mkdir()
    path.write_bytes(state_bytes)
    assert [name for _, name, *_ in query(path, "PRAGMA table_info(files)")] == FILES_COLUMNS
    assert sorted(rel for (rel,) in query(path, "SELECT rel FROM files")) == sorted(SWEEP_ARTICLES)


def _index_kept(case: tuple[str, str, str]) -> bool:
    """Half the cases keep the row index (the rows then come from it), half not: each
    column, each row and each kind of wrong value, both ways."""
    column, rel, wrong = case
    return (FILES_COLUMNS.index(column) + list(SWEEP_ARTICLES).index(rel) + WRONG.index(wrong)) % 2 == 1


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """One cold build of SWEEP_ARTICLES: its state file's bytes, and what a build without
    any state publishes."""
    from mkfeeds.config import Settings

    root = tmp_path_factory.mktemp("sweep")
    write_tree(root / "in", SWEEP_ARTICLES)
    age_tree(root / "in")

    def settings(out: Path, cache: Path | None) -> Settings:
        return Settings(input=root / "in", output=out, base_url="https://feeds.example.org/",
                        site_url="https://news.example.org/", title="Example News", description="Latest",
                        language="en", cache=cache, jobs=1)

    build(settings(root / "out", root / "state"), NOW)
    reference = build(settings(root / "ref", None), NOW)
    return settings, state_file(root / "state").read_bytes(), reference, outputs(root / "ref")


def _wrong_value(wrong: str, value):
    if wrong == "null":
        return None
    if wrong == "string":
        return "damaged"
    if wrong == "number":
        return value + 1 if type(value) in (int, float) else 7
    data = value if type(value) is bytes else b"" if value is None else str(value).encode()
    return _flip(data, len(data) // 2) if data else b"\x01"  # a blob, one bit off


@pytest.mark.parametrize("case", SWEEP, ids=["-".join(case) for case in SWEEP])
def test_a_wrong_value_in_any_column_of_any_row_changes_no_output(swept, tmp_path, case):
    settings, state_bytes, reference, expected = swept
    column, rel, wrong = case
    path = state_file(tmp_path / "state")
    path.parent.mkdir()
    path.write_bytes(state_bytes)
    [(value,)] = query(path, f"SELECT {column} FROM files WHERE rel = ?", rel)
    query(path, f"UPDATE files SET {column} = ? WHERE rel = ?", _wrong_value(wrong, value), rel)
    if not _index_kept(case):
        query(path, "DELETE FROM meta WHERE key = 'row_index'")
    query(path, "DELETE FROM meta WHERE key = 'build'")
    result = build(settings(tmp_path / "out", tmp_path / "state"), NOW)
    assert outputs(tmp_path / "out") == expected
    assert result.problems == reference.problems and result.rejected == reference.rejected


# --- the command line ------------------------------------------------------------------------

@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {f"seeds/{name}": text for name, text in ARTICLES.items()})
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(cli, ["build", "--base-url", "https://f.example/", *args], catch_exceptions=False)


def test_the_default_cache_is_in_the_working_directory(site):
    run()
    assert sorted(os.listdir(site / ".mkfeeds-cache")) == ["state.sqlite"]


def test_cache_option_names_the_folder(site):
    run("--cache", "elsewhere")
    assert (site / "elsewhere" / "state.sqlite").is_file() and not (site / ".mkfeeds-cache").exists()


def test_no_cache_neither_reads_nor_writes_one(site):
    (site / ".mkfeeds-cache").mkdir()
    (site / ".mkfeeds-cache" / "state.sqlite").write_bytes(b"garbage")
    result = run("--no-cache")
    assert os.listdir(site / ".mkfeeds-cache") == ["state.sqlite"]
    assert (site / ".mkfeeds-cache" / "state.sqlite").read_bytes() == b"garbage"
    assert "cache" not in result.stderr
    run("--no-cache", "--cache", "other")
    assert not (site / "other").exists()


def test_a_state_file_that_is_not_sqlite_is_told_at_every_build(site):
    """Left alone, so the next build meets it again, and says so again."""
    (site / "state").mkdir()
    (site / "state" / "state.sqlite").write_bytes(b"my precious notes\n")
    for _ in range(2):
        result = run("--cache", "state")
        assert result.exit_code == 1  # bad.txt: the same status as without a state
        assert "mkfeeds: warning: cache not used:" in result.stderr
        assert "remove it, or choose another --cache" in result.stderr
        assert (site / "out" / "rss.xml").is_file()
    assert (site / "state" / "state.sqlite").read_bytes() == b"my precious notes\n"


def test_quiet_silences_cache_warnings(site):
    (site / "state").mkdir()
    (site / "state" / "state.sqlite").write_text("not a database")
    result = run("--cache", "state", "--quiet")
    assert result.stderr.count("warning") == 0 and "cache" not in result.stderr
    assert "cache not used" in run("--cache", "state").stderr  # the notice is there, quiet or not


# --- the codec -------------------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


def full_entry(**changes) -> Entry:
    values = dict(
        id="https://n.example/a", url="https://n.example/a", title="Tïtle \u2028 ]]> <b>",
        published=datetime(2024, 3, 4, 11, 32, tzinfo=UTC),
        updated=datetime(2024, 3, 5, 1, 2, 3, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        source="sub/a.txt", summary="S\u00e9", external_url="https://o.example/a",
        author=Author("Ex", "https://ex.example/"), categories=("AI", "news"), topics=("AI",),
        sections=("news",), images=(Image("https://i.example/1.jpg", 10, None),),
        related=(Link("https://r.example/", "Rel"),), language="en-GB", draft=True, has_body=True,
        content_html=None, quality=0.5, heat=-3.0, article_type="article", provider_key="ex.example",
    )
    values.update(changes)
    return Entry(**values)


@pytest.mark.parametrize("entry", [
    full_entry(),
    full_entry(published=datetime(2024, 10, 27, 2, 30, tzinfo=PARIS, fold=1),
               updated=datetime(2024, 10, 27, 2, 30, tzinfo=PARIS, fold=1)),
    full_entry(published=datetime(1900, 1, 1, tzinfo=timezone(timedelta(hours=-14)))),
    full_entry(summary=None, external_url=None, author=None, categories=(), images=(), related=(),
               language=None, quality=None, heat=None, article_type=None, provider_key=None),
    full_entry(author=Author("Only a name")),
])
def test_outcomes_come_back_exactly(entry):
    outcome = FileOutcome(entry.source, entry, (Problem("warning", entry.source, "m", "title", 3),))
    back = codec.decode_outcome(outcome.rel, codec.encode_outcome(outcome))
    assert back == outcome
    for name in ("published", "updated"):
        a, b = getattr(outcome.entry, name), getattr(back.entry, name)
        assert (type(a.tzinfo), a.tzname(), a.utcoffset(), a.fold) == (type(b.tzinfo), b.tzname(), b.utcoffset(), b.fold)


def test_a_rejected_outcome_comes_back_exactly():
    outcome = FileOutcome("x.txt", None, (Problem("error", "x.txt", "invalid YAML", None, 2),))
    assert codec.decode_outcome("x.txt", codec.encode_outcome(outcome)) == outcome


class Odd(tzinfo):
    def utcoffset(self, dt):
        return timedelta(hours=1)

    def tzname(self, dt):
        return "ODD"

    def dst(self, dt):
        return timedelta(0)


@pytest.mark.parametrize("entry", [
    full_entry(published=datetime(2024, 1, 1, tzinfo=Odd())),
    full_entry(published=datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1), "CET"))),
    full_entry(title=42),
    full_entry(categories=["a list"]),
])
def test_values_that_would_not_come_back_exactly_are_not_cached(entry):
    with pytest.raises(codec.Uncacheable):
        codec.encode_outcome(FileOutcome("a", entry, ()))


GOOD_KEY, GOOD_ENTRY = codec.encode_outcome(FileOutcome("sub/a.txt", full_entry(), ()))
COLUMN = {name: i for i, name in enumerate(codec.KEY_COLUMNS)}


def key_with(**values) -> tuple:
    """The good key with some columns changed."""
    key = list(GOOD_KEY)
    for name, value in values.items():
        key[COLUMN[name]] = value
    return tuple(key)


def entry_with(path: tuple, value) -> str:
    """The good entry JSON with one value changed."""
    entry = json.loads(GOOD_ENTRY)
    target = entry
    for step in path[:-1]:
        target = target[step]
    if path:
        target[path[-1]] = value
    else:
        entry = value
    return json.dumps(entry)


def row(key: tuple = GOOD_KEY, entry: str | None = GOOD_ENTRY) -> codec.Encoded:
    return codec.Encoded(key, entry)


def test_the_key_is_plain_column_values():
    assert dict(zip(codec.KEY_COLUMNS, GOOD_KEY)) == {
        "id": "https://n.example/a", "published": "2024-03-04T11:32:00+00:00",
        "updated": "2024-03-05T01:02:03+05:30", "draft": 1,
        "author": "Ex", "author_url": "https://ex.example/", "topics": "AI", "sections": "news",
        "quality": 0.5, "heat": -3.0, "article_type": "article", "provider_key": "ex.example", "problems": None}


NO_ENTRY = (None,) * (len(codec.KEY_COLUMNS) - 1)


@pytest.mark.parametrize("encoded", [
    row(entry=None), row(entry="[]"), row(entry="not json"), row(entry="[" * 100_000 + "]" * 100_000),
    row(key_with(id=42)),
    row(key_with(id="https://elsewhere.example/")),  # disagrees with the entry
    row(key_with(published="yesterday")), row(key_with(published="2024-03-04T11:32:00")),  # no offset
    row(key_with(published='["2024-01-01T00:00:00", "../../../etc/passwd", 0]')),  # zone key
    row(key_with(published='["2024-01-01T00:00:00", "Europe/Paris", 7]')),  # fold
    row(key_with(published=20240101)),
    row(key_with(updated="2024-03-05T01:02:03")), row(key_with(updated=7)),
    row(key_with(updated=None)),  # "the same as published": disagrees with the entry
    row(key_with(draft=2)), row(key_with(draft="1")), row(key_with(draft=1.0)),
    row(key_with(author=["unhashable"])), row(key_with(author=None)),  # a URL without a name
    row(key_with(topics=["AI"])), row(key_with(topics="AI\x1fRobots")),  # disagrees with the entry
    row(key_with(quality="0.5")), row(key_with(heat=b"\x00")),
    row(key_with(article_type=7)), row(key_with(provider_key=["x"])),
    row(key_with(problems="[]")), row(key_with(problems='[["error"]]')), row(key_with(problems="not json")),
    row(NO_ENTRY + ('[["error","sub/a.txt","m",null,null]]',)),  # a rejection: no entry to go with
    row(key_with()[:-1]),  # a column short
    row(entry=entry_with((2,), 42)),  # title
    row(entry=entry_with((3,), "2001-01-01T00:00:00+00:00")),  # published: disagrees with the key
    row(entry=entry_with((9,), [1])),  # categories
    row(entry=entry_with((12,), [["https://i.example/1.jpg", "10", None]])),  # image width
    row(entry=entry_with((15,), 1)),  # draft
    row(entry=entry_with((), [1] * 22)),
])
def test_rows_that_do_not_decode_exactly_are_treated_as_missing(encoded):
    assert codec.decode_outcome("sub/a.txt", encoded) is None


def test_a_key_whose_date_has_no_offset_is_damage_even_before_its_entry_is_read():
    """The selection compares every key's date with the clock: a naive one would fail it."""
    decode = codec.outcome_decoder()
    assert decode("sub/a.txt", GOOD_KEY) is not None
    assert decode("sub/a.txt", key_with(published="2024-03-04T11:32:00")) is None


def test_a_good_row_decodes():
    assert codec.decode_outcome("sub/a.txt", row()) == FileOutcome("sub/a.txt", full_entry(), ())


def test_a_rejection_decodes_without_an_entry():
    problem = Problem("error", "sub/a.txt", "invalid YAML", None, 3)
    encoded = codec.encode_outcome(FileOutcome("sub/a.txt", None, (problem,)))
    assert encoded.entry is None and encoded.key[:-1] == NO_ENTRY
    assert codec.decode_outcome("sub/a.txt", encoded) == FileOutcome("sub/a.txt", None, (problem,))


def test_packed_rows_hold_a_shared_column_of_any_number_of_values():
    """A column packed as a table and a code per row takes more than 65,536 distinct
    values (its codes widen) and comes back whole, unpacked or as its BLOB."""
    packed = store.PackedRows(2, frozenset({1}))
    rows = [(f"{i:06}.txt", f"value {i % 70_000}") for i in range(80_000)]
    for start in range(0, len(rows), 5_000):
        packed.add(rows[start:start + 5_000])
    assert packed.in_order and packed.rows().columns == [list(column) for column in zip(*rows)]
    assert [store._column_of_blob(blob) for _, blob in packed.blobs()] == [list(column) for column in zip(*rows)]
    packed.close()
