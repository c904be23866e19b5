"""Ground truth of the demo web, derived from the same specs that serve it.

`build_truth` walks every URL through the zone and the page specs the way the
fetch layer must (`walk.py`), crawls every listed site in memory the way a
correct crawl does (`crawlmodel.py`) and records the verdicts the checks must
reach (`verdicts.py`), as plain JSON-ready data. Pure; it never touches a socket.

Format (`schema` "govmon.demo-truth/1"; keys are only ever added). Every URL is
in the form the tool records: absolute, lower-case host, the demo's port kept
(it is not a default port), path "/" when empty, query as served, no fragment.
Other schemes (mailto:, tel:, javascript:, data:) and malformed links (`http:/x`, `http://`, a bad
host or port, `file:`) appear as written.

    today, ipv6, ports{dns,http,https,tls_faults}
                                          the run's facts (https: the HTTPS listener, self-signed but
                                          for the `https` sites' hosts, whose certificate the demo CA signed;
                                          tls_faults: host → port of the stalling and garbage listeners)
    crawl                                 the [crawl] table written to the demo config
    freshness_max_age_days                14 (SPEC freshness:homepage)
    dns[name][A|AAAA|CNAME|NS]            {kind, addresses, cname_chain}: what monitor.resolver answers
    targets[url]                          {kind, status, dead}: every http(s) link target of the listed
                                          sites (robots refusals excluded); kind is the FetchKind a link
                                          checker must give, "soft_404" included
    shared_dead                           [{target, kind, sites}] dead targets linked from several sites:
                                          each must be requested once per run, not once per site
    issue4_todo                           column cases issue 4 still has to add
    sites[id]                             one entry per demo host:
      host url name kind level listed case
      availability                        "pass" | "fail" (homepage outcome after retries)
      homepage, homepage_v4, homepage_v6  {kind, status, final_url, redirect_chain, address, dns_kind}
      https                               expected `https` status: "pass" (HTTP leads to HTTPS with the demo
                                          CA's certificate: the sites marked https, the model one),
                                          "fail" (it leads to the self-signed listener), "warn" (no HTTPS:
                                          port 443, where nothing of the demo listens), "error" (no address)
    and for listed sites only:
      crawl                               {max_depth, max_pages, timeout_s, max_links_per_page} in force
                                          for the site
      pages                               distinct in-scope (checks.scope: every host of the site) 2xx
                                          HTML pages a correct crawl fetches (by
                                          final URL: an HTTP redirect is no page; a meta-refresh or JS
                                          redirect page is, and its target keeps its depth; so is a
                                          soft-404 page answering 200); None if not exact
      min_pages, max_pages                bounds: trap pages within max_depth may or may not be fetched
                                          (min leaves them out, max takes all); both capped by max_pages
      page_urls                           pages every correct crawl fetches (for a site stopped by
                                          max_pages: the homepage only)
      page_latest[url]                    newest publication date on each page (ISO; None when none),
                                          clocks, copyright years and future dates left out
      dead_links                          sorted [{source, target, kind, status, tag, text}] (source =
                                          the page's final URL; status = final HTTP status or None;
                                          tag: one of spiders.extract.TAGS; text: visible text, img alt;
                                          a malformed link's target is its href as written, kind
                                          "malformed", status None)
      links_dead                          expected links:dead status: "pass" | "warn" | "fail" | "error" (no homepage);
                                          warn = 1-5 dead targets, none on the homepage
      not_dead                            targets on the site that must never be reported dead: flaky,
                                          redirected, other hosts, 429/412, too large, IPv6 literal,
                                          fragments, robots refusals, mailto:/tel:/javascript:
      blocked, rate_limited               targets answering a 412 JS challenge / 429
      over_limit                          targets past the site's max_links_per_page: never requested,
                                          never dead, counted as not checked
      robots_disallowed                   in-scope URLs robots.txt refuses: never requested at all
      traps                               real pages whose links start an endless URL sequence; every
                                          trap URL starts with its entry's path
      trap_cuts                           in-scope links every correct crawl cuts as traps (a calendar
                                          counter out of range, a date path outside the archive window, a
                                          list page past its 尾页; crawlmodel.trap_cut): never crawled
      homepage_latest                     the date freshness:homepage judges by (ISO or None)
      freshness                           "pass" | "fail" | "error" (homepage not crawled)
      freshness_source                    "homepage" | "subpages" (homepage without dates) | None
      columns[requirement id]             for each demo requirement that applies to the site:
                                          {status: "pass"|"warn"|"fail"|"error", url: column URL|None,
                                          reason: None|"missing"|"empty"|"stale"|"late"|"unavailable",
                                                                                    text, where: nav|sub|topic|iframe|home|host (a host outside
                                          the site's scope), items, latest}
      requirements["<type>:<id>"]         for each demo requirement of type link, document or pairing that
                                          applies to the site (monitor/demo/dutycases.py): {status, reason}
                                          and link: {url, text, source} (reason None|"missing"|"dead");
                                          document: {year, due, url, published} (None|"missing"|"late",
                                          late warns); pairing: {examined, paired, unpaired} (sorted
                                          document URLs; None|"no_column"|"low"); "unavailable" → error
      columns_update                      columns:update (issue 17): {status, late: [column URL], long: [URL],
                                          classes: {URL: class id}} over the navigation's columns and their
                                          `sub` children, by the shipped class table; {status: "error"} without
                                          a homepage; None for a site cut by max_pages (not exact)
      columns_blank                       columns:blank: {status, blank: [URL]} (a column without items or
                                          children: 暂无信息); the same error and None cases
      dates_impossible                    dates:impossible: {status, future: [item URL], backdated: [article
                                          URL]} (items dated after today + 1 day, seen in a crawled list with
                                          a year or on their crawled article; articles whose 成文日期 is more
                                          than the tolerance after their publication); error / None as above
      links_hidden                        links:hidden: {status, hidden: [target URL]} (the 暗链 of the crawled
                                          友情链接 pages of updatecases.py); error / None as above
      interaction_reply                   interaction:reply: {status, channel, messages, late}: fail without
                                          the 互动交流 channel; else the 留言 of the last year on its crawled
                                          page (updatecases.MESSAGES) that waited over 90 days; error / None
      links_turned                        links:turned: {status, turned: [target URL]}: the `a` links of crawled
                                          pages to the hosts now serving gambling, a domain for sale or a parked domain
                                          (updatecases.TURNED_HOSTS); error / None as above
      footer                              on the footer case sites only (footercases.py): {status:
                                          "pass"|"warn"|"error", items{site_code,icp,police,finderr,badge}
                                          ("" when missing), forms{item: how it is found}}
      charset_lies                        [{url, declared, used}] crawled pages whose declared charset is
                                          not their encoding (used: the one that decodes them)
      content                             {privacy, wording: "pass"|"warn"|"fail"|"error" (no page crawled),
                                          findings: sorted by page [{url, check, kind (id_card|mobile|
                                          bank_card|wording), masked (the number masked, or the wrong form),
                                          count, and for wording right, severity}]} (screencases.py; every
                                          page but its case pages publishes none)

The homepage is the page the start URL lands on after HTTP, meta-refresh and
JS redirects. A site whose crawl max_pages stops carries dead links on its
homepage only, so its link truth does not depend on crawl order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from monitor.demo.crawlmodel import SiteCrawl, crawl
from monitor.demo.dutycases import duty_truth
from monitor.demo.faultcases import FAULT_KINDS
from monitor.demo.footercases import charset_lie, footer_truth
from monitor.demo.ipv6cases import over_ipv6
from monitor.demo.screencases import content_truth
from monitor.demo.spec import DemoSite, DnsSpec, ExpectEnv, UrlFor
from monitor.demo.verdicts import (
    FRESHNESS_MAX_AGE_DAYS,
    applies,
    column_updates_truth,
    columns_truth,
    dates_truth,
    hidden_truth,
    interaction_truth,
    turned_truth,
    freshness_truth,
    https_truth,
    links_truth,
)
from monitor.demo.walk import Walk, World, expect_fetch, walk
from monitor.demo.zone import expected_answer, is_ip_literal, normalise
from monitor.outcomes import FetchKind
from monitor.config import Crawl

SCHEMA = "govmon.demo-truth/1"
RTYPES = ("A", "AAAA", "CNAME", "NS")
UNBOUNDED = 10**6
ISSUE4_TODO: tuple[str, ...] = ()
"""The column cases of issue 4 the catalogue does not place yet (the placements exist in columns.py)."""


def _env(crawl_cfg: Mapping[str, Any], url: UrlFor, timeout_s: float | None = None) -> ExpectEnv:
    return ExpectEnv(int(crawl_cfg["retries"]), float(timeout_s or crawl_cfg["timeout_s"]),
                     int(crawl_cfg["max_response_bytes"]), url)


def _bounds(site: DemoSite, crawl_cfg: Mapping[str, Any]) -> dict[str, Any]:
    per_page = crawl_cfg.get("max_links_per_page", Crawl.model_fields["max_links_per_page"].default)
    return {"max_depth": int(site.max_depth or crawl_cfg["max_depth"]),
            "max_pages": int(site.max_pages or crawl_cfg["max_pages"]),
            "timeout_s": float(site.timeout_s or crawl_cfg["timeout_s"]),
            "max_links_per_page": int(site.max_links_per_page or per_page)}


def model_crawls(world: World, site: DemoSite, crawl_cfg: Mapping[str, Any], today: date, url: UrlFor,
                 order: str = "bfs") -> tuple[SiteCrawl, SiteCrawl]:
    """(without trap pages, with them), both unbounded by max_pages."""
    bounds = _bounds(site, crawl_cfg)
    env = _env(crawl_cfg, url, site.timeout_s)
    common = {"today": today, "url_for": url, "max_depth": bounds["max_depth"], "max_pages": UNBOUNDED,
              "order": order, "obey_robots": bool(crawl_cfg["obey_robots"])}
    return (crawl(world, site, env, skip_traps=True, **common), crawl(world, site, env, **common))


LINKS_DEAD_MINOR_MAX = 5   # the [checks] default: up to this many dead targets off the homepage warn


def links_verdict(dead_links: Sequence[Mapping[str, Any]], homepage: str | None, available: bool) -> str:
    """The expected links:dead status: any dead link on the homepage, or more than a few, fails."""
    if not available:
        return "error"
    if not dead_links:
        return "pass"
    on_home = any(d["source"] == homepage for d in dead_links)
    many = len({d["target"] for d in dead_links}) > LINKS_DEAD_MINOR_MAX
    return "fail" if on_home or many else "warn"


def site_crawl_truth(world: World, site: DemoSite, crawl_cfg: Mapping[str, Any], today: date, url: UrlFor,
                     fate: Callable[[str], Walk], requirements: Sequence[Mapping[str, Any]],
                     available: bool) -> dict[str, Any]:
    bounds = _bounds(site, crawl_cfg)
    lean, full = model_crawls(world, site, crawl_cfg, today, url)
    cap = bounds["max_pages"]
    low, high = min(cap, len(lean.pages)), min(cap, len(full.pages))
    bounded = len(lean.pages) > cap
    counted = [lean.pages[lean.home]] if bounded and lean.home else list(lean.pages.values())
    links = links_truth(lean, counted, fate, bounds["max_links_per_page"])
    return {
        "crawl": bounds, "pages": low if low == high else None, "min_pages": low, "max_pages": high,
        "page_urls": sorted(page.url for page in counted),
        "page_latest": {u: (d.isoformat() if (d := p.latest(today)) else None) for u, p in sorted(lean.pages.items())},
        **links,
        "links_dead": links_verdict(links["dead_links"], lean.pages[lean.home].url if lean.home else None,
                                    available),
        "robots_disallowed": sorted(set(lean.robots)),
        "traps": sorted(u for u, p in full.pages.items() if p.trap == "entry"),
        "trap_cuts": sorted(lean.cuts),
        **freshness_truth(lean, today),
        "columns": columns_truth(requirements, lean, available, today, served_url(world, url)),
        "requirements": duty_truth([r for r in requirements if applies(r, site.kind, site.level)], lean, available,
                                   today, served_url(world, url), fate, frozenset(links["over_limit"])),
        **column_updates_truth(lean, available, today, served_url(world, url), bounded),
        "dates_impossible": dates_truth(lean, available, today, served_url(world, url), bounded),
        "links_hidden": hidden_truth(lean, available, served_url(world, url), bounded),
        "interaction_reply": interaction_truth(lean, available, today, served_url(world, url), bounded),
        "links_turned": turned_truth(lean, available, bounded),
        **({"footer": footer} if (footer := footer_truth(site, lean.home if available else None, url)) else {}),
        "charset_lies": charset_lies(site, lean),
        "content": content_truth(site.id, {u: _path_on(site, u) for u in lean.pages}, available),
    }


def _path_on(site: DemoSite, page_url: str) -> str:
    """The page's path when it is on the site's own host, else ""."""
    parts = urlsplit(page_url)
    return (parts.path or "/") if normalise(parts.hostname or "") == normalise(site.host) else ""


def served_url(world: World, url: UrlFor) -> UrlFor:
    """`url`, but over HTTPS for a host of the demo CA: where its pages are served (plain HTTP redirects)."""

    def served(host: str, path: str = "/", *, scheme: str = "http") -> str:
        return url(host, path, scheme="https" if normalise(host) in world.secure else scheme)

    return served


def charset_lies(site: DemoSite, lean: SiteCrawl) -> list[dict[str, str]]:
    """The crawled pages whose declared charset is not their encoding: {url, declared, used}."""
    lies = []
    for page_url in sorted(lean.pages):
        parts = urlsplit(page_url)
        spec = site.page_for(parts.path or "/") if normalise(parts.hostname or "") == normalise(site.host) else None
        lie = charset_lie(spec) if spec is not None else None
        if lie is not None:
            lies.append({"url": page_url, "declared": lie[0], "used": lie[1]})
    return lies


def _shared(site_truth: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Dead targets linked from more than one site."""
    kinds: dict[str, str] = {}
    linked_from: dict[str, set[str]] = {}
    for site_id, entry in site_truth.items():
        for link in entry.get("dead_links", ()):
            linked_from.setdefault(link["target"], set()).add(site_id)
            kinds[link["target"]] = link["kind"]
    return [{"target": t, "kind": kinds[t], "sites": sorted(s)} for t, s in sorted(linked_from.items()) if len(s) > 1]


def build_truth(sites: Sequence[DemoSite], zone: Mapping[str, DnsSpec], *, url: UrlFor, ipv6: bool,
                crawl: Mapping[str, Any], today: date, requirements: Sequence[Mapping[str, Any]] = (),
                extra_names: Sequence[str] = (), meta: Mapping[str, Any] | None = None,
                secure: Sequence[str] = ()) -> dict[str, Any]:
    """The truth document (see the module docstring). `crawl` is the demo config's [crawl] table;
    `secure` the hosts on HTTPS with a certificate the config's ca_bundle trusts."""
    world = World(zone, {normalise(site.host): site for site in sites}, ipv6, tuple(crawl["allowed_networks"]),
                  FAULT_KINDS, frozenset(secure))
    link_env = _env(crawl, url)
    fates: dict[str, Walk] = {}

    def fate(target: str) -> Walk:
        if target not in fates:
            fates[target] = walk(world, target, link_env)
        return fates[target]

    site_truth: dict[str, Any] = {}
    for site in sites:
        env = _env(crawl, url, site.timeout_s)
        home_url = url(site.host, "/")
        homepage = expect_fetch(world, home_url, env)
        available = homepage["kind"] == FetchKind.OK
        entry = site_truth[site.id] = {
            "host": site.host, "url": home_url, "name": site.name, "kind": site.kind, "level": site.level,
            "listed": site.listed, "case": site.case,
            "availability": "pass" if available else "fail",
            "homepage": homepage,
            "homepage_v4": expect_fetch(world, home_url, env, 4),
            "homepage_v6": over_ipv6(site, expect_fetch(world, home_url, env, 6)),
            "https": https_truth(world, site.host, homepage),
        }
        if site.listed:
            entry.update(site_crawl_truth(world, site, crawl, today, url, fate, requirements, available))
    targets = {t: {"kind": str(w.link_kind), "status": w.status, "dead": w.dead} for t, w in sorted(fates.items())}
    shared = _shared(site_truth)
    names = sorted({normalise(site.host) for site in sites if not is_ip_literal(site.host)} | set(zone)
                   | {normalise(n) for n in extra_names})
    dns = {name: {rtype: expected_answer(zone, name, rtype) for rtype in RTYPES} for name in names}
    return {"schema": SCHEMA, **(meta or {}), "crawl": dict(crawl), "freshness_max_age_days": FRESHNESS_MAX_AGE_DAYS,
            "sites": site_truth, "dns": dns, "targets": targets, "shared_dead": shared,
            "issue4_todo": list(ISSUE4_TODO)}
