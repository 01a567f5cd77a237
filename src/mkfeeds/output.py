"""Writing feeds: atomic, write-if-changed, never outside the output folder.

Each file goes to a hidden temp file in the same folder, is fsynced, then renamed over
the old one, so a reader polling at any moment sees the old file or the new one, whole.
A file whose bytes did not change is not touched (its mtime stays, HTTP caches stay warm).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from mkfeeds.errors import Interrupted, OutputError

FILE_MODE = 0o644
TEMP_SUFFIX = ".tmp"
BACKUP_SUFFIX = ".old"
STALE_SECONDS = 600.0  # a temp file this old was left by a build that was killed


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]


def safe_join(root: Path, relative: str) -> Path:
    """``root / relative`` for a relative POSIX path that cannot climb out of ``root``."""
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or any(p in ("", ".", "..") for p in parts) \
            or any("\\" in p or "\x00" in p for p in parts):
        raise OutputError(relative, "is not a safe output path")
    return root.joinpath(*parts)


def prepare_folder(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(str(root), f"cannot create the output folder ({exc.strerror})") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise OutputError(str(root), "the output folder is not writable")


class Stream(Protocol):
    """Files written as they are produced, never held whole: ``produce`` is handed one
    sink per name (each appends bytes to that file) and writes them all in one pass."""

    names: tuple[str, ...]

    def produce(self, sinks: dict[str, Callable[[bytes], object]]) -> None: ...


def write_all(root: Path, files: dict[str, bytes], streams: Sequence[Stream] = ()) -> WriteResult:
    """Write every file (relative path -> bytes, and the files of ``streams``) under
    ``root``; skip unchanged ones.

    All or nothing: every changed file is first written to a temp file; only when all
    are on disk are they renamed into place. If anything fails, the files already
    renamed are put back as they were, every temp file is removed, and the previous
    feeds stay whole and consistent with each other."""
    prepare_folder(root)
    real_root = os.path.realpath(root)
    changed: list[tuple[str, Path]] = []
    unchanged = []
    for relative in sorted(files):
        target = safe_join(root, relative)
        _prepare_parent(target, relative, real_root)
        if _same_bytes(target, files[relative]):
            unchanged.append(relative)
        else:
            changed.append((relative, target))
    staged: list[tuple[Path, str]] = []
    file_changes = list(changed)
    committed = False
    try:
        for stream in streams:
            for relative, target, temp_name in _stage_stream(root, real_root, stream):
                if _same_files(target, temp_name):
                    _unlink_quietly(temp_name)
                    unchanged.append(relative)
                else:
                    staged.append((target, temp_name))
                    changed.append((relative, target))
        _stage_all(file_changes, files, staged)
        staged.sort(key=lambda item: str(item[0]))
        with interrupts_held():  # all renames or none: Ctrl-C waits for the last one
            _commit(staged)
            committed = True
        written = dict.fromkeys(target.parent for target, _ in staged)  # a feed set is hundreds of folders
        for folder in written:
            _fsync_folder(folder)
    except KeyboardInterrupt:
        if committed:
            raise Interrupted(published=True) from None
        raise
    finally:
        for _, temp_name in staged:
            _unlink_quietly(temp_name)  # gone already when committed
    return WriteResult(tuple(sorted(relative for relative, _ in changed)), tuple(sorted(unchanged)))


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block ends, then let it through: a commit is never
    cut between two renames, so an interrupt can say truthfully which feeds are in place.
    Only the main thread receives signals; elsewhere there is nothing to hold."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stage_stream(root: Path, real_root: str, stream: Stream) -> list[tuple[str, Path, str]]:
    """Write a stream's files into temp files, fsynced: (relative, target, temp name)."""
    opened: list[tuple[str, Path, str, Any]] = []
    try:
        for relative in stream.names:
            target = safe_join(root, relative)
            _prepare_parent(target, relative, real_root)
            try:
                fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
            except OSError as exc:
                raise OutputError(str(target), f"cannot write ({exc.strerror or exc})") from None
            opened.append((relative, target, temp_name, os.fdopen(fd, "wb")))
        try:
            stream.produce({relative: handle.write for relative, _, _, handle in opened})
            for _, _, temp_name, handle in opened:
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
                os.chmod(temp_name, FILE_MODE)
        except OSError as exc:
            raise OutputError(str(opened[0][1]), f"cannot write ({exc.strerror or exc})") from None
    except BaseException:
        for _, _, temp_name, handle in opened:
            handle.close()
            _unlink_quietly(temp_name)
        raise
    return [(relative, target, temp_name) for relative, target, temp_name, _ in opened]


def _same_files(target: Path, temp_name: str) -> bool:
    """Does ``target`` hold exactly the bytes of the temp file? Read a block at a time."""
    try:
        if target.is_symlink() or target.stat().st_size != os.stat(temp_name).st_size:
            return False
        with open(target, "rb") as old, open(temp_name, "rb") as new:
            while True:
                a, b = old.read(1 << 20), new.read(1 << 20)
                if a != b:
                    return False
                if not a:
                    return True
    except OSError:
        return False


STAGING_THREADS = 8  # fsync waits for the disk, not the CPU: a few at once overlap


def _stage_all(changed: list[tuple[str, Path]], files: dict[str, bytes],
               staged: list[tuple[Path, str]]) -> None:
    """Stage every changed file, appending (target, temp name) to ``staged`` in order;
    several at a time when there are many (a feed set with taxonomies is hundreds of
    files, each waiting on its fsync). The first failure is raised once all have ended,
    with everything staged listed, for the caller to remove."""
    if len(changed) < 4:
        for relative, target in changed:
            staged.append((target, _stage(target, files[relative])))
        return
    from concurrent.futures import ThreadPoolExecutor

    failure = None
    with interrupts_held():  # Ctrl-C waits until every temp file is known, so none is left behind
        with ThreadPoolExecutor(min(STAGING_THREADS, len(changed))) as pool:
            futures = [pool.submit(_stage, target, files[relative]) for relative, target in changed]
        for (_, target), future in zip(changed, futures):
            if future.exception() is None:
                staged.append((target, future.result()))
            elif failure is None:
                failure = future.exception()
    if failure is not None:
        raise failure


def _prepare_parent(target: Path, relative: str, real_root: str) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(relative, f"cannot create its folder ({exc.strerror})") from None
    if os.path.commonpath([os.path.realpath(target.parent), real_root]) != real_root:
        raise OutputError(relative, "leads outside the output folder (through a symlink)")


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.is_symlink() or path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def write_atomic(target: Path, data: bytes) -> None:
    """Replace one file atomically: temp file in the same folder, fsync, rename."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(str(target), f"cannot write ({exc.strerror})") from None
    temp_name = _stage(target, data)
    try:
        _commit([(target, temp_name)])
    finally:
        _unlink_quietly(temp_name)
    _fsync_folder(target.parent)


def _stage(target: Path, data: bytes) -> str:
    """Write ``data`` to a hidden temp file next to ``target`` and fsync it; return its
    name. Readers never look at it: its name is not a feed's name."""
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX,
                                         dir=target.parent)
    except OSError as exc:
        raise OutputError(str(target), f"cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, FILE_MODE)
    except BaseException as exc:
        _unlink_quietly(temp_name)
        if isinstance(exc, OSError):
            raise OutputError(str(target), f"cannot write ({exc.strerror or exc})") from None
        raise
    return temp_name


def _commit(staged: list[tuple[Path, str]]) -> None:
    """Rename each temp file over its target. A failure part-way puts back the targets
    already replaced (from hard-link backups), so the set of feeds never mixes builds."""
    done: list[tuple[Path, str | None, bool]] = []  # target, its backup, whether it existed
    target = Path()
    try:
        for target, temp_name in staged:
            existed = os.path.lexists(target)
            backup = _backup(target) if existed else None
            try:
                os.replace(temp_name, target)  # replaces a symlink itself, never writes through it
            except BaseException:
                if backup:
                    _unlink_quietly(backup)
                raise
            done.append((target, backup, existed))
    except BaseException as exc:
        _roll_back(done)
        if isinstance(exc, OSError):
            raise OutputError(str(target), f"cannot write ({exc.strerror or exc})") from None
        raise
    for _, backup, _ in done:
        if backup:
            _unlink_quietly(backup)


def _backup(target: Path) -> str | None:
    """A hidden hard link to the current ``target`` (the link itself if it is one), so a
    failed commit can put it back; None where the file system has no hard links."""
    name = f"{target.parent}/.{target.name}.{secrets.token_hex(6)}{BACKUP_SUFFIX}"
    try:
        os.link(target, name, follow_symlinks=False)
    except OSError:
        return None
    return name


def _roll_back(done: list[tuple[Path, str | None, bool]]) -> None:
    for target, backup, existed in reversed(done):
        try:
            if backup:
                os.replace(backup, target)
            elif not existed:
                os.unlink(target)  # it was not there before this build
        except OSError:
            pass  # best effort: the original error is the one worth reporting


def _unlink_quietly(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


MANIFEST = ".mkfeeds-manifest.json"


MANIFEST_MAX = 64 << 20  # bytes; a manifest of a million feeds' files is far smaller


def read_manifest(root: Path) -> frozenset[str]:
    """The files an earlier build wrote. A missing, unreadable or odd manifest (a FIFO, a
    device, a folder: opened without blocking and checked) means none: mkfeeds never
    deletes a file it cannot prove it wrote."""
    try:
        fd = os.open(root / MANIFEST, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return frozenset()
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MANIFEST_MAX:
            return frozenset()
        with os.fdopen(os.dup(fd), "rb") as handle:
            files = json.loads(handle.read(MANIFEST_MAX + 1).decode("utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()
    finally:
        os.close(fd)
    return frozenset(n for n in files if isinstance(n, str)) if isinstance(files, list) else frozenset()


def read_archive_ends(root: Path) -> dict[str, Any]:
    """Where the archive pages of the last build end, feed key -> as written (the
    manifest holds them, so they live and go with the pages); none when unreadable or
    odd (opened without blocking and checked, as ``read_manifest`` does)."""
    try:
        fd = os.open(root / MANIFEST, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return {}
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MANIFEST_MAX:
            return {}
        with os.fdopen(os.dup(fd), "rb") as handle:
            ends = json.loads(handle.read(MANIFEST_MAX + 1).decode("utf-8")).get("archives", {})
    except (OSError, ValueError, AttributeError):
        return {}
    finally:
        os.close(fd)
    return ends if isinstance(ends, dict) else {}


LOCK_WAIT = 300.0  # seconds to wait for another build writing to the same folder


@contextmanager
def publishing(root: Path, state_folder: Path | None = None) -> Iterator[list[str]]:
    """Hold the output folder's build lock (an ``flock`` on the folder itself: nothing
    extra is published) for the writing phase, and first remove every leftover of
    mkfeeds' own naming (``.NAME.RANDOM.tmp`` temp files, ``.NAME.HEX.old`` backups) in
    the whole output folder and in the state folder: with the lock held no other build
    can be writing them, so they are a killed build's, whatever this build writes. Yields
    the leftovers removed (relative paths). Where the file system has no locks, only
    leftovers old enough to be surely dead are removed."""
    prepare_folder(root)
    fd = _lock(root)
    try:
        older_than = 0.0 if fd is not None else STALE_SECONDS
        removed = remove_leftovers(root, older_than)
        if state_folder is not None and state_folder.is_dir():
            removed += [str(state_folder / name) for name in remove_leftovers(state_folder, older_than, deep=False)]
        yield removed
    finally:
        if fd is not None:
            os.close(fd)  # closing releases the lock


def _lock(root: Path) -> int | None:
    try:
        fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise OutputError(str(root), f"another build has been writing here for {LOCK_WAIT:.0f} s; "
                                  "try again when it has finished") from None
            time.sleep(0.05)
        except OSError:  # no locks on this file system
            os.close(fd)
            return None


_LEFTOVER = re.compile(r"^\..+\.(?:[a-z0-9_]{8}\.tmp|[0-9a-f]{12}\.old)$")  # mkstemp's and _backup's names


def remove_leftovers(root: Path, older_than: float = 0.0, *, deep: bool = True) -> list[str]:
    """Remove the temp and backup files of mkfeeds' naming under ``root`` (in its
    subfolders too with ``deep``; symlinks are never followed), if older than
    ``older_than`` seconds. Returns their paths relative to ``root``."""
    limit = time.time() - older_than
    removed: list[str] = []
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if deep:
                        folders.append(Path(entry.path))
                elif (_LEFTOVER.match(entry.name) and entry.is_file(follow_symlinks=False)
                      and (not older_than or entry.stat(follow_symlinks=False).st_mtime < limit)):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path).relative_to(root).as_posix())
            except OSError:
                continue
    return sorted(removed)


def remove_stale(root: Path, relatives: set[str]) -> list[str]:
    """Delete files an earlier build wrote and this one does not, then the folders
    that leaves empty. Only regular files inside ``root`` are touched."""
    removed = []
    real_root = os.path.realpath(root)
    for relative in sorted(relatives):
        try:
            path = safe_join(root, relative)
        except OutputError:
            continue
        if os.path.commonpath([os.path.realpath(path.parent), real_root]) != real_root:
            continue
        try:
            if path.is_file() and not path.is_symlink():
                path.unlink()
                removed.append(relative)
        except OSError:
            continue
        folder = path.parent
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()  # only succeeds when empty
            except OSError:
                break
            folder = folder.parent
    return removed
