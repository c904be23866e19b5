"""The verdicts the checks must reach on a demo site, computed from its crawl
model: dead links (links:dead), homepage freshness (freshness:homepage),
required columns (column:<requirement id>), and from its homepage's fetch, https.
Pure; JSON-ready output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from monitor.demo.columns import ColumnPlan
from monitor.demo.crawlmodel import Link, PageFacts, SiteCrawl
from monitor.demo.updatecases import BET_HOST, HIDDEN, MESSAGES, TURNED_HOSTS, friends_page
from checks.scope import SiteScope
from checks.updates import OTHER, classes_of, classify
from monitor.config import Checks
from monitor.demo.walk import DEFAULT_PORTS, Walk, World, address_of, canonical, malformed
from monitor.outcomes import FetchKind

FRESHNESS_MAX_AGE_DAYS = 14
HTTP = tuple(f"{scheme}:" for scheme in DEFAULT_PORTS)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def over_limit(crawl: SiteCrawl, pages: Iterable[PageFacts], per_page: int) -> set[str]:
    """Targets past the site's max_links_per_page (the store's rule): in crawl order, each page admits
    its first `per_page` distinct http(s) targets that are neither crawled pages nor admitted by an
    earlier page; the rest are never requested unless a later page admits them. (Exact while pages of
    one depth agree, as in the demo; the site-wide max_link_targets is never reached there.)"""
    over: set[str] = set()
    admitted: set[str] = set()
    for page in pages:
        used: set[str] = set()
        for link in page.links:
            target = link.target
            if malformed(link.href) or not target.startswith(HTTP) or target in crawl.pages or target in admitted:
                continue
            if len(used) >= per_page:
                over.add(target)
                continue
            used.add(target)
            admitted.add(target)
    return over - admitted


def links_truth(crawl: SiteCrawl, pages: Iterable[PageFacts], fate: Callable[[str], Walk],
                per_page: int | None = None) -> dict[str, Any]:
    """dead_links, not_dead, blocked, rate_limited, over_limit for the links on `pages`. A malformed link
    is dead as written (kind malformed, no status) and never requested; a target past `per_page`
    (max_links_per_page) is never requested, so never dead."""
    pages = list(pages)
    scope = crawl.scope
    refused = set(crawl.robots)
    over = over_limit(crawl, pages, per_page) if per_page is not None else set()
    dead: set[tuple[str, str, str, int | None, str, str]] = set()
    not_dead: set[str] = set()
    blocked: set[str] = set()
    limited: set[str] = set()
    for page in pages:
        for link in page.links:
            if malformed(link.href):
                dead.add((page.url, link.target, str(FetchKind.MALFORMED), None, link.tag, link.text))
                continue
            if not link.target.startswith(HTTP):
                not_dead.add(link.target)
                continue
            if link.target in refused:
                not_dead.add(link.target)
                continue
            if link.target in over:
                continue
            walked = fate(link.target)
            kind = walked.link_kind
            if walked.dead:
                dead.add((page.url, link.target, str(kind), walked.status, link.tag, link.text))
                continue
            blocked.update([link.target] if kind is FetchKind.BLOCKED else [])
            limited.update([link.target] if kind is FetchKind.RATE_LIMITED else [])
            if _special(link, walked, scope):
                not_dead.add(link.target)
    keys = ("source", "target", "kind", "status", "tag", "text")
    return {"dead_links": [dict(zip(keys, entry)) for entry in sorted(dead, key=lambda e: tuple(map(str, e)))],
            "not_dead": sorted(not_dead), "blocked": sorted(blocked), "rate_limited": sorted(limited),
            "over_limit": sorted(over)}


def _special(link: Link, walked: Walk, scope: SiteScope) -> bool:
    """Worth listing as "must not be reported dead": anything but a plain in-scope 200."""
    behaves = walked.page is not None and walked.page.behaviour is not None   # e.g. flaky: 503, then 200
    return (not scope.covers(link.target) or walked.kind is not FetchKind.OK or bool(walked.chain)
            or "#" in link.href or canonical(walked.final_url) != link.target or behaves)


def freshness_truth(crawl: SiteCrawl, today: date) -> dict[str, Any]:
    """homepage_latest / freshness / freshness_source; "error" when no homepage was crawled."""
    home = crawl.pages.get(crawl.home) if crawl.home else None
    if home is None:
        return {"homepage_latest": None, "freshness": "error", "freshness_source": None}
    latest, source = home.latest(today), "homepage"
    if latest is None:
        source = "subpages"
        subpages = {link.target for link in home.links if link.target in crawl.pages and link.target != home.url}
        days = [day for url in subpages if (day := crawl.pages[url].latest(today)) is not None]
        latest = max(days) if days else None
    status = "fail" if latest is None or (today - latest).days > FRESHNESS_MAX_AGE_DAYS else "pass"
    return {"homepage_latest": _iso(latest), "freshness": status, "freshness_source": source}


def applies(requirement: Mapping[str, Any], kind: str, level: str) -> bool:
    levels = requirement.get("levels") or ()
    return kind in requirement["applies_to"] and (not levels or level in levels)


def _column_url(plan: ColumnPlan, crawl: SiteCrawl, url_for: Callable[..., str]) -> str:
    return canonical(url_for(plan.host or crawl.site.host, plan.column.path))


def _reached(plan: ColumnPlan, crawl: SiteCrawl, url_for: Callable[..., str]) -> bool:
    url = _column_url(plan, crawl, url_for)
    return url in crawl.pages or any(link.target == url for page in crawl.pages.values() for link in page.links)


def _deadline_met(plan: ColumnPlan, deadline: str, today: date) -> bool:
    """The judged year's item is dated on or before its deadline; the judged year is this year
    once the deadline has passed, else last year (checks.columns.judged_year)."""
    month, day = (int(part) for part in deadline.split("-"))
    year = today.year if today > date(today.year, month, day) else today.year - 1
    due = date(year, month, day)
    return any(date(year, 1, 1) <= item.day <= due for item in plan.items)


def column_truth(requirement: Mapping[str, Any], crawl: SiteCrawl, available: bool, today: date,
                 url_for: Callable[..., str]) -> dict[str, Any]:
    """The verdict on one required column (see truth.py for the fields)."""
    if not available:
        return {"status": "error", "url": None, "reason": "unavailable"}
    candidates = [p for p in crawl.site.columns if p.column.requirement == requirement["id"]
                  and _reached(p, crawl, url_for)]
    if not candidates:
        return {"status": "fail", "url": None, "reason": "missing"}
    plan = candidates[0]
    items = [item for item in plan.items if item.day <= today]
    entry = {"url": _column_url(plan, crawl, url_for), "text": plan.column.text,
             "where": "host" if plan.host and not crawl.scope.covers(plan.host) else plan.where,
             "items": len(items),
             "latest": _iso(max((item.day for item in items), default=None))}
    if not items:
        return {"status": "fail", "reason": "empty", **entry}
    age = (today - max(item.day for item in items)).days
    if requirement.get("max_age_days") is not None and age > requirement["max_age_days"]:
        return {"status": requirement.get("stale_status", "warn"), "reason": "stale", **entry}
    if requirement.get("deadline") and not _deadline_met(plan, requirement["deadline"], today):
        return {"status": "fail", "reason": "late", **entry}
    return {"status": "pass", "reason": None, **entry}


def columns_truth(requirements: Sequence[Mapping[str, Any]], crawl: SiteCrawl, available: bool, today: date,
                  url_for: Callable[..., str]) -> dict[str, Any]:
    site = crawl.site
    return {req["id"]: column_truth(req, crawl, available, today, url_for)
            for req in requirements if req.get("type", "column") == "column" and applies(req, site.kind, site.level)}


def https_truth(world: World, host: str, homepage: Mapping[str, Any]) -> str:
    """The expected `https` status (monitor.tlsprobe): HTTPS is tested where the homepage's HTTP led, else
    at https://host/ on port 443, where the demo listens for nothing (no HTTPS: warn). A host of the demo
    CA (`world.secure`) passes; the listener's self-signed certificate fails; no address is undecided."""
    hops = [*homepage.get("redirect_chain", ()), homepage.get("final_url") or ""]
    landed = next((hop for hop in hops if hop.startswith("https://")), None)
    if landed is None:
        address = address_of(world, host)
        return "error" if address is None or not world.allowed(address) else "warn"
    target = (urlsplit(landed).hostname or "").lower()
    if address_of(world, target) is None:
        return "error"
    return "pass" if target in world.secure else "fail"


def column_updates_truth(crawl: SiteCrawl, available: bool, today: date, url_for: Callable[..., str],
                         bounded: bool) -> dict[str, Any]:
    """columns_update / columns_blank of a site (truth.py): the navigation columns (the chrome's, the
    homepage excluded) and the `sub` children of the navigation's columns, classified by the config's
    shipped class table and dated by their items; None when the crawl is cut by max_pages (not exact)."""
    if not available:
        return {"columns_update": {"status": "error"}, "columns_blank": {"status": "error"}}
    if bounded:
        return {"columns_update": None, "columns_blank": None}
    defaults = Checks()
    classes = classes_of(defaults.model_dump())    # the config's shipped class table is the rule
    site = crawl.site
    by_path = {p.column.path: p for p in site.columns if p.where == "nav"}
    entries: list[tuple[str, str, Any]] = []       # (url, text, plan or None)
    for text, href in site.chrome.nav:
        if href == "/":
            continue
        plan = by_path.get(href) if isinstance(href, str) else None
        if plan is None:
            plan = next((p for p in site.columns if p.where == "nav" and p.href == href), None)
        entries.append((_column_url(plan, crawl, url_for) if plan else canonical(url_for(site.host, str(href))),
                        text, plan))
    for plan in [p for _, _, p in entries if p is not None]:
        entries += [(_column_url(kid, crawl, url_for), kid.column.text, kid) for kid in plan.children
                    if kid.where == "sub"]
    classes_of_url: dict[str, str] = {}
    late: list[str] = []
    long: list[str] = []
    blank: list[str] = []
    for url, text, plan in entries:
        cls = classify(text, classes)
        classes_of_url.setdefault(url, cls.id)
        if plan is None or not crawl.scope.covers(url) or url not in crawl.pages:
            continue
        days = [item.day for item in plan.items if item.day <= today]
        if not days:
            if not plan.items and not plan.children:
                blank.append(url)
            continue
        age = (today - max(days)).days
        if cls.id == OTHER and age > defaults.columns_other_max_age_days:
            long.append(url)
        elif cls.max_age_days is not None and age > cls.max_age_days:
            late.append(url)
    stale = len(late) + len(long)
    update = ("fail" if len(late) >= defaults.columns_late_veto or stale >= defaults.columns_stale_veto
              else "warn" if stale else "pass")
    blanks = "fail" if len(blank) >= defaults.columns_blank_veto else "warn" if blank else "pass"
    return {"columns_update": {"status": update, "late": sorted(late), "long": sorted(long),
                               "classes": dict(sorted(classes_of_url.items()))},
            "columns_blank": {"status": blanks, "blank": sorted(blank)}}


YEARLESS_FORMATS = frozenset({"md", "bracket"})   # list dates without a year: a future one is dropped, not seen


def dates_truth(crawl: SiteCrawl, available: bool, today: date, url_for: Callable[..., str],
                bounded: bool) -> dict[str, Any] | None:
    """dates_impossible of a site (truth.py): the items dated after today plus one day whose article was
    crawled (its 发布时间 has a year) or whose list page was, when the site's list dates have a year; the
    crawled articles whose 成文日期 is more than the shipped tolerance after their publication."""
    if not available:
        return {"status": "error"}
    if bounded:
        return None
    tolerance = Checks().dates_issued_tolerance_days
    yearly = crawl.site.chrome.date_format not in YEARLESS_FORMATS
    future: set[str] = set()
    backdated: set[str] = set()
    for plan in crawl.site.columns:
        lists = {canonical(url_for(plan.host or crawl.site.host, path)) for path in plan.list_paths}
        listed = yearly and any(url in crawl.pages for url in lists)
        for item in plan.items:
            article = canonical(url_for(plan.host or crawl.site.host, item.path))
            if not crawl.scope.covers(article):
                continue
            if (today - item.day).days < -1 and (article in crawl.pages or listed):
                future.add(article)
            if plan.column.issued is not None and plan.column.issued > tolerance and article in crawl.pages:
                backdated.add(article)
    return {"status": "warn" if future or backdated else "pass", "future": sorted(future),
            "backdated": sorted(backdated)}


def hidden_truth(crawl: SiteCrawl, available: bool, url_for: Callable[..., str], bounded: bool
                 ) -> dict[str, Any] | None:
    """links_hidden of a site (truth.py): the 暗链 of the 友情链接 pages (updatecases.friends_page) the crawl
    reads, the one its site-wide linked sheet hides included; no other demo page hides a link to another site."""
    if not available:
        return {"status": "error"}
    if bounded:
        return None
    hidden = sorted(canonical(url_for(BET_HOST, path)) for path_of_page, spec in crawl.site.pages.items()
                    if spec.body is friends_page and canonical(url_for(crawl.site.host, path_of_page)) in crawl.pages
                    for _, path, _ in HIDDEN)
    return {"status": "fail" if hidden else "pass", "hidden": sorted(set(hidden))}


def interaction_truth(crawl: SiteCrawl, available: bool, today: date, url_for: Callable[..., str],
                      bounded: bool) -> dict[str, Any] | None:
    """interaction_reply of a site (truth.py): "fail" without the 互动交流 channel; else its 留言 table
    (updatecases.MESSAGES) when the crawl read its page: the messages of the last year that waited more than
    90 days (answered late or not yet); "pass" with no messages when there is no table to read."""
    if not available:
        return {"status": "error"}
    if bounded:
        return None
    defaults = Checks()
    if not any(href == "/hdjl/" for _, href in crawl.site.chrome.nav):
        return {"status": "fail", "channel": False, "messages": 0, "late": 0}
    page = canonical(url_for(crawl.site.host, "/hdjl/"))
    listed = MESSAGES.get(crawl.site.id, ()) if page in crawl.pages else ()
    window = [(age, delay) for age, delay in listed if age <= defaults.interaction_window_days]
    late = [age for age, delay in window
            if (delay if delay is not None else age) > defaults.interaction_max_reply_days]
    return {"status": "fail" if late else "pass", "channel": True, "messages": len(window), "late": len(late)}


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:    # a malformed link kept as written
        return ""


def turned_truth(crawl: SiteCrawl, available: bool, bounded: bool) -> dict[str, Any] | None:
    """links_turned of a site (truth.py): its `a` links, on crawled pages, to the hosts that now serve a
    gambling page, a domain for sale or a parked domain (by CNAME or nameservers; updatecases.TURNED_HOSTS)."""
    if not available:
        return {"status": "error"}
    if bounded:
        return None
    turned = {link.target for page in crawl.pages.values() for link in page.links
              if link.tag == "a" and not malformed(link.href) and _host_of(link.target) in TURNED_HOSTS
              and not crawl.scope.covers(link.target)}
    return {"status": "fail" if turned else "pass", "turned": sorted(turned)}
