"""The crawl child's output: the JSON-lines spool and progress lines on stderr.

Owns `CrawlBundle` (what one fetch produced: a page record, its links, events)
and the item pipeline writing bundles as lines (spiders/items.py schema). The
spool is a folder of segments: lines go to `crawl-NNNNNN.jsonl.part`, and once
it holds `segment_bytes` the segment is closed, renamed to `crawl-NNNNNN.jsonl`
and announced on stderr as `{"segment": "crawl-NNNNNN.jsonl"}`, so the parent
(monitor/crawl.py) ingests it while the crawl goes on. A bundle is never split
across segments, so a page's links are in its segment. A killed child leaves
its complete segments and one `.part` whose last line may be cut. A fed crawl
(spiders/crawl.py --feed) announces each site done as `{"site_done": "ID"}`
after closing the segment holding its last lines. Progress
goes to stderr as `{"progress": {...}}` lines, at most once a second and once
at the end. Never touches the database.

One item per fetch, not per record: a page's ~60 links would otherwise each
pass through Scrapy's item machinery, which costs more than writing them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from monitor.outcomes import FetchKind
from spiders.items import DateHit, EventRecord, Finding, LinkRecord, ListBlock, PageRecord

try:  # several times faster than json for the crawl's lines; json is the fallback
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

OUT_SETTING = "GOVMON_OUT"
SEGMENT_SETTING = "GOVMON_SEGMENT_BYTES"
SEGMENT_BYTES = 4 * 2**20      # ~150 pages: small enough to ingest while the crawl goes on, few commits
PROGRESS_INTERVAL_S = 1.0
_FINDING_FIELDS = tuple(f.name for f in fields(Finding))
_LINK_ROW = ("target_url", "tag", "text", "context", "block")
_FIELDS = {cls: tuple(f.name for f in fields(cls) if f.name != "type") for cls in (PageRecord, LinkRecord, EventRecord)}


def segment_name(number: int) -> str:
    """The name of a complete segment; it is written as this name plus ".part"."""
    return f"crawl-{number:06d}.jsonl"


@dataclass(frozen=True)
class CrawlBundle:
    """Everything one request produced. `page` is None for a request that was never sent (robots).

    A page that was read comes encoded (spiders/reader.py): `lines` holds its page line (with its
    dates and lists) and its "links" line (`encoded_links` links), and `page` is the record without them.
    """

    page: PageRecord | None = None
    links: tuple[LinkRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()
    lines: bytes = b""
    encoded_links: int = 0
    done: str = ""      # a fed crawl: this site is done once this bundle is written (JsonLinesWriter announces it)

    def decoded(self) -> CrawlBundle:
        """This bundle with its page and links as records (what an encoded bundle holds, for reading it)."""
        if not self.lines:
            return self
        page, *links = (record for text in self.lines.decode("utf-8").splitlines() for record in spool_records(text))
        page_record = PageRecord(**{k: v for k, v in page.items() if k not in ("type", "dates", "lists", "findings")},
                                 dates=tuple(_date_from(d) for d in page["dates"]),
                                 lists=tuple(ListBlock(**b) for b in page["lists"]),
                                 findings=tuple(Finding(**f) for f in page.get("findings", ())))
        page_record = replace(page_record, redirect_chain=tuple(page_record.redirect_chain))
        return CrawlBundle(page_record, tuple(LinkRecord(**{k: v for k, v in link.items() if k != "type"})
                                              for link in links), self.events)


@runtime_checkable
class ProgressSource(Protocol):
    """The spider, as the writer sees it: progress counts (and, optionally, `final_bundles()`)."""

    def sites_total(self) -> int: ...

    def sites_done(self) -> int: ...


def _date_from(data: dict[str, Any]) -> DateHit:
    return DateHit(**{**data, "date": date.fromisoformat(data["date"])})


def _date(hit: DateHit) -> dict[str, Any]:
    data: dict[str, Any] = {"date": hit.date.isoformat(), "source": hit.source, "snippet": hit.snippet}
    if hit.block:
        data["block"], data["item"] = hit.block, hit.item
    return data


def _dates(hits: tuple[DateHit, ...]) -> list[Any]:
    """`_date` of each hit as orjson writes it: a listed hit as itself (orjson writes a dataclass's fields
    in order, a date as ISO), another without its empty block and item. json needs `_plain` to read them."""
    return [hit if hit.block else {"date": hit.date, "source": hit.source, "snippet": hit.snippet} for hit in hits]


def _plain(value: Any) -> Any:
    """What json writes for the values `_dates` leaves to orjson."""
    if isinstance(value, DateHit):
        return _date(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _block(block: ListBlock) -> dict[str, Any]:
    """A list block without its default fields (most lists have no total and are no widget)."""
    data: dict[str, Any] = {"key": block.key, "region": block.region, "items": block.items}
    for name in ("heading", "pager", "total", "widget"):
        value = getattr(block, name)
        if value:
            data[name] = value
    return data


def _data(record: PageRecord | LinkRecord | EventRecord) -> dict[str, Any]:
    """`items.to_json(record)`, "type" first, built from the fields directly: dataclasses.asdict
    deep-copies every value and cost a quarter of the crawl's time for ~60 links a page."""
    data = {"type": record.type, **{name: getattr(record, name) for name in _FIELDS[type(record)]}}
    if isinstance(record, PageRecord):
        data["dates"] = _dates(record.dates)
        data["lists"] = [_block(b) for b in record.lists]
        data["findings"] = [_finding(f) for f in record.findings]
    return data


def _finding(finding: Finding) -> dict[str, Any]:
    """A screening finding without its empty fields (privacy findings have no right form or source)."""
    return {k: v for k, v in ((k, getattr(finding, k)) for k in _FINDING_FIELDS) if v or k == "masked"}


def encode(record: PageRecord | LinkRecord | EventRecord) -> bytes:
    """One JSON line, UTF-8."""
    return _line(_data(record))


def _line(data: dict[str, Any]) -> bytes:
    """`data` as one JSON line, UTF-8. A text orjson refuses (a lone surrogate) goes through json, replaced."""
    if orjson is not None:
        try:
            return orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            pass
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_plain) + "\n").encode(
        "utf-8", "replace")


LinkRow = tuple[str, str, str, str, str]
"""A link in a "links" line: target URL, tag, text, context, block (spiders/items.py)."""


def encode_links(site_id: str, source_url: str, links: list[LinkRow]) -> bytes:
    """One "links" line holding a page's links, UTF-8 (a text orjson refuses goes through json, replaced)."""
    return _line({"type": "links", "site_id": site_id, "source_url": source_url, "links": links})


def link_lines(links: tuple[LinkRecord, ...]) -> list[bytes]:
    """`links` as "links" lines, one per source page, in the order the pages first come."""
    grouped: dict[tuple[str, str], list[LinkRow]] = {}
    for k in links:
        grouped.setdefault((k.site_id, k.source_url), []).append((k.target_url, k.tag, k.text, k.context, k.block))
    return [encode_links(site_id, source, rows) for (site_id, source), rows in grouped.items()]


def spool_records(text: str | bytes) -> list[dict[str, Any]]:
    """One spool line as records, a "links" line as one "link" record a link (for reading a spool)."""
    record = json.loads(text)
    if record.get("type") != "links":
        return [record]
    return [{"type": "link", "site_id": record["site_id"], "source_url": record["source_url"],
             **dict(zip(_LINK_ROW, row, strict=True))} for row in record["links"]]


def line(record: PageRecord | LinkRecord | EventRecord) -> str:
    """One JSONL line holding `items.to_json(record)`, "type" first."""
    return encode(record).decode("utf-8")


def progress_line(counts: dict[str, int]) -> str:
    return json.dumps({"progress": counts}, separators=(",", ":"))


def segment_line(name: str) -> str:
    return json.dumps({"segment": name}, separators=(",", ":"))


def site_done_line(site_id: str) -> str:
    return json.dumps({"site_done": site_id}, separators=(",", ":"), ensure_ascii=False)


class JsonLinesWriter:
    """Item pipeline: writes each CrawlBundle to the spool named by the GOVMON_OUT setting.

    With `segment_bytes` (GOVMON_SEGMENT_BYTES) `path` is the spool folder and
    the lines go to segments; with 0 they all go to the one file `path`.
    """

    def __init__(self, path: Path, stream: IO[str] | None = None, crawler: Any = None,
                 segment_bytes: int = 0) -> None:
        self.path = path
        self.stream = stream if stream is not None else sys.stderr
        self.segment_bytes = segment_bytes
        self.pages = self.links = self.errors = self.events = self.segments = 0
        self._crawler = crawler
        self._file: IO[bytes] | None = None
        self._size = 0
        self._open = False
        self._source: ProgressSource | None = None
        self._last_progress = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> JsonLinesWriter:
        return cls(Path(crawler.settings[OUT_SETTING]), crawler=crawler,
                   segment_bytes=crawler.settings.getint(SEGMENT_SETTING, 0))

    def open_spider(self, spider: Any = None) -> None:
        self._open = True
        if not self.segment_bytes:
            self._file = self.path.open("wb")
        source = spider if spider is not None else getattr(self._crawler, "spider", None)
        self._source = source if isinstance(source, ProgressSource) else None
        self._report(force=True)

    def close_spider(self, spider: Any = None) -> None:
        if self._open:
            for bundle in getattr(self._source, "final_bundles", lambda: ())():
                self.write(bundle)
            self._close_segment()
            if self._file is not None:
                self._file.close()
                self._file = None
            self._open = False
        self._report(force=True)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, CrawlBundle):
            self.write(item)
        return item

    def write(self, bundle: CrawlBundle) -> None:
        assert self._open, "open_spider() first"
        if bundle.lines:
            parts = [bundle.lines]
        else:
            parts = [encode(bundle.page)] if bundle.page is not None else []
            parts += link_lines(bundle.links)
        parts += [encode(event) for event in bundle.events]
        data = b"".join(parts)
        if data:
            if self._file is None:
                self.segments += 1
                self._file = self._part(self.segments).open("wb")
            self._file.write(data)
            self._size += len(data)
        if self.segment_bytes and (self._size >= self.segment_bytes or (bundle.done and self._file is not None)):
            self._close_segment()
        if bundle.done:   # after its segment's line: the parent has every row of the site when it hears this
            self._say(site_done_line(bundle.done))
        if bundle.page is not None:
            self.pages += 1
            self.errors += bundle.page.fetch_kind != FetchKind.OK
        self.links += len(bundle.links) + bundle.encoded_links
        self.events += len(bundle.events)
        self._report()

    def _part(self, number: int) -> Path:
        return self.path / (segment_name(number) + ".part")

    def _close_segment(self) -> None:
        """Close the segment being written, give it its final name and tell the parent."""
        if not self.segment_bytes or self._file is None:
            return
        self._file.close()
        self._file, self._size = None, 0
        name = segment_name(self.segments)
        os.replace(self._part(self.segments), self.path / name)
        self._say(segment_line(name))

    def counts(self) -> dict[str, int]:
        source = self._source
        return {"sites_done": source.sites_done() if source else 0, "sites": source.sites_total() if source else 0,
                "pages": self.pages, "links": self.links, "errors": self.errors,
                "screen_ms": getattr(source, "screen_ms", lambda: 0)()}

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        self._say(progress_line(self.counts()))

    def _say(self, text: str) -> None:
        try:
            print(text, file=self.stream, flush=True)
        except (OSError, ValueError):  # the parent closed our stderr: keep crawling, it reads the spool
            pass
