"""The stat floor: the least work a rebuild that trusts file metadata must do.

``stat_floor(root)`` walks ``root`` with ``os.scandir`` (recursively, hidden entries
included, symlinks not followed) and calls ``stat`` on every file: what a no-op rebuild
needs at least to know that nothing changed. ``benchmarks/run.py`` runs it as a fresh child
process (``python benchmarks/statfloor.py DIR``) and times the whole process, start to exit,
as it times the builds, so that a no-op rebuild can be quoted as a multiple of it. This
module imports nothing but the standard library's ``os``, ``sys`` and ``time`` so that the
child's start-up is the interpreter's alone.

Script: ``python benchmarks/statfloor.py DIR`` prints ``<files> files, <bytes> bytes,
<seconds> s`` (the seconds of the walk alone, without the interpreter's start-up).
"""

from __future__ import annotations

import os
import sys
import time

__all__ = ["stat_floor"]


def stat_floor(root: str) -> tuple[int, int]:
    """(number of files, their total size) under root, each file stat()ed once."""
    files = size = 0
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    size += entry.stat(follow_symlinks=False).st_size  # a stat() call on Linux
                    files += 1
    return files, size


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python benchmarks/statfloor.py DIR", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    files, size = stat_floor(argv[0])
    print(f"{files} files, {size} bytes, {time.perf_counter() - t0:.3f} s")
    return 0 if files else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
