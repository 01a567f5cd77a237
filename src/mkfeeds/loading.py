"""Files -> outcomes: read and map every article file, each judged alone, on all cores.

The unit of work is one file in, one outcome out (``process_file``). ``read_files`` does
it for many files: in this process, or (when there are enough) in worker processes, in
input order whatever finishes first. It knows nothing of the build's state: the build
gives it the digests of texts to confirm (a file whose stat changed, whose text may not
have) and an ``encode`` function that makes each outcome compact to send back and ready
to store.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar

from mkfeeds import parallel
from mkfeeds.errors import ArticleError
from mkfeeds.mapping import MappingSettings, map_article
from mkfeeds.model import FileOutcome, FileRead, Problem
from mkfeeds.source import SourceFile, parse_article, read_text

PARALLEL_MIN = 200  # files; below this, starting workers costs more than it saves
PER_PROCESS_MIN = 32  # files per worker at least: fewer workers for a small batch
CHUNK_MAX = 256  # files per task: small enough to balance the workers and move the bar

Encoded = TypeVar("Encoded")


def text_digest(text: str) -> bytes:
    """The change key of a file's (decoded) text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def process_file(source: SourceFile, rules: MappingSettings) -> FileOutcome:
    """Read and map one file; every failure is confined to it."""
    try:
        text = read_text(source)
    except ArticleError as exc:
        return FileOutcome(source.rel, None, (problem_of(exc),))
    except Exception as exc:  # noqa: BLE001 - a bug must not cost the other articles
        return internal_error(source.rel, exc)
    return outcome_of_text(source.rel, text, rules)[0]


def outcome_of_text(rel: str, text: str, rules: MappingSettings) -> tuple[FileOutcome, bool]:
    """The outcome of a file's text, and whether it depends on nothing else (so it may be
    kept): a recursion limit or a bug depends on more than the text."""
    try:
        article = parse_article(rel, text)
        entry, warnings = map_article(article, rules)
        return FileOutcome(rel, entry, tuple(warnings)), True
    except ArticleError as exc:
        return FileOutcome(rel, None, (problem_of(exc),)), True
    except RecursionError:
        return FileOutcome(rel, None, (Problem("error", rel, "nested too deeply"),)), False
    except Exception as exc:  # noqa: BLE001 - a bug must not cost the other articles
        return internal_error(rel, exc), False


def internal_error(rel: str, exc: Exception) -> FileOutcome:
    if os.environ.get("MKFEEDS_DEBUG"):
        raise exc
    return FileOutcome(rel, None, (Problem("error", rel, f"internal error ({type(exc).__name__}); please report it"),))


def problem_of(exc: ArticleError) -> Problem:
    return Problem("error", exc.path, exc.message, exc.field, exc.line)


def read_one(position: int, source: SourceFile, confirm: bytes | None, rules: MappingSettings,
             encode: Callable[[FileOutcome], Encoded | None]) -> FileRead[Encoded]:
    try:
        text = read_text(source)
    except ArticleError as exc:  # not kept: permissions and races are not the text's
        return FileRead(position, None, False, None, FileOutcome(source.rel, None, (problem_of(exc),)))
    except Exception as exc:  # noqa: BLE001
        return FileRead(position, None, False, None, internal_error(source.rel, exc))
    digest = text_digest(text)
    if confirm is not None and digest == confirm:
        return FileRead(position, digest, True, None, None)
    outcome, storable = outcome_of_text(source.rel, text, rules)
    encoded = encode(outcome)
    if encoded is None:
        return FileRead(position, None, False, None, outcome)
    return FileRead(position, digest if storable else None, False, encoded, None)


def read_files(sources: Sequence[SourceFile], work: Sequence[int], confirm: Mapping[int, bytes],
               rules: MappingSettings, encode: Callable[[FileOutcome], Encoded | None], *, jobs: int,
               progress: Callable[[int], None] | None = None,
               meanwhile: Callable[[], None] | None = None) -> Iterator[list[FileRead[Encoded]]]:
    """What reading each of the ``work`` positions gives, chunk by chunk, in that order.
    With enough files and more than one job allowed, workers read them while this
    process calls ``meanwhile`` (once)."""
    processes = 1 if len(work) < PARALLEL_MIN else parallel.processes_for(jobs, len(work),
                                                                           per_process=PER_PROCESS_MIN)
    size = 64 if processes <= 1 else max(8, min(CHUNK_MAX, -(-len(work) // (processes * 8))))
    ranges = [(lo, min(lo + size, len(work))) for lo in range(0, len(work), size)]

    def chunk(bounds: tuple[int, int]) -> list[FileRead[Encoded]]:
        return [read_one(i, sources[i], confirm.get(i), rules, encode) for i in work[bounds[0]:bounds[1]]]

    done = 0
    try:
        with parallel.forked_map(chunk, ranges, processes) as results:
            if meanwhile is not None and processes > 1:
                meanwhile()
            for reads in results:
                done += 1
                if progress is not None:
                    progress(len(reads))
                yield reads
    except parallel.PoolBroken:  # a worker died (killed, out of memory): read the rest here
        for bounds in ranges[done:]:
            reads = chunk(bounds)
            if progress is not None:
                progress(len(reads))
            yield reads
