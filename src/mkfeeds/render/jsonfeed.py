"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written with ``json``.

Optional keys are omitted rather than written as ``null``, as the spec expects."""

from __future__ import annotations

import json
from typing import Any

from mkfeeds.model import Author, Entry, Feed
from mkfeeds.render.memo import EntryMemo

VERSION = "https://jsonfeed.org/version/1.1"


def render_json(feed: Feed, memo: EntryMemo | None = None) -> bytes:
    meta = feed.meta
    document: dict[str, Any] = {
        "version": VERSION,
        "title": meta.title,
        "home_page_url": meta.site_url,
        # An archive page is a page of the feed: the feed's URL identifies it, and
        # next_url chains each page to the next older one (RFC 5005's prev-archive).
        "feed_url": feed.history.current.json if feed.history.current else feed.json_url,
        "description": meta.description,
    }
    if feed.history.prev_archive:
        document["next_url"] = feed.history.prev_archive.json
    if meta.icon:
        document["icon"] = meta.icon
    document["authors"] = [_author(meta.author)]
    if meta.language:
        document["language"] = meta.language
    if meta.hubs:
        document["hubs"] = [{"type": "WebSub", "url": hub} for hub in meta.hubs]
    head = pretty_json(document)  # "items" comes last: its text goes before the closing brace
    items = [_item_text(entry, memo) for entry in feed.entries]
    listed = "[\n" + ",\n".join(items) + "\n  ]" if items else "[]"
    return (head[:-2] + ',\n  "items": ' + listed + "\n}\n").encode("utf-8")


_ITEM_INDENT = "    "  # an item's depth in the document: {"items": [{...}]}


def _item_text(entry: Entry, memo: EntryMemo | None) -> str:
    """The item as ``pretty_json`` writes it in place, built once per build with a memo."""
    text = memo.held("json", entry) if memo is not None else None
    if text is None:
        text = _ITEM_INDENT + pretty_json(_item(entry), _ITEM_INDENT)
        if memo is not None:
            memo.keep("json", entry, text)
    return text


_encode_text = json.encoder.encode_basestring  # C, as json.dumps uses with ensure_ascii=False


def pretty_json(value: Any, indent: str = "") -> str:
    """``json.dumps(value, ensure_ascii=False, indent=2)``, byte for byte, for the values a
    feed holds (text, lists, objects, numbers, booleans, null): ``json`` pretty-prints in
    pure Python, token by token, which made JSON Feed the slowest of the three formats."""
    value_type = type(value)
    if value_type is str:
        return _encode_text(value)
    if value_type is dict:
        if not value:
            return "{}"
        inner = indent + "  "
        return "{\n" + ",\n".join(f"{inner}{_key(k)}: {pretty_json(v, inner)}" for k, v in value.items()) \
            + f"\n{indent}}}"
    if value_type is list or value_type is tuple:
        if not value:
            return "[]"
        inner = indent + "  "
        return "[\n" + ",\n".join(inner + pretty_json(v, inner) for v in value) + f"\n{indent}]"
    return json.dumps(value)  # numbers, booleans, null


def _key(key: Any) -> str:
    if type(key) is not str:
        raise TypeError(f"JSON Feed keys are text, not {type(key).__name__}")
    return _encode_text(key)


def _author(author: Author) -> dict[str, str]:
    return {"name": author.name, **({"url": author.url} if author.url else {})}


def _item(entry: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry.id, "url": entry.url}
    if entry.external_url:
        item["external_url"] = entry.external_url
    item["title"] = entry.title
    if entry.summary:
        item["summary"] = entry.summary
    if entry.content_html:
        item["content_html"] = entry.content_html
    else:
        item["content_text"] = entry.summary or entry.title
    if entry.images:
        item["image"] = entry.images[0].url
    item["date_published"] = entry.published.isoformat()
    item["date_modified"] = entry.updated.isoformat()
    author = entry.byline or entry.author
    if author:
        item["authors"] = [_author(author)]
    if entry.categories:
        item["tags"] = list(entry.categories)
    if entry.language:
        item["language"] = entry.language
    return item
