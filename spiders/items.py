"""The JSON-lines crawl record schema: what the crawl child writes and the
parent's store ingests. One JSON object a line, with a "type" of "page",
"links", "link" or "event". Changing a field here changes the ingest; keep both in step.

A page's links travel as one "links" line after its page line: {"type": "links",
"site_id", "source_url", "links": [[target_url, tag, text, context, block], ...]}
(`LinkRecord`'s fields in that order). One line a page rather than one a link: the
child's encoding and the parent's parsing of ~60 small objects a page cost more
than the rest of the ingest. A lone "link" line (a `LinkRecord`) is still read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class DateHit:
    date: date
    source: str                 # list-item | meta | header | text
    snippet: str = ""
    block: str = ""             # list-item dates: the key of the list block (ListBlock.key) the item is in
    item: str = ""              # list-item dates: the item's link URL (canonical), "" when it has none

    def listed(self, block: str, item: str) -> DateHit:
        """This hit with its list block and item URL. Copies the fields directly: the frozen dataclass
        __init__ (one object.__setattr__ a field) costs more than reading the list row did."""
        copy = object.__new__(DateHit)
        copy.__dict__.update(self.__dict__, block=block, item=item)
        return copy


@dataclass(frozen=True)
class ListBlock:
    """One list of dated items on a page (a ul/ol/table/div/dl of repeated rows), see spiders/lists.py."""

    key: str                    # stable per page: "L1", "L2"… in document order
    region: str                 # body | side | nav | header | footer
    heading: str = ""           # the box title above the list, when there is one ("" otherwise)
    items: int = 0              # dated rows on this page
    pager: bool = False         # a pager (下一页, createPageHTML, index_N.html, dataproxy) belongs to it
    total: int | None = None    # records the list says it has in all (Hanweb <totalrecord>), else None
    widget: bool = False        # a 最新/热点/排行/相关/滚动 box or ticker, never a column's own list


@dataclass(frozen=True)
class Finding:
    """What screening found on a page (spiders/screen.py): never a whole personal number."""

    kind: str                   # id_card | mobile | bank_card (content:privacy) | wording (content:wording)
    masked: str                 # the number masked ("138****5678"), or the wrong form as matched
    context: str = ""           # a few characters either side, personal numbers masked
    right: str = ""             # wording: the form to suggest ("" = the word must not appear)
    severity: str = ""          # wording: fail | warn
    source: str = ""            # wording: the norm of the entry, or the word list it came from
    count: int = 1              # occurrences on the page


@dataclass(frozen=True)
class PageRecord:
    site_id: str
    url: str                    # canonical URL requested
    final_url: str              # after redirects
    status: int | None
    fetch_kind: str             # a monitor.outcomes.FetchKind value
    depth: int
    fetched_at: str             # ISO 8601 UTC
    redirect_chain: tuple[str, ...] = ()
    content_type: str = ""
    encoding: str = ""
    size: int = 0
    title: str = ""
    body_sha256: str = ""
    dates: tuple[DateHit, ...] = ()
    detail: str = ""            # why a fetch failed, in words
    lists: tuple[ListBlock, ...] = ()
    findings: tuple[Finding, ...] = ()   # screening (spiders/screen.py), masked
    notes: dict[str, Any] | None = None   # page facts for the checklist's checks: placeholder, issued, published…

    type: str = field(default="page", init=False)


@dataclass(frozen=True)
class LinkRecord:
    site_id: str
    source_url: str
    target_url: str             # absolute, canonical, fragment dropped; a malformed link's href as written
    # a area iframe frame (followed as pages); img (src, srcset, input type=image) script link embed object
    # source (picture/video/audio <source>) video (src, poster) audio track css (url()/@import in style
    # attributes and <style>) background (legacy attribute) meta-refresh js-location (incl. onclick, <select> options)
    # pager (a list page URL a script generates: createPageHTML, Hanweb dataproxy.jsp)
    tag: str
    text: str = ""
    context: str = "body"       # nav | subnav | list | body | footer
    block: str = ""             # the list block (ListBlock.key) the link is an item or pager of

    type: str = field(default="link", init=False)


@dataclass(frozen=True)
class EventRecord:
    """Something about the crawl itself: a trap cut short, a bound reached, robots refusal, a page
    whose declared charset garbles it (read in the charset that decodes it; detail "declared → used")."""

    site_id: str
    kind: str                   # trap | max_pages | max_depth | robots | blocked | rate_limited | charset
    url: str = ""
    detail: str = ""

    type: str = field(default="event", init=False)


def to_json(record: PageRecord | LinkRecord | EventRecord) -> dict[str, Any]:
    data = asdict(record)
    if isinstance(record, PageRecord):
        data["dates"] = [_compact({**d, "date": d["date"].isoformat()}) for d in data["dates"]]
        data["lists"] = [_compact(block) for block in data["lists"]]
        data["findings"] = [_compact(f) for f in data["findings"]]
    return data


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """Without the empty optional fields, so the file stays small."""
    return {k: v for k, v in data.items() if v not in ("", None, False) or k in ("date", "source", "key")}
