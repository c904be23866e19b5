"""freshness:homepage — the homepage's latest publication date (national 首页不更新 rule).

The homepage is the crawl's depth-0 page followed through its redirects: an
HTTP redirect recorded as another crawled page, or a meta refresh / script
location on a page without dates. When the homepage shows no date (navigation
only), its direct sub-pages (crawled pages it links to) are judged instead, as
the national rule does. Dates later than the snapshot's day plus one (time
zones) are ignored. On each page the date a reader sees (list rows, the
labelled header date) wins over <meta name="PubDate"> and similar, which
counts only on a page that shows no date (the metrics keep a disagreeing meta
date as meta_latest). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.snapshot import DateHit, Page, SiteSnapshot

PAGE_TAGS = frozenset({"a", "area", "iframe", "frame", "meta-refresh", "js-location"})
REDIRECT_TAGS = frozenset({"meta-refresh", "js-location"})
MAX_HOPS = 5
FUTURE_SLACK = timedelta(days=1)


def answered(page: Page) -> bool:
    """Whether the page was fetched with a 2xx."""
    return page.status is not None and 200 <= page.status < 300


def homepage_chain(snap: SiteSnapshot) -> tuple[Page, ...]:
    """The crawl's start page and the pages its redirects led to, in order; () if none was crawled."""
    starts = [p for p in snap.pages_in_order if p.depth == 0]   # reading order, not fetch order
    if not starts:
        return ()
    chain = [next((p for p in starts if p.url == snap.site.url), starts[0])]
    pages = snap.page_by_url
    while len(chain) <= MAX_HOPS:
        page = chain[-1]
        following = pages.get(page.final_url) if page.final_url != page.url else None
        if following is None and not page.dates:
            following = next((pages[link.target_url] for link in snap.links_in_order
                              if link.source_url in (page.url, page.final_url) and link.tag in REDIRECT_TAGS
                              and link.target_url in pages), None)
        if following is None or following in chain:
            break
        chain.append(following)
    return tuple(chain)


def homepage_urls(chain: tuple[Page, ...]) -> frozenset[str]:
    """Every URL under which the homepage's links were recorded."""
    return frozenset(u for p in chain for u in (p.url, p.final_url))


def subpages(snap: SiteSnapshot, chain: tuple[Page, ...]) -> tuple[Page, ...]:
    """Crawled pages the homepage links to (its 二级页面), fetched with a 2xx, by depth then URL (not the
    order they were fetched in, which varies from run to run)."""
    sources = homepage_urls(chain)
    linked = {link.target_url for link in snap.links if link.source_url in sources and link.tag in PAGE_TAGS}
    return tuple(p for p in snap.pages_in_order if p.url in linked and p not in chain and answered(p))


VISIBLE = frozenset({"list-item", "header"})


def shown_dates(page: Page, today: date) -> list[DateHit]:
    """The dates a page is judged by: what a reader sees (list rows, the labelled header date) when it
    shows any, else its meta tags (PubDate…), else its text; never after today (plus the time-zone slack).
    A meta date stays recorded on the page (and in the metrics) when the visible one disagrees."""
    valid = [hit for hit in page.dates if hit.date <= today + FUTURE_SLACK]
    for wanted in (VISIBLE, frozenset({"meta"})):
        chosen = [hit for hit in valid if hit.source in wanted]
        if chosen:
            return chosen
    return valid


def _dated(pages: tuple[Page, ...], today: date) -> list[tuple[Page, DateHit]]:
    return [(p, hit) for p in pages for hit in shown_dates(p, today)]


FRESHNESS_METRICS = {
    "latest": M("最近更新日期", "Latest update"),
    "age_days": M("距今天数", "Age (days)", help=T(zh="最近一次更新距本次巡检的天数。",
                                                 en="Days between the latest update and this run.")),
    "source": M("判断依据", "Judged by", values="words"),
    "pages_considered": M("参与判断的页面数", "Pages considered"),
    "max_age_days": M("最长允许天数", "Allowed age (days)"),
    "date_source": M("日期来源", "Date taken from", values="words"),
    "meta_latest": M("页面元数据中的日期", "Date in the page's meta tags"),
    "url": M("首页地址", "Homepage URL"),
}
FRESHNESS_WORDS = {
    "homepage": T(zh="首页", en="the homepage"), "subpages": T(zh="二级页面", en="its sub-pages"),
    "list-item": T(zh="列表条目日期", en="a list item's date"), "header": T(zh="正文标注的发布日期", en="the labelled header date"),
    "meta": T(zh="页面元数据", en="the page's meta tags"), "text": T(zh="正文中的日期", en="a date in the text"),
}


@check(
    id="freshness:homepage",
    title=T(zh="首页更新", en="Homepage is updated"),
    failure_title=T(zh="首页不更新", en="Homepage not updated"),
    description=T(
        zh="首页最新信息的发布日期不得早于 14 天前（可配置 homepage_max_age_days）。首页仅为栏目导航入口、"
           "没有日期时，按首页直接链接的二级页面中最新的日期判断。晚于检查日的日期不计；首页与二级页面都"
           "未注明发布日期时视为不更新。",
        en="The newest dated item on the homepage must be at most 14 days old (homepage_max_age_days). When "
           "the homepage is navigation only and shows no date, the newest date on the pages it links to "
           "directly (its sub-pages) is judged. Dates after the inspection day are ignored; no date on "
           "the homepage or its sub-pages counts as not updated, as the national rule says."),
    basis="国家政府网站检查指标：首页不更新（监测 2 周首页无信息更新，单项否决）",
    severity=Severity.VETO,
    needs={"crawl"},
    metrics=FRESHNESS_METRICS, words=FRESHNESS_WORDS,
    details={"latest": T(zh="最新日期 {date}", en="Latest date {date}")},
    messages={
        "fresh": T(zh="首页最近更新于 {latest}（{age_days} 天前）", en="Homepage last updated on {latest} ({age_days} days ago)"),
        "stale": T(zh="首页已 {age_days} 天未更新（最近一次 {latest}，上限 {max_age_days} 天）",
                   en="Homepage not updated for {age_days} days (last on {latest}, limit {max_age_days} days)"),
        "fresh_subpages": T(zh="首页没有日期（仅为导航），按 {pages} 个二级页面判断：最近更新于 {latest}（{age_days} 天前）",
                            en="The homepage shows no date (navigation only); judged by its {pages} sub-pages: "
                               "last updated on {latest} ({age_days} days ago)"),
        "stale_subpages": T(zh="首页没有日期（仅为导航），{pages} 个二级页面已 {age_days} 天未更新（最近一次 {latest}，"
                               "上限 {max_age_days} 天）",
                            en="The homepage shows no date (navigation only) and its {pages} sub-pages were not "
                               "updated for {age_days} days (last on {latest}, limit {max_age_days} days)"),
        "no_homepage": T(zh="未采集到首页，无法判断更新情况", en="The homepage was not crawled; cannot decide"),
        "homepage_failed": T(zh="首页未能正常获取（{kind}），无法判断更新情况",
                             en="The homepage could not be fetched ({kind}); cannot decide"),
        "no_dates": T(zh="首页及其 {pages} 个二级页面上均未注明发布日期，视为不更新",
                      en="No publication date on the homepage or its {pages} sub-pages; counted as not updated"),
    },
)
def freshness_homepage(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    max_age = int(params.get("homepage_max_age_days", 14))
    chain = homepage_chain(snap)
    if not chain:
        return Verdict(Status.ERROR, "no_homepage")
    home = chain[-1]
    if not answered(home):
        kind = home.fetch_kind + (f" {home.status}" if home.status is not None else "")
        return Verdict(Status.ERROR, "homepage_failed", {"kind": kind}, {"url": home.url})
    today = snap.taken_at.date()
    source, considered = "homepage", chain
    hits = _dated(chain, today)
    if not hits:
        source, considered = "subpages", subpages(snap, chain)
        hits = _dated(considered, today)
        if not hits:
            # The national rule: content without a publication date counts as not updated.
            return Verdict(Status.FAIL, "no_dates", {"pages": len(considered)},
                           {"source": source, "pages_considered": len(considered)})
    page, hit = max(hits, key=lambda found: found[1].date)
    age = max((today - hit.date).days, 0)
    metrics = {"latest": hit.date.isoformat(), "age_days": age, "source": source,
               "pages_considered": len(considered), "max_age_days": max_age, "date_source": hit.source}
    meta = max((h.date for h in page.dates if h.source == "meta" and h.date <= today + FUTURE_SLACK), default=None)
    if meta is not None and meta != hit.date:
        metrics["meta_latest"] = meta.isoformat()   # the page's <meta> date, which the visible date overrides
    evidence = (Evidence(url=page.url, detail=hit.date.isoformat(), text=hit.snippet or None, key="latest",
                         params={"date": hit.date.isoformat()}),)
    stale = age > max_age
    key = ("stale" if stale else "fresh") + ("_subpages" if source == "subpages" else "")
    fill = {"latest": hit.date.isoformat(), "age_days": age, "max_age_days": max_age, "pages": len(considered)}
    return Verdict(Status.FAIL if stale else Status.PASS, key, fill, metrics, evidence)
