"""A fault campaign: SIGKILL real builds, cold and warm, at random moments, while a reader
polls the feeds; after each kill the next build must publish exactly what a build from
scratch publishes.

``python benchmarks/faults.py [--kills 100] [--articles 2000] [--seed 0]`` generates a
corpus (``corpus.generate``), builds it once, then repeats: edit some articles
(``corpus.touch``), start ``python -m mkfeeds build`` (with its state folder, so warm
builds are killed too; every fifth round without the state, a cold build) and kill it
after a random fraction of a build's time; then build again to the end and compare every
file of the output folder with a ``--no-cache`` build of the same articles into another
folder. It reports:

- **kills**, and how many landed while temp files were on disk (the write phase);
- **reads** by the polling reader, and **torn** ones (a feed that does not parse);
- **mismatches**: rounds whose recovered output differs from the from-scratch build;
- **hangs**: builds that did not end within ``--timeout`` seconds;
- **leftovers**: temp or backup files left in the output folder after a recovering build.

It exits 1 if any of the last four is not zero. The figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).parent))
import corpus  # noqa: E402

FEEDS = ("rss.xml", "atom.xml", "feed.json")


def command(root: Path, out: str, state: bool) -> list[str]:
    return [sys.executable, "-m", "mkfeeds", "build", "-i", str(root / "in"), "-o", str(root / out),
            "--base-url", "https://feeds.example.org/", "--quiet",
            *(["--cache", str(root / "state")] if state else ["--no-cache"])]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class Reader(threading.Thread):
    """Reads the main feeds as fast as it can; a feed that does not parse is torn."""

    def __init__(self, out: Path) -> None:
        super().__init__(daemon=True)
        self.out, self.stop, self.reads, self.torn = out, threading.Event(), 0, 0

    def run(self) -> None:
        while not self.stop.is_set():
            for name in FEEDS:
                try:
                    data = (self.out / name).read_bytes()
                except FileNotFoundError:
                    continue
                self.reads += 1
                try:
                    json.loads(data) if name.endswith(".json") else etree.fromstring(data)
                except (ValueError, etree.XMLSyntaxError):
                    self.torn += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="mkfeeds-faults-") as folder:
        root = Path(folder)
        paths = corpus.generate(root / "in", args.articles, seed=args.seed)
        started = time.monotonic()
        subprocess.run(command(root, "out", True), check=True, timeout=args.timeout)
        duration = time.monotonic() - started
        reader = Reader(root / "out")
        reader.start()
        in_write_phase = mismatches = hangs = leftovers = 0
        try:
            for kill in range(args.kills):
                corpus.touch(paths, fraction=0.02, seed=args.seed * 100_000 + kill + 1)
                warm = kill % 5 != 0
                process = subprocess.Popen(command(root, "out", warm), stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.0, duration * 1.2))
                in_write_phase += any(p.name.endswith(".tmp") for p in (root / "out").rglob(".*"))
                process.send_signal(signal.SIGKILL)
                process.wait()
                try:
                    subprocess.run(command(root, "out", True), timeout=args.timeout, capture_output=True)
                    subprocess.run(command(root, "expected", False), timeout=args.timeout, capture_output=True)
                except subprocess.TimeoutExpired:
                    hangs += 1
                    continue
                leftovers += sum(p.name.endswith((".tmp", ".old")) for p in (root / "out").rglob(".*"))
                got, wanted = snapshot(root / "out"), snapshot(root / "expected")
                if got != wanted:
                    mismatches += 1
                    differ = sorted(n for n in set(got) | set(wanted) if got.get(n) != wanted.get(n))
                    kept = Path(tempfile.mkdtemp(prefix=f"mkfeeds-mismatch-{kill}-"))
                    for name in ("out", "expected", "in", "state"):
                        subprocess.run(["cp", "-a", str(root / name), str(kept / name)], check=False)
                    print(f"kill {kill} ({'warm' if warm else 'cold'}): {len(differ)} files differ, "
                          f"{differ[:5]}; kept in {kept}", flush=True)
                subprocess.run(["rm", "-rf", str(root / "expected")], check=True)
        finally:
            reader.stop.set()
            reader.join(timeout=10)
    print(f"{args.articles:,} articles; kills {args.kills} ({in_write_phase} while temp files were on disk); "
          f"reads {reader.reads:,}, torn {reader.torn}; mismatches {mismatches}; hangs {hangs}; "
          f"leftovers {leftovers}")
    return 1 if reader.torn or mismatches or hangs or leftovers else 0


if __name__ == "__main__":
    sys.exit(main())
