"""URL checks and normalisation: only absolute http(s) URLs with a host reach output."""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

SAFE_SCHEMES = frozenset({"http", "https"})
MAX_URL_LENGTH = 2048
# Characters kept as they are when re-quoting; everything else (spaces, non-ASCII,
# quotes, angle brackets) is percent-encoded, and existing escapes survive.
_SAFE_CHARS = "/:@!$&'()*+,;=-._~%?#[]"
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")


class BadURL(ValueError):
    """The value is not a URL that may be published; the message says why."""


# A URL already in the form ``absolute_url`` writes: lower-case http(s) scheme and host
# name, no port, no credentials, a path and maybe a query of characters that need no
# escaping, no escapes to normalise. Most URLs in real articles look like this, and
# they come out unchanged; ``tests/test_urls.py`` checks that the long way agrees.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_CHARS = r"A-Za-z0-9\-._~!$&'()*+,;=:@/"
_CANONICAL = re.compile(rf"https?://{_LABEL}(?:\.{_LABEL})*/[{_PLAIN_CHARS}]*(?:\?[{_PLAIN_CHARS}?]+)?")


def absolute_url(value: str, base: str | None = None) -> str:
    """Return ``value`` as an absolute, ASCII-safe http(s) URL, resolving a relative
    reference against ``base``; raise BadURL otherwise."""
    if len(value) <= MAX_URL_LENGTH and _CANONICAL.fullmatch(value):
        return value
    return _normalised_url(value, base)


def _normalised_url(value: str, base: str | None = None) -> str:
    """``absolute_url`` the long way, for any input."""
    raw = value.strip()
    if not raw:
        raise BadURL("is empty")
    if len(raw) > MAX_URL_LENGTH:
        raise BadURL(f"is longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(raw.replace(" ", "")):
        raise BadURL("contains control characters")
    try:  # urlsplit raises on a malformed IPv6 literal ("http://[::1/")
        scheme = urlsplit(raw).scheme.lower() if ":" in raw else ""
        if scheme and scheme not in SAFE_SCHEMES:
            raise BadURL(f"uses the {scheme!r} scheme; only http and https are published"
                         if scheme.isalnum() and len(scheme) < 20 else "is not an http(s) URL")
        if not scheme:
            if base is None:
                raise BadURL("is relative and there is no base URL to resolve it against")
            raw = urljoin(base, raw)
        parts = urlsplit(raw)
        host = parts.hostname
        port = parts.port  # raises ValueError on a malformed port
    except BadURL:
        raise
    except ValueError:
        raise BadURL("is not a well-formed URL") from None
    if parts.scheme.lower() not in SAFE_SCHEMES:
        raise BadURL("is not an http(s) URL")
    if not host:
        raise BadURL("has no host")
    host = _ascii_host(host)
    default_port = {"http": 80, "https": 443}[parts.scheme.lower()]
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    if parts.username or parts.password:
        raise BadURL("contains credentials")
    path = _canonical_escapes(quote(parts.path, safe=_SAFE_CHARS)) or "/"
    return urlunsplit(
        (parts.scheme.lower(), netloc, path, _canonical_escapes(quote(parts.query, safe=_SAFE_CHARS)),
         _canonical_escapes(quote(parts.fragment, safe=_SAFE_CHARS)))
    )


_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _canonical_escapes(text: str) -> str:
    """RFC 3986 normal form, which feed validators expect of ids: escapes of unreserved
    characters decoded (``%7E`` -> ``~``), the others in upper case (``%2f`` -> ``%2F``)."""
    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()
    return _ESCAPE.sub(fix, text)


def is_absolute(value: str) -> bool:
    """Does ``value`` name its own scheme (``https://…``), rather than lean on a base?"""
    try:
        return bool(urlsplit(value.strip()).scheme)
    except ValueError:
        return False


def _ascii_host(host: str) -> str:
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise BadURL("has a host name that is not valid") from None
    if host.startswith("[") or ":" in host:  # IPv6 literal
        return f"[{host.strip('[]')}]"
    if not _HOST.match(host):
        raise BadURL("has a host name that is not valid")
    return host.lower()


def site_of_domain(domain: str) -> str:
    """``technologyreview.com`` -> ``https://technologyreview.com/``."""
    return absolute_url(f"https://{domain.strip().strip('/')}/")
