"""The JSON-lines crawl record schema: what the crawl child writes and the
parent's store ingests. One JSON object a line, with a "type" of "page",
"link" or "event". Changing a field here changes the ingest; keep both in step.
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

    type: str = field(default="page", init=False)


@dataclass(frozen=True)
class LinkRecord:
    site_id: str
    source_url: str
    target_url: str             # absolute, canonical, fragment dropped; a malformed link's href as written
    # a area iframe frame (followed as pages); img (src, srcset, input type=image) script link embed object
    # source (picture/video/audio <source>) video (src, poster) audio track css (url()/@import in style
    # attributes and <style>) background (legacy attribute) meta-refresh js-location (incl. onclick, <select> options)
    tag: str
    text: str = ""
    context: str = "body"       # nav | subnav | list | body | footer

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
        data["dates"] = [{**d, "date": d["date"].isoformat()} for d in data["dates"]]
    return data
