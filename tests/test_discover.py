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
from mkfeeds import parallel, source
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


def test_a_listing_is_the_sequence_of_its_files(mixed):
    """A listing holds its files as columns and gives them back as ``SourceFile``s:
    by position, by slice, in order and by path."""
    listing = discover(mixed, 1)
    files = list(listing)
    assert len(files) == len(listing) == 8 and all(isinstance(f, source.SourceFile) for f in files)
    assert [listing[i] for i in range(len(listing))] == files and listing[-1] == files[-1]
    assert listing[2:5] == files[2:5] and listing[::-1] == files[::-1]
    assert listing == files and files == listing and listing != files[:-1]
    assert files[3].path == os.path.abspath(mixed) + "/" + files[3].rel
    by_path = listing.by_path()
    assert [by_path[f.rel] for f in files] == files and list(by_path) == [f.rel for f in files]
    assert "nowhere.txt" not in by_path and by_path.get("a/1.md") == files[0]
    with pytest.raises(IndexError):
        listing[len(files)]


def test_a_listing_out_of_path_order_still_finds_its_files_by_path(mixed):
    files = list(discover(mixed, 1))
    shuffled = source.Listing(files[0].root, files[::-1])
    assert {rel: shuffled.by_path()[rel] for rel in (f.rel for f in files)} == {f.rel: f for f in files}


def test_the_folders_are_shared_where_the_tree_branches(tmp_path, monkeypatch):
    root = tmp_path / "in"
    for month in ("01", "02", "03"):
        write_tree(root, {f"articles/2024/{month}/{i}.txt": "x" for i in range(2)})
    shared: list[list[list[str]]] = []
    real = parallel.forked_map

    def spy(function, items, processes):
        shared.append([[rel for _, rel in half] for half in items])
        return real(function, items, processes)

    monkeypatch.setattr(parallel, "forked_map", spy)
    assert len(discover(root, 2)) == 6
    assert [sorted(half) for half in shared[0]] == [["articles/2024/01/", "articles/2024/03/"], ["articles/2024/02/"]]


def test_a_listing_process_that_dies_is_made_up_for(mixed, monkeypatch):
    parent = os.getpid()
    real = source._packed

    def dying(found):
        if os.getpid() != parent:
            os._exit(3)  # a lister killed, out of memory...
        return real(found)

    monkeypatch.setattr(source, "_packed", dying)  # the forked listers inherit it
    with_failure = listed(mixed, 2)
    monkeypatch.undo()
    assert with_failure == listed(mixed, 1)


def test_one_process_when_fork_is_refused(mixed, monkeypatch):
    def refuse():
        raise OSError("no more processes")

    monkeypatch.setattr(os, "fork", refuse)
    assert listed(mixed, 2) == listed(mixed, 1)


def test_an_interrupted_listing_leaves_no_process_behind(mixed, monkeypatch):
    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(source, "_unpacked", interrupted)
    with pytest.raises(KeyboardInterrupt):
        discover(mixed, 2)
    with pytest.raises(ChildProcessError):  # every lister gone, and waited for
        os.waitpid(-1, os.WNOHANG)


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
    settings_ = make_settings(input=root, cache=tmp_path / "state", jobs=2)
    build(settings_, NOW, listed=told.append)
    assert len(calls) == 1 and told == [6]
