"""URLs inside attribute and stylesheet syntax: `srcset` candidates and CSS `url(…)`/`@import`.

Pure string parsing, no URL resolution (the caller makes them canonical) and no
I/O. `srcset` follows the HTML standard's "parse a srcset attribute"
algorithm: a candidate's URL runs to the next whitespace (so it may hold
commas), trailing commas end it, and descriptors (`1x`, `100w`, `50h`) run to
the next comma outside parentheses; a candidate whose descriptors a browser
rejects is never requested, so it is dropped. CSS comments are skipped; a
`url()` with or without quotes and an `@import "…"` string both count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["css_urls", "srcset_urls"]

_SPACE = " \t\n\r\f"
_SEPARATORS = _SPACE + ","
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_CSS_URL = re.compile(
    r"""\burl\(\s*(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s"'()]*))\s*\)"""
    r"""|@import\s+(?:"(?P<idq>[^"\n]*)"|'(?P<isq>[^'\n]*)')""",
    re.IGNORECASE)
_FLOAT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def srcset_urls(value: str) -> Iterator[str]:
    """The URLs of the image candidates in a `srcset` value, in order."""
    position, end = 0, len(value)
    while True:
        while position < end and value[position] in _SEPARATORS:
            position += 1
        if position >= end:
            return
        start = position
        while position < end and value[position] not in _SPACE:
            position += 1
        url = value[start:position]
        descriptors: list[str] = []
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            position = _descriptors(value, position, descriptors)
        if url and _valid_descriptors(descriptors):
            yield url


def _descriptors(value: str, position: int, found: list[str]) -> int:
    """Tokenise descriptors from `position` up to the comma that ends the candidate; the position after it."""
    end = len(value)
    while position < end and value[position] in _SPACE:
        position += 1
    current = ""
    in_parens = False
    while position < end:
        char = value[position]
        position += 1
        if in_parens:
            current += char
            in_parens = char != ")"
        elif char in _SPACE:
            if current:
                found.append(current)
                current = ""
        elif char == ",":
            break
        else:
            current += char
            in_parens = char == "("
    if current:
        found.append(current)
    return position


def _valid_descriptors(descriptors: list[str]) -> bool:
    """At most one width (`100w`, > 0) or density (`1.5x`, >= 0), a height only beside a width."""
    width = density = height = False
    for descriptor in descriptors:
        number, unit = descriptor[:-1], descriptor[-1:]
        if unit == "w" and not (width or density) and number.isdigit() and int(number) > 0:
            width = True
        elif unit == "x" and not (width or density or height) and _FLOAT.match(number) and float(number) >= 0:
            density = True
        elif unit == "h" and not (height or density) and number.isdigit() and int(number) > 0:
            height = True
        else:
            return False
    return not height or width


def css_urls(css: str) -> Iterator[str]:
    """The URLs a stylesheet or a `style` attribute loads: `url(…)` and `@import "…"`, comments skipped."""
    if "/*" in css:
        css = _CSS_COMMENT.sub(" ", css)
    for match in _CSS_URL.finditer(css):
        url = next(g for g in match.group("dq", "sq", "bare", "idq", "isq") if g is not None).strip(_SPACE)
        if url:
            yield url
