"""Writing feeds: atomic, write-if-changed, never outside the output folder.

Each file goes to a hidden temp file in the same folder, is fsynced, then renamed over
the old one, so a reader polling at any moment sees the old file or the new one, whole.
A file whose bytes did not change is not touched (its mtime stays, HTTP caches stay warm).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mkfeeds.errors import OutputError

FILE_MODE = 0o644


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


def write_all(root: Path, files: dict[str, bytes]) -> WriteResult:
    """Write every file (relative path -> bytes) under ``root``; skip unchanged ones."""
    prepare_folder(root)
    real_root = os.path.realpath(root)
    written, unchanged = [], []
    for relative in sorted(files):
        target = safe_join(root, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.commonpath([os.path.realpath(target.parent), real_root]) != real_root:
            raise OutputError(relative, "leads outside the output folder (through a symlink)")
        if _same_bytes(target, files[relative]):
            unchanged.append(relative)
            continue
        write_atomic(target, files[relative])
        written.append(relative)
    return WriteResult(tuple(written), tuple(unchanged))


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.is_symlink() or path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def write_atomic(target: Path, data: bytes) -> None:
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(str(target), f"cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, FILE_MODE)
        os.replace(temp_name, target)  # replaces a symlink itself, never writes through it
    except BaseException as exc:
        try:
            os.unlink(temp_name)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(str(target), f"cannot write ({exc.strerror or exc})") from None
        raise
    _fsync_folder(folder)


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


def remove_files(root: Path, relatives: list[str]) -> list[str]:
    """Delete files mkfeeds wrote before and no longer writes (from its manifest)."""
    removed = []
    for relative in relatives:
        try:
            path = safe_join(root, relative)
        except OutputError:
            continue
        try:
            if path.is_file() and not path.is_symlink():
                path.unlink()
                removed.append(relative)
        except OSError:
            continue
    return removed
