"""Page-level facts the national checklist's checks read from a page's own text:
the wording that shows a column empty (空白栏目: 暂无信息, 栏目建设中…), the
dates an article states about itself (its 发布日期 and the 成文/发文日期 in its text),
and list rows dated after the crawl day (spiders.dates keeps such dates out of a
page's dates, so they are noted here for dates:impossible).

Called by `spiders.extract.extract` with the page's content text (navigation,
side menus and footer left out) and its dated list rows. Pure: text and elements
in, plain values out; no I/O, no clock (`today` is passed in).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from lxml.etree import _Element as Element

__all__ = ["PLACEHOLDER", "future_rows", "issued_dates", "placeholder"]

PLACEHOLDER = re.compile(r"暂无(?:相关)?(?:信息|内容|数据|记录|文章|公开信息)|没有(?:相关|找到)?(?:信息|记录|数据|内容)"
                         r"|(?:栏目|页面|本栏目)?正在(?:建设|维护|更新)中|栏目建设中|建设中[，,。.…]*敬请期待|敬请期待")
SNIPPET_SIDE = 12
_DAY = r"((?:19|20)\d{2})\s*(?:年|[-/.])\s*(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})"
_ISSUED = re.compile(r"(?:成文|发文|印发|签发)(?:日期|时间)\s*[:：]?\s*[\[(【（]?\s*" + _DAY)
_PUBLISHED = re.compile(r"(?:发布|公开|发表)(?:日期|时间)\s*[:：]?\s*[\[(【（]?\s*" + _DAY)


def placeholder(content: str) -> str:
    """The placeholder wording in a page's content and a little of the text after it, or "" when none
    (the text before it is the page's heading and side menu, which say nothing about emptiness)."""
    found = PLACEHOLDER.search(content)
    if found is None:
        return ""
    return " ".join(content[found.start():found.end() + SNIPPET_SIDE].split())


def _day(match: re.Match[str] | None) -> date | None:
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def issued_dates(content: str) -> tuple[date | None, date | None]:
    """(the labelled publication date, the labelled 成文/发文/印发日期): the first of each in the text."""
    return _day(_PUBLISHED.search(content)), _day(_ISSUED.search(content))


_FULL = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年|[-/.])\s*(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})(?!\d)")
FUTURE_MAX = 20


def future_rows(rows: Iterable[Element], today: date) -> list[tuple[str, date]]:
    """(item link href as written, date) of the list rows beside a page's dated rows whose date, with its
    year, is after `today`: the last full date in the row's text. At most FUTURE_MAX a page."""
    found: list[tuple[str, date]] = []
    seen: set[Element] = set()
    dated = {_row_of(element) for element in rows}
    for row in dated:
        if row is None:
            continue
        parent = row.getparent()
        if parent is None or parent in seen:
            continue
        seen.add(parent)
        for sibling in parent:
            if sibling.tag != row.tag or sibling in dated:
                continue
            matches = list(_FULL.finditer("".join(sibling.itertext())))
            day = _day(matches[-1]) if matches else None
            anchor = next(sibling.iter("a"), None)
            if day is not None and day > today and anchor is not None and anchor.get("href"):
                found.append((anchor.get("href", ""), day))
                if len(found) >= FUTURE_MAX:
                    return found
    return found


ROW_TAGS = frozenset({"li", "tr", "dd", "dt", "p", "div"})


def _row_of(element: Element) -> Element | None:
    """The list row a dated element stands in: itself or its nearest li/tr/dd/dt/p/div (3 levels up)."""
    node: Element | None = element
    for _ in range(4):
        if node is None:
            return None
        if node.tag in ROW_TAGS:
            return node
        node = node.getparent()
    return None
