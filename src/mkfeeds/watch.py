"""The watch loop of ``mkfeeds serve``: a change to an article or the config file starts
an incremental rebuild in the same process.

The file watcher (``watchfiles``: Rust ``notify``, inotify on Linux, which falls back to
polling where notifications cannot be had) says which paths changed, so a rebuild never
lists the input folder again: the process keeps the listing of the last build and
restats only the paths named (``Listing``). A change the listing cannot place (a folder
created, moved or removed) lists the folder again, once. The config files are a handful
of paths, looked at on every turn of the loop.

A rebuild that would reject an article the last published build did not reject (a
broken edit) writes nothing: its problems are told and the last good feeds stay served.
Fixing the file rebuilds and publishes again.
"""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from mkfeeds.build import BuildResult, Memory, NotPublished, StrictFailure, build, prepare_rendering
from mkfeeds.config import Settings
from mkfeeds.errors import MkfeedsError
from mkfeeds.parallel import allowed_processes
from mkfeeds.source import ARTICLE_SUFFIXES, SourceFile, discover, source_file

STEP_MS = 20  # a change is built once no other has come for this long (an editor's save is several)
DEBOUNCE_MS = 400  # changes coming without a pause are built after this long anyway
TICK_MS = 250  # how often the config files and the clock are looked at when nothing changes


class Listing:
    """The article files of the last build, sorted by path as ``discover`` gives them,
    kept up to date from the paths a watcher names."""

    def __init__(self, root: Path, sources: Sequence[SourceFile]) -> None:
        self.root = root
        self.top = os.path.abspath(root)
        self.sources = list(sources)
        self.rels = [source.rel for source in self.sources]

    @classmethod
    def of(cls, settings: Settings) -> Listing:
        return cls(settings.input, discover(settings.input, allowed_processes(settings.jobs)))

    def relative(self, path: str) -> str | None:
        """``path`` relative to the input folder (POSIX separators), None if outside."""
        absolute = os.path.abspath(path)
        if not absolute.startswith(self.top + os.sep):
            return None
        return absolute[len(self.top) + 1:].replace(os.sep, "/")

    def concerns(self, path: str) -> bool:
        """Whether a change at ``path`` can change the listing: an article file's name
        under the input folder, or a folder (an editor's temp file cannot)."""
        rel = self.relative(path)
        if rel is None:
            return False
        if rel.lower().endswith(ARTICLE_SUFFIXES):
            return True
        return _real_folder(path) or self._holds(rel)

    def update(self, paths: Iterable[str]) -> bool:
        """Restat the named paths; False when one of them cannot be placed without
        listing the folder again (a folder appeared, went or moved)."""
        for path in paths:
            rel = self.relative(path)
            if rel is None:
                continue
            if not rel.lower().endswith(ARTICLE_SUFFIXES):
                if _real_folder(path) or self._holds(rel):
                    return False  # a folder came or went: what is in it is unknown
                continue  # an editor's temp file, a swap file: not an article
            found = source_file(self.root, rel)
            at = bisect_left(self.rels, rel)
            present = at < len(self.rels) and self.rels[at] == rel
            if found is None and present:
                del self.rels[at], self.sources[at]
            elif found is not None and present:
                self.sources[at] = found
            elif found is not None:
                self.rels.insert(at, rel)
                self.sources.insert(at, found)
        return True

    def _holds(self, rel: str) -> bool:
        at = bisect_left(self.rels, rel + "/")
        return at < len(self.rels) and self.rels[at].startswith(rel + "/")


def _real_folder(path: str) -> bool:
    """A folder, not a link to one (``discover`` never follows those)."""
    return os.path.isdir(path) and not os.path.islink(path)


@dataclass(frozen=True)
class Rebuild:
    """One turn of the loop, for the command line to tell in one line."""

    changed: tuple[str, ...]  # the paths that started it, as the user would write them
    seconds: float
    result: BuildResult | None = None  # published
    refused: BuildResult | None = None  # a broken edit: nothing written, the last good feeds stay
    error: MkfeedsError | None = None  # a config that does not load, an unwritable output


def rejected_paths(result: BuildResult) -> set[str]:
    return {problem.path for problem in result.problems if problem.severity == "error"}


class Session:
    """What the process knows between builds: the settings, the listing, the last
    published result (whose rejections a rebuild may repeat, but not add to), and the
    build's memory (what the engine keeps so that a rebuild goes through the changed
    files only)."""

    def __init__(self, load_settings: Callable[[], Settings]) -> None:
        self.load_settings = load_settings
        self.settings = load_settings()
        self.listing: Listing | None = None
        self.last_good: BuildResult | None = None
        self.next_due: datetime | None = None  # of the last build tried, published or not
        self.relist = True
        self.memory = Memory()

    def first_build(self, now: datetime | None = None) -> BuildResult:
        """The build before serving; its errors are the command's to report."""
        self.listing = Listing.of(self.settings)
        self.relist = False
        result = build(self.settings, now or datetime.now(timezone.utc), sources=self.listing.sources,
                       memory=self.memory)
        self.last_good, self.next_due = result, result.next_due
        prepare_rendering()
        return result

    def catch_up(self) -> Rebuild | None:
        """Once the watcher is up: rebuild for the files that changed since the first
        build listed them (a watcher cannot tell what happened before it started)."""
        assert self.listing is not None
        fresh = Listing.of(self.settings)
        old = {source.rel: source for source in self.listing.sources}
        new = {source.rel: source for source in fresh.sources}
        differ = [rel for rel in old.keys() | new.keys() if old.get(rel) != new.get(rel)]
        if not differ:
            return None
        self.listing = fresh
        return self.rebuild([os.path.join(fresh.top, rel) for rel in differ])

    def concerning(self, paths: Iterable[str]) -> list[str]:
        """The paths of these that can change the build."""
        listing = self.listing
        return sorted(path for path in paths if listing is None or listing.concerns(path))

    def rebuild(self, changed: Iterable[str], *, config_changed: bool = False) -> Rebuild:
        started = time.perf_counter()
        paths = sorted(set(changed))
        shown = tuple(_shown(path) for path in paths)
        try:
            if config_changed:
                settings = self.load_settings()
                if settings != self.settings:
                    self.settings, self.relist = settings, True
            if self.listing is None or self.relist or self.listing.root != self.settings.input \
                    or not self.listing.update(paths):
                self.listing = Listing.of(self.settings)
            self.relist = False
            known = rejected_paths(self.last_good) if self.last_good is not None else set()
            result = build(self.settings, datetime.now(timezone.utc), sources=self.listing.sources,
                           publish=lambda planned: rejected_paths(planned) <= known, memory=self.memory)
        except (NotPublished, StrictFailure) as refused:
            self.next_due = refused.result.next_due
            return Rebuild(shown, time.perf_counter() - started, refused=refused.result)
        except MkfeedsError as exc:
            self.relist = True  # whatever failed may have left the listing behind
            return Rebuild(shown, time.perf_counter() - started, error=exc)
        self.last_good, self.next_due = result, result.next_due
        return Rebuild(shown, time.perf_counter() - started, result=result)


def _shown(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def config_candidates(config_file: Path | None) -> tuple[Path, ...]:
    """The files whose change reloads the settings: the one given, else the ones
    ``load_config`` would look for (creating ``mkfeeds.toml`` counts)."""
    if config_file is not None:
        return (config_file.absolute(),)
    return (Path("mkfeeds.toml").absolute(), Path("pyproject.toml").absolute())


def _stamp(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


@dataclass(frozen=True)
class Changes:
    """One turn of the watcher: nothing, most of the time."""

    paths: frozenset[str] = frozenset()  # under the input folder
    config: bool = False  # a config file changed
    clock: bool = False  # a scheduled article is due
    notice: str | None = None  # about the watcher itself


def changes(session: Session, config_files: tuple[Path, ...], stop: threading.Event,
            force_polling: bool | None = None) -> Iterator[Changes]:
    """What changed, a turn at a time (every ``TICK_MS`` at least; the first once the
    watcher is up), until ``stop`` is set: the paths under the input folder the watcher
    names, whether a config file changed, whether the clock passed the next scheduled
    article."""
    import watchfiles

    stamps = {path: _stamp(path) for path in config_files}
    watched = os.path.abspath(session.settings.input)
    ignored = tuple(os.path.abspath(p) + os.sep for p in (session.settings.output, session.settings.cache) if p)

    def wanted(_: watchfiles.Change, path: str) -> bool:
        return not path.startswith(ignored)

    def watcher(polling: bool | None) -> Iterator[set[tuple[watchfiles.Change, str]]]:
        return watchfiles.watch(watched, watch_filter=wanted, debounce=DEBOUNCE_MS, step=STEP_MS,
                                stop_event=stop, rust_timeout=TICK_MS, yield_on_timeout=True,
                                force_polling=polling, poll_delay_ms=100)

    events = watcher(force_polling)
    while not stop.is_set():
        try:
            found = next(events)
        except StopIteration:
            return
        except (OSError, RuntimeError) as exc:  # the notification watcher would not start
            if force_polling:
                raise
            force_polling = True
            events = watcher(True)
            yield Changes(notice=f"file notifications are not available ({exc}); polling the input folder")
            continue
        now_stamps = {path: _stamp(path) for path in config_files}
        config = now_stamps != stamps
        stamps = now_stamps
        due = session.next_due is not None and datetime.now(timezone.utc) >= session.next_due
        yield Changes(frozenset(path for _, path in found), config=config, clock=due)
        if watched != os.path.abspath(session.settings.input):  # the config moved the input folder
            watched = os.path.abspath(session.settings.input)
            events = watcher(force_polling)
