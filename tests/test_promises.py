"""Promises that hold under faults, each as the fault campaign found it broken: a failed
build changes no file, the manifest included; no state file can make a build hang;
killed builds leave nothing behind; a pinned mtime hides no edit, of an article or of a
feed; a file name with a newline keeps every problem on one line; an article that
cannot be read because of its name is named.

(Damaged cache values: tests/test_cache.py, the sweep of every column; interrupts:
tests/test_interrupts.py; kills: tests/test_sigkill.py.)"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NOW, article_text, write_tree

from mkfeeds import output
from mkfeeds.build import build
from mkfeeds.cli import cli
from mkfeeds.config import Settings
from mkfeeds.errors import OutputError

BASE = "https://feeds.example.org/"


def story(n: int, topic: str = "Tides", title: str | None = None) -> str:
    return article_text(f"Body {n}.", title=title or f"Story {n}", webUrl=f"https://news.example.org/{n}/",
                        topics=[topic], publishedDateTime=f"2026-03-{1 + n:02}T10:00:00Z")


def settings_for(root: Path, **overrides) -> Settings:
    values = dict(input=root / "in", output=root / "out", base_url=BASE, cache=root / "state", jobs=1)
    values.update(overrides)
    return Settings(**values)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write_tree(tmp_path / "in", {f"{n:02}.md": story(n) for n in range(3)})
    build(settings_for(tmp_path), NOW)
    return tmp_path


# --- 3. a failed build changes no file at all ----------------------------------------------


def test_a_full_disk_changes_no_file_not_even_the_manifest(site, monkeypatch):
    """The new build adds feeds (a new topic): the disk fills up while they are staged.
    The manifest must not list files that were never written."""
    before = snapshot(site / "out")
    write_tree(site / "in", {"09.md": story(9, topic="Brand new")})
    real_stage = output._stage

    def stage(target, data):
        if target.parent.name == "brand-new" and target.name == "feed.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_stage(target, data)

    monkeypatch.setattr(output, "_stage", stage)
    with pytest.raises(OSError, match="No space left"):
        build(settings_for(site), NOW)
    assert snapshot(site / "out") == before  # manifest included, and no temp file


# --- 4. nothing mkfeeds reads can make it hang ----------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX's")
def test_a_fifo_in_place_of_the_manifest_is_not_waited_for(site):
    manifest = site / "out" / output.MANIFEST
    manifest.unlink()
    os.mkfifo(manifest)
    write_tree(site / "in", {"09.md": story(9)})
    done = subprocess.run([sys.executable, "-m", "mkfeeds", "build", "-i", "in", "-o", "out", "--cache", "state",
                           "--base-url", BASE], cwd=site, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Story 9" in (site / "out" / "feed.json").read_text()


# --- 5. killed builds leave nothing behind ------------------------------------------------

LEFTOVERS = [".rss.xml.k2x9_q0a.tmp", "topics/tides/.atom.xml.0123456789ab.old",
             "topics/gone-long-ago/.feed.json.zz99aa11.tmp"]  # the last one in a folder no build writes now
NOT_OURS = ["notes.tmp", ".keep.tmp", "topics/tides/.atom.xml.tmp", ".rss.xml.short.tmp"]


def test_the_next_build_removes_every_leftover_of_its_naming_whatever_it_writes(site):
    for name in LEFTOVERS + NOT_OURS:
        write_tree(site / "out", {name: "left behind"})
    write_tree(site / "state", {".state.sqlite.ab12cd34.tmp": "left behind", "mine.tmp": "not ours"})
    write_tree(site / "in", {"09.md": story(9, topic="Other")})  # the build writes none of those folders' feeds
    result = build(settings_for(site), NOW)
    assert "topics/tides/atom.xml" not in result.files_written
    assert all(not (site / "out" / name).exists() for name in LEFTOVERS)
    assert all((site / "out" / name).exists() for name in NOT_OURS)
    assert not (site / "state" / ".state.sqlite.ab12cd34.tmp").exists() and (site / "state" / "mine.tmp").exists()
    assert set(LEFTOVERS) <= set(result.leftovers_removed)
    run = CliRunner().invoke(cli, ["build", "-i", str(site / "in"), "-o", str(site / "out"), "--cache",
                                   str(site / "state"), "--base-url", BASE, "-v"])
    assert "left by a build that was stopped" not in run.stderr  # gone already: told once


def test_a_build_waits_for_another_one_writing_to_the_same_folder_and_spares_its_temp_files(site):
    """The other build (here, the test holding the lock) may be staging right now: its temp
    files are not leftovers until it has finished."""
    write_tree(site / "in", {"09.md": story(9)})
    folder = os.open(site / "out", os.O_RDONLY)
    fcntl.flock(folder, fcntl.LOCK_EX)
    running = site / "out" / ".rss.xml.r0nn1ng0.tmp"
    running.write_text("being written")
    finished: list[object] = []
    waiting = threading.Thread(target=lambda: finished.append(build(settings_for(site), NOW)))
    waiting.start()
    waiting.join(timeout=1.0)
    try:
        assert waiting.is_alive() and running.exists()  # it waits for the lock, touching nothing
        assert "Story 9" not in (site / "out" / "feed.json").read_text()
    finally:
        running.unlink()  # the other build is done: its temp file renamed away
        os.close(folder)
    waiting.join(timeout=60)
    assert finished and "Story 9" in (site / "out" / "feed.json").read_text()


def test_the_lock_is_released_when_the_build_fails(site, monkeypatch):
    monkeypatch.setattr(output, "_stage", lambda target, data: (_ for _ in ()).throw(
        OutputError(str(target), "cannot write (No space left on device)")))
    write_tree(site / "in", {"09.md": story(9)})
    with pytest.raises(OutputError):
        build(settings_for(site), NOW)
    monkeypatch.undo()
    build(settings_for(site), NOW)  # would wait on a lock left held, then fail
    assert "Story 9" in (site / "out" / "feed.json").read_text()


# --- 6. a pinned mtime hides no edit of a feed either ---------------------------------------


def test_a_same_size_hand_edit_of_a_feed_with_its_mtime_restored_is_repaired(site):
    feed = site / "out" / "topics" / "tides" / "rss.xml"
    good = feed.read_bytes()
    before = feed.stat()
    feed.write_bytes(good.replace(b"Story 1", b"Story X"))  # same size
    os.utime(feed, ns=(before.st_atime_ns, before.st_mtime_ns))
    write_tree(site / "in", {"09.md": story(9, topic="Other")})  # a build that must not keep the tides feed
    result = build(settings_for(site), NOW)
    assert "topics/tides/rss.xml" in result.files_written
    assert feed.read_bytes() == good


# --- 7. one problem per line, whatever the file is called -------------------------------------


def test_a_file_name_with_a_newline_keeps_each_problem_on_one_line(tmp_path):
    write_tree(tmp_path / "in", {"good.md": story(1), "bad\nname.md": "---\ntitle: [\n---\n",
                                 "tab\tand\x1bescape.md": "---\ntitle: x\n---\n"})
    run = CliRunner().invoke(cli, ["check", "-i", str(tmp_path / "in"), "--base-url", BASE])
    lines = run.output.splitlines()
    problems = [line for line in lines if ": error: " in line]
    assert len(problems) == 2 and all(line.startswith(str(tmp_path)) for line in problems), run.output
    assert any("/in/bad\\nname.md:3: error: " in line for line in problems), problems
    assert any("/in/tab\\tand\\x1bescape.md: error: " in line for line in problems), problems
    as_json = CliRunner().invoke(cli, ["check", "-i", str(tmp_path / "in"), "--base-url", BASE, "--format", "json"])
    files = {problem["file"] for problem in json.loads(as_json.stdout)["problems"]}
    assert {str(tmp_path / "in" / "bad\nname.md"), str(tmp_path / "in" / "tab\tand\x1bescape.md")} <= files  # raw


# --- 8. an article that cannot be read for its name is named ------------------------------------


def test_an_article_whose_path_is_too_long_to_open_is_named_with_the_reason(tmp_path, monkeypatch):
    write_tree(tmp_path / "in", {"good.md": story(1), "long.md": story(2)})
    real_open = os.open

    def open_(path, flags, *args, **kwargs):
        if os.fsdecode(path).endswith("long.md"):
            raise OSError(errno.ENAMETOOLONG, "File name too long")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    result = build(settings_for(tmp_path, cache=None), NOW)
    assert result.published == 1
    [problem] = [p for p in result.problems if p.path == "long.md"]
    assert problem.severity == "error" and "File name too long" in problem.message



def test_articles_deeper_than_the_system_allows_are_not_dropped_without_a_word(tmp_path):
    """A real path over PATH_MAX (4096 bytes on Linux): made a folder at a time, through
    folder descriptors, as a checkout or an unpacked archive can make it."""
    write_tree(tmp_path / "in", {"good.md": story(1)})
    fd = os.open(tmp_path / "in", os.O_RDONLY)
    try:
        for _ in range(18):  # 18 folders of 240 characters: 4,338 bytes below the input folder
            name = "d" * 240
            os.mkdir(name, dir_fd=fd)
            deeper = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = deeper
        article = os.open("deep.md", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(article, story(2).encode())
        os.close(article)
    finally:
        os.close(fd)
    result = build(settings_for(tmp_path, cache=None), NOW)
    assert result.published == 1
    # The folder that cannot be listed is named, with the reason: what is below it is unknown.
    [skipped] = [p for p in result.problems if p.path.startswith("d" * 240)]
    assert skipped.severity == "warning" and skipped.message == "skipped: a folder that cannot be read (File name too long)"
