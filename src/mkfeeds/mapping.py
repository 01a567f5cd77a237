"""Article -> Entry: every front-matter rule in one place. Pure: no I/O, no clock.

Each field of the seed shape is either mapped by a function below or deliberately left
out (see ``LEFT_OUT``); nothing else reaches a feed. A rule that cannot use a required
value raises ``ArticleError`` (the article is rejected); an optional value that cannot be
used is dropped with a warning, and the article is still published.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from mkfeeds import suggest, text
from mkfeeds.dates import BadDate, parse_date
from mkfeeds.errors import ArticleError
from mkfeeds.model import Article, Author, Entry, Image, Link, Problem
from mkfeeds.urls import MAX_URL_LENGTH, BadURL, absolute_url, is_absolute, site_of_domain

# Bump when a rule changes what an article becomes: it empties every build cache.
MAPPING_VERSION = 4  # 4: the optional ``id`` key

# Size limits per field, in characters; longer text is cut at a word with an ellipsis.
TITLE_MAX = 500
SUMMARY_MAX = 5_000
NAME_MAX = 200
CATEGORY_MAX = 100
BODY_MAX = 200_000
MAX_CATEGORIES = 30
MAX_IMAGES = 5
MAX_RELATED = 10
MAX_LIST_ITEMS = 100  # items of a name list looked at: bounds the work and the warnings
LANGUAGE_MAX = 35  # longest language tag worth carrying (BCP 47 suggests 35)

# Keys of the seed shape that never reach a feed, and why.
LEFT_OUT = {
    "secured": "opaque private blob",
    "ampWebUrl": "AMP copies are for search engines, not feed readers",
    "cdnAmpWebUrl": "AMP cache copy of ampWebUrl",
    "quality": "internal ranking; used only to filter and sort custom feeds",
    "heat": "internal ranking; used only to sort custom feeds",
    "type": "internal content type; used only to filter custom feeds",
    "images[].isCached": "internal cache flag",
    "related[].excerpt, related[].images, related[].quality": "a related item is shown as a titled link",
}

# List fields whose value may be written as one line of names separated by commas.
COMMA_LISTS = frozenset({"topics", "tags", "categories"})

PUBLISH_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
# Entry ids that never change (``id``): RFC 4151 tag URIs, with the tagging entity in lower
# case (tags are compared as strings, and the W3C validator takes no other), and URNs
# (RFC 8141) of the characters the W3C validator accepts; a urn:uuid must be a UUID.
_TAG_ID = re.compile(
    r"tag:(?:[a-z0-9\-._]+@)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r",\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?:"
    r"[0-9A-Za-z;/?:@&=+$.\-_!~*'()%,]*(?:#[0-9A-Za-z;/?:@&=+$.\-_!~*'()%,]*)?")
_URN_ID = re.compile(r"urn:[a-z0-9][a-z0-9-]{1,31}:(?:[a-z0-9()+,.:=@;$_!*'\-]|%[0-9a-f]{2})+", re.I)
_UUID_URN_ID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@dataclass(frozen=True, slots=True)
class MappingSettings:
    """What the rules depend on besides the article itself."""

    site_url: str  # relative URLs are resolved against it
    zone: tzinfo  # naive times are read in it
    placeholder_site: bool = False  # site_url is the placeholder: a relative link resolved against it is news


@dataclass(slots=True)
class _Context:
    article: Article
    settings: MappingSettings
    problems: list[Problem] = field(default_factory=list)

    def line(self, key: str) -> int | None:
        return self.article.key_lines.get(key.split(".")[0].split("[")[0])

    def fail(self, key: str, message: str) -> ArticleError:
        if message.startswith("is missing") and "." not in key and "[" not in key:
            misspelled = _misspelling_of(self.article, key)
            if misspelled is not None:  # the error stands where the misspelled key does
                return ArticleError(self.article.path, f"{message}; did you mean it as {misspelled!r}?",
                                    field=key, line=self.article.key_lines.get(misspelled))
        return ArticleError(self.article.path, message, field=key, line=self.line(key))

    def warn(self, key: str, message: str) -> None:
        self.problems.append(
            Problem("warning", self.article.path, message, field=key, line=self.line(key)))

    def text(self, key: str, value: Any, limit: int, *, required: bool = False) -> str | None:
        """A plain-text value: cleaned, white space trimmed, cut to ``limit``."""
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(key, "is missing" if value is None else "is empty")
            return None
        if isinstance(value, bool):
            problem = "is a yes/no value, not text: put it in quotes"
            if required:
                raise self.fail(key, problem)
            self.warn(key, problem + "; left out")
            return None
        if isinstance(value, (int, float)):
            value = _number_as_written(value)
        if not isinstance(value, str):
            if required:
                raise self.fail(key, "must be text")
            self.warn(key, "must be text; left out")
            return None
        cleaned = text.clean(value)
        if cleaned != value:
            self.warn(key, "characters that feeds cannot carry were removed")
        cleaned = cleaned.strip()
        if not cleaned:
            if required:
                raise self.fail(key, "is empty")
            return None
        if len(cleaned) > limit:
            self.warn(key, f"longer than {limit} characters; shortened")
            cleaned = text.truncate(cleaned, limit)
        return cleaned

    def url(self, key: str, value: Any, *, required: bool = False) -> str | None:
        if value is None or value == "":
            if required:
                raise self.fail(key, "is missing")
            return None
        if not isinstance(value, str):
            if required:
                raise self.fail(key, "must be a URL")
            self.warn(key, "must be a URL; left out")
            return None
        try:
            url = absolute_url(text.clean(value), self.settings.site_url)
        except BadURL as exc:
            if required:
                raise self.fail(key, str(exc)) from None
            self.warn(key, f"{exc}; left out")
            return None
        if self.settings.placeholder_site and not (url is value or is_absolute(value)):  # ``is``: as written
            self.warn(key, "is relative; resolved against the placeholder site URL "
                      f"{self.settings.site_url} (set site-url in mkfeeds.toml or pass --site-url)")
        return url


def _number_as_written(value: int | float) -> str | None:
    """A number in a text field, as the file wrote it (``title: 010`` is "010", not the
    8 YAML 1.1 reads): the loader keeps the source text in ``written``. A number built
    in memory has none; one too long to print is not text (``None``)."""
    written = getattr(value, "written", None)
    if isinstance(written, str):
        return written
    try:
        return str(value)
    except ValueError:  # an int past Python's 4300-digit printing limit
        return None


# Every top-level key the news-API shape (and mkfeeds) knows; any other is never read.
KNOWN_KEYS = frozenset({
    "title", "excerpt", "content", "publishedDateTime", "updatedDateTime", "webUrl", "originalUrl",
    "provider", "category", "categories", "topics", "tags", "images", "related", "locale", "published",
    "quality", "heat", "type", "secured", "ampWebUrl", "cdnAmpWebUrl", "author", "author-url",
})


def _misspelling_of(article: Article, key: str) -> str | None:
    """An unknown key of the article that misspells ``key`` (``publishDate``)."""
    for name in article.meta:
        if name not in KNOWN_KEYS and suggest.quotable(name) and suggest.closest(name, KNOWN_KEYS) == key:
            return name
    return None


def _unknown_keys(ctx: _Context) -> None:
    """An unknown key that misspells a known one draws a warning with the right name;
    other unknown keys (an API's extra fields) are left out without a word. Only the
    key's name is ever quoted, never its value."""
    for name in ctx.article.meta:
        if name in KNOWN_KEYS or not suggest.quotable(name):
            continue
        guess = suggest.closest(name, KNOWN_KEYS)
        if guess is not None:
            ctx.warn(name, f"is not a key mkfeeds reads; did you mean {guess}? (left out)")


def map_article(article: Article, settings: MappingSettings) -> tuple[Entry, list[Problem]]:
    """The entry an article becomes, and the warnings met on the way.

    Raises ``ArticleError`` when the article cannot be published at all."""
    ctx = _Context(article, settings)
    meta = article.meta
    _unknown_keys(ctx)
    title = ctx.text("title", meta.get("title"), TITLE_MAX, required=True)
    assert title is not None
    title = text.one_line(title)
    draft = not _publish_flag(ctx, meta)
    published = _date(ctx, "publishedDateTime", meta.get("publishedDateTime"), required=True)
    assert published is not None
    updated = _date(ctx, "updatedDateTime", meta.get("updatedDateTime")) or published
    updated = max(updated, published, key=lambda d: d.timestamp())
    url, external = _links(ctx, meta)
    entry_id = _entry_id(ctx, meta.get("id")) or url
    provider = _provider(ctx, meta.get("provider"))
    body = meta.get("content") if not article.body.strip() else article.body
    taxonomies = _taxonomies(ctx, meta)
    entry = Entry(
        id=entry_id,
        url=url,
        title=title,
        published=published,
        updated=updated,
        source=article.path,
        summary=ctx.text("excerpt", meta.get("excerpt"), SUMMARY_MAX),
        external_url=external,
        author=provider,
        categories=taxonomies["all"],
        topics=taxonomies["topics"],
        sections=taxonomies["sections"],
        images=_images(ctx, meta.get("images")),
        related=_related(ctx, meta.get("related")),
        language=_language(ctx, meta.get("locale")),
        draft=draft,
        has_body=isinstance(body, str) and bool(body.strip()),
        quality=_number(meta.get("quality")),
        heat=_number(meta.get("heat")),
        article_type=meta.get("type") if isinstance(meta.get("type"), str) else None,
        provider_key=_provider_key(provider, meta.get("provider")),
        byline=_byline(ctx, meta.get("author"), meta.get("author-url")),
    )
    return entry, ctx.problems


def body_markdown(article: Article) -> str:
    """The Markdown source of an article's full content: its body, else the API's
    ``content`` field; cleaned and cut to ``BODY_MAX``."""
    return markdown_of(article.body if article.body.strip() else article.meta.get("content"))


def markdown_of(body: object) -> str:
    """A body (or the ``content`` that stands in for it), cleaned and cut to ``BODY_MAX``."""
    if not isinstance(body, str):
        return ""
    return text.truncate(text.clean(body), BODY_MAX)


def _publish_flag(ctx: _Context, meta: dict[str, Any]) -> bool:
    """Fails closed: only a clear yes publishes, only a clear no withholds quietly."""
    if "published" not in meta:
        return True
    value = meta["published"]
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in PUBLISH_WORDS:
        return PUBLISH_WORDS[value.strip().lower()]
    raise ctx.fail("published", "must be true or false (or yes/no); the article is rejected until it is one of them")


def _date(ctx: _Context, key: str, value: Any, *, required: bool = False) -> datetime | None:
    if value is None or value == "":
        if required:
            raise ctx.fail(key, "is missing")
        return None
    try:
        return parse_date(value, ctx.settings.zone)
    except BadDate as exc:
        if required:
            raise ctx.fail(key, str(exc)) from None
        ctx.warn(key, f"{exc}; left out")
        return None


def _links(ctx: _Context, meta: dict[str, Any]) -> tuple[str, str | None]:
    """The entry link (``webUrl``, else ``originalUrl``) and, when it differs, the
    original publisher's URL."""
    if meta.get("webUrl") is not None:
        url = ctx.url("webUrl", meta.get("webUrl"), required=True)
        original = ctx.url("originalUrl", meta.get("originalUrl"))
    else:
        if meta.get("originalUrl") is None:
            raise ctx.fail("webUrl", "is missing (and there is no originalUrl)")
        url = original = ctx.url("originalUrl", meta.get("originalUrl"), required=True)
    assert url is not None
    return url, (original if original != url else None)


def _entry_id(ctx: _Context, value: Any) -> str | None:
    """The ``id`` an article gives itself, so that it keeps its identity in readers when
    its link changes: an absolute URI (http(s) in canonical form, ``tag:`` or ``urn:``),
    written exactly as it is published. Anything else rejects the article: a guessed
    id would show the article again as new."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ctx.fail("id", "must be an absolute URI (https:, tag: or urn:), written as text")
    written = value.strip()
    if len(written) > MAX_URL_LENGTH:
        raise ctx.fail("id", f"is longer than {MAX_URL_LENGTH} characters")
    scheme = written.split(":", 1)[0].lower() if ":" in written else ""
    if scheme in ("http", "https"):
        try:
            canonical = absolute_url(written)
        except BadURL as exc:
            raise ctx.fail("id", str(exc)) from None
        if canonical != written:
            raise ctx.fail("id", "is not written in canonical form (lower-case scheme and host, no default "
                                 "port, a path, only needed %-escapes, in upper case): ids are compared "
                                 "character by character")
        return written
    if scheme == "tag":
        if not _TAG_ID.fullmatch(written):
            raise ctx.fail("id", "is not a tag URI as RFC 4151 defines it (tag:example.org,2024:name, "
                                 "the domain or e-mail address in lower case)")
        return written
    if scheme == "urn":
        if not (_URN_ID.fullmatch(written) and written.startswith("urn:")) or (
                written.lower().startswith("urn:uuid:") and not _UUID_URN_ID.fullmatch(written)):
            raise ctx.fail("id", "is not a URN (urn:NAMESPACE:NAME, in lower-case urn:, as RFC 8141 "
                                 "defines it; a urn:uuid: holds a UUID)")
        return written
    raise ctx.fail("id", "must be an absolute URI that starts with https:, http:, tag: or urn:")


def _provider(ctx: _Context, value: Any) -> Author | None:
    if value is None:
        return None
    if isinstance(value, str):
        name = ctx.text("provider", value, NAME_MAX)
        return Author(text.one_line(name)) if name else None
    if not isinstance(value, dict):
        ctx.warn("provider", "must be a mapping with name and domain; left out")
        return None
    name = ctx.text("provider.name", value.get("name"), NAME_MAX)
    site = None
    domain = value.get("domain")
    if isinstance(domain, str) and domain.strip():
        try:
            site = site_of_domain(text.clean(domain))
        except BadURL:
            ctx.warn("provider.domain", "is not a domain name; left out")
    elif domain is not None:
        ctx.warn("provider.domain", "must be a domain name; left out")
    if not name and site and isinstance(domain, str):
        name = text.truncate(text.clean(domain).strip(), NAME_MAX)  # cleaned as it was checked
    return Author(text.one_line(name), site) if name else None


def _byline(ctx: _Context, name: Any, url: Any) -> Author | None:
    """The article's own author: a person's name (``author``) and, optionally, their page
    (``author-url``). It is the entry's author in every format; the provider still makes
    the provider feeds."""
    if name is None:
        if url is not None:
            ctx.warn("author-url", "is given without an author; left out")
        return None
    written = ctx.text("author", name, NAME_MAX)
    if not written:
        return None
    return Author(text.one_line(written), ctx.url("author-url", url))


def _provider_key(author: Author | None, value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("domain"), str) and author and author.url:
        return value["domain"].strip().lower()
    return author.name if author else None


def _string_list(ctx: _Context, key: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) and key in COMMA_LISTS and "," in value:
        value = [part for part in value.split(",") if part.strip()]  # "Meta, News": two names, as Pelican reads it
    items = [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value
    if not isinstance(items, list):
        ctx.warn(key, "must be a list of names; left out")
        return []
    if len(items) > MAX_LIST_ITEMS:
        ctx.warn(key, f"more than {MAX_LIST_ITEMS} items; the rest left out")
    names = []
    for index, item in enumerate(items[:MAX_LIST_ITEMS]):
        name = ctx.text(f"{key}[{index}]", item, CATEGORY_MAX)
        if name:
            names.append(text.one_line(name))
    return names


def _taxonomies(ctx: _Context, meta: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Names from ``category``, ``categories``, ``topics`` and ``tags``, each without
    repeats (compared case-insensitively), at most ``MAX_CATEGORIES`` in all."""
    lists = {key: _unique(_string_list(ctx, key, meta.get(key)))
             for key in ("category", "categories", "topics", "tags")}
    every = _unique([name for names in lists.values() for name in names])
    if len(every) > MAX_CATEGORIES:
        ctx.warn("topics", f"more than {MAX_CATEGORIES} categories; the rest left out")
    kept = {name.casefold() for name in every[:MAX_CATEGORIES]}
    return {
        "all": tuple(every[:MAX_CATEGORIES]),
        "topics": tuple(n for n in lists["topics"] if n.casefold() in kept),
        "sections": tuple(n for n in _unique(lists["category"] + lists["categories"]) if n.casefold() in kept),
    }


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return list(seen.values())


def _items(ctx: _Context, key: str, value: Any, limit: int) -> list[tuple[str, dict[str, Any]]]:
    """The mapping items of a list field, each with its field name for messages."""
    if value is None:
        return []
    if not isinstance(value, list):
        ctx.warn(key, "must be a list; left out")
        return []
    if len(value) > limit:
        ctx.warn(key, f"more than {limit} items; the rest left out")
    items = []
    for index, item in enumerate(value[:limit]):
        if isinstance(item, dict):
            items.append((f"{key}[{index}]", item))
        elif item is not None:
            ctx.warn(f"{key}[{index}]", "must be a mapping; left out")
    return items


def _images(ctx: _Context, value: Any) -> tuple[Image, ...]:
    images = []
    for name, item in _items(ctx, "images", value, MAX_IMAGES):
        url = ctx.url(f"{name}.url", item.get("url"))
        if url:
            images.append(Image(url, _dimension(item.get("width")), _dimension(item.get("height"))))
    return tuple(images)


def _dimension(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100_000:
        return int(value)  # a plain int, not the loader's WrittenInt
    return None


def _related(ctx: _Context, value: Any) -> tuple[Link, ...]:
    links = []
    for name, item in _items(ctx, "related", value, MAX_RELATED):
        key = "webUrl" if item.get("webUrl") is not None else "originalUrl"
        url = ctx.url(f"{name}.{key}", item.get(key))
        title = ctx.text(f"{name}.title", item.get("title"), TITLE_MAX)
        if url and title:
            links.append(Link(url, text.one_line(title)))
        elif url:
            ctx.warn(f"{name}.title", "is missing; related item left out")
    return tuple(links)


def _language(ctx: _Context, value: Any) -> str | None:
    if value is None:
        return None
    tag = value.strip().replace("_", "-") if isinstance(value, str) else ""
    if len(tag) <= LANGUAGE_MAX and _LOCALE.fullmatch(tag):
        return tag
    ctx.warn("locale", "is not a language tag like en or en-GB; left out")
    return None


def _number(value: Any) -> float | None:
    """A ranking value, or None: never NaN or infinity, which would break sorting."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            return None
        return number if math.isfinite(number) else None
    return None

