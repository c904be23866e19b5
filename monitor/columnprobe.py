"""Probes beyond the crawl for issue 4: the homepage footer's items (`footer`
probes, read by the footer check; see monitor.footerprobe) and the content
of a required column that lives on another host (`column` probes, read by
column:<requirement>), which the crawl does not fetch.

A column probe fetches the column page and the list pages its own list's
pager leads to (checks.lists decides which list is the column's; same
directory or dataproxy.jsp, at most MAX_LIST_PAGES) and records in its detail:
items (distinct items of that list), dates (its list-item dates, ISO, not in
the future), latest, latest_title, latest_url ("" unknown), list_pages (URLs),
list, list_heading, list_reason (the list judged on the first page and why).

Probes go through monitor.fetch (so through monitor.resolver and the allowed
networks) and never raise for network outcomes (the fetch layer maps them).
Each probe runs isolated (monitor.probes.isolated): one that raises stores no
row and leaves its reason in `failed`, under "probe:footer" or
"probe:column <url>" (checks.plans), so its check says `error`. What to probe
comes from each site's plan (checks.probe_plan): the landed homepage for the
footer, the off-site columns the column checks would judge.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime

from checks.lists import OwnList, own_list
from checks.plans import COLUMN, FOOTER, ProbePlan
from checks.snapshot import DateHit, Link, ListBlock, Probe
from monitor.config import Crawl
from monitor.fetch import Fetcher, fetcher_for
from monitor.footerprobe import FOOTER_KIND, ITEMS, footer_items, probe_footer  # noqa: F401  (the footer probe)
from monitor.probes import Collected, isolated, probe_from
from monitor.resolver import Resolver
from spiders.extract import extract

log = logging.getLogger(__name__)

COLUMN_KIND = "column"
MAX_LIST_PAGES = 5


def _list_page(html: str, url: str, column: str, today: date) -> OwnList | None:
    """The column's own list on one of its list pages (checks.lists, the rule the column check uses)."""
    page = extract(html, url, today=today)
    links = [Link(url, link.url, link.tag, link.text, link.context, link.block) for link in page.links]
    dates = [DateHit(d.date, d.source, d.snippet, d.block, d.item) for d in page.dates]
    blocks = [ListBlock(b.key, b.region, b.heading, b.items, b.pager, b.total, b.widget) for b in page.lists]
    return own_list(column, blocks, links, dates, today)


async def probe_column(fetcher: Fetcher, url: str, clock: Callable[[], datetime], retries: int = 0) -> Probe:
    """Fetch a column page on another host (retrying transient failures `retries` times) and the list
    pages its own list's pager leads to (at most MAX_LIST_PAGES); record what the check needs, and
    which list was judged."""
    today = clock().date()
    first, attempts = await fetcher.fetch_retrying(url, retries=retries)
    probe = probe_from(COLUMN_KIND, url, first, clock(), attempts)
    if not first.ok:
        return probe
    column = first.final_url
    folder = column.rsplit("/", 1)[0] + "/"
    items: dict[str, str] = {}
    hits: list[DateHit] = []
    pages = [column]
    queue: list[str] = []
    outcome = first
    chosen: OwnList | None = None
    while True:
        found = _list_page(outcome.text(), outcome.final_url, column, today)
        if found is not None:
            chosen = chosen or found
            for item, title in found.items:
                items.setdefault(item, title)
            hits += found.dates
            queue += [p for p in found.pagers if p not in pages and p not in queue
                      and (p.startswith(folder) or "dataproxy" in p) and p.rstrip("/") != column.rstrip("/")
                      and not p.endswith(("/index.html", "/index.htm", "/index.shtml"))]
        if not queue or len(pages) >= MAX_LIST_PAGES:
            break
        next_url = queue.pop(0)
        outcome = await fetcher.fetch(next_url)
        pages.append(next_url)
        if not outcome.ok:
            break
    dates = [hit.date for hit in hits]
    latest = max(dates, default=None)
    newest = next((hit for hit in hits if hit.date == latest), None)
    total = chosen.total if chosen is not None and chosen.total else 0
    detail = {"items": max(len(items) or len(dates), total), "dates": sorted({d.isoformat() for d in dates}),
              "latest": latest.isoformat() if latest else "",
              "latest_title": items.get(newest.item, "") if newest is not None else "",
              "latest_url": newest.item if newest is not None else "", "list_pages": pages,
              "list": chosen.key if chosen is not None else "",
              "list_heading": chosen.heading if chosen is not None else "",
              "list_reason": chosen.reason if chosen is not None else ""}
    return replace(probe, detail={**probe.detail, **detail})


async def collect(plans: Mapping[str, ProbePlan], *, resolver: Resolver, crawl: Crawl,
                  clock: Callable[[], datetime], site_crawl: Mapping[str, Crawl] | None = None) -> Collected:
    """The footer and column probes the sites' plans (site id -> checks.probe_plan) list, the sites
    concurrently. A site's own settings (`site_crawl[site id]`, else `crawl`) give its timeout and
    retries; one fetcher per timeout. A probe that raises leaves its reason in `failed` instead of a
    probe; the footer is collected for a site whose plan named a page and whose probe did not raise."""
    failed: dict[str, dict[str, str]] = {}
    own = {site_id: (site_crawl or {}).get(site_id, crawl) for site_id in plans}
    fetchers = {timeout: fetcher_for(resolver, crawl, timeout_s=timeout)
                for timeout in sorted({c.timeout_s for c in own.values()})}

    async def site(site_id: str, plan: ProbePlan) -> tuple[Probe, ...]:
        fetcher, retries = fetchers[own[site_id].timeout_s], own[site_id].retries
        probes: list[Probe | None] = []
        for url in plan.urls(FOOTER)[:1]:
            probes.append(await isolated("footer", site_id, (FOOTER,), failed,
                                         probe_footer(fetcher, url, clock, retries)))
        for url in plan.urls(COLUMN):
            probes.append(await isolated(f"column {url}", site_id, (f"{COLUMN} {url}",), failed,
                                         probe_column(fetcher, url, clock, retries)))
        return tuple(p for p in probes if p is not None)

    try:
        found = await asyncio.gather(*(site(site_id, plan) for site_id, plan in plans.items()))
    finally:
        for fetcher in fetchers.values():
            await fetcher.aclose()
    footers = {site_id for site_id, plan in plans.items() if plan.urls(FOOTER)}
    return Collected(probes=dict(zip(plans, found)),
                     collected={site_id: frozenset({FOOTER} if site_id in footers and FOOTER not in
                                                   failed.get(site_id, {}) else ()) for site_id in plans},
                     failed=failed)
