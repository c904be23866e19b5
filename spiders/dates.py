"""Publication dates on a page: the date grammar of Chinese government sites
and where on the page a date stands (meta tag, article header, list row, text).

Pure: works on an lxml tree, no I/O and no clock (`today` is passed in). It must
not judge freshness; it reports dates and their evidence, checks decide.

Kept out: dates in <script>/<style>, in the footer (the caller's `zone` says
which elements are footer), copyright lines, "今天是…星期日" clocks, dates after
`today`, before 1990, and impossible ones. Digits need delimiters (2022-06-20,
2022年6月20日, 2022/06/20, 2022.06.20) so phone numbers and document ids are
not dates; a bare 8-digit 20220620 counts only in a meta tag or after a label
(发布日期：).

Dates in context:
- A list row's date is the one in its own element, cell or span, or at the
  row's edge (after a separator, before a time of day, or bracketed); a date
  inside the words of a headline (`3月23日开始报名`, 关于2024年3月…的通知) is not
  the item's date: it is a text date when it has a year, nothing when not.
- A label names a publication date (发布日期：, 发布时间：, 时间：); an event's
  label (报名时间：, 培训时间：) does not, so a timetable stays text.
- A date without a year (10-09, [10-09], 10月9日) counts only in a list row, a
  date element or after a label, never in running text. Its year comes from
  the item's link URL (/202310/t20231009_1.html, /art/2023/10/9/art_1_2.html,
  /2023-10/09/…: the year that puts the date nearest the URL's date; a date
  that would then be after `today` is dropped), else from the nearest full
  date in the same list, else it is the latest year not after `today`.
- `latest` prefers what a reader sees (list rows, the labelled header date)
  over meta tags, and meta over running text.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from itertools import chain

from lxml import etree
from lxml.etree import _Element as Element

from spiders.items import DateHit

__all__ = ["MIN_DATE", "SOURCES", "VISIBLE", "DateScan", "TextChunks", "find_dates", "item_of", "latest", "list_of",
           "scan_dates", "text_chunks"]

log = logging.getLogger(__name__)

MIN_DATE = date(1990, 1, 1)
SOURCES = ("meta", "header", "list-item", "text")
SNIPPET_SIDE = 20
MAX_HITS = 200
ROW_TAGS = frozenset({"li", "tr", "dd", "dt", "p"})
ROW_MAX_CHARS = 300
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "textarea"})

_DATE = re.compile(r"""(?=[\d\[(【（〔])(?:
    (?<![\d.])(?P<y>(?:19|20)\d{2})
        (?: (?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})
          | \s*年\s*(?P<cm>\d{1,2})\s*月\s*(?P<cd>\d{1,2})\s*日? ) (?!\d)
  | [\[(【（〔]\s*(?P<bm>\d{1,2})[-/.](?P<bd>\d{1,2})\s*[\])】）〕]
  | (?<![\d年])(?P<zm>\d{1,2})\s*月\s*(?P<zd>\d{1,2})\s*日
  | (?<![\d\-/.:])(?P<sm>\d{2})[-/](?P<sd>\d{2})(?![\d\-/.:]) )
""", re.VERBOSE)
assert tuple(_DATE.groupindex) == ("y", "sep", "m", "d", "cm", "cd", "bm", "bd", "zm", "zd", "sm", "sd")  # _date_of
_URL_DATES = (re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)"),                  # t20231009_1
              re.compile(r"(?<!\d)((?:19|20)\d{2})[-/_](\d{1,2})[-/_](\d{1,2})(?!\d)"),     # /2023/10/9/
              re.compile(r"(?<!\d)((?:19|20)\d{2})[-/_]?(\d{2})(?!\d)"))                     # /202310/
# (?<!\d) written after the century (as "no digit 3 back") keeps the engine's fast scan for "19"/"20".
_COMPACT = re.compile(r"((?:19|20)(?<!\d\d\d)\d{2})(\d{2})(\d{2})(?!\d)")
_LABEL = re.compile(r"(?:(?:发布|更新|修改|成文|印发|发文|公开|生成|创建|录入|发表|上传|信息)(?:日期|时间)\s*[:：]?"
                    r"|(?<![\u4e00-\u9fff])(?:日期|时间)\s*[:：]|(?:发布|更新|发表)于)\s*[\[(【]?\s*$")
_EDGE = " \t\r\n\xa0\u3000[]()【】（）〔〕|｜·•-—–_:："
_OPENING = "[(【（〔"
_CLOSING = "])】）〕"
_TIME = re.compile(r"\s*\d{1,2}:\d{2}(?::\d{2})?")
_CLOCK_BEFORE = re.compile(r"(?:今天|今日|当前时间|现在|北京时间)\s*(?:是|为)?\s*[:：]?\s*$")
_CLOCK_AFTER = re.compile(r"\s*(?:星期|礼拜|周[一二三四五六日天]|农历)")


def any_case(word: str) -> str:
    """Alternatives matching `word` as re.IGNORECASE does, for a top-level alternation of literals.

    re.IGNORECASE, or an alternative that starts with a class, costs such a pattern the engine's
    fast scan for its first characters (~20 ns a character instead of ~3): each case of the first
    letter gets an alternative of its own, the other letters the classes IGNORECASE uses.
    """
    def cases(char: str) -> str:
        return _FOLDS.get(char.lower(), char.lower() + char.upper() if char.lower() != char.upper() else char)

    rest = "".join(f"[{re.escape(c)}]" if len(c) > 1 else re.escape(c) for c in map(cases, word[1:]))
    return "|".join(re.escape(first) + rest for first in cases(word[0]))


_FOLDS = {"i": "iI\u0130\u0131", "k": "kK\u212a", "s": "sS\u017f"}   # IGNORECASE's extra folds of ASCII letters
_COPYRIGHT = re.compile(r"©|版权所有|" + any_case("(c)") + "|" + any_case("copyright"))
_CHROME_HINT = re.compile(r"今|现在|北京时间|星期|礼拜|周[一二三四五六日天]|农历|©|版权所有|" + any_case("(c)") + "|"
                          + any_case("copyright"))
_DATE_CLASS = re.compile(r"date|time|riqi|pubtime|fbsj|(?:^|[-_\s])(?:rq|sj)(?:$|[-_\s\d])", re.IGNORECASE)
_BRACKETS = " \t\r\n\xa0\u3000[]()【】（）〔〕"
META_KEYS = frozenset({
    "pubdate", "publishdate", "publish_date", "publish-date", "publishtime", "pub_date", "releasedate",
    "firstpublishedtime", "lastmodifiedtime", "createdate", "date", "dc.date", "dc.date.issued",
    "dc.date.created", "dc.date.modified", "dcterms.created", "dcterms.issued", "dcterms.modified",
    "article:published_time", "article:modified_time", "og:updated_time", "datepublished", "datemodified",
    "last-modified",
})

Zone = Callable[[Element], str]


@dataclass(frozen=True)
class DateScan:
    hits: tuple[DateHit, ...]
    rows: frozenset[Element]    # list rows (li/tr/dd/dt/p) and links that a list-item date belongs to
    row_of: tuple[Element | None, ...] = ()   # for each hit, the row of a list-item date (else None)


def find_dates(root: Element, *, today: date, zone: Zone | None = None) -> tuple[DateHit, ...]:
    """Every credible date on the page, meta tags first, then in document order.

    `zone(element)` names the page region an element is in (as `extract` does);
    dates in the "footer" region are page template and are dropped. Without it
    only the text rules (copyright line, clock) keep template dates out.
    """
    return scan_dates(root, today=today, zone=zone).hits


def scan_dates(root: Element, *, today: date, zone: Zone | None = None, chunks: TextChunks | None = None
               ) -> DateScan:
    """`find_dates` and the list rows its list-item dates stand in (a link there is a list item).
    `chunks` are `text_chunks(root)` when the caller has them already."""
    return _Scan(root, today, zone, chunks).run()


VISIBLE = frozenset({"list-item", "header"})


def latest(dates: Iterable[DateHit]) -> date | None:
    """The page's latest date: what a reader sees (list rows, the labelled header date) when the
    page shows any, else its meta tags, else its text.

    A CMS's <meta name="PubDate"> is often the time the page was regenerated,
    not published, so the visible date wins; dates in running text (deadlines,
    events, cited documents) say least and count only on a page with nothing better.
    """
    hits = list(dates)
    for wanted in (VISIBLE, frozenset({"meta"})):
        chosen = [h.date for h in hits if h.source in wanted]
        if chosen:
            return max(chosen)
    return max((h.date for h in hits), default=None)


class _Scan:
    """One pass of the date grammar over a page's text, with each match's element at hand."""

    def __init__(self, root: Element, today: date, zone: Zone | None, chunks: TextChunks | None = None) -> None:
        self.root, self.today, self.zone = root, today, zone
        chunks = chunks or text_chunks(root)
        self.texts, self.owners, self.starts, self.full = chunks.texts, chunks.owners, chunks.starts, chunks.full
        self.rows: set[Element] = set()
        self._row_of: dict[Element, Element | None] = {}

    def run(self) -> DateScan:
        found: list[Found] = []
        for match in _DATE.finditer(self.full):
            judged = self._judge(match)
            if judged is not None:
                found.append(judged)
        labels = any(end in self.full for end in _LABEL_ENDS)     # without one, no date is labelled
        for match in _COMPACT.finditer(self.full) if labels else ():
            if _labelled(self.full, match.start()):
                day = _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)), self.today)
                if day is not None:
                    found.append((day, "header", match.start(), match.end(), None, True, False))
        _years_from_lists(found, self.today)
        meta = list(dict.fromkeys(_meta_dates(self.root, self.today)))
        kept = _cap(found)
        full = self.full
        hits = meta + [_hit(f[0], f[1], _snippet(full, f[2], f[3])) for f in kept]
        rows = (None,) * len(meta) + tuple(f[4] for f in kept)
        return DateScan(tuple(hits), frozenset(self.rows), rows)

    def _judge(self, match: re.Match[str]) -> Found | None:
        day = _date_of(match, self.today)
        if day is None:
            return None
        start, end = match.span()
        index = bisect_right(self.starts, start) - 1
        element, before = self.owners[index]
        if (self.zone is not None and self.zone(element) == "footer") or _is_chrome(self.full, start, end):
            return None
        yearless = match.group("y") is None
        row = None
        if _labelled(self.full, start):
            source = "header"
        elif (row := self._row(element, before)) is not None:
            offset = self.starts[index]
            own = _own_date(self.texts[index], start - offset, end - offset)
            if own or (own is None and not (before is None and _in_link(element))):
                source = "list-item"
            else:  # words of a headline: a text date, never the item's
                source, row = "text", None
        else:
            source = "header" if _date_element(element) else "text"
        if yearless and (source == "text" or (
                match.group("sm") and self.texts[index].strip(_BRACKETS) != match.group(0))):
            return None
        unresolved = False
        if row is not None:
            self.rows.add(row)
            if yearless:
                from_url = _year_from_links(row, day, self.today)
                if from_url is None:
                    return None     # the item's URL dates it after today
                unresolved = from_url is day
                day = from_url
        return day, source, start, end, row, not yearless, unresolved

    def _row(self, element: Element, before: Element | None) -> Element | None:
        """The link beside the date, or the short list row (with a link) the date is in."""
        if before is not None and before.tag == "a" and before.get("href"):
            return before
        for sibling in (element.getprevious(), element.getnext()):
            if sibling is not None and sibling.tag == "a" and sibling.get("href"):
                return sibling
        if element not in self._row_of:
            self._row_of[element] = _enclosing_row(element)
        return self._row_of[element]


def _labelled(text: str, start: int) -> bool:
    """A publication-date label ends at `start` (every label ends in 期, 间, 于 or a colon, then at most
    spaces and one bracket: most dates skip the pattern)."""
    low = max(0, start - 16)
    window = text[low:start].rstrip()
    if window[-1:] in _LABEL_OPENING:
        window = window[:-1].rstrip()
    return window[-1:] in _LABEL_ENDS and _LABEL.search(text, low, start) is not None


_LABEL_OPENING = frozenset("[(【")
_LABEL_ENDS = frozenset("期间于:：")


def _hit(day: date, source: str, snippet: str) -> DateHit:
    """DateHit(day, source, snippet) without the frozen dataclass __init__ (as DateHit.listed)."""
    hit = _new(DateHit)
    hit.__dict__.update(date=day, source=source, snippet=snippet, block="", item="")
    return hit


_new = object.__new__

Found = tuple[date, str, int, int, "Element | None", bool, bool]
"""A date found: (day, source, start, end, its list row or None, written with its year, year-less and its
item's URL carries no date — the year is a guess)."""


def _own_date(text: str, start: int, end: int) -> bool | None:
    """Whether a date in a list row is the item's date: alone in its element, cell or span, or at the
    row's edge (at the end after a separator, before a time of day, or bracketed) rather than inside
    a headline's words. None: a bracketed date opening a longer text, the item's unless in a link."""
    if end > len(text):
        return False
    if start == 0 and end == len(text):
        return True
    time = _TIME.match(text, end)
    tail = text[time.end() if time else end:].strip(_EDGE)
    head = text[:start].rstrip(_EDGE)
    if not head and not tail:
        return True
    bracketed = (start > 0 and text[start - 1] in _OPENING) or (end < len(text) and text[end] in _CLOSING)
    if not tail and (bracketed or (start > 0 and text[start - 1] in _EDGE)):
        return True
    return None if not head and bracketed else False


def _in_link(element: Element) -> bool:
    """The element is a link or inside one (its text is a headline's)."""
    return element.tag == "a" or any(a.tag == "a" for _, a in zip(range(3), element.iterancestors()))


def _year_from_links(row: Element, inferred: date, today: date) -> date | None:
    """A year-less list date takes the year that puts it nearest the date its row's link URL carries
    (/202310/t20231009_1.html, /art/2023/10/9/…); `inferred` itself when no URL carries a date;
    None when the URL's year puts it after `today`."""
    links = [row] if row.tag == "a" else list(row.iter("a"))
    for href in (a.get("href") or "" for a in links):
        anchor = _url_date(href, inferred.month)
        if anchor is not None:
            nearest = _nearest(inferred.month, inferred.day, anchor)
            return nearest if nearest is not None and MIN_DATE <= nearest <= today else None
    return inferred


def _url_date(href: str, month: int) -> date | None:
    """The date a URL carries (day precision, or the middle of its month); one in `month` first."""
    dates = []
    for pattern in _URL_DATES:
        for found in pattern.finditer(href):
            try:
                dates.append(date(int(found.group(1)), int(found.group(2)),
                                  int(found.group(3)) if found.lastindex == 3 else 15))
            except ValueError:
                continue
    return next((d for d in dates if d.month == month), dates[0] if dates else None)


def _nearest(month: int, day: int, anchor: date) -> date | None:
    """The `month`-`day` nearest `anchor`: in its year, the one before or the one after."""
    options = []
    for year in (anchor.year - 1, anchor.year, anchor.year + 1):
        try:
            options.append(date(year, month, day))
        except ValueError:
            continue
    return min(options, key=lambda d: abs((d - anchor).days), default=None)


def _years_from_lists(found: list[Found], today: date) -> None:
    """A year-less list date whose URL says nothing takes its year from the nearest full date of its list."""
    guesses = [i for i, f in enumerate(found) if f[6] and f[4] is not None]
    if not guesses:
        return
    by_list: dict[Element | None, list[Found]] = {}
    for f in found:
        if f[5] and f[4] is not None:
            by_list.setdefault(list_of(f[4]), []).append(f)
    for i in guesses:
        guess = found[i]
        peers = by_list.get(list_of(guess[4]))  # type: ignore[arg-type]
        if not peers:
            continue
        anchor = min(peers, key=lambda p: abs(p[2] - guess[2]))[0]
        nearest = _nearest(guess[0].month, guess[0].day, anchor)
        if nearest is not None and MIN_DATE <= nearest <= today:
            found[i] = (nearest, *guess[1:])


def item_of(row: Element) -> Element:
    """The list item a date's row stands for: the li/tr/dd/dt/p around a link beside its date, else the row."""
    if row.tag != "a":
        return row
    node = row.getparent()
    for _ in range(3):
        if node is None:
            break
        if node.tag in ROW_TAGS:
            return node
        node = node.getparent()
    return row


def list_of(row: Element) -> Element | None:
    """The element holding a list's items (the table, for rows of a tbody)."""
    parent = item_of(row).getparent()
    if parent is not None and parent.tag in ("tbody", "thead"):
        parent = parent.getparent()
    return parent


def _enclosing_row(element: Element) -> Element | None:
    node: Element | None = element
    for _ in range(4):
        if node is None:
            return None
        if node.tag in ROW_TAGS:
            linked = node.find(".//a[@href]") is not None
            return node if linked and _text_len(node, ROW_MAX_CHARS) <= ROW_MAX_CHARS else None
        node = node.getparent()
    return None


def _date_of(match: re.Match[str], today: date) -> date | None:
    # the groups in _DATE's order (match.groups() reads them without looking their names up)
    year, sep, month, day, cn_month, cn_day, b_month, b_day, z_month, z_day, s_month, s_day = match.groups()
    if year:
        return _valid(int(year), int(month if sep else cn_month), int(day if sep else cn_day), today)
    for short_month, short_day in ((b_month, b_day), (z_month, z_day), (s_month, s_day)):
        if short_month:
            return _infer_year(int(short_month), int(short_day), today)
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
    if not _CHROME_HINT.search(text, max(0, start - 40), end + 20):
        return False
    if _CLOCK_BEFORE.search(text, max(0, start - 12), start) or _CLOCK_AFTER.match(text, end, end + 8):
        return True
    line_start = text.rfind("\n", max(0, start - 40), start) + 1 or max(0, start - 40)
    return bool(_COPYRIGHT.search(text, line_start, end))


def _cap(found: list[Found]) -> list[Found]:
    """At most MAX_HITS dates: all header ones and the latest others, in page order."""
    if len(found) <= MAX_HITS:
        return found
    keys = [(f[1] == "header", f[0]) for f in found]
    order = sorted(range(len(found)), key=keys.__getitem__, reverse=True)
    return [found[i] for i in sorted(order[:MAX_HITS])]


def _date_element(element: Element) -> bool:
    node: Element | None = element
    for _ in range(2):
        if node is None:
            return False
        if _DATE_CLASS.search(f"{node.get('class', '')} {node.get('id', '')}"):
            return True
        node = node.getparent()
    return False


def _text_len(element: Element, limit: int) -> int:
    total = 0
    for piece in element.itertext():
        total += len(piece.strip())
        if total > limit:
            break
    return total


@dataclass(frozen=True)
class TextChunks:
    """The page's non-blank text nodes outside SKIPPED_TAGS, in document order."""

    texts: list[str]
    owners: list[tuple[Element, Element | None]]   # (element the text is in, element it is the tail of or None)
    starts: list[int]                              # where each text starts in `full`
    full: str                                      # the texts joined by newlines
    whole: bool     # no other text: nothing but text inside <script>/<style>, no noscript/template/textarea, no comment


def text_chunks(root: Element) -> TextChunks:
    """The page's text nodes for the date scan (and for a search of all its text).

    A pre-order walk (cheaper than iterwalk's start and end events): an element's tail is taken when
    the walk leaves its subtree, at the first element outside it (a parentless one ends the walk).
    """
    texts: list[str] = []
    owners: list[tuple[Element, Element | None]] = []
    starts: list[int] = []
    offset = 0
    walking: list[Element] = []        # the element being walked and its ancestors
    skipped: Element | None = None     # the outermost SKIPPED_TAGS element being walked
    whole = not (root.tail and not root.tail.isspace())
    for element in chain(root.iter(), _END):
        parent = element.getparent()
        while walking and walking[-1] is not parent:
            done = walking.pop()
            if done is skipped:
                skipped = None
            tail = done.tail
            if tail and skipped is None and not tail.isspace() and (above := done.getparent()) is not None:
                texts.append(tail)
                owners.append((above, done))
                starts.append(offset)
                offset += len(tail) + 1
        walking.append(element)
        if skipped is not None:
            whole = False
            continue
        tag = element.tag
        if tag in SKIPPED_TAGS:
            skipped = element
            whole = whole and tag in ("script", "style")
            continue
        if not isinstance(tag, str):
            whole = False
            continue
        text = element.text
        if text and not text.isspace():
            texts.append(text)
            owners.append((element, None))
            starts.append(offset)
            offset += len(text) + 1
    return TextChunks(texts, owners, starts, "\n".join(texts), whole)


_END = (etree.Element("end"),)


def _meta_dates(root: Element, today: date) -> Iterable[DateHit]:
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
            day = _valid(int(compact[1]), int(compact[2]), int(compact[3]), today) if compact else None
        if day is not None:
            yield DateHit(day, "meta", f'{key}="{content[:40]}"')


def _snippet(full: str, start: int, end: int) -> str:
    """The date with up to SNIPPET_SIDE characters of collapsed text each side, read from 4 × that many.

    A nearer window gives the same words whenever it already collapses to SNIPPET_SIDE characters (its
    collapsed text ends, or starts, the wider window's), so the wider one is read only when it does not.
    """
    near, far = SNIPPET_SIDE + 4, 4 * SNIPPET_SIDE
    left = full[max(0, start - near):start]
    left_words = " ".join(left.split())
    if len(left_words) < SNIPPET_SIDE and start > near:
        left = full[max(0, start - far):start]
        left_words = " ".join(left.split())
    right = full[end:end + near]
    right_words = " ".join(right.split())
    if len(right_words) < SNIPPET_SIDE and end + near < len(full):
        right = full[end:end + far]
        right_words = " ".join(right.split())
    left_text = left_words[-SNIPPET_SIDE:] + (" " if left[-1:].isspace() else "")
    right_text = (" " if right[:1].isspace() else "") + right_words[:SNIPPET_SIDE]
    return (left_text + " ".join(full[start:end].split()) + right_text).strip()
