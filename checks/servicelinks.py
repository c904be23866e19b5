"""link:<requirement id> — a required service link (12366 纳税服务平台, 12345 热线) on the
homepage or within a few clicks of it.

A link matches when its target's host is one of the requirement's `hosts` (or a
sub-domain of one), its target starts with one of its `urls` (scheme ignored), or
its text (an image's alt included) holds one of its `keywords`, normalised as the
column search does. It counts when the page holding it is at most
`max_depth - 1` clicks from the homepage (a page the homepage frames in an
iframe is part of the homepage). Whether the target works is read from what the
run already has: the crawled page, else the link check's outcome
(checks.links.LINK_DISPOSITION). Any working match passes; only dead ones fail
with the dead-link evidence; none fails.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.columns import normalise
from checks.links import Disposition, disposition
from checks.snapshot import Link, Page, RequirementInfo, SiteSnapshot

TAGS = frozenset({"a", "area"})
WHERE_ORDER = ("nav", "header", "iframe", "side", "subnav", "body", "list", "footer")
SHOWN = 10


@dataclass(frozen=True)
class Found:
    link: Link
    page: str               # the final URL of the page holding the link
    depth: int
    where: str
    block: str              # the heading of the box holding the link, when it has one
    state: str              # alive | dead | unknown
    kind: str = ""          # the dead target's outcome ("http_4xx 404")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _bare(url: str) -> str:
    return url.split("://", 1)[-1].lower()


def matches(req: RequirementInfo, link: Link) -> bool:
    """The requirement's rule for one link: its host, URL prefix or text."""
    host = _host(link.target_url)
    if any(host == h or host.endswith("." + h) for h in req.hosts):
        return True
    if any(_bare(link.target_url).startswith(_bare(u)) for u in req.urls):
        return True
    text = normalise(link.text)
    return bool(text) and any(w and w in text for w in (normalise(k) for k in req.keywords))


def _state(snap: SiteSnapshot, pages: Mapping[str, Page], url: str) -> tuple[str, str]:
    page = pages.get(url)
    if page is not None and page.status is not None and 200 <= page.status < 400:
        return "alive", ""
    target = snap.targets.get(url)
    if target is None:
        return "unknown", ""
    meaning = disposition(target.outcome)
    if meaning is Disposition.DEAD:
        return "dead", f"{target.outcome} {target.http_status}" if target.http_status else target.outcome
    return ("alive", "") if meaning in (Disposition.ALIVE, Disposition.REFUSED) else ("unknown", "")


def _found(snap: SiteSnapshot, req: RequirementInfo) -> list[Found]:
    pages = snap.page_by_any_url
    framed = {link.target_url for link in snap.links if link.tag in ("iframe", "frame")}
    found: list[Found] = []
    for link in snap.links_in_order:   # ties of the sort below keep reading order, not fetch order
        if link.tag not in TAGS or not matches(req, link):
            continue
        source = pages.get(link.source_url)
        if source is None:
            continue
        inframe = link.source_url in framed or source.url in framed
        depth = max(source.depth - 1, 0) if inframe else source.depth
        if depth > req.max_depth - 1:
            continue
        heading = next((b.heading for b in source.lists if link.block and b.key == link.block), "")
        state, kind = _state(snap, pages, link.target_url)
        found.append(Found(link, source.final_url, depth, "iframe" if inframe else link.context, heading, state,
                           kind))
    order = {"alive": 0, "unknown": 1, "dead": 2}
    return sorted(found, key=lambda f: (order[f.state], f.depth, WHERE_ORDER.index(f.where)
                                        if f.where in WHERE_ORDER else len(WHERE_ORDER)))


def _evidence(f: Found) -> Evidence:
    where = f"{f.where} “{f.block}”" if f.block else f.where
    if f.state == "dead":
        return Evidence(url=f.link.target_url, source=f.page, detail=f"dead: {f.kind}", text=f.link.text,
                        key="dead", params={"kind": f.kind, "where": f.where, "block": f.block})
    return Evidence(url=f.link.target_url, source=f.page, detail=f"where={where}; depth={f.depth}",
                    text=f.link.text, key="found", params={"where": f.where, "block": f.block, "depth": f.depth})


def judge(snap: SiteSnapshot, req: RequirementInfo) -> Verdict:
    home = next((p for p in snap.pages_in_order if p.depth == 0), None)
    if home is None or home.status is None or not 200 <= home.status < 400:
        return Verdict(Status.ERROR, "link.no_homepage", {"title": req.title})
    found = _found(snap, req)
    searched = sum(1 for p in snap.pages if p.depth <= req.max_depth - 1 and p.status is not None
                   and 200 <= p.status < 300)
    metrics: dict[str, Any] = {"pages_searched": searched, "clicks": req.max_depth, "links": len(found),
                               "dead": sum(1 for f in found if f.state == "dead")}
    if not found:
        return Verdict(Status.FAIL, "link.missing", {"title": req.title, "clicks": req.max_depth, "pages": searched},
                       metrics)
    best = found[0]
    metrics.update(url=best.link.target_url, text=best.link.text, found_on=best.page,
                   where=best.where, block=best.block, depth=best.depth)
    evidence = tuple(_evidence(f) for f in found[:SHOWN])
    params = {"title": req.title, "url": best.link.target_url, "text": best.link.text, "where": best.where,
              "page": best.page}
    if best.state == "dead":
        return Verdict(Status.FAIL, "link.dead", {**params, "kind": best.kind}, metrics, evidence)
    return Verdict(Status.PASS, "link.ok", params, metrics, evidence)


LINK_MESSAGES = {
    "link.ok": T(zh="“{title}”链接“{text}”位于{where}（{page}）", en="The “{title}” link “{text}” is in {where} ({page})"),
    "link.missing": T(zh="首页起 {clicks} 次点击内未找到“{title}”链接（已检索 {pages} 个页面）",
                      en="No “{title}” link within {clicks} clicks of the homepage ({pages} pages searched)"),
    "link.dead": T(zh="“{title}”链接打不开（{kind}）：{url}", en="The “{title}” link does not work ({kind}): {url}"),
    "link.no_homepage": T(zh="首页未能打开，无法查找“{title}”链接",
                          en="The homepage did not open; cannot look for the “{title}” link"),
}
LINK_METRICS = {
    "url": M("链接地址", "Link target"), "text": M("链接文字", "Link text"), "found_on": M("所在页面", "Found on"),
    "where": M("链接位置", "Found in", values="words"), "block": M("所在区块", "Box"),
    "depth": M("距首页点击次数", "Clicks from the homepage",
               help=T(zh="0 表示在首页上", en="0 means on the homepage")),
    "pages_searched": M("已检索页面", "Pages searched"), "clicks": M("允许点击次数", "Clicks allowed"),
    "links": M("匹配的链接数", "Matching links"), "dead": M("打不开的链接数", "Dead matching links"),
}
LINK_DETAILS = {
    "found": T(zh="位置：{where} {block}（距首页 {depth} 次点击）", en="In {where} {block} ({depth} clicks from the homepage)"),
    "dead": T(zh="链接打不开：{kind}（位置：{where} {block}）", en="Dead: {kind} (in {where} {block})"),
}
LINK_WORDS = {
    "nav": T(zh="导航栏", en="the navigation"), "subnav": T(zh="子栏目导航", en="the sub-navigation"),
    "header": T(zh="页头", en="the header"), "footer": T(zh="页脚", en="the footer"),
    "side": T(zh="侧栏", en="the side bar"), "body": T(zh="正文", en="the page body"),
    "list": T(zh="信息列表", en="a list"), "iframe": T(zh="内嵌框架（iframe）", en="an iframe"),
}


@check(id="link", parameterised=True,
       title=T(zh="必设服务链接", en="Required service link"),
       failure_title=T(zh="服务链接缺失或打不开", en="Service link missing or dead"),
       description=T(
           zh="在首页及其规定点击次数内的页面上查找要求的服务链接（如 12366 纳税服务平台、12345 热线）：目标主机、"
              "目标地址前缀或链接文字（含图片说明）匹配即为找到；链接目标打不开（按死链检测结果）判不合格，"
              "未找到判不合格。",
           en="Looks for the required service link (the 12366 tax service platform, the 12345 hotline) on the "
              "homepage and the pages within the allowed clicks: a matching target host, URL prefix or link text "
              "(image alt included) is found; a dead target (per the link check) fails, and so does none."),
       basis="", severity=Severity.MAJOR, needs={"crawl", "probe:links"}, messages=LINK_MESSAGES,
       metrics=LINK_METRICS, details=LINK_DETAILS, words=LINK_WORDS, coded={"where": "words"})
def link(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    return judge(snap, params["requirement"])
