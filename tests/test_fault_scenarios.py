"""Issue 15's scenarios, replayed as the fault campaign met them, through the command
line: a damaged cache costs time, never correctness; a failed build changes nothing; no
state file can hang a build; leftovers never pile up; a pinned mtime hides no edit; one
problem per line whatever a file is called.

(Interrupts: tests/test_interrupts.py; kills: tests/test_sigkill.py; the sweep of every
column: tests/test_cache.py; the library-level promises: tests/test_promises.py.)"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import article_text, write_tree

from mkfeeds import output
from mkfeeds.cli import cli

BASE = "https://feeds.example.org/"


def story(n: int, body: str = "", **fields) -> str:
    fields.setdefault("title", f"Story {n}")
    fields.setdefault("topics", [f"Topic {n % 2}"])
    return article_text(body, webUrl=f"https://news.example.org/{n}/",
                        publishedDateTime=f"2026-03-{1 + n:02}T10:00:00Z", **fields)


ARTICLES = {f"{n:02}.md": story(n, f"Body *{n}*, with [a link](/x/{n}).") for n in range(6)}
ARTICLES["bad.md"] = "---\ntitle: [unclosed\n---\n"  # a rejected article: exit 1 for both builds


def run(root: Path, *args: str, out: str = "out", cache: str | None = "state"):
    state = ["--cache", str(root / cache)] if cache else ["--no-cache"]
    return CliRunner().invoke(cli, ["build", "-i", str(root / "in"), "-o", str(root / out), *state,
                                    "--base-url", BASE, "-j", "1", "-v"], catch_exceptions=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def query(root: Path, statement: str, *args) -> list[tuple]:
    db = sqlite3.connect(root / "state" / "state.sqlite", isolation_level=None)
    try:
        return db.execute(statement, args).fetchall()
    finally:
        db.close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Articles with bodies, a cached build of them (whose files are old enough for their
    stats to be trusted), and the reference: a build without any state."""
    write_tree(tmp_path / "in", ARTICLES)
    for path in (tmp_path / "in").iterdir():
        os.utime(path, (1_700_000_000, 1_700_000_000))
    first = run(tmp_path)
    assert first.exit_code == 1, first.output
    reference = run(tmp_path, out="reference", cache=None)
    assert reference.exit_code == 1
    assert query(tmp_path, "SELECT count(*) FROM files WHERE body IS NOT NULL") == [(6,)]
    return tmp_path


def assert_same_as_without_cache(site: Path, result, out: str = "again") -> None:
    """The bytes of a build without any state, and the exit status a clean build has."""
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output  # the rejected article, as without a cache
    reference = snapshot(site / "reference")
    published = snapshot(site / out)
    assert published.keys() == reference.keys()
    assert {name for name in reference if published[name] != reference[name]
            and name != output.MANIFEST} == set()


# --- 1. a damaged cache never costs correctness -----------------------------------------------


@pytest.mark.parametrize("damage", [
    "UPDATE files SET body = char(1) || body WHERE rel = '01.md'",
    "UPDATE files SET entry = replace(entry, 'Story 2', 'Storx 2') WHERE rel = '02.md'",
    "UPDATE files SET entry = replace(entry, 'news.example.org/3/', 'news.example.org/8/') WHERE rel = '03.md'",
])
def test_one_changed_cache_value_publishes_what_a_build_without_it_does_with_a_warning(site, damage):
    before = query(site, "SELECT rel, entry, body FROM files")
    query(site, damage)
    assert query(site, "SELECT rel, entry, body FROM files") != before
    result = run(site, out="again")  # another folder: every feed is rendered from the state
    assert_same_as_without_cache(site, result)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("mkfeeds: warning: cache")]
    assert len(warnings) == 1 and "damaged" in warnings[0] and "read again" in warnings[0], result.stderr
    again = run(site, out="again")  # the damage is repaired: the next build is clean
    assert "damaged" not in again.stderr and again.exit_code == 1


def test_a_changed_key_in_the_table_publishes_what_a_build_without_it_does(site):
    """The row index holds the keys; with it gone the table's are read, and proven."""
    query(site, "UPDATE files SET k_id = replace(k_id, '/4/', '/9/') WHERE rel = '04.md'")
    query(site, "DELETE FROM meta WHERE key LIKE 'row_index%'")
    result = run(site, out="again")
    assert_same_as_without_cache(site, result)
    assert "damaged" in result.stderr


def test_a_changed_problem_in_the_last_build_record_is_never_reported(site):
    """Nothing changed since the last build: it would be reported again from its record.
    A record that was altered is not the one written: the build is done instead."""
    [(record,)] = query(site, "SELECT value FROM meta WHERE key = 'build'")
    assert "invalid YAML" in record
    damaged = json.loads(record)
    damaged["problems"][0][2] = "X" + damaged["problems"][0][2][1:]
    query(site, "UPDATE meta SET value = ? WHERE key = 'build'", json.dumps(damaged))
    result = run(site)
    told = [line for line in result.stderr.splitlines() if "bad.md" in line]
    assert told == [line for line in run(site, out="reference", cache=None).stderr.splitlines() if "bad.md" in line]
    assert result.exit_code == 1


def problem_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith(("mkfeeds: ", "wrote ", "removed "))]


@pytest.mark.parametrize("into", ["a fresh folder", "the same folder"])
def test_random_bit_flips_in_the_state_file_never_crash_a_build_or_change_its_output(site, into):
    """20 trials, each flipping a few bits of a good state file at random (seeded): the
    build publishes the reference bytes, tells the reference's problems and exits as it
    does. Into a fresh folder every feed is rendered from the state; into the same one,
    untouched since, the build would be up to date: it is reported from the state's record."""
    good = (site / "state" / "state.sqlite").read_bytes()
    expected = problem_lines(run(site, out="reference", cache=None))
    assert "up to date" in run(site).stdout  # undamaged, the same folder's build is reported from the record
    (site / "state" / "state.sqlite").write_bytes(good)
    record_at = good.rindex(b"invalid YAML")  # the last build's record holds the rejected article's problem
    rng = random.Random(15)
    for trial in range(20):
        data = bytearray(good)
        for _ in range(rng.choice((1, 2, 8))):
            at = rng.randrange(100, len(data))  # past SQLite's header: else it is only "not ours"
            if into == "the same folder" and trial % 2:  # in the record's problem text, to be sure to hit it
                at = rng.randrange(record_at, record_at + 40)
            data[at] ^= 1 << rng.randrange(8)
        (site / "state" / "state.sqlite").write_bytes(bytes(data))
        out = "again" if into == "a fresh folder" else "out"  # out/: files rewritten only if they differ
        if out == "again":
            shutil.rmtree(site / out, ignore_errors=True)
        result = run(site, out=out)
        assert_same_as_without_cache(site, result, out)
        assert problem_lines(result) == expected, (trial, result.stderr)


# --- 3. a failed build changes no file at all -------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names an open file through /proc")
def test_a_full_disk_changes_no_file_the_manifest_included(site, monkeypatch):
    """New feeds to add (a new topic), and the disk fills up while writing one of them."""
    before = snapshot(site / "out")
    write_tree(site / "in", {"09.md": story(9, topics=["Brand new"])})
    real = os.fsync

    def fsync(fd):  # the disk is full once the new topic's files are flushed
        if Path(os.readlink(f"/proc/self/fd/{fd}")).parent.name == "brand-new":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result = run(site)
    assert result.exit_code == 2 and "No space left on device" in result.stderr.splitlines()[-1]
    assert snapshot(site / "out") == before


# --- 4. nothing mkfeeds reads can make it hang --------------------------------------------------

STATE_PATHS = ["state/state.sqlite", "state/state.sqlite-journal", "state/state.sqlite-wal",
               "state/state.sqlite-shm", f"out/{output.MANIFEST}", "out/rss.xml", "mkfeeds.toml"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX's")
@pytest.mark.parametrize("where", STATE_PATHS)
def test_a_fifo_where_a_state_file_is_expected_is_told_never_waited_for(site, where):
    path = site / where
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    write_tree(site / "in", {"09.md": story(9)})
    done = subprocess.run([sys.executable, "-m", "mkfeeds", "build", "-i", "in", "-o", "out", "--cache", "state",
                           "--base-url", BASE], cwd=site, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr
    if where == "mkfeeds.toml":  # the config is not optional: an error that names it
        assert done.returncode == 2
        assert "mkfeeds.toml" in done.stderr.splitlines()[0] and "not a regular file" in done.stderr, done.stderr
        return
    assert done.returncode == 1, done.stderr
    assert "Story 9" in (site / "out" / "feed.json").read_text()
    if where.startswith("state/"):
        warnings = [line for line in done.stderr.splitlines() if line.startswith("mkfeeds: warning: cache")]
        assert len(warnings) == 1 and "is not a regular file" in warnings[0], done.stderr


# --- 5. leftovers of killed builds never pile up ------------------------------------------------

LEFTOVERS = [".rss.xml.k2x9_q0a.tmp", "topics/topic-0/.atom.xml.0123456789ab.old", ".feed.json.zz99aa11.tmp"]
NOT_OURS = ["notes.tmp", ".keep.tmp", "topics/topic-0/.atom.xml.tmp", ".rss.xml.short.tmp", "x.0123456789ab.old"]


@pytest.mark.parametrize("change", ["an edit", "nothing"])
def test_the_next_build_removes_every_leftover_whatever_it_writes(site, change):
    """After ``nothing`` changed the build is up to date: it writes no file, and removes
    the leftovers all the same (it holds the lock while it looks)."""
    if change == "an edit":
        write_tree(site / "in", {"09.md": story(9)})
    for name in LEFTOVERS + NOT_OURS:
        write_tree(site / "out", {name: "left behind"})
    write_tree(site / "state", {".state.sqlite.ab12cd34.tmp": "left behind", "mine.tmp": "not ours"})
    result = run(site)
    assert result.exit_code == 1
    assert [name for name in LEFTOVERS if (site / "out" / name).exists()] == []
    assert all((site / "out" / name).read_text() == "left behind" for name in NOT_OURS)
    assert not (site / "state" / ".state.sqlite.ab12cd34.tmp").exists()
    assert (site / "state" / "mine.tmp").exists()
    told = [line for line in result.stderr.splitlines() if "left by a build that was stopped" in line]
    assert len(told) == len(LEFTOVERS) + 1, result.stderr


def test_an_up_to_date_build_of_a_read_only_output_folder_still_succeeds(site, monkeypatch):
    """Looking for leftovers needs write access; a build that writes nothing does not."""
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if Path(path).name == "out"
                        and mode & os.W_OK else real_access(path, mode, **kw))
    result = run(site)
    assert result.exit_code == 1 and "up to date" in result.stdout, result.output
    assert "error" not in result.stderr.replace("bad.md:3: error:", "")


# --- 6. a pinned mtime hides no edit --------------------------------------------------------------


@pytest.mark.parametrize("how", ["right after", "after another build"])
def test_a_same_size_edit_with_its_mtime_restored_is_published(site, how):
    if how == "after another build":
        run(site)  # the up-to-date record is fresh: the edit must still not be replayed over
    article = site / "in" / "02.md"
    before = article.stat()
    text = article.read_text()
    article.write_text(text.replace("Story 2", "Story Z"))
    os.utime(article, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert article.stat().st_size == before.st_size and article.stat().st_mtime_ns == before.st_mtime_ns
    result = run(site)
    assert result.exit_code == 1
    assert "Story Z" in (site / "out" / "feed.json").read_text()
    assert "Story Z" in (site / "out" / "topics" / "topic-0" / "rss.xml").read_text()


def test_a_same_size_hand_edit_of_an_output_file_with_its_mtime_restored_is_repaired(site):
    for name in ("rss.xml", "topics/topic-1/atom.xml", "index.html"):
        target = site / "out" / name
        good, before = target.read_bytes(), target.stat()
        target.write_bytes(good.replace(b"Story", b"Stxry", 1))
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
        result = run(site)  # nothing else changed: the build would be up to date
        assert f"wrote {site / 'out' / name}" in result.stderr.splitlines(), result.stderr
        assert target.read_bytes() == good


# --- 7. one problem per line, whatever a file is called ----------------------------------------


def test_a_file_name_with_a_newline_keeps_every_printed_line_whole(tmp_path):
    write_tree(tmp_path / "in\nbox", {"good.md": story(1), "bad\nname.md": "---\ntitle: [\n---\n",
                                      "odd\rname\x1b.md": story(2, topics=["New\nline"])})
    (tmp_path / "in\nbox" / "link\n.md").symlink_to("/nonexistent")
    args = ["-i", str(tmp_path / "in\nbox"), "--base-url", BASE]
    built = CliRunner().invoke(cli, ["build", *args, "-o", str(tmp_path / "out\nput"), "--cache",
                                     str(tmp_path / "st\nate"), "-v"])
    lines = built.stderr.splitlines()
    assert lines and all(line.startswith(("mkfeeds: ", "wrote ", "skipped ", str(tmp_path))) for line in lines), lines
    assert any(line.endswith("/in\\nbox/bad\\nname.md:3: error: front matter: is not valid YAML "
                             "(expected a flow sequence to end with ']')") or "/in\\nbox/bad\\nname.md:" in line
               for line in lines), lines
    assert sum("bad\\nname.md" in line for line in lines) == 1
    assert any("/in\\nbox/link\\n.md" in line for line in lines), lines
    assert any(line.startswith(f"wrote {tmp_path}/out\\nput/") for line in lines), lines
    assert f" in {tmp_path}/out\\nput/: " in built.stdout.splitlines()[0], built.stdout  # the summary too
    for format_ in ("text", "github"):
        checked = CliRunner().invoke(cli, ["check", *args, "--format", format_])
        problems = [line for line in checked.stdout.splitlines() if "name.md" in line or "link" in line]
        assert len(problems) == 2, checked.stdout
    as_json = CliRunner().invoke(cli, ["check", *args, "--format", "json"])
    files = {problem["file"] for problem in json.loads(as_json.stdout)["problems"]}
    assert str(tmp_path / "in\nbox" / "bad\nname.md") in files  # the raw name
