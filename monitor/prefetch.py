"""IPv6 fetches of the links-v6 probe's likely URLs, started while the crawl runs.

The links-v6 probe fetches every secondary and tertiary link target of a site
over IPv6, once per run (checks.linktiers); on a large site that is thousands of
fetches, and after the crawl they were the longest part of a run. The crawl is
breadth first, so those targets are known early: the links of the homepage
(depth 0) and of the pages it links to (depth 1). `LinksV6Prefetch` fetches
them in a thread and event loop of its own, a few at a time (`concurrency`),
while the crawl goes on, on the second core the crawl child leaves.

It is a cache, never a judge: the probe phase still plans from the stored crawl
(checks.probe_plan) and takes a prefetched outcome only for a URL its plan
lists (`probes.Prober(prefetched=)`); anything else in the plan is fetched
then. The fetch is the probe's own (`probes.fetch_v6`: robots.txt first, the
linking site's timeout and retries), so a verdict is the same either way.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

from checks.linktiers import tier_target
from checks.plans import LINKS_V6
from checks.scope import SiteScope
from checks.snapshot import SiteInfo
from monitor.config import Crawl
from monitor.fetch import Fetcher, FetchOutcome, RobotsRules, fetcher_for
from monitor.probes import fetch_v6
from monitor.resolver import Resolver

log = logging.getLogger(__name__)

CONCURRENCY = 4           # requests at a time: beside the crawl's own, to the same hosts
MAX_URLS = 50_000         # a run's prefetched outcomes kept (without bodies); past that the probe phase fetches
SHALLOW = 1               # pages at this crawl depth or less link the tiers' targets


def start_for(sites: Sequence[tuple[SiteInfo, Crawl, frozenset[str]]], *, resolver: Resolver, crawl: Crawl,
              route: Callable[[], bool]) -> LinksV6Prefetch | None:
    """A started prefetch for the sites (info, crawl settings, needs) whose checks need links-v6, when
    the monitor has an IPv6 route (`route` is asked only then); None when there is nothing to do."""
    wanted = [(site, own) for site, own, needs in sites if LINKS_V6 in needs]
    if not wanted or not route():
        return None
    prefetch = LinksV6Prefetch(wanted, resolver=resolver, crawl=crawl)
    prefetch.start()
    return prefetch


class LinksV6Prefetch:
    """Start with `start()`, feed crawled pages with `page()` (any thread), end with `stop()`,
    which gives the finished outcomes (URL -> (outcome, attempts)) and cancels the rest
    (`finish=True` waits for them instead)."""

    def __init__(self, sites: Sequence[tuple[SiteInfo, Crawl]], *, resolver: Resolver, crawl: Crawl,
                 concurrency: int = CONCURRENCY) -> None:
        self.sites = {site.id: (site, own) for site, own in sites}
        self.scopes = {site.id: SiteScope.of(site.url, site.extra_hosts, site.scope) for site, _ in sites}
        self.resolver, self.crawl, self.concurrency = resolver, crawl, concurrency
        self.done: dict[str, tuple[FetchOutcome, int]] = {}
        self.asked: set[str] = set()
        self.finish = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="links-v6-prefetch", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def page(self, site_id: str, url: str, final_url: str, depth: int, links: Iterable[tuple[str, str]]) -> None:
        """A crawled page of `site_id` with its links as (target, tag): its tier targets are fetched."""
        if depth > SHALLOW or site_id not in self.sites or self._loop is None:
            return
        scope = self.scopes[site_id]
        if depth == 0 and final_url != url:
            scope = self.scopes[site_id] = scope.with_hosts(final_url)
        wanted = []
        for target, tag in links:
            url = tier_target(target, tag)
            if url is not None and url not in self.asked and scope.covers(url) and len(self.asked) < MAX_URLS:
                self.asked.add(url)
                wanted.append(url)
        if wanted:
            self._loop.call_soon_threadsafe(self._submit, site_id, wanted)

    def stop(self, finish: bool = False) -> Mapping[str, tuple[FetchOutcome, int]]:
        """Cancel what has not finished (or wait for it), end the thread; the outcomes that finished."""
        self.finish = finish
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        log.info("links-v6 prefetch: %d URLs asked, %d fetched while the crawl ran", len(self.asked), len(self.done))
        return self.done

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:   # a cache: the probe phase fetches whatever is missing
            log.warning("links-v6 prefetch failed; the probes fetch its URLs after the crawl", exc_info=True)
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self.limit = asyncio.Semaphore(self.concurrency)
        self.fetchers: dict[float, Fetcher] = {}
        self.robots = RobotsRules(self._fetcher(self.crawl.timeout_s),
                                  self.crawl.user_agent if self.crawl.obey_robots else None, self.limit)
        self.tasks: set[asyncio.Task[None]] = set()
        self._ready.set()
        try:
            await self._stop.wait()
            while self.finish and self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            for fetcher in self.fetchers.values():
                await fetcher.aclose()

    def _fetcher(self, timeout_s: float) -> Fetcher:
        if timeout_s not in self.fetchers:
            self.fetchers[timeout_s] = fetcher_for(self.resolver, self.crawl, timeout_s=timeout_s)
        return self.fetchers[timeout_s]

    def _submit(self, site_id: str, urls: Sequence[str]) -> None:
        own = self.sites[site_id][1]
        fetcher = self._fetcher(own.timeout_s)
        for url in urls:
            task = asyncio.ensure_future(self._fetch(url, fetcher, own.retries))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _fetch(self, url: str, fetcher: Fetcher, retries: int) -> None:
        self.done[url] = await fetch_v6(url, fetcher, retries, self.robots, self.limit)
