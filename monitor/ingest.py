"""Ingest of a crawl snapshot: the child's JSON-lines spool into page, link_form
and crawl_event rows, one transaction per segment file.

Owns reading the spiders/items.py record schema defensively: a cut last line
(a killed child) is tolerated and reported, malformed lines are skipped and
counted, strings are clipped to their columns, URLs too long for an index are
skipped and counted. A page is stored with its links and dates in one value
(monitor.store.pagecodec): its links are numbers into the site's distinct link forms.
Links follow their page (the child writes them that way, in the same segment);
a page's id is remembered across the run's segments, so a link whose page came
in an earlier segment still finds it; a link whose page is missing is counted,
not stored. Several ingests may share a site of the run (workers crawling one site): then
form numbers come from blocks each reserves, and a page is stored by whichever comes first.
It is the parent's only crawl writer; it never fetches and never judges.
"""

from __future__ import annotations

import json
import logging
import operator
import re
import time
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checks.snapshot import DateHit, Finding
from monitor.db import Base, CrawlEventRow, RunRow, RunSiteRow, StorageError, storage_error
from monitor.store import pagecodec
from monitor.store.common import insert_for

try:  # parses the spool about twice as fast as json
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson is a declared dependency
    _loads = json.loads

log = logging.getLogger(__name__)

MAX_URL_BYTES = 2000        # PostgreSQL's B-tree entries stop near 2,700 bytes; page.url is in a unique index
PAGE_BATCH = 500
FORMS_REMEMBERED = 100_000  # distinct links a site's forms are looked up among (~30 MB); see _Forms
FORM_BLOCK = 1024           # link form numbers reserved at a time for a site shared by several ingests
INT_MAX = 2**31 - 1
_PAGES, _FORMS, _EVENTS = (Base.metadata.tables[name] for name in ("page", "link_form", "crawl_event"))
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


def _dates(value: Any) -> list[DateHit]:
    hits = []
    for hit in value if isinstance(value, list) else ():
        try:
            day, source, snippet = date.fromisoformat(hit["date"]), hit.get("source", ""), hit.get("snippet", "")
            block, item = hit.get("block") or "", hit.get("item") or ""
            # The fields as the child writes them need no cleaning: checked at once, ~40 dates a page.
            if not (type(source) is str and type(snippet) is str and type(block) is str and type(item) is str
                    and len(source) <= _LIMITS["source"] and len(block) <= _LIMITS["block"]
                    and "\x00" not in source + snippet + block + item):
                source, snippet, block, item = _text(source, "source"), _text(snippet), _text(block, "block"), _text(item)
            hits.append(DateHit(day, source, snippet, block, item))
        except (TypeError, ValueError, KeyError, AttributeError):
            continue  # one bad date does not lose the page
    return hits


FINDING_KINDS = frozenset({"id_card", "mobile", "bank_card", "wording"})
_FINDING_TEXT_MAX = 200
# The child masks every number it reports; a run of 7+ digits here would be a whole one, starred all the same.
_DIGIT_RUN = re.compile(r"\d(?:[ -]?\d){6,}")


def _findings(value: Any) -> list[Finding]:
    """A page's screening findings (spiders/screen.py), masked by the child; a malformed one is dropped."""
    found = []
    for item in value if isinstance(value, list) else ():
        try:
            kind, count = item["kind"], item.get("count", 1)
            if kind not in FINDING_KINDS or type(count) is not int:
                continue
            texts = [_DIGIT_RUN.sub(lambda m: "*" * len(m[0]), _text(item.get(k, ""))[:_FINDING_TEXT_MAX])
                     for k in ("masked", "context", "right", "severity", "source")]
            found.append(Finding(kind, *texts, count=max(count, 1)))
        except (TypeError, ValueError, KeyError, AttributeError):
            continue
    return found


def _page(data: dict[str, Any]) -> tuple[dict[str, Any], list[DateHit], list[Finding]]:
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
           "lists": _lists(data.get("lists")), "notes": _notes(data.get("notes"))}
    return row, _dates(data.get("dates")), _findings(data.get("findings"))


NOTE_TEXT_MAX = 200
NOTE_LIST_MAX = 50


def _notes(value: Any) -> dict[str, Any] | None:
    """A page's notes (spiders/pagenotes.py) as stored: text values cut short, lists of [text, text] rows
    bounded; anything else dropped. None for none."""
    if not isinstance(value, dict):
        return None
    kept: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or len(key) > 40:
            continue
        if isinstance(item, str):
            kept[key] = item[:NOTE_TEXT_MAX].replace("\x00", "")
        elif isinstance(item, list):
            rows = [[str(part)[:NOTE_TEXT_MAX * 10].replace("\x00", "") for part in row] for row in item[:NOTE_LIST_MAX]
                    if isinstance(row, list) and all(isinstance(part, str) for part in row)]
            if rows:
                kept[key] = rows
    return kept or None


_LIST_FIELDS = {"key": str, "region": str, "heading": str, "items": int, "pager": bool, "total": int, "widget": bool}


def _lists(value: Any) -> list[dict[str, Any]] | None:
    """A page's list blocks as stored (JSON), only the known fields of the right types; None for none."""
    blocks = []
    for block in value if isinstance(value, list) else ():
        if isinstance(block, dict) and isinstance(block.get("key"), str):
            blocks.append({k: (v[:200] if isinstance(v, str) else v) for k, v in block.items()
                           if k in _LIST_FIELDS and isinstance(v, _LIST_FIELDS[k])})
    return blocks or None


def _link(data: dict[str, Any]) -> tuple[str, str, str, str, str, str]:
    """(source, target, tag, text, context, block) of a "link" line, cleaned."""
    return _link_fields(data["source_url"], data["target_url"], data["tag"], data.get("text", ""),
                        data.get("context", "body"), data.get("block") or "")


def _link_row(source: str, item: Any) -> tuple[str, str, str, str, str, str]:
    """One link of a "links" line ([target, tag, text, context, block]) as `_link`'s tuple."""
    if type(item) is list and len(item) == 5:
        return _link_fields(source, *item)
    raise TypeError("a link is not [target, tag, text, context, block]")


def _link_fields(source: Any, target: Any, tag: Any, text: Any, context: Any, block: Any
                 ) -> tuple[str, str, str, str, str, str]:
    # The fields as the child writes them need no cleaning: checked at once, ~100 links a page.
    if (type(source) is str and type(target) is str and type(tag) is str and type(text) is str
            and type(context) is str and type(block) is str and source and target
            and len(tag) <= _LIMITS["tag"] and len(context) <= _LIMITS["context"] and len(block) <= _LIMITS["block"]
            and "\x00" not in source + target + tag + text + context + block):
        return source, target, tag, text, context, block
    return (_url(source, "source_url"), _url(target, "target_url"), _text(tag, "tag"), _text(text),
            _text(context, "context"), _text(block, "block"))


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


class _Forms:
    """The run's link forms (monitor.store.pagecodec): their numbers per site, across segments.

    A segment's new forms are buffered until its transaction commits and forgotten if it
    rolls back. A site remembers at most FORMS_REMEMBERED forms: past that a form seen again
    gets a new number (a duplicate row, never a wrong link), so memory stays bounded.
    With `reserve` (a site shared by several ingests) numbers come from blocks reserved through
    it, so no two ingests give one number to different forms; a block's numbers are never
    handed back (a rolled-back segment leaves a gap).
    """

    def __init__(self, run_id: str, reserve: FormNumbers | None = None) -> None:
        self.run_id, self.reserve = run_id, reserve
        self.known: dict[str, dict[tuple[str, str, str, str, str], int]] = {}
        self.next: dict[str, int] = {}
        self.new: dict[str, dict[tuple[str, str, str, str, str], int]] = {}
        self.next_new: dict[str, int] = {}
        self.blocks: dict[str, tuple[int, int]] = {}   # site id -> (next, end) of its reserved numbers

    def number(self, site_id: str, key: tuple[str, str, str, str, str]) -> int:
        known = self.known.get(site_id)
        if known is not None and (n := known.get(key)) is not None:
            return n
        new = self.new.setdefault(site_id, {})
        n = new.get(key)
        if n is None:
            if self.reserve is None:
                n = self.next_new.get(site_id, self.next.get(site_id, 0))
                self.next_new[site_id] = n + 1
            else:
                n = self._reserved(site_id)
            new[key] = n
        return n

    def _reserved(self, site_id: str) -> int:
        n, end = self.blocks.get(site_id, (0, 0))
        if n >= end:
            assert self.reserve is not None
            n = self.reserve(site_id, FORM_BLOCK)
            if type(n) is not int or n < 0 or n + FORM_BLOCK - 1 > INT_MAX:
                raise RuntimeError(f"site {site_id}: reserved link form numbers out of range: {n!r}")
            end = n + FORM_BLOCK
        self.blocks[site_id] = (n + 1, end)
        return n

    def discard(self, site_id: str, numbers: set[int]) -> None:
        """Forget this segment's new forms of the site numbered `numbers`: no stored page has them."""
        new = self.new.get(site_id)
        if new:
            self.new[site_id] = {key: n for key, n in new.items() if n not in numbers}

    def rows(self) -> list[dict[str, Any]]:
        return [{"run_id": self.run_id, "site_id": site_id, "n": n, "target_url": key[0], "tag": key[1],
                 "text": key[2], "context": key[3], "block": key[4] or None}
                for site_id, forms in self.new.items() for key, n in forms.items()]

    def commit(self) -> None:
        for site_id, forms in self.new.items():
            known = self.known.setdefault(site_id, {})
            if len(known) + len(forms) <= FORMS_REMEMBERED:
                known.update(forms)
        self.next.update(self.next_new)
        self.rollback()

    def rollback(self) -> None:
        self.new, self.next_new = {}, {}


@dataclass
class _Pending:
    """A page of the segment not inserted yet, gathering the links that follow it."""

    row: dict[str, Any]
    dates: list[DateHit]
    findings: list[Finding] = field(default_factory=list)
    forms: list[int] = field(default_factory=list)
    form_of: dict[str, int] = field(default_factory=dict)   # target URL -> the page's first form linking it
    links: list[tuple[str, str]] | None = None              # (target, tag), kept only for an on_page observer
    notes: dict[str, Any] | None = None                     # the page's notes, stored in its extract value

    def add(self, form: int, target: str, tag: str) -> None:
        """A link of the page, by its form number."""
        self.forms.append(form)
        self.form_of.setdefault(target, form)
        if self.links is not None:
            self.links.append((target, tag))


class _Batches:
    """One segment's rows: pages buffered until their links have come, then inserted in batches.

    Inserts go through the tables (Core), not the ORM classes. `known` holds the ids of pages
    committed from earlier segments; this segment's go to `page_ids`. A link whose page is
    already inserted (it came in an earlier batch or segment) is appended to the page's value.
    When the site is shared (the forms are reserved), a page another ingest stored is not
    inserted: it goes to `lost` (`known_lost` from earlier segments) and its links are dropped.
    """

    def __init__(self, session: Session, run_id: str, counts: _Counts, known: dict[tuple[str, str], int],
                 forms: _Forms, observed: list[_Pending] | None = None, known_lost: Container[tuple[str, str]] = (),
                 read: dict[str, list[str]] | None = None) -> None:
        self.session, self.run_id, self.counts, self.known, self.forms = session, run_id, counts, known, forms
        self.observed = observed      # None: nobody watches; else every page inserted, with its links
        self.read = read              # None: nobody asks; else site id -> the URL of every page record read
        self.shared = forms.reserve is not None
        self.known_lost = known_lost
        self.lost: set[tuple[str, str]] = set()
        self.lost_forms: dict[str, set[int]] = {}       # site id -> forms of the pages lost (maybe used elsewhere)
        self.stored_forms: list[tuple[str, list[int]]] = []   # (site id, forms) of the pages stored, if shared
        self.page_ids: dict[tuple[str, str], int] = {}
        self.pending: dict[tuple[str, str], _Pending] = {}
        self.late: dict[int, list[int]] = {}       # page id -> forms of links that came after it was inserted
        self.events: list[dict[str, Any]] = []

    def page(self, site_id: str, row: dict[str, Any], dates: list[DateHit], findings: list[Finding]) -> None:
        key = (site_id, row["url"])
        if self.read is not None:
            self.read.setdefault(site_id, []).append(row["url"])
        if _too_long(row["url"]):
            self.counts.add("long_urls")
        elif key in self.pending or key in self.page_ids or key in self.known or key in self.lost \
                or key in self.known_lost:
            self.counts.add("duplicates")
        else:
            if len(self.pending) >= PAGE_BATCH:
                self.flush_pages()   # the child writes a page's links right after it: theirs have all come
            notes = row.pop("notes", None)
            self.pending[key] = _Pending({"run_id": self.run_id, "site_id": site_id, **row}, dates, findings,
                                         links=[] if self.observed is not None else None, notes=notes)

    def link(self, site_id: str, row: tuple[str, str, str, str, str, str]) -> None:
        source, target = row[0], row[1]
        if _too_long(target):
            self.counts.add("long_urls")
            return
        key = (site_id, source)
        page = self.pending.get(key)
        if page is None:
            page_id = self.page_ids.get(key) or self.known.get(key)
            if page_id is None:
                if key not in self.lost and key not in self.known_lost:   # a lost page's links go with it
                    self.counts.add("orphan_links")
                return
            self.late.setdefault(page_id, []).append(self.forms.number(site_id, row[1:]))
        else:
            page.add(self.forms.number(site_id, row[1:]), target, row[2])
        self.counts.add("links")

    def links(self, site_id: str, data: dict[str, Any]) -> None:
        """A page's "links" line, each link as `link` would take it (its page looked up once); a malformed
        link is counted, the others are kept."""
        source, items = _url(data["source_url"], "source_url"), data["links"]
        if type(items) is not list:
            raise TypeError("links is not a list")
        key = (site_id, source)
        page = self.pending.get(key)
        if page is None:
            for item in items:
                try:
                    self.link(site_id, _link_row(source, item))
                except (TypeError, ValueError):
                    self.counts.add("malformed")
            return
        number = self.forms.number
        stored = 0
        for item in items:
            try:
                row = _link_row(source, item)
            except (TypeError, ValueError):
                self.counts.add("malformed")
                continue
            if _too_long(row[1]):
                self.counts.add("long_urls")
                continue
            page.add(number(site_id, row[1:]), row[1], row[2])
            stored += 1
        self.counts.add("links", stored)

    def event(self, site_id: str, row: dict[str, Any]) -> None:
        self.events.append({"run_id": self.run_id, "site_id": site_id, **row})

    def flush_pages(self) -> None:
        if not self.pending:
            return
        rows = []
        for page in self.pending.values():
            fetched = page.row["fetched_at"]
            page.row["extract"] = pagecodec.encode(page.forms, page.dates, page.form_of,
                                                   fetched.astimezone(UTC).date() if fetched is not None else None,
                                                   page.findings, page.notes)
            rows.append(page.row)
            self.counts.add("dates", len(page.dates))
        if self.shared:
            self.insert_shared(rows)
            return
        ids = self.session.scalars(_PAGES.insert().returning(_PAGES.c.id, sort_by_parameter_order=True), rows).all()
        for key, page_id in zip(self.pending, ids, strict=True):
            self.page_ids[key] = page_id
        if self.observed is not None:
            self.observed += self.pending.values()
        self.counts.add("pages", len(rows))
        self.pending = {}

    def insert_shared(self, rows: list[dict[str, Any]]) -> None:
        """Insert the pending pages but those another ingest stored (by then or concurrently: PostgreSQL
        waits for its transaction); ids by key, as the inserted rows alone come back."""
        insert = insert_for(self.session, _PAGES).on_conflict_do_nothing(index_elements=["run_id", "site_id", "url"])
        ids = {(site_id, url): page_id for page_id, site_id, url in self.session.execute(
            insert.returning(_PAGES.c.id, _PAGES.c.site_id, _PAGES.c.url), rows)}
        for key, page in self.pending.items():
            page_id = ids.get(key)
            if page_id is None:
                self.lost.add(key)
                self.lost_forms.setdefault(key[0], set()).update(page.forms)
                self.counts.add("duplicates")
                self.counts.add("dates", -len(page.dates))
                self.counts.add("links", -len(page.forms))
                continue
            self.page_ids[key] = page_id
            self.stored_forms.append((key[0], page.forms))
            if self.observed is not None:
                self.observed.append(page)
        self.counts.add("pages", len(ids))
        self.pending = {}

    def finish(self) -> None:
        self.flush_pages()
        if self.lost_forms:
            self.discard_lost_forms()
        for page_id, forms in self.late.items():
            blob = self.session.scalar(sa.select(_PAGES.c.extract).where(_PAGES.c.id == page_id))
            self.session.execute(_PAGES.update().where(_PAGES.c.id == page_id)
                                 .values(extract=pagecodec.append_links(blob, forms)))
        if rows := self.forms.rows():
            _insert_plain(self.session, _FORMS, rows)
        if self.events:
            self.session.execute(_EVENTS.insert(), self.events)
        self.counts.add("events", len(self.events))

    def discard_lost_forms(self) -> None:
        """Leave out the new forms only lost pages have: another ingest stored those pages with its own."""
        late = {n for forms in self.late.values() for n in forms}   # of any site: keeping a row too many is harmless
        used: dict[str, set[int]] = {}
        for site_id, forms in self.stored_forms:
            used.setdefault(site_id, set()).update(forms)
        for site_id, numbers in self.lost_forms.items():
            self.forms.discard(site_id, numbers - used.get(site_id, set()) - late)


def _insert_plain(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (all with the same keys) through the driver's executemany.

    SQLAlchemy's per-row parameter handling costs more than SQLite's own insert
    for many small rows; this skips it, so only for columns whose values need
    no conversion (text and integers). Runs in the session's transaction.
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
    "links": lambda b, site, data: b.links(site, data),
    "link": lambda b, site, data: b.link(site, _link(data)),
    "event": lambda b, site, data: b.event(site, _event(data)),
}


def _storage_error(exc: sa.exc.SQLAlchemyError) -> StorageError:
    return storage_error("ingesting the crawl", exc)


PageObserver = Callable[[str, str, str, int, list[tuple[str, str]]], None]
"""(site id, url, final url, depth, links as (target, tag)) of a page, once it is committed."""

FormNumbers = Callable[[str, int], int]
"""reserve(site id, count): the first of `count` consecutive link form numbers reserved for the site
for this ingest alone, among all the ingests of the run's site (monitor.scale backs it with Redis)."""

SegmentObserver = Callable[[dict[str, list[str]]], None]
"""Told, once a segment committed, site id -> the URL of every page record of it (stored, stored
before or by another ingest, or skipped as too long), in the order read."""


class CrawlIngest:
    """The ingest of one run's crawl spool, segment by segment, each in one transaction.

    Built before the crawl starts; `segment(path)` as each segment is complete
    (monitor/crawl.py `on_segment`), `finish()` once at the end. Raises
    LookupError for an unknown run. Uses the caller's session: call it from
    the session's thread only. `on_page` hears of each page its segment committed.

    With `numbers`, the run's sites may be ingested by several CrawlIngests at once (workers
    sharing a site): link form numbers come from it, and a page another ingest stored is
    skipped (a duplicate, its links dropped, `on_page` not told). `on_committed` hears of
    each committed segment's page URLs.
    """

    def __init__(self, session: Session, run_id: str, on_page: PageObserver | None = None, *,
                 numbers: FormNumbers | None = None, on_committed: SegmentObserver | None = None) -> None:
        self.session, self.run_id, self.on_page, self.on_committed = session, run_id, on_page, on_committed
        try:
            if session.get(RunRow, run_id) is None:
                raise LookupError(f"no run {run_id!r}")
            self.sites = set(session.scalars(sa.select(RunSiteRow.site_id).where(RunSiteRow.run_id == run_id)))
            session.commit()
        except sa.exc.SQLAlchemyError as exc:
            session.rollback()
            raise _storage_error(exc) from exc
        self.page_ids: dict[tuple[str, str], int] = {}    # (site id, url) -> id, of every committed page
        self.lost: set[tuple[str, str]] = set()          # (site id, url) of pages another ingest stored
        self.forms = _Forms(run_id, numbers)
        self.totals = _Counts()
        self.segments = 0
        self.seconds = 0.0

    def segment(self, path: Path) -> IngestStats:
        """Store one segment file in one transaction; what it stored and skipped.

        Raises OSError when the file cannot be read, StorageError when the
        database refuses the rows (then nothing of this segment is stored;
        earlier segments stay).
        """
        counts = _Counts()
        return self._store(_records(Path(path), counts), counts, str(path))

    def records(self, records: Iterable[dict[str, Any]]) -> IngestStats:
        """Store records already read (spiders.items.to_json's shape) as one segment."""
        return self._store(iter(records), _Counts(), "records")

    def _store(self, records: Iterator[dict[str, Any]], counts: _Counts, name: str) -> IngestStats:
        started = time.monotonic()
        observed: list[_Pending] | None = [] if self.on_page is not None else None
        read: dict[str, list[str]] | None = {} if self.on_committed is not None else None
        batches = _Batches(self.session, self.run_id, counts, self.page_ids, self.forms, observed, self.lost, read)
        try:
            for data in records:
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
            self.forms.rollback()
            raise _storage_error(exc) from exc
        except BaseException:
            self.session.rollback()
            self.forms.rollback()
            raise
        self.forms.commit()
        self.page_ids.update(batches.page_ids)
        self.lost |= batches.lost
        if self.on_page is not None:
            for page in observed or ():
                row = page.row
                self.on_page(row["site_id"], row["url"], row["final_url"], row["depth"], page.links or [])
        if self.on_committed is not None:
            self.on_committed(read or {})
        self.totals.merge(counts)
        self.segments += 1
        self.seconds += time.monotonic() - started
        stats = counts.stats()
        log.debug("run %s: segment %s: %d pages, %d links%s", self.run_id, name, stats.pages, stats.links,
                  _skipped(stats))
        return stats

    def forget(self, site_id: str) -> None:
        """The site's crawl is complete (a fed crawl announced it): its page ids and link forms are not
        needed again, so a long crawl's memory holds only the sites under way."""
        self.page_ids = {key: n for key, n in self.page_ids.items() if key[0] != site_id}
        self.lost = {key for key in self.lost if key[0] != site_id}
        self.forms.known.pop(site_id, None)
        self.forms.blocks.pop(site_id, None)

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
