"""The floor: the least work any build must do, i.e. list, read and YAML-parse every article.

``floor(root, processes)`` lists ``root/**/*.txt`` (sorted), reads each file, splits off the
front matter (the text between the first two ``---`` lines) and parses it with
``yaml.load(text, Loader=yaml.CSafeLoader)``. With ``processes == 1`` everything runs in this
process; with ``processes > 1`` a ``multiprocessing`` Pool maps over the sorted list with
``imap(chunksize=256)``. Wall seconds are returned; listing and pool start-up are included,
since a real build pays them too. Workers return only a key count, so no parsed data is pickled
back (that cost belongs to the build, not to the floor).

``peak_rss(cmd)`` runs a command and reports its exit code, wall and CPU time and peak RSS.
The command is started through GNU ``/usr/bin/time -f %M`` (or, without it, a tiny Python
fork+exec trampoline), never spawned straight from this process: Linux carries a process's
``ru_maxrss`` across exec and a child starts with its parent's RSS, so ``RUSAGE_CHILDREN`` or a
direct ``wait4`` would report at least the benchmark runner's own RSS (measured: ``false``
"peaked" at 117 MB). ``maxrss_kib`` is the largest *single* process (command or a descendant it
reaped), not the sum over a process pool; ``tree=True`` also samples the whole process tree
from ``/proc`` (sum of PSS, or RSS where PSS is unreadable) every ``interval`` seconds
(0.1 s; the tree's processes are looked up again every ``TREE_RESCAN`` s, see there).

API (for ``benchmarks/run.py``)::

    from floor import floor, peak_rss
    secs = floor(root, 1)                 # wall seconds, one process
    secs = floor(root, os.cpu_count())    # wall seconds, all cores
    r = peak_rss(["mkfeeds", "build", ...], tree=True)
    r.returncode, r.wall, r.maxrss_kib, r.tree_peak_kib, r.user, r.sys, r.via

Script: ``python benchmarks/floor.py DIR [--repeat K] [--chunksize C]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["floor", "peak_rss", "RunResult", "list_articles", "split_front_matter", "parse_file"]

if not getattr(yaml, "__with_libyaml__", False):  # the floor is defined with libyaml
    raise ImportError("PyYAML without libyaml: yaml.CSafeLoader is unavailable")

_Loader = yaml.CSafeLoader


def list_articles(root: Path) -> list[Path]:
    """Every ``*.txt`` under root, recursively, sorted."""
    return sorted(Path(root).rglob("*.txt"))


def split_front_matter(text: str) -> str:
    """The text between the first two ``---`` lines ('' when there is none)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.startswith("---"):
        return ""
    nl = text.find("\n")
    if nl < 0 or text[3:nl].strip():
        return ""
    start = nl + 1
    pos = nl  # search "\n---" from the opening line's newline (front matter may be empty)
    while True:
        pos = text.find("\n---", pos)
        if pos < 0:
            return ""
        eol = text.find("\n", pos + 4)
        if not text[pos + 4:eol if eol >= 0 else len(text)].strip():  # "---" alone on its line
            return text[start:pos + 1]
        pos += 4


def parse_file(path: str | Path) -> int:
    """Read, split and parse one article; returns its number of top-level keys."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    meta = yaml.load(split_front_matter(text), Loader=_Loader)
    return len(meta) if isinstance(meta, dict) else 0


def floor(root: Path, processes: int = 1, chunksize: int = 256,
          start_method: str | None = None) -> float:
    """Wall seconds to list, read and parse every article under root.

    processes <= 0 or None means all cores (``os.cpu_count()``). ``start_method`` is passed to
    ``multiprocessing.get_context`` (default: the platform default, ``fork`` on Linux/3.11).
    """
    if not processes or processes <= 0:
        processes = os.cpu_count() or 1
    t0 = time.perf_counter()
    paths = list_articles(root)
    if processes == 1:
        keys = sum(map(parse_file, paths))
    else:
        ctx = multiprocessing.get_context(start_method)
        with ctx.Pool(processes) as pool:
            keys = sum(pool.imap(parse_file, [str(p) for p in paths], chunksize=chunksize))
    dt = time.perf_counter() - t0
    if paths and keys == 0:
        raise RuntimeError(f"no front matter parsed under {root}")
    return dt


# ---------------------------------------------------------------------------------------------
# Peak memory of a child command
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunResult:
    returncode: int             # the command's exit status (128+N when killed by signal N)
    wall: float                 # seconds
    maxrss_kib: int | None      # largest single-process RSS: the command or a descendant it reaped
    tree_peak_kib: int | None   # sampled peak of the summed PSS (else RSS) of the process tree
    user: float                 # CPU seconds, command + reaped descendants
    sys: float
    via: str                    # "gnu-time" or "trampoline": what measured maxrss_kib


# Why an intermediate process: Linux keeps a process's ru_maxrss across exec, and a child starts
# with its parent's RSS (fork copies it; vfork/posix_spawn share the parent's mm until exec).
# So the ru_maxrss of a command spawned straight from this (possibly large) Python process is at
# least this process's RSS - measured: `false` "used" 117 MB. GNU time (~2 MB) or a bare Python
# trampoline (~10 MB) forks the command instead, and its wait4() gives the command's own peak.
_TRAMPOLINE = r"""
import os, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        os.write(2, f"{argv[0]}: {e}\n".encode())
    os._exit(127)
_, status, ru = os.wait4(pid, 0)
with open(out, "w") as f:
    f.write(f"{ru.ru_maxrss}\n")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""

_gnu_time: str | None | bool = False  # False: not probed yet


def _find_gnu_time() -> str | None:
    global _gnu_time
    if _gnu_time is False:
        _gnu_time = None
        path = shutil.which("time", path="/usr/bin:/bin:/usr/local/bin")
        if path:
            try:
                ok = subprocess.run([path, "-f", "%M", "-o", os.devnull, "true"],
                                    capture_output=True, timeout=10).returncode == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
            if ok:
                _gnu_time = path
    return _gnu_time


_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split(None, 2)[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def _mem_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_KIB
    except OSError:
        return 0


def _tree_pids(root_pid: int) -> list[int]:
    kids = _children_map()
    found, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(kids.get(pid, ()))
    return found


# The sampler shares the cores with the build it measures: scanning all of /proc (to find
# the tree's processes) takes ~3 ms here, and reading a process's PSS walks its page
# tables. At 50 Hz both together took about a tenth of the build's CPU on 2 cores, which
# made every build look ~10% slower next to the floor (which is not sampled). So the
# tree is looked up at each sample during the first TREE_RESCAN seconds (when the build
# and its first workers start), then every TREE_RESCAN seconds (workers live for seconds),
# and sampled every ``interval`` (default 0.1 s).
TREE_RESCAN = 1.0


def peak_rss(cmd: list[str], *, cwd: str | Path | None = None, env: dict[str, str] | None = None,
             tree: bool = False, interval: float = 0.1, stdout=subprocess.DEVNULL,
             stderr=None) -> RunResult:
    """Run cmd to completion; return its exit code, wall and CPU time and peak memory.

    ``maxrss_kib`` is exact but per process (for a process pool: the largest worker or the
    parent, not the sum). ``tree=True`` adds ``tree_peak_kib``: the whole tree's memory sampled
    from /proc every ``interval`` s (PSS, so pages shared after fork are not counted twice);
    sampling can miss spikes shorter than the interval. ``stdout`` defaults to DEVNULL.
    """
    fd, out = tempfile.mkstemp(prefix="peak_rss_", suffix=".txt")
    os.close(fd)
    gnu = _find_gnu_time()
    if gnu:
        wrapped, via = [gnu, "-f", "%M", "-o", out, "--", *map(str, cmd)], "gnu-time"
    else:
        wrapped, via = [sys.executable, "-c", _TRAMPOLINE, out, *map(str, cmd)], "trampoline"
    peak = [0]
    done = threading.Event()
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(wrapped, cwd=cwd, env=env, stdout=stdout, stderr=stderr,
                                start_new_session=True)

        def sample() -> None:
            pids: list[int] = []
            found_at = -TREE_RESCAN
            while not done.is_set():
                try:
                    now = time.perf_counter()
                    if now - t0 < TREE_RESCAN or now - found_at >= TREE_RESCAN:  # each sample at first
                        pids, found_at = _tree_pids(proc.pid), now
                    peak[0] = max(peak[0], sum(_mem_kib(pid) for pid in pids))
                except Exception:  # a process vanished mid-scan: sample again
                    pass
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True) if tree else None
        if sampler:
            sampler.start()
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)  # the command too, not just the wrapper
            proc.wait()
            raise
        finally:
            done.set()
            if sampler:
                sampler.join()
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # so Popen never waits again
        with open(out) as f:
            last = [line for line in f.read().splitlines() if line.strip()]
        maxrss = int(last[-1]) if last and last[-1].strip().isdigit() else None
    finally:
        os.unlink(out)
    return RunResult(
        returncode=code if code >= 0 else 128 - code,
        wall=wall,
        maxrss_kib=maxrss,
        tree_peak_kib=peak[0] if tree else None,
        user=ru.ru_utime,
        sys=ru.ru_stime,
        via=via,
    )


def _cpu_seconds() -> float:
    """User+system CPU of this process and its reaped children (pool workers are reaped)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Measure the read+parse floor of an article folder.")
    ap.add_argument("dir", type=Path)
    ap.add_argument("--repeat", type=int, default=3, help="runs per setting (default 3)")
    ap.add_argument("--chunksize", type=int, default=256)
    a = ap.parse_args(argv)
    n = len(list_articles(a.dir))
    if n == 0:
        print(f"no *.txt under {a.dir}", file=sys.stderr)
        return 1
    cores = os.cpu_count() or 1
    print(f"{n} articles in {a.dir}; {cores} cores; libyaml {yaml.__version__}")
    for procs in sorted({1, cores}):
        runs, cpus = [], []
        for _ in range(a.repeat):
            c0 = _cpu_seconds()
            runs.append(floor(a.dir, procs, a.chunksize))
            cpus.append(_cpu_seconds() - c0)
        best, med = min(runs), statistics.median(runs)
        print(f"{procs:>3} proc: best {best:.3f} s, median {med:.3f} s  |  "
              f"{best / n * 1e3:.3f} ms/article wall, "
              f"{best * procs / n * 1e3:.3f} ms/article/core  |  "
              f"cpu {min(cpus) / n * 1e3:.3f} ms/article (less sensitive to a busy machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
