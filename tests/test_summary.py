"""What a build says when it is done: a headline that fits 100 columns, the details on a
second line, thousands separators and plurals right, "up to date", and when the next
scheduled article is due (so a cron job can build then)."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mkfeeds.build import BuildResult
from mkfeeds.cli import cli
from mkfeeds.summary import summary

from conftest import article_text, write_tree

SEEDS = Path(__file__).parent.parent / "seeds"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    return tmp_path


def test_the_sample_build_says_what_happened_in_a_headline_and_its_details(sample):
    headline, details = run().stdout.splitlines()
    assert headline == "mkfeeds: 52 feeds in out/: 15 published, 4 withheld, 0 rejected"
    assert len(headline) <= 100
    assert re.fullmatch(r"  15 entries in the main feed; \d+ files written, 0 unchanged; "
                        r"withheld: 3 drafts, 1 scheduled \(the next is due 2027-06-15T08:00:00Z\)", details)


def test_an_up_to_date_build_says_so(sample):
    run()
    time.sleep(2.1)  # files written within 2 s of a build are not trusted to be unchanged
    run()
    headline, details = run().stdout.splitlines()
    assert headline == "mkfeeds: up to date: 52 feeds in out/: 15 published, 4 withheld, 0 rejected"
    assert re.fullmatch(r"  15 entries in the main feed; nothing changed since the last build \(\d+ files unchanged\); "
                        r"withheld: 3 drafts, 1 scheduled \(the next is due 2027-06-15T08:00:00Z\)", details)


def test_large_counts_have_thousands_separators_and_the_headline_fits():
    result = BuildResult(files_written=("x",) * 1, files_unchanged=("y",) * 12_345, entries=50,
                         published=100_000, drafts=1, scheduled=1_200, feeds=110, up_to_date=True)
    headline, details = summary(Path("public/feeds"), result).split("\n")
    assert headline == "mkfeeds: up to date: 110 feeds in public/feeds/: 100,000 published, 1,201 withheld, 0 rejected"
    assert len(headline) <= 100
    assert details == ("  50 entries in the main feed; nothing changed since the last build (12,345 files unchanged); "
                       "withheld: 1 draft, 1,200 scheduled")


def test_one_of_anything_is_singular(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"mkfeeds.toml": 'base-url = "https://feeds.example.org/"\npages = false\n'
                                          "stylesheet = false\ntaxonomies = []\n",
                          "seeds/a.txt": article_text(title="A", webUrl="https://n.example/a", locale="bad tag"),
                          "seeds/b.txt": article_text(title=..., webUrl="https://n.example/b")})
    result = run()
    assert result.stdout.splitlines() == ["mkfeeds: 1 feed in out/: 1 published, 0 withheld, 1 rejected",
                                          "  1 entry in the main feed; 3 files written, 0 unchanged"]
    assert run("check").stdout.endswith(" 1 rejected, 1 warning\n")
    assert run("build", "--strict").stderr.endswith("mkfeeds: error: 1 article rejected; nothing written (--strict)\n")
