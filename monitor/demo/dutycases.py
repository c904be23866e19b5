"""The truth of the demo's requirements that are not columns (issue 14): link:<id>,
document:<id> and pairing:<id>, from the crawl model and the column plans.

The cases are placed in sites.py: the model city portal has the 12366 link (a
便民服务 box on its homepage), its 年度报告 on time and every 政策文件 paired (two
link their 解读 from a 相关链接 box, two are linked back from a 解读); 双塔 links
one 政策文件 of four to its 解读; 北票's 年度报告 came out after 01-31;
龙城's 办事服务 page links the 12366 platform at an address that is 404. Every other site's verdict follows from what
it serves: a portal without a 12366 link misses it, a department without a 年报
column misses the report, and so on.

Written apart from the checks (only the text folding of checks.columns is
shared), so a check that drifts from the rule disagrees with the truth.
Pure; JSON-ready output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from checks.columns import normalise
from monitor.demo.columns import ColumnPlan
from monitor.demo.crawlmodel import SiteCrawl
from monitor.demo.walk import Walk, canonical

PAIR_WORDS = ("解读", "图解", "一图读懂", "答记者问")
LINK_TAGS = ("a", "area")


def _fold(text: str) -> str:
    return normalise(text).replace("年度", "年")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def link_truth(req: Mapping[str, Any], crawl: SiteCrawl, fate: Callable[[str], Walk],
               unchecked: frozenset[str] = frozenset()) -> dict[str, Any]:
    """{status, reason: None|"missing"|"dead", url, text, source}: the best matching link (working first,
    then the shallowest) on a page at most max_depth - 1 clicks from the homepage (an iframe's page counts
    as its parent's)."""
    hosts, urls = tuple(req.get("hosts", ())), tuple(u.split("://", 1)[-1] for u in req.get("urls", ()))
    words = [normalise(k) for k in req.get("keywords", ())]
    clicks = int(req.get("max_depth", 2))
    framed = {link.target for page in crawl.pages.values() for link in page.links if link.tag in ("iframe", "frame")}
    found: list[tuple[int, int, str, str, str]] = []
    for page in crawl.pages.values():
        depth = max(page.depth - 1, 0) if page.url in framed else page.depth
        if depth > clicks - 1:
            continue
        for link in page.links:
            host = _host(link.target)
            text = normalise(link.text)
            if link.tag not in LINK_TAGS or not (
                    any(host == h or host.endswith("." + h) for h in hosts)
                    or any(link.target.split("://", 1)[-1].startswith(u) for u in urls)
                    or (text and any(w in text for w in words))):
                continue
            dead = link.target not in crawl.pages and link.target not in unchecked and fate(link.target).dead
            found.append((int(dead), depth, link.target, link.text, page.url))
    if not found:
        return {"status": "fail", "reason": "missing", "url": None}
    dead, _, url, text, source = min(found)
    return {"status": "fail" if dead else "pass", "reason": "dead" if dead else None, "url": url, "text": text,
            "source": source}


def _item_url(plan: ColumnPlan, path: str, crawl: SiteCrawl, url_for: Callable[..., str]) -> str:
    return canonical(url_for(plan.host or crawl.site.host, path))


def _linked(crawl: SiteCrawl) -> set[str]:
    return {link.target for page in crawl.pages.values() for link in page.links}


def judged(today: date, deadline: str) -> tuple[int, date]:
    """(year, due): this year's deadline once passed, else last year's."""
    month, day = (int(part) for part in deadline.split("-"))
    year = today.year if today > date(today.year, month, day) else today.year - 1
    return year, date(year, month, day)


def document_truth(req: Mapping[str, Any], crawl: SiteCrawl, today: date,
                   url_for: Callable[..., str]) -> dict[str, Any]:
    """{status, reason: None|"missing"|"late", year, due, url, published}: the column items (crawled or
    linked) whose title is a keyword with the document's year; the earliest one decides."""
    published_in, due = judged(today, req["deadline"])
    year = published_in - 1 if req.get("for_year", "previous") == "previous" else published_in
    wanted = [_fold(k.replace("{year}", str(year))) for k in req["keywords"]]
    linked = _linked(crawl)
    found = []
    for plan in crawl.site.columns:
        for item in plan.items:
            url = _item_url(plan, item.path, crawl, url_for)
            if item.day <= today and (url in crawl.pages or url in linked) and any(w in _fold(item.title)
                                                                                  for w in wanted):
                found.append((item.day, url))
    entry = {"year": year, "due": due.isoformat()}
    if not found:
        return {"status": "fail", "reason": "missing", "url": None, "published": None, **entry}
    day, url = min(found)
    late = day > due
    return {"status": "warn" if late else "pass", "reason": "late" if late else None, "url": url,
            "published": day.isoformat(), **entry}


def _says(text: str) -> bool:
    folded = normalise(text)
    return any(w in folded for w in PAIR_WORDS)


def pairing_truth(req: Mapping[str, Any], crawl: SiteCrawl, url_for: Callable[..., str]) -> dict[str, Any]:
    """{status, reason: None|"no_column"|"low", examined, paired, unpaired (sorted URLs)}: the items of the
    site's columns named by the keywords, each paired when its page links a 解读 or a 解读 page links it
    (a column of another site in scope, a department on a sub-domain, adds only documents the crawl did
    not reach there: not examined)."""
    words = [normalise(k) for k in req["keywords"]]
    linked = _linked(crawl)
    reached = set(crawl.pages) | linked
    columns = [p for p in crawl.site.columns if p.items and any(w in normalise(p.column.text) for w in words)
               and _item_url(p, p.column.path, crawl, url_for) in reached]
    if not columns:
        return {"status": "fail", "reason": "no_column", "examined": 0, "paired": [], "unpaired": []}
    lists = {_item_url(p, path, crawl, url_for) for p in crawl.site.columns for path in p.list_paths}
    jiedu = {link.target for page in crawl.pages.values() for link in page.links
             if link.tag in LINK_TAGS and _says(link.text) and link.target in crawl.pages and link.target not in lists}
    back = {link.target for url in jiedu for link in crawl.pages[url].links if link.tag in LINK_TAGS}
    documents = {_item_url(p, item.path, crawl, url_for) for p in columns for item in p.items if not _says(item.title)}
    paired, unpaired = [], []
    for url in sorted(documents):
        page = crawl.pages.get(url)
        links = page.links if page is not None else ()
        if any(link.tag in LINK_TAGS and link.target != url and link.target not in lists
               and (_says(link.text) or link.target in jiedu) for link in links) or url in back:
            paired.append(url)
        elif page is not None:
            unpaired.append(url)
    ratio = len(paired) / len(paired + unpaired) if paired or unpaired else 1.0
    low = ratio < float(req.get("min_ratio", 1.0))
    return {"status": "fail" if low else "pass", "reason": "low" if low else None,
            "examined": len(paired) + len(unpaired), "paired": paired, "unpaired": unpaired}


def duty_truth(requirements: Sequence[Mapping[str, Any]], crawl: SiteCrawl, available: bool, today: date,
               url_for: Callable[..., str], fate: Callable[[str], Walk],
               unchecked: frozenset[str] = frozenset()) -> dict[str, Any]:
    """{"<type>:<id>": verdict} for each link/document/pairing requirement among `requirements` (those that
    apply to the site); `unchecked` are link targets the link check never requests (past its bounds)."""
    found: dict[str, Any] = {}
    for req in requirements:
        kind = req.get("type", "column")
        if kind == "column":
            continue
        check_id = f"{kind}:{req['id']}"
        if not available:
            found[check_id] = {"status": "error", "reason": "unavailable"}
        elif kind == "link":
            found[check_id] = link_truth(req, crawl, fate, unchecked)
        elif kind == "document":
            found[check_id] = document_truth(req, crawl, today, url_for)
        else:
            found[check_id] = pairing_truth(req, crawl, url_for)
    return found
