"""Publication dates on a page: the date grammar of Chinese government sites
and where on the page a date stands (meta tag, article header, list row, text).

Pure: works on an lxml tree, no I/O and no clock (`today` is passed in). It must
not judge freshness; it reports dates and their evidence, checks decide.

Kept out: dates in <script>/<style>, in the footer (the caller's `zone` says
which elements are footer), copyright lines, "今天是…星期日" clocks, dates after
`today`, before 1990, and impossible ones. Digits need delimiters (2022-06-20,
2022年6月20日, 2022/06/20, 2022.06.20) so phone numbers and document ids are
not dates; a bare 8-digit 20220620 counts only in a meta tag or after a label
(发布日期：). A date without a year (06-20, [6-20], 6月20日) takes the latest
year that does not put it after `today`, and counts only in a list row, a
date element or after a label, never in running text.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from datetime import date

from lxml import etree
from lxml.html import HtmlElement

from spiders.items import DateHit

__all__ = ["MIN_DATE", "SOURCES", "find_dates", "latest", "mentions_date"]

log = logging.getLogger(__name__)

MIN_DATE = date(1990, 1, 1)
SOURCES = ("meta", "header", "list-item", "text")
SNIPPET_SIDE = 20
ROW_TAGS = frozenset({"li", "tr", "dd", "dt", "p"})
ROW_MAX_CHARS = 300
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "textarea"})

_DATE = re.compile(r"""
    (?<![\d.])(?P<y>(?:19|20)\d{2})
        (?: (?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})
          | \s*年\s*(?P<cm>\d{1,2})\s*月\s*(?P<cd>\d{1,2})\s*日? ) (?!\d)
  | [\[(【（〔]\s*(?P<bm>\d{1,2})[-/.](?P<bd>\d{1,2})\s*[\])】）〕]
  | (?<![\d年])(?P<zm>\d{1,2})\s*月\s*(?P<zd>\d{1,2})\s*日
  | (?<![\d\-/.:])(?P<sm>\d{2})[-/](?P<sd>\d{2})(?![\d\-/.:])
""", re.VERBOSE)
_COMPACT = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
_LABEL = re.compile(r"(?:(?:发布|更新|修改|成文|印发|发文|公开|生成|创建|录入|发表|上传|信息)(?:日期|时间)\s*[:：]?"
                    r"|(?:日期|时间)\s*[:：]|(?:发布|更新|发表)于)\s*[\[(【]?\s*$")
_CLOCK_BEFORE = re.compile(r"(?:今天|今日|当前时间|现在|北京时间)\s*(?:是|为)?\s*[:：]?\s*$")
_CLOCK_AFTER = re.compile(r"^\s*(?:星期|礼拜|周[一二三四五六日天]|农历)")
_COPYRIGHT = re.compile(r"©|\(c\)|copyright|版权所有", re.IGNORECASE)
_DATE_CLASS = re.compile(r"date|time|riqi|pubtime|fbsj|(?:^|[-_\s])(?:rq|sj)(?:$|[-_\s\d])", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_BRACKETS = " \t\r\n\xa0\u3000[]()【】（）〔〕"
META_KEYS = frozenset({
    "pubdate", "publishdate", "publish_date", "publish-date", "publishtime", "pub_date", "releasedate",
    "firstpublishedtime", "lastmodifiedtime", "createdate", "date", "dc.date", "dc.date.issued",
    "dc.date.created", "dc.date.modified", "dcterms.created", "dcterms.issued", "dcterms.modified",
    "article:published_time", "article:modified_time", "og:updated_time", "datepublished", "datemodified",
    "last-modified",
})

Zone = Callable[[HtmlElement], str]


def find_dates(root: HtmlElement, *, today: date, zone: Zone | None = None) -> tuple[DateHit, ...]:
    """Every credible date on the page, meta tags first, then in document order.

    `zone(element)` names the page region an element is in (as `extract` does);
    dates in the "footer" region are page template and are dropped. Without it
    only the text rules (copyright line, clock) keep template dates out.
    """
    hits = list(_meta_dates(root, today))
    texts, owners, starts = _text_chunks(root)
    full = "\n".join(texts)
    for match in _DATE.finditer(full):
        index = bisect_right(starts, match.start()) - 1
        hit = _judge(match, full, texts[index], owners[index], today, zone)
        if hit is not None:
            hits.append(hit)
    for match in _COMPACT.finditer(full):
        if _LABEL.search(full[max(0, match.start() - 16):match.start()]):
            day = _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)), today)
            if day is not None:
                hits.append(DateHit(day, "header", _snippet(full, match.start(), match.end())))
    return tuple(dict.fromkeys(hits))


def latest(dates: Iterable[DateHit]) -> date | None:
    """The page's latest date: from meta, header and list rows when it has any, else from its text.

    Dates in running text (deadlines, events, cited documents) say least about
    when the page changed, so they count only on a page that has nothing better.
    """
    hits = list(dates)
    strong = [h.date for h in hits if h.source != "text"]
    return max(strong or [h.date for h in hits], default=None)


def mentions_date(text: str, today: date) -> bool:
    """True when `text` (a list row, a link's neighbour) holds a date, clocks and copyright lines aside.

    A bare 06-20 counts only at the start or end of the text, where list rows put it.
    """
    stripped = text.strip(_BRACKETS)
    for match in _DATE.finditer(stripped):
        if match.group("sm") and match.start() > 0 and match.end() < len(stripped):
            continue
        if _is_chrome(stripped, match.start(), match.end()):
            continue
        if _date_of(match, today) is not None:
            return True
    return False


def _judge(match: re.Match[str], full: str, chunk: str, owner: tuple[HtmlElement, HtmlElement | None],
           today: date, zone: Zone | None) -> DateHit | None:
    element, before = owner
    if zone is not None and zone(element) == "footer":
        return None
    if _is_chrome(full, match.start(), match.end()):
        return None
    day = _date_of(match, today)
    if day is None:
        return None
    source = _source(full, match.start(), element, before)
    if match.group("y") is None:
        if source == "text":
            return None
        if match.group("sm") and chunk.strip(_BRACKETS) != match.group(0):
            return None
    return DateHit(day, source, _snippet(full, match.start(), match.end()))


def _source(full: str, start: int, element: HtmlElement, before: HtmlElement | None) -> str:
    if _LABEL.search(full[max(0, start - 16):start]):
        return "header"
    if _in_row_with_link(element, before):
        return "list-item"
    if _date_element(element):
        return "header"
    return "text"


def _date_of(match: re.Match[str], today: date) -> date | None:
    groups = match.groupdict()
    if groups["y"]:
        month, day = (groups["m"], groups["d"]) if groups["sep"] else (groups["cm"], groups["cd"])
        return _valid(int(groups["y"]), int(month), int(day), today)
    for m_key, d_key in (("bm", "bd"), ("zm", "zd"), ("sm", "sd")):
        if groups[m_key]:
            return _infer_year(int(groups[m_key]), int(groups[d_key]), today)
    return None


def _valid(year: int, month: int, day: int, today: date) -> date | None:
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    return found if MIN_DATE <= found <= today else None


def _infer_year(month: int, day: int, today: date) -> date | None:
    for year in (today.year, today.year - 1):
        found = _valid(year, month, day, today)
        if found is not None:
            return found
    return None


def _is_chrome(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 12):start]
    if _CLOCK_BEFORE.search(before) or _CLOCK_AFTER.match(text[end:end + 8]):
        return True
    return bool(_COPYRIGHT.search(text[max(0, start - 40):end + 20]))


def _in_row_with_link(element: HtmlElement, before: HtmlElement | None) -> bool:
    if before is not None and before.tag == "a" and before.get("href"):
        return True
    for sibling in (element.getprevious(), element.getnext()):
        if sibling is not None and sibling.tag == "a" and sibling.get("href"):
            return True
    node: HtmlElement | None = element
    for _ in range(4):
        if node is None:
            return False
        if node.tag in ROW_TAGS:
            return node.find(".//a[@href]") is not None and _text_len(node, ROW_MAX_CHARS) <= ROW_MAX_CHARS
        node = node.getparent()
    return False


def _date_element(element: HtmlElement) -> bool:
    node: HtmlElement | None = element
    for _ in range(2):
        if node is None:
            return False
        if _DATE_CLASS.search(f"{node.get('class', '')} {node.get('id', '')}"):
            return True
        node = node.getparent()
    return False


def _text_len(element: HtmlElement, limit: int) -> int:
    total = 0
    for piece in element.itertext():
        total += len(piece.strip())
        if total > limit:
            break
    return total


def _text_chunks(root: HtmlElement) -> tuple[list[str], list[tuple[HtmlElement, HtmlElement | None]], list[int]]:
    """The page's text nodes in document order, each with (owner element, element it follows) and offset."""
    texts: list[str] = []
    owners: list[tuple[HtmlElement, HtmlElement | None]] = []
    starts: list[int] = []
    offset = 0
    skipping = 0

    def add(text: str, owner: HtmlElement, before: HtmlElement | None) -> None:
        nonlocal offset
        texts.append(text)
        owners.append((owner, before))
        starts.append(offset)
        offset += len(text) + 1

    for event, element in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(element.tag, str):
            continue
        if event == "start":
            if element.tag in SKIPPED_TAGS:
                skipping += 1
            elif element.text and not skipping:
                add(element.text, element, None)
        else:
            if element.tag in SKIPPED_TAGS:
                skipping -= 1
            parent = element.getparent()
            if element.tail and not skipping and parent is not None:
                add(element.tail, parent, element)
    return texts, owners, starts


def _meta_dates(root: HtmlElement, today: date) -> Iterable[DateHit]:
    for meta in root.iter("meta"):
        key = next((meta.get(a) for a in ("name", "property", "itemprop", "http-equiv") if meta.get(a)), "")
        content = (meta.get("content") or "").strip()
        if key.strip().lower() not in META_KEYS or not content:
            continue
        found = _DATE.search(content)
        if found and found.group("y"):
            day = _date_of(found, today)
        else:
            compact = _COMPACT.search(content)
            day = _valid(*(int(g) for g in compact.groups()), today) if compact else None
        if day is not None:
            yield DateHit(day, "meta", f'{key}="{content[:40]}"')


def _snippet(full: str, start: int, end: int) -> str:
    left = _SPACE.sub(" ", full[max(0, start - 4 * SNIPPET_SIDE):start])[-SNIPPET_SIDE:]
    right = _SPACE.sub(" ", full[end:end + 4 * SNIPPET_SIDE])[:SNIPPET_SIDE]
    return (left + _SPACE.sub(" ", full[start:end]) + right).strip()
