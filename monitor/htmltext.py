"""Decoding and reading HTML bytes the way browsers do for Chinese sites.

Shared by the fetch layer and the crawl child, so it imports nothing but the
standard library. Pure functions; never raise on bad input.
"""

from __future__ import annotations

import codecs
import html
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_GB_CODECS = frozenset({"gb2312", "gbk", "gb18030"})
TITLE_MAX = 300


def decode_html(body: bytes, declared: str | None) -> tuple[str, str]:
    """Decode an HTML body; returns (text, codec used).

    Order: a BOM, the declared (header) charset, a <meta> charset in the first
    4 KiB, then strict UTF-8, then GB18030, then UTF-8 with replacement. Any GB
    label decodes as GB18030, the superset browsers use for GBK and GB2312.
    """
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8"
    meta = _META_CHARSET.search(body[:4096])
    for label in (declared, meta.group(1).decode("ascii", "ignore") if meta else None):
        codec = _codec(label)
        if codec is not None:
            return body.decode(codec, errors="replace"), codec
    for codec in ("utf-8", "gb18030"):
        try:
            return body.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return body.decode("utf-8", errors="replace"), "utf-8"


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return "gb18030" if name in _GB_CODECS else name


def extract_title(text: str) -> str:
    """The <title> text: entities unescaped, whitespace collapsed, cut at 300 characters."""
    match = _TITLE.search(text)
    if match is None:
        return ""
    return " ".join(html.unescape(match.group(1)).split())[:TITLE_MAX]


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def declared_charset(content_type: str) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([^\"';\s]+)", content_type, re.IGNORECASE)
    return match.group(1).lower() if match else None
