"""Probes beyond the crawl for issue 4: the homepage footer's items (`footer`
probes, read by the footer check) — the crawl records links, not page text,
and 网站标识码, ICP备案号 and 公安备案号 are usually plain text — and the
content of a required column that lives on another host (`column` probes,
read by column:<requirement>), which the crawl does not fetch.

A column probe fetches the column page and the list pages its own list's
pager leads to (checks.lists decides which list is the column's; same
directory or dataproxy.jsp, at most MAX_LIST_PAGES) and records in its detail:
items (distinct items of that list), dates (its list-item dates, ISO, not in
the future), latest, latest_title, latest_url ("" unknown), list_pages (URLs),
list, list_heading, list_reason (the list judged on the first page and why).

One probe per site: the homepage fetched through monitor.fetch (so through
monitor.resolver and the allowed networks), its text searched for the items.
The outcome is data: a Probe(kind="footer") whose detail maps each item to
what was found ("" when absent):

    site_code   网站标识码, e.g. "2113000001"
    icp         ICP备案号, e.g. "辽ICP备000001号-1"
    police      公安备案号, e.g. "辽公网安备 21130000100001号"
    finderr     URL of the 我为政府网站找错 entry (or the text, when not a link)
    badge       URL of the 党政机关网站标识 image or link

`footer_items` is pure; `probe_footer` does the one fetch. Never raises for
network outcomes (the fetch layer maps them).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from urllib.parse import urljoin

from lxml import etree

from checks.lists import OwnList, own_list
from checks.snapshot import DateHit, Link, ListBlock, Probe
from monitor.config import Crawl
from monitor.fetch import Fetcher
from monitor.probes import probe_from
from monitor.resolver import Resolver
from spiders.extract import extract

log = logging.getLogger(__name__)

FOOTER_KIND = "footer"
COLUMN_KIND = "column"
MAX_LIST_PAGES = 5
ITEMS = ("site_code", "icp", "police", "finderr", "badge")
_SITE_CODE = re.compile(r"网站标识码\s*[:：]?\s*([A-Za-z0-9]{10})")
_ICP = re.compile(r"([\u4e00-\u9fff]ICP[备证]\s*\d{4,}\s*号(?:\s*-\s*\d+)?)", re.IGNORECASE)
_POLICE = re.compile(r"([\u4e00-\u9fff]公网安备\s*\d{8,}\s*号)")
_FINDERR_HREF = re.compile(r"zfwzzc|jiucuo|pucha\.kaipuyun", re.IGNORECASE)
_BADGE_SRC = re.compile(r"dzjg|conac|red\.png|dangzheng", re.IGNORECASE)


def _text(element: etree._Element) -> str:
    return unicodedata.normalize("NFKC", " ".join("".join(element.itertext()).split()))


def footer_items(html: str, base_url: str) -> dict[str, str]:
    """The footer items a page shows (see the module docstring); "" for each one absent."""
    found = dict.fromkeys(ITEMS, "")
    try:
        root = etree.fromstring(html, etree.HTMLParser(remove_comments=True)) if html.strip() else None
    except (etree.ParserError, ValueError):
        root = None
    if root is None:
        return found
    etree.strip_elements(root, "script", "style", with_tail=False)
    text = _text(root)
    for key, pattern in (("site_code", _SITE_CODE), ("icp", _ICP), ("police", _POLICE)):
        match = pattern.search(text)
        found[key] = " ".join(match.group(1).split()) if match else ""
    for anchor in root.iter("a"):
        href = anchor.get("href") or ""
        label = _text(anchor) + (anchor.get("title") or "")
        if not found["finderr"] and ("找错" in label or _FINDERR_HREF.search(href)):
            found["finderr"] = urljoin(base_url, href) if href else label
        if not found["badge"] and "conac" in href.lower():
            found["badge"] = urljoin(base_url, href)
    for image in root.iter("img"):
        label = (image.get("alt") or "") + (image.get("title") or "")
        src = image.get("src") or ""
        if not found["badge"] and ("党政机关" in label or _BADGE_SRC.search(src)):
            found["badge"] = urljoin(base_url, src)
    if not found["finderr"] and "我为政府网站找错" in text:
        found["finderr"] = "我为政府网站找错"
    return found


async def probe_footer(fetcher: Fetcher, url: str, clock: Callable[[], datetime]) -> Probe:
    """Fetch the homepage once and record its footer items in the probe's detail."""
    outcome = await fetcher.fetch(url)
    probe = probe_from(FOOTER_KIND, url, outcome, clock())
    if not outcome.ok:
        return probe
    items = footer_items(outcome.text(), outcome.final_url)
    log.debug("footer of %s: %s", url, items)
    return replace(probe, detail={**probe.detail, **items})


def _list_page(html: str, url: str, column: str, today: date) -> OwnList | None:
    """The column's own list on one of its list pages (checks.lists, the rule the column check uses)."""
    page = extract(html, url, today=today)
    links = [Link(url, link.url, link.tag, link.text, link.context, link.block) for link in page.links]
    dates = [DateHit(d.date, d.source, d.snippet, d.block, d.item) for d in page.dates]
    blocks = [ListBlock(b.key, b.region, b.heading, b.items, b.pager, b.total, b.widget) for b in page.lists]
    return own_list(column, blocks, links, dates, today)


async def probe_column(fetcher: Fetcher, url: str, clock: Callable[[], datetime]) -> Probe:
    """Fetch a column page on another host and the list pages its own list's pager leads to (at most
    MAX_LIST_PAGES); record what the check needs, and which list was judged."""
    today = clock().date()
    first = await fetcher.fetch(url)
    probe = probe_from(COLUMN_KIND, url, first, clock())
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
