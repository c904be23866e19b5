"""Probes beyond the crawl for issue 4: the homepage footer's items (`footer`
probes, read by the footer check; see monitor.footerprobe) and the content
of a required column that lives on another host (`column` probes, read by
column:<requirement>), which the crawl does not fetch.

A column probe fetches the column page and its pagination pages (same
directory, pager links, at most MAX_LIST_PAGES) and records in its detail:
items (distinct list links), dates (list-item dates, ISO, not in the future),
latest, latest_title, latest_url ("" unknown), list_pages (URLs).

Probes go through monitor.fetch (so through monitor.resolver and the allowed
networks) and never raise for network outcomes (the fetch layer maps them).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime

from checks.snapshot import Probe
from monitor.config import Crawl
from monitor.fetch import Fetcher
from monitor.footerprobe import FOOTER_KIND, ITEMS, footer_items, probe_footer  # noqa: F401  (the footer probe)
from monitor.probes import probe_from
from monitor.resolver import Resolver
from spiders.extract import extract

log = logging.getLogger(__name__)

COLUMN_KIND = "column"
MAX_LIST_PAGES = 5
_PAGER = re.compile(r"^(下一页|下页|尾页|末页|\d{1,3})$")


def _list_page(html: str, url: str, today: date) -> tuple[dict[str, str], list[date], list[str]]:
    """(item url -> title, list-item dates, pager URLs in the same directory) of one list page."""
    page = extract(html, url, today=today)
    folder = url.rsplit("/", 1)[0] + "/"
    pagers = [link.url for link in page.links if link.tag == "a" and link.url.startswith(folder)
              and _PAGER.match(link.text.strip())]
    items = {link.url: link.text for link in page.links
             if link.tag == "a" and link.context == "list" and link.url not in pagers}
    return items, [d.date for d in page.dates if d.source == "list-item" and d.date <= today], pagers


async def probe_column(fetcher: Fetcher, url: str, clock: Callable[[], datetime]) -> Probe:
    """Fetch a column page on another host and its pagination; record what the check needs."""
    today = clock().date()
    first = await fetcher.fetch(url)
    probe = probe_from(COLUMN_KIND, url, first, clock())
    if not first.ok:
        return probe
    items: dict[str, str] = {}
    dates: list[date] = []
    pages = [first.final_url]
    queue: list[str] = []
    outcome = first
    while True:
        found, days, pagers = _list_page(outcome.text(), outcome.final_url, today)
        items.update(found)
        dates += days
        queue += [p for p in dict.fromkeys(pagers) if p not in pages and p not in queue and p.rstrip("/") != url.rstrip("/")
                  and not p.endswith(("/index.html", "/index.htm", "/index.shtml"))]
        if not queue or len(pages) >= MAX_LIST_PAGES:
            break
        next_url = queue.pop(0)
        outcome = await fetcher.fetch(next_url)
        pages.append(next_url)
        if not outcome.ok:
            break
    latest = max(dates, default=None)
    detail = {"items": len(items) or len(dates), "dates": sorted({d.isoformat() for d in dates}),
              "latest": latest.isoformat() if latest else "", "latest_title": "", "latest_url": "",
              "list_pages": pages}
    return replace(probe, detail={**probe.detail, **detail})


async def collect(jobs: Mapping[str, tuple[str | None, Sequence[str]]], *, resolver: Resolver, crawl: Crawl,
                  clock: Callable[[], datetime]) -> dict[str, list[Probe]]:
    """site id -> its probes, for jobs of site id -> (homepage URL for a footer probe or None,
    URLs of columns on other hosts). One fetcher, the crawl's limits."""
    fetcher = Fetcher(resolver, timeout_s=crawl.timeout_s, user_agent=crawl.user_agent,
                      max_bytes=crawl.max_response_bytes, allowed_networks=crawl.allowed_networks,
                      verify=crawl.ca_bundle or True, per_host_limit=crawl.per_host_concurrency)
    found: dict[str, list[Probe]] = {site_id: [] for site_id in jobs}
    try:
        for site_id, (homepage, columns) in jobs.items():
            if homepage:
                found[site_id].append(await probe_footer(fetcher, homepage, clock))
            for url in dict.fromkeys(columns):
                found[site_id].append(await probe_column(fetcher, url, clock))
    finally:
        await fetcher.aclose()
    return found
