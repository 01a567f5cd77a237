"""Listing the input folder: what counts as an article file, and that listing on two
processes (half the sub-folders each) finds exactly what one process finds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import NOW, article_text, write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mkfeeds import build as build_module
from mkfeeds import source
from mkfeeds.build import build
from mkfeeds.source import discover

pytestmark = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="listing in two processes is Linux's")


def listed(root: Path, processes: int) -> list[tuple[str, int]]:
    return [(s.rel, s.size) for s in discover(root, processes)]


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    write_tree(root, {
        "top.txt": "t", "a/1.md": "a1", "a/b/2.markdown": "ab2", "c/3.txt": "c3", "c/d/e/4.TXT": "cde4",
        "c/notes.pdf": "no", "c/.hidden.txt": "no", "c/backup.txt~": "no", ".git/x.txt": "no",
        "#lock.txt": "no", "f/only/5.txt": "f5",
    })
    (root / "g").mkdir()  # an empty folder
    outside = tmp_path / "outside.txt"
    outside.write_text("outside")
    (root / "c" / "out.txt").symlink_to(outside)  # leads out: skipped
    (root / "c" / "in.txt").symlink_to(root / "top.txt")  # stays inside: listed
    (root / "h").symlink_to(root / "a", target_is_directory=True)  # folder links are never followed
    os.makedirs(os.fsencode(root / "z") + b"/\xff", exist_ok=True)  # not UTF-8
    (Path(os.fsdecode(os.fsencode(root / "z") + b"/\xff")) / "6.txt").write_text("z6")
    return root


def test_what_counts_as_an_article_file(mixed):
    assert [rel for rel, _ in listed(mixed, 1)] == [
        "a/1.md", "a/b/2.markdown", "c/3.txt", "c/d/e/4.TXT", "c/in.txt", "f/only/5.txt", "top.txt",
        os.fsdecode(b"z/\xff/6.txt")]


def test_two_processes_list_what_one_lists(mixed):
    assert listed(mixed, 2) == listed(mixed, 1)
    assert discover(mixed, 2) == discover(mixed, 1)  # paths, sizes and times too


def test_the_folders_are_shared_where_the_tree_branches(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "in", {f"articles/2024/{m:02}/{d}.txt": "x" for m in (1, 2, 3) for d in (1, 2)})
    shared = []
    real = source._list_elsewhere

    def spy(folders, real_root):
        shared.append([rel for _, rel in folders])
        return real(folders, real_root)

    monkeypatch.setattr(source, "_list_elsewhere", spy)
    assert len(discover(root, 2)) == 6
    assert shared == [["articles/2024/02/"]]  # of 01, 02 and 03: every other one


def test_a_listing_process_that_fails_is_made_up_for(mixed, monkeypatch):
    class Broken:
        @staticmethod
        def dumps(value):
            raise OverflowError("a time past 2262 does not fit")

        loads = staticmethod(lambda data: None)

    monkeypatch.setattr(source, "marshal", Broken)  # the forked process inherits it and fails
    with_failure = listed(mixed, 2)
    monkeypatch.undo()
    assert with_failure == listed(mixed, 1)


def test_one_process_when_fork_is_refused(mixed, monkeypatch):
    def refuse():
        raise OSError("no more processes")

    monkeypatch.setattr(os, "fork", refuse)
    assert listed(mixed, 2) == listed(mixed, 1)


def test_an_interrupted_listing_leaves_no_process_behind(mixed, monkeypatch):
    parent, forked = os.getpid(), []
    real_walk, real_elsewhere = source._walk, source._list_elsewhere

    def spy(folders, real_root):
        found = real_elsewhere(folders, real_root)
        forked.append(found.pid)
        return found

    def interrupted(folders, real_root, subfolders=None):
        if os.getpid() == parent and subfolders is None:  # the parent's share, not the forked one's
            raise KeyboardInterrupt
        return real_walk(folders, real_root, subfolders)

    monkeypatch.setattr(source, "_list_elsewhere", spy)
    monkeypatch.setattr(source, "_walk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        discover(mixed, 2)
    assert len(forked) == 1
    with pytest.raises(ProcessLookupError):  # gone, and waited for
        os.kill(forked[0], 0)


names = st.text(alphabet="ab.~#-_x", min_size=1, max_size=3)
trees = st.dictionaries(st.lists(names, min_size=1, max_size=4).map(lambda parts: "/".join(parts) + ".txt"),
                        st.sampled_from(["", "x", "xy"]), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=trees)
def test_any_tree_lists_the_same_on_two_processes(tmp_path_factory, files):
    root = tmp_path_factory.mktemp("tree")
    for rel, text in files.items():
        path = root / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue  # "a.txt" as a file and as a folder: keep the first
    assert discover(root, 2) == discover(root, 1)


def test_a_build_lists_the_input_folder_once_and_says_how_many(make_settings, tmp_path, monkeypatch):
    root = write_tree(tmp_path / "in", {f"{folder}/{i}.txt": article_text(
        title=f"T{folder}{i}", webUrl=f"https://n.example/{folder}/{i}/") for folder in "ab" for i in range(3)})
    calls = []
    real = build_module.discover

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(build_module, "discover", counting)
    told: list[int] = []
    settings_ = make_settings(input=root, cache=tmp_path / "cache.sqlite", jobs=2)
    build(settings_, NOW, listed=told.append)
    assert len(calls) == 1 and told == [6]
