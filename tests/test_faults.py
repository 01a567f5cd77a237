"""Faults during a build: the disk fails, the output folder refuses writes, input files
vanish or change under our feet. Each gives a clear message and the right exit status,
leaves the previous feeds exactly as they were (when the build fails) and leaves no temp
file behind."""

from __future__ import annotations

import errno
import os
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mkfeeds import output
from mkfeeds.cli import cli
from mkfeeds.errors import OutputError
from mkfeeds.source import MAX_FILE_BYTES

from conftest import SECRET, article_text, write_tree

OPTIONS = ["-i", "in", "-o", "out", "--base-url", "https://feeds.example.org/", "--no-cache"]
FEEDS = ("atom.xml", "feed.json", "rss.xml")
REAL_REPLACE = os.replace
REAL_OPEN = os.open
REAL_FSYNC = os.fsync


def story(n: int, body: str = "") -> str:
    return article_text(body, title=f"Story {n}", webUrl=f"https://news.example.org/{n}", originalUrl=...)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with two articles and the feeds of a first, successful build; then a
    third article, so that the next build would change every feed."""
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"in/001.txt": story(1), "in/002.txt": story(2, "Body *two*.")})
    first = build()
    assert first.exit_code == 0, first.output
    write_tree(tmp_path, {"in/003.txt": story(3)})
    return tmp_path


def build(*extra: str):
    return CliRunner().invoke(cli, ["build", *OPTIONS, *extra], catch_exceptions=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file mkfeeds wrote under ``folder`` (feeds, pages, and its manifest: a failed
    build must not change that either) and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and (not p.name.startswith(".") or p.name == output.MANIFEST)}


def leftovers(folder: Path) -> list[str]:
    """Temp and backup files anywhere under ``folder``."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.name.endswith((output.TEMP_SUFFIX, output.BACKUP_SUFFIX)))


def assert_failed_cleanly(result, site: Path, before: dict[str, bytes], message: str) -> None:
    """Exit 2, ``message`` (a regular expression) last on stderr, and no trace of the
    failed build in the output folder."""
    assert result.exit_code == 2, result.output
    assert re.fullmatch(message, result.stderr.splitlines()[-1]), result.stderr
    assert "Traceback" not in result.output
    assert snapshot(site / "out") == before, "the previous feeds must stay as they were"
    assert leftovers(site / "out") == []


# --- the output side ---------------------------------------------------------------------


def test_rename_failing_midway_puts_back_the_feeds_already_replaced(site, monkeypatch):
    """atom.xml and feed.json are renamed into place, then rss.xml fails: the first two
    are rolled back, so readers never see feeds from two different builds."""
    before = snapshot(site / "out")
    renamed = []
    target = os.path.join("out", "rss.xml")

    def replace(src, dst, **kwargs):
        if str(src).endswith(output.TEMP_SUFFIX):
            renamed.append(os.fspath(dst))
            if os.fspath(dst) == target:
                raise OSError(errno.EIO, "Input/output error")
        return REAL_REPLACE(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    result = build()
    assert {"out/atom.xml", "out/feed.json"} <= set(renamed[:renamed.index(target)])  # really midway
    assert_failed_cleanly(result, site, before, r"mkfeeds: error: out/rss\.xml: cannot write \(Input/output error\)")


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names an open file through /proc")
def test_disk_full_while_writing_leaves_the_old_feeds(site, monkeypatch):
    """The disk fills up while feed.json is written, after atom.xml (and more) were
    written to their temp files: nothing is renamed, every temp file goes."""
    before = snapshot(site / "out")
    synced = []

    def fsync(fd):
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        synced.append(path.name)
        if path.name.startswith(".feed.json.") and path.parent.name == "out":
            raise OSError(errno.ENOSPC, "No space left on device")
        return REAL_FSYNC(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result = build()
    assert any(name.startswith(".atom.xml.") for name in synced)
    assert_failed_cleanly(result, site, before,
                          r"mkfeeds: error: out/feed\.json: cannot write \(No space left on device\)")


def test_read_only_output_folder_by_permission_check(site, monkeypatch):
    """What a non-root user meets on a read-only folder: the up-front check refuses."""
    before = snapshot(site / "out")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if Path(path).name == "out"
                        and mode & os.W_OK else real_access(path, mode, **kw))
    result = build()
    assert_failed_cleanly(result, site, before, "mkfeeds: error: out: the output folder is not writable")


def test_read_only_output_folder_refusing_new_files(site, monkeypatch):
    """A folder that passes the check but refuses to create files (a read-only mount,
    an ACL): the temp file cannot be created and nothing changes."""
    before = snapshot(site / "out")

    def open_(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and Path(os.fsdecode(path)).parent.name == "out":
            raise PermissionError(errno.EACCES, "Permission denied")
        return REAL_OPEN(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    result = build()
    assert_failed_cleanly(result, site, before, r"mkfeeds: error: out/\S+: cannot write \(Permission denied\)")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions; "
                    "test_read_only_output_folder_refusing_new_files covers this by monkeypatching")
def test_read_only_output_folder_by_chmod(site):  # pragma: no cover - only runs as a normal user
    before = snapshot(site / "out")
    (site / "out").chmod(0o555)
    try:
        result = build()
    finally:
        (site / "out").chmod(0o755)
    assert_failed_cleanly(result, site, before, "mkfeeds: error: out: the output folder is not writable")


def test_strict_writes_nothing_when_an_article_is_rejected(site):
    before = snapshot(site / "out")
    write_tree(site, {"in/004.txt": article_text(title="Undated", publishedDateTime=...,
                                                 webUrl="https://news.example.org/4")})
    result = build("--strict")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "in/004.txt: error: publishedDateTime: is missing",
        "mkfeeds: error: 1 article rejected; nothing written (--strict)",
    ]
    assert snapshot(site / "out") == before


def test_strict_on_a_first_build_creates_no_output_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"in/001.txt": story(1), "in/002.txt": "no front matter"})
    result = build("--strict")
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()


def test_interrupted_while_staging_leaves_no_temp_file(tmp_path, monkeypatch):
    """Even a KeyboardInterrupt between writing and renaming cleans up after itself."""
    write_tree(tmp_path, {"out/rss.xml": "old"})

    def fsync(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(KeyboardInterrupt):
        output.write_all(tmp_path / "out", {"rss.xml": b"new", "atom.xml": b"new"})
    assert snapshot(tmp_path / "out") == {"rss.xml": b"old"}


def test_a_feed_that_is_a_symlink_is_replaced_not_written_through(site):
    elsewhere = site / "elsewhere.xml"
    elsewhere.write_text("not ours")
    (site / "out" / "rss.xml").unlink()
    (site / "out" / "rss.xml").symlink_to(elsewhere)
    assert build().exit_code == 0
    assert elsewhere.read_text() == "not ours"
    assert (site / "out" / "rss.xml").read_bytes().startswith(b"<?xml")
    assert not (site / "out" / "rss.xml").is_symlink()
    assert leftovers(site / "out") == []


def test_an_output_subfolder_leading_outside_is_refused(tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "topics").symlink_to(tmp_path / "outside")
    with pytest.raises(OutputError, match="leads outside the output folder"):
        output.write_all(tmp_path / "out", {"rss.xml": b"main", "topics/rss.xml": b"escaped"})
    assert list((tmp_path / "outside").iterdir()) == []
    assert not (tmp_path / "out" / "rss.xml").exists(), "all or nothing"


def test_leftovers_are_removed_only_when_old_where_the_folder_cannot_be_locked(tmp_path, monkeypatch):
    """Without a lock (a file system without ``flock``) a young temp file may be a running
    build's: only those old enough to be surely dead go."""
    out = tmp_path / "out"
    write_tree(tmp_path, {"out/.rss.xml.abcd1234.tmp": "killed", "out/.rss.xml.efgh5678.tmp": "running",
                          "out/topics/space/.atom.xml.0123456789ab.old": "killed"})
    old = time.time() - output.STALE_SECONDS - 60
    for name in (".rss.xml.abcd1234.tmp", "topics/space/.atom.xml.0123456789ab.old"):
        os.utime(out / name, (old, old))
    monkeypatch.setattr(output, "_lock", lambda root: None)
    with output.publishing(out) as removed:
        assert removed == [".rss.xml.abcd1234.tmp", "topics/space/.atom.xml.0123456789ab.old"]
    assert (out / ".rss.xml.efgh5678.tmp").exists()


# --- the input side ----------------------------------------------------------------------


def _on_open(monkeypatch: pytest.MonkeyPatch, name: str, action, *, nth: int = 1) -> None:
    """Run ``action(path)`` when the build opens input file ``name`` for the nth time."""
    seen = {"count": 0}

    def open_(path, flags, *args, **kwargs):
        if Path(os.fsdecode(path)).name == name and not flags & os.O_CREAT:
            seen["count"] += 1
            if seen["count"] == nth:
                action(Path(os.fsdecode(path)))
        return REAL_OPEN(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)


def _published_titles(site: Path) -> list[str]:
    import json

    return [item["title"] for item in json.loads((site / "out" / "feed.json").read_text())["items"]]


def test_an_input_file_that_vanishes_is_rejected_alone(site, monkeypatch):
    _on_open(monkeypatch, "003.txt", Path.unlink)
    result = build()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["in/003.txt: error: the file disappeared during the build"]
    assert _published_titles(site) == ["Story 1", "Story 2"]
    assert leftovers(site / "out") == []


def test_an_input_file_that_vanishes_before_its_body_is_read(site, monkeypatch):
    """002.txt has a body, read again only when its content is rendered."""
    _on_open(monkeypatch, "002.txt", Path.unlink, nth=2)
    result = build()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["in/002.txt: error: the file disappeared during the build"]
    assert _published_titles(site) == ["Story 1", "Story 3"]


def test_an_input_file_that_becomes_unreadable(site, monkeypatch):
    def refuse(path: Path) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    _on_open(monkeypatch, "003.txt", refuse)
    result = build()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["in/003.txt: error: cannot be read (Permission denied)"]
    assert _published_titles(site) == ["Story 1", "Story 2"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file; "
                    "test_an_input_file_that_becomes_unreadable covers this by monkeypatching")
def test_an_unreadable_input_file_by_chmod(site):  # pragma: no cover - only runs as a normal user
    (site / "in" / "003.txt").chmod(0)
    result = build()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["in/003.txt: error: cannot be read (Permission denied)"]


def test_an_input_file_swapped_for_a_link_outside(site, monkeypatch):
    """Listed as a plain file, replaced by a symlink out of the input folder before it
    is read: the link is not followed."""
    outside = site / "private.txt"
    outside.write_text(story(9) + f"\n{SECRET}\n")

    def swap(path: Path) -> None:
        path.unlink()
        path.symlink_to(outside)

    _on_open(monkeypatch, "003.txt", swap)
    result = build()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["in/003.txt: error: is a symbolic link that leads outside the input folder"]
    assert _published_titles(site) == ["Story 1", "Story 2"]
    assert all(SECRET not in p.read_text() for p in (site / "out").rglob("*") if p.is_file())


def test_an_input_file_that_grows_past_the_limit(site, monkeypatch):
    _on_open(monkeypatch, "003.txt", lambda path: path.write_text(story(3, "x" * MAX_FILE_BYTES)))
    result = build()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["in/003.txt: error: is larger than 1024 KiB"]


def test_an_input_file_replaced_by_a_fifo_is_not_waited_for(site, monkeypatch):
    def to_fifo(path: Path) -> None:
        path.unlink()
        os.mkfifo(path)

    _on_open(monkeypatch, "003.txt", to_fifo)
    result = build()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["in/003.txt: error: is not a regular file"]


def test_the_input_folder_vanishing_fails_the_build(site):
    before = snapshot(site / "out")
    for path in (site / "in").iterdir():
        path.unlink()
    (site / "in").rmdir()
    result = build()
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-2] == "mkfeeds: error: in: the input folder does not exist or is not a folder"
    assert snapshot(site / "out") == before
