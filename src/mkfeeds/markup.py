"""Markdown -> safe HTML. The only importer of the Markdown library and the sanitizer.

markdown-it-py is CommonMark-compliant; nh3 (Rust's ammonia) is an allow-list
sanitizer: no script, no event handler, no style, no unsafe URL survives it. Relative
links and image sources are made absolute against the article's own link, since a feed
reader has no base URL of its own to resolve them with.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import nh3

from mkfeeds.model import Link
from mkfeeds.urls import BadURL, absolute_url

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details",
    "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "time", "tr", "u", "ul",
})
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "time": {"datetime"},
}
_URL_ATTRIBUTES = frozenset({"href", "src"})


@lru_cache(maxsize=2)
def _markdown(raw_html: bool = True) -> MarkdownIt:
    from markdown_it import MarkdownIt  # 50 ms to import: only when a body is rendered, not for
                                        # a rebuild whose bodies all come from the cache
    return MarkdownIt("commonmark", {"html": raw_html})


def prepare() -> None:
    """Import the Markdown library and build its parsers now (before forking workers
    that render bodies, so that each need not)."""
    _markdown(True)
    _markdown(False)


# Raw HTML tags a body may carry. Sanitizing is superlinear in nesting depth (20,000
# nested <div>s take seconds); past this many tags the body's raw HTML is shown as text.
MAX_RAW_TAGS = 2_000
_TAG_START = re.compile(r"<[A-Za-z/!?]")


def too_much_markup(source: str) -> bool:
    return len(_TAG_START.findall(source, 0, len(source))) > MAX_RAW_TAGS


def render_markdown(source: str, base_url: str) -> str:
    """CommonMark to sanitized HTML, URLs absolute against ``base_url``."""
    if not source.strip():
        return ""
    return sanitize(_markdown(raw_html=not too_much_markup(source)).render(source), base_url)


def sanitize(fragment: str, base_url: str) -> str:
    def keep_url(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in _URL_ATTRIBUTES:
            return value
        try:
            return absolute_url(value, base_url)
        except BadURL:
            return None

    return nh3.clean(
        fragment,
        tags=set(_TAGS),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        attribute_filter=keep_url,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def related_list(links: tuple[Link, ...]) -> str:
    """The ``related`` items as a short HTML list a reader shows under the article."""
    if not links:
        return ""
    items = "".join(
        f'<li><a href="{html.escape(link.url)}">{html.escape(link.title)}</a></li>' for link in links
    )
    return f"<h2>Related</h2>\n<ul>{items}</ul>"


def paragraph(plain: str) -> str:
    """Plain text as an HTML paragraph (line breaks kept)."""
    return "<p>" + html.escape(plain).replace("\n", "<br>\n") + "</p>"
