"""A column's own list on one of its list pages — the rule the column check and
the `column` probe share.

The crawl records each page's list blocks (`ListBlock`: region, heading, item
count, pager, total, widget) and, for every list item link and list-item date,
the block it is in. The column's own list is, among the blocks that are not in
the page's navigation, header or footer:

1. the blocks whose item links go under the column — the column URL's
   directory (`/xxgk/tzgg/` → `/xxgk/tzgg/202310/t20231009_1.html`) or, for
   TRS/Hanweb `/col/col123/` columns, `/art/…/art_123_…` articles — the one
   with a pager first, then not a 最新/热点 widget, then in the body, then the
   one with most such links;
2. else the block its pager belongs to;
3. else the body's largest dated list that is no widget, then the side's.

Never a sidebar widget, ticker, header or footer list once the column has a
list of its own. The latest date is the maximum over the list (a pinned old
item first does not hide newer ones), never after today. A page recorded
without blocks (an older crawl) falls back to every list link and date.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from checks.snapshot import DateHit, Link, ListBlock

__all__ = ["OwnList", "is_pager_link", "own_list", "under_column"]

CHROME = frozenset({"nav", "header", "footer"})
PAGER_TEXT = re.compile(r"^(下一页|上一页|首页|尾页|末页|下页|上页|最后一页|\d{1,3}|>|<|>>|<<|»|«|next|prev|last|first)$",
                        re.IGNORECASE)
PAGER_URL = re.compile(r"/index_\d+\.s?html?$|/dataproxy\.jsp\?")
_COLUMN_ID = re.compile(r"/col/col(\d+)/|/col(\d+)/")


@dataclass(frozen=True)
class OwnList:
    """The list judged on one page, and why it was chosen."""

    key: str                           # ListBlock.key; "" when the page has no recorded blocks
    heading: str
    reason: str                        # "links under the column" | "its pager" | "the main dated list" | …
    items: tuple[tuple[str, str], ...]  # (item URL, title) in page order
    dates: tuple[DateHit, ...]         # its list-item dates, not after today
    pagers: tuple[str, ...]            # list pages its pager leads to
    total: int | None = None           # what the list says it holds in all (Hanweb totalrecord)


def is_pager_link(link: Link) -> bool:
    return link.tag == "pager" or bool(PAGER_TEXT.match(link.text.strip())) or bool(PAGER_URL.search(link.target_url))


def under_column(url: str, column: str) -> bool:
    """Whether `url` is an item of the column at `column`: in its directory, or a TRS/Hanweb
    /art/…/art_<id>_… article of a /col/col<id>/ column."""
    bare = column.split("?", 1)[0].split("#", 1)[0]
    folder = bare[:bare.rfind("/") + 1]
    origin_end = bare.find("/", bare.find("//") + 2) if "//" in bare else -1
    target = url.split("#", 1)[0]
    if origin_end != -1 and len(folder) > origin_end + 1 and target.startswith(folder) and target.rstrip("/") != \
            bare.rstrip("/") and not re.search(r"/index(?:_\d+)?\.s?html?$", target):
        return True
    found = _COLUMN_ID.search(bare)
    if found is not None:
        return f"/art_{found.group(1) or found.group(2)}_" in target
    return False


def own_list(column: str, blocks: Sequence[ListBlock], links: Iterable[Link], dates: Iterable[DateHit],
             today: date) -> OwnList | None:
    """The column's own list on a page of it (see the module docstring); None when it has none."""
    links = [link for link in links if link.tag in ("a", "pager", "area")]
    hits = [d for d in dates if d.source == "list-item" and d.date <= today]
    if not blocks and not any(d.block for d in hits):
        return _legacy(links, hits)
    by_key = {b.key: b for b in blocks}
    for key in {d.block for d in hits if d.block} - set(by_key):
        by_key[key] = ListBlock(key)
    members: dict[str, list[Link]] = {}
    for link in links:
        if link.block:
            members.setdefault(link.block, []).append(link)
    eligible = [b for b in by_key.values() if b.region not in CHROME]

    def under(block: ListBlock) -> int:
        return len({lk.target_url for lk in members.get(block.key, ()) if not is_pager_link(lk)
                    and under_column(lk.target_url, column)})

    chosen: ListBlock | None = None
    reason = ""
    owned = [b for b in eligible if under(b)]
    if owned:
        chosen = max(owned, key=lambda b: (b.pager, not b.widget, b.region == "body", under(b), -_order(b)))
        reason = "links under the column"
    elif paged := [b for b in eligible if b.pager and not b.widget]:
        chosen, reason = paged[0], "its pager"
    else:
        for region, why in (("body", "the main dated list"), ("side", "the side's dated list")):
            plain = [b for b in eligible if b.region == region and not b.widget]
            if plain:
                chosen = max(plain, key=lambda b: (b.items, -_order(b)))
                reason = why
                break
    if chosen is None:
        return None
    key = chosen.key
    own = members.get(key, [])
    titles = {lk.target_url: lk.text for lk in own if lk.tag == "a" and not is_pager_link(lk)}
    mine = tuple(d for d in hits if d.block == key)
    items = {d.item: titles.get(d.item, "") for d in mine if d.item} or titles
    pagers = tuple(dict.fromkeys(lk.target_url for lk in own if is_pager_link(lk)))
    return OwnList(key, chosen.heading, reason, tuple(items.items()), mine, pagers, chosen.total)


def _order(block: ListBlock) -> int:
    digits = block.key.lstrip("L")
    return int(digits) if digits.isdigit() else 0


def _legacy(links: list[Link], hits: list[DateHit]) -> OwnList | None:
    """A page recorded without list blocks: every list link and list-item date, as before blocks existed."""
    items = {lk.target_url: lk.text for lk in links if lk.tag == "a" and lk.context == "list" and not is_pager_link(lk)}
    pagers = tuple(dict.fromkeys(lk.target_url for lk in links if lk.tag in ("a", "pager") and is_pager_link(lk)))
    if not items and not hits:
        return None
    return OwnList("", "", "every list on the page", tuple(items.items()), tuple(hits), pagers)
