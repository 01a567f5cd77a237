"""Strict offline feed checker: RSS 2.0, Atom 1.0 and JSON Feed 1.1.

The W3C Feed Validation Service cannot be reached from here, so this module
re-implements, from its published behaviour (w3c/feedvalidator, src/feedvalidator/),
the rules that a generator like mkfeeds can trip, plus RFC 4287's RELAX NG schema
and the JSON Feed 1.1 text.  Three pure functions, bytes in, problems out::

    check_rss(data)      -> list[str]
    check_atom(data)     -> list[str]
    check_jsonfeed(data) -> list[str]

An empty list means the document is valid *and* draws no warning.  Each problem
is one line::

    "<path>: <what is wrong> [<severity> <Rule>]"

    item[3]/pubDate: not an RFC 822 date-time: 'Mon, 4 Mar 24' [error InvalidRFC2822Date]

* ``path`` is XPath-like for XML (``channel/title``, ``item[3]/guid``,
  ``entry[2]/link[1]``; element positions count from 1) and JSONPath-like for
  JSON Feed (``items[0].id``; array indexes count from 0).
* ``severity`` is ``error`` (the W3C validator would call the feed invalid) or
  ``warning`` (valid, but the validator recommends a change).  Both count.
* ``Rule`` is the W3C feedvalidator message class where one exists
  (``MissingGuid``, ``DuplicateAtomLink``, ...), ``RelaxNG`` for RFC 4287 schema
  errors, ``JSONFeed:<Name>`` for JSON Feed 1.1 rules, and ``mkfeeds:<Name>``
  for house rules that are deliberately stricter than the W3C validator
  (absolute http(s) URLs everywhere, UTF-8 only, ...).

W3C *Info* events (e.g. MissingDCLanguage) are not reported: the validator does
not show them either.  ``CharacterData`` (the RSS-profile advice to write ``<``
and ``&`` in titles as hexadecimal references) is not implemented: feedgen
(lxml) cannot avoid it, and our feeds guide accepts it.

Dates in the future are only judged when a ``now`` (aware datetime) is passed:
the functions stay pure and repeatable.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import functools
import html.entities
import json
import os
import re
import string
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes, urlsplit

from lxml import etree

__all__ = ["check_rss", "check_atom", "check_jsonfeed"]

ATOM_NS = "http://www.w3.org/2005/Atom"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"
MEDIA_NS = "http://search.yahoo.com/mrss/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

JSONFEED_VERSION = "https://jsonfeed.org/version/1.1"
RSSBOARD_DOCS = "http://www.rssboard.org/rss-specification"


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def check_rss(data: bytes, *, now: _dt.datetime | None = None) -> list[str]:
    """Problems of an RSS 2.0 document, as the W3C validator (plus house rules) sees them."""
    return _check_xml_feed(data, lambda log: _Rss(log, now))


def check_atom(data: bytes, *, now: _dt.datetime | None = None) -> list[str]:
    """Problems of an Atom 1.0 feed document: RFC 4287 schema, its prose rules, W3C rules."""
    return _check_xml_feed(data, lambda log: _Atom(log, now))


def _check_xml_feed(data: bytes, checker) -> list[str]:  # type: ignore[no-untyped-def]
    """The document-level rules both XML formats share, then the format's own."""
    log = _Log()
    root = _load_xml(data, log)
    if root is not None:
        _check_xml_text(root, log)
        _check_namespace_declarations(root, log)
        _check_xml_lang(root, log)
        checker(log).check(root)
    return log.problems


def check_jsonfeed(data: bytes) -> list[str]:
    """Problems of a JSON Feed 1.1 document, judged against the jsonfeed.org text."""
    log = _Log()
    feed = _load_json(data, log)
    if feed is not None:
        _JsonFeed(log).check(feed)
    return log.problems


# --------------------------------------------------------------------------
# Problem collection
# --------------------------------------------------------------------------


class _Log:
    """Collects problem lines, in document order, without exact duplicates."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, severity: str, path: str, message: str, rule: str) -> None:
        line = f"{path}: {message} [{severity} {rule}]"
        if line not in self.problems:
            self.problems.append(line)

    def error(self, path: str, message: str, rule: str) -> None:
        self.add("error", path, message, rule)

    def warning(self, path: str, message: str, rule: str) -> None:
        self.add("warning", path, message, rule)


def _short(value: object, limit: int = 60) -> str:
    """repr() of a value, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


# --------------------------------------------------------------------------
# XML loading and document-wide checks
# --------------------------------------------------------------------------

_XML_DECL = re.compile(
    rb"""^<\?xml\s+version\s*=\s*(["'])(?P<version>[^"']*)\1"""
    rb"""(?:\s+encoding\s*=\s*(["'])(?P<encoding>[^"']*)\3)?"""
)


def _load_xml(data: bytes, log: _Log) -> etree._Element | None:
    """Parse bytes as a UTF-8 XML 1.0 document; None (with problems logged) if it is not one.

    Mirrors SAXError / UndefinedNamedEntity (not well-formed), BadXmlVersion, and
    mkfeeds:UTF8 (house rule: feeds are UTF-8, declared or by default).
    """
    if not isinstance(data, (bytes, bytearray)):
        log.error("/", f"expected bytes, got {type(data).__name__}", "mkfeeds:Bytes")
        return None
    data = bytes(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        log.error("/", "document is UTF-16/32 (byte-order mark); feeds must be UTF-8", "mkfeeds:UTF8")
        return None
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        log.error("/", f"not UTF-8: byte {exc.start} ({data[exc.start:exc.start + 1]!r})", "mkfeeds:UTF8")
        return None
    decl = _XML_DECL.match(body)
    if decl:
        if decl.group("version") != b"1.0":
            log.error("/", f"XML version must be 1.0, not {decl.group('version').decode()!r}", "BadXmlVersion")
        encoding = decl.group("encoding")
        if encoding is not None and encoding.decode().lower().replace("_", "-") not in ("utf-8", "utf8"):
            log.error("/", f"declared encoding {encoding.decode()!r}; feeds must be UTF-8", "mkfeeds:UTF8")
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        rule = "UndefinedNamedEntity" if "Entity '" in str(exc) else "SAXError"
        log.error(f"line {exc.lineno}", f"not well-formed XML: {exc.msg}", rule)
        return None
    if root.getroottree().docinfo.doctype:
        log.warning("/", "DOCTYPE declaration in a feed", "mkfeeds:Doctype")
    return root


def _elements(el: etree._Element) -> list[etree._Element]:
    """Element children only (no comments or processing instructions)."""
    return [c for c in el if isinstance(c.tag, str)]


def _ns(el: etree._Element) -> str | None:
    return etree.QName(el).namespace


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _qname(el: etree._Element) -> str:
    """The element name as written: prefix:local, or local for the default namespace."""
    return f"{el.prefix}:{_local(el)}" if el.prefix else _local(el)


def _text(el: etree._Element) -> str:
    return "".join(el.itertext())


def _is_c1_or_replacement(ch: str) -> bool:
    return "\x80" <= ch <= "\x9f" or ch == "\ufffd"


_MOJIBAKE = re.compile("[\u00c2\u00c3][\u0080-\u00bf]")


def _bad_characters(text: str) -> str | None:
    """Why W3C's BadCharacters would fire for this text, or None.

    C1 control characters (U+0080-U+009F, usually cp1252 mislabelled as UTF-8),
    U+FFFD (a decoder already gave up), and UTF-8 that was decoded as Latin-1
    and encoded again ("Ã©" for "é").
    """
    for ch in text:
        if _is_c1_or_replacement(ch):
            return f"contains U+{ord(ch):04X}"
    if _MOJIBAKE.search(text):
        try:
            text.encode("latin-1").decode("utf-8")
        except UnicodeError:
            return None
        return "looks double-encoded (UTF-8 read as Latin-1)"
    return None


def _element_path(el: etree._Element) -> str:
    """The path of any element, in the style of the structural checks.

    Names with 1-based positions among same-named siblings (always for item and
    entry); items and entries start the path ("item[2]/title", "entry[1]/link[2]"),
    other RSS elements start at channel, other Atom elements at feed.
    """
    parts = []
    while el is not None:
        parent = el.getparent()
        name = _qname(el)
        if parent is not None:
            same = [c for c in _elements(parent) if c.tag == el.tag]
            if len(same) > 1 or _local(el) in ("item", "entry"):
                name += f"[{same.index(el) + 1}]"
        parts.append(name)
        el = parent
    parts.reverse()
    if parts[0] == "rss" and len(parts) > 1:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in ("channel", "feed") and parts[1].startswith(("item[", "entry[")):
        parts = parts[1:]
    return "/".join(parts)


def _check_xml_text(root: etree._Element, log: _Log) -> None:
    """BadCharacters (warning) in any text or attribute value."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for text in (el.text, el.tail):
            if text and (why := _bad_characters(text)):
                log.warning(_element_path(el), f"text {why}", "BadCharacters")
        for name, value in el.attrib.items():
            if why := _bad_characters(value):
                log.warning(_element_path(el), f"attribute {name} {why}", "BadCharacters")


# Namespaces the W3C validator knows, with their customary prefixes
# (feedvalidator base.py).  Declaring any other namespace draws UnknownNamespace.
_KNOWN_NAMESPACES = {
    "http://www.bloglines.com/about/specs/fac-1.0": "access",
    "http://webns.net/mvcb/": "admin",
    "http://purl.org/rss/1.0/modules/aggregation/": "ag",
    "http://purl.org/rss/1.0/modules/annotate/": "annotate",
    "http://www.w3.org/2007/app": "app",
    "http://media.tangent.org/rss/1.0/": "audio",
    "http://backend.userland.com/blogChannelModule": "blogChannel",
    "http://web.resource.org/cc/": "cc",
    "http://www.microsoft.com/schemas/rss/core/2005": "cf",
    "http://backend.userland.com/creativeCommonsRssModule": "creativeCommons",
    "http://purl.org/rss/1.0/modules/company": "company",
    CONTENT_NS: "content",
    "http://conversationsnetwork.org/rssNamespace-1.0/": "conversationsNetwork",
    "http://my.theinfo.org/changed/1.0/rss/": "cp",
    DC_NS: "dc",
    DCTERMS_NS: "dcterms",
    "http://purl.org/rss/1.0/modules/email/": "email",
    "http://purl.org/rss/1.0/modules/event/": "ev",
    "http://purl.org/syndication/history/1.0": "fh",
    "http://www.w3.org/2003/01/geo/wgs84_pos#": "geo",
    "http://geourl.org/rss/module/": "geourl",
    "http://www.georss.org/georss": "georss",
    "http://www.opengis.net/gml": "gml",
    "http://postneo.com/icbm": "icbm",
    "http://purl.org/rss/1.0/modules/image/": "image",
    "urn:atom-extension:indexing": "indexing",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://rssnamespace.org/feedburner/ext/1.0": "feedburner",
    "http://xmlns.com/foaf/0.1/": "foaf",
    "http://purl.org/rss/1.0/modules/link/": "l",
    MEDIA_NS: "media",
    "http://www.w3.org/1998/Math/MathML": "mathml",
    "http://a9.com/-/spec/opensearchrss/1.0/": "opensearch10",
    "http://a9.com/-/spec/opensearch/1.1/": "opensearch",
    "http://www.opml.org/spec2": "opml",
    RDF_NS: "rdf",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs",
    "http://purl.org/rss/1.0/modules/reference/": "ref",
    "http://purl.org/rss/1.0/modules/richequiv/": "reqv",
    "http://purl.org/rss/1.0/modules/rss091#": "rss091",
    "http://purl.org/rss/1.0/modules/search/": "search",
    "http://purl.org/rss/1.0/modules/slash/": "slash",
    "http://purl.org/rss/1.0/modules/servicestatus/": "ss",
    "http://hacks.benhammersley.com/rss/streaming/": "str",
    "http://purl.org/rss/1.0/modules/subscription/": "sub",
    "http://feedsync.org/2007/feedsync": "sx",
    "http://www.w3.org/2000/svg": "svg",
    "http://purl.org/rss/1.0/modules/syndication/": "sy",
    "http://purl.org/rss/1.0/modules/taxonomy/": "taxo",
    "http://purl.org/rss/1.0/modules/threading/": "thr",
    "http://purl.org/syndication/thread/1.0": "thr",
    "http://madskills.com/public/xml/rss/module/trackback/": "trackback",
    "http://wellformedweb.org/CommentAPI/": "wfw",
    "http://purl.org/rss/1.0/modules/wiki/": "wiki",
    "http://www.usemod.com/cgi-bin/mb.pl?ModWiki": "wiki",
    "http://schemas.xmlsoap.org/soap/envelope/": "soap",
    ATOM_NS: "atom",
    XHTML_NS: "xhtml",
    "http://my.netscape.com/rdf/simple/0.9/": "rss090",
    "http://purl.org/rss/1.0/": "rss1",
    "http://purl.org/net/rss1.1#": "rss11",
    "http://base.google.com/ns/1.0": "g",
    XML_NS: "xml",
    "http://openid.net/xmlns/1.0": "openid",
    "http://www.w3.org/1999/xlink": "xlink",
}
_KNOWN_PREFIXES = {prefix: uri for uri, prefix in _KNOWN_NAMESPACES.items()}


def _check_namespace_declarations(root: etree._Element, log: _Log) -> None:
    """Namespace declarations as the W3C validator judges them.

    MediaRssNamespace (error): Media RSS declared without its trailing slash.
    ReservedPrefix (warning): a well-known prefix bound to another namespace.
    UnknownNamespace (warning): a namespace the validator does not know.
    """
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        parent = el.getparent()
        inherited = parent.nsmap if parent is not None else {}
        for prefix, uri in el.nsmap.items():
            if inherited.get(prefix) == uri:
                continue
            where = _element_path(el)
            shown = f"xmlns:{prefix}" if prefix else "xmlns"
            if uri == MEDIA_NS.rstrip("/"):
                log.error(where, f"{shown}={uri!r}: Media RSS namespace needs its trailing slash", "MediaRssNamespace")
            elif prefix in _KNOWN_PREFIXES and _KNOWN_NAMESPACES.get(uri) != prefix:
                log.warning(where, f"{shown}={uri!r}: prefix {prefix!r} usually means {_KNOWN_PREFIXES[prefix]!r}",
                            "ReservedPrefix")
            elif uri not in _KNOWN_NAMESPACES:
                log.warning(where, f"{shown}={uri!r}: namespace unknown to the W3C validator", "UnknownNamespace")


def _check_xml_lang(root: etree._Element, log: _Log) -> None:
    """InvalidLanguage (error): every non-empty xml:lang must be an ISO 639 code."""
    for el in root.iter():
        if isinstance(el.tag, str) and (lang := el.get(f"{{{XML_NS}}}lang")):
            if problem := _language_problem(lang):
                log.error(_element_path(el) + "/@xml:lang", problem, "InvalidLanguage")


# --------------------------------------------------------------------------
# URIs
# --------------------------------------------------------------------------

_URI_CHARS = frozenset(string.ascii_letters + string.digits + ";/?:@&=+$.-_!~*'()%,#")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_TAG_URI = re.compile(
    r"^tag:([a-z0-9\-._]+?@)?[a-z0-9.\-]+?,\d{4}(-\d{2}(-\d{2})?)?:"
    r"[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*(#[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*)?$"
)
_URN = re.compile(r"^urn:[a-z0-9][a-z0-9-]{1,31}:([a-z0-9()+,.:=@;$_!*'\-]|%[0-9a-f]{2})+$", re.I)
_UUID_URN = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _uri_problem(value: str, *, full: bool = True, iri: bool = False) -> tuple[str, str] | None:
    """(rule, message) if value is not a URI the W3C validator accepts, else None.

    full: the reference must carry a scheme (rfc2396_full: InvalidFullLink).
    iri: characters beyond ASCII are allowed (Atom; rfc3987), else UriNotIri.
    Also InvalidUriChar (an ASCII character that needs %-encoding), InvalidTAG,
    InvalidUUID and InvalidURN for tag: and urn: identifiers.
    """
    if value == "":
        return ("InvalidFullLink" if full else "InvalidLink"), "empty URI"
    for ch in value:
        if ord(ch) < 128 and ch not in _URI_CHARS:
            return "InvalidUriChar", f"character {ch!r} must be %-encoded in {_short(value)}"
    if not iri and any(ord(ch) >= 128 for ch in value):
        return "UriNotIri", f"non-ASCII character in {_short(value)} (an IRI where a URL is expected)"
    if _BAD_PERCENT.search(value):
        return "InvalidUriChar", f"'%' not followed by two hex digits in {_short(value)}"
    scheme = value.split(":", 1)[0].lower() if _SCHEME.match(value) else None
    if scheme is None:
        if full:
            return "InvalidFullLink", f"not a full URI (no scheme): {_short(value)}"
        return None
    if scheme == "tag" and not _TAG_URI.match(value):
        return "InvalidTAG", f"not a valid tag: URI: {_short(value)}"
    if scheme == "urn":
        if value.lower().startswith("urn:uuid:") and not _UUID_URN.match(value):
            return "InvalidUUID", f"not a valid urn:uuid: {_short(value)}"
        if not _URN.match(value):
            return "InvalidURN", f"not a valid URN: {_short(value)}"
    if scheme in ("http", "https", "ftp") and not re.match(r"^\w+://[^/]", value):
        return ("InvalidFullLink" if full else "InvalidLink"), f"{scheme} URI without a host: {_short(value)}"
    return None


def _split(value: str):
    """urlsplit, or None where it gives up (e.g. an unclosed IPv6 bracket)."""
    try:
        parts = urlsplit(value)
        parts.hostname  # noqa: B018 - parses the host, which can raise too
        return parts
    except ValueError:
        return None


def _http_url_problem(value: str, *, allow_mailto: bool = False) -> str | None:
    """House rule mkfeeds:AbsoluteHttpURL: only absolute http(s) URLs with a host reach output."""
    parts = _split(value)
    if parts is None:
        return f"not a parseable URL: {_short(value)}"
    if allow_mailto and parts.scheme.lower() == "mailto":
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"not an absolute http(s) URL: {_short(value)}"
    return None


def _check_url(log: _Log, path: str, value: str, *, iri: bool = False, allow_mailto: bool = False) -> None:
    """A link-like value: W3C URI syntax (error) plus the absolute-http(s) house rule (error)."""
    if found := _uri_problem(value, full=True, iri=iri):
        log.error(path, found[1], found[0])
    elif problem := _http_url_problem(value, allow_mailto=allow_mailto):
        log.error(path, problem, "mkfeeds:AbsoluteHttpURL")


# RFC 3986 section 6.2.2 and 6.2.3 normalisation, as the W3C validator applies it to
# Atom ids (NonCanonicalURI): lower-case scheme and host, no default port, "/" for an
# empty path, no dot segments, %-encoding only where needed (upper-case hex), NFC.

_URI_PARTS = re.compile(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "nntp": 119, "news": 119, "telnet": 23, "gopher": 70}
_RESERVED = frozenset(":/?#[]@!$&'()*+,;=")
_PCHAR_SAFE = "-._~!$&'()*+,;=:@"
_PCT_TOKEN = re.compile(r"%[0-9A-Fa-f]{2}|.", re.S)


def _normalise_component(component: str, safe: str) -> str:
    """Decode %-escapes that need no escaping, encode what must be, keep reserved delimiters."""
    out: list[str] = []
    pending = bytearray()

    def flush() -> None:
        if pending:
            try:
                text = unicodedata.normalize("NFC", pending.decode("utf-8"))
                out.append(quote(text, safe=safe))
            except UnicodeDecodeError:
                out.append(quote(bytes(pending), safe=safe))
            pending.clear()

    for token in _PCT_TOKEN.findall(component):
        char = chr(int(token[1:], 16)) if token.startswith("%") and len(token) == 3 else token
        if char in _RESERVED and char in safe:
            flush()
            out.append(token.upper() if token.startswith("%") else token)
        elif token.startswith("%") and len(token) == 3:
            pending += unquote_to_bytes(token)
        else:
            pending += token.encode("utf-8")
    flush()
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4."""
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.endswith(("/.", "/..")):
        output.append("")
    return "/" + "/".join(output)


def _canonical_uri(value: str) -> str | None:
    """The canonical form of an absolute URI, or None if it has none."""
    match = _URI_PARTS.match(value)
    if not match or match.group(1) is None:
        return None
    scheme = match.group(1).lower()
    authority, path, query, fragment = match.group(2), match.group(3), match.group(4), match.group(5)
    result = scheme + ":"
    if authority is not None:
        userinfo, _, hostport = authority.rpartition("@")
        host, _, port = hostport.partition(":") if not hostport.startswith("[") else (hostport, "", "")
        host = host.lower()
        if host.endswith(".") and host.count(".") > 1:
            host = host[:-1]
        if port and port.isdigit() and int(port) != _DEFAULT_PORTS.get(scheme):
            host += ":" + str(int(port))
        result += "//" + (userinfo + "@" if userinfo and userinfo != ":" else "") + host
        path = _remove_dot_segments(path) if path.startswith("/") else "/" + path if path else "/"
    if authority is not None or path.startswith("/"):
        if authority is None:
            path = _remove_dot_segments(path)
        path = "/".join(_normalise_component(seg, _PCHAR_SAFE) for seg in path.split("/"))
    else:
        path = _normalise_component(path, _PCHAR_SAFE + "/")
    result += path
    if query is not None:
        result += "?" + _normalise_component(query, _PCHAR_SAFE + "/?")
    if fragment is not None:
        result += "#" + _normalise_component(fragment, _PCHAR_SAFE + "/?")
    return result


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_ZONES = {"ut": 0, "gmt": 0, "z": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5,
          "mst": -7, "mdt": -6, "pst": -8, "pdt": -7}

# RFC 2822 as the W3C validator wants it: optional "Day, ", four-digit year, single
# spaces, numeric zone with minutes 00 or 30, or a named US/UT zone.
_RFC822_STRICT = re.compile(
    r"^(?:(?P<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(?P<day>\d\d?) "
    r"(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?P<year>\d{4}) "
    r"(?P<hour>\d\d):(?P<minute>\d\d)(?::(?P<second>\d\d))? "
    r"(?P<zone>[+-]\d\d[03]0|UT|GMT|EST|EDT|CST|CDT|MST|MDT|PST|PDT|Z)$"
)
# What RFC 822 readers still accept: any case, loose spacing, two-digit years,
# any four-digit offset, military zones.  Matching only this is ProblematicalRFC822Date.
_RFC822_LOOSE = re.compile(
    r"^(?:(?:mon|tue|wed|thu|fri|sat|sun)\s*,\s*)?\d\d?\s+"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+\d\d(?:\d\d)?\s+"
    r"\d\d:\d\d(?::\d\d)?\s+(?:[+-]\d{4}|ut|gmt|est|edt|cst|cdt|mst|mdt|pst|pdt|[a-ik-z])?$"
)
_RFC3339 = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)T(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)"
    r"(?P<fraction>\.\d+)?(?P<zone>Z|[+-]\d\d:\d\d)$"
)
_W3CDTF = re.compile(r"^\d{4}(-\d\d(-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d))?)?)?$")


def _check_rfc822(log: _Log, path: str, value: str, now: _dt.datetime | None) -> None:
    """RSS dates (pubDate, lastBuildDate).

    InvalidRFC2822Date (error): not an RFC 822 date-time, or an impossible one.
    ProblematicalRFC822Date (warning): readable, but two-digit year, odd spacing,
      odd zone (e.g. +0545: W3C wants zone minutes 00 or 30).
    IncorrectDOW (error): the day name does not match the date.
    ImplausibleDate (warning): before 1990, or (with now) more than 10 minutes ahead.
    """
    match = _RFC822_STRICT.match(value)
    if not match:
        uncommented = re.sub(r"\([^()]*\)", " ", value).strip().lower()
        if _RFC822_LOOSE.match(uncommented):
            log.warning(path, f"problematical RFC 822 date-time: {_short(value)}", "ProblematicalRFC822Date")
        else:
            log.error(path, f"not an RFC 822 date-time: {_short(value)}", "InvalidRFC2822Date")
        return
    zone = match["zone"]
    if zone[0] in "+-":
        offset = _dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * (-1 if zone[0] == "-" else 1)
    else:
        offset = _dt.timedelta(hours=_ZONES[zone.lower()])
    try:
        moment = _dt.datetime(int(match["year"]), _MONTHS.index(match["month"].lower()) + 1, int(match["day"]),
                              int(match["hour"]), int(match["minute"]), min(int(match["second"] or 0), 59),
                              tzinfo=_dt.timezone(offset))
        if int(match["second"] or 0) > 60:
            raise ValueError("second must be in 0..60")
    except ValueError as exc:
        log.error(path, f"impossible date-time {_short(value)}: {exc}", "InvalidRFC2822Date")
        return
    if match["dow"] and _DAYS[moment.weekday()] != match["dow"].lower():
        log.error(path, f"{match['dow']} is the wrong day of the week for {_short(value)}", "IncorrectDOW")
        return
    _check_plausible(log, path, value, moment, now)


def _check_rfc3339(log: _Log, path: str, value: str, now: _dt.datetime | None, *,
                   rule: str = "InvalidRFC3339Date", plausibility: bool = True) -> None:
    """Atom and JSON Feed dates: RFC 3339 with upper-case T, seconds, and Z or +hh:mm.

    InvalidRFC3339Date (error); ImplausibleDate (warning, Atom only) as for RSS.
    """
    match = _RFC3339.match(value)
    if not match:
        log.error(path, f"not an RFC 3339 date-time (YYYY-MM-DDThh:mm:ss with Z or ±hh:mm): {_short(value)}",
                  rule)
        return
    try:
        zone = match["zone"]
        offset = _dt.timedelta(0)
        if zone != "Z":
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError(f"offset {zone} out of range")
            offset = _dt.timedelta(hours=hours, minutes=minutes) * (-1 if zone[0] == "-" else 1)
        second = int(match["second"])
        if second > 60:
            raise ValueError("second must be in 0..60")
        moment = _dt.datetime(int(match["year"]), int(match["month"]), int(match["day"]),
                              int(match["hour"]), int(match["minute"]), min(second, 59),
                              tzinfo=_dt.timezone(offset))
    except ValueError as exc:
        log.error(path, f"impossible date-time {_short(value)}: {exc}", rule)
        return
    if plausibility:
        _check_plausible(log, path, value, moment, now)


def _check_plausible(log: _Log, path: str, value: str, moment: _dt.datetime, now: _dt.datetime | None) -> None:
    """ImplausibleDate (warning): before 1990, or more than ten minutes after now."""
    if moment.year < 1990:
        log.warning(path, f"implausible date (before 1990): {_short(value)}", "ImplausibleDate")
    elif now is not None and moment > now + _dt.timedelta(minutes=10):
        log.warning(path, f"implausible date (in the future): {_short(value)}", "ImplausibleDate")


# --------------------------------------------------------------------------
# Small value checks
# --------------------------------------------------------------------------

# ISO 639-1 codes (plus the W3C's "x"/"xx" for user-defined languages).
_ISO639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu
hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb
lg li ln lo lt lu lv mg mh mi mk ml mn mo mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj
om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su
sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
x xx
""".split())
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


def _language_problem(value: str) -> str | None:
    """InvalidLanguage: an RFC 5646-shaped tag whose primary subtag is ISO 639.

    Two-letter subtags must be ISO 639-1 codes; three-letter (ISO 639-2/3) subtags
    are accepted on their shape alone.
    """
    if not _LANGUAGE_TAG.match(value):
        return f"not a language tag: {_short(value)}"
    primary = value.split("-", 1)[0].lower()
    if len(primary) == 3 or primary in _ISO639_1:
        return None
    return f"unknown ISO 639 language code {primary!r} in {_short(value)}"


_MIME = re.compile(
    r'^[^\s()<>,;:\\"/\[\]?=]+/[^\s()<>,;:\\"/\[\]?=]+'
    r'(\s*;\s*[^\s()<>,;:\\"/\[\]?=]+=("(\\"|[^"])*"|[^\s()<>,;:\\"/\[\]?=]+))*$'
)
_EMAIL = re.compile(
    r"^[A-Z0-9_\-+.']+@(([0-9]{1,3}\.){3}|([A-Z0-9\-]+\.)+)[A-Z0-9][-A-Z0-9]*$", re.I
)
_EMAIL_IN_TEXT = re.compile(r"<[A-Z0-9_\-+.']+@(([0-9]{1,3}\.){3}|([A-Z0-9\-]+\.)+)[A-Z0-9][-A-Z0-9]*>", re.I)


def _integer(value: str) -> int | None:
    value = value.strip()
    return int(value) if re.fullmatch(r"[+-]?\d+", value) else None


def _check_email_with_name(log: _Log, path: str, value: str) -> None:
    """RSS author, managingEditor, webMaster: "address (Real Name)".

    InvalidContact (error): no valid address.
    MissingRealName (warning): a bare address.
    EmailFormat (warning): another form, e.g. "Name <address>".
    """
    if value.startswith("mailto:"):
        value = unquote_to_bytes(value[7:]).decode("utf-8", "replace")
    if "@" not in value[1:]:
        log.error(path, f"not an e-mail address: {_short(value)}", "InvalidContact")
        return
    if value.endswith(")") and " (" in value:
        address = value.split(" (", 1)[0].strip()
    elif " " in value.strip():
        log.warning(path, f"write the address as 'address (Real Name)', not {_short(value)}", "EmailFormat")
        return
    else:
        log.warning(path, f"add the real name: 'address (Real Name)', not {_short(value)}", "MissingRealName")
        address = value.strip()
    if not _EMAIL.match(address):
        log.error(path, f"not a valid e-mail address: {_short(address)}", "InvalidContact")


_HTML_END_TAG = re.compile(r"</(\w+)>")


def _check_plain_text(log: _Log, path: str, value: str, rule: str = "ContainsHTML") -> None:
    """ContainsHTML / ContainsUndeclaredHTML (warning): HTML end tags in a plain-text field."""
    for tag in _HTML_END_TAG.findall(value):
        if tag.lower() in _HTML_KNOWN:
            log.warning(path, f"plain text contains HTML (</{tag}>)", rule)
            return


def _check_nonblank(log: _Log, path: str, value: str) -> None:
    """NotBlank (warning): an element that should carry text is empty."""
    if not value.strip():
        log.warning(path, "should not be blank", "NotBlank")


# --------------------------------------------------------------------------
# HTML inside feeds (RSS description/content:encoded, Atom type="html", JSON content_html)
# --------------------------------------------------------------------------

_HTML_KNOWN = frozenset("""
a abbr acronym address applet area article aside audio b base basefont bdi bdo big blockquote
body br button canvas caption center cite code col colgroup command comment data datagrid
datalist dd del details dfn dialog dir div dl dt em embed eventsource fieldset figcaption
figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe
img input ins isindex kbd label legend li link listing m main map mark menu meta meter nav
noframes noscript object ol optgroup option output p param picture plaintext pre progress q
rp rt ruby s samp script section select slot small source span strike strong style sub
summary sup table tbody td template textarea tfoot th thead time title tr track tt u ul var
video wbr xmp
""".split())
# Known HTML elements the W3C validator calls a SecurityRisk in feed content.
_HTML_UNSAFE = frozenset("""
applet base basefont body comment embed frame frameset head html iframe isindex link listing
meta noframes object param plaintext script style title xmp
""".split())
# Attributes the W3C validator accepts on HTML in feeds; any other (except data-*)
# is a SecurityRiskAttr.  Note: no on* handlers, no aria-*, no role, no controls.
_HTML_ATTRIBUTES = frozenset("""
abbr accept accept-charset accesskey action align allow allowfullscreen allowpaymentrequest alt
as autocapitalize autocomplete autofocus autoplay axis background balance bgcolor bgproperties
border bordercolor bordercolordark bordercolorlight bottompadding cellpadding cellspacing ch
challenge char charoff choff charset checked cite class clear color cols colspan compact
contenteditable coords crossorigin data datafld datapagesize datasrc datetime decoding default
delay dir dirname disabled download draggable dynsrc enctype end enterkeyhint face for form
formenctype frame galleryimg gutter headers height hidefocus hidden high href hreflang hspace
icon id inputmode is ismap itemid itemprop itemref itemscope itemtype kind keytype label lang
leftspacing loading list longdesc loop loopcount loopend loopstart low lowsrc max maxlength media
method min minlength multiple muted name nohref nonce noshade nowrap open optimum pattern ping
placeholder playsinline point-size poster pqg preload prompt radiogroup readonly referrerpolicy
rel repeat-max repeat-min replace required rev reversed rightspacing rows rowspan rules scope
selected shape size sizes span spellcheck src srclang srcset start step summary suppress
tabindex target template title toppadding translate type unselectable usemap urn valign value
variable volume vspace vrml width wrap xml:lang xmlns
""".split())
_CSS_PROPERTIES = frozenset("""
azimuth background background-color border border-bottom border-bottom-color
border-bottom-style border-bottom-width border-collapse border-color border-left
border-left-color border-left-style border-left-width border-right border-right-color
border-right-style border-right-width border-spacing border-style border-top border-top-color
border-top-style border-top-width border-width clear color cursor direction display elevation
float font font-family font-size font-style font-variant font-weight height letter-spacing
line-height list-style-type margin margin-bottom margin-left margin-right margin-top overflow
padding padding-bottom padding-left padding-right padding-top pause pause-after pause-before
pitch pitch-range richness speak speak-header speak-numeral speak-punctuation speech-rate stress
text-align text-decoration text-indent unicode-bidi vertical-align voice-family volume
white-space width
""".split())
_CSS_KEYWORDS = frozenset("""
aqua auto black block blue bold both bottom brown center collapse dashed dotted fuchsia gray
green !important italic left lime maroon medium none navy normal nowrap olive pointer purple
red right solid silver teal top transparent underline white yellow
""".split())
_CSS_VALUE = re.compile(r"^(#[0-9a-f]+|rgb\(\d+%?,\d*%?,?\d*%?\)?|\d*\.?\d+(cm|em|ex|in|mm|pc|pt|px|%|,|\))?)$")
_HTML_VOID = frozenset("area base basefont br col embed frame hr img input isindex keygen link meta param "
                       "source track wbr".split())
_HTML_OPTIONAL_END = frozenset("p li dt dd option optgroup rt rp tr td th thead tbody tfoot colgroup caption "
                               "html head body".split())
_CLOSES_P = frozenset("address article aside blockquote center details dialog dir div dl fieldset figcaption "
                      "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr main menu nav ol p pre section "
                      "summary table ul listing plaintext xmp".split())
_URL_ATTRIBUTES = frozenset("href src action formaction poster cite background longdesc lowsrc dynsrc "
                            "usemap data".split())
_UNSAFE_SCHEMES = re.compile(r"^\s*(javascript|vbscript|data)\s*:", re.I)


def _style_problem(style: str) -> bool:
    """DangerousStyleAttr: CSS beyond the W3C's short list of harmless properties and values."""
    if not re.match(r"""^([:,;#%.\sa-zA-Z0-9!]|\w-\w|'[\s\w]+'|"[\s\w]+"|\([\d,\s]+\))*$""", style):
        return True
    if not re.match(r"^(\s*[-\w]+\s*:\s*[^:;]*(;|$))*$", style):
        return True
    for prop, value in re.findall(r"([-\w]+)\s*:\s*([^:;]*)", style.lower()):
        if prop not in _CSS_PROPERTIES:
            return True
        if prop.split("-")[0] in ("background", "border", "margin", "padding"):
            if any(word not in _CSS_KEYWORDS and not _CSS_VALUE.match(word) for word in value.split()):
                return True
    return False


class _HTMLScanner(HTMLParser):
    """Walks an HTML fragment and records what the W3C validator would say about it.

    NotHtml (warning): unknown elements and broken structure (unclosed, misnested or
      stray tags, unknown entities) -- the W3C runs a strict HTML5 parser.
    SecurityRisk (warning): script, iframe, object, embed, style, ... elements.
    SecurityRiskAttr (warning): on* handlers and attributes off the W3C allowlist.
    DangerousStyleAttr (warning): style attributes beyond harmless CSS.
    ContainsRelRef (warning) / InvalidUriChar (error): relative <a href>/<img src>
      (only where relative_refs is True: RSS and JSON Feed, which have no base URI).
    mkfeeds:UnsafeURL (error): javascript:, vbscript: or data: in a URL attribute.
    """

    def __init__(self, relative_refs: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.relative_refs = relative_refs
        self.findings: list[tuple[str, str, str]] = []
        self.stack: list[str] = []

    def note(self, severity: str, rule: str, message: str) -> None:
        if (severity, rule, message) not in self.findings:
            self.findings.append((severity, rule, message))

    # -- tags -------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], self_closing: bool) -> None:
        if tag not in _HTML_KNOWN:
            self.note("warning", "NotHtml", f"non-HTML element <{tag}>")
        elif tag in _HTML_UNSAFE:
            self.note("warning", "SecurityRisk", f"contains <{tag}>")
        else:
            self._attributes(tag, attrs)
        if tag in _HTML_VOID:
            return
        if self_closing:
            self.note("warning", "NotHtml", f"<{tag}/> is not a void element")
        if tag in _CLOSES_P:
            self._close_implied(tag, {"p"}, {"button", "table", "td", "th", "caption", "template", "object"})
        if tag == "li":
            self._close_implied(tag, {"li"}, {"ul", "ol", "menu"})
        if tag in ("dt", "dd"):
            self._close_implied(tag, {"dt", "dd"}, {"dl"})
        if tag in ("td", "th"):
            self._close_implied(tag, {"td", "th"}, {"table", "tr"})
        if tag == "tr":
            self._close_implied(tag, {"tr", "td", "th"}, {"table", "tbody", "thead", "tfoot"})
        if tag == "option":
            self._close_implied(tag, {"option"}, {"select", "datalist", "optgroup"})
        self.stack.append(tag)

    def _close_implied(self, tag: str, closes: set[str], boundaries: set[str]) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index] in closes:
                break
            if self.stack[index] in boundaries:
                return
        else:
            return
        unclosed = [t for t in self.stack[index + 1:] if t not in _HTML_OPTIONAL_END]
        if unclosed:
            self.note("warning", "NotHtml", f"<{tag}> while <{unclosed[-1]}> is still open")
        del self.stack[index:]

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_VOID:
            self.note("warning", "NotHtml", f"end tag </{tag}> for a void element")
            return
        if tag not in self.stack:
            self.note("warning", "NotHtml", f"stray end tag </{tag}>")
            return
        index = len(self.stack) - 1 - self.stack[::-1].index(tag)
        unclosed = [t for t in self.stack[index + 1:] if t not in _HTML_OPTIONAL_END]
        if unclosed:
            self.note("warning", "NotHtml", f"</{tag}> closes <{unclosed[-1]}>, which was never closed")
        del self.stack[index:]

    def close(self) -> None:
        super().close()
        unclosed = [t for t in self.stack if t not in _HTML_OPTIONAL_END]
        if unclosed:
            self.note("warning", "NotHtml", f"<{unclosed[-1]}> is never closed")

    # -- attributes -------------------------------------------------------
    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = value or ""
            if name == "style":
                if _style_problem(value):
                    self.note("warning", "DangerousStyleAttr", f"<{tag} style={_short(value)}>")
            elif name.startswith("on") or (name not in _HTML_ATTRIBUTES and not name.startswith("data-")):
                self.note("warning", "SecurityRiskAttr", f"<{tag}> has attribute {name!r}")
            if name in _URL_ATTRIBUTES and _UNSAFE_SCHEMES.match(value):
                if not (name == "src" and tag == "img" and value.strip().lower().startswith("data:image/")):
                    self.note("error", "mkfeeds:UnsafeURL", f"<{tag} {name}={_short(value)}>")
            if self.relative_refs and (tag, name) in (("a", "href"), ("img", "src")):
                ref = value.strip()
                if not re.match(r"\w+:", ref):
                    bad = next((c for c in ref if ord(c) < 128 and c not in _URI_CHARS), None)
                    if bad is not None:
                        self.note("error", "InvalidUriChar", f"<{tag} {name}={_short(ref)}>: character {bad!r}")
                    else:
                        self.note("warning", "ContainsRelRef", f"relative URL <{tag} {name}={_short(ref)}>")


_NAMED_REF = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_NUMERIC_REF = re.compile(r"&#(?:[xX]([0-9A-Fa-f]*)|([0-9]*));?")


def _html_findings(fragment: str, *, relative_refs: bool) -> list[tuple[str, str, str]]:
    """(severity, rule, message) for an HTML fragment."""
    scanner = _HTMLScanner(relative_refs)
    for name in _NAMED_REF.findall(fragment):
        if name + ";" not in html.entities.html5:
            scanner.note("warning", "NotHtml", f"unknown character reference &{name};")
    for hexa, decimal in _NUMERIC_REF.findall(fragment):
        digits = hexa or decimal
        code = int(hexa, 16) if hexa else int(decimal) if decimal else None
        if not digits or code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF or 0x80 <= code <= 0x9F:
            scanner.note("warning", "NotHtml", f"bad numeric character reference in {_short(fragment[:40])}")
    scanner.feed(fragment)
    scanner.close()
    return scanner.findings


def _check_html(log: _Log, path: str, fragment: str, *, relative_refs: bool) -> None:
    for severity, rule, message in _html_findings(fragment, relative_refs=relative_refs):
        log.add(severity, path, message, rule)


# --------------------------------------------------------------------------
# RSS 2.0 (feedvalidator rss.py/root.py, channel.py, item.py, image.py, media.py)
# --------------------------------------------------------------------------

_RSS_CHANNEL = frozenset("title link description language copyright managingEditor webMaster pubDate "
                         "lastBuildDate category generator docs cloud ttl image rating textInput skipHours "
                         "skipDays item".split())
_RSS_CHANNEL_SINGLE = frozenset("title link description language copyright managingEditor webMaster pubDate "
                                "lastBuildDate generator docs cloud ttl image rating textInput skipHours "
                                "skipDays".split())
_RSS_ITEM = frozenset("title link description author category comments enclosure guid pubDate source".split())
_RSS_ITEM_SINGLE = frozenset("title link description author comments guid pubDate source".split())
_RSS_IMAGE = frozenset("url title link width height description".split())
_RSS_CONTAINERS = frozenset("rss channel item image textInput skipHours skipDays cloud enclosure".split())
_RSS_ATTRIBUTES = {
    "rss": {"version"}, "category": {"domain"}, "guid": {"isPermaLink"}, "source": {"url"},
    "enclosure": {"url", "length", "type"},
    "cloud": {"domain", "port", "path", "registerProcedure", "protocol"},
}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class _Rss:
    """RSS 2.0 rules; one instance per document."""

    def __init__(self, log: _Log, now: _dt.datetime | None) -> None:
        self.log = log
        self.now = now
        self.extension_attrs_ok = False

    def check(self, root: etree._Element) -> None:
        """Root element: rss, version 2.0, exactly one channel."""
        log = self.log
        if root.tag != "rss":
            log.error("/", f"root element is <{_qname(root)}>, not <rss>", "mkfeeds:NotRss")
            return
        version = root.get("version")
        if version is None:
            log.error("rss", "missing rss attribute: version", "MissingAttribute")
        elif version != "2.0":
            log.error("rss/@version", f"version is {version!r}, not '2.0'",
                      "InvalidRSSVersion" if version not in ("0.91", "0.92") else "mkfeeds:Rss20")
        channels = [c for c in _elements(root) if c.tag == "channel"]
        for child in _elements(root):
            if child.tag != "channel" and _ns(child) is None:
                log.error(f"rss/{child.tag}", f"undefined rss element: {child.tag}", "UndefinedElement")
        if not channels:
            log.error("rss", "missing rss element: channel", "MissingElement")
            return
        if len(channels) > 1:
            log.error("rss", "rss contains more than one channel", "DuplicateElement")
        docs = channels[0].find("docs")
        self.extension_attrs_ok = docs is not None and (docs.text or "").strip() == RSSBOARD_DOCS
        self._check_core_structure(root, "rss")
        self.channel(channels[0])

    # -- generic structure ------------------------------------------------
    def _check_core_structure(self, el: etree._Element, path: str) -> None:
        """Attributes and text of an element in no namespace.

        UnexpectedAttribute (error): an attribute RSS does not define (or one in a
          namespace the validator knows).  UseOfExtensionAttr (warning): one in an
          unknown namespace (silent when channel/docs points at the RSS Board spec).
        UnexpectedText (error): text directly inside a container element.
        UndefinedElement (error): markup inside a text-only element.
        """
        allowed = _RSS_ATTRIBUTES.get(el.tag, set())
        for name in el.attrib:
            qname = etree.QName(name)
            if qname.namespace == XML_NS or (qname.namespace is None and qname.localname in allowed):
                continue
            if qname.namespace is not None and qname.namespace not in _KNOWN_NAMESPACES:
                if not self.extension_attrs_ok:
                    self.log.warning(path, f"extension attribute {name} on an RSS core element", "UseOfExtensionAttr")
                continue
            self.log.error(path, f"unexpected attribute {qname.localname!r} on <{el.tag}>", "UnexpectedAttribute")
        if el.tag in _RSS_CONTAINERS:
            stray = (el.text or "") + "".join(c.tail or "" for c in el)
            if stray.strip():
                self.log.error(path, f"unexpected text {_short(stray.strip())}", "UnexpectedText")
        else:
            for child in _elements(el):
                self.log.error(f"{path}/{_qname(child)}", f"undefined {el.tag} element: {_qname(child)}",
                               "UndefinedElement")

    def _duplicates_and_unknown(self, el: etree._Element, path: str, known: frozenset[str],
                                single: frozenset[str]) -> None:
        """DuplicateElement (error) for once-only children; UndefinedElement for unknown core ones."""
        counts: dict[str, int] = {}
        for child in _elements(el):
            if _ns(child) is not None:
                continue
            counts[child.tag] = counts.get(child.tag, 0) + 1
            if child.tag == "blink":
                self.log.error(f"{path}/blink", "there is no blink element in RSS", "NoBlink")
            elif child.tag not in known:
                self.log.error(f"{path}/{child.tag}", f"undefined {el.tag} element: {child.tag}", "UndefinedElement")
        for name, count in counts.items():
            if name in single and count > 1:
                self.log.error(f"{path}/{name}", f"{el.tag} contains more than one {name}", "DuplicateElement")

    def _require(self, el: etree._Element, path: str, names: tuple[str, ...]) -> None:
        """MissingTitle / MissingLink / MissingDescription / MissingElement (error)."""
        rules = {"title": "MissingTitle", "link": "MissingLink", "description": "MissingDescription"}
        for name in names:
            if el.find(name) is None:
                self.log.error(path, f"missing {el.tag} element: {name}", rules.get(name, "MissingElement"))

    def _dc_overlap(self, el: etree._Element, path: str, pairs: dict[str, str], rule: str) -> None:
        """DuplicateSemantics / DuplicateItemSemantics (warning): core element and its DC twin."""
        for core, dc in pairs.items():
            if el.find(core) is not None and el.find(f"{{{DC_NS}}}{dc}") is not None:
                self.log.warning(path, f"should not include both {core} and dc:{dc}", rule)

    # -- channel ----------------------------------------------------------
    def channel(self, ch: etree._Element) -> None:
        log, path = self.log, "channel"
        self._check_core_structure(ch, path)
        self._require(ch, path, ("title", "link", "description"))
        self._duplicates_and_unknown(ch, path, _RSS_CHANNEL, _RSS_CHANNEL_SINGLE)
        self._dc_overlap(ch, path, {"managingEditor": "creator", "category": "subject", "pubDate": "date",
                                    "language": "language", "copyright": "rights"}, "DuplicateSemantics")
        seen_item = False
        items = 0
        self_links = 0
        for child in _elements(ch):
            name = _qname(child)
            here = f"{path}/{name}"
            if child.tag == "item":
                items += 1
                seen_item = True
                self.item(child, f"item[{items}]")
                continue
            if seen_item and (_ns(child) is None or child.tag == f"{{{ATOM_NS}}}link"):
                log.warning(here, "channel metadata after the first item", "MisplacedItem")
            if _ns(child) is None:
                self._check_core_structure(child, here)
            value = _text(child).strip()
            if child.tag == "title":
                _check_nonblank(log, here, value)
                _check_plain_text(log, here, value)
            elif child.tag in ("description", "copyright"):
                _check_plain_text(log, here, value)
            elif child.tag == "link":
                _check_url(log, here, value)
            elif child.tag == "docs":
                _check_url(log, here, value)
            elif child.tag == "language":
                if problem := _language_problem(value):
                    log.error(here, problem, "InvalidLanguage")
            elif child.tag in ("managingEditor", "webMaster"):
                _check_email_with_name(log, here, value)
            elif child.tag in ("pubDate", "lastBuildDate"):
                _check_rfc822(log, here, value, self.now)
            elif child.tag == "category":
                _check_plain_text(log, here, value)
            elif child.tag == "ttl":
                number = _integer(value)
                if number is None or number <= 0:
                    log.error(here, f"ttl must be a positive integer, not {_short(value)}", "InvalidPositiveInteger")
            elif child.tag == "image":
                self.image(child, here, ch)
            elif child.tag == "textInput":
                log.warning(here, "avoid textInput: few readers support it", "AvoidTextInput")
            elif child.tag == "skipHours":
                self.skip_hours(child, here)
            elif child.tag == "skipDays":
                self.skip_days(child, here)
            elif child.tag == "cloud":
                self.cloud(child, here)
            elif child.tag == f"{{{ATOM_NS}}}link":
                self_links += child.get("rel") == "self"
                _check_atom_link(log, here, child, container="channel", feed_kind="rss")
            elif _ns(child) == MEDIA_NS:
                _check_media(log, here, child)
        if not self_links:
            log.warning(path, 'missing atom:link with rel="self"', "MissingAtomSelfLink")
        guids: dict[str, int] = {}
        for index, item in enumerate(ch.findall("item"), start=1):
            guid = item.find("guid")
            if guid is not None and (value := _text(guid).strip()):
                if value in guids:
                    log.error(f"item[{index}]/guid", f"guid {_short(value)} already used by item[{guids[value]}]",
                              "DuplicateValue")
                else:
                    guids[value] = index

    def image(self, image: etree._Element, path: str, channel: etree._Element) -> None:
        """Channel image: url, title, link required; width 1..144, height 1..400.

        MissingElement/MissingTitle/MissingLink (error), InvalidWidth/InvalidHeight
        (error), ImageUrlFormat (warning: not jpg/jpeg/gif/png),
        ImageLinkDoesntMatch and ImageTitleDoesntMatch (warning).
        """
        log = self.log
        self._require(image, path, ("url", "title", "link"))
        self._duplicates_and_unknown(image, path, _RSS_IMAGE, _RSS_IMAGE)
        for child in _elements(image):
            here = f"{path}/{_qname(child)}"
            if _ns(child) is None:
                self._check_core_structure(child, here)
            value = _text(child).strip()
            if child.tag == "url":
                _check_url(log, here, value)
                extension = value.rsplit(".", 1)[-1].lower()
                if re.fullmatch(r"\w+", extension) and extension not in ("jpg", "jpeg", "gif", "png"):
                    log.warning(here, f"image should be jpg, gif or png, not {extension!r}", "ImageUrlFormat")
            elif child.tag == "link":
                _check_url(log, here, value)
                channel_link = channel.findtext("link")
                if channel_link and channel_link.strip() != value:
                    log.warning(here, "image link does not match channel link", "ImageLinkDoesntMatch")
            elif child.tag == "title":
                _check_nonblank(log, here, value)
                _check_plain_text(log, here, value)
                channel_title = channel.findtext("title")
                if channel_title and channel_title.strip() != value:
                    log.warning(here, "image title does not match channel title", "ImageTitleDoesntMatch")
            elif child.tag in ("width", "height"):
                limit = 144 if child.tag == "width" else 400
                number = _integer(value)
                if number is None or not 0 < number <= limit:
                    log.error(here, f"{child.tag} must be between 1 and {limit}, not {_short(value)}",
                              "InvalidWidth" if child.tag == "width" else "InvalidHeight")
            elif child.tag == "description":
                _check_plain_text(log, here, value)

    def skip_hours(self, el: etree._Element, path: str) -> None:
        """InvalidHour (error): hour 0..23; NotEnoughHoursInTheDay (error): more than 24."""
        hours = el.findall("hour")
        if len(hours) > 24:
            self.log.error(path, "skipHours can not contain more than 24 hour elements", "NotEnoughHoursInTheDay")
        for index, hour in enumerate(hours, start=1):
            number = _integer(_text(hour))
            if number is None or not 0 <= number <= 23:
                self.log.error(f"{path}/hour[{index}]", f"hour must be 0..23, not {_short(_text(hour))}",
                               "InvalidHour")

    def skip_days(self, el: etree._Element, path: str) -> None:
        """InvalidDay (error): an English weekday name; EightDaysAWeek (error): more than 7."""
        days = el.findall("day")
        if len(days) > 7:
            self.log.error(path, "skipDays can not contain more than 7 day elements", "EightDaysAWeek")
        for index, day in enumerate(days, start=1):
            if _text(day).strip() not in _WEEKDAYS:
                self.log.error(f"{path}/day[{index}]", f"not a weekday name: {_short(_text(day))}", "InvalidDay")

    def cloud(self, el: etree._Element, path: str) -> None:
        """MissingAttribute / InvalidIntegerAttribute (error) on cloud."""
        for attr in ("domain", "port", "path", "registerProcedure", "protocol"):
            if el.get(attr) is None:
                self.log.error(path, f"missing cloud attribute: {attr}", "MissingAttribute")
        port = el.get("port")
        if port is not None and ((number := _integer(port)) is None or number <= 0):
            self.log.error(path, f"port must be a positive integer, not {_short(port)}", "InvalidIntegerAttribute")

    # -- item ---------------------------------------------------------------
    def item(self, item: etree._Element, path: str) -> None:
        log = self.log
        self._check_core_structure(item, path)
        if item.find("title") is None and item.find("description") is None:
            log.error(path, "item must contain either title or description", "ItemMustContainTitleOrDescription")
        if item.find("guid") is None:
            log.warning(path, "item should contain a guid element", "MissingGuid")
        self._duplicates_and_unknown(item, path, _RSS_ITEM, _RSS_ITEM_SINGLE)
        self._dc_overlap(item, path, {"author": "creator", "category": "subject", "pubDate": "date"},
                         "DuplicateItemSemantics")
        if len(item.findall("enclosure")) > 1:
            log.warning(f"{path}/enclosure", "item contains more than one enclosure", "DuplicateEnclosure")
        if len(item.findall(f"{{{CONTENT_NS}}}encoded")) > 1:
            log.error(f"{path}/content:encoded", "item contains more than one content:encoded", "DuplicateElement")
        seen_description = False
        for child in _elements(item):
            here = f"{path}/{_qname(child)}"
            if _ns(child) is None:
                self._check_core_structure(child, here)
            value = _text(child)
            if child.tag == "title":
                _check_nonblank(log, here, value)
                _check_plain_text(log, here, value.strip())
            elif child.tag == "description":
                seen_description = True
                _check_html(log, here, value, relative_refs=True)
            elif child.tag == f"{{{CONTENT_NS}}}encoded":
                if not seen_description:
                    log.warning(here, "put description before content:encoded", "NeedDescriptionBeforeContent")
                _check_html(log, here, value, relative_refs=True)
            elif child.tag in ("link", "comments"):
                _check_url(log, here, value.strip())
            elif child.tag == "author":
                _check_email_with_name(log, here, value.strip())
            elif child.tag == "category":
                _check_nonblank(log, here, value)
                _check_plain_text(log, here, value.strip())
            elif child.tag == "enclosure":
                self.enclosure(child, here)
            elif child.tag == "guid":
                self.guid(child, here)
            elif child.tag == "pubDate":
                _check_rfc822(log, here, value.strip(), self.now)
            elif child.tag == "source":
                url = child.get("url")
                if url is None:
                    log.error(here, "missing source attribute: url", "MissingAttribute")
                else:
                    _check_url(log, here + "/@url", url)
            elif child.tag == f"{{{DC_NS}}}date":
                if not _W3CDTF.match(value.strip()):
                    log.error(here, f"not a W3CDTF date: {_short(value.strip())}", "InvalidW3CDTFDate")
            elif child.tag == f"{{{ATOM_NS}}}link":
                _check_atom_link(log, here, child, container="item", feed_kind="rss")
            elif _ns(child) == MEDIA_NS:
                _check_media(log, here, child)

    def enclosure(self, el: etree._Element, path: str) -> None:
        """enclosure: url (http/https URL), length (integer >= 0), type (MIME) all required.

        MissingAttribute, InvalidURLAttribute, InvalidIntegerAttribute,
        UseZeroForUnknown (length -1), InvalidNonNegativeInteger, InvalidMIMEAttribute.
        """
        log = self.log
        url, length, mime = el.get("url"), el.get("length"), el.get("type")
        if url is None:
            log.error(path, "missing enclosure attribute: url", "MissingAttribute")
        elif not re.match(r"^https?://(([0-9]{1,3}\.){3}|([A-Z0-9\-]+\.)+)[A-Z0-9][-A-Z0-9]*(:\d+)?(/|$)", url, re.I) \
                or _uri_problem(url):
            log.error(path + "/@url", f"enclosure url must be a full http(s) URL: {_short(url)}", "InvalidURLAttribute")
        if length is None:
            log.error(path, "missing enclosure attribute: length", "MissingAttribute")
        elif (number := _integer(length)) is None:
            log.error(path + "/@length", f"length must be an integer, not {_short(length)}", "InvalidIntegerAttribute")
        elif number == -1:
            log.error(path + "/@length", "use 0, not -1, for an unknown length", "UseZeroForUnknown")
        elif number < 0:
            log.error(path + "/@length", f"length must not be negative: {length}", "InvalidNonNegativeInteger")
        if mime is None:
            log.error(path, "missing enclosure attribute: type", "MissingAttribute")
        elif not _MIME.match(mime):
            log.error(path + "/@type", f"not a MIME type: {_short(mime)}", "InvalidMIMEAttribute")

    def guid(self, el: etree._Element, path: str) -> None:
        """guid: isPermaLink is 'true' (default) or 'false'.

        InvalidBooleanAttribute (error); a permalink must be a full URL
        (InvalidHttpGUID, error) and not a tag:/urn:uuid: id (InvalidPermalink,
        error); NotSufficientlyUnique (warning) for short all-digit ids; NotBlank.
        Uniqueness across items (DuplicateValue, error) is checked per channel.
        """
        log = self.log
        value = _text(el).strip()
        _check_nonblank(log, path, value)
        flag = el.get("isPermaLink")
        if flag is not None and flag not in ("true", "false"):
            log.error(path + "/@isPermaLink", f"isPermaLink must be 'true' or 'false', not {_short(flag)}",
                      "InvalidBooleanAttribute")
        if flag in (None, "true"):
            if value.lower().startswith(("tag:", "urn:uuid:")):
                log.error(path, f"a permalink guid must be a URL, not {_short(value)} (set isPermaLink=\"false\")",
                          "InvalidPermalink")
            elif value and (_uri_problem(value) or _http_url_problem(value)):
                log.error(path, f"guid must be a full URL unless isPermaLink=\"false\": {_short(value)}",
                          "InvalidHttpGUID")
        elif len(value) < 9 and value.isdigit():
            log.warning(path, f"guid {_short(value)} is not sufficiently unique", "NotSufficientlyUnique")


# --------------------------------------------------------------------------
# Media RSS (feedvalidator media.py; rssboard.org/media-rss)
# --------------------------------------------------------------------------

_MEDIA_MEDIUM = ("image", "audio", "video", "document", "executable")
_MEDIA_ATTRIBUTES = {
    "content": {"url", "fileSize", "type", "medium", "isDefault", "expression", "bitrate", "framerate",
                "samplingrate", "channels", "duration", "height", "width", "lang"},
    "thumbnail": {"url", "height", "width", "time"},
    "group": set(), "title": {"type"}, "description": {"type"}, "text": {"type", "lang", "start", "end"},
}
_NPT = re.compile(r"^(now|\d+(\.\d+)?|\d+:\d\d:\d\d(\.\d+)?)$")


def _check_media(log: _Log, path: str, el: etree._Element) -> None:
    """media:group, media:content, media:thumbnail, media:title/description.

    MediaGroupWithoutAlternatives (error): a media:group must hold two or more
      media:content (alternatives of the same thing) -- feedgen's media extension
      writes a group per item by default.
    media:content: url (or a media:player) required (MissingAttribute), full URL
      plus the absolute-http(s) house rule; width/height/fileSize positive integers
      (InvalidPositiveInteger); type MIME (InvalidMIMEAttribute); medium and
      expression from their lists (InvalidMediaMedium, InvalidMediaExpression);
      isDefault true/false (InvalidTrueFalse); duration/bitrate/framerate/
      samplingrate numbers (InvalidFloat); lang (InvalidLanguage).
    media:thumbnail: url required; width/height positive integers; time NPT
      (InvalidNPTTime).
    media:title/description: type plain or html (InvalidMediaTextType).
    UnexpectedAttribute (error): an attribute these elements do not define.
    """
    name = _local(el)
    if name in _MEDIA_ATTRIBUTES:
        for attr in el.attrib:
            namespace = etree.QName(attr).namespace
            if (namespace is None and attr not in _MEDIA_ATTRIBUTES[name]) or namespace in _KNOWN_NAMESPACES:
                if namespace != XML_NS:
                    log.error(path, f"unexpected attribute {attr!r} on media:{name}", "UnexpectedAttribute")
    if name == "group":
        contents = [c for c in _elements(el) if c.tag == f"{{{MEDIA_NS}}}content"]
        if len(contents) < 2:
            log.error(path, "media:group must have multiple media:content children", "MediaGroupWithoutAlternatives")
        for index, child in enumerate(_elements(el), start=1):
            if _ns(child) == MEDIA_NS:
                _check_media(log, f"{path}/{_qname(child)}[{index}]", child)
        return
    if name in ("content", "thumbnail"):
        url = el.get("url")
        if url is None:
            if name == "thumbnail" or el.find(f"{{{MEDIA_NS}}}player") is None:
                log.error(path, f"missing media:{name} attribute: url", "MissingAttribute")
        else:
            _check_url(log, path + "/@url", url)
        for attr in ("width", "height") + (("fileSize",) if name == "content" else ()):
            value = el.get(attr)
            if value is not None and ((number := _integer(value)) is None or number <= 0):
                log.error(f"{path}/@{attr}", f"{attr} must be a positive integer, not {_short(value)}",
                          "InvalidPositiveInteger")
    if name == "thumbnail":
        time = el.get("time")
        if time is not None and not _NPT.match(time):
            log.error(path + "/@time", f"not an NPT time: {_short(time)}", "InvalidNPTTime")
    if name == "content":
        checks = {
            "type": (lambda v: _MIME.match(v), "InvalidMIMEAttribute", "not a MIME type"),
            "medium": (lambda v: v in _MEDIA_MEDIUM, "InvalidMediaMedium", "invalid content medium"),
            "expression": (lambda v: v in ("sample", "full", "nonstop"), "InvalidMediaExpression",
                           "invalid content expression"),
            "isDefault": (lambda v: v.lower() in ("true", "false"), "InvalidTrueFalse", "must be true or false"),
            "channels": (lambda v: (n := _integer(v)) is not None and n >= 0, "InvalidNonNegativeInteger",
                         "must be a non-negative integer"),
            "lang": (lambda v: _language_problem(v) is None, "InvalidLanguage", "not a language code"),
        }
        for attr in ("bitrate", "framerate", "samplingrate", "duration"):
            checks[attr] = (lambda v: re.fullmatch(r"\d+\.?\d*", v), "InvalidFloat", "must be a number")
        for attr, (accept, rule, message) in checks.items():
            value = el.get(attr)
            if value is not None and not accept(value):
                log.error(f"{path}/@{attr}", f"{message}: {_short(value)}", rule)
        for child in _elements(el):
            if _ns(child) == MEDIA_NS:
                _check_media(log, f"{path}/{_qname(child)}", child)
    if name in ("title", "description", "text"):
        kind = el.get("type")
        if kind is not None and kind not in ("plain", "html"):
            log.error(path + "/@type", f"type must be 'plain' or 'html', not {_short(kind)}", "InvalidMediaTextType")
        elif kind == "html":
            _check_html(log, path, _text(el), relative_refs=True)
        else:
            _check_plain_text(log, path, _text(el), "ContainsUndeclaredHTML")


# --------------------------------------------------------------------------
# atom:link, in Atom feeds and in RSS channels (feedvalidator link.py)
# --------------------------------------------------------------------------

_LINK_RELATIONS = frozenset("alternate current describedby edit edit-media enclosure first hub last license "
                            "next next-archive payment prev-archive previous related replies search self "
                            "service up via".split())
_RFC5005_RELATIONS = frozenset("current first last next next-archive prev-archive previous".split())
_FEED_TYPES = ("application/atom+xml", "application/rss+xml", "application/rdf+xml")


def _check_atom_link(log: _Log, path: str, link: etree._Element, *, container: str, feed_kind: str) -> None:
    """One atom:link element.

    MissingHref (error); href IRI syntax (InvalidIRI & co, error) and the
    absolute-http(s) house rule; RelativeSelf (warning) for a relative self link;
    UnregisteredAtomLinkRel (warning); AttrNotBlank (warning) for rel="" or title="";
    FeedHistoryRelInEntry (warning); InvalidMIMEType (error) for type; SelfNotAtom
    (warning) for a self link typed as something other than a feed;
    mkfeeds:SelfLinkType (error): an RSS self link needs type="application/rss+xml",
    an Atom one, if typed, "application/atom+xml";
    InvalidNonNegativeInteger (error) for length; InvalidLanguage for hreflang;
    AtomLinkNotEmpty (warning) when the element has text.
    """
    rel = link.get("rel", "alternate")
    if rel.startswith("http://www.iana.org/assignments/relation/"):
        rel = rel[len("http://www.iana.org/assignments/relation/"):]
    if "rel" in link.attrib:
        if not rel.strip():
            log.warning(path, "the rel attribute should not be blank", "AttrNotBlank")
        elif rel not in _LINK_RELATIONS and _uri_problem(rel):
            log.warning(path, f"unregistered link relationship {rel!r}", "UnregisteredAtomLinkRel")
        if rel in _RFC5005_RELATIONS and container == "entry":
            log.warning(path, f"feed-history relation {rel!r} on an entry link", "FeedHistoryRelInEntry")
    mime = link.get("type")
    if mime is not None:
        if not _MIME.match(mime):
            log.error(path + "/@type", f"not a MIME type: {_short(mime)}", "InvalidMIMEType")
        elif rel == "self" and mime.split(";")[0].strip() not in _FEED_TYPES:
            log.warning(path + "/@type", f'"self" link references a non-feed type {mime!r}', "SelfNotAtom")
    if rel == "self" and container in ("feed", "channel"):
        wanted = "application/rss+xml" if feed_kind == "rss" else "application/atom+xml"
        if (mime is None and feed_kind == "rss") or (mime is not None and mime.split(";")[0].strip() != wanted):
            log.error(path, f'self link must have type="{wanted}"', "mkfeeds:SelfLinkType")
    title = link.get("title")
    if title is not None:
        if not title.strip():
            log.warning(path, "the title attribute should not be blank", "AttrNotBlank")
        _check_plain_text(log, path + "/@title", title)
    length = link.get("length")
    if length is not None and ((number := _integer(length)) is None or number < 0):
        log.error(path + "/@length", f"length must be a non-negative integer, not {_short(length)}",
                  "InvalidNonNegativeInteger")
    hreflang = link.get("hreflang")
    if hreflang is not None and (problem := _language_problem(hreflang)):
        log.error(path + "/@hreflang", problem, "InvalidLanguage")
    href = link.get("href")
    if href is None:
        log.error(path, "link must have an href attribute", "MissingHref")
    else:
        if rel == "self" and container in ("feed", "channel") and not getattr(_split(href), "netloc", ""):
            log.warning(path + "/@href", f"relative self link {_short(href)}", "RelativeSelf")
        found = _uri_problem(href, full=False, iri=True)
        if found:
            rule, message = found
            log.error(path + "/@href", message, "InvalidIRI" if rule in ("UriNotIri", "InvalidLink") else rule)
        elif problem := _http_url_problem(href):
            log.error(path + "/@href", problem, "mkfeeds:AbsoluteHttpURL")
    if (link.text or "").strip() or any((c.tail or "").strip() for c in link):
        log.warning(path, "link should not have text (all data is in attributes)", "AtomLinkNotEmpty")


# --------------------------------------------------------------------------
# Atom 1.0 (RFC 4287; feedvalidator feed.py, entry.py, content.py, author.py)
# --------------------------------------------------------------------------


def _atom_schema_path() -> Path:
    """RFC 4287's RELAX NG schema: $MKFEEDS_ATOM_RNG, else shared/data beside the repository."""
    candidates = []
    if os.environ.get("MKFEEDS_ATOM_RNG"):
        candidates.append(Path(os.environ["MKFEEDS_ATOM_RNG"]))
    repo = Path(__file__).resolve().parents[1]
    candidates += [repo.parent / "shared" / "data" / "atom-rfc4287.rng",
                   repo / "shared" / "data" / "atom-rfc4287.rng",
                   Path("/work/shared/data/atom-rfc4287.rng")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("atom-rfc4287.rng not found; set MKFEEDS_ATOM_RNG. Looked in: "
                            + ", ".join(map(str, candidates)))


@functools.lru_cache(maxsize=1)
def _atom_schema() -> etree.RelaxNG:
    """The schema, compiled once.  lxml reads the file as it is; its two Schematron
    rules are annotations that lxml ignores, so _Atom checks them in code."""
    return etree.RelaxNG(etree.parse(str(_atom_schema_path())))


def _a(name: str) -> str:
    return f"{{{ATOM_NS}}}{name}"


_FEED_METADATA = frozenset(_a(n) for n in "author category contributor generator icon id link logo rights "
                                          "subtitle title updated".split())


class _Atom:
    """Atom rules; one instance per document."""

    def __init__(self, log: _Log, now: _dt.datetime | None) -> None:
        self.log = log
        self.now = now

    def check(self, root: etree._Element) -> None:
        log = self.log
        if root.tag != _a("feed"):
            log.error("/", f"root element is <{_qname(root)}>, not an Atom <feed>", "mkfeeds:NotAtomFeed")
            return
        schema = _atom_schema()
        if not schema.validate(root):
            errors = list(schema.error_log)
            located = [e for e in errors if e.path] or errors
            for error in located:
                where = f"line {error.line}"
                if error.path:
                    found = root.getroottree().xpath(error.path)
                    where = _element_path(found[0]) if found else error.path
                log.error(where, f"RFC 4287 schema: {error.message}", "RelaxNG")
        for el in root.iter(_a("*")):
            if el.prefix:
                log.warning(_element_path(el), f"Atom element written with prefix {el.prefix!r}",
                            "AvoidNamespacePrefix")
                break
        self.feed(root)

    # -- feed -----------------------------------------------------------------
    def feed(self, feed: etree._Element) -> None:
        """Feed-level rules.

        MissingElement (error): id, title, updated; an author on the feed unless
          every entry has one (RFC 4287 4.1.1, not expressible in the schema).
        MisplacedMetadata (error): feed metadata after the first entry.
        MissingSelf (warning): no link rel="self".
        DuplicateAtomLink (error): two alternate links with the same type and hreflang.
        """
        log, path = self.log, "feed"
        for name in ("id", "title", "updated"):
            if feed.find(_a(name)) is None:
                log.error(path, f"missing feed element: {name}", "MissingElement")
        seen_entry = False
        for child in _elements(feed):
            if child.tag == _a("entry"):
                seen_entry = True
            elif seen_entry and child.tag in _FEED_METADATA:
                log.error(f"{path}/{_qname(child)}", f"{_qname(child)} must appear before all entries",
                          "MisplacedMetadata")
        self.metadata(feed, path, container="feed")
        links = feed.findall(_a("link"))
        if not any(link.get("rel") == "self" for link in links):
            log.warning(path, 'missing atom:link with rel="self"', "MissingSelf")
        entries = feed.findall(_a("entry"))
        feed_has_author = feed.find(_a("author")) is not None
        for index, entry in enumerate(entries, start=1):
            self.entry(entry, f"entry[{index}]", feed_has_author)
        self.across_entries(entries)

    def metadata(self, el: etree._Element, path: str, *, container: str) -> None:
        """Children shared by feed and entry: id, dates, links, text constructs, people."""
        log = self.log
        link_index = 0
        for child in _elements(el):
            if _ns(child) != ATOM_NS:
                continue
            name = _local(child)
            here = f"{path}/{name}"
            if name == "link":
                link_index += 1
                _check_atom_link(log, f"{path}/link[{link_index}]", child, container=container, feed_kind="atom")
            elif name == "id":
                self.identifier(child, here)
            elif name in ("updated", "published"):
                value = child.text or ""
                self.no_whitespace(here, value)
                _check_rfc3339(log, here, value.strip(), self.now)
            elif name in ("title", "subtitle", "rights", "summary"):
                self.text_construct(child, here)
            elif name == "content":
                self.text_construct(child, here, content=True)
            elif name in ("author", "contributor"):
                self.person(child, here)
            elif name in ("icon", "logo"):
                value = child.text or ""
                self.no_whitespace(here, value)
                _check_nonblank(log, here, value)
                if value.strip():
                    _check_url(log, here, value.strip(), iri=True)
            elif name == "generator":
                _check_nonblank(log, here, _text(child))
                if (uri := child.get("uri")) is not None:
                    _check_url(log, here + "/@uri", uri, iri=True)
            elif name == "category":
                if (scheme := child.get("scheme")) is not None and (found := _uri_problem(scheme, iri=True)):
                    log.error(here + "/@scheme", found[1], found[0])
        self.alternate_links(el, path)

    def alternate_links(self, el: etree._Element, path: str) -> None:
        """DuplicateAtomLink (error): alternates must differ in type or hreflang.

        A link without rel is an alternate link; feedgen 1.0.0 drops rel/type from
        entry links, so an entry with an alternate and an enclosure link trips this.
        """
        seen: set[tuple[str, str]] = set()
        for link in el.findall(_a("link")):
            if link.get("rel", "alternate") != "alternate":
                continue
            key = (link.get("type", ""), link.get("hreflang", ""))
            if key in seen:
                log_key = f"type={key[0]!r} hreflang={key[1]!r}"
                self.log.error(path, f"duplicate alternate links with the same type and hreflang ({log_key})",
                               "DuplicateAtomLink")
            seen.add(key)

    def no_whitespace(self, path: str, value: str) -> None:
        """UnexpectedWhitespace (error): ids, dates, icon, logo carry no surrounding whitespace."""
        if value != value.strip():
            self.log.error(path, "whitespace not permitted here", "UnexpectedWhitespace")

    def identifier(self, el: etree._Element, path: str) -> None:
        """atom:id: a full IRI (InvalidFullLink & co, error), no whitespace, and in
        canonical form (NonCanonicalURI, warning: e.g. 'https://Example.com' should be
        'https://example.com/')."""
        value = el.text or ""
        self.no_whitespace(path, value)
        value = value.strip()
        if found := _uri_problem(value, full=True, iri=True):
            self.log.error(path, found[1], found[0])
            return
        canonical = _canonical_uri(value)
        if canonical is not None and canonical != value:
            self.log.warning(path, f"id {value!r} is not in canonical form ({canonical!r})", "NonCanonicalURI")

    def person(self, el: etree._Element, path: str) -> None:
        """author/contributor: a name (MissingElement, error; NotBlank, warning) that is
        not an e-mail (ContainsEmail, warning) nor HTML (ContainsHTML); email must be an
        addr-spec (InvalidAddrSpec, error); uri an IRI (house rule: http(s) or mailto)."""
        log = self.log
        name = el.find(_a("name"))
        if name is None:
            log.error(path, f"missing {_local(el)} element: name", "MissingElement")
        else:
            value = _text(name)
            _check_nonblank(log, path + "/name", value)
            _check_plain_text(log, path + "/name", value)
            if _EMAIL_IN_TEXT.search(value):
                log.warning(path + "/name", "name should not include an e-mail address", "ContainsEmail")
        email = el.find(_a("email"))
        if email is not None and not _EMAIL.match(_text(email).strip()):
            log.error(path + "/email", f"not an e-mail address: {_short(_text(email))}", "InvalidAddrSpec")
        uri = el.find(_a("uri"))
        if uri is not None:
            value = uri.text or ""
            self.no_whitespace(path + "/uri", value)
            _check_url(log, path + "/uri", value.strip(), iri=True, allow_mailto=True)

    def text_construct(self, el: etree._Element, path: str, *, content: bool = False) -> None:
        """title, subtitle, rights, summary, content.

        InvalidTextType (error): a text construct's type other than text/html/xhtml.
        InvalidMIMEType (error): content type neither text/html/xhtml nor a MIME type
          (feedgen's type="CDATA" lands here).
        MissingTypeAttr (warning) / InvalidURIAttribute (error): content with src.
        ContainsUndeclaredHTML (warning): HTML markup in type="text".
        NotHtml / SecurityRisk / SecurityRiskAttr / DangerousStyleAttr (warning): type="html".
        MissingXhtmlDiv (error): type="xhtml" without its xhtml:div wrapper.
        NotBase64 (error): non-XML, non-text media types must be base64.
        NotBlank (warning): empty.
        """
        log = self.log
        declared = el.get("type")
        src = el.get("src") if content else None
        if declared is not None and not declared.strip():
            log.warning(path, "the type attribute should not be blank", "AttrNotBlank")
        kind = declared.strip() if declared and declared.strip() else ("" if src is not None else "text")
        if not content and "/" in kind:
            log.error(path + "/@type", f'type must be "text", "html" or "xhtml", not {kind!r}', "InvalidTextType")
            return
        if src is not None:
            if declared is None:
                log.warning(path, "content with src should have a type attribute", "MissingTypeAttr")
            if found := _uri_problem(src, full=False, iri=True):
                log.error(path + "/@src", found[1], "InvalidURIAttribute")
            if kind and not _MIME.match(kind):
                log.error(path + "/@type", f"out-of-line content needs a MIME type, not {kind!r}", "InvalidMIMEType")
            return
        if kind not in ("text", "html", "xhtml") and (not _MIME.match(kind) or kind == "multipart/alternative"):
            log.error(path + "/@type", f"not a valid content type: {kind!r}", "InvalidMIMEType")
            return
        value = _text(el)
        if kind == "text":
            _check_plain_text(log, path, value, "ContainsUndeclaredHTML")
        elif kind == "html":
            _check_html(log, path, value, relative_refs=False)
        elif kind == "xhtml":
            self.xhtml(el, path)
        elif not (kind.endswith("+xml") or kind.endswith("/xml") or kind.startswith("text/")):
            try:
                base64.b64decode("".join(value.split()), validate=True)
            except (binascii.Error, ValueError):
                log.error(path, f"claims to be base64-encoded ({kind}), but is not", "NotBase64")
        if not value.strip() and not len(el):
            log.warning(path, "should not be blank", "NotBlank")

    def xhtml(self, el: etree._Element, path: str) -> None:
        """type="xhtml": exactly one xhtml:div, holding safe XHTML."""
        children = _elements(el)
        if len(children) != 1 or children[0].tag != f"{{{XHTML_NS}}}div" or (el.text or "").strip():
            self.log.error(path, "missing xhtml:div element", "MissingXhtmlDiv")
            return
        for node in children[0].iter():
            if not isinstance(node.tag, str) or node is children[0]:
                continue
            here = f"{path}/div//{_local(node)}"
            if _ns(node) != XHTML_NS:
                continue
            tag = _local(node)
            if tag not in _HTML_KNOWN:
                self.log.warning(here, f"non-XHTML element <{tag}>", "NotHtml")
            elif tag in _HTML_UNSAFE:
                self.log.warning(here, f"contains <{tag}>", "SecurityRisk")
            for name, value in node.attrib.items():
                if name == "style" and _style_problem(value):
                    self.log.warning(here, f"style={_short(value)}", "DangerousStyleAttr")
                elif name.startswith("on"):
                    self.log.warning(here, f"<{tag}> has attribute {name!r}", "SecurityRiskAttr")
                if name in _URL_ATTRIBUTES and _UNSAFE_SCHEMES.match(value):
                    self.log.error(here, f"<{tag} {name}={_short(value)}>", "mkfeeds:UnsafeURL")

    # -- entries --------------------------------------------------------------
    def entry(self, entry: etree._Element, path: str, feed_has_author: bool) -> None:
        """Entry rules the schema cannot express.

        MissingElement (error): id, title, updated; author when the feed has none
          (an atom:source author also counts).
        MissingContentOrAlternate (error): neither content nor an alternate link
          (a link without rel is an alternate).
        MissingTextualContent (warning): neither content nor summary.
        MissingSummary (error): content by reference (src) or binary, without summary.
        """
        log = self.log
        for name in ("id", "title", "updated"):
            if entry.find(_a(name)) is None:
                log.error(path, f"missing entry element: {name}", "MissingElement")
        if not (feed_has_author or entry.find(_a("author")) is not None
                or entry.find(f"{_a('source')}/{_a('author')}") is not None):
            log.error(path, "missing entry element: author (the feed has none either)", "MissingElement")
        content = entry.find(_a("content"))
        has_summary = entry.find(_a("summary")) is not None
        if content is None:
            if not has_summary:
                log.warning(path, "missing textual content (no content, no summary)", "MissingTextualContent")
            if not any(link.get("rel", "alternate") == "alternate" for link in entry.findall(_a("link"))):
                log.error(path, "missing content or alternate link", "MissingContentOrAlternate")
        elif not has_summary:
            kind = content.get("type", "text")
            binary = "/" in kind and not (kind.endswith(("+xml", "/xml")) or kind.startswith("text/"))
            if content.get("src") is not None or binary:
                log.error(path, "content is not inline text, so a summary is required", "MissingSummary")
        self.metadata(entry, path, container="entry")

    def across_entries(self, entries: list[etree._Element]) -> None:
        """DuplicateEntries (warning): two entries with one id; DuplicateIds (error):
        all of ten or more entries share an id; DuplicateUpdated (warning): two
        entries with the same updated value."""
        ids: dict[str, int] = {}
        updated: dict[str, int] = {}
        duplicates: list[tuple[str, str]] = []
        for index, entry in enumerate(entries, start=1):
            path = f"entry[{index}]"
            if (value := (entry.findtext(_a("id")) or "").strip()):
                if value in ids:
                    duplicates.append((f"{path}/id", f"same id as entry[{ids[value]}]: {_short(value)}"))
                else:
                    ids[value] = index
            if (stamp := (entry.findtext(_a("updated")) or "").strip()):
                if stamp in updated:
                    self.log.warning(f"{path}/updated", f"same updated value as entry[{updated[stamp]}]: {stamp}",
                                     "DuplicateUpdated")
                else:
                    updated[stamp] = index
        if len(entries) > 9 and len(duplicates) == len(entries) - 1:
            self.log.error("feed", "all entries have the same id", "DuplicateIds")
        else:
            for where, message in duplicates:
                self.log.warning(where, message, "DuplicateEntries")


# --------------------------------------------------------------------------
# JSON Feed 1.1 (https://jsonfeed.org/version/1.1)
# --------------------------------------------------------------------------


class _DuplicateKey(ValueError):
    pass


def _pairs_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _load_json(data: bytes, log: _Log) -> object | None:
    """UTF-8 JSON without BOM, duplicate keys, NaN/Infinity or lone surrogates (RFC 8259)."""
    if not isinstance(data, (bytes, bytearray)):
        log.error("$", f"expected bytes, got {type(data).__name__}", "mkfeeds:Bytes")
        return None
    data = bytes(data)
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        log.error("$", "byte-order mark before JSON (RFC 8259 forbids it)", "JSONFeed:Encoding")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        log.error("$", f"not UTF-8: byte {exc.start}", "JSONFeed:Encoding")
        return None
    try:
        feed = json.loads(text, object_pairs_hook=_pairs_without_duplicates, parse_constant=_reject_constant)
    except _DuplicateKey as exc:
        log.error("$", f"duplicate key {str(exc)!r} in an object", "JSONFeed:DuplicateKey")
        return None
    except ValueError as exc:
        log.error("$", f"not valid JSON: {exc}", "JSONFeed:Syntax")
        return None
    bad = _find_lone_surrogate(feed, "$")
    if bad:
        log.error(bad, "string contains a lone surrogate (not Unicode text)", "JSONFeed:Syntax")
    return feed


def _find_lone_surrogate(value: object, path: str) -> str | None:
    if isinstance(value, str):
        return path if any("\ud800" <= ch <= "\udfff" for ch in value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if found := _find_lone_surrogate(key, path) or _find_lone_surrogate(item, f"{path}.{key}"):
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if found := _find_lone_surrogate(item, f"{path}[{index}]"):
                return found
    return None


_JSON_TYPE_NAMES = {str: "a string", bool: "a boolean", list: "an array", dict: "an object", (int, float): "a number"}


class _JsonFeed:
    """JSON Feed 1.1 rules; one instance per document."""

    TOP = {"version": str, "title": str, "home_page_url": str, "feed_url": str, "description": str,
           "user_comment": str, "next_url": str, "icon": str, "favicon": str, "authors": list,
           "language": str, "expired": bool, "hubs": list, "items": list}
    ITEM = {"id": str, "url": str, "external_url": str, "title": str, "content_html": str,
            "content_text": str, "summary": str, "image": str, "banner_image": str, "date_published": str,
            "date_modified": str, "authors": list, "tags": list, "language": str, "attachments": list}
    AUTHOR = {"name": str, "url": str, "avatar": str}
    ATTACHMENT = {"url": str, "mime_type": str, "title": str, "size_in_bytes": (int, float),
                  "duration_in_seconds": (int, float)}
    HUB = {"type": str, "url": str}

    def __init__(self, log: _Log) -> None:
        self.log = log

    # -- generic ----------------------------------------------------------------
    def keys(self, obj: dict, path: str, known: dict[str, object], deprecated: tuple[str, ...] = ()) -> None:
        """Known keys with the right JSON type; null is never a value (omit the key);
        other keys only as extensions ("_" + letter, no ".").

        JSONFeed:Type (error), JSONFeed:Null (error), JSONFeed:UnknownKey (error),
        JSONFeed:Extension (error), mkfeeds:Deprecated10 (error: 1.0's "author").
        """
        for key, value in obj.items():
            here = f"{path}.{key}"
            if key in deprecated:
                self.log.error(here, f"{key!r} is JSON Feed 1.0; write 'authors' (an array)", "mkfeeds:Deprecated10")
            elif key.startswith("_"):
                if not re.match(r"^_[^\W\d_]", key) or "." in key:
                    self.log.error(here, "an extension name is '_' then a letter, without '.'",
                                   "JSONFeed:Extension")
            elif key not in known:
                self.log.error(here, f"unknown key {key!r} (extensions start with '_')", "JSONFeed:UnknownKey")
            elif value is None:
                self.log.error(here, "null is not a value here: omit the key instead", "JSONFeed:Null")
            elif not self.has_type(value, known[key]):
                wanted = _JSON_TYPE_NAMES[known[key]]
                self.log.error(here, f"must be {wanted}, not {type(value).__name__} {_short(value)}",
                               "JSONFeed:Type")

    @staticmethod
    def has_type(value: object, wanted: object) -> bool:
        if wanted == (int, float):
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        return isinstance(value, wanted)  # type: ignore[arg-type]

    def string(self, obj: dict, key: str) -> str | None:
        value = obj.get(key)
        return value if isinstance(value, str) else None

    def url(self, obj: dict, key: str, path: str, *, allow_mailto: bool = False) -> None:
        """URL-valued keys: URI syntax and the absolute-http(s) house rule (error)."""
        if (value := self.string(obj, key)) is not None:
            _check_url(self.log, f"{path}.{key}", value, iri=True, allow_mailto=allow_mailto)

    def language(self, obj: dict, path: str) -> None:
        """JSONFeed:Language (error): RFC 5646 tag with an ISO 639 primary subtag."""
        if (value := self.string(obj, "language")) is not None and (problem := _language_problem(value)):
            self.log.error(f"{path}.language", problem, "JSONFeed:Language")

    def objects(self, obj: dict, key: str, path: str) -> list[tuple[str, dict]]:
        """(path, object) for each member of an array of objects; JSONFeed:Type for others."""
        result = []
        value = obj.get(key)
        if isinstance(value, list):
            for index, member in enumerate(value):
                here = f"{path}.{key}[{index}]"
                if isinstance(member, dict):
                    result.append((here, member))
                else:
                    self.log.error(here, f"must be an object, not {_short(member)}", "JSONFeed:Type")
        return result

    # -- document -----------------------------------------------------------------
    def check(self, feed: object) -> None:
        """Top level: an object; version is the 1.1 URL and comes first; title and
        items are required.

        JSONFeed:Version, JSONFeed:VersionFirst (warning), JSONFeed:Missing,
        JSONFeed:NextUrl (next_url equals feed_url).
        """
        log = self.log
        if not isinstance(feed, dict):
            log.error("$", f"a JSON Feed is an object, not {type(feed).__name__}", "JSONFeed:Type")
            return
        self.keys(feed, "$", self.TOP, deprecated=("author",))
        version = feed.get("version")
        if "version" not in feed:
            log.error("$", "missing required key 'version'", "JSONFeed:Missing")
        elif version != JSONFEED_VERSION:
            log.error("$.version", f"version must be {JSONFEED_VERSION!r}, not {_short(version)}", "JSONFeed:Version")
        elif next(iter(feed)) != "version":
            log.warning("$.version", "version should be the first key", "JSONFeed:VersionFirst")
        for key in ("title", "items"):
            if key not in feed:
                log.error("$", f"missing required key {key!r}", "JSONFeed:Missing")
        if isinstance(feed.get("title"), str):
            _check_plain_text(log, "$.title", feed["title"])
        for key in ("home_page_url", "feed_url", "next_url", "icon", "favicon"):
            self.url(feed, key, "$")
        if "next_url" in feed and feed.get("next_url") == feed.get("feed_url"):
            log.error("$.next_url", "next_url must not be the same as feed_url", "JSONFeed:NextUrl")
        self.language(feed, "$")
        self.authors(feed, "$")
        for path, hub in self.objects(feed, "hubs", "$"):
            self.keys(hub, path, self.HUB)
            for key in ("type", "url"):
                if key not in hub:
                    log.error(path, f"a hub needs {key!r}", "JSONFeed:Missing")
            self.url(hub, "url", path)
        ids: dict[str, str] = {}
        for path, item in self.objects(feed, "items", "$"):
            self.item(item, path, ids)

    def authors(self, obj: dict, path: str) -> None:
        """authors: objects with at least one of name, url, avatar (JSONFeed:EmptyAuthor)."""
        for here, author in self.objects(obj, "authors", path):
            self.keys(author, here, self.AUTHOR)
            if not any(self.string(author, key) for key in ("name", "url", "avatar")):
                self.log.error(here, "an author needs at least one of name, url, avatar", "JSONFeed:EmptyAuthor")
            self.url(author, "url", here, allow_mailto=True)
            self.url(author, "avatar", here)

    def item(self, item: dict, path: str, ids: dict[str, str]) -> None:
        """One item.

        JSONFeed:Missing (id), JSONFeed:EmptyId, JSONFeed:DuplicateId (ids unique in
        the feed), JSONFeed:NoContent (neither content_html nor content_text),
        JSONFeed:Date (RFC 3339 dates), tags as an array of strings, attachments
        with url and mime_type; HTML rules of RSS descriptions on content_html, the
        ContainsHTML warning on title and summary.
        """
        log = self.log
        self.keys(item, path, self.ITEM, deprecated=("author",))
        if "id" not in item:
            log.error(path, "missing required key 'id'", "JSONFeed:Missing")
        elif isinstance(item["id"], str):
            if not item["id"].strip():
                log.error(f"{path}.id", "id must not be empty", "JSONFeed:EmptyId")
            elif item["id"] in ids:
                log.error(f"{path}.id", f"id {_short(item['id'])} already used by {ids[item['id']]}",
                          "JSONFeed:DuplicateId")
            else:
                ids[item["id"]] = path
        if not any(isinstance(item.get(key), str) for key in ("content_html", "content_text")):
            log.error(path, "an item needs content_html or content_text", "JSONFeed:NoContent")
        if (html_text := self.string(item, "content_html")) is not None:
            _check_html(log, f"{path}.content_html", html_text, relative_refs=True)
        for key in ("title", "summary"):
            if (value := self.string(item, key)) is not None:
                _check_plain_text(log, f"{path}.{key}", value)
        for key in ("url", "external_url", "image", "banner_image"):
            self.url(item, key, path)
        for key in ("date_published", "date_modified"):
            if (value := self.string(item, key)) is not None:
                _check_rfc3339(log, f"{path}.{key}", value, None, rule="JSONFeed:Date", plausibility=False)
        if isinstance(item.get("tags"), list):
            for index, tag in enumerate(item["tags"]):
                if not isinstance(tag, str):
                    log.error(f"{path}.tags[{index}]", f"a tag is a string, not {_short(tag)}", "JSONFeed:Type")
        self.language(item, path)
        self.authors(item, path)
        for here, attachment in self.objects(item, "attachments", path):
            self.keys(attachment, here, self.ATTACHMENT)
            for key in ("url", "mime_type"):
                if key not in attachment:
                    log.error(here, f"an attachment needs {key!r}", "JSONFeed:Missing")
            self.url(attachment, "url", here)
            if (mime := self.string(attachment, "mime_type")) is not None and not _MIME.match(mime):
                log.error(f"{here}.mime_type", f"not a MIME type: {_short(mime)}", "JSONFeed:MimeType")
            for key in ("size_in_bytes", "duration_in_seconds"):
                value = attachment.get(key)
                if self.has_type(value, (int, float)) and value < 0:
                    log.error(f"{here}.{key}", f"must not be negative: {value}", "JSONFeed:Type")
