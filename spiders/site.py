"""SiteSpider: the one spider that crawls every site of a run, each within its own bounds.

Owns applying the crawl scope (checks.scope: the site's homepage host, base
domain and its sub-domains, extra_hosts, plus the host its homepage redirects
to), the per-site bounds as counters, canonical dedupe, trap cuts, and
turning each response or failure into a CrawlBundle. Pages are decoded with
monitor.htmltext and read with spiders.extract; failures are mapped once, by
spiders.failures. Must not touch the database or judge anything.
In a shared crawl (`share`, a worker of a run with [scale] share_from) a site's seen
URLs, waiting frontier, budget, pagers, redirect hosts and event counts are in Redis
(spiders/sharedsite.py), so several workers crawl one site by the rules below as one
process would; the spider keeps only a cache of what it saw and its own window.

Crawl rules (monitor/demo/crawlmodel.py models the same):
- a page is a 2xx HTML answer in scope; only pages are parsed, and only pages
  count towards max_pages, whichever of the site's hosts serves them (a 404
  or an attachment is fetched and recorded but costs no page; fetches stop
  at FETCH_FACTOR × max_pages whatever they are);
- a page's a/area/iframe/frame links in scope are followed at depth + 1, up to
  max_depth, and so are the list pages its pagers generate (tag "pager":
  createPageHTML index_N.html pages, Hanweb dataproxy.jsp record groups, at
  most spiders.lists.PAGER_MAX per pager); a dataproxy.jsp answer (XML) is a
  page; a page that redirects by meta refresh or `location = '…'` is a
  page whose target keeps its depth (the same document, moved) and whose
  other links are not followed;
- requests are breadth first across all the site's hosts (priority by depth;
  URLs held back by max_pages get the room that frees up shallowest first, so
  the budget keeps breadth first even when the scheduler interleaves hosts);
- a site has at most `window` requests in Scrapy at once; the rest of its
  frontier waits in the spider as (depth, order, URL) tuples, a tenth of a
  queued Request's memory, and goes to Scrapy shallowest first as answers
  come in (the crawl child's memory no longer grows with a site's size);
- a URL is requested once per site; every hop of an HTTP redirect counts as
  seen, and a response that lands on a URL seen before is recorded, not parsed;
- a page's linked style sheets on the site's hosts are fetched once a site
  when the page has links to another host they could hide (links:hidden):
  recorded with their hiding rules, never pages, never read otherwise;
- a URL that looks like a trap (spiders.urls.looks_like_trap), or a page
  past the last page its list's pager named on a page already parsed, the
  linking page included (spiders.urls.past_last_page), is cut and recorded
  as a `trap` event.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from checks.scope import SiteScope
from monitor.config import Config, Site
from monitor.htmltext import declared_charset, decode, extract_title, media_type
from monitor.outcomes import FetchKind, status_kind
from spiders.failures import RedirectStop, RobotsRefused, classify
from spiders.hidden import sheet_notes
from spiders.items import EventRecord, PageRecord
from spiders.output import CrawlBundle
from spiders.reader import READER_SETTING, PageRead, ReaderProcess, read_page
from spiders.screen import DEFAULT as DEFAULT_SCREENING
from spiders.screen import Screening, screen
from spiders.sharedsite import UNSHARED, SharedSite
from spiders.resolver import HostGate
from spiders.tlswatch import WATCH_SETTING, HandshakeWatch
from spiders.urls import canonical, host, looks_like_trap, past_last_page

log = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
XML_TYPES = frozenset({"text/xml", "application/xml"})     # read only as a Hanweb datastore (dataproxy.jsp)
MAX_URL_CHARS = 2000            # longer URLs are cut as traps (and could not be indexed by the store)
FETCH_FACTOR = 3                # fetches per site stop at this many times max_pages
EVENTS_PER_KIND = 50            # per site: trap and robots events beyond this are only counted
MAX_PAGERS = 2000               # per site: lists whose last page is remembered (the rest are cut by the page cap only)
SITE, URL = "govmon_site", "govmon_url"
TOO_LARGE = "govmon_too_large"  # set by spiders.middlewares.BodyGuard when it stops a download
SHEET = "govmon_sheet"          # a linked style sheet's request (read for links:hidden, never a page)
SHEETS_PER_SITE = 20            # linked style sheets fetched a site
SHEET_MAX_BYTES = 512 * 1024    # a larger sheet is recorded too_large, unread
SHEET_TYPES = frozenset({"", "text/css", "text/plain"})
WINDOW_PER_CONCURRENCY = 2      # a site's requests in Scrapy at once: this many times CONCURRENT_REQUESTS
FEED_POLL_S = 0.2               # how often a fed crawl looks for new sites

Feed = Callable[[], tuple[list[str], bool]]
"""A fed crawl's source of sites: each call gives the site ids added since the last call, and whether the
feed has ended (no more will come)."""
Share = Callable[[str], SharedSite]
"""A shared crawl's source of each site's state in Redis (spiders/sharedsite.py), by site id."""


@dataclass(frozen=True)
class SiteBounds:
    """How one site is crawled; built from the config with `from_config`."""

    site_id: str
    start_url: str
    scope: SiteScope
    max_pages: int
    max_depth: int
    timeout_s: float
    retries: int
    obey_robots: bool

    @classmethod
    def from_config(cls, config: Config, site: Site) -> SiteBounds:
        crawl = config.crawl_for(site)
        return cls(site.id, canonical(site.url) or site.url, site.site_scope(), crawl.max_pages,
                   crawl.max_depth, crawl.timeout_s, crawl.retries, crawl.obey_robots)


@dataclass
class _SiteState:
    bounds: SiteBounds
    scope: SiteScope
    window: int                                                     # requests in Scrapy at once, at most
    seen: set[str] = field(default_factory=set)                     # requested, or waiting to be
    cut: set[str] = field(default_factory=set)                      # traps
    waiting: list[tuple[int, int, str]] = field(default_factory=list)   # heap (depth, order, url) not yet requested
    scheduled: int = 0
    pending: int = 0
    pages: int = 0
    started: bool = False
    events: Counter[str] = field(default_factory=Counter)
    flagged: set[tuple[str, str]] = field(default_factory=set)
    last_pages: dict[str, int] = field(default_factory=dict)       # list (PageRef.list) -> its pager's last page
    sheets: int = 0                                                 # linked style sheets requested
    busy: int = 0                                                   # callbacks of the site not yet run to their end
    done: bool = False                                              # announced done (a fed crawl)
    shared: SharedSite | None = None    # a shared site: seen, waiting, budget and the rest are in Redis
    offers: list[tuple[str, int]] = field(default_factory=list)     # (url, depth) to offer to the shared frontier
    pagers_v: int = 0                                               # the version of the shared pagers last read
    said: set[str] = field(default_factory=set)                     # event kinds past their limit (shared)
    answering: set[str] = field(default_factory=set)                # URLs whose callback runs now (shared)

    def room(self) -> bool:
        return self.pending < self.window and self.budget()

    def budget(self) -> bool:
        """Whether max_pages and the fetch cap leave room for one more request."""
        bounds = self.bounds
        return self.pages + self.pending < bounds.max_pages and self.scheduled < FETCH_FACTOR * bounds.max_pages


@dataclass(frozen=True)
class _Received:
    """A response as the spider took it in: its record so far, and the text to read when it is a page."""

    state: _SiteState
    depth: int
    page: PageRecord
    events: tuple[EventRecord, ...]
    text: str | None
    lied: str                   # "declared → used" when the declared charset garbled the page


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def scope_host(url: str) -> str:
    """The host of a canonical URL (spiders.urls.canonical form), without parsing the whole URL."""
    netloc = url.partition("://")[2].partition("/")[0].partition("?")[0].rpartition("@")[2]
    if netloc.startswith("["):
        return netloc[1:netloc.find("]")]
    return netloc.rpartition(":")[0] if ":" in netloc else netloc


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


class SiteSpider(scrapy.Spider):
    name = "govmon"

    def __init__(self, sites: Sequence[SiteBounds] = (), today: date | None = None, gate: HostGate | None = None,
                 max_bytes: int = 0, depth_priority: int = 1, screening: Screening = DEFAULT_SCREENING,
                 reader: ReaderProcess | None = None, window: int = 64, feed: Feed | None = None,
                 catalog: Mapping[str, SiteBounds] | None = None, share: Share | None = None,
                 shared_window: int = 8, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A shared crawl (a worker of a run with [scale] share_from) keeps each site's state in Redis, so other
        # workers can crawl the same site; it is always fed, and polls the shared frontiers while it runs. It
        # takes from a site's frontier only what its host slots can keep busy (`shared_window`): the rest waits
        # in Redis, where a worker that joins finds it.
        self.share = share
        self.shared_window = max(1, shared_window)
        self.unshared: str | None = None    # why the shared state stopped answering (the crawl stops)
        self._redis_errors: tuple[type[BaseException], ...] = ()
        if share is not None:   # imported only by a shared crawl
            from redis.exceptions import RedisError

            self._redis_errors = (RedisError,)
        # A fed crawl takes sites of `catalog` from `feed` while it runs and announces each site done
        # (a CrawlBundle with `done`) as soon as nothing of it is left in Scrapy.
        self.feed, self.catalog = feed, dict(catalog or {})
        self.today = today or date.today()
        self.screening = screening
        self._numbers = Screening((), privacy=screening.privacy, wording=False)    # for titles of unread pages
        self.screen_s = 0.0     # CPU seconds spent screening page text (the crawl's progress reports it)
        self.gate = gate
        self.max_bytes = max_bytes
        self.depth_priority = depth_priority
        self.window = max(1, window)
        self.states = {b.site_id: self._new_state(b) for b in sites}
        # Scrapy caches "is this callback a generator with a return value?" (an ast parse of its source)
        # in a weak-keyed cache: a bound method made per request dies at once and is parsed again for
        # every response (~10 % of the crawl's time). One bound method each, kept alive here, hits it.
        self.reader = reader
        self._on_response = self.parse_read if reader is not None else self.parse
        self._on_failure = self.errback
        self._on_sheet = self.parse_sheet

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        kwargs.setdefault("depth_priority", crawler.settings.getint("DEPTH_PRIORITY"))
        kwargs.setdefault("window", WINDOW_PER_CONCURRENCY * crawler.settings.getint("CONCURRENT_REQUESTS"))
        kwargs.setdefault("shared_window",
                          WINDOW_PER_CONCURRENCY * crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
        if crawler.settings.getbool(READER_SETTING) and "reader" not in kwargs:
            kwargs["reader"] = ReaderProcess(kwargs.get("today") or date.today(),
                                             kwargs.get("screening", DEFAULT_SCREENING))
        spider: SiteSpider = super().from_crawler(crawler, *args, **kwargs)
        if spider.share is not None:
            crawler.signals.connect(spider._callback_failed, signal=signals.spider_error)
        if spider.reader is not None:
            crawler.signals.connect(spider.reader.close, signal=signals.spider_closed)
        return spider

    def sites_total(self) -> int:
        return len(self.states)

    def sites_done(self) -> int:
        return sum(1 for s in self.states.values() if s.started and s.pending == 0)

    def screen_ms(self) -> int:
        return round(self.screen_s * 1000)

    def _new_state(self, bounds: SiteBounds) -> _SiteState:
        if self.share is not None:
            return _SiteState(bounds, bounds.scope, min(self.window, self.shared_window),
                              shared=self.share(bounds.site_id))
        return _SiteState(bounds, bounds.scope, self.window)

    async def start(self) -> AsyncIterator[Request | CrawlBundle]:
        try:
            outputs = list(self.homepage_requests())
        except self._redis_errors as exc:   # none but in a shared crawl
            self._stop_unshared(exc)
            return
        for output in outputs:
            yield output
        ended = self.feed is None
        while (not ended or self._sharing()) and self.unshared is None:  # not idle, so not closed, till it returns
            try:
                outputs = []
                if not ended:
                    assert self.feed is not None
                    ids, ended = self.feed()
                    outputs += self.add_sites(ids)
                outputs += self._poll_shared()
            except self._redis_errors as exc:
                self._stop_unshared(exc)
                return
            for output in outputs:
                yield output
            await asyncio.sleep(FEED_POLL_S)

    def _callback_failed(self, failure: Failure, response: Response, spider: scrapy.Spider) -> None:
        """A callback of a shared crawl raised. Redis failing stops the crawl. Anything else (a bug) would leave
        its entry pending for every worker of the site, so the site would never settle: it is answered and given
        up, as a single process loses that page."""
        if self._redis_errors and failure.check(*self._redis_errors):
            self._stop_unshared(failure.value)
            return
        meta = getattr(response, "meta", None) or {}
        state = self.states.get(meta.get(SITE, ""))
        url = meta.get(URL, "")
        if state is None or state.shared is None or url not in state.answering:
            return
        log.error("site %s: reading %s failed (%s); the page is given up", state.bounds.site_id, url,
                  failure.getErrorMessage())
        state.answering.discard(url)
        try:
            state.shared.answered(url, sheet=bool(meta.get(SHEET)))
            state.shared.committed([url])
        except self._redis_errors as exc:
            self._stop_unshared(exc)
            return
        state.busy -= 1

    def _stop_unshared(self, exc: BaseException) -> None:
        """Redis failed a shared site's call: what this crawl took and did not store goes back when its leases
        expire, so the crawl stops now (its parent waits for Redis, spiders/crawl.py says why)."""
        if self.unshared is not None:
            return
        self.unshared = f"{UNSHARED}: {type(exc).__name__}: {exc}"
        log.error("%s", self.unshared)
        from scrapy.utils.defer import deferred_from_coro

        deferred_from_coro(self.crawler.engine.close_spider_async(reason=self.unshared))

    def _sharing(self) -> bool:
        """Whether a shared site of the crawl is not done: other workers may still add to its frontier."""
        return any(s.shared is not None and s.started and not s.done for s in self.states.values())

    def _poll_shared(self) -> Iterator[Request | CrawlBundle]:
        """Each shared site under way: the lists' last pages other workers learned, then as many waiting URLs
        as its window has room for, or, when nothing of it is left here, whether it is settled."""
        for state in list(self.states.values()):
            shared = state.shared
            if shared is None or not state.started or state.done:
                continue
            state.pagers_v, pagers = shared.pagers(state.pagers_v)
            if pagers:
                self._learn_pagers(state, tuple(pagers.items()), share=False)
            yield from self._top_up(state)
            yield from self._settled(state)

    def add_sites(self, site_ids: Sequence[str]) -> Iterator[Request | CrawlBundle]:
        """Start crawling the catalog's sites `site_ids` (a site already in the crawl is not started again);
        their homepage requests. ValueError names an id the catalog does not know."""
        unknown = [i for i in site_ids if i not in self.catalog]
        if unknown:
            raise ValueError(f"the feed names sites this crawl does not know: {', '.join(unknown)}")
        for site_id in site_ids:
            known = self.states.get(site_id)
            # A shared site this crawl left comes back when a worker is needed for it again (one died).
            if known is None or (known.shared is not None and known.done):
                self.states[site_id] = self._new_state(self.catalog[site_id])
        yield from self.homepage_requests()

    def homepage_requests(self) -> Iterator[Request | CrawlBundle]:
        """Each site's homepage request (or the event that cut it), for the sites not started yet."""
        for state in list(self.states.values()):
            if not state.started:
                state.started = True
                if state.shared is not None:
                    yield from self._join(state)
                else:
                    yield from self._follow(state, state.bounds.start_url, 0)
                yield from self._settled(state)

    def final_bundles(self) -> Iterator[CrawlBundle]:
        """Events known only at the end: the sites whose max_pages left URLs unfetched. A fed crawl announces
        each site not announced yet (one whose callback failed) done here."""
        for state in self.states.values():
            if self.feed is not None:
                if not state.done:
                    state.done = True
                    yield CrawlBundle(events=self._left(state), done=state.bounds.site_id)
            elif left := self._left(state):
                yield CrawlBundle(events=left)

    @staticmethod
    def _left(state: _SiteState) -> tuple[EventRecord, ...]:
        if state.shared is not None:   # said once for the site, by whichever worker finds it settled first
            left = state.shared.max_pages_left()
            if left is None:
                return ()
            detail = f"max_pages {state.bounds.max_pages} reached; {left[1]} URLs not fetched"
            return (EventRecord(state.bounds.site_id, "max_pages", left[0], detail),)
        if state.waiting and not state.budget():    # not a crawl stopped with its window's frontier left
            detail = f"max_pages {state.bounds.max_pages} reached; {len(state.waiting)} URLs not fetched"
            return (EventRecord(state.bounds.site_id, "max_pages", state.waiting[0][2], detail),)
        return ()

    def _settled(self, state: _SiteState) -> Iterator[CrawlBundle]:
        """In a fed crawl, the site's last bundle once nothing of it is in Scrapy or in a callback: its final
        events, and `done` (the writer closes the segment, then announces the site)."""
        if self.feed is not None and not state.done and state.pending == 0 and state.busy == 0:
            if state.shared is not None:
                if state.offers:
                    yield from self._top_up(state)
                if state.pending or not state.shared.status().settled:
                    return   # other workers may still add to the frontier: polled again (_poll_shared)
            state.done = True
            left = self._left(state)
            # Nothing of the site comes again: a fed crawl lasting a run's queue keeps only its counters.
            state.seen, state.cut, state.waiting, state.last_pages, state.flagged = set(), set(), [], {}, set()
            yield CrawlBundle(events=left, done=state.bounds.site_id)

    def _release(self, state: _SiteState, url: str, *, sheet: bool = False, page: bool = False,
                 recorded: bool = True) -> Iterator[Request | CrawlBundle]:
        """A callback of the site ran to its end (every request it leads to is counted as pending): for a
        shared site, its entry is answered only now, so no worker finds the site settled while a callback
        may still add to the frontier. An answer with no record to commit (a robots refusal, an event only)
        leaves nothing to put back if this worker dies."""
        if state.shared is not None:
            if state.offers:
                yield from self._top_up(state)
            state.shared.answered(url, sheet=sheet, page=page)
            if not recorded:
                state.shared.committed([url])
            state.answering.discard(url)
        state.busy -= 1
        yield from self._settled(state)

    def _join(self, state: _SiteState) -> Iterator[Request | CrawlBundle]:
        """Start on a shared site: the first worker requests its homepage; a joiner takes waiting URLs. The
        hosts its homepage redirected to and its lists' last pages are what other workers learned."""
        shared, bounds = state.shared, state.bounds
        assert shared is not None
        first = shared.open(bounds.max_pages, FETCH_FACTOR * bounds.max_pages)
        if hosts := shared.hosts():
            state.scope = state.scope.with_hosts(*hosts)
        state.pagers_v, pagers = shared.pagers(0)
        if pagers:
            self._learn_pagers(state, tuple(pagers.items()), share=False)
        if first:
            yield from self._follow(state, bounds.start_url, 0)
        yield from self._top_up(state)

    @staticmethod
    def _offer(state: _SiteState) -> None:
        """The URLs a shared site's callbacks found to follow, into the shared frontier, shallowest first."""
        assert state.shared is not None
        by_depth: dict[int, list[str]] = {}
        for url, depth in state.offers:
            by_depth.setdefault(depth, []).append(url)
        state.offers = []
        for depth, urls in sorted(by_depth.items()):
            state.shared.offer(urls, depth)

    def _follow(self, state: _SiteState, url: str, depth: int) -> Iterator[Request | CrawlBundle]:
        """A request for `url`, unless it was seen or a bound cuts it (then maybe an event)."""
        if url in state.seen or url in state.cut:
            return
        bounds = state.bounds
        cut: tuple[str, str] | None = None
        if depth > bounds.max_depth:  # not remembered: the URL may turn up again nearer the homepage
            cut = "max_depth", f"deeper than max_depth {bounds.max_depth}"
        elif len(url) > MAX_URL_CHARS:
            cut = "trap", f"URL longer than {MAX_URL_CHARS} characters"
        elif (reason := looks_like_trap(url, self.today)) or (
                state.last_pages and (reason := past_last_page(url, state.last_pages))):
            cut = "trap", reason
        if cut is not None:
            if cut[0] == "trap":
                state.cut.add(url)
                if state.shared is not None and not state.shared.cut(url):
                    return   # another worker cut it and said so
            event = self._event(state, cut[0], url, cut[1])
            if event is not None:
                yield CrawlBundle(events=(event,))
            return
        state.seen.add(url)
        if state.shared is not None:   # offered at the callback's end (_top_up), with the page's other links
            state.offers.append((url, depth))
            return
        if state.room() and not state.waiting:    # else the shallowest waiting URL goes first (_top_up)
            yield self._request(state, url, depth)
        else:
            heapq.heappush(state.waiting, (depth, len(state.seen), url))

    def _request(self, state: _SiteState, url: str, depth: int, *, sheet: bool = False) -> Request:
        """A request of the site, counted as scheduled and pending. A linked style sheet (`sheet`) is read by
        `parse_sheet`, capped at SHEET_MAX_BYTES, and queued as its page was (`depth` is the page's plus one)."""
        bounds = state.bounds
        state.scheduled += 1
        state.pending += 1
        meta = {SITE: bounds.site_id, URL: url, "depth": depth, "download_timeout": bounds.timeout_s,
                "max_retry_times": bounds.retries, "dont_obey_robotstxt": not bounds.obey_robots}
        if sheet:
            meta.update({SHEET: True, "download_maxsize": SHEET_MAX_BYTES})
        return Request(url, callback=self._on_sheet if sheet else self._on_response, errback=self._on_failure,
                       dont_filter=True, priority=-(depth - 1 if sheet else depth) * self.depth_priority, meta=meta)

    def _top_up(self, state: _SiteState) -> Iterator[Request]:
        """Requests for held-back URLs, now that a fetch turned out to be no page: shallowest first, whichever
        of the site's hosts they are on (the scheduler interleaves hosts, so the budget keeps breadth first).
        A shared site offers what its callbacks found first, then takes from the shared frontier, whose script
        keeps the budget across workers."""
        if state.shared is not None:
            if state.offers:
                self._offer(state)
            room = state.window - state.pending
            if room > 0 and not state.done:
                for entry in state.shared.take(room):
                    state.seen.add(entry.url)
                    yield self._request(state, entry.url, entry.depth, sheet=entry.sheet)
            return
        while state.waiting and state.room():
            depth, _, url = heapq.heappop(state.waiting)
            yield self._request(state, url, depth)

    def _event(self, state: _SiteState, kind: str, url: str, detail: str) -> EventRecord | None:
        state.events[kind] += 1
        limit = 1 if kind == "max_depth" else EVENTS_PER_KIND
        if state.events[kind] > limit:
            return None
        if state.shared is not None and (kind in state.said or not state.shared.event(kind, limit)):
            state.said.add(kind)   # other workers said the limit's worth
            return None
        return EventRecord(state.bounds.site_id, kind, url, detail)

    def _state(self, meta: dict[str, Any]) -> tuple[_SiteState, str, int]:
        state = self.states[meta[SITE]]
        state.pending -= 1
        state.busy += 1
        if state.shared is not None:
            state.answering.add(meta[URL])
        return state, meta[URL], int(meta.get("depth", 0))

    def _seen_before(self, state: _SiteState, hops: Sequence[str]) -> bool:
        """Whether a redirect landed on a URL already seen; every hop is seen from now on."""
        urls = [canonical(u) or u for u in hops]
        before = any(u in state.seen for u in urls)
        state.seen.update(urls)
        if state.shared is not None:
            before = state.shared.see(urls) or before
        return before

    def parse(self, response: Response) -> Iterator[Request | CrawlBundle]:
        """The callback without a reader process: the page is read here (tests, and a crawl whose reader
        could not start)."""
        received = self._receive(response)
        read = None
        if received.text is not None:
            read = read_page(received.page, received.text, response.url, received.page.encoding, self.today,
                             self.screening)
        yield from self._finish(received, read)
        yield from self._release(received.state, received.page.url, page=received.text is not None)

    async def parse_read(self, response: Response) -> AsyncIterator[Request | CrawlBundle]:
        """The callback with a reader process (spiders/reader.py): the reactor goes on while it reads."""
        assert self.reader is not None
        async with self.reader.turn():
            received = self._receive(response)
            read = None
            if received.text is not None:
                read = await self.reader.read(received.page, received.text, response.url, received.page.encoding)
        for output in self._finish(received, read):
            yield output
        for output in self._release(received.state, received.page.url, page=received.text is not None):
            yield output

    @staticmethod
    def _fetched(response: Response) -> tuple[str, FetchKind, int, bool]:
        """(content type, outcome kind, size, stopped) of a response: a download stopped at the size cap is
        `too_large` and counts the size its Content-Length announced."""
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        kind = status_kind(response.status, response.body)
        size = len(response.body)
        stopped = "download_stopped" in response.flags
        if stopped:
            length = (response.headers.get(b"Content-Length") or b"").strip()
            size = int(length) if length.isdigit() else size
            if response.meta.get(TOO_LARGE) and kind is FetchKind.OK:
                kind = FetchKind.TOO_LARGE
        return content_type, kind, size, stopped

    def _receive(self, response: Response) -> _Received:
        """A response's record, and its text when it is a page to read (None otherwise)."""
        state, url, depth = self._state(response.meta)
        content_type, kind, size, stopped = self._fetched(response)
        body = response.body
        redirects = response.meta.get("redirect_urls", ())
        landed_on_seen = bool(redirects) and self._seen_before(state, (*redirects[1:], response.url))
        if depth == 0 and redirects:
            state.scope = state.scope.with_hosts(host(response.url))  # the homepage's new home is the site too
            if state.shared is not None:
                state.shared.add_host(host(response.url))
        media = media_type(content_type)
        is_html = (media in HTML_TYPES or (not media and _looks_like_html(body)) or (
            media in XML_TYPES and b"<datastore" in body[:4096].lower())) and not stopped
        text, codec, title, to_read, lied = "", "", "", False, ""
        if is_html:
            decoded = decode(body, declared_charset(content_type))
            text, codec = decoded.text, decoded.codec
            lied = f"{decoded.declared} → {decoded.codec}" if decoded.lied else ""
            if kind is FetchKind.OK and state.scope.covers_host(host(response.url)) and not landed_on_seen:
                state.pages += 1
                to_read = True
            else:
                title = self._title(text)
        page = PageRecord(
            site_id=state.bounds.site_id, url=url, final_url=response.url, status=response.status, fetch_kind=kind,
            depth=depth, fetched_at=_now(), redirect_chain=tuple(redirects), content_type=content_type,
            encoding=codec, size=size, title=title, body_sha256=hashlib.sha256(body).hexdigest() if body else "")
        return _Received(state, depth, page, self._flag(state, kind, response.url), text if to_read else None, lied)

    def _finish(self, received: _Received, read: PageRead | None) -> Iterator[Request | CrawlBundle]:
        """The bundle of a response, then the requests it leads to."""
        state, page, events = received.state, received.page, received.events
        if received.text is not None and read is None:   # a page that could not be read keeps its title
            page = replace(page, title=self._title(received.text))
        if read is None:
            yield CrawlBundle(page, (), events)
            yield from self._top_up(state)
            return
        if received.lied:
            event = self._event(state, "charset", page.final_url, received.lied)
            events += (event,) if event is not None else ()
        self.screen_s += read.screen_s
        self._learn_pagers(state, read.last_pages)
        follow: list[Request] = []
        for output in self._links_to_follow(state, read, received.depth):
            if isinstance(output, Request):
                follow.append(output)
            else:
                events += output.events
        yield CrawlBundle(replace(page, title=read.title), (), events, read.lines, read.links)
        yield from self._sheet_requests(state, read.sheets, received.depth)
        yield from follow
        yield from self._top_up(state)

    def _sheet_requests(self, state: _SiteState, sheets: Sequence[str], depth: int) -> Iterator[Request]:
        """Requests for a page's linked style sheets on the site's hosts that were not requested yet (links:hidden
        reads their hiding rules): at most SHEETS_PER_SITE a site, beside max_pages, counted as fetches."""
        if state.shared is not None:
            wanted = [u for u in sheets if u not in state.seen and state.scope.covers_host(scope_host(u))]
            if wanted:
                state.seen.update(wanted)   # claimed now, or seen (or over the limit) elsewhere
                for url in state.shared.claim_sheets(wanted, depth + 1, SHEETS_PER_SITE):
                    yield self._request(state, url, depth + 1, sheet=True)
            return
        for url in sheets:
            if url in state.seen or state.sheets >= SHEETS_PER_SITE or not state.scope.covers_host(scope_host(url)):
                continue
            state.seen.add(url)
            state.sheets += 1
            yield self._request(state, url, depth + 1, sheet=True)

    def parse_sheet(self, response: Response) -> Iterator[Request | CrawlBundle]:
        """A linked style sheet's record: its fetch, and the rules that hide what they select (spiders/hidden.py)
        in its notes. Not a page: its text is neither kept nor read otherwise."""
        state, url, depth = self._state(response.meta)
        content_type, kind, size, stopped = self._fetched(response)
        body = response.body
        redirects = response.meta.get("redirect_urls", ())
        if redirects:
            self._seen_before(state, (*redirects[1:], response.url))
        read = kind is FetchKind.OK and not stopped and media_type(content_type) in SHEET_TYPES
        yield CrawlBundle(PageRecord(
            site_id=state.bounds.site_id, url=url, final_url=response.url, status=response.status, fetch_kind=kind,
            depth=depth, fetched_at=_now(), redirect_chain=tuple(redirects), content_type=content_type, size=size,
            body_sha256=hashlib.sha256(body).hexdigest() if body else "", notes=sheet_notes(body) if read else None))
        yield from self._top_up(state)
        yield from self._release(state, url, sheet=True)

    @staticmethod
    def _learn_pagers(state: _SiteState, last_pages: Sequence[tuple[str, int]], *, share: bool = True) -> None:
        """Remember each list's last page; the largest seen wins (a list grows while it is crawled). A shared
        site's are told to the other workers (`share`), unless they came from them."""
        if share and state.shared is not None and last_pages:
            state.shared.learn_pagers(last_pages, MAX_PAGERS)
        known = state.last_pages
        for key, last in last_pages:
            if key in known:
                known[key] = max(known[key], last)
            elif len(known) < MAX_PAGERS:
                known[key] = last

    def _links_to_follow(self, state: _SiteState, read: PageRead, depth: int) -> Iterator[Request | CrawlBundle]:
        moved = read.moved
        if moved is not None:
            if state.scope.covers_host(scope_host(moved)):
                yield from self._follow(state, moved, depth)
            return
        covers = state.scope.covers_host
        for url in read.follow:
            if covers(scope_host(url)):
                yield from self._follow(state, url, depth + 1)

    def _title(self, text: str) -> str:
        """The title of a page that is not read (an error page, a page off the site's hosts), its
        personal numbers masked: the reader masks those of the pages it reads, and a title is stored."""
        title = extract_title(text)
        return screen(title, self._numbers, self.today).redact(title) if title else title

    def _flag(self, state: _SiteState, kind: FetchKind, url: str) -> tuple[EventRecord, ...]:
        """One event per host the first time it blocks us or rate-limits us."""
        if kind not in (FetchKind.BLOCKED, FetchKind.RATE_LIMITED):
            return ()
        key = (str(kind), host(url))
        if key in state.flagged:
            return ()
        state.flagged.add(key)
        if state.shared is not None and not state.shared.flag(*key):
            return ()
        detail = "WAF challenge (HTTP 412 with a script)" if kind is FetchKind.BLOCKED else "HTTP 429"
        return (EventRecord(state.bounds.site_id, str(kind), url, detail),)

    def _handshake_stalled(self, url: str) -> bool:
        parts = urlsplit(url)
        crawler = getattr(self, "crawler", None)
        watch = crawler.settings.get(WATCH_SETTING) if crawler is not None else None
        if parts.scheme != "https" or not isinstance(watch, HandshakeWatch):
            return False
        return watch.stalled(parts.hostname or "", parts.port or 443)

    def errback(self, failure: Failure) -> Iterator[Request | CrawlBundle]:
        request: Request = failure.request  # type: ignore[attr-defined]
        state, url, depth = self._state(request.meta)
        exc = failure.value if failure.value is not None else RuntimeError(failure.getErrorMessage())
        if isinstance(exc, RobotsRefused):
            event = self._event(state, "robots", url, "robots.txt disallows it for govmon's user agent")
            yield CrawlBundle(events=(event,) if event is not None else ())
            yield from self._top_up(state)
            yield from self._release(state, url, sheet=bool(request.meta.get(SHEET)), recorded=False)
            return
        kind, detail = classify(exc, self.gate, host(request.url))
        if kind is FetchKind.TIMEOUT and self._handshake_stalled(request.url):
            detail = f"TLS handshake stalled: no answer to the ClientHello ({detail})"
        if kind is FetchKind.TOO_LARGE and self.max_bytes:
            detail = f"the body is larger than {self.max_bytes} bytes (crawl.max_response_bytes)"
        chain, final_url = tuple(request.meta.get("redirect_urls", ())), request.url
        if isinstance(exc, RedirectStop):  # the request answered a redirect that was not followed
            chain, final_url = (*chain, request.url), exc.target
        if len(chain) > 1:
            self._seen_before(state, chain[1:])
        yield CrawlBundle(PageRecord(
            site_id=state.bounds.site_id, url=url, final_url=final_url, status=None, fetch_kind=kind, depth=depth,
            fetched_at=_now(), redirect_chain=chain, size=self.max_bytes if kind is FetchKind.TOO_LARGE else 0,
            detail=detail))
        yield from self._top_up(state)
        yield from self._release(state, url, sheet=bool(request.meta.get(SHEET)))
