"""Renderers: ``Feed -> bytes``, one module per format, pure (no I/O, no clock)."""

from mkfeeds.render.atom import render_atom
from mkfeeds.render.jsonfeed import render_json
from mkfeeds.render.memo import EntryMemo
from mkfeeds.render.rss import render_rss

__all__ = ["EntryMemo", "render_atom", "render_json", "render_rss"]
