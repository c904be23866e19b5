"""Making crawled text safe to show: link targets, length, control characters, spreadsheet formulas.

Crawled strings (titles, link texts, URLs) are untrusted. HTML escaping is the
templates' job (autoescape); this module decides what may become a link and
cuts what would swamp a page or break a file format, and quotes text for CSS.
"""

from __future__ import annotations

import re

from markupsafe import Markup
from urllib.parse import urlsplit

MAX_TEXT = 300
# C0 controls (but tab, newline, carriage return) and DEL: invalid in XML and xlsx, noise in HTML.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A cell starting with one of these is run as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def link_url(url: str | None) -> str | None:
    """The URL if it is safe to render as a link (http/https only), else None."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url if scheme in {"http", "https"} and not _CONTROLS.search(url) else None


def clip(text: str | None, limit: int = MAX_TEXT) -> str:
    """The text without control characters, cut to `limit` characters with an ellipsis."""
    text = _CONTROLS.sub("", text or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cell_text(value: str) -> str:
    """A string for a CSV or xlsx cell: never a formula, never a control character."""
    value = _CONTROLS.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def css_string(text: str) -> Markup:
    """`text` as a CSS string literal, safe inside <style> as it is (no quote, backslash, & or <)."""
    def char(c: str) -> str:
        return c if c.isalnum() or c == " " or (ord(c) > 127 and c.isprintable()) else f"\\{ord(c):x} "
    return Markup('"' + "".join(map(char, text[:200])) + '"')
