"""Property tests: thousands of generated front-matter documents, none may break a promise.

For every document, whatever its keys, types, Unicode (controls, surrogates, RTL, emoji,
``]]>``), URL schemes and dates:

* nothing crashes: no exception escapes the loader, the mapping or the renderers, and no
  problem says "internal error";
* every RSS and Atom output parses with lxml, every JSON Feed output with ``json``;
* a planted secret, under ``secured`` and under random unknown keys (nested or not),
  never appears in an output file nor in a problem message;
* a valid article is published, and RSS, Atom and JSON Feed carry the same ids and
  exactly the same titles.

The examples are split over the tests below (``EXAMPLES`` adds up to more than 2,000)
so the whole file runs in well under a minute. Fast paths call the pipeline's own
functions on in-memory data; a few full builds go through files on disk.
"""

from __future__ import annotations

import html
import json
import tempfile
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from mkfeeds import markup, text
from mkfeeds.bodies import render_body, with_content
from mkfeeds.build import build, mapping_settings
from mkfeeds.select import select
from mkfeeds.source import load_article
from mkfeeds.config import Settings
from mkfeeds.errors import ArticleError
from mkfeeds.loading import process_file
from mkfeeds.mapping import body_markdown, map_article
from mkfeeds.model import Article, Author, Entry, EntryKey, Feed, FeedMeta, KeyedOutcome, Problem
from mkfeeds.render import EntryMemo, render_atom, render_json, render_rss
from mkfeeds.source import SourceFile, parse_article

from conftest import NOW

ATOM = "{http://www.w3.org/2005/Atom}"
EXAMPLES = {"in_memory": 700, "through_yaml": 600, "raw_text": 400, "valid": 300, "full_build": 30,
            "shared": 150}
assert sum(EXAMPLES.values()) >= 2000

SETTINGS = Settings(
    input=Path("in"), output=Path("out"), base_url="https://feeds.example.org/",
    site_url="https://news.example.org/", title="Example News", description="Latest stories",
    language="en", cache=None, jobs=1, limit=0,
)
RULES = mapping_settings(SETTINGS)
KNOWN_KEYS = (
    "title", "excerpt", "publishedDateTime", "updatedDateTime", "originalUrl", "webUrl", "published",
    "provider", "category", "categories", "topics", "tags", "images", "related", "locale", "content",
    "type", "quality", "heat", "ampWebUrl", "cdnAmpWebUrl", "secured",
)


def _settings(**kwargs: Any):
    return settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                        HealthCheck.filter_too_much], **kwargs)


# --- strategies ------------------------------------------------------------------------

SECRETS = st.text(alphabet="0123456789abcdefghjkmnpqrstvwxyz", min_size=16, max_size=16).map(
    lambda s: "PLANTED" + s)
PIECES = [
    "]]>", "<![CDATA[", "<script>alert(1)</script>", "<b>", "&amp;", "&", "<", ">", '"', "'",
    "\x00", "\x07", "\x0b", "\x1b", "\x7f", "\x85", "\x9f", "\ufffe", "\uffff", "\ud800", "\udfff",
    "\u202e", "\u200f", "\u2028", "\U0001f44b", "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627",
    "---", "\n---\n", "\r\n", "\t", "  ", "javascript:", "%00", "${x}", "{{x}}", "\\", "#", ": ", "- ",
    "*a", "&a", "!!python/object", "? ", "|", ">-", "~", "null", "no", "2024-02-30",
]
CHARS = st.characters(exclude_categories=())  # any code point, surrogates included
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
HOSTILE_TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.text(CHARS, max_size=5), SURROGATES),
                        max_size=4).map("".join)
LONG_TEXT = st.integers(1, 700).map(lambda n: ("word " * n)[: n * 3] + "]]>")

SCHEMES = ["http", "https", "HTTPS", "javascript", "JaVaScRiPt", "data", "vbscript", "ftp", "file", "mailto", ""]
HOSTS = ["news.example.org", "xn--bcher-kva.example", "b\u00fccher.example", "[::1]", "[zz]", "[::1", "",
         "user:pw@example.org", "example.org:99999", "example.org:8080", "a b.example", "x" * 70 + ".org",
         "\u4f8b\u5b50.\u6d4b\u8bd5", "127.0.0.1", "example.org."]
URLS = st.one_of(
    st.builds(lambda scheme, sep, host, path: f"{scheme}{sep}{host}/{path}",
              st.sampled_from(SCHEMES), st.sampled_from(["://", ":", ":///", "//", ""]),
              st.sampled_from(HOSTS), HOSTILE_TEXT),
    st.sampled_from(["/relative/path", "../up", "?q=1", "#frag", "//evil.example/x", " https://ok.example/ ",
                     "data:text/html,<script>alert(1)</script>", "javascript:alert(1)", "http://[::1/x"]),
    HOSTILE_TEXT,
)
OFFSETS = st.integers(min_value=-1439, max_value=1439).map(lambda m: timezone(timedelta(minutes=m)))
DATETIMES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                         timezones=st.none() | OFFSETS)
DATES = st.one_of(
    DATETIMES, st.dates(min_value=date(1, 1, 1)),
    DATETIMES.map(lambda d: d.isoformat()),
    DATETIMES.map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S %z") if d.year >= 1000 else "x"),
    st.sampled_from(["2024-02-30", "2024-13-01T00:00:00Z", "0000-01-01", "9999-12-31T23:59:59-14:00",
                     "Mon, 04 Mar 99999 11:32:00 +0000", "2024-03-04T11:32:00+24:00", "yesterday", "",
                     "1899-12-31T23:59:59Z", "2024-03-04T11:32:00.123456789Z", "20240304T113200Z"]),
    HOSTILE_TEXT, st.integers(), st.floats(), st.none(), st.booleans(),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), HOSTILE_TEXT, DATETIMES)
ANY_VALUE = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=5)
TEXTISH = st.one_of(HOSTILE_TEXT, HOSTILE_TEXT, LONG_TEXT, st.integers(), st.floats(), st.booleans(), ANY_VALUE)

# What makes an article publishable. Other documents draw each core field from these
# six times out of eight (else any value, or none), so that many are published and rendered.
VALID_TITLES = st.builds(lambda a, b: a + "T" + b, HOSTILE_TEXT, HOSTILE_TEXT)
VALID_MOMENTS = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2026, 11, 25),
                             timezones=st.just(timezone.utc) | OFFSETS)
VALID_DATES = st.one_of(VALID_MOMENTS, VALID_MOMENTS.map(lambda d: d.isoformat()),
                        VALID_MOMENTS.map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S %z")))
VALID_URLS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=20).map(
    lambda slug: f"https://news.example.org/{slug}")
NAMES = st.one_of(st.lists(TEXTISH, max_size=4), TEXTISH)
OTHER_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "excerpt": TEXTISH, "updatedDateTime": DATES, "originalUrl": st.one_of(URLS, ANY_VALUE),
    "published": st.one_of(st.booleans(), st.sampled_from(["false", "no", "0", "yes", "maybe", ""]), ANY_VALUE),
    "provider": st.one_of(
        st.fixed_dictionaries({}, optional={"name": TEXTISH, "domain": st.sampled_from(HOSTS) | TEXTISH}),
        TEXTISH),
    "category": NAMES, "categories": NAMES, "topics": NAMES, "tags": NAMES,
    "images": st.one_of(st.lists(st.one_of(
        st.fixed_dictionaries({"url": URLS}, optional={"width": ANY_VALUE, "height": ANY_VALUE}), ANY_VALUE),
        max_size=6), ANY_VALUE),
    "related": st.one_of(st.lists(st.one_of(
        st.fixed_dictionaries({"webUrl": URLS}, optional={"title": TEXTISH, "originalUrl": URLS}), ANY_VALUE),
        max_size=4), ANY_VALUE),
    "locale": st.one_of(st.sampled_from(["en", "en_GB", "pt-BR", "x", "en-" + "a" * 40]), TEXTISH),
    "content": TEXTISH, "type": TEXTISH, "quality": ANY_VALUE, "heat": ANY_VALUE, "ampWebUrl": URLS,
}
BODIES = st.one_of(st.just(""), HOSTILE_TEXT, st.sampled_from([
    "# Title\n\n<script>alert(1)</script> [x](javascript:alert(1)) ![i](rel.png) ]]>",
    "<a href='data:text/html,x' onclick='y()'>d</a> <img src=x onerror=alert(1)>",
    "```\n]]>\n```\n\n> quote\n\n- [l](/rel)\n",
]))


def _hide(secret: str, value: Any, depth: int) -> Any:
    """``secret`` somewhere inside a nested value (a leaf, a key, or both)."""
    for _ in range(depth):
        value = {"k": value, secret: [secret, {"deeper": secret}]}
    return value


@st.composite
def documents(draw: st.DrawFn, valid: bool = False) -> tuple[dict[str, Any], str, str]:
    """(front matter, body, secret): core fields mostly valid (always, with ``valid``),
    a few other known fields with any value, and the secret under ``secured`` and under
    random unknown keys."""
    secret = draw(SECRETS)
    meta: dict[str, Any] = {}
    for key, good, hostile in (("title", VALID_TITLES, TEXTISH), ("publishedDateTime", VALID_DATES, DATES),
                               ("webUrl", VALID_URLS, st.one_of(URLS, ANY_VALUE))):
        choice = 0 if valid else draw(st.integers(0, 7))  # not one_of: it flattens, and weighs branches
        if choice < 6:
            meta[key] = draw(good)
        elif choice == 6:
            meta[key] = draw(hostile)
    for key in draw(st.lists(st.sampled_from(sorted(OTHER_FIELDS)), max_size=5, unique=True)):
        if not (valid and key == "published"):
            meta[key] = draw(OTHER_FIELDS[key])
    for key in draw(st.lists(HOSTILE_TEXT.filter(lambda k: k not in KNOWN_KEYS), max_size=2)):
        meta[key] = _hide(secret, draw(ANY_VALUE), draw(st.integers(0, 2)))
    meta[draw(st.sampled_from(["private", "token", "_internal", "Secured", "x-api-key"]))] = secret
    meta["secured"] = draw(st.sampled_from([secret, {"blob": secret}, [secret], f"{secret};{secret}"]))
    if valid:
        meta["published"] = draw(st.sampled_from([True, "true", "yes", 1]))
    return meta, draw(BODIES), secret


# --- checks ----------------------------------------------------------------------------


def _check_problems(problems: list[Problem] | tuple[Problem, ...], secret: str) -> None:
    for problem in problems:
        line = str(problem)
        assert secret not in line, line
        assert "internal error" not in line, line


def _render_and_check(entries: list[Entry], secret: str) -> dict[str, bytes]:
    """Render the three formats and check them: well-formed, same ids and titles, no secret."""
    feed = Feed(FeedMeta("Example News", "Latest stories", "https://news.example.org/", Author("Desk")),
                "https://feeds.example.org/rss.xml", "https://feeds.example.org/atom.xml",
                "https://feeds.example.org/feed.json", NOW, tuple(entries), "feed.xsl")
    files = {SETTINGS.rss_file: render_rss(feed), SETTINGS.atom_file: render_atom(feed),
             SETTINGS.json_file: render_json(feed)}
    for name, data in files.items():
        assert secret.encode() not in data, name
    _check_outputs(files, [(e.id, e.title) for e in entries])
    return files


def _check_outputs(files: dict[str, bytes], expected: list[tuple[str, str]] | None = None) -> None:
    """Parse each output; the three list the same (id, title) pairs, in order."""
    rss = etree.fromstring(files[SETTINGS.rss_file])
    atom = etree.fromstring(files[SETTINGS.atom_file])
    document = json.loads(files[SETTINGS.json_file])
    in_rss = [(i.findtext("guid"), i.findtext("title")) for i in rss.iter("item")]
    in_atom = [(e.findtext(f"{ATOM}id"), atom_text(e.find(f"{ATOM}title"))) for e in atom.iter(f"{ATOM}entry")]
    in_json = [(item["id"], item["title"]) for item in document["items"]]
    assert in_rss == in_atom == in_json
    if expected is not None:
        assert in_json == expected


def atom_text(element: etree._Element) -> str:
    """The text an Atom text construct shows: ``type="html"`` holds escaped markup."""
    return html.unescape(element.text) if element.get("type") == "html" else element.text


def _map(article: Article) -> tuple[Entry | None, list[Problem]]:
    try:
        entry, warnings = map_article(article, RULES)
    except ArticleError as exc:
        return None, [Problem("error", exc.path, exc.message, exc.field, exc.line)]
    return entry, warnings


def _with_body(entry: Entry, article: Article) -> Entry:
    """The published entry's HTML content, as the build makes it (without re-reading)."""
    html = markup.render_markdown(body_markdown(article), entry.url) if entry.has_body else ""
    related = markup.related_list(entry.related)
    return replace(entry, content_html=(html + related) or None)


def _dump(meta: dict[str, Any], body: str) -> str:
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + body


# --- properties ------------------------------------------------------------------------


@_settings(max_examples=EXAMPLES["in_memory"])
@given(documents())
def test_any_front_matter_in_memory(document: tuple[dict[str, Any], str, str]) -> None:
    """Python values straight into the mapping (surrogates and all): never a crash,
    never the secret, and whatever is published renders in all three formats."""
    meta, body, secret = document
    article = Article(path="a.txt", meta=meta, body=body, key_lines={key: 2 for key in meta if isinstance(key, str)})
    entry, problems = _map(article)
    _check_problems(problems, secret)
    event("published" if entry is not None else "rejected")
    if entry is not None:
        _render_and_check([_with_body(entry, article)], secret)


@_settings(max_examples=EXAMPLES["valid"])
@given(documents(valid=True))
def test_valid_articles_are_published_with_exact_titles(document: tuple[dict[str, Any], str, str]) -> None:
    meta, body, secret = document
    article = Article(path="a.txt", meta=meta, body=body)
    entry, problems = _map(article)
    _check_problems(problems, secret)
    assert entry is not None, [str(p) for p in problems]
    assert entry.title == " ".join(text.clean(meta["title"]).split())
    assert entry.id == entry.url == meta["webUrl"]
    assert not entry.draft
    assert entry.published.timestamp() == _instant(meta["publishedDateTime"])
    selection = select([_outcome(entry)], NOW, drafts=False, future=False)
    assert [e.id for e in selection.entries] == [entry.id]
    _render_and_check([_with_body(entry, article)], secret)


@_settings(max_examples=EXAMPLES["through_yaml"])
@given(documents(), st.sampled_from(["lf", "crlf", "bom"]))
def test_any_front_matter_through_a_file(document: tuple[dict[str, Any], str, str], shape: str) -> None:
    """The same, written as YAML to a real file and read back by ``process_file``, then
    given its content as a build does (the file is read again for its body)."""
    meta, body, secret = document
    meta = _without_surrogates(meta)
    body = "".join(c for c in body if not 0xD800 <= ord(c) <= 0xDFFF)
    content = _dump(meta, body)
    if shape == "crlf":
        content = content.replace("\n", "\r\n")
    elif shape == "bom":
        content = "\ufeff" + content
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.txt"
        path.write_bytes(content.encode("utf-8", "surrogatepass"))
        source = SourceFile(folder, "a.txt", path.stat().st_size, path.stat().st_mtime_ns)
        outcome = process_file(source, RULES)
        _check_problems(outcome.problems, secret)
        event("published" if outcome.entry is not None else "rejected")
        if outcome.entry is not None:
            entry = outcome.entry
            _render_and_check([with_content(entry, render_body(entry, source).html or "")], secret)


FENCED = st.builds(
    lambda head, lines, tail: head + "\n".join(lines) + tail,
    st.sampled_from(["---\n", "\ufeff---\n", "--- \n", "----\n", "", "\n---\n", "---\r\n"]),
    st.lists(st.one_of(HOSTILE_TEXT, st.sampled_from([
        "title: x", "title: &a [1]", "b: *a", "publishedDateTime: 2024-03-04", "webUrl: https://n.example/x",
        "  - item", "key: {a: [b, {c: d}]}", "? complex", "!!binary aGk=", "%YAML 1.1", "---", "...", "[[[[",
        "secured: PLANTEDsecret0000000000",
    ])), max_size=8),
    st.sampled_from(["\n---\n", "\n---\nbody\n", "", "\n...\n", "\n---"]),
)


@_settings(max_examples=EXAMPLES["raw_text"])
@given(st.one_of(FENCED, st.binary(max_size=200).map(lambda b: b"---\n" + b + b"\n---\n"),
                 st.text(CHARS, max_size=100)))
def test_any_file_content(content: str | bytes) -> None:
    """Arbitrary text or bytes where an article should be: a clean result or one clear
    error, never an internal error and never the planted secret in a message."""
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.txt"
        path.write_bytes(data)
        outcome = process_file(SourceFile(folder, "a.txt", len(data), 0), RULES)
    _check_problems(outcome.problems, "PLANTEDsecret0000000000")
    event("published" if outcome.entry is not None else (outcome.problems or [None])[0].message[:30])
    if isinstance(content, str) and not any(0xD800 <= ord(c) <= 0xDFFF for c in content):
        try:
            parse_article("a.txt", content)
        except ArticleError as exc:
            assert exc.path == "a.txt" and "PLANTED" not in str(exc)
    if outcome.entry is not None:
        _render_and_check([outcome.entry], "PLANTEDsecret0000000000")


@_settings(max_examples=EXAMPLES["shared"])
@given(st.lists(documents(valid=True), min_size=1, max_size=5),
       st.lists(st.lists(st.integers(0, 9), max_size=6), min_size=1, max_size=6),
       st.sampled_from([1, 3, 8192]))
def test_feeds_that_share_entries_render_as_if_alone(
        docs: list[tuple[dict[str, Any], str, str]], feeds: list[list[int]], capacity: int) -> None:
    """A build renders each entry once per format and copies it into every feed that
    shows it (``EntryMemo``): the bytes are those of each feed rendered on its own, whatever
    the entries, the order, the overlap and the memo's size. Entries are told apart by
    identity: the same article with and without its content is two entries."""
    entries: list[Entry] = []
    for meta, body, _ in docs:
        article = Article(path="a.txt", meta=meta, body=body)
        entry, _ = _map(article)
        assert entry is not None
        entries += [entry, _with_body(entry, article)]  # same id, other content
    memo = EntryMemo(capacity)
    for picks in feeds:
        chosen = tuple(entries[i % len(entries)] for i in picks)
        feed = Feed(FeedMeta("Example News", "Latest stories", "https://news.example.org/", Author("Desk")),
                    "https://feeds.example.org/rss.xml", "https://feeds.example.org/atom.xml",
                    "https://feeds.example.org/feed.json", NOW, chosen, None)
        assert render_rss(feed, memo) == render_rss(feed)
        assert render_atom(feed, memo) == render_atom(feed)
        assert render_json(feed, memo) == render_json(feed) == _json_as_json_writes_it(feed)


def _json_as_json_writes_it(feed: Feed) -> bytes:
    """The JSON Feed document as ``json.dumps`` would pretty-print it."""
    document = json.loads(render_json(feed))
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


@_settings(max_examples=EXAMPLES["full_build"])
@given(st.lists(st.tuples(documents(), st.booleans()), min_size=1, max_size=6))
def test_full_builds_keep_every_promise(docs: list[tuple[tuple[dict[str, Any], str, str], bool]]) -> None:
    """Folders of generated files through ``build()``: valid ones are published in all
    three formats, nothing leaks, and only the three feeds are written."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "in").mkdir()
        secrets = []
        for index, ((meta, body, secret), make_valid) in enumerate(docs):
            meta = _without_surrogates(meta)
            if make_valid:
                meta.update(title=f"Valid {index} ]]> <b>", publishedDateTime="2024-03-04T11:32:00+05:30",
                            webUrl=f"https://news.example.org/valid/{index}", published=True)
            body = "".join(c for c in body if not 0xD800 <= ord(c) <= 0xDFFF)
            (root / "in" / f"{index:03}.txt").write_text(_dump(meta, body), encoding="utf-8")
            secrets.append(secret)
        result = build(replace(SETTINGS, input=root / "in", output=root / "out"), NOW)
        for secret in secrets:
            _check_problems(result.problems, secret)
        files = {str(p.relative_to(root / "out")): p.read_bytes()
                 for p in (root / "out").rglob("*") if p.is_file()}
        assert not [name for name in files if name.endswith((".tmp", ".old"))]
        for name, data in files.items():
            for secret in secrets:
                assert secret.encode() not in data, name
            if name.endswith(".xml"):
                etree.fromstring(data)
            elif name.endswith(".json"):
                json.loads(data)
        _check_outputs(files)
        published = {item["id"]: item["title"] for item in json.loads(files[SETTINGS.json_file])["items"]}
        for index, (_, make_valid) in enumerate(docs):
            if make_valid:
                assert published[f"https://news.example.org/valid/{index}"] == f"Valid {index} ]]> <b>"


# --- helpers ---------------------------------------------------------------------------


def _outcome(entry: Entry) -> KeyedOutcome:
    return KeyedOutcome(entry.source, EntryKey.of(entry))


def _instant(value: Any) -> float:
    if isinstance(value, datetime):
        return value.replace(microsecond=0).timestamp()
    parsed = datetime.strptime(value, "%a, %d %b %Y %H:%M:%S %z") if "," in value else datetime.fromisoformat(value)
    return parsed.replace(microsecond=0).timestamp()


def _without_surrogates(value: Any) -> Any:
    """YAML files are UTF-8: a lone surrogate cannot be written to one."""
    if isinstance(value, str):
        return "".join(c for c in value if not 0xD800 <= ord(c) <= 0xDFFF)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value
