"""What one HTML page says: title, every outgoing link with its tag and page
region, dates, redirects (meta refresh, simple JS location), soft-404 wording.

Pure: decoded text in, frozen dataclasses out; no I/O, no clock (`today` is
passed in), no decoding (the caller decodes with `monitor.fetch.decode_html`).

Link rules: URLs are canonical (`spiders.urls.canonical`) against <base href>;
non-http(s) targets and same-page fragments ("#", "#top", "") are dropped.
<link> counts for the resources a browser loads (stylesheet, icon) and not for
rel=canonical/alternate/next/preload, which are hints the user never sees
break. A link's region ("context") comes from its ancestors' tags and id/class
words (pinyin included) scored per element, the copyright block (it and all
after it is footer), a date beside the link (list), and, on pages without a
marked menu, the first block of short links near the top (nav).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from spiders.dates import ROW_TAGS, find_dates, mentions_date
from spiders.items import DateHit
from spiders.urls import canonical

__all__ = ["CONTEXTS", "Extracted", "ExtractedLink", "TAGS", "extract", "parse"]

log = logging.getLogger(__name__)

CONTEXTS = ("nav", "subnav", "list", "body", "footer")
TAGS = ("a", "area", "iframe", "frame", "img", "script", "link", "embed", "object", "meta-refresh", "js-location")
TEXT_MAX = 200
TITLE_MAX = 300
SHORT_LINK_TEXT = 10
NAV_GROUP_MIN = 5
FOOTER_BLOCK_MAX_CHARS = 1500

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_LAZY_SRC = ("data-src", "data-original", "data-lazy-src", "lazy-src", "data-lazy")
_LINK_RELS = frozenset({"stylesheet", "icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed"})
_REFRESH = re.compile(r"^\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(['\"]?)(?P<url>[^'\"\s][^'\"]*?)\1\s*;?\s*$",
                      re.IGNORECASE)
_JS_LOCATION = re.compile(
    r"""\blocation(?:\s*\.\s*href)?\s*=(?!=)\s*(?P<q1>['"])(?P<u1>[^'"\\\n]{1,2000})(?P=q1)(?!\s*\+)"""
    r"""|\blocation\s*\.\s*(?:replace|assign)\s*\(\s*(?P<q2>['"])(?P<u2>[^'"\\\n]{1,2000})(?P=q2)\s*\)""")
_COPYRIGHT_XPATH = ("//text()[contains(., '版权所有') or contains(., '©') or contains(., 'ICP备')"
                    " or contains(., '网站标识码') or contains(., '公网安备')"
                    " or contains(translate(., 'COPYRIGHT', 'copyright'), 'copyright')]")
_NOT_FOUND = re.compile(r"页面不存在|网页不存在|页面未找到|页面找不到|找不到(?:该|此|您要的|您所访问的|您访问的|相关)?(?:页面|网页)"
                        r"|页面已(?:被)?删除|页面(?:已)?失效|信息(?:已)?不存在|文章不存在|内容不存在|页面走丢|无法找到(?:该)?页面"
                        r"|not\s*found", re.IGNORECASE)
_404 = re.compile(r"(?<!\d)404(?!\d)")
NOT_FOUND_TITLE_404_MAX = 20
NOT_FOUND_TEXT_MAX = 3000
NOT_FOUND_TEXT_404_MAX = 500


@dataclass(frozen=True)
class ExtractedLink:
    url: str                    # canonical absolute URL
    tag: str                    # one of TAGS
    text: str                   # visible text, else alt/title; at most TEXT_MAX characters
    context: str                # one of CONTEXTS


@dataclass(frozen=True)
class Extracted:
    title: str
    links: tuple[ExtractedLink, ...]
    dates: tuple[DateHit, ...]
    refresh: str | None         # meta refresh target (not a reload of the page itself)
    js_redirect: str | None     # target of a top-level `location = '…'` statement
    not_found_text: bool        # title or short text says the page does not exist (soft-404 evidence)
    text_size: int              # characters of visible text, whitespace collapsed


EMPTY = Extracted("", (), (), None, None, False, 0)


def parse(html: str) -> HtmlElement | None:
    """The lxml tree of `html`, or None when there is no markup at all.

    Control characters and lone surrogates are removed first (libxml2 stops at
    a NUL), an XML declaration too (lxml refuses one in a str).
    """
    cleaned = _XML_DECL.sub("", _CONTROL.sub("", html), count=1)
    if not cleaned.strip():
        return None
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        return lxml.html.document_fromstring(cleaned, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        log.debug("unparseable page: %s", exc)
        return None


def extract(html: str, base_url: str, *, today: date, encoding: str = "utf-8") -> Extracted:
    """Everything govmon reads from one page. `encoding` is the page's, for links' query text."""
    root = parse(html)
    if root is None:
        return EMPTY
    page = canonical(base_url) or base_url
    base = _base_href(root, page, encoding)
    regions = _Regions(root, today)
    found: list[tuple[HtmlElement, ExtractedLink]] = []
    refresh: str | None = None
    js_redirect: str | None = None
    for element in regions.elements:
        context = regions.context_of(element)
        for raw, tag, text in _raw_links(element):
            url = canonical(raw, base, query_encoding=encoding)
            if url is None:
                continue
            if tag == "a":
                context = regions.link_context(element, text)
            found.append((element, ExtractedLink(url, tag, _cut(text, TEXT_MAX), context)))
            if tag == "meta-refresh" and refresh is None and url != page and not _in_noscript(element):
                refresh = url
        if element.tag == "script" and not element.get("src") and js_redirect is None:
            js_redirect = _top_level_redirect(element.text or "", base, encoding)
    links = _with_fallback_nav(found, regions)
    etree.strip_elements(root, "script", "style", "noscript", "template", with_tail=False)
    dates = find_dates(root, today=today, zone=regions.context_of)
    title = _title(root)
    text = " ".join(" ".join(root.itertext()).split())
    return Extracted(title, tuple(dict.fromkeys(links)), dates, refresh, js_redirect,
                     _says_not_found(title, text), len(text))


class _Regions:
    """The page region of every element, decided top-down in one pass over the tree."""

    def __init__(self, root: HtmlElement, today: date) -> None:
        self.today = today
        self.elements: list[HtmlElement] = [e for e in root.iter() if isinstance(e.tag, str)]
        self.index: dict[HtmlElement, int] = {}
        self.zone: dict[HtmlElement, str] = {}
        self._rows: dict[HtmlElement, bool] = {}
        self._closing = _copyright_block(root)
        total = len(self.elements)
        after_copyright = False
        for i, element in enumerate(self.elements):
            self.index[element] = i
            if element is self._closing and i >= total // 2:
                after_copyright = True
            parent = element.getparent()
            inherited = self.zone.get(parent, "body") if parent is not None else "body"
            self.zone[element] = "footer" if after_copyright else _combine(
                inherited, _scores(element), lambda: _near_start(i, total), lambda: _near_end(element, i, total))

    def context_of(self, element: HtmlElement) -> str:
        zone = self.zone.get(element, "body")
        return "body" if zone == "side" else zone

    def link_context(self, anchor: HtmlElement, text: str) -> str:
        zone = self.zone.get(anchor, "body")
        if zone == "footer":
            return zone
        if self._dated(anchor):
            return "list"
        if zone == "side":
            return "subnav" if 0 < len(text) <= SHORT_LINK_TEXT else "body"
        return zone

    def _dated(self, anchor: HtmlElement) -> bool:
        texts = [anchor.text_content(), anchor.tail or ""]
        for sibling in (anchor.getnext(), anchor.getprevious()):
            if sibling is not None and isinstance(sibling.tag, str) and sibling.tag != "a":
                texts.append(sibling.text_content()[:100] + (sibling.tail or ""))
        if any(mentions_date(t, self.today) for t in texts if t.strip()):
            return True
        row = next((a for _, a in zip(range(3), anchor.iterancestors()) if a.tag in ROW_TAGS), None)
        if row is None:
            return False
        if row not in self._rows:
            text = " ".join(row.text_content().split())
            self._rows[row] = len(text) <= 300 and mentions_date(text, self.today)
        return self._rows[row]


# Page regions signalled by id/class words: (needle, region, weight). A needle
# matches inside a word; `_PARTS` match a whole part of a word split at - _ and digits.
_NEEDLES = (
    ("footer", "footer", 3), ("foot", "footer", 3), ("copyright", "footer", 3), ("banquan", "footer", 3),
    ("dibu", "footer", 3), ("subnav", "subnav", 5), ("sub_nav", "subnav", 5), ("sub-nav", "subnav", 5),
    ("sidebar", "subnav", 3), ("lanmu", "subnav", 3), ("栏目", "subnav", 3), ("nav", "nav", 3),
    ("menu", "nav", 3), ("daohang", "nav", 3), ("pagin", "body", 6), ("pager", "body", 6), ("fenye", "body", 6),
    ("pagenav", "body", 6), ("page_nav", "body", 6), ("page-nav", "body", 6), ("pagebar", "body", 6),
    ("list", "list", 3), ("news", "list", 2), ("liebiao", "list", 3), ("xxgk", "list", 1), ("gkml", "list", 1),
    ("zwgk", "list", 1), ("header", "header", 2),
)
_PARTS = {
    "dh": ("nav", 2), "lm": ("subnav", 2), "bq": ("footer", 2), "bottom": ("footer", 2), "lb": ("list", 2),
    "left": ("side", 1), "right": ("side", 1), "side": ("side", 1), "aside": ("side", 1),
    "top": ("header", 1), "head": ("header", 1), "banner": ("header", 1),
}
_TAG_SIGNALS = {"nav": ("nav", 3), "footer": ("footer", 3), "header": ("header", 2), "aside": ("side", 2)}
_PRIORITY = ("footer", "body", "subnav", "nav", "list", "header", "side")
_SECONDARY = re.compile(r"sub|left|side|second|erji|lanmu|^lm")
_SPLIT = re.compile(r"[-_\d]+")


def _scores(element: HtmlElement) -> tuple[str, ...]:
    """Regions the element's tag and id/class words point to, strongest first."""
    words = f"{element.get('class') or ''} {element.get('id') or ''}".lower().split()
    if not words and element.tag not in _TAG_SIGNALS:
        return ()
    totals: dict[str, int] = {}
    for region, weight in [_TAG_SIGNALS[element.tag]] if element.tag in _TAG_SIGNALS else []:
        totals[region] = totals.get(region, 0) + weight
    for word in words:
        for needle, region, weight in _NEEDLES:
            if needle in word:
                totals[region] = totals.get(region, 0) + weight
        for part in _SPLIT.split(word):
            if part in _PARTS:
                region, weight = _PARTS[part]
                totals[region] = totals.get(region, 0) + weight
    ranked = sorted(totals, key=lambda r: (-totals[r], _PRIORITY.index(r)))
    if ranked and ranked[0] == "nav" and any(_SECONDARY.search(w) for w in words):
        ranked[0] = "subnav"
    return tuple(ranked)


def _combine(inherited: str, ranked: tuple[str, ...], near_start: object, near_end: object) -> str:
    """The element's region from its parent's and its own signals; the footer is never left."""
    if inherited == "footer":
        return inherited
    for signal in ranked:
        if signal in ("footer", "header") and not (near_end if signal == "footer" else near_start)():  # type: ignore[operator]
            continue
        if signal in ("footer", "body"):
            return signal
        if inherited in ("nav", "subnav"):
            return inherited
        if signal == "nav":
            return "subnav" if inherited == "side" else "nav"
        if signal in ("subnav", "header"):
            return "subnav" if signal == "subnav" else "nav"
        return signal if inherited in ("body", "side") else inherited
    return inherited
