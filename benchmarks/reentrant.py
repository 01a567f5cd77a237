"""Re-entrancy: the public build function called N times in ONE process.

``python benchmarks/reentrant.py [--builds 200] [--articles 1000]`` generates a corpus
(``corpus.generate``, dated an hour back), then calls ``mkfeeds.build.build(settings, now)``
``--builds`` times in this process, with settings from ``mkfeeds.config.load_config`` and
``now = datetime.now(timezone.utc)`` at each call, as a long-lived host (a watcher, a server)
would. Before every ``--edit-every``-th call (default 10) ``corpus.touch`` rewrites the
title and excerpt of ``--touch`` articles (default 5). It reports:

- **same bytes**: at every ``--check-every``-th call (default 50; and the first) a fresh
  process, ``python -m mkfeeds build`` with no cache and no output folder, builds the same
  corpus into another folder, which must be byte for byte the in-process build's output
  (every file, the manifest included);
- **growth after the first 10 builds** (``--settle``): open file descriptors
  (``/proc/self/fd``), threads (``/proc/self/task``), child processes
  (``/proc/self/task/*/children``) and resident memory (``VmRSS`` of ``/proc/self/status``,
  MiB), each read after every build: the value after build 10, the largest after it, and
  the last;
- each build's wall time (the first, a cold build, apart).

It prints figures and exits 1 when a check found different bytes or fds, threads or
children grew (RSS growth is reported, not judged). Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import generate, touch

BASE_URL = "https://bench.example.org/"
BACKDATE_S = 3600


@dataclass(frozen=True)
class Probe:
    """What a leak would make grow, read from /proc after a build."""

    fds: int
    threads: int
    children: int
    rss_mib: float


def probe() -> Probe:
    tasks = os.listdir("/proc/self/task")
    children = 0
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                children += len(f.read().split())
        except OSError:  # the thread ended meanwhile
            pass
    rss = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    return Probe(len(os.listdir("/proc/self/fd")), len(tasks), children, rss)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def differences(ours: Path, theirs: Path) -> list[str]:
    """What differs between two output folders ([] when they are byte for byte the same)."""
    a, b = tree_bytes(ours), tree_bytes(theirs)
    found = [f"only in-process: {name}" for name in sorted(a.keys() - b.keys())]
    found += [f"only fresh: {name}" for name in sorted(b.keys() - a.keys())]
    found += [f"differs: {name}" for name in sorted(a.keys() & b.keys()) if a[name] != b[name]]
    return found


def fresh_build(root: Path, out: Path, cache: Path) -> None:
    """The same corpus built by a new process, from nothing."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = [sys.executable, "-m", "mkfeeds", "build", "--input", str(root), "--output", str(out),
           "--cache", str(cache), "--base-url", BASE_URL, "--quiet"]
    code = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode
    if code not in (0, 1):  # 1: built, some articles rejected
        sys.exit(f"the fresh build failed with exit status {code}: {' '.join(cmd)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--builds", type=int, default=200)
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--edit-every", type=int, default=10, help="touch articles before every K-th build")
    ap.add_argument("--touch", type=int, default=5, help="how many articles each edit rewrites")
    ap.add_argument("--check-every", type=int, default=50, help="compare with a fresh process every K-th build")
    ap.add_argument("--settle", type=int, default=10, help="growth is counted from this build on")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=HERE / ".corpus" / "reentrant")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)

    from mkfeeds.build import build
    from mkfeeds.config import load_config

    work: Path = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    root, out, cache = work / "articles", work / "out", work / "state"
    paths = generate(root, args.articles, args.seed)
    stamp = time.time_ns() - BACKDATE_S * 10**9
    for path in paths:
        os.utime(path, ns=(stamp, stamp))
    settings = load_config(None, {"input": str(root), "output": str(out), "cache": str(cache),
                                  "base-url": BASE_URL, "quiet": True}, Path.cwd())

    walls: list[float] = []
    probes: list[Probe] = []
    checks: list[tuple[int, list[str]]] = []
    edited = 0
    for call in range(1, args.builds + 1):
        if args.edit_every and call % args.edit_every == 0:
            edited += len(touch(paths, args.touch / len(paths), seed=args.seed + call))
        t0 = time.perf_counter()
        build(settings, datetime.now(timezone.utc))
        walls.append(time.perf_counter() - t0)
        probes.append(probe())
        if call == 1 or call % args.check_every == 0 or call == args.builds:
            fresh_build(root, work / "fresh-out", work / "fresh-state")
            found = differences(out, work / "fresh-out")
            checks.append((call, found))
            now = probes[-1]
            print(f"build {call}: {'same bytes' if not found else f'{len(found)} files differ'} "
                  f"as a fresh process; fds {now.fds}, threads {now.threads}, children {now.children}, "
                  f"RSS {now.rss_mib:.1f} MiB", file=sys.stderr)

    settle = min(args.settle, len(probes)) - 1
    base, rest, last = probes[settle], probes[settle:], probes[-1]
    print(f"{args.builds} builds of {args.articles:,} articles in one process; {edited} article rewrites "
          f"({args.touch} before every {args.edit_every}th build)")
    print(f"build time: first (cold) {walls[0]:.2f} s; then median {statistics.median(walls[1:]):.3f} s, "
          f"max {max(walls[1:]):.3f} s" if len(walls) > 1 else f"build time: {walls[0]:.2f} s")
    bad_checks = [(call, found) for call, found in checks if found]
    print(f"same bytes as a fresh process: {len(checks) - len(bad_checks)} of {len(checks)} checks "
          f"(builds {', '.join(str(c) for c, _ in checks)})")
    for call, found in bad_checks:
        print(f"  build {call}: " + "; ".join(found[:5]) + (" ..." if len(found) > 5 else ""))
    print(f"{'after build':<14}{'fds':>6}{'threads':>9}{'children':>10}{'RSS MiB':>10}")
    print(f"{'1':<14}{probes[0].fds:>6}{probes[0].threads:>9}{probes[0].children:>10}{probes[0].rss_mib:>10.1f}")
    print(f"{settle + 1:<14}{base.fds:>6}{base.threads:>9}{base.children:>10}{base.rss_mib:>10.1f}")
    print(f"{'max after':<14}{max(p.fds for p in rest):>6}{max(p.threads for p in rest):>9}"
          f"{max(p.children for p in rest):>10}{max(p.rss_mib for p in rest):>10.1f}")
    print(f"{args.builds:<14}{last.fds:>6}{last.threads:>9}{last.children:>10}{last.rss_mib:>10.1f}")
    growth = Probe(max(p.fds for p in rest) - base.fds, max(p.threads for p in rest) - base.threads,
                   max(p.children for p in rest) - base.children, max(p.rss_mib for p in rest) - base.rss_mib)
    print(f"growth after build {settle + 1} (max - value at build {settle + 1}): fds {growth.fds:+d}, "
          f"threads {growth.threads:+d}, children {growth.children:+d}, RSS {growth.rss_mib:+.1f} MiB "
          f"(last - build {settle + 1}: {last.rss_mib - base.rss_mib:+.1f} MiB)")
    if len(probes) > settle + 1:
        every = max(1, args.check_every)
        marks = sorted({settle, *range(every - 1, len(probes), every), len(probes) - 1})
        print("RSS MiB after builds " + ", ".join(f"{k + 1}: {probes[k].rss_mib:.1f}" for k in marks))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if bad_checks or growth.fds > 0 or growth.threads > 0 or growth.children > 0 else 0


if __name__ == "__main__":
    sys.exit(main())
