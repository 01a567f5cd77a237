"""Whether the last build still stands: digests of everything an output depends on.

A feed whose digest (``feed_digest``) is the last build's, and whose files are as that
build left them, need not be rendered again; a build whose ``inputs_digest`` is the last
build's need not read anything (``build.up_to_date``). Both start from the
``output_environment``: mkfeeds' code, its libraries, Python and the settings. The
digests and file stamps are kept beside the build cache (``feed_stamps_path``)."""

from __future__ import annotations

import functools
import hashlib
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from mkfeeds import __version__
from mkfeeds.config import Settings
from mkfeeds.feedsets import FeedSpec
from mkfeeds.mapping import MappingSettings
from mkfeeds.source import SourceFile


def feed_digest(environment: str, spec: FeedSpec, sources: dict[str, SourceFile],
                fingerprint: Callable[[Any], str] = repr) -> str:
    """What a feed's bytes depend on: the ``environment`` (``output_environment``: the
    code and rules entries are made by), the feed's place and title, and each entry
    (``fingerprint``: the digest of its file's text, or its repr) with its file's size and
    mtime. Equal digests mean equal bytes, so an unchanged feed need not be rendered again."""
    digest = hashlib.sha256(repr((environment, spec.key, spec.kind, spec.folder, spec.title,
                                  spec.description, spec.full_content)).encode())
    for entry in spec.entries:
        source = sources[entry.source]
        digest.update(repr((fingerprint(entry), source.size, source.mtime_ns)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


# The libraries that write feeds and pages; those that read articles and make HTML of their
# bodies are in the cache's fingerprint (``cache.fingerprint``), so a new feedgen does not
# empty the cache.
_RENDERING_LIBRARIES = frozenset({"feedgen", "lxml"})


@functools.lru_cache(maxsize=1)
def _rendering_libraries() -> tuple[str, ...]:
    """The installed rendering libraries, as the names of their ``*.dist-info`` folders
    (``lxml-6.1.3.dist-info``), read without importing them."""
    from mkfeeds.cache import installed_versions

    return installed_versions(_RENDERING_LIBRARIES)


@functools.lru_cache(maxsize=1)
def _package_digest() -> str:
    """A digest of mkfeeds' own files: during development the version does not move."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=20)
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".xsl") and path.is_file():
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def output_environment(settings: Settings, rules: MappingSettings) -> str:
    """Everything besides the articles (and the clock) that output depends on: mkfeeds'
    code, the cache's fingerprint (mapping rules, model, parsers, input folder), Python,
    the rendering libraries and the settings. Part of every feed digest and of the
    up-to-date digest: a new renderer, even at the same version, renders again."""
    from mkfeeds.cache import CacheUnavailable, fingerprint

    try:
        cache_key = fingerprint(rules, settings.input)
    except CacheUnavailable:
        cache_key = None
    relevant = replace(settings, quiet=False, verbose=False, jobs=0, cache=None, strict=False)
    return hashlib.blake2b(repr((__version__, _package_digest(), cache_key, sys.version, _rendering_libraries(),
                                 relevant)).encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def inputs_digest(settings: Settings, rules: MappingSettings, sources: list[SourceFile]) -> str:
    """The ``output_environment`` and every article file's path, size and modification
    time (the build cache's own test of a file being unchanged)."""
    digest = hashlib.blake2b(output_environment(settings, rules).encode(), digest_size=20)
    digest.update("\n".join([f"{s.rel}\0{s.size}\0{s.mtime_ns}" for s in sources])
                  .encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def feed_stamps_path(settings: Settings) -> Path | None:
    """Beside the build cache: no cache, no reuse of rendered feeds either."""
    return settings.cache.with_name(settings.cache.name + ".feeds.json") if settings.cache else None
