"""SIGKILL a real ``mkfeeds build`` at many moments while readers poll the feeds.

A reader must only ever see a whole feed: the file from one complete build or the next,
byte for byte (builds are deterministic, so there are exactly two versions to see), or
no file at all before the first build finished. Temp files are hidden names, never a
feed's name. Half of the kills land at spread-out delays; the other half are aimed at
the write phase, right after a temp file appears.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from lxml import etree

from conftest import article_text, write_tree

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

ARTICLES = 200
KILLS = 12  # half spread over the build, half aimed at the write phase
FEEDS = ("rss.xml", "atom.xml", "feed.json")
COMMAND = [sys.executable, "-m", "mkfeeds", "build", "-i", "in", "-o", "out", "--limit", "0", "--no-cache",
           "--base-url", "https://feeds.example.org/", "--quiet"]


def write_corpus(root: Path, version: str) -> None:
    """``ARTICLES`` articles; ``version`` is in every title, so that switching it
    changes every feed and every build has to write all of them."""
    write_tree(root, {
        f"in/{n:04}.txt": article_text(
            f"Paragraph {n} with *emphasis* and a [link](/x/{n}).\n\n" * 3,
            title=f"Story {n} ({version}) <&> ]]>", webUrl=f"https://news.example.org/{n}", originalUrl=...,
            publishedDateTime=f"2024-03-{1 + n % 28:02}T{n % 24:02}:{n % 60:02}:00Z")
        for n in range(ARTICLES)
    })


class Reader(threading.Thread):
    """Polls the output folder: every feed it reads must parse; it remembers the hash of
    every read, and any visible name that looks like a temp file."""

    def __init__(self, out: Path) -> None:
        super().__init__(daemon=True)
        self.out = out
        self.stop = threading.Event()
        self.seen: dict[str, set[str]] = {name: set() for name in FEEDS}
        self.reads = 0
        self.errors: list[str] = []

    def run(self) -> None:
        existed = {name: False for name in FEEDS}
        while not self.stop.is_set():
            try:
                names = os.listdir(self.out)
            except FileNotFoundError:
                names = []
            for name in names:
                if name.endswith((".tmp", ".old")) and not name.startswith("."):
                    self.errors.append(f"temp file visible as {name}")
            for name in FEEDS:
                try:
                    data = (self.out / name).read_bytes()
                except FileNotFoundError:
                    if existed[name]:
                        self.errors.append(f"{name} vanished after it existed")
                    continue
                existed[name] = True
                self.reads += 1
                try:
                    if name.endswith(".json"):
                        json.loads(data)
                    else:
                        etree.fromstring(data)
                except (ValueError, etree.XMLSyntaxError) as exc:
                    self.errors.append(f"{name}: {len(data)} bytes do not parse: {exc}")
                self.seen[name].add(hashlib.sha256(data).hexdigest())


def feed_hashes(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in FEEDS}


def run_build(root: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(COMMAND, cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - started


def kill_after(root: Path, delay: float) -> None:
    process = subprocess.Popen(COMMAND, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def kill_while_writing(root: Path, extra: float, timeout: float) -> bool:
    """Kill ``extra`` seconds after the first temp file shows up; False if the build
    finished before one was seen."""
    process = subprocess.Popen(COMMAND, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out, deadline, aimed = root / "out", time.monotonic() + timeout, False
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if any(name.endswith(".tmp") for name in os.listdir(out)):
                time.sleep(extra)
                aimed = True
                break
        except FileNotFoundError:
            pass
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return aimed


def test_sigkill_at_any_moment_leaves_whole_feeds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    reader = Reader(out)
    reader.start()
    try:
        write_corpus(tmp_path, "A")
        duration = run_build(tmp_path)
        version_a = feed_hashes(out)
        rss_a = (out / "rss.xml").read_bytes()
        write_corpus(tmp_path, "B")
        run_build(tmp_path)
        version_b = feed_hashes(out)
        assert all(version_a[name] != version_b[name] for name in FEEDS)

        aimed = 0
        for attempt in range(KILLS):
            # the version not on disk: an unchanged feed would not be written at all
            on_disk = "A" if (out / "rss.xml").read_bytes() == rss_a else "B"
            write_corpus(tmp_path, "B" if on_disk == "A" else "A")
            if attempt % 2:
                aimed += kill_while_writing(tmp_path, extra=0.0005 * attempt, timeout=duration * 3)
            else:
                kill_after(tmp_path, delay=duration * (0.2 + 1.0 * attempt / KILLS))
        write_corpus(tmp_path, "A")
        run_build(tmp_path)
    finally:
        reader.stop.set()
        reader.join(timeout=10)

    assert reader.errors == []
    assert reader.reads > 100, "the reader must have polled throughout"
    assert aimed >= KILLS // 4, "kills must have landed in the write phase"
    for name in FEEDS:
        assert reader.seen[name] <= {version_a[name], version_b[name]}, name
    assert feed_hashes(out) == version_a
    visible = sorted(name for name in os.listdir(out) if not name.startswith("."))
    assert set(FEEDS) <= set(visible)
    assert not [name for name in visible if name.endswith((".tmp", ".old"))]
    # and none of the killed builds' hidden temp files or backups is left, anywhere
    assert not [p.name for p in out.rglob(".*") if p.name.endswith((".tmp", ".old"))]
