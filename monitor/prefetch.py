"""Work started while the crawl runs: IPv6 fetches of the links-v6 probe's likely URLs
(`LinksV6Prefetch`) and link checks of other sites' targets (`EarlyLinkCheck`). Each runs in a
thread and event loop of its own (`_Background`), fed the pages the ingest commits.

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
from checks.scope import RunScope, SiteScope, normal_host
from checks.snapshot import SiteInfo
from monitor.config import Crawl
from monitor.fetch import Fetcher, FetchOutcome, RobotsRules, fetcher_for
from monitor.linkcheck import LINK_MAX_BYTES, EarlyChecks, Prechecked, TargetToCheck
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


def start_early_checks(sites: Sequence[tuple[SiteInfo, Crawl, frozenset[str]]], *, resolver: Resolver,
                       crawl: Crawl) -> EarlyLinkCheck | None:
    """A started early link check for the sites (info, crawl settings, needs) whose checks need the link
    check; None when none does."""
    wanted = [(site, own) for site, own, needs in sites if "probe:links" in needs]
    if not wanted:
        return None
    early = EarlyLinkCheck(wanted, resolver=resolver, crawl=crawl, crawled=[site for site, _, _ in sites])
    early.start()
    return early


def fan_out(observers: Sequence[Callable[[str, str, str, int, list[tuple[str, str]]], None]]
            ) -> Callable[[str, str, str, int, list[tuple[str, str]]], None] | None:
    """One page observer calling each of `observers` (None when there is none)."""
    if not observers:
        return None

    def observe(site_id: str, url: str, final_url: str, depth: int, links: list[tuple[str, str]]) -> None:
        for observer in observers:
            observer(site_id, url, final_url, depth, links)

    return observe


class _Background:
    """A thread with its own event loop: `start()`, then `_setup` runs in the loop; `stop()` sets the
    loop's stop event and joins, after `_wind_up` (in the loop) has run. A failure is logged: what it
    started is a head start, and the phase after the crawl does whatever is missing."""

    name = "background"

    def __init__(self) -> None:
        self.finish = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def _post(self, callback: Callable[..., object], *args: object) -> None:
        """Run `callback(*args)` in the loop (from any thread); nothing once the loop has ended."""
        if self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:   # the loop is closed: it failed (logged), the work is done after the crawl
            pass

    def _halt(self, finish: bool) -> None:
        self.finish = finish
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:   # a head start: the phase after the crawl does what is missing
            log.warning("%s failed; the run does its work after the crawl", self.name, exc_info=True)
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        await self._setup()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._wind_up()

    async def _setup(self) -> None:
        raise NotImplementedError

    async def _wind_up(self) -> None:
        raise NotImplementedError


class LinksV6Prefetch(_Background):
    """Start with `start()`, feed crawled pages with `page()` (any thread), end with `stop()`,
    which gives the finished outcomes (URL -> (outcome, attempts)) and cancels the rest
    (`finish=True` waits for them instead)."""

    name = "links-v6 prefetch"

    def __init__(self, sites: Sequence[tuple[SiteInfo, Crawl]], *, resolver: Resolver, crawl: Crawl,
                 concurrency: int = CONCURRENCY) -> None:
        super().__init__()
        self.sites = {site.id: (site, own) for site, own in sites}
        self.scopes = {site.id: SiteScope.of(site.url, site.extra_hosts, site.scope) for site, _ in sites}
        self.resolver, self.crawl, self.concurrency = resolver, crawl, concurrency
        self.done: dict[str, tuple[FetchOutcome, int]] = {}
        self.asked: set[str] = set()
        self.asked_by: dict[str, list[str]] = {}    # site id -> the URLs its pages asked first

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
            self.asked_by.setdefault(site_id, []).extend(wanted)
            self._post(self._submit, site_id, wanted)

    def stop(self, finish: bool = False) -> Mapping[str, tuple[FetchOutcome, int]]:
        """Cancel what has not finished (or wait for it), end the thread; the outcomes that finished."""
        self._halt(finish)
        log.info("links-v6 prefetch: %d URLs asked, %d fetched while the crawl ran", len(self.asked), len(self.done))
        return self.done

    def by_site(self) -> dict[str, dict[str, tuple[FetchOutcome, int]]]:
        """After `stop`: the outcomes by the site whose page asked for them first (a distributed run hands each
        site's to the worker that judges it)."""
        return {site: {u: self.done[u] for u in urls if u in self.done} for site, urls in self.asked_by.items()}

    async def _setup(self) -> None:
        self.limit = asyncio.Semaphore(self.concurrency)
        self.fetchers: dict[float, Fetcher] = {}
        self.robots = RobotsRules(self._fetcher(self.crawl.timeout_s),
                                  self.crawl.user_agent if self.crawl.obey_robots else None, self.limit)
        self.tasks: set[asyncio.Task[None]] = set()

    async def _wind_up(self) -> None:
        try:
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


EARLY_CONCURRENCY = 8     # link checks at a time during the crawl: other sites' servers, beside the crawl's own


class EarlyLinkCheck(_Background):
    """Link checks of the targets on other sites (no site of the run covers their host, so the crawl
    never fetches them), started while the crawl runs: their timeouts and the back-off before a
    retry (2 s and more) then pass during the crawl, not after it.

    Feed committed pages with `page()` (any thread); `stop()` waits for the checks started and gives
    URL -> `linkcheck.Prechecked` for `check_links(prechecked=)`. It is a head start, never a judge:
    the link check after the crawl still plans every target (bounds, the crawl's answers) and takes a
    result only for a target the crawl did not fetch. Each site starts at most its
    `max_link_targets` checks here, at most `max_links_per_page` from one page, with its own
    timeout and retries; the check after the crawl asks again where a later site wants more patience.
    """

    name = "early link check"

    def __init__(self, sites: Sequence[tuple[SiteInfo, Crawl]], *, resolver: Resolver, crawl: Crawl,
                 crawled: Sequence[SiteInfo] = (), concurrency: int = EARLY_CONCURRENCY) -> None:
        """`sites` are those whose links are checked; `crawled` every site the run crawls (their hosts are
        no other site's)."""
        super().__init__()
        self.resolver, self.crawl, self.concurrency = resolver, crawl, concurrency
        self.own = {site.id: own for site, own in sites}
        self.scope = RunScope.of(SiteScope.of(site.url, site.extra_hosts, site.scope)
                                 for site in (*(site for site, _ in sites), *crawled))
        self.external: dict[str, bool] = {}     # target -> on no site of the run (each distinct target once)
        self.started: dict[str, set[str]] = {site_id: set() for site_id in self.own}
        self.prechecked: dict[str, Prechecked] = {}
        self.checks: EarlyChecks | None = None

    def page(self, site_id: str, url: str, final_url: str, depth: int, links: Iterable[tuple[str, str]]) -> None:
        """A committed page of `site_id` with its links as (target, tag): its targets on other sites are checked."""
        own = self.own.get(site_id)
        if own is None or self._loop is None:
            return
        if depth == 0 and final_url != url and self.scope.add_host(final_url):
            self.external.clear()          # the homepage's landing host is the site's: the crawl fetches it
        started = self.started[site_id]
        on_page: dict[str, str] = {}
        for target, tag in links:
            external = self.external.get(target)
            if external is None:
                external = self.external[target] = self._elsewhere(target)
            if external and target not in on_page:
                on_page[target] = tag
        wanted = []
        for target, tag in list(on_page.items())[:own.max_links_per_page]:
            if target not in started and len(started) < own.max_link_targets:
                started.add(target)
                wanted.append(TargetToCheck(target, frozenset({tag}), frozenset({site_id}),
                                            timeout_s=own.timeout_s, retries=own.retries))
        if wanted and self.checks is not None:
            self._post(self.checks.add, wanted)

    def stop(self, finish: bool = True) -> Mapping[str, Prechecked]:
        """Wait for the checks started (`finish=False`: cancel them), end the thread; each decided URL's result."""
        self._halt(finish)
        log.info("early link check: %d targets on other sites decided while the crawl ran", len(self.prechecked))
        return self.prechecked

    def _elsewhere(self, target: str) -> bool:
        if not target.startswith(("http://", "https://")):
            return False
        host = normal_host(target)
        return bool(host) and not self.scope.covers_host(host)

    async def _setup(self) -> None:
        cap = min(self.crawl.max_response_bytes, LINK_MAX_BYTES)
        timeouts = {self.crawl.timeout_s} | {own.timeout_s for own in self.own.values()}
        self.fetchers = {timeout: fetcher_for(self.resolver, self.crawl, timeout_s=timeout, max_bytes=cap)
                         for timeout in sorted(timeouts)}
        self.checks = EarlyChecks(self.fetchers[self.crawl.timeout_s], retries=self.crawl.retries,
                                  concurrency=self.concurrency, fetchers=self.fetchers,
                                  robots_agent=self.crawl.user_agent if self.crawl.obey_robots else None)

    async def _wind_up(self) -> None:
        if self.checks is None:
            return
        try:
            if self.finish:
                self.prechecked = await self.checks.finish()
        finally:
            await self.checks.cancel()
            for fetcher in self.fetchers.values():
                await fetcher.aclose()
