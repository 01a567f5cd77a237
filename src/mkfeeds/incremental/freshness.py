"""Whether the last build still stands: digests of what each feed depends on, the
records of the last build, and the stamps that show its output files are untouched."""

from __future__ import annotations

import hashlib
import json
import os
import stat as stat_module
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mkfeeds.model import EntryKey, Problem
from mkfeeds.source import SourceFile, stats_of


def feed_digest(environment: str, spec: Any, sources: Mapping[str, SourceFile],
                text_of: Callable[[EntryKey], str]) -> str:
    """What a feed's bytes depend on: the ``environment`` (code, rules, settings), the
    feed's place, title and archive links, and each entry (``text_of``: the digest of its file's text)
    with its file's stat. Equal digests mean equal bytes."""
    digest = hashlib.sha256(repr((environment, spec.key, spec.kind, spec.folder, spec.title,
                                  spec.description, spec.full_content, spec.complete, spec.history)).encode())
    for key in spec.entries:
        source = sources[key.source]
        digest.update(repr((text_of(key), source.size, source.mtime_ns, source.ctime_ns, source.ino))
                      .encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def input_lines(sources: Sequence[SourceFile]) -> list[str]:
    """What the inputs digest takes of each article file, in order: its path and stat
    (the rows' own test of a file being unchanged)."""
    return [f"{rel}\0{size}\0{mtime}\0{ctime}\0{ino}" for rel, size, mtime, ctime, ino in stats_of(sources)]


def input_line(source: SourceFile) -> str:
    return input_lines([source])[0]


INPUT_CHUNK = 1024  # lines a digest of its own: a process that remembers them hashes again only those that changed


def input_chunks(lines: Sequence[str], changed: Sequence[int] | None = None,
                 chunks: Sequence[bytes] = ()) -> list[bytes]:
    """The digest of each ``INPUT_CHUNK`` lines; with ``changed`` (line positions) and
    the ``chunks`` of the same number of lines before, only those holding a change."""
    count = (len(lines) + INPUT_CHUNK - 1) // INPUT_CHUNK
    if changed is None or len(chunks) != count:
        todo: Sequence[int] = range(count)
        found = [b""] * count
    else:
        todo = sorted({i // INPUT_CHUNK for i in changed})
        found = list(chunks)
    for k in todo:
        found[k] = hashlib.blake2b("\n".join(lines[k * INPUT_CHUNK:(k + 1) * INPUT_CHUNK])
                                   .encode("utf-8", "surrogatepass"), digest_size=20).digest()
    return found


def inputs_digest(environment: str, chunks: Sequence[bytes]) -> str:
    """The environment and every article file's ``input_line``, in order (``input_chunks``)."""
    digest = hashlib.blake2b(environment.encode(), digest_size=20)
    digest.update(b"".join(chunks))
    return digest.hexdigest()


def stamp(root: Path, relative: str) -> list[int] | None:
    """What shows an output file is as it was written: no tool sets a ctime back."""
    try:
        st = os.lstat(os.path.join(root, relative))
    except OSError:
        return None
    if not stat_module.S_ISREG(st.st_mode):
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _intact(root: Path, stamps: Any) -> bool:
    return isinstance(stamps, dict) and bool(stamps) and all(
        isinstance(name, str) and stamp(root, name) == value for name, value in stamps.items())


def _document(text: Any, root: Path) -> dict[str, Any]:
    if type(text) is not str:
        return {}
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    return document if isinstance(document, dict) and document.get("output") == str(root.absolute()) else {}


class FeedRecord:
    """Each feed's digest with its files' stamps, as the last build left them."""

    @staticmethod
    def document(feeds: dict[str, tuple[str, list[str]]], root: Path) -> str:
        records = {key: {"digest": digest, "stamps": {name: stamp(root, name) for name in names}}
                   for key, (digest, names) in sorted(feeds.items()) if digest}
        return json.dumps({"output": str(root.absolute()), "feeds": records})

    @staticmethod
    def intact(text: Any, root: Path) -> dict[str, str]:
        feeds = _document(text, root).get("feeds")
        return {key: record["digest"] for key, record in (feeds.items() if isinstance(feeds, dict) else ())
                if isinstance(record, dict) and isinstance(record.get("digest"), str)
                and _intact(root, record.get("stamps"))}


@dataclass
class BuildRecord:
    """What reporting a build again, without doing it, takes."""

    inputs: str
    started_ns: int
    now: datetime
    next_due: datetime | None
    entries: int
    published: int
    drafts: int
    scheduled: int
    feeds: int
    problems: list[Problem]
    notices: list[str]
    files: list[str] = field(default_factory=list)  # what the build left in the output folder

    def document(self, root: Path) -> str:
        return json.dumps({
            "output": str(root.absolute()), "inputs": self.inputs, "started_ns": self.started_ns,
            "now": self.now.isoformat(), "next_due": self.next_due.isoformat() if self.next_due else None,
            "result": [self.entries, self.published, self.drafts, self.scheduled, self.feeds],
            "problems": [[p.severity, p.path, p.message, p.field, p.line] for p in self.problems],
            "notices": self.notices, "files": {name: stamp(root, name) for name in sorted(self.files)}})

    @classmethod
    def of_document(cls, text: Any, root: Path) -> BuildRecord | None:
        """The record, if every file it names is still exactly as that build left it."""
        document = _document(text, root)
        if not document or not _intact(root, document.get("files")):
            return None
        try:
            entries, published, drafts, scheduled, feeds = (int(n) for n in document["result"])
            problems = [Problem(severity, str(path), str(message), field_, line)
                        for severity, path, message, field_, line in document["problems"]]
            if any(p.severity not in ("error", "warning") for p in problems):
                return None
            started_ns = document["started_ns"]
            if type(started_ns) is not int:
                return None
            due = document["next_due"]
            return cls(str(document["inputs"]), started_ns, datetime.fromisoformat(document["now"]),
                       datetime.fromisoformat(due) if due else None, entries, published, drafts, scheduled,
                       feeds, problems, [str(n) for n in document["notices"]], sorted(document["files"]))
        except (KeyError, TypeError, ValueError):
            return None


def replay(text: Any, inputs: str, sources: Sequence[SourceFile], now: datetime, root: Path,
           racy_ns: int) -> BuildRecord | None:
    """The last build's record, if this build would do exactly what it did: the same
    inputs, no file changed too close to the last build's start to trust its stat, no
    scheduled entry due since, the clock not turned back, its output files untouched."""
    record = BuildRecord.of_document(text, root)
    if record is None or record.inputs != inputs or now < record.now:
        return None
    if record.next_due is not None and now >= record.next_due:
        return None
    limit = record.started_ns - racy_ns  # as git's index: the mtime decides what is racy; the
    newest = max((mtime for _, _, mtime, _, _ in stats_of(sources)), default=None)
    if newest is not None and newest > limit:  # change time and inode are compared for equality
        return None
    return record
