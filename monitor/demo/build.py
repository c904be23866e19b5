"""From a declarative `SitePlan` (columns, homepage style, placed links, overrides)
to a served `DemoSite`: every page of the site, and the pages its columns place
on other hosts. Pure data built for a given `today`; no I/O.

Placed links (`SitePlan.extras`) are keyed by page path, or by
"article:<column path>:<n>" for the n-th item (1-based) of a column, so a case
can sit on a deep page without knowing its dated path; a placed link's href
may name an item the same way (a 解读 linking back to its document).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from monitor.demo import cmspages, content
from monitor.demo.columns import PNG, Column, ColumnPlan, column_pages, plan_columns
from monitor.demo.markup import region_of
from monitor.demo.spec import Chrome, DemoSite, DnsSpec, Href, LinkSpec, PageContext, PageSpec, Route

SITE_CSS = "body{font-family:'Microsoft YaHei',SimSun,sans-serif;margin:0}.nav li{display:inline-block}\n"
SITE_JS = "(function(){var d=document;d.documentElement.className+=' js';})();\n"
HOME_INDEX = "/index.shtml"


@dataclass(frozen=True)
class SitePlan:
    """One government site, declared. `home` is "portal" (news blocks), "nav-only" (tiles, no
    dates) or "js" ("/" is a JavaScript redirect to /index.shtml, the portal homepage).
    `home_fields` are PageSpec fields replaced on "/" (a behaviour, a delay, a status)."""

    id: str
    host: str
    name: str
    kind: str
    level: str
    code: str
    columns: tuple[Column, ...]
    case: str = "healthy"
    home: str = "portal"
    home_fields: Mapping[str, Any] = field(default_factory=dict)
    dns: DnsSpec = field(default_factory=DnsSpec)
    encoding: str = "utf-8"
    declare: str = "both"
    date_format: str = "iso"
    clock: bool = False
    copyright_since: int | None = None
    groups: tuple[content.LinkGroup, ...] = ()
    banners: tuple[tuple[str, Href], ...] = ()
    extras: Mapping[str, tuple[LinkSpec, ...]] = field(default_factory=dict)
    pages: Mapping[str, PageSpec] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    service_links: tuple[tuple[str, Href], ...] = ()   # on the 办事服务 page
    robots: str | None = None
    timeout_s: float | None = None
    max_pages: int | None = None
    max_depth: int | None = None
    listed: bool = True
    footer: Callable[[PageContext], str] | None = None   # the site's own footer (see footercases)
    footer_after_html: bool = False
    pubdate: int | None = None         # every page carries <meta name="PubDate"> of this many days ago
    extra_hosts: tuple[str, ...] = ()
    scope: str = "site"
    max_links_per_page: int | None = None
    https: bool = False    # served over HTTPS with the demo CA's certificate; plain HTTP answers 301 there
    channel: bool = True   # the 互动交流 column (/hdjl/, an online consultation channel) in the navigation


@dataclass(frozen=True)
class Built:
    site: DemoSite
    foreign: Mapping[str, Mapping[str, PageSpec]]     # host -> path -> page, for columns on other hosts


def _article(key: str, plans: tuple[ColumnPlan, ...]) -> str:
    """The path of "article:<column path>:<n>", the n-th item (1-based) of that column."""
    _, column_path, number = key.split(":")
    plan = next(p for p in plans if p.column.path == column_path)
    return plan.items[int(number) - 1].path


def _resolve_extras(extras: Mapping[str, tuple[LinkSpec, ...]], plans: tuple[ColumnPlan, ...]
                    ) -> dict[str, tuple[LinkSpec, ...]]:
    """Placed links by page path; a key or an href "article:<column path>:<n>" names a column's item."""
    resolved: dict[str, tuple[LinkSpec, ...]] = {}
    for key, links in extras.items():
        if key.startswith("article:"):
            key = _article(key, plans)
        links = tuple(replace(link, href=_article(link.href, plans)) if isinstance(link.href, str)
                      and link.href.startswith("article:") else link for link in links)
        resolved[key] = resolved.get(key, ()) + links
    return resolved


def _chrome(plan: SitePlan, plans: tuple[ColumnPlan, ...], extras: dict[str, tuple[LinkSpec, ...]]) -> Chrome:
    nav: list[tuple[str, Href]] = [("首页", "/")]
    nav += [(p.column.text, p.href) for p in plans if p.where == "nav"]
    nav += [("互动交流", "/hdjl/")] if plan.channel else []
    nav += [("办事服务", "/bsfw/")]
    return Chrome(tuple(nav), plan.date_format, plan.clock, plan.copyright_since, True, extras, plan.footer,
                  plan.footer_after_html, plan.pubdate)


def _homepages(plan: SitePlan, plans: tuple[ColumnPlan, ...]) -> dict[str, PageSpec]:
    iframe_plans = [p for p in plans if p.where == "iframe"]
    home = content.Home(
        blocks=tuple(p for p in plans if p.column.home or p.where == "home"),
        banners=tuple(p for p in plans if p.column.banner),
        extra_banners=plan.banners,
        groups=plan.groups,
        iframe="/include/lmdh.html" if iframe_plans else None,
    )
    pages: dict[str, PageSpec] = {}
    if iframe_plans:
        pages["/include/lmdh.html"] = PageSpec(body=content.iframe_nav(iframe_plans))
    body = content.nav_only_home(home) if plan.home == "nav-only" else content.portal_home(home)
    if plan.home == "js":
        pages["/"] = PageSpec(body=content.js_redirect(HOME_INDEX))
        pages[HOME_INDEX] = PageSpec(body=body)
    else:
        pages["/"] = PageSpec(body=body)
        pages["/index.html"] = PageSpec(body=body)
    return pages


def _standard(plan: SitePlan, plans: tuple[ColumnPlan, ...]) -> dict[str, PageSpec]:
    pages = {
        "/hdjl/": PageSpec(body=content.text_page("互动交流", [
            "领导信箱：欢迎通过本栏目向{org}反映问题、提出建议。", "在线访谈、意见征集和“12345”热线办理情况在此公开。"])),
        "/bsfw/": PageSpec(body=content.text_page("办事服务", ["{org}政务服务事项已全部接入辽宁政务服务网。"],
                                                  plan.service_links)),
        "/wzdt/": PageSpec(body=content.sitemap_page(plans)),
        "/lxwm/": PageSpec(body=content.contact_page),
        "/css/style.css": PageSpec(body=SITE_CSS, content_type="text/css", declare="none"),
        "/js/common.js": PageSpec(body=SITE_JS, content_type="application/javascript", declare="none"),
        "/images/logo.png": PageSpec(body=PNG, content_type="image/png", declare="none"),
    }
    if not plan.channel:
        del pages["/hdjl/"]
    if plan.robots is not None:
        pages["/robots.txt"] = PageSpec(body=plan.robots, content_type="text/plain", declare="none")
    return pages


def _encode(page: PageSpec, encoding: str, declare: str) -> PageSpec:
    """HTML pages take the site's encoding unless they carry their own (a legacy GBK page)."""
    if not page.html or page.encoding != "utf-8" or page.declare != "both":
        return page
    return replace(page, encoding=encoding, declare=declare)


def build_site(plan: SitePlan, today: date) -> Built:
    plans = plan_columns(plan.columns, plan.name, region_of(plan.name), today)
    extras = _resolve_extras(plan.extras, plans)
    pages: dict[str, PageSpec] = {}
    foreign: dict[str, dict[str, PageSpec]] = {}
    pages.update(_homepages(plan, plans))
    pages.update(_standard(plan, plans))
    for column in plans:
        served = column_pages(column, lambda p, n: content.list_page(p, n, plans), content.article_page)
        (foreign.setdefault(column.host, {}) if column.host else pages).update(served)
    if any(column.column.cms == "hanweb" for column in plans):
        pages[cmspages.DATAPROXY] = PageSpec(body=cmspages.dataproxy(plans), content_type="text/xml")
    pages.update(plan.pages)
    if plan.home_fields:
        pages["/"] = replace(pages["/"], **plan.home_fields)
    pages = {path: _encode(page, plan.encoding, plan.declare) for path, page in pages.items()}
    not_found = PageSpec(status=404, body=content.NOT_FOUND_PLAIN, encoding=plan.encoding, declare="none")
    site = DemoSite(plan.id, plan.host, plan.name, plan.kind, plan.level, pages, plan.dns, listed=plan.listed,
                    timeout_s=plan.timeout_s, case=plan.case, site_code=plan.code, not_found=not_found,
                    routes=plan.routes, chrome=_chrome(plan, plans, extras), columns=plans,
                    max_pages=plan.max_pages, max_depth=plan.max_depth, extra_hosts=plan.extra_hosts,
                    scope=plan.scope, max_links_per_page=plan.max_links_per_page, https=plan.https)
    return Built(site, foreign)
