"""Folder -> article files -> ``Article``. The only module that reads input files.

Promises kept here: only regular files; hidden and backup files skipped; directory
symlinks never followed (so loops cannot happen) and file symlinks only when they stay
inside the input folder; input is UTF-8 (a BOM and CRLF are fine); front matter is a YAML
mapping between ``---`` lines, loaded with libyaml's safe loader, with no tags, no
aliases, no duplicate keys and a cap on the file size.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from mkfeeds.errors import ArticleError
from mkfeeds.model import Article

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown")
MAX_FILE_BYTES = 1024 * 1024  # 1 MiB: far above any real article, far below trouble

_HANDLER = frontmatter.YAMLHandler()  # its delimiter rules define the file format
_FENCE = _HANDLER.FM_BOUNDARY

try:  # libyaml is ~10x faster; the PyPI wheels of PyYAML ship it
    _BaseLoader = yaml.CSafeLoader
    HAVE_LIBYAML = True
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader  # type: ignore[misc]
    HAVE_LIBYAML = False


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A discovered article file: where it is and how it looked when listed."""

    path: Path  # absolute
    rel: str  # relative to the input folder, POSIX separators
    size: int
    mtime_ns: int


def discover(root: Path) -> list[SourceFile]:
    """Every article file under ``root``, recursively, sorted by relative path."""
    root = root.absolute()
    real_root = os.path.realpath(root)
    found: list[SourceFile] = []
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue  # an unreadable sub-folder is skipped; the root is checked by the caller
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name.endswith("~") or name.startswith("#"):
                continue
            rel = prefix + name
            if entry.is_dir(follow_symlinks=False):
                stack.append((Path(entry.path), rel + "/"))
                continue
            if not name.lower().endswith(ARTICLE_SUFFIXES):
                continue
            if entry.is_symlink() and not _inside(os.path.realpath(entry.path), real_root):
                continue
            try:
                st = entry.stat(follow_symlinks=True)
            except OSError:
                continue  # dangling link, or vanished since listing
            if stat.S_ISREG(st.st_mode):
                found.append(SourceFile(Path(entry.path), rel, st.st_size, st.st_mtime_ns))
    found.sort(key=lambda f: f.rel)
    return found


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_inside(source: SourceFile) -> int:
    """Open without following a symlink, unless it still leads inside the input folder:
    the file may have been replaced by a link since ``discover`` looked at it."""
    try:
        return os.open(source.path, _OPEN_FLAGS | _NOFOLLOW)
    except OSError as exc:
        if not _NOFOLLOW or exc.errno not in (errno.ELOOP, errno.EMLINK):
            raise
    root = os.path.realpath(source.path.parents[source.rel.count("/")])
    if not _inside(os.path.realpath(source.path), root):
        raise ArticleError(source.rel, "is a symbolic link that leads outside the input folder")
    return os.open(source.path, _OPEN_FLAGS)


def read_text(source: SourceFile) -> str:
    """The file's text, decoded as UTF-8 (a BOM is dropped, CRLF becomes LF)."""
    try:
        fd = _open_inside(source)
    except FileNotFoundError:
        raise ArticleError(source.rel, "the file disappeared during the build") from None
    except OSError as exc:
        raise ArticleError(source.rel, f"cannot be read ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ArticleError(source.rel, "is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ArticleError(source.rel, f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ArticleError(source.rel, f"is larger than {MAX_FILE_BYTES // 1024} KiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ArticleError(source.rel, "is not valid UTF-8", line=line) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def parse_article(rel: str, text: str) -> Article:
    """Split front matter from body and load the front matter safely."""
    if not _HANDLER.detect(text):
        raise ArticleError(rel, "has no front matter: the file must start with a '---' line", line=1)
    fences = _FENCE.finditer(text)
    opening = next(fences)
    closing = next(fences, None)
    if closing is None:
        raise ArticleError(rel, "front matter is not closed: no '---' line after the first", line=1)
    first_line = text.count("\n", 0, opening.end()) + 1  # YAML's line 0 starts there
    meta, key_lines = load_yaml(rel, text[opening.end():closing.start()], first_line)
    body = text[closing.end():].strip("\n")
    return Article(path=rel, meta=meta, body=body, key_lines=key_lines)


def load_article(source: SourceFile) -> Article:
    return parse_article(source.rel, read_text(source))


class WrittenInt(int):
    """An integer from YAML that remembers how it was written. YAML 1.1 reads ``010`` as
    8 and ``1:30`` as 90; a text field (``title: 010``) must come out as written."""

    written: str


class WrittenFloat(float):
    """A float from YAML that remembers how it was written (``1e3``, ``.nan``)."""

    written: str


MAX_NUMBER_CHARS = 1000  # longer numbers cost quadratic time (sexagesimal) or cannot be printed
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"


class _StrictLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    """libyaml's safe loader, stricter: no aliases (they make cheap-to-load,
    costly-to-walk bombs), no explicit tags (even the standard ones crash their
    constructors on bad values: ``!!int x``), no merge keys, no duplicate keys (compared
    as values: ``1`` and ``01`` collide), no non-scalar keys, numbers that remember how
    they were written, and impossible timestamps reported as YAML errors with their line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            raise yaml.constructor.ConstructorError(
                None, None, "YAML anchors and aliases (&name, *name) are not supported",
                node.start_mark)  # the mark is the anchored node's: libyaml shares it
        if self._explicitly_tagged(node):
            raise yaml.constructor.ConstructorError(
                None, None, "YAML tags (!name) are not allowed", node.start_mark)
        return super().construct_object(node, deep)

    def _explicitly_tagged(self, node: yaml.Node) -> bool:
        """True when the node's tag is not the one YAML would have inferred. Plain text
        needs no check: an explicit ``!!str`` changes nothing."""
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                return False
            if node.style:  # quoted: only an explicit tag can make it anything but text
                return True
            return node.tag != self.resolve(yaml.ScalarNode, node.value, (True, False))
        return node.tag != (_SEQ if isinstance(node, yaml.SequenceNode) else _MAP)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "mapping keys must be plain values", key_node.start_mark)
            if key_node.tag == _MERGE:
                raise yaml.constructor.ConstructorError(
                    None, None, "YAML merge keys (<<) are not supported", key_node.start_mark)
            key = self.construct_object(key_node, deep=deep)
            if key in mapping:
                raise yaml.constructor.ConstructorError(
                    None, None, "duplicate key", key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        number = WrittenInt(super().construct_yaml_int(self._short_number(node)))
        number.written = node.value
        return number

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        number = WrittenFloat(super().construct_yaml_float(self._short_number(node)))
        number.written = node.value
        return number

    @staticmethod
    def _short_number(node: yaml.ScalarNode) -> yaml.ScalarNode:
        if len(node.value) > MAX_NUMBER_CHARS:
            raise yaml.constructor.ConstructorError(
                None, None, f"a number longer than {MAX_NUMBER_CHARS} characters "
                "(put it in quotes if it is text)", node.start_mark)
        return node

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            raise yaml.constructor.ConstructorError(
                None, None, "impossible date", node.start_mark) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
_StrictLoader.add_constructor(_MAP, _StrictLoader.construct_yaml_map)
# A quoted run of two or more non-space characters: how the pure-Python parser quotes
# input (an alias name, a character); libyaml's own quoted punctuation (',' or ']') stays.
_QUOTED = re.compile(r"'[^'\s]{2,}'|\"[^\"\s]{2,}\"")


def load_yaml(rel: str, text: str, first_line: int = 1) -> tuple[dict[str, Any], dict[str, int]]:
    """Load front matter text; return the mapping and the line of each top-level key."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        if not isinstance(node, yaml.MappingNode):
            raise ArticleError(rel, "front matter must be a YAML mapping of keys to values",
                               line=first_line + node.start_mark.line)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark is not None else None
        raise ArticleError(rel, "invalid YAML: " + _describe(exc), line=line) from None
    except yaml.YAMLError:
        raise ArticleError(rel, "invalid YAML", line=first_line) from None
    except RecursionError:
        raise ArticleError(rel, "invalid YAML: nested too deeply", line=first_line) from None
    finally:
        loader.dispose()
    key_lines: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node.value, str) or key_node.tag != "tag:yaml.org,2002:str":
            raise ArticleError(rel, "front matter keys must be text",
                               line=first_line + key_node.start_mark.line)
        key_lines[key_node.value] = first_line + key_node.start_mark.line
    return data, key_lines


def _describe(exc: yaml.MarkedYAMLError) -> str:
    """The parser's own words, minus any quoted input (which could be private)."""
    problem = exc.problem or "not well-formed"
    if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in problem:
        return "YAML tags (!name) are not allowed"
    return _QUOTED.sub("'…'", problem)
