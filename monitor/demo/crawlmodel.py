"""The crawl a correct tool makes of one demo site, computed from the specs.

The model is Scrapy's: a start request at depth 0; each 2xx HTML page's
followed links (a, area, iframe, frame, and the "pager" links a crawl generates
from createPageHTML scripts and Hanweb datastores) in scope and not yet scheduled are
scheduled at depth + 1 while depth < max_depth (a duplicate filter at
scheduling, as Scrapy's); HTTP redirects keep the depth and pass the filter
again; a page that redirects by meta refresh or `location = '…'` is a page,
and its target keeps the page's depth (it is the same document, moved);
robots.txt refusals are never fetched; the crawl stops at max_pages pages.
A link a correct crawl cuts as a trap (`trap_cut`) is never scheduled.
Scope is checks.scope's rule (the site's hosts, base domain and sub-domains,
extra_hosts, and the host the homepage's HTTP redirects land on). Only 2xx
HTML answers in scope (and a Hanweb dataproxy.jsp's XML) are pages; links are
read from pages only. The order ("bfs" or Scrapy's default LIFO "dfs") is a
parameter so tests can show the page set does not depend on it.
Pure: it renders page bodies in memory and never touches a socket.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qsl, urlsplit
from urllib.robotparser import RobotFileParser

from checks.scope import SiteScope
from monitor.demo.spec import (
    FOLLOWED_TAGS,
    REDIRECT_TAGS,
    DemoSite,
    ExpectEnv,
    PageContext,
    PageSpec,
    Sheet,
    UrlFor,
)
from monitor.demo.walk import Walk, World, canonical, malformed, resolve, walk
from monitor.demo.zone import normalise
from monitor.outcomes import FetchKind


# The trap rules of spiders/urls.py, written again for the URL shapes the demo serves, so the truth does not
# take the crawl's word for its own cuts: a calendar counter outside its range, a year/month path outside the
# archive window (30 years back to next year), a list page past the last page its 尾页 link names.
COUNTER_RANGES = {"month": (1, 12), "day": (1, 31), "week": (1, 53), "quarter": (1, 4)}
ARCHIVE_YEARS = 30
LAST_PAGE_TEXT = "尾页"
_DATED_PATH = re.compile(r"/((?:1[89]|20)\d\d)/(0?[1-9]|1[0-2])(?=/)")
_NUMBERED_PAGE = re.compile(r"^([^?#]*/[^/?#]+)_(\d+)(\.s?html?)$")


def trap_cut(url: str, today: date, last_pages: Mapping[str, int]) -> str | None:
    """Which trap rule cuts `url` ("counter", "date path", "past the last page"), or None.
    `last_pages` maps a list (its page URL without _N) to the last page number its 尾页 link names."""
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        low, high = COUNTER_RANGES.get(key.lower(), (0, 0))
        if high and value.lstrip("-").isdecimal() and not low <= int(value) <= high:
            return "counter"
    dated = _DATED_PATH.search(parts.path)
    if dated and not today.year - ARCHIVE_YEARS <= int(dated.group(1)) <= today.year + 1:
        return "date path"
    numbered = _NUMBERED_PAGE.match(url)
    if numbered and int(numbered.group(2)) > last_pages.get(numbered.group(1) + numbered.group(3), 10**9):
        return "past the last page"
    return None


def _last_pages(links: tuple[Link, ...], known: dict[str, int]) -> None:
    for link in links:
        numbered = _NUMBERED_PAGE.match(link.target) if link.tag == "a" and link.text == LAST_PAGE_TEXT else None
        if numbered:
            key = numbered.group(1) + numbered.group(3)
            known[key] = max(known.get(key, 0), int(numbered.group(2)))


@dataclass(frozen=True)
class Link:
    source: str                        # the page's final URL
    target: str                        # canonical absolute URL, or the href as written (other schemes, malformed)
    tag: str
    text: str
    href: str                          # as written in the page


@dataclass(frozen=True)
class PageFacts:
    url: str                           # final canonical URL
    depth: int
    links: tuple[Link, ...]
    dates: tuple[date, ...]            # publication dates shown, future ones included
    redirect: str | None = None        # meta refresh / JS location target
    trap: str = ""

    def latest(self, today: date) -> date | None:
        valid = [day for day in self.dates if day <= today]
        return max(valid) if valid else None


@dataclass
class SiteCrawl:
    site: DemoSite
    start: str
    start_walk: Walk
    scope: SiteScope
    home: str | None = None                                  # the homepage after every redirect
    pages: dict[str, PageFacts] = field(default_factory=dict)
    fetched: dict[str, Walk] = field(default_factory=dict)   # every URL requested
    robots: list[str] = field(default_factory=list)          # in-scope URLs refused by robots.txt
    bounded: bool = False                                    # max_pages stopped it with work left
    cuts: dict[str, str] = field(default_factory=dict)       # links cut as traps -> the rule (trap_cut)


def render(site: DemoSite, page: PageSpec, url: str, today: date, url_for: UrlFor) -> Sheet:
    """The links and dates of one page, from the same body call the server makes."""
    parts = urlsplit(url)
    meta = page.encoding if page.declare in ("both", "meta") else None
    ctx = PageContext(site, today, url_for, meta, parts.path or "/", parts.query)
    if callable(page.body):
        page.body(ctx)
    return ctx.sheet


def facts(site: DemoSite, page: PageSpec, url: str, depth: int, today: date, url_for: UrlFor) -> PageFacts:
    sheet = render(site, page, url, today, url_for)
    links = tuple(Link(url, resolve(url, href), tag, text, href) for tag, href, text in sheet.links)
    redirect = next((link.target for link in links if link.tag in REDIRECT_TAGS), None)
    return PageFacts(url, depth, links, tuple(sheet.dates), redirect, page.trap)


def robots_of(site: DemoSite) -> RobotFileParser | None:
    spec = site.pages.get("/robots.txt")
    if spec is None or not isinstance(spec.body, str):
        return None
    parser = RobotFileParser()
    parser.parse(spec.body.splitlines())
    return parser


def _is_trap(world: World, site: DemoSite, url: str) -> bool:
    served = world.sites.get(normalise(urlsplit(url).hostname or ""), site)   # the host in scope serving it
    page = served.page_for(urlsplit(url).path or "/")
    return page is not None and page.trap == "generated"


def crawl(world: World, site: DemoSite, env: ExpectEnv, *, today: date, url_for: UrlFor, max_depth: int,
          max_pages: int, order: str = "bfs", skip_traps: bool = False, obey_robots: bool = True) -> SiteCrawl:
    """The crawl of `site` (see the module docstring); `skip_traps` never schedules trap pages."""
    start = canonical(url_for(site.host, "/"))
    robots: dict[str, RobotFileParser | None] = {}

    def refused(url: str) -> bool:
        """Whether the robots.txt of the URL's host (each host of the site has its own) refuses it."""
        if not obey_robots:
            return False
        host = normalise(urlsplit(url).hostname or "")
        if host not in robots:
            served = world.sites.get(host)
            robots[host] = robots_of(served) if served is not None else None
        rules = robots[host]
        return rules is not None and not rules.can_fetch("*", url)

    result = SiteCrawl(site, start, walk(world, start, env), SiteScope.of(start, site.extra_hosts, site.scope))
    frontier: deque[tuple[str, int]] = deque([(start, 0)])
    scheduled = {start}
    last_pages: dict[str, int] = {}

    def schedule(url: str, depth: int) -> None:
        if malformed(url) or not result.scope.covers(url) or url in scheduled or (skip_traps and _is_trap(world, site, url)):
            return
        if (rule := trap_cut(url, today, last_pages)) is not None:
            result.cuts[url] = rule
            return
        scheduled.add(url)
        frontier.append((url, depth))

    while frontier and len(result.pages) < max_pages:
        url, depth = frontier.popleft() if order == "bfs" else frontier.pop()
        if refused(url):
            result.robots.append(url)
            continue
        fetched = result.fetched[url] = walk(world, url, env)
        hops = [canonical(hop) for hop in fetched.chain[1:]] + [canonical(fetched.final_url)]
        if fetched.chain and any(hop in scheduled for hop in hops):
            continue
        scheduled.update(hops)
        final = hops[-1]
        if depth == 0 and fetched.chain:
            result.scope = result.scope.with_hosts(final)   # the homepage's new home is the site too
        if not result.scope.covers(final):
            continue
        if fetched.kind is not FetchKind.OK or fetched.page is None or not fetched.page.html:
            continue
        page = facts(fetched.site or site, fetched.page, final, depth, today, url_for)
        result.pages[final] = page
        _last_pages(page.links, last_pages)
        if page.redirect is not None:
            schedule(page.redirect, depth)
        elif depth < max_depth:
            for link in page.links:
                if link.tag in FOLLOWED_TAGS:
                    schedule(link.target, depth + 1)
    result.bounded = bool(frontier)
    result.home = _landing(result)
    return result


def _landing(result: SiteCrawl) -> str | None:
    """Where the start URL lands after HTTP, meta-refresh and JS redirects (None: nowhere)."""
    url = next(iter(result.pages), None)
    seen: set[str] = set()
    while url is not None and url not in seen and url in result.pages and result.pages[url].redirect:
        seen.add(url)
        url = result.pages[url].redirect
    return url if url in result.pages else None
