"""Ingest of a crawl snapshot: the child's JSON-lines spool into page, page_date,
link and crawl_event rows, one transaction per segment file.

Owns reading the spiders/items.py record schema defensively: a cut last line
(a killed child) is tolerated and reported, malformed lines are skipped and
counted, strings are clipped to their columns, URLs too long for an index are
skipped and counted. Links follow their page (the child writes them that way,
in the same segment); a page's id is remembered across the run's segments, so
a link whose page came in an earlier segment still finds it; a link whose page
is missing is counted, not stored. It is the parent's only crawl writer; it
never fetches and never judges.
"""

from __future__ import annotations

import json
import logging
import operator
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor.db import Base, CrawlEventRow, RunRow, RunSiteRow, StorageError

try:  # parses the spool about twice as fast as json
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson is a declared dependency
    _loads = json.loads

log = logging.getLogger(__name__)

MAX_URL_BYTES = 2000        # PostgreSQL's B-tree entries stop near 2,700 bytes; page.url is in a unique index
PAGE_BATCH = 500
LINK_BATCH = 5000
INT_MAX = 2**31 - 1
_PAGES, _DATES, _LINKS, _EVENTS = (Base.metadata.tables[name] for name in ("page", "page_date", "link", "crawl_event"))
_LIMITS = {"fetch_kind": 32, "encoding": 64, "body_sha256": 64, "source": 16, "tag": 16, "context": 16, "kind": 32,
           "block": 16}


@dataclass(frozen=True)
class IngestStats:
    pages: int = 0
    dates: int = 0
    links: int = 0
    events: int = 0
    malformed: int = 0          # lines that are no valid record; skipped
    truncated: bool = False     # the last line was cut short (the child was killed while writing)
    long_urls: int = 0          # records skipped for a URL over MAX_URL_BYTES
    duplicates: int = 0         # page records of a URL already ingested for the site
    orphan_links: int = 0       # links whose source page was not ingested
    unknown_sites: int = 0      # records of a site that is not part of the run


@dataclass(frozen=True)
class CrawlEvent:
    site_id: str
    kind: str                   # trap | max_pages | max_depth | robots | blocked | rate_limited | charset
    url: str
    detail: str


@dataclass
class _Counts:
    values: dict[str, Any] = field(default_factory=lambda: {f.name: f.default for f in fields(IngestStats)})

    def add(self, name: str, n: int = 1) -> None:
        self.values[name] += n

    def merge(self, other: _Counts) -> None:
        for name, value in other.values.items():
            if isinstance(value, bool):
                self.values[name] = self.values[name] or value
            else:
                self.values[name] += value

    def stats(self) -> IngestStats:
        return IngestStats(**self.values)


def _text(value: Any, name: str = "") -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name or 'value'} is not a string")
    text: str = value.replace("\x00", "") if "\x00" in value else value  # PostgreSQL refuses NUL in text
    limit = _LIMITS.get(name)
    return text[:limit] if limit is not None and len(text) > limit else text


def _int(value: Any, name: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} is not an integer")
    return max(min(value, INT_MAX), -INT_MAX)


def _url(value: Any, name: str) -> str:
    url = _text(value, name)
    if not url:
        raise ValueError(f"{name} is empty")
    return url


def _too_long(url: str) -> bool:
    # A UTF-8 character is at most 4 bytes: most URLs need no encoding to tell.
    return len(url) > MAX_URL_BYTES // 4 and len(url.encode("utf-8", "replace")) > MAX_URL_BYTES


def _when(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else None


def _dates(value: Any) -> list[dict[str, Any]]:
    hits = []
    for hit in value if isinstance(value, list) else ():
        try:
            hits.append({"date": date.fromisoformat(hit["date"]), "source": _text(hit.get("source", ""), "source"),
                         "snippet": _text(hit.get("snippet", "")),
                         "block": _text(hit.get("block") or "", "block") or None, "item": _text(hit.get("item") or "") or None})
        except (TypeError, ValueError, KeyError, AttributeError):
            continue  # one bad date does not lose the page
    return hits


def _page(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    chain = data.get("redirect_chain", [])
    if not isinstance(chain, list):
        raise TypeError("redirect_chain is not a list")
    status = _int(data.get("status"), "status", optional=True)
    row = {"url": _url(data["url"], "url"), "final_url": _text(data.get("final_url") or data["url"], "final_url"),
           "redirect_chain": [_text(u) for u in chain], "status": status if status is None or 0 <= status < 1000
           else None, "fetch_kind": _text(data["fetch_kind"], "fetch_kind"),
           "content_type": _text(data.get("content_type", "")), "encoding": _text(data.get("encoding", ""), "encoding"),
           "size": _int(data.get("size", 0), "size"), "title": _text(data.get("title", "")),
           "body_sha256": _text(data.get("body_sha256", ""), "body_sha256") or None,
           "depth": _int(data.get("depth", 0), "depth"), "fetched_at": _when(data.get("fetched_at")),
           "lists": _lists(data.get("lists"))}
    return row, _dates(data.get("dates"))


_LIST_FIELDS = {"key": str, "region": str, "heading": str, "items": int, "pager": bool, "total": int, "widget": bool}


def _lists(value: Any) -> list[dict[str, Any]] | None:
    """A page's list blocks as stored (JSON), only the known fields of the right types; None for none."""
    blocks = []
    for block in value if isinstance(value, list) else ():
        if isinstance(block, dict) and isinstance(block.get("key"), str):
            blocks.append({k: (v[:200] if isinstance(v, str) else v) for k, v in block.items()
                           if k in _LIST_FIELDS and isinstance(v, _LIST_FIELDS[k])})
    return blocks or None


def _link(data: dict[str, Any]) -> dict[str, Any]:
    source, target, tag = data["source_url"], data["target_url"], data["tag"]
    text, context, block = data.get("text", ""), data.get("context", "body"), data.get("block") or ""
    # The fields as the child writes them need no cleaning: checked at once, ~100 links a page.
    if (type(source) is str and type(target) is str and type(tag) is str and type(text) is str
            and type(context) is str and type(block) is str and source and target
            and len(tag) <= _LIMITS["tag"] and len(context) <= _LIMITS["context"] and len(block) <= _LIMITS["block"]
            and "\x00" not in source + target + tag + text + context + block):
        return {"source_url": source, "target_url": target, "tag": tag, "text": text, "context": context,
                "block": block or None}
    return {"source_url": _url(source, "source_url"), "target_url": _url(target, "target_url"),
            "tag": _text(tag, "tag"), "text": _text(text), "context": _text(context, "context"),
            "block": _text(block, "block") or None}


def _event(data: dict[str, Any]) -> dict[str, Any]:
    return {"kind": _text(data["kind"], "kind"), "url": _text(data.get("url", "")), "detail": _text(data.get("detail", ""))}


def _records(path: Path, counts: _Counts) -> Iterator[dict[str, Any]]:
    """JSON objects of the file; a cut last line sets truncated, other bad lines count as malformed."""
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            try:
                data = _loads(raw)
            except ValueError:  # orjson.JSONDecodeError is a ValueError
                if not raw.endswith(b"\n"):
                    counts.values["truncated"] = True
                    log.warning("%s: last line %d is cut short (the crawl was killed?)", path, number)
                else:
                    counts.add("malformed")
                    log.debug("%s:%d: not JSON", path, number)
                continue
            if isinstance(data, dict) and isinstance(data.get("site_id"), str):
                yield data
            else:
                counts.add("malformed")


class _Batches:
    """Row buffers flushed in batches; pages before the links that need their ids.

    Inserts go through the tables (Core), not the ORM classes: the ORM's bulk
    path costs more than the database for 100,000 links. `known` holds the ids
    of pages committed from earlier segments; this segment's go to `page_ids`.
    """

    def __init__(self, session: Session, run_id: str, counts: _Counts,
                 known: dict[tuple[str, str], int] | None = None) -> None:
        self.session, self.run_id, self.counts = session, run_id, counts
        self.known: dict[tuple[str, str], int] = known if known is not None else {}
        self.page_ids: dict[tuple[str, str], int | None] = {}     # None: buffered, id not known yet
        self.pages: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        self.links: list[tuple[tuple[str, str], dict[str, Any]]] = []
        self.events: list[dict[str, Any]] = []

    def page(self, site_id: str, row: dict[str, Any], dates: list[dict[str, Any]]) -> None:
        key = (site_id, row["url"])
        if _too_long(row["url"]):
            self.counts.add("long_urls")
        elif key in self.page_ids or key in self.known:
            self.counts.add("duplicates")
        else:
            self.page_ids[key] = None
            self.pages.append(({"run_id": self.run_id, "site_id": site_id, **row}, dates))
            if len(self.pages) >= PAGE_BATCH:
                self.flush_pages()

    def link(self, site_id: str, row: dict[str, Any]) -> None:
        if _too_long(row["target_url"]):
            self.counts.add("long_urls")
            return
        source = row.pop("source_url")
        self.links.append(((site_id, source), {"run_id": self.run_id, "site_id": site_id, **row}))
        if len(self.links) >= LINK_BATCH:
            self.flush_links()

    def event(self, site_id: str, row: dict[str, Any]) -> None:
        self.events.append({"run_id": self.run_id, "site_id": site_id, **row})

    def flush_pages(self) -> None:
        if not self.pages:
            return
        rows = [row for row, _ in self.pages]
        ids = self.session.scalars(_PAGES.insert().returning(_PAGES.c.id, sort_by_parameter_order=True), rows).all()
        dates = []
        for (row, hits), page_id in zip(self.pages, ids, strict=True):
            self.page_ids[(row["site_id"], row["url"])] = page_id
            dates += [{"page_id": page_id, **hit} for hit in hits]
        if dates:
            self.session.execute(_DATES.insert(), dates)
        self.counts.add("pages", len(rows))
        self.counts.add("dates", len(dates))
        self.pages = []

    def flush_links(self) -> None:
        self.flush_pages()
        rows = []
        for source, row in self.links:
            page_id = self.page_ids.get(source) or self.known.get(source)
            if page_id is None:
                self.counts.add("orphan_links")
            else:
                rows.append({"source_page_id": page_id, **row})
        if rows:
            _insert_plain(self.session, _LINKS, rows)
        self.counts.add("links", len(rows))
        self.links = []

    def finish(self) -> None:
        self.flush_links()
        if self.events:
            self.session.execute(_EVENTS.insert(), self.events)
        self.counts.add("events", len(self.events))


def _insert_plain(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (all with the same keys) through the driver's executemany.

    SQLAlchemy's per-row parameter handling cost more than SQLite's own insert
    for the ~100 links of a page; this skips it, so only for columns whose
    values need no conversion (text and integers). Runs in the session's transaction.
    """
    connection = session.connection()
    compiled = table.insert().compile(dialect=connection.dialect, column_keys=list(rows[0]))
    if compiled.positional:
        values = operator.itemgetter(*(compiled.positiontup or ()))
        connection.exec_driver_sql(str(compiled), [values(row) for row in rows])
    else:
        connection.exec_driver_sql(str(compiled), rows)


_KINDS: dict[str, Callable[[_Batches, str, dict[str, Any]], None]] = {
    "page": lambda b, site, data: b.page(site, *_page(data)),
    "link": lambda b, site, data: b.link(site, _link(data)),
    "event": lambda b, site, data: b.event(site, _event(data)),
}


def _storage_error(exc: sa.exc.SQLAlchemyError) -> StorageError:
    reason = getattr(exc, "orig", None) or exc
    return StorageError(f"ingesting the crawl: {type(reason).__name__}: {reason}")


class CrawlIngest:
    """The ingest of one run's crawl spool, segment by segment, each in one transaction.

    Built before the crawl starts; `segment(path)` as each segment is complete
    (monitor/crawl.py `on_segment`), `finish()` once at the end. Raises
    LookupError for an unknown run. Uses the caller's session: call it from
    the session's thread only.
    """

    def __init__(self, session: Session, run_id: str) -> None:
        self.session, self.run_id = session, run_id
        try:
            if session.get(RunRow, run_id) is None:
                raise LookupError(f"no run {run_id!r}")
            self.sites = set(session.scalars(sa.select(RunSiteRow.site_id).where(RunSiteRow.run_id == run_id)))
            session.commit()
        except sa.exc.SQLAlchemyError as exc:
            session.rollback()
            raise _storage_error(exc) from exc
        self.page_ids: dict[tuple[str, str], int] = {}    # (site id, url) -> id, of every committed page
        self.totals = _Counts()
        self.segments = 0
        self.seconds = 0.0

    def segment(self, path: Path) -> IngestStats:
        """Store one segment file in one transaction; what it stored and skipped.

        Raises OSError when the file cannot be read, StorageError when the
        database refuses the rows (then nothing of this segment is stored;
        earlier segments stay).
        """
        started = time.monotonic()
        counts = _Counts()
        batches = _Batches(self.session, self.run_id, counts, self.page_ids)
        try:
            for data in _records(Path(path), counts):
                handle = _KINDS.get(data.get("type", ""))
                if handle is None:
                    counts.add("malformed")
                elif data["site_id"] not in self.sites:
                    counts.add("unknown_sites")
                else:
                    try:
                        handle(batches, data["site_id"], data)
                    except (KeyError, TypeError, ValueError, AttributeError):
                        counts.add("malformed")
            batches.finish()
            self.session.commit()
        except sa.exc.SQLAlchemyError as exc:
            self.session.rollback()
            raise _storage_error(exc) from exc
        except BaseException:
            self.session.rollback()
            raise
        self.page_ids.update(batches.page_ids)  # type: ignore[arg-type]  # all flushed: no None left
        self.totals.merge(counts)
        self.segments += 1
        self.seconds += time.monotonic() - started
        stats = counts.stats()
        log.debug("run %s: segment %s: %d pages, %d links%s", self.run_id, path, stats.pages, stats.links,
                  _skipped(stats))
        return stats

    def finish(self) -> IngestStats:
        """What all segments stored and skipped; logs it."""
        stats = self.totals.stats()
        log.info("run %s: ingested %d pages, %d dates, %d links, %d events from %d segments in %.1fs%s",
                 self.run_id, stats.pages, stats.dates, stats.links, stats.events, self.segments, self.seconds,
                 _skipped(stats))
        return stats


def ingest_crawl(session: Session, run_id: str, path: Path) -> IngestStats:
    """Store one crawl file of run `run_id` in one transaction; returns what was stored and skipped.

    Raises LookupError for an unknown run, OSError when the file cannot be
    read, StorageError when the database refuses the rows (then nothing of the
    file is stored).
    """
    ingest = CrawlIngest(session, run_id)
    ingest.segment(path)
    return ingest.finish()


def _skipped(stats: IngestStats) -> str:
    parts = [f"{name}={getattr(stats, name)}" for name in
             ("malformed", "long_urls", "duplicates", "orphan_links", "unknown_sites") if getattr(stats, name)]
    if stats.truncated:
        parts.append("truncated")
    return f" (skipped: {', '.join(parts)})" if parts else ""


def load_events(session: Session, run_id: str, site_id: str | None = None) -> list[CrawlEvent]:
    """The crawl events of a run (of one site when given), in the order they were written."""
    query = sa.select(CrawlEventRow).where(CrawlEventRow.run_id == run_id)
    if site_id is not None:
        query = query.where(CrawlEventRow.site_id == site_id)
    try:
        rows = session.scalars(query.order_by(CrawlEventRow.id)).all()
        session.commit()
    except sa.exc.SQLAlchemyError as exc:
        session.rollback()
        raise StorageError(f"loading crawl events: {exc}") from exc
    return [CrawlEvent(r.site_id, r.kind, r.url, r.detail) for r in rows]
