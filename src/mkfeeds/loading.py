"""Files -> outcomes: load and map every article file, each judged alone.

The unit of work is one file in, one ``FileOutcome`` out (``process_file``). Around it:

- the build cache (``mkfeeds.cache``): a file whose size and mtime are unchanged is not
  read at all; one whose stat changed but whose text did not (by digest) is not parsed;
- parallel loading: when more than ``PARALLEL_MIN`` files need work and more than one
  job is allowed, chunks of files go to a pool of worker processes, which send back
  compact results (the outcome already encoded as a cache row, not pickled
  dataclasses); results are taken in input order, so the output does not depend on
  which worker finished first;
- progress: ``progress(n)`` is called as files complete, cached or not, in either path.

Whatever the path (cold, warm, serial, parallel), the outcomes come in the same order,
and their entries (an ``EntryKey`` where they came encoded, decoded by ``Loaded.entry``)
are equal; ``tests/test_incremental.py`` checks that, and the bytes of the feeds.
"""

from __future__ import annotations

import gc
import logging
import os
import sqlite3
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from mkfeeds.config import Settings
from mkfeeds.errors import ArticleError
from mkfeeds.mapping import MappingSettings, map_article
from mkfeeds.model import Entry, EntryKey, FileOutcome, Problem
from mkfeeds.source import SourceFile, parse_article, read_text

PARALLEL_MIN = 200  # files; below this a pool (~0.1 s to start) costs more than it saves
PER_PROCESS_MIN = 32  # files per worker at least: fewer workers for a small batch
CHUNK_MAX = 256  # files per task: small enough to balance the workers and move the bar
PROGRESS_STEP = 256  # cache hits reported to the progress bar at a time

log = logging.getLogger("mkfeeds")
Progress = Callable[[int], None]

# What a worker sends back for one file (kind, digest, payload):
_ROW = 0  # payload: the outcome as a cache row (key, entry); digest: of the text (None: do not store)
_SAME = 1  # the text's digest matches the cached row: reuse it (payload None)
_OBJECT = 2  # payload: the FileOutcome itself (not storable: a read error, an internal error)

# How a worker returns outcomes: as objects (in this process), encoded (from a pool, no
# cache), or encoded with the text's digest (for the cache).
OBJECTS, ENCODE, STORE = 0, 1, 2


# ---------------------------------------------------------------------------------------------
# One file
# ---------------------------------------------------------------------------------------------

def process_file(source: SourceFile, rules: MappingSettings) -> FileOutcome:
    """Load and map one file; every failure is confined to it."""
    try:
        text = read_text(source)
    except ArticleError as exc:
        return FileOutcome(source.rel, None, (problem_of(exc),))
    except Exception as exc:  # noqa: BLE001 - a bug must not cost the other articles
        return _internal_error(source.rel, exc)
    return _outcome_of_text(source.rel, text, rules)[0]


def _outcome_of_text(rel: str, text: str, rules: MappingSettings) -> tuple[FileOutcome, bool]:
    """The outcome of a file's text, and whether it depends on nothing else (so it may
    be cached): a recursion limit or a bug depends on more than the text."""
    try:
        article = parse_article(rel, text)
        entry, warnings = map_article(article, rules)
        return FileOutcome(rel, entry, tuple(warnings)), True
    except ArticleError as exc:
        return FileOutcome(rel, None, (problem_of(exc),)), True
    except RecursionError:
        return FileOutcome(rel, None, (Problem("error", rel, "nested too deeply"),)), False
    except Exception as exc:  # noqa: BLE001 - a bug must not cost the other articles
        return _internal_error(rel, exc), False


def _internal_error(rel: str, exc: Exception) -> FileOutcome:
    if os.environ.get("MKFEEDS_DEBUG"):
        raise exc
    return FileOutcome(rel, None, (Problem(
        "error", rel, f"internal error ({type(exc).__name__}); please report it"),))


def problem_of(exc: ArticleError) -> Problem:
    return Problem("error", exc.path, exc.message, exc.field, exc.line)


def _work(source: SourceFile, known: bytes | None, rules: MappingSettings, mode: int) -> tuple[int, Any, Any]:
    """Read, (with a cache) hash, parse and map one file: (kind, digest, payload). From
    ``ENCODE`` on, the outcome comes back encoded (``cache.Encoded``: its key as column
    values, its entry as JSON): cheaper to send between processes than pickled dataclasses, and (with
    ``STORE``, which also hashes the text) ready to store. The build decodes only the key
    part of each, and the entry part of the entries a feed shows."""
    rel = source.rel
    try:
        text = read_text(source)
    except ArticleError as exc:  # not stored: permissions and races are not the text's
        return _OBJECT, None, FileOutcome(rel, None, (problem_of(exc),))
    except Exception as exc:  # noqa: BLE001
        return _OBJECT, None, _internal_error(rel, exc)
    from mkfeeds import cache

    text_digest = cache.digest(text) if mode == STORE else None
    if known is not None and text_digest == known:  # known only with a cache
        return _SAME, text_digest, None
    outcome, storable = _outcome_of_text(rel, text, rules)
    if mode != OBJECTS:
        try:
            key, entry = cache.encode_outcome(outcome)
        except cache.Uncacheable:
            return _OBJECT, None, outcome
        if (mode == ENCODE or not storable) and entry is not None:  # not for the cache: kept in memory
            entry = zlib.compress(entry.encode("utf-8", "surrogatepass"), 1)
        return _ROW, (text_digest if storable else None), (key, entry)
    return _OBJECT, None, outcome


# ---------------------------------------------------------------------------------------------
# Many files: in this process or in a pool
# ---------------------------------------------------------------------------------------------

class _Job:
    """What the workers need, handed over once when they start (with ``fork``, without
    copying): the sources, which of them to load, the digests to confirm, the rules.
    A task is then just a range of positions in ``work``."""

    def __init__(self, sources: list[SourceFile], work: list[int], known: dict[int, bytes],
                 rules: MappingSettings, mode: int) -> None:
        self.sources, self.work, self.known, self.rules, self.mode = sources, work, known, rules, mode
        self.parent = os.getpid()

    def results(self, start: int, stop: int) -> list[tuple[int, Any, Any]]:
        sources, known, rules, mode = self.sources, self.known, self.rules, self.mode
        return [_work(sources[i], known.get(i), rules, mode) for i in self.work[start:stop]]


_worker_job: _Job | None = None


def _init_worker(job: _Job) -> None:
    global _worker_job
    _worker_job = job
    # Forked from load_outcomes, which holds the collector off: a worker's own garbage
    # must not pile up, but the parent's objects (all the cached outcomes, on a warm
    # build) are never garbage here, and scanning them would copy every page they are on.
    gc.freeze()
    gc.enable()
    watch_parent(job.parent)


def watch_parent(parent: int) -> None:
    """In a worker process: leave when ``parent`` is gone (see ``_exit_with_parent``)."""
    import threading

    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose build was killed (SIGKILL, out of memory) would wait for work
    forever: it holds its own end of the task pipe open. Leave when the parent is gone."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _work_range(bounds: tuple[int, int]) -> list[tuple[int, Any, Any]]:
    assert _worker_job is not None
    return _worker_job.results(*bounds)


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def allowed_processes(settings: Settings) -> int:
    """How many processes a build may use: ``--jobs``, or all cores (0)."""
    return settings.jobs or available_cpus()


def _processes(settings: Settings, items: int) -> int:
    wanted = allowed_processes(settings)
    if wanted <= 1 or items < PARALLEL_MIN:
        return 1
    return min(wanted, max(1, items // PER_PROCESS_MIN))


def _run(job: _Job, processes: int, progress: Progress | None,
         start: int = 0, meanwhile: Callable[[], None] | None = None) -> Iterator[list[tuple[int, Any, Any]]]:
    """Results of ``job.work[start:]``, chunk by chunk, in input order."""
    total = len(job.work)
    if processes <= 1:
        for lo in range(start, total, 64):
            chunk = job.results(lo, min(lo + 64, total))
            if progress:
                progress(len(chunk))
            yield chunk
        return
    size = max(8, min(CHUNK_MAX, -(-(total - start) // (processes * 8))))
    ranges = [(lo, min(lo + size, total)) for lo in range(start, total, size)]
    done = start
    try:
        for result in _pool_map(job, ranges, processes, meanwhile):
            done += len(result)
            if progress:
                progress(len(result))
            yield result
    except _PoolBroken as exc:  # a worker died (killed, out of memory): finish here
        log.debug("worker pool failed (%s); loading the rest in this process", exc)
        yield from _run(job, 1, progress, done)


class _PoolBroken(Exception):
    pass


def _pool_map(job: _Job, ranges: list[tuple[int, int]], processes: int,
              meanwhile: Callable[[], None] | None = None) -> Iterator[list[tuple[int, Any, Any]]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # fork: the workers start at once, with everything imported and the job in memory.
    # Elsewhere (macOS, Windows) the platform's default: each worker imports mkfeeds and
    # receives the job pickled.
    method = "fork" if sys.platform.startswith("linux") else None
    context = multiprocessing.get_context(method)
    try:
        executor = ProcessPoolExecutor(processes, mp_context=context, initializer=_init_worker,
                                       initargs=(job,))
    except (OSError, ValueError) as exc:
        raise _PoolBroken(str(exc)) from None
    finished = False
    try:
        try:
            results = executor.map(_work_range, ranges)  # every task is queued: the workers run
            if meanwhile is not None:
                meanwhile()
            yield from results
            finished = True
        except BrokenProcessPool as exc:
            raise _PoolBroken(str(exc)) from None
    finally:
        if not finished:  # an error, or the caller gave up: do not wait for the rest
            processes_ = getattr(executor, "_processes", None) or {}  # private; best effort
            for process in list(processes_.values()):
                process.terminate()
        executor.shutdown(wait=finished, cancel_futures=True)


# ---------------------------------------------------------------------------------------------
# The build's entry point
# ---------------------------------------------------------------------------------------------

def load_outcomes(sources: Sequence[SourceFile], settings: Settings, rules: MappingSettings,
                  progress: Progress | None = None,
                  notices: list[str] | None = None,
                  meanwhile: Callable[[], None] | None = None) -> Loaded:
    """The outcome of every source, in the order given: from the cache where the file
    is unchanged, else read and mapped (in parallel when it pays). Problems with the
    cache itself never fail the build: they are reported (appended to ``notices`` when
    given, else logged as warnings on the ``mkfeeds`` logger) and the build goes on
    without it. ``settings.cache`` None means no cache; ``settings.jobs`` 0 all cores.

    The outcomes hold an ``EntryKey`` where the entry came as JSON (from a worker or the
    cache): ``Loaded.entry`` decodes the whole entry on demand. Use the result as a
    context manager: the cache is committed when it closes. ``meanwhile`` is called once
    worker processes are busy, for work this process would otherwise do later."""
    loader = _Loader(sources, settings, rules, progress, notices, meanwhile)
    collecting = gc.isenabled()
    gc.disable()  # ~15 objects per outcome, none in a cycle: scanning them again and again
    try:          # as they pile up costs a fifth of a warm build
        loader.run()
    except BaseException:
        loader.close(commit=False)
        raise
    finally:
        if collecting:
            gc.enable()
    gc.freeze()  # they live as long as the build: later collections need not scan them
    return Loaded(loader)


class Loaded:
    """What ``load_outcomes`` found: ``outcomes`` (one per source, in order), and the
    whole entries behind their keys, decoded when asked for."""

    def __init__(self, loader: _Loader) -> None:
        self._loader = loader
        self.outcomes: list[FileOutcome] = loader.outcomes  # type: ignore[assignment]
        self._index: dict[str, int] | None = None
        self._decode: Callable[[EntryKey, str | None], Entry | None] | None = None

    def __enter__(self) -> Loaded:
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        self.close(commit=kind is None)

    def close(self, commit: bool = True) -> None:
        """Commit (or roll back) and close the cache: after this, entries not yet decoded
        are read from their files again. The collector sees the outcomes again."""
        try:
            self._loader.close(commit)
        finally:
            gc.unfreeze()

    def entry(self, key: Entry | EntryKey) -> Entry | None:
        """The whole entry behind ``key``; None (with a problem in ``late_problems``)
        when it cannot be had: the row is damaged and the file changed since."""
        if type(key) is Entry:
            return key
        assert isinstance(key, EntryKey)
        loader = self._loader
        if self._decode is None:
            from mkfeeds.cache import entry_decoder

            self._decode = entry_decoder(loader.memo)
        entry = self._decode(key, self._text(key))
        if entry is not None:
            return entry
        source = loader.sources[self._position(key.source)]
        fresh = process_file(source, loader.rules)  # a damaged row, or the cache was lost
        if fresh.entry is not None and EntryKey.of(fresh.entry) == key:  # type: ignore[arg-type]
            return fresh.entry  # type: ignore[return-value]
        loader.late_problems.append(Problem("error", key.source, "changed while the feeds were being built; "
                                            "it is left out until the next build"))
        return None

    def fingerprint(self, key: Entry | EntryKey) -> str:
        """A text that changes whenever the whole entry does, for feed digests: the
        digest of its file's text (the entry is a function of that text and of the rules
        and code, which the feed digest covers too), else its stored JSON, else its repr."""
        text_digest = self._loader.text_digests.get(self._position(key.source))
        if text_digest is not None:
            return text_digest.hex()
        if type(key) is EntryKey:
            text = self._text(key)
            if text is not None:
                return text
        return repr(self.entry(key))

    def body(self, key: Entry | EntryKey) -> str | None:
        """The article's body as HTML, as an earlier build rendered it from the same
        text, if the cache has it."""
        loader = self._loader
        cache = loader.own_cache()
        if cache is None:
            return None
        try:
            return cache.body(key.source)
        except sqlite3.Error as exc:
            loader.drop_cache(exc, reading=True)
            return None

    def keep_bodies(self, bodies: list[tuple[str, str]]) -> None:
        """(HTML, path): bodies rendered by this build, for the next ones."""
        loader = self._loader
        cache = loader.own_cache()
        if cache is None or not bodies:
            return
        try:
            cache.keep_bodies(bodies)
        except sqlite3.Error as exc:
            loader.drop_cache(exc, reading=False)

    @property
    def late_problems(self) -> list[Problem]:
        return self._loader.late_problems

    def resolved(self) -> list[FileOutcome]:
        """Every outcome with its whole entry (for tests and tools; a build decodes only
        what it shows)."""
        return [FileOutcome(o.rel, self.entry(o.entry), o.problems) if o.entry is not None else o
                for o in self.outcomes]

    def _position(self, rel: str) -> int:
        if self._index is None:
            self._index = {source.rel: i for i, source in enumerate(self._loader.sources)}
        return self._index[rel]

    def _text(self, key: EntryKey) -> str | None:
        loader = self._loader
        i = self._position(key.source)
        packed = loader.entry_texts.get(i)
        text = None if packed is None else zlib.decompress(packed).decode("utf-8", "surrogatepass")
        cache = loader.own_cache()
        if text is None and cache is not None:
            try:
                text = cache.entry_text(key.source)
            except sqlite3.Error as exc:
                loader.drop_cache(exc, reading=True)
        return text


class _Loader:
    def __init__(self, sources: Sequence[SourceFile], settings: Settings, rules: MappingSettings,
                 progress: Progress | None, notices: list[str] | None,
                 meanwhile: Callable[[], None] | None = None) -> None:
        self.sources = list(sources)
        self.meanwhile = meanwhile
        self.settings, self.rules, self.progress, self.notices = settings, rules, progress, notices
        self.started_ns = time.time_ns()  # before any file is read: see cache.RACY_NS
        self.pid = os.getpid()  # the process the cache belongs to (``own_cache``)
        self.outcomes: list[FileOutcome | None] = [None] * len(self.sources)
        self.known: dict[int, bytes] = {}  # index -> digest of the cached text, to confirm
        self.text_digests: dict[int, bytes] = {}  # index -> digest of the text its outcome came from
        self.memo: dict = {}  # short strings and authors shared between decoded outcomes
        self._decoder: Callable[[str, tuple], FileOutcome | None] | None = None
        self.cache: Any = None
        # Entries as JSON, for rows not in the cache (no cache, or a row not storable),
        # compressed by the workers: 1-2 KB each, 150 MB at 100,000 files otherwise
        self.entry_texts: dict[int, bytes] = {}
        self.late_problems: list[Problem] = []
        self.hits: list[tuple[int, tuple]] = []  # cached rows to decode: (position, key columns)
        self.retry: list[int] = []  # positions whose row did not decode

    def own_cache(self) -> Any:
        """The cache, or None in a process forked from this one (render workers inherit
        the outcomes): an SQLite connection used across fork can damage the file."""
        return self.cache if os.getpid() == self.pid else None

    # -- reporting -----------------------------------------------------------------------------

    def warn(self, message: str) -> None:
        if self.notices is not None:
            self.notices.append(message)
        elif not self.settings.quiet:
            log.warning("mkfeeds: warning: %s", message)

    # -- the cache, failing soft ---------------------------------------------------------------

    def open_cache(self) -> None:
        path = self.settings.cache
        if path is None:
            return
        from mkfeeds import cache

        try:
            self._refuse_inside(path)
            self.key = cache.fingerprint(self.rules, self.settings.input)
            self.cache = cache.open_cache(path, self.key)
        except cache.CacheUnavailable as exc:
            self.warn(f"cache not used: {exc}; every article is read")
            return
        except sqlite3.Error as exc:
            self.warn(f"cache not used: {path} cannot be opened ({exc}); every article is read")
            return
        if self.cache.damage:
            self.warn(f"cache {path} was damaged ({self.cache.damage}) and has been replaced; "
                      "every article is read")


    def _refuse_inside(self, path: Path) -> None:
        """Not in the output folder (it would be published, drafts and all), not in
        the input folder (which a build never modifies)."""
        from mkfeeds.cache import CacheUnavailable

        real = Path(os.path.realpath(path))
        for what, folder in (("output", self.settings.output), ("input", self.settings.input)):
            root = Path(os.path.realpath(folder))
            if real == root or root in real.parents:
                raise CacheUnavailable(f"{path} is inside the {what} folder {folder}; "
                                       "choose another --cache path")

    def drop_cache(self, exc: sqlite3.Error, *, reading: bool) -> None:
        """Go on without the cache after ``exc`` (reading it, or writing to it)."""
        if self.cache is not None:
            self.cache.close()  # rolls back: the previous cache stays as it was
            self.cache = None
            if reading:
                self.warn(f"cache {self.settings.cache} could not be read ({exc}); "
                          "the rest of the build goes on without it")
            else:
                self.warn(f"cache {self.settings.cache} could not be updated ({exc}); "
                          "the next build reads the changed articles again")

    # -- the build -----------------------------------------------------------------------------

    def run(self) -> list[FileOutcome]:
        self.open_cache()
        work = list(range(len(self.sources)))
        stale: list[str] = []
        if self.cache is not None:
            try:
                work, stale = self.reuse()
            except (sqlite3.Error, TypeError, ValueError) as exc:  # values of the wrong type: damaged too
                work, stale = list(range(len(self.sources))), []
                self.outcomes = [None] * len(self.sources)
                self.known, self.hits, self.text_digests = {}, [], {}
                self.replace_damaged(exc)
        self.load(work)  # the cached rows are decoded meanwhile when a pool reads the rest
        retry = self.retry + self.decode_hits()
        if retry:  # rows that did not decode: read those files again
            self.load(sorted(retry))
        self.settle(stale)
        assert all(o is not None for o in self.outcomes)
        return self.outcomes  # type: ignore[return-value]

    def while_workers_run(self, reading: int) -> None:
        """Decode the cached rows; then, if the workers read most of the files (a cold
        build, where this process would wait for them), ``meanwhile``. In a rebuild this
        process is the busier one, and a rebuild that renders nothing needs none of it."""
        cached = len(self.hits)
        self.retry.extend(self.decode_hits())
        if self.meanwhile is not None and reading >= cached:
            self.meanwhile()

    def key_decoder(self) -> Callable[[str, tuple], FileOutcome | None]:
        """The one decoder of cached keys for this build (it shares names through ``memo``)."""
        if self._decoder is None:
            from mkfeeds.cache import outcome_decoder

            self._decoder = outcome_decoder(self.memo)
        return self._decoder

    def decode_hits(self) -> list[int]:
        """Decode the rows ``reuse`` took; return the positions of those that did not decode."""
        decode = self.key_decoder()
        sources, outcomes, progress = self.sources, self.outcomes, self.progress
        failed: list[int] = []
        hits = 0
        pending, self.hits = self.hits, []
        for position, (i, key) in enumerate(pending):
            pending[position] = None  # type: ignore[call-overload]  # each row freed once decoded
            outcome = decode(sources[i].rel, key)
            if outcome is None:
                failed.append(i)
                continue
            outcomes[i] = outcome
            hits += 1
            if progress and hits % PROGRESS_STEP == 0:
                progress(PROGRESS_STEP)
        if progress and hits % PROGRESS_STEP:
            progress(hits % PROGRESS_STEP)
        return failed

    def settle(self, stale: list[str]) -> None:
        """The rows are written: drop those of vanished files, and write the cache's index
        now, which frees what it took before the feeds are rendered."""
        if self.cache is None:
            return
        try:
            self.cache.drop(stale)
            self.cache.settle_index()
        except sqlite3.Error as exc:
            self.drop_cache(exc, reading=False)

    def close(self, commit: bool) -> None:
        if self.cache is None:
            return
        try:
            if commit:
                self.cache.commit()
        except sqlite3.Error as exc:
            self.drop_cache(exc, reading=False)
        finally:
            if self.cache is not None:
                self.cache.close()
                self.cache = None

    def replace_damaged(self, exc: Exception) -> None:
        from mkfeeds import cache

        path = self.settings.cache
        self.cache.close()
        self.cache = None
        if isinstance(exc, sqlite3.Error) and not cache._damaged(exc):
            self.warn(f"cache not used: {path} cannot be read ({exc}); every article is read")
            return
        try:
            cache._remove_damaged(path)  # type: ignore[arg-type]
            self.cache = cache.open_cache(path, self.key)  # type: ignore[arg-type]
        except (cache.CacheUnavailable, OSError, sqlite3.Error):
            self.cache = None
        self.warn(f"cache {path} was damaged ({exc}); every article is read"
                  + ("" if self.cache is not None else " and the cache is not written"))

    def reuse(self) -> tuple[list[int], list[str]]:
        """Compare the sources with the cached rows (from the cache's index file when it
        has one for this table, see ``rowindex``): take what is unchanged (in ``hits``,
        decoded later: while workers read the rest, if they do), list what needs
        reading, and the rows of vanished files."""
        from mkfeeds.cache import KEY_AT, RACY_NS

        sources, known, hits, text_digests = self.sources, self.known, self.hits, self.text_digests
        columns = self.cache.row_index().columns
        rels, sizes, mtimes, digests, checked = columns[:KEY_AT]
        keys = list(zip(*columns[KEY_AT:]))
        source_rels = [source.rel for source in sources]
        stale: list[str] = []
        if source_rels == rels:  # the same files as last time: the usual case
            positions: Any = range(len(rels))
        else:
            at = dict(zip(rels, range(len(rels))))
            positions = [at.get(rel) for rel in source_rels]
            listed = set(source_rels)
            stale = [rel for rel in rels if rel not in listed]
        work: list[int] = []
        for i, j in enumerate(positions):
            if j is None:
                work.append(i)
                continue
            source = sources[i]
            mtime_ns = mtimes[j]
            if sizes[j] == source.size and mtime_ns == source.mtime_ns and mtime_ns <= checked[j] - RACY_NS:
                hits.append((i, keys[j]))
                text_digests[i] = digests[j]
            else:
                work.append(i)  # changed, or changed too recently to trust the stat alone
                known[i] = digests[j]
        return work, stale

    def load(self, work: list[int]) -> None:
        if not work:
            return
        sources = self.sources
        caching = self.cache is not None
        processes = _processes(self.settings, len(work))
        mode = STORE if caching else ENCODE if processes > 1 else OBJECTS
        job = _Job(sources, work, self.known, self.rules, mode)
        position = 0
        for chunk in _run(job, processes, self.progress, meanwhile=lambda: self.while_workers_run(len(work))):
            rows, confirmed, dropped = [], [], []
            for kind, text_digest, payload in chunk:
                i = work[position]
                position += 1
                source = sources[i]
                self.text_digests.pop(i, None)  # read again (a row that did not decode): its digest is new
                if kind == _SAME:
                    outcome = self.cached(source, text_digest, confirmed)
                    self.text_digests[i] = text_digest
                elif kind == _ROW:
                    key, entry_text = payload
                    outcome = self.decode(source, key)
                    if text_digest is not None:
                        self.text_digests[i] = text_digest
                        rows.append((source.rel, source.size, source.mtime_ns, text_digest,
                                     self.started_ns, key, entry_text))
                    else:
                        if i in self.known:
                            dropped.append(source.rel)
                        if entry_text is not None:
                            self.entry_texts[i] = entry_text
                else:
                    outcome = payload
                    if i in self.known:
                        dropped.append(source.rel)
                self.outcomes[i] = outcome
            if self.cache is not None:
                self.store(rows, confirmed, dropped)

    def decode(self, source: SourceFile, key: tuple) -> FileOutcome:
        outcome = self.key_decoder()(source.rel, key)
        if outcome is None:  # cannot happen: a key a worker has just encoded
            return process_file(source, self.rules)
        return outcome

    def cached(self, source: SourceFile, text_digest: bytes, confirmed: list) -> FileOutcome:
        """The cached outcome of a file whose text was confirmed unchanged."""
        key = None
        if self.cache is not None:
            try:
                key = self.cache.key(source.rel)
            except sqlite3.Error as exc:
                self.drop_cache(exc, reading=True)
        outcome = self.key_decoder()(source.rel, key) if key is not None else None
        if outcome is None:
            return process_file(source, self.rules)
        confirmed.append((source.size, source.mtime_ns, self.started_ns, source.rel))
        return outcome

    def store(self, rows: list, confirmed: list, dropped: list) -> None:
        try:
            self.cache.put(rows)
            self.cache.restat(confirmed)
            self.cache.drop(dropped)
        except sqlite3.Error as exc:
            self.drop_cache(exc, reading=False)
