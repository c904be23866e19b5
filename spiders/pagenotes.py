"""Page-level facts the national checklist's checks read from a page's own text:
the wording that shows a column empty (空白栏目: 暂无信息, 栏目建设中…), the
dates an article states about itself (its 发布日期 and the 成文/发文日期 in its text),
list rows dated after the crawl day (spiders.dates keeps such dates out of a
page's dates, so they are noted here for dates:impossible), and the 留言/咨询 a
page lists with their question and reply dates (interaction:reply).

Called by `spiders.extract.extract` with the page's content text (navigation,
side menus and footer left out) and its dated list rows. Pure: text and elements
in, plain values out; no I/O, no clock (`today` is passed in).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from lxml.etree import _Element as Element

__all__ = ["PLACEHOLDER", "future_rows", "issued_dates", "messages", "placeholder"]

PLACEHOLDER = re.compile(r"暂无(?:相关)?(?:信息|内容|数据|记录|文章|公开信息)|没有(?:相关|找到)?(?:信息|记录|数据|内容)"
                         r"|(?:栏目|页面|本栏目)?正在(?:建设|维护|更新)中|栏目建设中|建设中[，,。.…]*敬请期待|敬请期待")
_PLACEHOLDER_WORDS = ("暂无", "没有", "正在", "建设中", "敬请期待")   # every PLACEHOLDER match holds one
SNIPPET_SIDE = 12
_DAY = r"((?:19|20)\d{2})\s*(?:年|[-/.])\s*(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})"
_ISSUED = re.compile(r"(?:成文|发文|印发|签发)(?:日期|时间)\s*[:：]?\s*[\[(【（]?\s*" + _DAY)
_PUBLISHED = re.compile(r"(?:发布|公开|发表)(?:日期|时间)\s*[:：]?\s*[\[(【（]?\s*" + _DAY)


def placeholder(content: str) -> str:
    """The placeholder wording in a page's content and a little of the text after it, or "" when none
    (the text before it is the page's heading and side menu, which say nothing about emptiness)."""
    # Most pages: a quick no, not a regex scan (a one-character find first: it runs at memory speed).
    if not any(word[0] in content and word in content for word in _PLACEHOLDER_WORDS):
        return ""
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
    if not (("期" in content and "日期" in content) or ("间" in content and "时间" in content)):  # every label has one
        return None, None
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


_ASKED = re.compile(r"(?:留言|提问|来信|咨询|诉求|反映)(?:时间|日期)")
_REPLIED = re.compile(r"(?:回复|答复|回应|办结|处理)(?:时间|日期)")
_STATUS = re.compile(r"状态|办理情况|回复情况")
_UNANSWERED = re.compile(r"未回复|待回复|未答复|待答复|办理中|处理中|未办结|受理中")
_LABELLED = re.compile(r"(?:留言|提问|来信|咨询|诉求|反映|回复|答复|回应|办结)(?:时间|日期)\s*[:：]\s*" + _DAY)
MESSAGES_MAX = 200


def messages(root: Element) -> list[list[str]]:
    """[title, asked ISO date, replied ISO date or ""] of the 留言/咨询 a page lists: rows of a table whose
    header names a question date and a reply date column, else rows (li, dl, div, p) or, failing those, the
    page itself labelled 留言时间：… and 回复时间：…. At most MESSAGES_MAX."""
    found = _table_messages(root)
    if not found:
        found = _labelled_messages(root)
    return found[:MESSAGES_MAX]


def _cells(row: Element) -> list[str]:
    return [" ".join("".join(cell.itertext()).split()) for cell in row if cell.tag in ("td", "th")]


def _table_messages(root: Element) -> list[list[str]]:
    found: list[list[str]] = []
    for table in root.iter("table"):
        columns: tuple[int, int, int, int] | None = None
        for row in table.iter("tr"):
            cells = _cells(row)
            if columns is None:
                asked = next((i for i, c in enumerate(cells) if _ASKED.search(c)), None)
                replied = next((i for i, c in enumerate(cells) if _REPLIED.search(c)), None)
                if asked is not None and replied is not None:
                    status = next((i for i, c in enumerate(cells) if _STATUS.search(c)), -1)
                    title = next((i for i in range(len(cells)) if i not in (asked, replied, status)), -1)
                    columns = (title, asked, replied, status)
                continue
            title, asked, replied, status = columns
            if len(cells) <= max(asked, replied):
                continue
            day = _day(_FULL.search(cells[asked]))
            if day is None:
                continue
            answer = _day(_FULL.search(cells[replied]))
            if answer is None and status >= 0 and len(cells) > status and not _UNANSWERED.search(cells[status]):
                continue   # answered, its date not shown: nothing to judge it by
            found.append([cells[title][:100] if 0 <= title < len(cells) else "", day.isoformat(),
                          answer.isoformat() if answer else ""])
    return found


def _labelled_messages(root: Element) -> list[list[str]]:
    found: list[list[str]] = []
    for row in root.iter("li", "dl", "tr", "div", "p"):
        if any(child.tag in ("li", "dl", "tr", "div", "p") for child in row):
            continue    # the innermost element holding both labels is the message
        if (message := _labelled(" ".join("".join(row.itertext()).split()))) is not None:
            found.append(message)
    if not found:
        body = root.find("body")
        if body is not None and (message := _labelled(" ".join("".join(body.itertext()).split()))) is not None:
            found.append(message)
    return found


def _labelled(text: str) -> list[str] | None:
    asked: date | None = None
    replied: date | None = None
    for match in _LABELLED.finditer(text):
        if _ASKED.match(match.group(0)) and asked is None:
            asked = _day(match)
        elif _REPLIED.match(match.group(0)) and replied is None:
            replied = _day(match)
    if asked is None or (replied is None and not _UNANSWERED.search(text)):
        return None
    title = text.split("留言", 1)[0].split("提问", 1)[0][:100].strip(" ：:|")
    return [title, asked.isoformat(), replied.isoformat() if replied else ""]
