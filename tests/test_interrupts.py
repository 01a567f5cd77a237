"""Ctrl-C tells the truth: wherever it lands, the message says which feeds are on disk,
and what is on disk is whole: the previous feeds, or the new ones, never a mix; no temp
file is left, no traceback printed, and the exit status is 130.

Each case runs the real command in a child process and sends it a real SIGINT from
inside the build, at one moment (a function of the pipeline, the nth time it is called)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import article_text, write_tree

PREVIOUS = "mkfeeds: interrupted; nothing was published; the previous feeds are as they were"
NEW = "mkfeeds: interrupted; the new feeds are in place (the next build finishes tidying up)"

# Runs the command with SIGINT sent to itself when ``target`` is called for the nth time.
HARNESS = """
import os, signal, sys, importlib
module_name, attribute, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
owner = importlib.import_module(module_name)
for part in attribute.split(".")[:-1]:
    owner = getattr(owner, part)
name = attribute.split(".")[-1]
real = getattr(owner, name)
calls = [0]
def interrupting(*args, **kwargs):
    calls[0] += 1
    if calls[0] == nth:
        os.kill(os.getpid(), signal.SIGINT)
    return real(*args, **kwargs)
setattr(owner, name, interrupting)
sys.argv = ["mkfeeds"] + sys.argv[4:]
from mkfeeds.launch import main
main()
"""


def articles(root: Path, edited: bool) -> None:
    """Eight stories; article 7 alone has the topic Solo. The edit retitles every story,
    adds one and removes article 7, and with it the Solo feeds."""
    files = {f"{i:02}.md": article_text(f"Body {i}.", title=f"Story {i}" + (" (edited)" if edited else ""),
                                        webUrl=f"https://news.example.org/{i}/",
                                        topics=["Solo"] if i == 7 else [f"Topic {i % 3}"],
                                        publishedDateTime=f"2026-03-{1 + i:02}T10:00:00Z") for i in range(8)}
    if edited:
        files["08.md"] = article_text(title="A new story", webUrl="https://news.example.org/8/",
                                      publishedDateTime="2026-04-01T10:00:00Z", topics=["Topic 0"])
        del files["07.md"]
    for old in (root / "in").glob("*.md"):
        old.unlink()
    write_tree(root / "in", files)


def command(root: Path, out: str = "out", cache: str = "state") -> list[str]:
    return ["build", "-i", str(root / "in"), "-o", str(root / out), "--cache", str(root / cache),
            "--base-url", "https://feeds.example.org/", "-j", "1"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".*") if p.name.endswith((".tmp", ".old"))]


@pytest.fixture
def site(tmp_path: Path) -> dict[str, dict[str, bytes]]:
    """A published site, an edit waiting (one article edited, one added, one gone and with
    it the feed of its topic), and what a whole build of that edit publishes."""
    (tmp_path / "in").mkdir()
    articles(tmp_path, edited=False)
    subprocess.run([sys.executable, "-m", "mkfeeds", *command(tmp_path)], check=True, capture_output=True)
    before = snapshot(tmp_path / "out")
    articles(tmp_path, edited=True)
    subprocess.run([sys.executable, "-m", "mkfeeds", *command(tmp_path, "expected", "expected-state")],
                   check=True, capture_output=True)
    after = snapshot(tmp_path / "expected")
    assert "topics/solo/rss.xml" in before and "topics/solo/rss.xml" not in after
    return {"before": before, "after": after}


MOMENTS = {
    # (module, function, nth call): where the interrupt lands, and what is then on disk
    "while reading articles": (("mkfeeds.loading", "outcome_of_text", 2), PREVIOUS),
    "while selecting": (("mkfeeds.incremental", "select", 1), PREVIOUS),
    "while rendering": (("mkfeeds.build", "render_feeds", 1), PREVIOUS),
    "while staging the files": (("mkfeeds.output", "_stage", 3), PREVIOUS),
    "between two renames": (("mkfeeds.output", "_backup", 3), NEW),
    "as the commit starts (it lands just after the last rename)": (("mkfeeds.output", "_commit", 1), NEW),
    "just after the last rename": (("mkfeeds.output", "_fsync_folder", 1), NEW),
    "while removing feeds no longer published": (("mkfeeds.build", "remove_stale", 1), NEW),
    "while committing the state": (("mkfeeds.incremental", "Incremental.finish", 1), NEW),
    "while printing the summary": (("mkfeeds.cli", "summary_line", 1), NEW),
}


@pytest.mark.parametrize("moment", MOMENTS)
def test_an_interrupt_says_which_feeds_are_in_place_and_they_are_whole(site, tmp_path, moment):
    (module, function, nth), message = MOMENTS[moment]
    run = subprocess.run([sys.executable, "-c", HARNESS, module, function, str(nth), *command(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 130, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1] == message
    out = tmp_path / "out"
    assert leftovers(out) == []
    on_disk = snapshot(out)
    if message == PREVIOUS:
        assert on_disk == site["before"]
    else:  # every new file whole; until a build tidies up, the manifest may list gone feeds too
        assert {name: data for name, data in on_disk.items() if name in site["after"]
                and name != ".mkfeeds-manifest.json"} == {
            name: data for name, data in site["after"].items() if name != ".mkfeeds-manifest.json"}
    # The next build finishes the job: exactly what an uninterrupted build publishes.
    subprocess.run([sys.executable, "-m", "mkfeeds", *command(tmp_path)], check=True, capture_output=True)
    assert snapshot(out) == site["after"]


def test_ctrl_c_to_the_whole_process_group_while_workers_read_prints_no_worker_traceback(tmp_path):
    """A terminal's Ctrl-C reaches every process of its group, the workers too: the
    parent sends it to the group while 300 articles are read on two workers (from the
    work it does meanwhile, which runs once the workers are forked)."""
    write_tree(tmp_path / "in", {f"{i:03}.md": article_text(f"Body {i}.", title=f"Story {i}",
                                                            webUrl=f"https://news.example.org/{i}/")
                                 for i in range(300)})
    to_group = HARNESS.replace("os.kill(os.getpid(), signal.SIGINT)", "os.killpg(os.getpgid(0), signal.SIGINT)")
    run = subprocess.run([sys.executable, "-c", to_group, "mkfeeds.build", "prepare_rendering", "1",
                          *command(tmp_path)[:-2], "-j", "2"],
                         capture_output=True, text=True, timeout=120, start_new_session=True)
    assert run.returncode == 130, run.stderr
    # one line (after click's blank one, which closes the terminal's ^C): no traceback, of a worker or the parent
    assert run.stderr.lstrip("\n").splitlines() == [PREVIOUS]
    assert not (tmp_path / "out").exists() or leftovers(tmp_path / "out") == []


def test_an_interrupt_while_the_command_starts_exits_130_quietly(tmp_path):
    """Ctrl-C while Python imports the CLI (click, here): no traceback, status 130."""
    starting = """
import sys
class Interrupting:
    def find_spec(self, name, path=None, target=None):
        if name == "click":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupting())
sys.argv = ["mkfeeds", "--version"]
from mkfeeds.launch import main
main()
"""
    run = subprocess.run([sys.executable, "-c", starting], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert (run.returncode, run.stdout, run.stderr) == (130, "", "")


def test_the_installed_command_starts_through_the_quiet_entry_point():
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "mkfeeds"]
    assert script.value == "mkfeeds.launch:main"
