"""List blocks of a page: which dated items belong together, where each list
stands, what it is titled and which pager belongs to it.

A list block is the element holding repeated dated rows (ul/ol/table/div/dl
of li/tr/dd/p rows, or links each beside a date); sibling holders of the same
tag and class under one parent are one list (a list split in groups of five).
Keys are "L1", "L2"… in document order, so the same page gives the same keys.
A pager belongs to the nearest list before it in the same container: a block
of 下一页/尾页/index_N.html links, a TRS `createPageHTML(count, current, "index",
"html")` script or the older TRS script that writes its own links from `var
countPage = 7` (its pages index_1…index_{count-1}.html are generated as links
of tag "pager"), or a Hanweb datastore whose `<nextgroup>` names the
`dataproxy.jsp` that serves the next records (generated the same way).
Each such pager also names its list's last page (`last_pages`: count − 1,
or `<totalrecord>` for startrecord), so a crawl can cut pages past it.

Hanweb (大汉) column pages embed their first records in
`<script type="text/xml"><datastore>…<record><![CDATA[<li>…</li>]]></record>`;
`expand_datastores` turns those records (and a dataproxy.jsp answer, which is
that XML alone) into markup before parsing, so the records are list rows like
any other, and `<totalrecord>` is kept as the list's total.

Pure and cheap: work is per dated row and per pager, never per element.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape, unescape

from lxml.etree import _Element as Element

from spiders.dates import item_of
from spiders.items import DateHit, ListBlock

__all__ = ["PAGER_MAX", "Lists", "expand_datastores", "pager_anchor"]

PAGER_MAX = 4                   # generated list pages per pager, beyond the page itself
HEADING_MAX = 30
REGIONS = {"list": "body", "subnav": "side", "side": "side", "nav": "nav", "header": "header", "footer": "footer"}
TOTAL_ATTR, NEXT_ATTR, RECORDS_ATTR = "data-govmon-total", "data-govmon-next", "data-govmon-records"

_STORE = re.compile(r"(?:<script\b[^>]*>\s*)?(?:<!\[CDATA\[\s*)?<datastore\b[^>]*>(?P<inner>.*?)</datastore>"
                    r"(?:\s*\]\]>)?(?:\s*</script>)?", re.IGNORECASE | re.DOTALL)
_RECORD = re.compile(r"<record\b[^>]*>\s*(?:<!\[CDATA\[(.*?)\]\]>|(.*?))\s*</record>", re.IGNORECASE | re.DOTALL)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.IGNORECASE)
_NEXT = re.compile(r"<nextgroup>\s*(?:<!\[CDATA\[)?.*?href\s*=\s*['\"]([^'\"]+)['\"]", re.IGNORECASE | re.DOTALL)
_PERPAGE = re.compile(r"perpage\s*[:=]\s*['\"]?(\d{1,3})", re.IGNORECASE)
_CREATE_PAGE = re.compile(r"createPageHTML\s*\(([^)]*)\)")
_COUNT_PAGE = re.compile(r"\bcountPage\s*=\s*(\d+)")
_CURRENT_PAGE = re.compile(r"\bcurrentPage\s*=\s*(\d+)")
_SUFFIX = re.compile(r"\.(shtml|html|htm)\b")
_ARG = re.compile(r"""\s*(?:(?P<n>\d+)|(?P<q>['"])(?P<s>[^'"]*)(?P=q)|(?P<v>[A-Za-z_$][\w$.]*))\s*""")
_PAGER_WORD = re.compile(r"^(?:下一页|下页|尾页|末页|上一页|上页|最后一页|next|last|>|>>|»)$", re.IGNORECASE)
_PAGER_URL = re.compile(r"/index_\d+\.s?html?$")
_HEADING_CLASS = re.compile(r"tit|title|hd|head|bt|lmmc|name|caption", re.IGNORECASE)
_MORE = re.compile(r"\s*(?:更多|more)\s*[>»]*\s*$", re.IGNORECASE)
_WIDGET_WORDS = re.compile(r"最新|热点|热门|排行|推荐|相关|滚动|点击|阅读排|图片新闻|焦点图")
_WIDGET_CLASS = re.compile(r"hot|rank|latest|zuixin|zxdt|zxxx|redian|rdzt|rdxw|tuijian|recommend|scroll|marquee"
                           r"|ticker|gundong|xgwz|xgxx|relate|focus", re.IGNORECASE)


def expand_datastores(html: str) -> str:
    """The page with each Hanweb datastore replaced by its records as markup (see the module docstring)."""
    if "datastore" not in html:
        return html
    return _STORE.sub(_records_markup, html)


def _records_markup(match: re.Match[str]) -> str:
    inner = match.group("inner")
    records = [r[0] or r[1] for r in _RECORD.findall(inner)]
    total = _TOTAL.search(inner)
    after = _NEXT.search(inner)
    perpage = _PERPAGE.search(inner)
    attrs = f' {RECORDS_ATTR}="{perpage.group(1) if perpage else len(records)}"'
    attrs += f' {TOTAL_ATTR}="{total.group(1)}"' if total else ""
    attrs += f' {NEXT_ATTR}="{escape(unescape(after.group(1)))}"' if after else ""
    return f'<div class="datastore"{attrs}>{"".join(records)}</div>'


@dataclass
class _Block:
    key: str
    holders: list[Element]
    items: set[Element] = field(default_factory=set)
    pager: bool = False


class Lists:
    """The page's list blocks, found in two steps around the link pass of `extract`:
    `Lists(hits, rows)` groups the dated rows into blocks (so each item link gets its key as it is
    read, `key_of`), `finish(…)` adds pagers, item URLs and the block summaries."""

    def __init__(self, hits: Sequence[DateHit], rows: Sequence[Element | None]) -> None:
        """`rows[i]` is the row of `hits[i]` (spiders.dates.DateScan.row_of), None for no list-item date."""
        self.hits: tuple[DateHit, ...] = tuple(hits)
        self.rows = rows
        self.blocks: tuple[ListBlock, ...] = ()
        self.pagers: tuple[tuple[str, str, str], ...] = ()   # generated pager links: (raw URL, text, block key)
        self.last_pages: tuple[tuple[str, int], ...] = ()    # (raw URL of one page of a list, its pager's last number)
        self.keyed: dict[Element, str] = {}                  # item (and pager anchor) elements -> block key
        self._blocks: dict[tuple[object, ...], _Block] = {}
        self._items: list[tuple[Element, Element]] = []      # (item, its row), first row of each item
        self._hit_items: list[Element | None] = []           # the item of each hit (None: no list item)
        groups = self._blocks
        by_parent: dict[Element | None, _Block] = {}
        keyed = self.keyed
        hit_items = self._hit_items
        for hit, row in zip(hits, rows, strict=False):
            if row is None or hit.source != "list-item":
                hit_items.append(None)
                continue
            item = item_of(row)
            hit_items.append(item)
            if item in keyed:
                continue
            parent = item.getparent()
            block = by_parent.get(parent)
            if block is None:
                holder = parent
                if holder is not None and holder.tag in ("tbody", "thead"):
                    holder = holder.getparent()
                signature = (holder.getparent(), holder.tag, holder.get("class")) if holder is not None else (item,)
                block = groups.get(signature)
                if block is None:
                    block = groups[signature] = _Block(f"L{len(groups) + 1}", [])
                if holder is not None:
                    block.holders.append(holder)
                    by_parent[parent] = block
            block.items.add(item)
            keyed[item] = block.key
            if row is not item:
                keyed[row] = block.key
            self._items.append((item, row))

    def key_of(self, element: Element, climb: bool = True) -> str:
        """The block key of an item (or pager) element, or of the item around it when `climb`."""
        keyed = self.keyed
        if not keyed:
            return ""
        if element in keyed:
            return keyed[element]
        if not climb:
            return ""
        node = element.getparent()
        for _ in range(5):
            if node is None:
                return ""
            if node in keyed:
                return keyed[node]
            node = node.getparent()
        return ""

    def finish(self, *, zone: Callable[[Element], str], urls: Mapping[Element, str],
               pager_anchors: Iterable[Element] = (), scripts: Iterable[Element] = (), page_url: str = "",
               datastores: bool = False) -> set[Element]:
        """Pagers, item URLs and summaries; returns the pager anchors that got a block key.
        `urls` maps list item anchors to their canonical URLs; `pager_anchors` are links whose text
        says 下一页/尾页…; `scripts` inline scripts calling createPageHTML; `datastores` says
        expand_datastores found records."""
        by_key = {b.key: b for b in self._blocks.values()}
        pager_keyed: set[Element] = set()
        generated: list[tuple[str, str, str]] = []
        last_pages: list[tuple[str, int]] = []
        holders = _holders(by_key.values()) if by_key else {}
        for pager in _pager_elements(pager_anchors) if holders else ():
            owner = _owner(pager, holders)
            if owner is not None:
                owner.pager = True
                for anchor in pager.iter("a"):
                    if anchor not in self.keyed:
                        self.keyed[anchor] = owner.key
                        pager_keyed.add(anchor)
        for script in scripts:
            owner = _owner(script, holders) if holders else None
            pages = _created_pages(script.text or "", page_url)
            last = _created_last(script.text or "")
            last_pages += [last] if last is not None else []
            if owner is not None and pages:
                owner.pager = True
            generated += [(url, text, owner.key if owner is not None else "") for url, text in pages]
        totals: dict[str, int] = {}
        for block in by_key.values() if datastores else ():
            store = next((node for h in block.holders for node in (h, h.getparent()) if node is not None
                          and (node.get(NEXT_ATTR) is not None or node.get(TOTAL_ATTR) is not None)), None)
            if store is None:
                continue
            if store.get(TOTAL_ATTR, "").isdigit():
                totals[block.key] = int(store.get(TOTAL_ATTR, "0"))
            pages = _proxy_pages(store, totals.get(block.key))
            last = _proxy_last(store, totals.get(block.key))
            last_pages += [last] if last is not None else []
            block.pager = block.pager or bool(pages)
            generated += [(url, text, block.key) for url, text in pages]
        if self._items:
            item_urls: dict[Element, str] = {}
            for item, row in self._items:
                link = row if row.tag == "a" else next(item.iter("a"), None)
                item_urls[item] = urls.get(link, "") if link is not None else ""
            keyed = self.keyed
            marked = []
            for hit, item in zip(self.hits, self._hit_items, strict=False):
                marked.append(hit if item is None else hit.listed(keyed[item], item_urls[item]))
            self.hits = tuple(marked) + self.hits[len(marked):]
        summaries = []
        for b in by_key.values():
            heading = _heading(b.holders[0]) if b.holders else ""
            summaries.append(ListBlock(b.key, _region(b, zone), heading, len(b.items), b.pager, totals.get(b.key),
                                       _widget(b, heading)))
        self.blocks = tuple(summaries)
        self.pagers = tuple(generated)
        self.last_pages = tuple(last_pages)
        return pager_keyed


def _region(block: _Block, zone: Callable[[Element], str]) -> str:
    holder = block.holders[0] if block.holders else next(iter(block.items))
    return REGIONS.get(zone(holder), "body")


def _holders(blocks: Iterable[_Block]) -> dict[Element, _Block]:
    """Each list holder and its ancestors (a few levels) -> the last block inside it, for pager ownership."""
    inside: dict[Element, _Block] = {}
    for block in blocks:
        for holder in block.holders:
            inside[holder] = block
            for _, ancestor in zip(range(4), holder.iterancestors()):
                if ancestor.tag in ("body", "html"):
                    break
                inside[ancestor] = block
    return inside


def _owner(pager: Element, inside: dict[Element, _Block]) -> _Block | None:
    """The list a pager belongs to: the holder it sits in, else the nearest list before it in its container."""
    node: Element | None = pager
    for _ in range(5):
        if node is None or node.tag in ("body", "html"):
            return None
        if node is not pager and node in inside and node.tag in ("ul", "ol", "table", "dl", "tbody"):
            return inside[node]
        for _, sibling in zip(range(6), node.itersiblings(preceding=True)):
            if sibling in inside:
                return inside[sibling]
        node = node.getparent()
    return None


def _pager_elements(anchors: Iterable[Element]) -> list[Element]:
    """The element around each 下一页/尾页 link: its parent, or the block above an inline wrapper."""
    found: list[Element] = []
    for anchor in anchors:
        node = anchor.getparent()
        if node is not None and node.tag in ("li", "span", "font", "b", "strong", "em", "td") and \
                node.getparent() is not None:
            node = node.getparent()
        if node is not None and node not in found:
            found.append(node)
    return found


def _pager_call(script: str) -> tuple[int, int, str, str] | None:
    """(count, current, prefix, suffix) of a TRS createPageHTML(count, current, prefix, suffix) call."""
    call = _CREATE_PAGE.search(script)
    if call is None:
        return None
    numbers: list[int] = []
    words: list[str] = []
    for arg in call.group(1).split(","):
        token = _ARG.fullmatch(arg)
        if token is None:
            return None
        if token.group("n"):
            numbers.append(int(token.group("n")))
        elif token.group("q") is not None:
            words.append(token.group("s"))
        else:
            bound = re.search(rf"\b{re.escape(token.group('v'))}\s*=\s*['\"]?(\d+)", script)
            if bound is None:
                return None
            numbers.append(int(bound.group(1)))
    if len(numbers) < 2 or len(words) < 2:
        return None
    return numbers[0], numbers[1], words[-2], words[-1]


def _written_call(script: str) -> str | None:
    """The createPageHTML call the classic TRS pager stands for (`var currentPage = 0; … var countPage = 7`)."""
    count, current = _COUNT_PAGE.search(script), _CURRENT_PAGE.search(script)
    if count is None or current is None:
        return None
    suffix = _SUFFIX.search(script)
    return f'createPageHTML({count.group(1)}, {current.group(1)}, "index", "{suffix.group(1) if suffix else "html"}")'


def _created_last(script: str) -> tuple[str, int] | None:
    """(a page of the list, the last page number) a createPageHTML or countPage pager names: prefix_N.suffix,
    N up to count - 1."""
    call = _pager_call(script)
    if call is None:
        written = _written_call(script)
        call = _pager_call(written) if written is not None else None
    if call is None or call[0] < 1:
        return None
    count, _, prefix, suffix = call
    return f"{prefix}_1.{suffix}", count - 1


def _created_pages(script: str, page_url: str) -> list[tuple[str, str]]:
    """(relative URL, text) of the other list pages a TRS createPageHTML(count, current, prefix, suffix) draws."""
    call = _pager_call(script)
    if call is None:
        return _written_pages(script, page_url)
    count, current, prefix, suffix = call
    names = [(f"{prefix}.{suffix}" if n == 0 else f"{prefix}_{n}.{suffix}", n) for n in range(min(count, 100))]
    here = page_url.rsplit("/", 1)[-1].split("?", 1)[0]
    others = [(name, n) for name, n in names if n != current and name != here]
    return [(name, f"第{n + 1}页") for name, n in others[:PAGER_MAX]]


def _written_pages(script: str, page_url: str) -> list[tuple[str, str]]:
    """The other list pages of the classic TRS pager that writes its links itself
    (`var currentPage = 0; … var countPage = 7 //共多少页`, then index_N.html links)."""
    call = _written_call(script)
    return _created_pages(call, page_url) if call is not None else []


def _proxy_last(store: Element, total: int | None) -> tuple[str, int] | None:
    """(a dataproxy.jsp request of the column, its last record): startrecord past `<totalrecord>` is no page."""
    after = store.get(NEXT_ATTR)
    size = int(store.get(RECORDS_ATTR) or 0)
    if not after or size <= 0 or total is None:
        return None
    joiner = "&" if "?" in after else "?"
    return f"{after}{joiner}startrecord={total}&endrecord={total}&perpage={size}", total


def _proxy_pages(store: Element, total: int | None) -> list[tuple[str, str]]:
    """The dataproxy.jsp requests for the next groups of records of a Hanweb datastore."""
    after = store.get(NEXT_ATTR)
    size = int(store.get(RECORDS_ATTR) or 0)
    if not after or size <= 0 or total is None or total <= size:
        return []
    joiner = "&" if "?" in after else "?"
    pages = []
    for start in range(size + 1, total + 1, size):
        end = min(start + size - 1, total)
        pages.append((f"{after}{joiner}startrecord={start}&endrecord={end}&perpage={size}",
                      f"第{start}-{end}条"))
        if len(pages) >= PAGER_MAX:
            break
    return pages


_PAGER_FIRST = frozenset("下尾末上最>»nNlL")


def pager_anchor(text: str, href: str) -> bool:
    """A link of a pager: 下一页/尾页/上一页… (or an index_N.html page number)."""
    if not text:
        return False
    if text.isdigit():
        return bool(_PAGER_URL.search(href))
    return text[0] in _PAGER_FIRST and bool(_PAGER_WORD.match(text))


def _heading(holder: Element) -> str:
    """The title of the box a list stands in: a heading or title-classed element just before it."""
    first = next((row for row in holder.iterchildren("tr", "tbody", "thead", "li", "dt", "caption")), None)
    if first is not None and first.tag in ("tbody", "thead"):
        first = next(first.iterchildren("tr"), None)
    if first is not None and first.find(".//a") is None and (first.tag in ("caption", "dt") or any(
            cell.tag == "th" or _HEADING_CLASS.search(cell.get("class") or "") for cell in first)):
        text = " ".join("".join(first.itertext()).split())
        if 0 < len(text) <= HEADING_MAX:
            return text
    node: Element | None = holder
    for _ in range(3):
        if node is None or node.tag in ("body", "html"):
            return ""
        for _, sibling in zip(range(3), node.itersiblings(preceding=True)):
            if not isinstance(sibling.tag, str):
                continue
            if sibling.tag in ("h1", "h2", "h3", "h4", "h5", "h6", "caption") or _HEADING_CLASS.search(
                    f"{sibling.get('class') or ''} {sibling.get('id') or ''}"):
                text = _MORE.sub("", " ".join("".join(sibling.itertext()).split()))
                if 0 < len(text) <= HEADING_MAX:
                    return text
        node = node.getparent()
    return ""


def _widget(block: _Block, heading: str) -> bool:
    """A 最新/热点/排行/相关/滚动 box or a ticker: by its heading, a marquee, or its boxes' id/class words."""
    if not block.holders:
        return False
    holder = block.holders[0]
    if _WIDGET_WORDS.search(heading):
        return True
    for _, node in zip(range(4), (holder, *holder.iterancestors())):
        if node.tag in ("body", "html"):
            break
        if node.tag == "marquee" or _WIDGET_CLASS.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            return True
    return False
