"""The crawl child's output: the JSON-lines snapshot file and progress lines on stderr.

Owns `CrawlBundle` (what one fetch produced: a page record, its links, events)
and the item pipeline writing bundles as lines (spiders/items.py schema), one
flush per bundle, so a killed child leaves at most a cut last line. Progress
goes to stderr as `{"progress": {...}}` lines for the parent (monitor/crawl.py),
at most once a second and once at the end. Never touches the database.

One item per fetch, not per record: a page's ~60 links would otherwise each
pass through Scrapy's item machinery, which costs more than writing them.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from monitor.outcomes import FetchKind
from spiders.items import DateHit, EventRecord, LinkRecord, ListBlock, PageRecord

log = logging.getLogger(__name__)

OUT_SETTING = "GOVMON_OUT"
PROGRESS_INTERVAL_S = 1.0
_FIELDS = {cls: tuple(f.name for f in fields(cls) if f.name != "type") for cls in (PageRecord, LinkRecord, EventRecord)}


@dataclass(frozen=True)
class CrawlBundle:
    """Everything one request produced. `page` is None for a request that was never sent (robots)."""

    page: PageRecord | None = None
    links: tuple[LinkRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()


@runtime_checkable
class ProgressSource(Protocol):
    """The spider, as the writer sees it: progress counts (and, optionally, `final_bundles()`)."""

    def sites_total(self) -> int: ...

    def sites_done(self) -> int: ...


def _date(hit: DateHit) -> dict[str, Any]:
    data: dict[str, Any] = {"date": hit.date.isoformat(), "source": hit.source, "snippet": hit.snippet}
    if hit.block:
        data["block"], data["item"] = hit.block, hit.item
    return data


def _block(block: ListBlock) -> dict[str, Any]:
    """A list block without its default fields (most lists have no total and are no widget)."""
    data: dict[str, Any] = {"key": block.key, "region": block.region, "items": block.items}
    for name in ("heading", "pager", "total", "widget"):
        value = getattr(block, name)
        if value:
            data[name] = value
    return data


def line(record: PageRecord | LinkRecord | EventRecord) -> str:
    """One JSONL line holding `items.to_json(record)`, "type" first.

    Built from the fields directly: dataclasses.asdict deep-copies every value
    and cost a quarter of the crawl's time for ~60 links a page.
    """
    data = {"type": record.type, **{name: getattr(record, name) for name in _FIELDS[type(record)]}}
    if isinstance(record, PageRecord):
        data["dates"] = [_date(d) for d in record.dates]
        data["lists"] = [_block(b) for b in record.lists]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def progress_line(counts: dict[str, int]) -> str:
    return json.dumps({"progress": counts}, separators=(",", ":"))


class JsonLinesWriter:
    """Item pipeline: writes each CrawlBundle to the file named by the GOVMON_OUT setting."""

    def __init__(self, path: Path, stream: IO[str] | None = None, crawler: Any = None) -> None:
        self.path = path
        self.stream = stream if stream is not None else sys.stderr
        self.pages = self.links = self.errors = self.events = 0
        self._crawler = crawler
        self._file: IO[str] | None = None
        self._source: ProgressSource | None = None
        self._last_progress = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> JsonLinesWriter:
        return cls(Path(crawler.settings[OUT_SETTING]), crawler=crawler)

    def open_spider(self, spider: Any = None) -> None:
        self._file = self.path.open("w", encoding="utf-8", newline="\n")
        source = spider if spider is not None else getattr(self._crawler, "spider", None)
        self._source = source if isinstance(source, ProgressSource) else None
        self._report(force=True)

    def close_spider(self, spider: Any = None) -> None:
        if self._file is not None:
            for bundle in getattr(self._source, "final_bundles", lambda: ())():
                self.write(bundle)
            self._file.close()
            self._file = None
        self._report(force=True)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, CrawlBundle):
            self.write(item)
        return item

    def write(self, bundle: CrawlBundle) -> None:
        assert self._file is not None, "open_spider() first"
        parts = [line(bundle.page)] if bundle.page is not None else []
        parts += [line(link) for link in bundle.links]
        parts += [line(event) for event in bundle.events]
        self._file.write("".join(parts))
        self._file.flush()
        if bundle.page is not None:
            self.pages += 1
            self.errors += bundle.page.fetch_kind != FetchKind.OK
        self.links += len(bundle.links)
        self.events += len(bundle.events)
        self._report()

    def counts(self) -> dict[str, int]:
        source = self._source
        return {"sites_done": source.sites_done() if source else 0, "sites": source.sites_total() if source else 0,
                "pages": self.pages, "links": self.links, "errors": self.errors}

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        try:
            print(progress_line(self.counts()), file=self.stream, flush=True)
        except (OSError, ValueError):  # the parent closed our stderr: keep crawling, it reads the file
            pass
