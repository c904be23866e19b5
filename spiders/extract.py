"""What one HTML page says: title, every outgoing link with its tag and page
region, dates, redirects (meta refresh, simple JS location), soft-404 wording.

Pure: decoded text in, frozen dataclasses out; no I/O, no clock (`today` is
passed in), no decoding (the caller decodes with `monitor.htmltext.decode_html`).

Link rules: every URL a reader clicks or a browser loads is a link: a/area
href, img src/srcset (and lazy data-src/data-srcset), input type=image src,
picture/video/audio <source> srcset/src, video src/poster, audio src, track
src, iframe/frame src, object data, embed src, script src, <link> href, meta
refresh, CSS url()/@import in style attributes and <style> blocks, and the
legacy `background` attribute. URLs are canonical (`spiders.urls.canonical`)
against <base href>; javascript:, mailto:, tel:, data: and other non-web
schemes and same-page fragments ("#", "#top", "") are dropped. A reference
meant for the web that names no URL (`http:/x`, `http://`, a bad host or port,
`file:`) is kept apart, as written (`Extracted.malformed`): a dead link, never
followed. <link> counts for the resources a browser loads (stylesheet, icon)
and not for rel=canonical/alternate/next/preload, which are hints the user
never sees break. A link's region ("context") comes from its ancestors' tags
and id/class words (pinyin included) scored per element, the copyright block (it and all
after it is footer), a date beside the link (list), and, on pages without a
marked menu, the first block of short links near the top (nav).
Pagers name their list's last page (a 尾页 link, createPageHTML's count, a
Hanweb <totalrecord>): `Extracted.last_pages`, for the crawl's trap cuts.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from itertools import accumulate, count
from operator import add
from time import thread_time
from typing import Any

from lxml import etree
from lxml.etree import _Element as Element

from monitor.htmltext import as_browsers_read, not_found
from spiders.dates import TextChunks, any_case, scan_dates, text_chunks
from spiders.hidden import HiddenRules, element_hooks
from spiders.items import DateHit, Finding, ListBlock
from spiders.lists import Lists, expand_datastores, pager_anchor
from spiders.pagenotes import future_rows, issued_dates, messages, placeholder
from spiders.resources import css_urls, srcset_urls
from spiders.screen import DEFAULT as DEFAULT_SCREENING
from spiders.screen import Screened, Screening, screen
from spiders.urls import canonical, malformed, page_ref

__all__ = ["CONTEXTS", "TAGS", "Extracted", "ExtractedLink", "extract", "parse"]

log = logging.getLogger(__name__)

CONTEXTS = ("nav", "subnav", "list", "body", "footer")
TAGS = ("a", "area", "iframe", "frame", "img", "script", "link", "embed", "object", "source", "video", "audio",
        "track", "css", "background", "meta-refresh", "js-location", "pager")
TEXT_MAX = 200
TITLE_MAX = 300
SHORT_LINK_TEXT = 10
NAV_GROUP_MIN = 5
NAV_TEXT_MAX = 8
FOOTER_BLOCK_MAX_CHARS = 1500
LAST_PAGE_WORDS = frozenset({"尾页", "末页", "最后一页", "最末页", "尾頁", "last", "last page"})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_CONTROL_BYTES = bytes([*range(0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0x7f])     # _CONTROL's, in UTF-8
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_INLINE_TAG = re.compile(r"</?(?:font|b|i|u|s|em|strong|span|small|big|center|strike|nobr)\b[^>]*>", re.IGNORECASE)
_LAZY_SRC = ("data-src", "data-original", "data-lazy-src", "lazy-src", "data-lazy")
_SRCSETS = ("srcset", "data-srcset")
_MEDIA = {"video": ("src", "poster"), "audio": ("src",), "track": ("src",), "embed": ("src",), "object": ("data",)}
# Relative to the root element and over elements alone: "//@style" would walk every text node as well.
_MARKED = etree.XPath("descendant-or-self::*/@style | descendant-or-self::*/@background"
                      " | descendant-or-self::*/@onclick")
# Every text node in document order, each apart: "<td>1</td><td>13800000001</td>" must not read as one number.
_TEXTS = etree.XPath("descendant-or-self::text()", smart_strings=False)
_LINK_RELS = frozenset({"stylesheet", "icon", "shortcut", "apple-touch-icon", "apple-touch-icon-precomposed"})
_REFRESH = re.compile(r"^\s*\d*(?:\.\d*)?\s*(?:[;,]|\s)\s*(?:url\s*=\s*)?(['\"]?)(?P<url>[^'\"\s][^'\"]*?)\1\s*$",
                      re.IGNORECASE)
_JS_LOCATION = re.compile(
    r"""\blocation(?:\s*\.\s*href)?\s*=(?!=)\s*(?P<q1>['"])(?P<u1>[^'"\\\n]{1,2000})(?P=q1)(?!\s*\+)"""
    r"""|\blocation\s*\.\s*(?:replace|assign)\s*\(\s*(?P<q2>['"])(?P<u2>[^'"\\\n]{1,2000})(?P=q2)\s*\)""")
_COPYRIGHT = re.compile(f"版权所有|©|网站标识码|公网安备|{any_case('icp备')}|{any_case('copyright')}")


@dataclass(frozen=True)
class ExtractedLink:
    url: str                    # canonical absolute URL; in Extracted.malformed, the href as written
    tag: str                    # one of TAGS
    text: str                   # visible text, else alt/title; at most TEXT_MAX characters
    context: str                # one of CONTEXTS
    block: str = ""             # the list block (ListBlock.key) it is an item or pager link of


@dataclass(frozen=True)
class Extracted:
    title: str
    links: tuple[ExtractedLink, ...]
    dates: tuple[DateHit, ...]
    refresh: str | None         # meta refresh target (not a reload of the page itself)
    js_redirect: str | None     # target of a top-level `location = '…'` statement
    not_found_text: bool        # title or short text says the page does not exist (soft-404 evidence)
    text_size: int              # characters of visible text, whitespace collapsed
    malformed: tuple[ExtractedLink, ...] = ()   # links meant for the web that name no URL (never followed)
    lists: tuple[ListBlock, ...] = ()   # the page's list blocks (spiders/lists.py)
    last_pages: tuple[tuple[str, int], ...] = ()   # (spiders.urls.PageRef.list, last number) its pagers name
    findings: tuple[Finding, ...] = ()  # screening of the visible text (spiders/screen.py), masked
    screen_s: float = 0.0       # CPU seconds the screening took (the crawl's stats add them up)
    notes: dict[str, object] | None = None   # page facts for the checklist's checks (spiders/pagenotes.py)
    sheets: tuple[str, ...] = ()    # its linked style sheets, when it has off-site links they could hide


EMPTY = Extracted("", (), (), None, None, False, 0)


def _link(url: str, tag: str, text: str, context: str, block: str = "") -> ExtractedLink:
    """An ExtractedLink made without the frozen dataclass __init__ (one object.__setattr__ a field costs
    more than finding the link did); equal to ExtractedLink(url, tag, text, context, block)."""
    link = _new(ExtractedLink)
    link.__dict__.update(url=url, tag=tag, text=text, context=context, block=block)
    return link


_new = object.__new__


def parse(html: str) -> Element | None:
    """The lxml tree of `html`, or None when there is no markup at all.

    Control characters and lone surrogates are removed first (libxml2 stops at
    a NUL), an XML declaration too (lxml refuses one in a str). libxml2 gives up
    below 2048 open elements; pages that pile up unclosed <font> or <b> tags that
    deep are parsed again without their inline formatting tags. Content after
    </html> (CMS footers) is kept in the body, as browsers keep it.
    """
    data = _utf8(html)
    if data is not None:    # nothing to remove: libxml2 reads UTF-8 bytes faster than a str
        cleaned = as_browsers_read(_XML_DECL.sub("", html, count=1))
        if cleaned is not html:
            data = cleaned.encode("utf-8")
    else:
        cleaned = as_browsers_read(_XML_DECL.sub("", _CONTROL.sub("", html), count=1))
    if not cleaned or cleaned.isspace():
        return None
    root, too_deep = _parse(cleaned if data is None else data)
    if too_deep:
        log.debug("page nests deeper than libxml2 allows; parsing it without inline formatting tags")
        root, _ = _parse(_INLINE_TAG.sub("", cleaned))
    return root


def _utf8(html: str) -> bytes | None:
    """`html` in UTF-8, or None when it holds a control character or a lone surrogate (a control
    character's byte never occurs inside another character's UTF-8 bytes)."""
    try:
        data = html.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return data if len(data.translate(None, _CONTROL_BYTES)) == len(data) else None


def _parse(text: str | bytes) -> tuple[Element | None, bool]:
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True,
                              encoding="utf-8" if isinstance(text, bytes) else None)
    try:
        root = etree.fromstring(text, parser)
    except (etree.ParserError, ValueError) as exc:
        log.debug("unparseable page: %s", exc)
        return None, False
    too_deep = any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)
    return (root if root is not None and isinstance(root.tag, str) else None), too_deep


def extract(html: str, base_url: str, *, today: date, encoding: str = "utf-8",
            screening: Screening = DEFAULT_SCREENING) -> Extracted:
    """Everything govmon reads from one page. `encoding` is the page's, for links' query text;
    `screening` what its visible text is screened for (content:privacy, content:wording)."""
    expanded = expand_datastores(html)
    root = parse(expanded)
    if root is None:
        return EMPTY
    page = canonical(base_url) or base_url
    base = _base_href(root, page, encoding)
    chunks = text_chunks(root)
    regions = _Regions(root, chunks)
    scan = scan_dates(root, today=today, zone=regions.context_of, chunks=chunks)
    regions.rows = scan.rows
    future = [[url, day.isoformat()] for raw, day in future_rows(scan.rows, today)
              if (url := canonical(raw, base, query_encoding=encoding)) is not None]
    lists = Lists(scan.hits, scan.row_of)
    keyed = bool(lists.keyed)
    found: list[tuple[Element, ExtractedLink]] = []
    broken: list[ExtractedLink] = []
    anchor_urls: dict[Element, str] = {}
    pager_anchors: list[Element] = []
    pager_scripts: list[Element] = []
    last_pages: list[tuple[str, int]] = []
    refresh: str | None = None
    js_redirect: str | None = None
    decorated, clicked = _marked(root)
    # Without onclick or CSS links only the linking tags make links: lxml picks them out.
    for element in regions.elements if decorated or clicked else root.iter(*_LINKING_TAGS):
        name = element.tag
        if name == "a" and not (clicked and element.get("onclick")) and (not decorated or element not in decorated):
            href = element.get("href")     # the common case, without _raw_links' generator
            if href is None or _same_page(href):
                continue
            raws: Iterable[tuple[str, str, str]] = ((href, "a", _anchor_text(element)),)
        elif name not in _LINKING_TAGS and element.get("onclick") is None and (
                not decorated or element not in decorated):
            continue
        else:
            raws = _raw_links(element, decorated)
        for raw, tag, text in raws:
            url = canonical(raw, base, query_encoding=encoding)
            if url is None and not malformed(raw):
                continue
            context = regions.link_context(element, text) if tag == "a" else regions.context_of(element)
            if url is None:
                broken.append(_link(raw.strip(), tag, text[:TEXT_MAX], context))
                continue
            key = lists.key_of(element) if keyed and context == "list" and tag == "a" else ""
            found.append((element, _link(url, tag, text[:TEXT_MAX], context, key)))
            if tag == "a":
                if context == "list" and element not in anchor_urls:
                    anchor_urls[element] = url
                elif len(text) <= 5 and pager_anchor(text, url):
                    pager_anchors.append(element)
                if len(text) <= 9 and text.strip("[]【】<>«»| ").lower() in LAST_PAGE_WORDS and (
                        ref := page_ref(url)) is not None:
                    last_pages.append((ref.list, ref.number))
            if tag == "meta-refresh" and refresh is None and url != page and not _in_noscript(element):
                refresh = url
        if name == "script" and not element.get("src"):
            script = element.text or ""
            if js_redirect is None:
                js_redirect = _top_level_redirect(script, base, encoding)
            if "createPageHTML" in script or "countPage" in script:
                pager_scripts.append(element)
    pager_keyed = lists.finish(zone=regions.zone_of, urls=anchor_urls,
                               pager_anchors=pager_anchors, scripts=pager_scripts, page_url=page,
                               datastores=expanded is not html)
    links = _with_fallback_nav(_with_pagers(found, lists, pager_keyed, base, encoding))
    for raw, last in lists.last_pages:
        url = canonical(raw, base, query_encoding=encoding)
        if url is not None and (ref := page_ref(url)) is not None:
            last_pages.append((ref.list, last))
    hidden, hooks, sheets = _hidden(root, found, page)
    asked = messages(root) if _asks(html) else []
    etree.strip_elements(root, "script", "style", "noscript", "template", with_tail=False)
    title = _title(root)
    body = root.find("body")
    shown = root if body is None else body
    every, content = regions.texts(shown)
    began = thread_time()
    screened = screen(title + "\n" + "\n".join(_TEXTS(shown)), screening, today)
    spent = thread_time() - began
    distinct, hits, blocks, bad = _distinct(links), lists.hits, lists.blocks, tuple(dict.fromkeys(broken))
    own_text = _collapse(" ".join(content))
    notes = _notes(own_text, future, page, today, hidden, asked)
    if hooks:
        notes = {**(notes or {}), "sheets": [[url] for url in sheets], "hooks": hooks}
    if screened.numbers:
        title, distinct, hits, blocks = _redacted(screened, title, distinct, hits, blocks)
        bad = tuple(_link(k.url, k.tag, screened.redact(k.text), k.context, k.block) for k in bad)
        notes = _redacted_notes(notes, screened.redact) if notes else notes
    return Extracted(title, distinct, hits, refresh, js_redirect,
                     _says_not_found(title, own_text), len(_collapse(" ".join(every))),
                     malformed=bad, lists=blocks, last_pages=tuple(dict.fromkeys(last_pages)),
                     findings=screened.findings, screen_s=spent, notes=notes, sheets=sheets if hooks else ())


def _redacted_notes(value: Any, redact: Callable[[str], str]) -> Any:
    """The notes with the personal numbers masked in every text (a 留言's title, placeholder wording)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redacted_notes(v, redact) for v in value]
    if isinstance(value, dict):
        return {k: _redacted_notes(v, redact) for k, v in value.items()}
    return value


def _redacted(screened: Screened, title: str, links: tuple[ExtractedLink, ...], hits: tuple[DateHit, ...],
              blocks: tuple[ListBlock, ...]) -> tuple[str, tuple[ExtractedLink, ...], tuple[DateHit, ...],
                                                      tuple[ListBlock, ...]]:
    """The page's texts with the personal numbers screening found masked: none is stored whole."""
    redact = screened.redact
    return (redact(title),
            tuple(_link(k.url, k.tag, redact(k.text), k.context, k.block) for k in links),
            tuple(replace(h, snippet=redact(h.snippet)) for h in hits),
            tuple(replace(b, heading=redact(b.heading)) for b in blocks))



HIDDEN_MAX = 50
SHEETS_MAX = 10
_SHEET_MEDIA = frozenset({"", "all", "screen"})


def _hidden(root: Element, found: list[tuple[Element, ExtractedLink]], page: str
            ) -> tuple[list[list[str]], list[list[str]], tuple[str, ...]]:
    """([URL, why] of the page's `a` links to another host that sit in an element a reader never sees
    (spiders/hidden.py; the check keeps those outside the site's scope), [URL, hooks] of the other such
    links (spiders.hidden.element_hooks: what a rule of a linked sheet can hide them by), the page's
    linked style sheets). At most HIDDEN_MAX of each; hooks only when the page links a style sheet that
    applies on screen (not an alternate or a print sheet)."""
    own = _host_of(page)
    same = ("http://" + own + "/", "https://" + own + "/")     # canonical same-host URLs, told without parsing
    offsite = [(element, link) for element, link in found
               if link.tag == "a" and not link.url.startswith(same) and _host_of(link.url) != own]
    if not offsite:
        return [], [], ()
    sheets = tuple(dict.fromkeys(link.url for element, link in found if link.tag == "link" and _applies(element)))
    rules = HiddenRules.of(root)
    hidden: dict[str, str] = {}
    hooks: dict[str, str] = {}
    for element, link in offsite:
        if link.url in hidden:
            continue
        if why := rules.why(element):
            hidden[link.url] = why
            hooks.pop(link.url, None)
            if len(hidden) >= HIDDEN_MAX:
                break
        elif sheets and link.url not in hooks and len(hooks) < HIDDEN_MAX:
            hooks[link.url] = element_hooks(element)
    return ([[url, why] for url, why in hidden.items()], [[url, chain] for url, chain in hooks.items()],
            sheets[:SHEETS_MAX])


def _applies(element: Element) -> bool:
    """Whether a <link> is a style sheet a browser applies on screen by default."""
    rel = set((element.get("rel") or "").lower().split())
    media = {part.strip().lower() for part in (element.get("media") or "").split(",")}
    return "stylesheet" in rel and "alternate" not in rel and media <= _SHEET_MEDIA


def _host_of(url: str) -> str:
    rest = url.split("//", 1)[-1]
    return rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1].lower()


_MESSAGE_WORDS = re.compile(r"(?:回复|答复|回应|办结)(?:时间|日期)")


def _asks(html: str) -> bool:
    """Whether the page names a reply date (_MESSAGE_WORDS). A one-character find runs at memory speed, a
    scan of the page by the pattern ~10 times slower: most pages hold none of 复, 应 and 结."""
    return ("复" in html or "应" in html or "结" in html) and _MESSAGE_WORDS.search(html) is not None


def _notes(text: str, future: list[list[str]], page: str, today: date,
           hidden: list[list[str]] | None = None, asked: list[list[str]] | None = None) -> dict[str, object] | None:
    """What the checklist's checks read from the page's own text (`text`: navigation, side menus and footer
    left out, white space collapsed): placeholder wording (空白栏目), the publication and 成文 dates it states,
    and its items dated after `today` ([item URL, ISO date], the page's own URL for its header date); None
    when there is nothing (most pages)."""
    notes: dict[str, object] = {}
    if empty := placeholder(text):
        notes["placeholder"] = empty
    published, issued = issued_dates(text)
    if issued is not None:
        notes["issued"] = issued.isoformat()
        if published is not None:
            notes["published"] = published.isoformat()
    if published is not None and published > today:
        future = [*future, [page, published.isoformat()]]
    if future:
        notes["future"] = future
    if hidden:
        notes["hidden"] = hidden
    if asked:
        notes["messages"] = asked
    return notes or None


def _with_pagers(found: list[tuple[Element, ExtractedLink]], lists: Lists, pager_keyed: set[Element], base: str,
                 encoding: str) -> list[tuple[Element, ExtractedLink]]:
    """The links with their pager's list block on pager links, and the pager pages generated for the
    lists (createPageHTML, dataproxy.jsp) as links of tag "pager"."""
    if not pager_keyed and not lists.pagers:
        return found
    keyed = [(element, _link(link.url, link.tag, link.text, link.context, lists.keyed[element])
              if element in pager_keyed and link.tag == "a" else link) for element, link in found]
    anchor = found[-1][0] if found else None
    for raw, text, key in lists.pagers:
        url = canonical(raw, base, query_encoding=encoding)
        if url is not None and anchor is not None:
            keyed.append((anchor, _link(url, "pager", text, "body", key)))
    return keyed


class _Regions:
    """The page region of every element, decided top-down in one pass over the tree."""

    def __init__(self, root: Element, chunks: TextChunks | None = None) -> None:
        self.elements: list[Element] = list(root.iter(etree.Element))     # elements only, filtered by lxml
        self.zone: dict[Element, str] = {}
        self.rows: frozenset[Element] = frozenset()
        closing = _copyright_block(self.elements, chunks)
        total = len(self.elements)
        after_copyright = False
        zone = self.zone
        for i, element in enumerate(self.elements):
            if element is closing:
                after_copyright = True
            parent = element.getparent()
            inherited = zone.get(parent, "body") if parent is not None else "body"
            if after_copyright or inherited == "footer":
                zone[element] = "footer"
                continue
            tag = element.tag
            names, ident = element.get("class"), element.get("id")
            if tag in ("html", "body") or (names is None and ident is None and tag not in _TAG_SIGNALS):
                zone[element] = inherited
            else:
                ranked = _scores(tag, names, ident)
                zone[element] = _combine(inherited, ranked, element, i, total) if ranked else inherited

    def context_of(self, element: Element) -> str:
        zone = self.zone.get(element, "body")
        return "body" if zone == "side" else zone

    def zone_of(self, element: Element) -> str:
        """The element's region as decided (side and header kept apart from body)."""
        return self.zone.get(element, "body")

    def texts(self, shown: Element) -> tuple[list[str], list[str]]:
        """The text pieces under `shown` (its own tail aside), and those outside navigation, side menus and
        footer (its tail included). Each text and tail read once: the order of the first does not matter
        (only its length is used), the second is in the element order of `shown.iter()`."""
        chrome = ("nav", "subnav", "footer")
        zone = self.zone
        every: list[str] = []
        content: list[str] = []
        for element in shown.iter():
            text, tail = element.text, element.tail
            if text:
                every.append(text)
                if zone.get(element) not in chrome:
                    content.append(text)
            if tail:
                parent = element.getparent()
                if element is not shown:
                    every.append(tail)
                if parent is not None and zone.get(parent) not in chrome:
                    content.append(tail)
        return every, content

    def link_context(self, anchor: Element, text: str) -> str:
        zone = self.zone.get(anchor, "body")
        if zone == "footer":
            return zone
        if self._dated(anchor):
            return "list"
        if zone == "side":
            return "subnav" if 0 < len(text) <= SHORT_LINK_TEXT else "body"
        return zone

    def _dated(self, anchor: Element) -> bool:
        """A list-item date stands beside the anchor or in its list row."""
        rows = self.rows
        if anchor in rows:
            return True
        node = anchor.getparent()
        for _ in range(4):
            if node is None:
                return False
            if node in rows:
                return True
            node = node.getparent()
        return False


# Page regions signalled by id/class words: (needle, region, weight). A needle
# matches inside a word; `_PARTS` match a whole part of a word split at - _ and digits.
_NEEDLES = (
    ("footer", "footer", 3), ("foot", "footer", 3), ("copyright", "footer", 3), ("banquan", "footer", 3),
    ("dibu", "footer", 3), ("subnav", "subnav", 5), ("sub_nav", "subnav", 5), ("sub-nav", "subnav", 5),
    ("sidebar", "subnav", 3), ("lanmu", "subnav", 3), ("栏目", "subnav", 3), ("nav", "nav", 3),
    ("menu", "nav", 3), ("daohang", "nav", 3), ("pagin", "body", 6), ("pager", "body", 6), ("fenye", "body", 6),
    ("pagenav", "body", 6), ("page_nav", "body", 6), ("page-nav", "body", 6), ("pagebar", "body", 6),
    ("title", "body", 3), ("more", "body", 3), ("content", "body", 3), ("article", "body", 3),
    ("zhengwen", "body", 3), ("detail", "body", 3),
    ("list", "list", 3), ("news", "list", 2), ("liebiao", "list", 3), ("xxgk", "list", 1), ("gkml", "list", 1),
    ("zwgk", "list", 1), ("header", "header", 2),
)
_PARTS = {
    "dh": ("nav", 2), "lm": ("subnav", 2), "bq": ("footer", 2), "bottom": ("footer", 2), "lb": ("list", 2),
    "tit": ("body", 3), "bt": ("body", 3), "hd": ("body", 3), "con": ("body", 3),
    "left": ("side", 1), "side": ("side", 1), "aside": ("side", 1),
    "top": ("header", 1), "head": ("header", 1), "banner": ("header", 1),
}
_TAG_SIGNALS = {"nav": ("nav", 3), "footer": ("footer", 3), "header": ("header", 2), "aside": ("side", 2)}
_PRIORITY = ("footer", "body", "subnav", "nav", "list", "header", "side")
_SECONDARY = re.compile(r"sub|left|side|second|erji|lanmu|^lm")
_SPLIT = re.compile(r"[-_\d]+")


def _scores(tag: str, names: str | None, ident: str | None) -> tuple[str, ...]:
    """Regions an element's tag and id/class words point to, strongest first (the same few class
    names recur on every page of a site, so the answers are kept)."""
    key = (tag, names, ident)
    ranked = _RANKED.get(key)
    if ranked is None:
        if len(_RANKED) >= _RANKED_MAX:
            _RANKED.clear()
        ranked = _RANKED[key] = _rank(tag, f"{names or ''} {ident or ''}".lower().split())
    return ranked


_RANKED: dict[tuple[str, str | None, str | None], tuple[str, ...]] = {}
_RANKED_MAX = 4096


def _rank(tag: str, words: list[str]) -> tuple[str, ...]:
    tag_signal = _TAG_SIGNALS.get(tag)
    if not words and tag_signal is None:
        return ()
    totals: dict[str, int] = dict([tag_signal]) if tag_signal else {}
    for word in words:
        for region, weight in _word_signals(word).items():
            totals[region] = totals.get(region, 0) + weight
    ranked = sorted(totals, key=lambda r: (-totals[r], _PRIORITY.index(r)))
    if ranked and ranked[0] == "nav" and any(_SECONDARY.search(w) for w in words):
        ranked[0] = "subnav"
    return tuple(ranked)


def _word_signals(word: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for needle, region, weight in _NEEDLES:
        if needle in word:
            totals[region] = totals.get(region, 0) + weight
    for part in _SPLIT.split(word):
        if part in _PARTS:
            region, weight = _PARTS[part]
            totals[region] = totals.get(region, 0) + weight
    return totals


def _combine(inherited: str, ranked: tuple[str, ...], element: Element, index: int, total: int) -> str:
    """The element's region from its parent's and its own signals; footer and menus are never left."""
    for signal in ranked:
        if signal == "footer" and not _near_end(element, index, total):
            continue
        if signal == "header" and (inherited != "body" or not _near_start(index, total)):
            continue
        if signal == "footer" or inherited in ("nav", "subnav"):
            return "footer" if signal == "footer" else inherited
        if signal in ("body", "list", "side"):
            return signal if signal == "body" or inherited in ("body", "side") else inherited
        return "subnav" if signal == "subnav" or inherited == "side" else "nav"
    return inherited


def _near_start(index: int, total: int) -> bool:
    return index <= total * 0.4


def _near_end(element: Element, index: int, total: int) -> bool:
    """A footer closes the page: a top-level block (a box's "更多" foot is not) past the top, little after it."""
    if index < total * 0.3 or sum(1 for a in element.iterancestors() if a.tag not in ("body", "html")) > 2:
        return False
    descendants = sum(1 for _ in element.iterdescendants())
    return total - (index + descendants + 1) <= total * 0.25


def _copyright_block(elements: list[Element], chunks: TextChunks | None = None) -> Element | None:
    """The largest small block around the first copyright/ICP line in the page's second half.

    That block and everything after it is footer: the 党政机关 and 公安备案
    badges often follow it in blocks of their own. The line is the first
    element (in `elements`' order) of the second half, <script> and <style>
    aside, whose text or tail has such words.
    """
    if chunks is not None and chunks.whole:
        line = _copyright_line(elements, chunks)
    else:
        line = _copyright_line_read(elements)
    if line is None:
        return None
    block = line if line.text and _COPYRIGHT.search(line.text) else line.getparent()
    while block is not None and block.tag not in ("body", "html"):
        parent = block.getparent()
        if parent is None or parent.tag in ("body", "html") or _longer_than(parent, FOOTER_BLOCK_MAX_CHARS):
            return block
        block = parent
    return None


def _copyright_line(elements: list[Element], chunks: TextChunks) -> Element | None:
    """`_copyright_block`'s line from the page's text chunks, which hold every text and tail it looks at."""
    found: dict[Element, None] = {}
    for match in _COPYRIGHT.finditer(chunks.full):
        owner, follows = chunks.owners[bisect_right(chunks.starts, match.start()) - 1]
        element = owner if follows is None else follows
        if element.tag not in ("script", "style"):   # a tail of theirs does not count
            found[element] = None
    half = len(elements) // 2
    if len(found) > 4:  # many lines: one pass over the second half instead of a search for each
        position = {element: i for i, element in enumerate(elements[half:], half)}
        first = min((position[e] for e in found if e in position), default=None)
    else:
        first = None
        for element in found:
            try:
                first = elements.index(element, half, len(elements) if first is None else first)
            except ValueError:
                continue
    return elements[first] if first is not None else None


def _copyright_line_read(elements: list[Element]) -> Element | None:
    """`_copyright_block`'s line, reading each text and tail of the page's second half."""
    pieces: list[str] = []
    owners: list[Element] = []
    for e in elements[len(elements) // 2:]:
        if e.tag not in ("script", "style"):
            text, tail = e.text, e.tail
            if text:
                pieces.append(text)
                owners.append(e)
            if tail:
                pieces.append(tail)
                owners.append(e)
    # One search over the texts joined (no word spans the newline between two): the first hit is in the line.
    joined = "\n".join(pieces)
    found = _COPYRIGHT.search(joined)
    if found is None:
        return None
    starts = list(map(add, accumulate(map(len, pieces), initial=0), count()))   # of each piece in `joined`
    return owners[bisect_right(starts, found.start()) - 1]


def _longer_than(element: Element, limit: int) -> bool:
    total = 0
    for piece in element.itertext():
        total += len(piece.strip())
        if total > limit:
            return True
    return False


def _marked(root: Element) -> tuple[frozenset[Element], bool]:
    """Elements with a CSS url() in their style attribute or a `background` attribute, and whether any
    element has an onclick (one XPath pass over the attributes: scanning every element in Python would
    cost more than the links)."""
    decorated: set[Element] = set()
    clicked = False
    for value in _MARKED(root):
        if value.attrname == "onclick":
            clicked = True
        elif value.attrname == "background" or "url(" in value.lower():
            decorated.add(value.getparent())
    return frozenset(decorated), clicked


def _raw_links(element: Element, decorated: frozenset[Element] = frozenset()) -> Iterator[tuple[str, str, str]]:
    """(raw URL, tag, text) for each link the element makes."""
    tag = element.tag
    get = element.get
    if tag in ("a", "area"):
        if not _same_page(get("href")):
            yield get("href", ""), tag, _anchor_text(element) if tag == "a" else (get("alt") or get("title") or "")
    elif tag in ("iframe", "frame") and get("src"):
        yield get("src", ""), tag, get("title") or get("name") or ""
    elif tag == "img":
        text = get("alt") or get("title") or ""
        for attribute in ("src", *_LAZY_SRC):
            if get(attribute):
                yield get(attribute, ""), tag, text
        yield from _srcset(element, tag, text)
    elif tag == "source":
        text = get("title") or ""
        if get("src") and not _same_page(get("src")):
            yield get("src", ""), tag, text
        yield from _srcset(element, tag, text)
    elif tag in _MEDIA:
        text = get("title") or get("label") or get("name") or ""
        for attribute in _MEDIA[tag]:
            if get(attribute) and not _same_page(get(attribute)):
                yield get(attribute, ""), tag, text
    elif tag == "script" and get("src"):
        yield get("src", ""), tag, ""
    elif tag == "script" and element.text:
        for url in _js_locations(element.text):
            yield url, "js-location", ""
    elif tag == "style" and element.text:
        for url in css_urls(element.text):
            if not _same_page(url):
                yield url, "css", ""
    elif tag == "link" and get("href") and _LINK_RELS & set((get("rel") or "").lower().split()):
        yield get("href", ""), tag, ""
    elif tag == "input" and get("src") and (get("type") or "").strip().lower() == "image":
        yield get("src", ""), "img", get("alt") or get("title") or ""
    elif tag == "meta" and (get("http-equiv") or "").strip().lower() == "refresh":
        match = _REFRESH.match(get("content") or "")
        if match:
            yield match.group("url"), "meta-refresh", ""
    elif tag == "select" and ("location" in (get("onchange") or "") or "open" in (get("onchange") or "")):
        for option in element.iter("option"):
            if _ABSOLUTE.match(option.get("value") or ""):
                yield option.get("value", ""), "js-location", _collapse(_text_of(option))
    if get("onclick"):
        for url in _js_locations(get("onclick", "")):
            yield url, "js-location", _collapse(_text_of(element))
    if decorated and element in decorated:
        if get("background") and not _same_page(get("background")):
            yield get("background", ""), "background", ""
        for url in css_urls(get("style") or ""):
            if not _same_page(url):
                yield url, "css", ""


def _srcset(element: Element, tag: str, text: str) -> Iterator[tuple[str, str, str]]:
    for attribute in _SRCSETS:
        value = element.get(attribute)
        if value:
            for url in srcset_urls(value):
                yield url, tag, text


def _same_page(href: str | None) -> bool:
    if href is None:
        return True
    href = href.strip()
    return not href or href[0] == "#"


def _anchor_text(anchor: Element) -> str:
    text = _collapse(_text_of(anchor) if len(anchor) else anchor.text or "")
    if text:
        return text
    image = anchor.find(".//img")
    if image is not None and (image.get("alt") or image.get("title")):
        return _collapse(image.get("alt") or image.get("title") or "")
    return _collapse(anchor.get("title") or "")


def _js_locations(script: str) -> Iterator[str]:
    if "location" in script:
        for match in _JS_LOCATION.finditer(script):
            yield match.group("u1") or match.group("u2")


def _top_level_redirect(script: str, base: str, encoding: str) -> str | None:
    """The first `location = '…'` outside any block: a redirect, not a click handler or a mobile switch."""
    if "location" not in script:
        return None
    for match in _JS_LOCATION.finditer(script):
        before = script[:match.start()]
        if before.count("{") == before.count("}"):
            return canonical(match.group("u1") or match.group("u2"), base, query_encoding=encoding)
    return None


def _in_noscript(element: Element) -> bool:
    return any(a.tag == "noscript" for a in element.iterancestors())


def _distinct(links: list[ExtractedLink]) -> tuple[ExtractedLink, ...]:
    """The links without repeats, in order: as tuple(dict.fromkeys(links)), keyed by plain tuples (hashing
    those costs less than the dataclass __hash__); of equal links, the last one stands for them."""
    return tuple({(k.url, k.tag, k.text, k.context, k.block): k for k in links}.values())


def _with_fallback_nav(found: list[tuple[Element, ExtractedLink]]) -> list[ExtractedLink]:
    """Links as found; without any marked menu, the first block of >= 5 short links near the top is nav."""
    links = [link for _, link in found]
    if any(link.context == "nav" for link in links):
        return links
    groups: dict[Element, list[int]] = {}
    for position, (element, link) in enumerate(found):
        if link.tag == "a" and link.context == "body":
            box = next((a for a in element.iterancestors() if a.tag in _GROUP_TAGS), None)
            if box is not None:
                groups.setdefault(box, []).append(position)
    for positions in groups.values():
        short = sum(1 for p in positions if 0 < len(links[p].text) <= NAV_TEXT_MAX)
        near_top = positions[0] <= len(found) * 0.4
        if near_top and len(positions) >= NAV_GROUP_MIN and short >= 0.8 * len(positions):
            for p in positions:
                link = links[p]
                links[p] = _link(link.url, link.tag, link.text, "nav", link.block)
            break
    return links


_LINKING_TAGS = frozenset({"a", "area", "iframe", "frame", "img", "script", "link", "embed", "object", "meta",
                           "select", "source", "video", "audio", "track", "style", "input"})
_ABSOLUTE = re.compile(r"\s*https?://", re.IGNORECASE)
_GROUP_TAGS = frozenset({"ul", "ol", "tr", "div", "p", "dl", "table"})


def _base_href(root: Element, page: str, encoding: str) -> str:
    for element in root.iter("base"):
        if element.get("href"):
            return canonical(element.get("href", ""), page, query_encoding=encoding) or page
    return page


def _title(root: Element) -> str:
    element = root.find("head/title")
    if element is None:
        element = root.find(".//title")
    return _collapse(_text_of(element))[:TITLE_MAX] if element is not None else ""


CONTENT_TEXT_MAX = 500


def _says_not_found(title: str, content: str) -> bool:
    """The title says so, or the page's own content (nav, side menus and footer aside, white space
    collapsed) does."""
    if not_found(title, ""):
        return True
    # Content without nav and footer: a real not-found page has little of it.
    return not_found("", content, text_max=CONTENT_TEXT_MAX)


def _text_of(element: Element) -> str:
    return "".join(element.itertext())


def _collapse(text: str) -> str:
    return " ".join(text.split())
