"""Files the build does not read are never dropped without a word: a build that finds no
article says so, and every file skipped for a reason other than being hidden or a backup
is named with the reason, in build and in check."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from mkfeeds.cli import cli

from conftest import article_text, write_tree

GOOD = article_text(title="Good story", webUrl="https://news.example.org/good/")
CONFIG = 'base-url = "https://feeds.example.org/"\n'


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"mkfeeds.toml": CONFIG, "seeds/.hidden.txt": GOOD, "seeds/backup.txt~": GOOD,
                          "seeds/#lock.txt#": GOOD})
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_a_build_of_an_empty_folder_says_so(site):
    result = run()
    assert result.exit_code == 0
    assert result.stderr == "mkfeeds: warning: no articles in seeds/: it holds no .txt, .md or .markdown file\n"


def test_a_build_that_finds_no_article_counts_the_other_files(site):
    write_tree(site, {"seeds/notes.docx": "x", "seeds/img/a.png": "x", "seeds/README": "x"})
    for command in ("build", "check"):
        result = run(command)
        assert result.stderr == ("mkfeeds: warning: no articles in seeds/; 3 files skipped: "
                                 "not .txt, .md or .markdown\n"), command


def test_one_other_file_is_one_file(site):
    write_tree(site, {"seeds/notes.docx": "x"})
    assert "; 1 file skipped: not .txt, .md or .markdown\n" in run().stderr


def test_verbose_names_every_file_that_is_not_an_article(site):
    write_tree(site, {"seeds/a.txt": GOOD, "seeds/notes.docx": "x", "seeds/img/a.png": "x"})
    for command in ("build", "check"):
        lines = run(command, "-v").stderr.splitlines()
        assert "skipped seeds/img/a.png (not .txt, .md or .markdown)" in lines, command
        assert "skipped seeds/notes.docx (not .txt, .md or .markdown)" in lines, command
    assert "skipped" not in run().stderr  # without -v they are not news
    assert run("check").stdout.endswith(", 0 warnings, 2 files skipped\n")


@pytest.fixture
def odd_files(site, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    write_tree(outside, {"elsewhere.txt": GOOD, "folder/x.txt": GOOD})
    write_tree(site, {"seeds/a.txt": GOOD})
    os.symlink(outside / "elsewhere.txt", site / "seeds/leaves.txt")
    os.symlink(site / "seeds/missing.txt", site / "seeds/dangling.txt")
    os.symlink(outside / "folder", site / "seeds/linked-folder")
    os.mkfifo(site / "seeds/pipe.txt")
    return site


EXPECTED = [
    "seeds/dangling.txt: warning: skipped: a symbolic link to nothing",
    "seeds/leaves.txt: warning: skipped: a symbolic link that leads outside the input folder",
    "seeds/linked-folder: warning: skipped: a symbolic link to a folder (folder links are never followed)",
    "seeds/pipe.txt: warning: skipped: not a regular file (a FIFO, socket or device)",
]


def test_build_names_every_file_it_skips_with_the_reason(odd_files):
    result = run()
    assert result.exit_code == 0
    assert result.stderr.splitlines() == EXPECTED
    assert "1 entry in the main feed" in result.stdout
    again = run()  # up to date: the last result again, each file named once
    assert "0 files written" in again.stdout and again.stderr.splitlines() == EXPECTED


def test_check_names_them_too_in_every_format(odd_files):
    result = run("check")
    assert result.stdout.splitlines() == [
        *EXPECTED, "mkfeeds check: 1 publishable, 0 withheld, 0 rejected, 4 warnings, 4 files skipped"]
    document = json.loads(run("check", "--format", "json").stdout)
    assert [item["file"] for item in document["skipped"]] == [
        "seeds/dangling.txt", "seeds/leaves.txt", "seeds/linked-folder", "seeds/pipe.txt"]
    assert document["counts"]["skipped"] == 4
    assert run("check", "--fail-on-warning").exit_code == 1


def test_a_listing_on_two_processes_names_them_alike(odd_files):
    write_tree(odd_files, {"seeds/2025/b.txt": article_text(title="B", webUrl="https://n.example/b"),
                           "seeds/2026/c.txt": article_text(title="C", webUrl="https://n.example/c"),
                           "seeds/2026/notes.docx": "x"})
    os.mkfifo(odd_files / "seeds/2025/pipe.md")
    (odd_files / "mkfeeds.toml").write_text(CONFIG + "jobs = 1\n")
    one = run("check", "-v")
    (odd_files / "mkfeeds.toml").write_text(CONFIG + "jobs = 2\n")
    two = run("check", "-v")
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert "seeds/2025/pipe.md: warning: skipped: not a regular file (a FIFO, socket or device)" in two.stdout
    assert "skipped seeds/2026/notes.docx (not .txt, .md or .markdown)" in two.stderr
