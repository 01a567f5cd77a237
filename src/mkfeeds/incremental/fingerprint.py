"""What a stored outcome depends on besides its file's text: when any of it changes, the
rows are emptied (``outcome_fingerprint``); and what a feed's bytes depend on besides its
entries (``output_environment``)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# The modules an outcome is computed by (and every mkfeeds module they import): a change
# to any of them during development, where the version does not move, empties the rows.
_OUTCOME_MODULES = ("loading", "source", "mapping", "model", "bodies", "markup", "incremental.codec")
_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+mkfeeds(?:\.([\w.]+))?[ \t]+import[ \t]+(\([^)]*\)|[^\n]+)"
                     rb"|import[ \t]+mkfeeds\.([\w.]+))", re.MULTILINE)
# The libraries that make HTML of bodies (in the outcome fingerprint: bodies are stored) and
# those that write feeds and pages (in the output environment only: a new feedgen does not
# empty the rows).
BODY_LIBRARIES = frozenset({"cmarkgfm", "nh3"})
RENDERING_LIBRARIES = frozenset({"feedgen", "lxml", "babel"})


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the source of the outcome modules, transitively through their imports."""
    package = Path(__file__).resolve().parent.parent
    h = hashlib.blake2b(digest_size=16)
    todo, seen = list(_OUTCOME_MODULES), set()
    try:
        while todo:
            name = todo.pop()
            path = package / (name.replace(".", "/") + ".py")
            if not path.is_file():
                path = package / name.replace(".", "/") / "__init__.py"
            if name in seen or not path.is_file():
                continue
            seen.add(name)
            source = path.read_bytes()
            h.update(name.encode() + b"\0" + source + b"\0")
            for module, names, plain in _IMPORT.findall(source):
                if plain or module:
                    todo.append((plain or module).decode())
                else:  # from mkfeeds import a, b as c
                    todo.extend(n.split()[0].decode() for n in names.strip(b"()").split(b",") if n.strip())
    except OSError:  # an unusual install: fall back on the version numbers alone
        return "unknown"
    return h.hexdigest() + ":" + ",".join(sorted(seen))


@functools.lru_cache(maxsize=1)
def package_digest() -> str:
    """A digest of all of mkfeeds' own files: during development the version does not move."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.blake2b(digest_size=20)
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".xsl") and path.is_file():
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def installed_versions(names: frozenset[str]) -> tuple[str, ...]:
    """The installed distributions among ``names`` (normalised: ``typing_extensions``), as
    the names of their ``*.dist-info`` folders beside PyYAML's: read without importing
    ``importlib.metadata`` or the libraries themselves, which a build may not need."""
    import yaml

    folder = os.path.dirname(os.path.dirname(os.path.abspath(yaml.__file__ or "")))
    try:
        entries = os.listdir(folder)
    except OSError:
        return ()
    return tuple(sorted(name for name in entries if name.endswith(".dist-info")
                        and name.split("-", 1)[0].lower().replace(".", "_") in names))


def _library_versions() -> dict[str, Any]:
    """The parsers an article goes through: a new PyYAML may read a file differently, a
    new python-frontmatter split it elsewhere (its fence pattern is what we use of it),
    a new Markdown renderer or sanitizer make other HTML of a body."""
    import frontmatter
    import yaml

    return {"pyyaml": f"{yaml.__version__} libyaml={getattr(yaml, '__with_libyaml__', False)}",
            "frontmatter": str(frontmatter.YAMLHandler.FM_BOUNDARY.pattern),
            "bodies": installed_versions(BODY_LIBRARIES)}


def _setting_value(value: Any) -> Any:
    if isinstance(value, ZoneInfo):
        return "zone:" + str(value.key)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def outcome_fingerprint(rules: Any, input_root: Path, schema: int, model_layout: str) -> str:
    """Everything besides a file's own text that its stored outcome depends on."""
    from mkfeeds import __version__
    from mkfeeds.mapping import MAPPING_VERSION

    settings = {f.name: _setting_value(getattr(rules, f.name)) for f in dataclasses.fields(rules)}
    return json.dumps({
        "schema": schema,
        "mkfeeds": __version__,
        "mapping": MAPPING_VERSION,
        "code": code_digest(),
        "model": hashlib.blake2b(model_layout.encode(), digest_size=16).hexdigest(),
        "python": list(sys.version_info[:2]),
        "libraries": _library_versions(),
        "rules": settings,
        "input": os.fsdecode(os.path.abspath(input_root)),
    }, sort_keys=True, ensure_ascii=True)


def output_environment(settings: Any, outcomes: str) -> str:
    """Everything besides the articles (and the clock) that output depends on: mkfeeds'
    code, the outcome fingerprint, Python, the rendering libraries and the settings that
    shape output (not those that only say how to build: verbosity, jobs, the state path)."""
    from mkfeeds import __version__

    relevant = dataclasses.replace(settings, quiet=False, verbose=False, jobs=0, cache=None, strict=False)
    return hashlib.blake2b(repr((__version__, package_digest(), outcomes, sys.version,
                                 installed_versions(RENDERING_LIBRARIES), relevant))
                           .encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()
