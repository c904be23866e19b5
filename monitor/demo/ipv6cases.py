"""The IPv6 cases of issue 5 on the demo web, and the IPv6/HTTPS verdicts every listed site must get.

Cases placed here: a portal-style site (南票区) whose 信息公开 subdomain has no
AAAA, so its secondary-link ratio is a known fraction; a site whose IPv6
listener answers with a default server page; a site whose homepage resets
IPv6 connections. The other classes live on existing sites: no AAAA (龙城区,
市商务局), a CNAME chain to the serving host (北票市), working IPv6 (the rest).

`ipv6_truth` derives the expected ipv6:dns, ipv6:homepage, ipv6:links and
https verdicts from the zone and the crawl model (the same sources as the rest
of the truth), with its own reading of the link tiers. Pure except the
behaviour, which runs inside the demo web's server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urlsplit
from urllib.robotparser import RobotFileParser

from checks.scope import SiteScope
from monitor.demo.build import SitePlan
from monitor.demo.columns import Column
from monitor.demo.configfile import DEMO_CRAWL
from monitor.demo.spec import (
    DemoSite,
    DnsSpec,
    Exchange,
    Expect,
    ExpectEnv,
    LinkSpec,
    PageSpec,
    Ref,
    Reset,
)
from monitor.demo.walk import World, walk
from monitor.demo.zone import expected_answer, normalise
from monitor.outcomes import FetchKind

if TYPE_CHECKING:
    from aiohttp import web as aioweb

    from monitor.demo.web import DemoWeb

PORTAL = "www.nanpiao.gov.test"
XXGK = "xxgk.nanpiao.gov.test"
V6_DEFAULT_PAGE = "tjj.chaoyang.gov.test"
V6_RESET = "sfj.chaoyang.gov.test"
NGINX_PAGE = "<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>"
TIER_TAGS = frozenset({"a", "area", "iframe", "frame"})
DNS_FAIL = frozenset({"no_answer", "nxdomain", "servfail", "refused", "cname_loop"})


@dataclass(frozen=True)
class OverIpv6:
    """Over IPv6 only: a default server page, or (reset=True) a TCP reset. IPv4 is served as usual."""

    reset: bool = False

    async def respond(self, exchange: Exchange) -> aioweb.StreamResponse | None:
        from aiohttp import web as aioweb

        sockname = exchange.request.transport.get_extra_info("sockname") if exchange.request.transport else None
        if not sockname or len(sockname) != 4:       # an IPv4 socket name is (host, port)
            return exchange.render()
        if self.reset:
            await Reset().respond(exchange)
            return None
        return aioweb.Response(text=NGINX_PAGE, content_type="text/html")

    def expect(self, page: PageSpec, env: ExpectEnv) -> Expect:
        # What the crawl and link checks see: they fetch over IPv4 first.
        return replace(page, behaviour=None).expect(env)


def over_ipv6(site: DemoSite, expected: dict[str, Any]) -> dict[str, Any]:
    """The truth's homepage_v6 entry as an `OverIpv6` reset changes it (the walk reads IPv4 behaviour)."""
    page = site.page_for("/")
    behaviour = page.behaviour if page is not None else None
    if expected["kind"] == str(FetchKind.OK) and isinstance(behaviour, OverIpv6) and behaviour.reset:
        return {**expected, "kind": str(FetchKind.RESET), "status": None}
    return expected


def _columns(lag: int) -> tuple[Column, ...]:
    zwgk = (Column("通知公告", "/zwgk/tzgg/", (lag + 1, lag + 9), home=3),
            Column("政策文件", "/zwgk/zcwj/", (lag + 5, lag + 40), titles="zcwj"))
    return (Column("工作动态", "/gzdt/", (lag, lag + 3, lag + 7), home=3, titles="xwdt"),
            Column("政务公开", "/zwgk/", children=zwgk))


def ipv6_case_plans(today: date) -> tuple[SitePlan, ...]:
    """The listed IPv6 case sites and the unlisted 信息公开 subdomain."""
    xxgk_links = (LinkSpec("a", Ref(XXGK, "/"), "信息公开"), LinkSpec("a", Ref(XXGK, "/gzdt/"), "信息公开动态"),
                  LinkSpec("a", Ref(XXGK, "/zwgk/"), "法定主动公开内容"))
    return (
        SitePlan("nanpiao-yshj", PORTAL, "南票区营商环境建设局", "business_environment", "county", "2114040001",
                 _columns(1), case="issue 5: the 信息公开 subdomain has no AAAA (a known secondary IPv6 ratio)",
                 extras={"/": xxgk_links}),
        SitePlan("nanpiao-xxgk", XXGK, "南票区政府信息公开", "business_environment", "county", "2114040002",
                 _columns(2), case="issue 5: 信息公开 subdomain, IPv4 only", dns=DnsSpec.v4_only(), listed=False),
        SitePlan("chaoyang-tjj", V6_DEFAULT_PAGE, "朝阳市统计局", "business_environment", "city", "2113000201",
                 _columns(1), case="issue 5: IPv6 answers with a default server page",
                 home_fields={"behaviour": OverIpv6()}),
        SitePlan("chaoyang-sfj", V6_RESET, "朝阳市司法局", "business_environment", "city", "2113000202",
                 _columns(2), case="issue 5: AAAA, but IPv6 connections to the homepage are reset",
                 home_fields={"behaviour": OverIpv6(reset=True)}),
    )


def _targets(links: Any, skip: set[str], scope: SiteScope) -> list[str]:
    found = []
    for link in links:
        url = urldefrag(link.target).url
        if link.tag in TIER_TAGS and url.startswith(("http://", "https://")) and url not in skip \
                and scope.covers(url):
            skip.add(url)
            found.append(url)
    return found


def _robots_refuse(world: World, url: str) -> bool:
    """Whether the target host's robots.txt refuses `url` to the demo's crawler (never requested)."""
    site = world.sites.get(normalise(urlsplit(url).hostname or ""))
    page = site.pages.get("/robots.txt") if site is not None else None
    if page is None or not isinstance(page.body, str) or not DEMO_CRAWL["obey_robots"]:
        return False
    rules = RobotFileParser()
    rules.parse(page.body.splitlines())
    return not rules.can_fetch(str(DEMO_CRAWL["user_agent"]), url)


def _links_truth(web: DemoWeb, world: World, site_id: str, env: ExpectEnv) -> dict[str, Any] | None:
    crawl = web.crawl_model(site_id)[0]
    if crawl.home is None or crawl.home not in crawl.pages:
        return None
    skip = {crawl.start, crawl.home}
    secondary = _targets(crawl.pages[crawl.home].links, skip, crawl.scope)
    second_pages = [crawl.pages[u] for u in secondary if u in crawl.pages]
    tertiary = _targets([link for page in second_pages for link in page.links], skip, crawl.scope)
    secondary = [u for u in secondary if not _robots_refuse(world, u)]
    tertiary = [u for u in tertiary if not _robots_refuse(world, u)]
    ok = {u for u in secondary + tertiary if walk(world, u, env, 6).kind is FetchKind.OK}
    # A crawl stopped by max_pages fetches some secondary pages and not others, in no fixed
    # order: the tertiary figures (and so the status) of such a site are not exact truth.
    bounded = len(crawl.pages) > int(web.site(site_id).max_pages or DEMO_CRAWL["max_pages"])
    return {"secondary_ok": sum(u in ok for u in secondary), "secondary_total": len(secondary),
            "tertiary_ok": sum(u in ok for u in tertiary), "tertiary_total": len(tertiary), "bounded": bounded}


def _homepage(world: World, url: str, host: str, env: ExpectEnv) -> str:
    if host == V6_DEFAULT_PAGE:
        return "warn"
    if host == V6_RESET:
        return "fail"
    v4, v6 = walk(world, url, env, 4).kind, walk(world, url, env, 6).kind
    if v6 is not FetchKind.OK:
        return "error" if v4 is not FetchKind.OK else "fail"
    return "pass"


def ipv6_truth(web: DemoWeb, thresholds: Mapping[str, float] | None = None) -> dict[str, dict[str, Any]]:
    """Site id → expected statuses of ipv6:dns, ipv6:homepage, ipv6:links (with counts) and https."""
    limits = {"ipv6_secondary_min": 0.90, "ipv6_tertiary_min": 0.85, **(thresholds or {})}
    world = web.world()
    found: dict[str, dict[str, Any]] = {}
    for site in web.sites:
        if not site.listed:
            continue
        url, host = web.url(site.host, "/"), normalise(site.host)
        env = ExpectEnv(int(DEMO_CRAWL["retries"]), float(site.timeout_s or DEMO_CRAWL["timeout_s"]),
                        int(DEMO_CRAWL["max_response_bytes"]), web.link_url)
        aaaa = expected_answer(web.zone, host, "AAAA")
        dns = "pass" if aaaa["kind"] == "ok" else "fail" if aaaa["kind"] in DNS_FAIL else "error"
        truth: dict[str, Any] = {"ipv6:dns": dns, "aaaa": aaaa["addresses"], "cname_chain": aaaa["cname_chain"],
                                 "ipv6:homepage": _homepage(world, url, host, env) if dns == "pass" else "error",
                                 "https": web.truth["sites"][site.id]["https"]}
        links = _links_truth(web, world, site.id, env)
        if links is None or not links["secondary_total"]:
            truth["ipv6:links"] = "error"
        else:
            low = links["secondary_ok"] / links["secondary_total"] < limits["ipv6_secondary_min"] or (
                links["tertiary_total"] and links["tertiary_ok"] / links["tertiary_total"] < limits["ipv6_tertiary_min"])
            truth.update(links, **{"ipv6:links": "fail" if low else "pass"})
        found[site.id] = truth
    return found
