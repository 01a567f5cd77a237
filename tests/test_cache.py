"""The build cache: what it reuses, what invalidates it, and that a cache in any state
(missing, damaged, locked, someone else's) never fails a build nor changes a feed."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import NOW, article_text, index_mirrors_table, write_tree

from mkfeeds import cache, loading, rowindex
from mkfeeds.build import build, mapping_settings
from mkfeeds.cli import cli
from mkfeeds.model import Author, Entry, EntryKey, FileOutcome, Image, Link, Problem
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


@pytest.fixture
def tree(tmp_path):
    write_tree(tmp_path / "in", ARTICLES)
    return tmp_path / "in"


@pytest.fixture
def parsed(monkeypatch):
    """The paths of the files whose text was parsed and mapped, in this process."""
    seen: list[str] = []
    real = loading._outcome_of_text

    def spy(rel, text, rules):
        seen.append(rel)
        return real(rel, text, rules)

    monkeypatch.setattr(loading, "_outcome_of_text", spy)
    return seen


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def rows(path: Path) -> dict[str, tuple]:
    with sqlite3.connect(path) as db:
        return {r[0]: r[1:] for r in db.execute("SELECT rel, size, mtime_ns, digest, checked_ns FROM files")}


def age(path: Path, seconds: float = 60) -> None:
    """Date a file back, as if it had been written well before the last build."""
    stamp = path.stat().st_mtime_ns - int(seconds * 1e9)
    os.utime(path, ns=(stamp, stamp))


def forget_last_build(tmp_path: Path) -> None:
    """Remove the record that lets an unchanged build skip everything (``build.up_to_date``):
    the next build then goes through the cache, as these tests mean it to."""
    (tmp_path / "cache.sqlite.feeds.json").unlink()


def tamper(tmp_path: Path, statement: str) -> None:
    """Change the cache behind mkfeeds' back, and forget the last build, so that the next
    build reads the cache (not up to date). The index file mirrors the table as mkfeeds
    left it: it goes too, or the next build would read the rows from it, undamaged."""
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        db.execute(statement)
    db.close()
    rowindex.path_for(tmp_path / "cache.sqlite").unlink(missing_ok=True)
    forget_last_build(tmp_path)


def age_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            age(path)


# --- reuse -----------------------------------------------------------------------------------

def test_a_second_build_parses_nothing_and_writes_the_same_feeds(tree, cached, parsed, tmp_path):
    """A warm build reads every outcome from the cache and publishes the same bytes."""
    age_tree(tree)
    build(cached(), NOW)
    first = outputs(tmp_path / "out")
    assert sorted(parsed) == sorted(s.rel for s in discover(tree))
    parsed.clear()
    build(cached(output=tmp_path / "out2"), NOW)
    assert parsed == []
    assert outputs(tmp_path / "out2") == first


def test_problems_are_reported_again_from_the_cache(tree, cached):
    """A rejected file stays rejected on a warm build, with the same message."""
    age_tree(tree)
    cold = build(cached(), NOW).problems
    warm = build(cached(), NOW).problems
    assert warm == cold and any(p.path == "bad.txt" and p.severity == "error" for p in warm)


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
    before = rows(tmp_path / "cache.sqlite")["a.txt"]
    os.utime(tree / "a.txt", ns=(before[1] + 10**9, before[1] + 10**9))
    build(cached(), NOW)
    assert parsed == []
    after = rows(tmp_path / "cache.sqlite")["a.txt"]
    assert after[1] == before[1] + 10**9 and after[2] == before[2]  # new mtime, same digest


def test_a_file_changed_within_a_timestamp_tick_of_its_reading_is_checked_again(tree, cached, parsed, tmp_path):
    """Same size and mtime, new text: caught because the row was written too soon after
    the file's last change to trust the timestamp alone."""
    build(cached(), NOW)  # files written just now: their rows are "racy"
    stat = (tree / "a.txt").stat()
    text = (tree / "a.txt").read_text()
    (tree / "a.txt").write_text(text.replace("Alpha", "Alfa!"))  # same length
    os.utime(tree / "a.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    parsed.clear()
    build(cached(), NOW)
    assert parsed == ["a.txt"]
    assert "Alfa!" in (tmp_path / "out" / "feed.json").read_text()


def test_a_deleted_article_leaves_the_feeds_and_the_cache(tree, cached, tmp_path):
    age_tree(tree)
    build(cached(), NOW)
    assert "Gamma" in (tmp_path / "out" / "feed.json").read_text()
    (tree / "sub" / "c.md").unlink()
    build(cached(), NOW)
    assert "Gamma" not in (tmp_path / "out" / "feed.json").read_text()
    assert "sub/c.md" not in rows(tmp_path / "cache.sqlite")


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
    assert "a.txt" not in rows(tmp_path / "cache.sqlite")


def test_a_forked_worker_never_touches_the_cache(cached, tmp_path, monkeypatch):
    """An SQLite connection must not be used across fork: in a worker (another pid) the
    loaded outcomes read no body and keep none, and entries come from their files."""
    write_tree(tmp_path / "in", {"a.txt": article_text("A *body*.", title="A", webUrl="https://n.example/a")})
    settings = cached()
    build(settings, NOW)
    sources = discover(settings.input)
    with loading.load_outcomes(sources, settings, mapping_settings(settings)) as loaded:
        (outcome,) = loaded.outcomes
        assert loaded.body(outcome.entry) is not None  # this process: from the cache
        monkeypatch.setattr(loading.os, "getpid", lambda: -1)
        assert loaded.body(outcome.entry) is None
        loaded.keep_bodies([("<p>not kept</p>", "a.txt")])
        assert loaded.entry(outcome.entry).title == "A"  # read from the file
        monkeypatch.undo()
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        assert db.execute("SELECT body FROM files").fetchone()[0] != "<p>not kept</p>"


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
        assert result.published == 2 and not result.problems
        assert b"&lt;em&gt;body&lt;/em&gt;" in (tmp_path / "out/rss.xml").read_bytes()
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        assert db.execute("SELECT rel, body IS NOT NULL FROM files").fetchall() == [("plain.txt", 1)]


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
    build(cached(limit=1, drafts=True, title="Another title"), NOW)
    assert parsed == []


@pytest.mark.parametrize("what", ["mapping_version", "version", "code", "pyyaml", "markdown-it"])
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
    elif what == "markdown-it":  # the cache holds bodies as HTML
        monkeypatch.setattr(cache, "installed_versions", lambda names: ("markdown_it_py-99.0.dist-info",))
    else:
        monkeypatch.setattr(cache, "_code_digest", lambda: "another-rule-set")
    build(cached(), NOW)
    assert sorted(parsed) == sorted(s.rel for s in discover(tree))


def test_the_code_digest_covers_the_modules_that_compute_outcomes():
    covered = cache._code_digest().split(":")[1].split(",")
    assert {"source", "mapping", "loading", "model", "cache", "dates", "text", "urls", "markup"} <= set(covered)
    assert "cli" not in covered and "build" not in covered


def test_the_body_libraries_are_found_without_importing_them():
    found = cache.installed_versions(frozenset({"markdown_it_py", "nh3"}))
    assert [name.split("-")[0].lower() for name in found] == ["markdown_it_py", "nh3"]


# --- a cache in any state never fails a build ------------------------------------------------

def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_missing_cache_is_created_silently(tree, cached, tmp_path, caplog):
    build(cached(), NOW)
    assert (tmp_path / "cache.sqlite").is_file()
    assert warnings_of(caplog) == []


def test_a_file_that_is_not_sqlite_is_left_alone(tree, cached, make_settings, tmp_path, caplog):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"my precious notes\n")
    result = build(cached(), NOW)
    assert path.read_bytes() == b"my precious notes\n"
    assert result.published == 3
    [message] = warnings_of(caplog)
    assert "cache not used" in message and "not an mkfeeds cache" in message
    build(make_settings(output=tmp_path / "ref"), NOW)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "ref")


def test_someone_elses_database_is_left_alone(tree, cached, tmp_path, caplog):
    path = tmp_path / "cache.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE precious (x)")
        db.execute("INSERT INTO precious VALUES (42)")
    db.close()
    build(cached(), NOW)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT x FROM precious").fetchall() == [(42,)]
    db.close()
    assert "not an mkfeeds cache" in warnings_of(caplog)[0]


def test_a_damaged_cache_is_replaced_with_a_warning(tree, cached, parsed, make_settings, tmp_path, caplog):
    age_tree(tree)
    build(cached(), NOW)
    path = tmp_path / "cache.sqlite"
    data = bytearray(path.read_bytes())
    data[100:] = b"\x5a" * (len(data) - 100)  # keep the header, wreck every page
    path.write_bytes(bytes(data))
    forget_last_build(tmp_path)
    parsed.clear()
    result = build(cached(), NOW)
    assert sorted(parsed) == sorted(s.rel for s in discover(tree))
    assert result.published == 3
    assert any("damaged" in m for m in warnings_of(caplog))
    caplog.clear()
    parsed.clear()
    build(cached(), NOW)  # the replacement works
    assert parsed == [] and warnings_of(caplog) == []
    build(make_settings(output=tmp_path / "ref"), NOW)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "ref")


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


def test_an_entry_that_cannot_be_had_late_is_left_out_with_an_error(tree, cached):
    """Damage found when the entry is decoded, and the file changed since it was listed:
    the entry is left out of this build, with an error naming the file."""
    age_tree(tree)
    build(cached(), NOW)
    settings = cached()
    with loading.load_outcomes(discover(tree), settings, mapping_settings(settings)) as loaded:
        key = next(o.entry for o in loaded.outcomes if o.rel == "a.txt")
        assert type(key) is EntryKey
        loaded._loader.cache._db.execute("UPDATE files SET entry = '[]' WHERE rel = 'a.txt'")
        (tree / "a.txt").write_text(article_text(title="Rewritten", webUrl="https://n.example/moved/"))
        assert loaded.entry(key) is None
        assert [str(p) for p in loaded.late_problems] == [
            "a.txt: error: changed while the feeds were being built; it is left out until the next build"]


def test_a_cache_locked_by_another_build_is_not_waited_for(tree, cached, tmp_path, caplog, monkeypatch):
    build(cached(), NOW)
    monkeypatch.setattr(cache, "LOCK_TIMEOUT", 0.05)
    other = sqlite3.connect(tmp_path / "cache.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        result = build(cached(output=tmp_path / "out2"), NOW)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.published == 3
    assert any("in use by another build" in m for m in warnings_of(caplog))
    assert outputs(tmp_path / "out") == outputs(tmp_path / "out2")


def test_a_cache_path_that_is_a_folder_is_not_used(tree, cached, tmp_path, caplog):
    (tmp_path / "folder").mkdir()
    result = build(cached(cache=tmp_path / "folder"), NOW)
    assert result.published == 3
    assert "is not a file" in warnings_of(caplog)[0]


@pytest.mark.parametrize("where", ["out/c.sqlite", "in/c.sqlite"])
def test_a_cache_inside_the_output_or_input_folder_is_refused(tree, cached, tmp_path, caplog, where):
    """In out/ it would be published, drafts and all; in/ is never modified."""
    result = build(cached(cache=tmp_path / where), NOW)
    assert result.published == 3
    assert not (tmp_path / where).exists()
    assert "inside the" in warnings_of(caplog)[0]


def test_a_cache_that_cannot_be_written_leaves_the_build_intact(tree, cached, tmp_path, caplog, monkeypatch):
    def full(self, rows):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(cache.BuildCache, "put", full)
    result = build(cached(), NOW)
    assert result.published == 3
    assert any("could not be updated" in m for m in warnings_of(caplog))


def test_notices_collect_cache_warnings_when_given(tree, cached, tmp_path, caplog):
    """With a ``notices`` list, warnings go there (for the CLI to print) instead of the log."""
    (tmp_path / "cache.sqlite").write_text("not a database")
    settings = cached()
    notices: list[str] = []
    loading.load_outcomes(discover(tree), settings, mapping_settings(settings), notices=notices).close()
    assert len(notices) == 1 and notices[0].startswith("cache not used:")
    assert warnings_of(caplog) == []


def test_quiet_silences_cache_warnings(tree, cached, tmp_path, caplog):
    (tmp_path / "cache.sqlite").write_text("not a database")
    build(cached(quiet=True), NOW)
    assert warnings_of(caplog) == []


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
    assert (site / ".mkfeeds-cache.sqlite").is_file()


def test_cache_option_names_the_file(site):
    run("--cache", "elsewhere.db")
    assert (site / "elsewhere.db").is_file() and not (site / ".mkfeeds-cache.sqlite").exists()


def test_no_cache_neither_reads_nor_writes_one(site):
    (site / ".mkfeeds-cache.sqlite").write_bytes(b"garbage")
    result = run("--no-cache")
    assert (site / ".mkfeeds-cache.sqlite").read_bytes() == b"garbage"
    assert "cache" not in result.stderr


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
        content_html=None, quality=0.5, heat=-3.0, kind="article", provider_key="ex.example",
    )
    values.update(changes)
    return Entry(**values)


@pytest.mark.parametrize("entry", [
    full_entry(),
    full_entry(published=datetime(2024, 10, 27, 2, 30, tzinfo=PARIS, fold=1),
               updated=datetime(2024, 10, 27, 2, 30, tzinfo=PARIS, fold=1)),
    full_entry(published=datetime(1900, 1, 1, tzinfo=timezone(timedelta(hours=-14)))),
    full_entry(summary=None, external_url=None, author=None, categories=(), images=(), related=(),
               language=None, quality=None, heat=None, kind=None, provider_key=None),
    full_entry(author=Author("Only a name")),
])
def test_outcomes_come_back_exactly(entry):
    outcome = FileOutcome(entry.source, entry, (Problem("warning", entry.source, "m", "title", 3),))
    back = cache.decode_outcome(outcome.rel, cache.encode_outcome(outcome))
    assert back == outcome
    for name in ("published", "updated"):
        a, b = getattr(outcome.entry, name), getattr(back.entry, name)
        assert (type(a.tzinfo), a.tzname(), a.utcoffset(), a.fold) == (type(b.tzinfo), b.tzname(), b.utcoffset(), b.fold)


def test_a_rejected_outcome_comes_back_exactly():
    outcome = FileOutcome("x.txt", None, (Problem("error", "x.txt", "invalid YAML", None, 2),))
    assert cache.decode_outcome("x.txt", cache.encode_outcome(outcome)) == outcome


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
    with pytest.raises(cache.Uncacheable):
        cache.encode_outcome(FileOutcome("a", entry, ()))


GOOD_KEY, GOOD_ENTRY = cache.encode_outcome(FileOutcome("sub/a.txt", full_entry(), ()))
COLUMN = {name: i for i, name in enumerate(cache.KEY_COLUMNS)}


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


def row(key: tuple = GOOD_KEY, entry: str | None = GOOD_ENTRY) -> cache.Encoded:
    return cache.Encoded(key, entry)


def test_the_key_is_plain_column_values():
    assert dict(zip(cache.KEY_COLUMNS, GOOD_KEY)) == {
        "id": "https://n.example/a", "published": "2024-03-04T11:32:00+00:00", "draft": 1,
        "author": "Ex", "author_url": "https://ex.example/", "topics": "AI", "sections": "news",
        "quality": 0.5, "heat": -3.0, "kind": "article", "provider_key": "ex.example", "problems": None}


@pytest.mark.parametrize("encoded", [
    row(entry=None), row(entry="[]"), row(entry="not json"), row(entry="[" * 100_000 + "]" * 100_000),
    row(key_with(id=42)),
    row(key_with(id="https://elsewhere.example/")),  # disagrees with the entry
    row(key_with(published="yesterday")), row(key_with(published="2024-03-04T11:32:00")),  # no offset
    row(key_with(published='["2024-01-01T00:00:00", "../../../etc/passwd", 0]')),  # zone key
    row(key_with(published='["2024-01-01T00:00:00", "Europe/Paris", 7]')),  # fold
    row(key_with(published=20240101)),
    row(key_with(draft=2)), row(key_with(draft="1")), row(key_with(draft=1.0)),
    row(key_with(author=["unhashable"])), row(key_with(author=None)),  # a URL without a name
    row(key_with(topics=["AI"])), row(key_with(topics="AI\x1fRobots")),  # disagrees with the entry
    row(key_with(quality="0.5")), row(key_with(heat=b"\x00")),
    row(key_with(kind=7)), row(key_with(provider_key=["x"])),
    row(key_with(problems="[]")), row(key_with(problems='[["error"]]')), row(key_with(problems="not json")),
    row((None,) * 11 + ('[["error","sub/a.txt","m",null,null]]',)),  # a rejection: no entry to go with
    row(key_with()[:-1]),  # a column short
    row(entry=entry_with((2,), 42)),  # title
    row(entry=entry_with((3,), "2001-01-01T00:00:00+00:00")),  # published: disagrees with the key
    row(entry=entry_with((9,), [1])),  # categories
    row(entry=entry_with((12,), [["https://i.example/1.jpg", "10", None]])),  # image width
    row(entry=entry_with((15,), 1)),  # draft
    row(entry=entry_with((), [1] * 22)),
])
def test_rows_that_do_not_decode_exactly_are_treated_as_missing(encoded):
    assert cache.decode_outcome("sub/a.txt", encoded) is None


def test_a_key_whose_date_has_no_offset_is_damage_even_before_its_entry_is_read():
    """The selection compares every key's date with the clock: a naive one would fail it."""
    decode = cache.outcome_decoder()
    assert decode("sub/a.txt", GOOD_KEY) is not None
    assert decode("sub/a.txt", key_with(published="2024-03-04T11:32:00")) is None


def test_a_good_row_decodes():
    assert cache.decode_outcome("sub/a.txt", row()) == FileOutcome("sub/a.txt", full_entry(), ())


def test_a_rejection_decodes_without_an_entry():
    problem = Problem("error", "sub/a.txt", "invalid YAML", None, 3)
    encoded = cache.encode_outcome(FileOutcome("sub/a.txt", None, (problem,)))
    assert encoded.entry is None and encoded.key[:-1] == (None,) * 11
    assert cache.decode_outcome("sub/a.txt", encoded) == FileOutcome("sub/a.txt", None, (problem,))


def test_damage_found_while_reading_the_rows_falls_back_to_a_full_build(tree, cached, parsed, make_settings,
                                                                        tmp_path, caplog):
    """The schema pages read fine, the rows do not: every article is read, the cache replaced."""
    age_tree(tree)
    write_tree(tree, {f"many/{i:03}.txt": article_text(title=f"Story {i}", webUrl=f"https://n.example/{i}/")
                      for i in range(300)})
    age_tree(tree)
    build(cached(), NOW)
    path = tmp_path / "cache.sqlite"
    data = bytearray(path.read_bytes())
    assert len(data) > 40 * 4096
    data[20 * 4096:] = b"\x5a" * (len(data) - 20 * 4096)
    path.write_bytes(bytes(data))
    rowindex.path_for(path).unlink()  # else the rows come from it (see the next test)
    forget_last_build(tmp_path)
    parsed.clear()
    result = build(cached(), NOW)
    assert len(parsed) == len(discover(tree))
    assert [m for m in warnings_of(caplog) if "damaged" in m] == [
        f"mkfeeds: warning: cache {path} was damaged (database disk image is malformed); every article is read"]
    build(make_settings(output=tmp_path / "ref"), NOW)
    assert outputs(tmp_path / "out") == outputs(tmp_path / "ref")
    assert result.published == 303
    parsed.clear()
    build(cached(), NOW)
    assert parsed == []


def test_values_of_the_wrong_type_in_the_table_count_as_damage(tree, cached, parsed, tmp_path, caplog):
    """SQLite lets any column hold any type: a tampered row must not crash the build."""
    age_tree(tree)
    build(cached(), NOW)
    tamper(tmp_path, "UPDATE files SET checked_ns = x'00' WHERE rel = 'b.txt'")
    parsed.clear()
    result = build(cached(), NOW)
    assert result.published == 3
    assert sorted(parsed) == sorted(s.rel for s in discover(tree))
    assert any("damaged" in m for m in warnings_of(caplog))


# --- the index file beside the cache ---------------------------------------------------------

def index_file(tmp_path: Path) -> Path:
    return rowindex.path_for(tmp_path / "cache.sqlite")


def test_a_rebuild_reads_the_rows_from_the_index_not_the_table(tree, cached, parsed, tmp_path, monkeypatch):
    age_tree(tree)
    build(cached(), NOW)
    assert index_mirrors_table(tmp_path / "cache.sqlite")
    forget_last_build(tmp_path)
    parsed.clear()
    monkeypatch.setattr(cache.BuildCache, "_index_from_table", lambda self: pytest.fail("the table was read"))
    build(cached(output=tmp_path / "again"), NOW)
    assert parsed == []
    assert outputs(tmp_path / "again") == outputs(tmp_path / "out")


@pytest.mark.parametrize("spoil", [
    lambda data: data[:-1],  # cut short
    lambda data: data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 1]) + data[len(data) // 2 + 1:],  # a bit flipped
    lambda data: data[:len(rowindex.FORMAT)] + b"f" * 32 + data[len(rowindex.FORMAT) + 32:],  # another generation
    lambda data: b"mkfeeds row index 0\n" + data[len(rowindex.FORMAT):],  # another format
    lambda data: b"",
    lambda data: b"not an index",
])
def test_an_index_that_is_not_this_tables_is_ignored_and_written_again(tree, cached, parsed, tmp_path, spoil, caplog):
    age_tree(tree)
    build(cached(), NOW)
    index_file(tmp_path).write_bytes(spoil(index_file(tmp_path).read_bytes()))
    forget_last_build(tmp_path)
    parsed.clear()
    build(cached(output=tmp_path / "again"), NOW)
    assert parsed == []  # the rows came from the table
    assert outputs(tmp_path / "again") == outputs(tmp_path / "out")
    assert index_mirrors_table(tmp_path / "cache.sqlite")
    assert warnings_of(caplog) == []  # an optimisation, not a problem to report


def test_the_index_follows_edits_additions_and_deletions(tree, cached, tmp_path):
    age_tree(tree)
    build(cached(), NOW)
    (tree / "a.txt").write_text(article_text(title="Alpha again", webUrl="https://news.example.org/a/"))
    (tree / "sub" / "c.md").unlink()
    write_tree(tree, {"new.txt": article_text(title="New", webUrl="https://news.example.org/new/")})
    age_tree(tree)
    build(cached(), NOW)
    assert index_mirrors_table(tmp_path / "cache.sqlite")
    build(cached(output=tmp_path / "fresh", cache=None), NOW)
    forget_last_build(tmp_path)
    build(cached(output=tmp_path / "warm"), NOW)
    assert outputs(tmp_path / "warm") == outputs(tmp_path / "fresh")


def test_an_unwritable_index_costs_only_the_speed(tree, cached, parsed, tmp_path, monkeypatch):
    age_tree(tree)

    def refuse(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rowindex, "write", refuse)
    build(cached(), NOW)
    assert not index_file(tmp_path).exists()
    monkeypatch.undo()
    forget_last_build(tmp_path)
    parsed.clear()
    build(cached(output=tmp_path / "again"), NOW)
    assert parsed == [] and index_mirrors_table(tmp_path / "cache.sqlite")


def test_a_changed_fingerprint_empties_the_index_with_the_table(tree, cached, parsed, tmp_path):
    age_tree(tree)
    build(cached(), NOW)
    parsed.clear()
    build(cached(site_url="https://elsewhere.example.org/"), NOW)
    assert sorted(parsed) == sorted(s.rel for s in discover(tree))
    assert index_mirrors_table(tmp_path / "cache.sqlite")


@pytest.mark.parametrize("changes", [
    {},
    {"b": ("b", 9, 9, b"d" * 16, 9) + ("id-b",) + (None,) * 11},  # replaced
    {"a": None},  # dropped
    {"0": ("0", 1, 1, b"d" * 16, 1) + ("id-0",) + (None,) * 11, "c": None},  # added first, dropped last
])
def test_index_updates_are_those_of_the_table(changes):
    rows = [(rel, 1, 2, b"x" * 16, 3) + (f"id-{rel}",) + ("v",) * 11 for rel in "abc"]
    index = rowindex.RowIndex([list(column) for column in zip(*rows)])
    restated = {"a": (5, 6, 7)}
    expected = {row[0]: row for row in rows}
    expected["a"] = ("a", 5, 6, b"x" * 16, 7) + expected["a"][5:]
    for rel, row in changes.items():
        if row is None:
            expected.pop(rel)
        else:
            expected[rel] = row
    assert list(zip(*index.updated(changes, restated).columns)) == [expected[rel] for rel in sorted(expected)]


def test_a_write_after_the_index_was_settled_is_in_the_index_too(tmp_path):
    """Rows written after ``settle_index`` (none are, in a build) still reach the index:
    the commit reads them from the table."""
    path = tmp_path / "cache.sqlite"
    store = cache.open_cache(path, "key")
    row = ("a.txt", 1, 2, b"d" * 16, 3, ("https://n.example/a", "2024-01-01T00:00:00+00:00", 0) + (None,) * 9, None)
    store.put([row])
    store.settle_index()
    store.put([("b.txt",) + row[1:]])
    store.commit()
    store.close()
    assert index_mirrors_table(path)
    with sqlite3.connect(path) as db:
        assert [r for (r,) in db.execute("SELECT rel FROM files ORDER BY rel")] == ["a.txt", "b.txt"]
    db.close()


def test_the_index_is_written_through_a_new_temporary_file_and_leftovers_go(tree, cached, tmp_path):
    age_tree(tree)
    leftover = tmp_path / "cache.sqlite.index.dead.tmp"  # a build killed while writing it
    leftover.write_bytes(b"half")
    elsewhere = tmp_path / "precious"
    elsewhere.write_text("keep")
    (tmp_path / f"cache.sqlite.index.{os.getpid()}.tmp").symlink_to(elsewhere)  # a trap at a guessable name
    build(cached(), NOW)
    assert elsewhere.read_text() == "keep"
    assert index_mirrors_table(tmp_path / "cache.sqlite")
    assert sorted(p.name for p in tmp_path.glob("cache.sqlite.index*")) == ["cache.sqlite.index"]
