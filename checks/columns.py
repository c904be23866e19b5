"""column:<requirement id> — each required column (栏目/专题) found, non-empty, fresh
and, for yearly catalogs, on time; footer — the national footer items.

Discovery works on the crawl only: every link (or page title) whose text holds
one of the requirement's keywords, normalised (NFKC, case, spaces and
punctuation dropped), is a candidate, grouped by target URL. A target whose
crawled page is a list of dated items is a column; a target that is an
article (dates in its header only, no list) is rejected as "headline, not a
column". Items are the list links of the column page and of its pagination
pages (index_N.html / 下一页 links the crawl fetched within max_depth). A
column outside the site's scope (checks.scope) is judged from a `column`
probe when one was taken (detail: items, latest, latest_title), else reported
found and unexamined.

Deadlines ("MM-DD"): the judged year is the snapshot's year once its deadline
has passed, else the year before (early in a year last year's catalog is
what an inspector can demand). The year's catalog must carry an item dated in
that year on or before the deadline.

Pure: no I/O, no clock (`taken_at` is now).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.freshness import homepage_chain
from checks.lists import OwnList, own_list
from checks.plans import COLUMN, FOOTER, Fetch
from checks.scope import site_scope
from checks.snapshot import Link, Page, Probe, RequirementInfo, SiteSnapshot

FOLLOW_TAGS = frozenset({"a", "area", "iframe", "frame", "meta-refresh", "js-location", "pager"})
PAGER_TEXT = re.compile(r"^(下一页|上一页|首页|尾页|末页|下页|上页|\d{1,3}|>|<|>>|<<|next|prev|last|first)$", re.IGNORECASE)
INDEX_PAGE = re.compile(r"/index\.s?html?$")
PAGER_URL = re.compile(r"/index_\d+\.s?html?$")
TOPIC_WORDS = ("专题", "专栏", "/ztzl/", "/zt/", "/ztlm/")
HEADLINE_EXTRA = 8        # characters beyond the keyword that make a link text a headline
NEAREST_MAX = 5

WHERE_ORDER = ("nav", "subnav", "topic", "iframe", "footer", "body", "list", "host")


def normalise(text: str) -> str:
    """Full/half width, case, spaces and punctuation folded away, for keyword matching."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZSC")


@dataclass(frozen=True)
class Candidate:
    url: str
    links: tuple[Link, ...]           # matching links to it (empty: matched by page title only)
    page: Page | None
    shape: str                        # list | empty | article | file | unfetched
    where: str
    reason: str = ""                  # why rejected; "" = acceptable


def requirement_keywords(req: RequirementInfo) -> tuple[str, ...]:
    words = {normalise(k) for k in (*req.keywords, req.title)}
    return tuple(sorted((w for w in words if w), key=len, reverse=True))


def _matches(text: str, words: tuple[str, ...]) -> str | None:
    folded = normalise(text)
    return next((w for w in words if w in folded), None)


def _title_head(title: str) -> str:
    return re.split(r"[_|｜\-—–]", title, maxsplit=1)[0]


def same_page(url: str) -> str:
    """A column's first list page is served both as dir/ and as dir/index.html."""
    return INDEX_PAGE.sub("/", url)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class CrawlIndex:
    """Indexes over one snapshot: pages by URL, links by source, the click-path tree (shared by the
    column checks: column:<req>, pairing:<req>, columns:update)."""

    def __init__(self, snap: SiteSnapshot) -> None:
        self.snap = snap
        # Reading order (homepage, then depth and URL; SiteSnapshot.pages_in_order), never fetch order:
        # it decides which page a shared URL names, the homepage and the candidates' order.
        self.pages = snap.page_by_any_url
        self.out = snap.links_by_source
        self.home = next((p for p in snap.pages_in_order if p.depth == 0), None)
        self.scope = site_scope(snap)
        self.framed = {link.target_url for link in snap.links if link.tag in ("iframe", "frame")}
        self.parent = self._tree()

    def _tree(self) -> dict[str, Link]:
        """Breadth-first from the homepage: the first link that reaches each URL."""
        parent: dict[str, Link] = {}
        if self.home is None:
            return parent
        seen = {self.home.url, self.home.final_url}
        queue = [self.home.final_url, self.home.url]
        while queue:
            following: list[str] = []
            for url in queue:
                for link in self.out.get(url, ()):
                    if link.tag in FOLLOW_TAGS and link.target_url not in seen:
                        seen.add(link.target_url)
                        parent[link.target_url] = link
                        page = self.pages.get(link.target_url)
                        if page is not None:
                            seen.add(page.final_url)
                            following.append(page.final_url)
                            if page.final_url != link.target_url:
                                parent.setdefault(page.final_url, link)
            queue = following
        return parent

    def path(self, url: str) -> list[Link]:
        steps: list[Link] = []
        while url in self.parent and len(steps) < 20:
            link = self.parent[url]
            steps.append(link)
            url = link.source_url
        return steps[::-1]

    def shape(self, page: Page | None) -> str:
        if page is None or page.status is None or not 200 <= page.status < 300:
            return "unfetched"
        if page.content_type and "html" not in page.content_type:
            return "file"
        if self.items_on(page) or any(d.source == "list-item" for d in page.dates):
            return "list"
        return "article" if page.dates else "empty"

    def links_of(self, page: Page) -> Sequence[Link]:
        return self.out.get(page.final_url, ()) or self.out.get(page.url, ())

    def items_on(self, page: Page, column: str | None = None) -> list[Link]:
        """The item links of the column's own list on `page` (checks.lists); `column` defaults to the page."""
        today = self.snap.taken_at.date()
        found = own_list(column or page.final_url, page.lists, self.links_of(page), page.dates, today)
        if found is None:
            return []
        wanted = {url for url, _ in found.items}
        return [link for link in self.links_of(page) if link.tag == "a" and link.target_url in wanted]

    def link_order(self, link: Link) -> tuple[bool, int, str]:
        """Links to one target in an order that does not depend on the order pages were fetched in (which
        concurrency varies): the click path's own link first, then from the shallowest page, by its URL."""
        source = self.pages.get(link.source_url)
        return (self.parent.get(link.target_url) is not link, source.depth if source is not None else 1 << 30,
                link.source_url)

    def where(self, link: Link) -> str:
        source = self.pages.get(link.source_url)
        if not self.scope.covers(link.target_url):
            return "host"
        if link.source_url in self.framed or (source is not None and source.url in self.framed):
            return "iframe"
        if link.context in ("nav", "subnav", "footer"):
            return link.context
        title = source.title if source is not None else ""
        if source is not None and source.depth > 0 and any(w in title or w in link.source_url for w in TOPIC_WORDS):
            return "topic"
        return link.context


def column_candidates(crawl: CrawlIndex, words: tuple[str, ...]) -> list[Candidate]:
    by_target: dict[str, list[Link]] = {}
    for link in crawl.snap.links_in_order:   # candidates in reading order, not fetch order
        if link.tag in ("a", "area", "iframe", "frame", "js-location") and _matches(link.text, words):
            by_target.setdefault(link.target_url, []).append(link)
    for titled in crawl.snap.pages_in_order:
        if titled.depth > 0 and _matches(_title_head(titled.title), words):
            by_target.setdefault(titled.final_url, [])
    found = []
    for url, links in by_target.items():
        links.sort(key=crawl.link_order)
        page = crawl.pages.get(url)
        shape = crawl.shape(page)
        wheres = sorted({crawl.where(link) for link in links}, key=WHERE_ORDER.index) or ["body"]
        found.append(Candidate(url, tuple(links), page, shape, wheres[0], _rejection(shape, links, words)))
    return found


def _rejection(shape: str, links: Iterable[Link], words: tuple[str, ...]) -> str:
    texts = [normalise(link.text) for link in links]
    headline = bool(texts) and all(len(t) - len(_matches(t, words) or "") > HEADLINE_EXTRA for t in texts)
    if shape == "file":
        return "a file, not a column"
    if shape == "article":
        return "headline, not a column" if headline or not texts else "an article page, not a column"
    return "headline, not a column" if headline else ""


def _rank(c: Candidate) -> tuple[int, int, int]:
    shape = {"list": 0, "empty": 1, "unfetched": 2}.get(c.shape, 3)
    depth = c.page.depth if c.page is not None else 9
    return (shape, WHERE_ORDER.index(c.where), depth)


MAX_LIST_PAGES = 20      # list pages of one column read beyond the first (the crawl bounds them too)


@dataclass(frozen=True)
class Contents:
    list_pages: tuple[str, ...]
    items: int
    dates: tuple[date, ...]           # list-item dates, not in the future
    latest: date | None
    latest_title: str
    latest_url: str
    list_key: str = ""                # the column's own list on its first page (checks.lists)
    list_heading: str = ""
    list_reason: str = ""
    entries: tuple[tuple[str, str], ...] = ()   # the items (URL, title) of the column's own list, in order


def column_contents(crawl: CrawlIndex, page: Page, today: date) -> Contents:
    """The column's own list on its page and on the list pages its pager leads to (see checks.lists)."""
    column = page.final_url
    base = column.rsplit("/", 1)[0] + "/"
    first = own_list(column, page.lists, crawl.links_of(page), page.dates, today)
    pages: dict[str, tuple[Page, OwnList | None]] = {same_page(page.final_url): (page, first)}
    queue = [u for u in first.pagers if u.startswith(base) or "dataproxy" in u] if first is not None else []
    queue += [link.target_url for link in crawl.links_of(page) if link.target_url.startswith(base) and (
        PAGER_TEXT.match(link.text.strip()) or PAGER_URL.search(link.target_url))]
    queue += [p.final_url for p in crawl.snap.pages_in_order if p.final_url.startswith(base)
              and PAGER_URL.search(p.final_url) and "/" not in p.final_url[len(base):]]
    while queue and len(pages) <= MAX_LIST_PAGES:
        other = crawl.pages.get(queue.pop(0))
        if other is None or same_page(other.final_url) in pages or other.status is None \
                or not 200 <= other.status < 300:
            continue
        found = own_list(column, other.lists, crawl.links_of(other), other.dates, today)
        pages[same_page(other.final_url)] = (other, found)
        if found is not None and found.key:
            queue += [u for u in found.pagers if u.startswith(base) or "dataproxy" in u]
    lists = [found for _, found in pages.values() if found is not None]
    items: dict[str, str] = {}
    for found in lists:
        for url, title in found.items:
            items.setdefault(url, title)
    hits = [hit for found in lists for hit in found.dates]
    dates = tuple(hit.date for hit in hits)
    latest = max(dates, default=None)
    count = max(len(items) or len(dates), (first.total or 0) if first is not None else 0)
    title, url = "", ""
    newest = next((hit for hit in hits if hit.date == latest), None)
    if newest is not None and newest.item:
        title, url = items.get(newest.item, ""), newest.item
    if latest is not None and not title:
        for target, text in items.items():
            article = crawl.pages.get(target)
            if article is not None and any(d.date == latest for d in article.dates):
                title, url = text, target
                break
    if latest is not None and not title and newest is not None:
        title = newest.snippet
    return Contents(tuple(p.final_url for p, _ in pages.values()), count, dates, latest, title, url,
                    first.key if first is not None else "", first.heading if first is not None else "",
                    first.reason if first is not None else "", tuple(items.items()))


def judged_year(today: date, deadline: str) -> tuple[int, date]:
    """(year, due date) a yearly deadline is judged for: last year's until this year's has passed."""
    month, day = (int(part) for part in deadline.split("-"))
    year = today.year if today > date(today.year, month, day) else today.year - 1
    return year, date(year, month, day)


def _click_path(crawl: CrawlIndex, url: str) -> str:
    steps = crawl.path(url)
    shown = [step.text or step.target_url for step in steps if step.tag not in ("meta-refresh", "js-location")]
    return " > ".join(["首页", *shown])


def _found_evidence(crawl: CrawlIndex, best: Candidate) -> tuple[Evidence, dict[str, Any]]:
    link = next((lk for lk in best.links if crawl.where(lk) == best.where), best.links[0] if best.links else None)
    path = _click_path(crawl, best.url)
    metrics: dict[str, Any] = {"url": best.url, "where": best.where, "text": link.text if link else "",
                               "found_on": link.source_url if link else "", "path": path, "host": _host(best.url)}
    detail = f"where={best.where}; path={path}"
    return Evidence(url=best.url, source=link.source_url if link else None, detail=detail,
                    text=link.text if link else (best.page.title if best.page else None),
                    key="found", params={"where": best.where, "path": path}), metrics


def _missing(crawl: CrawlIndex, req: RequirementInfo, rejected: list[Candidate]) -> Verdict:
    searched = sum(1 for p in crawl.snap.pages if p.status is not None and 200 <= p.status < 300)
    nearest = sorted(rejected, key=lambda c: (c.shape in ("unfetched", "file"), _rank(c)))[:NEAREST_MAX]
    evidence = tuple(Evidence(url=c.url, source=c.links[0].source_url if c.links else None,
                              detail=f"rejected: {c.reason}", text=c.links[0].text if c.links else None,
                              key="rejected", params={"why": c.reason})
                     for c in nearest)
    return Verdict(Status.FAIL, "column.missing", {"title": req.title, "pages": searched},
                   {"pages_searched": searched, "rejected": len(rejected),
                    "rejected_urls": " ".join(c.url for c in nearest)}, evidence)


def _offsite(probe: Probe, best: Candidate, today: date) -> Contents:
    """What a `column` probe (monitor.columnprobe) saw of a column page outside the crawl."""
    detail = probe.detail
    latest = date.fromisoformat(detail["latest"]) if detail.get("latest") else None
    dates = tuple(day for d in detail.get("dates", ()) if (day := date.fromisoformat(d)) <= today)
    return Contents(tuple(detail.get("list_pages", (best.url,))), int(detail.get("items", 0)), dates, latest,
                    str(detail.get("latest_title", "")), str(detail.get("latest_url", "")),
                    str(detail.get("list", "")), str(detail.get("list_heading", "")),
                    str(detail.get("list_reason", "")))


COLUMN_PROBE = COLUMN
"""The key of SiteSnapshot.failed for a failed column probe: "probe:column <url>" (or alone: every one)."""


def offsite_column(snap: SiteSnapshot, req: RequirementInfo) -> str | None:
    """The URL of the column the check would judge when it lies outside the crawl (a `column` probe's job)."""
    crawl = CrawlIndex(snap)
    accepted = sorted((c for c in column_candidates(crawl, requirement_keywords(req)) if not c.reason), key=_rank)
    best = accepted[0] if accepted else None
    return best.url if best is not None and best.shape == "unfetched" and best.page is None else None


def plan_column(snap: SiteSnapshot, params: Mapping[str, Any]) -> tuple[Fetch, ...]:
    """The column probe's plan for one requirement: its column, when the crawl could not read it."""
    url = offsite_column(snap, params["requirement"])
    return (Fetch(url),) if url else ()


def judge(snap: SiteSnapshot, req: RequirementInfo) -> Verdict:
    """The verdict on one required column (see the module docstring)."""
    today = snap.taken_at.date()
    crawl = CrawlIndex(snap)
    if crawl.home is None or crawl.home.status is None or not 200 <= crawl.home.status < 400:
        return Verdict(Status.ERROR, "column.no_homepage", {"title": req.title})
    words = requirement_keywords(req)
    candidates = column_candidates(crawl, words)
    accepted = sorted((c for c in candidates if not c.reason), key=_rank)
    if not accepted:
        return _missing(crawl, req, [c for c in candidates if c.reason])
    best = accepted[0]
    found, metrics = _found_evidence(crawl, best)
    params: dict[str, Any] = {"title": req.title, "url": best.url}
    if best.shape == "unfetched":
        broken = snap.failed.get(f"{COLUMN_PROBE} {best.url}") or snap.failed.get(COLUMN_PROBE)
        if broken and best.page is None:  # our probe failed: no verdict on the site from it
            return Verdict(Status.ERROR, "column.probe_failed", {**params, "error": broken}, metrics, (found,))
        probe = next((p for p in snap.probes_of("column") if p.url == best.url), None)
        target = snap.targets.get(best.url)
        if best.page is not None or (probe.outcome != "ok" if probe is not None
                                     else target is not None and target.outcome != "ok"):
            return Verdict(Status.FAIL, "column.unreachable", params, metrics, (found,))
        if probe is None:
            return Verdict(Status.PASS, "column.unexamined", params, {**metrics, "examined": 0}, (found,))
        contents = _offsite(probe, best, today)
    elif best.shape == "empty" or best.page is None:
        contents = Contents((best.url,), 0, (), None, "", "")
    else:
        contents = column_contents(crawl, best.page, today)
    return _judge_contents(req, today, contents, found, metrics, params)


def _judge_contents(req: RequirementInfo, today: date, contents: Contents, found: Evidence,
                    metrics: dict[str, Any], params: dict[str, Any]) -> Verdict:
    latest = contents.latest.isoformat() if contents.latest else ""
    metrics = {**metrics, "examined": 1, "items": contents.items, "list_pages": len(contents.list_pages),
               "latest": latest, "latest_title": contents.latest_title, "list": contents.list_key,
               "list_heading": contents.list_heading, "list_reason": contents.list_reason}
    evidence = [found]
    if contents.list_key:
        heading = f" “{contents.list_heading}”" if contents.list_heading else ""
        evidence.append(Evidence(url=contents.list_pages[0], source=found.url, text=contents.list_heading or None,
                                 detail=f"column list {contents.list_key}{heading}: {contents.list_reason}; "
                                        f"{contents.items} items on {len(contents.list_pages)} list pages",
                                 key="list", params={"list": contents.list_key, "heading": heading.strip(),
                                                     "why": contents.list_reason, "items": contents.items,
                                                     "pages": len(contents.list_pages)}))
    if contents.latest is not None:
        evidence.append(Evidence(url=contents.latest_url or found.url, source=found.url, detail="latest item",
                                 text=contents.latest_title, actual=latest, key="latest"))
    evidence += [Evidence(url=u, source=found.url, detail="list page", key="list_page")
                 for u in contents.list_pages[1:]]
    ev = tuple(evidence)
    if contents.items == 0 or contents.latest is None:
        return Verdict(Status.FAIL, "column.empty", params, metrics, ev, severity=Severity.VETO)  # 空白栏目: 单项否决
    params = {**params, "items": contents.items, "latest": latest}
    age = (today - contents.latest).days
    metrics["age_days"] = age
    if req.max_age_days is not None and age > req.max_age_days:
        status = Status.FAIL if req.stale_status == "fail" else Status.WARN
        return Verdict(status, "column.stale", {**params, "age": age, "max_age": req.max_age_days}, metrics, ev)
    if req.deadline:
        year, due = judged_year(today, req.deadline)
        of_year = sorted(d for d in contents.dates if d.year == year)
        metrics.update(year=year, due=due.isoformat(), published=of_year[0].isoformat() if of_year else "")
        timing = {"year": year, "due": due.isoformat()}
        if not of_year:
            return Verdict(Status.FAIL, "column.no_year", {**params, **timing}, metrics, ev)
        if of_year[0] > due:
            return Verdict(Status.FAIL, "column.late", {**params, **timing, "published": of_year[0].isoformat()},
                           metrics, ev)
    return Verdict(Status.PASS, "column.ok", params, metrics, ev)


COLUMN_MESSAGES = {
    "column.ok": T(zh="“{title}”栏目：{items} 条信息，最新 {latest}",
                   en="“{title}” column: {items} items, latest {latest}"),
    "column.missing": T(zh="未找到“{title}”栏目（已检索 {pages} 个页面）",
                        en="No “{title}” column found ({pages} pages searched)"),
    "column.empty": T(zh="“{title}”栏目是空白栏目，没有信息条目：{url}",
                      en="The “{title}” column is empty, no items: {url}"),
    "column.stale": T(zh="“{title}”栏目最新信息为 {latest}，已 {age} 天未更新（要求 {max_age} 天内，共 {items} 条）",
                      en="The “{title}” column was last updated {latest}, {age} days ago (limit {max_age} days; "
                         "{items} items)"),
    "column.late": T(zh="{year} 年度“{title}”于 {published} 发布，晚于 {due} 的期限",
                     en="The {year} “{title}” was published {published}, after the {due} deadline"),
    "column.no_year": T(zh="“{title}”栏目没有 {year} 年度的信息（期限 {due}）",
                        en="The “{title}” column has nothing for {year} (deadline {due})"),
    "column.no_homepage": T(zh="首页未能打开，无法查找“{title}”栏目",
                            en="The homepage did not open; cannot look for the “{title}” column"),
    "column.unreachable": T(zh="“{title}”栏目的链接打不开：{url}", en="The “{title}” column does not open: {url}"),
    "column.probe_failed": T(zh="“{title}”栏目（{url}）探测出错：{error}",
                             en="The probe of the “{title}” column ({url}) failed: {error}"),
    "column.unexamined": T(zh="找到“{title}”栏目（{url}），其内容不在抓取范围内，未核查",
                           en="Found the “{title}” column ({url}); its content is outside the crawl and was not "
                              "examined"),
}


COLUMN_METRICS = {
    "url": M("栏目地址", "Column URL"),
    "where": M("栏目位置", "Found in", values="words"),
    "text": M("链接文字", "Link text"),
    "found_on": M("所在页面", "Found on"),
    "path": M("点击路径", "Click path"),
    "host": M("所在主机", "Host"),
    "examined": M("已核查内容", "Content examined", values="bool"),
    "items": M("条目数", "Items"),
    "list_pages": M("列表页数", "List pages"),
    "latest": M("最近更新日期", "Latest update"),
    "latest_title": M("最新一条标题", "Latest item's title"),
    "list": M("栏目列表编号", "Column list"),
    "list_heading": M("列表标题", "List heading"),
    "list_reason": M("列表判定依据", "Why this list", values="words"),
    "age_days": M("距今天数", "Age (days)"),
    "year": M("考核年度", "Year judged"),
    "due": M("期限", "Deadline"),
    "published": M("发布日期", "Published"),
    "pages_searched": M("已检索页面", "Pages searched"),
    "rejected": M("未采用的候选", "Candidates rejected"),
    "rejected_urls": M("未采用的候选地址", "Rejected candidates"),
}
COLUMN_DETAILS = {
    "found": T(zh="位置：{where}；路径：{path}", en="Found in {where}; path: {path}"),
    "rejected": T(zh="未采用：{why}", en="Rejected: {why}"),
    "list": T(zh="栏目列表 {list}{heading}（{why}）：{pages} 个列表页共 {items} 条",
              en="Column list {list} {heading} ({why}): {items} items on {pages} list pages"),
    "latest": T(zh="最新一条", en="Latest item"),
    "list_page": T(zh="列表分页", en="List page"),
}
COLUMN_WORDS = {
    "nav": T(zh="导航栏", en="the navigation"), "subnav": T(zh="子栏目导航", en="the sub-navigation"),
    "topic": T(zh="专题专栏", en="a topic page"), "iframe": T(zh="内嵌框架（iframe）导航", en="an iframe"),
    "footer": T(zh="页脚", en="the footer"), "body": T(zh="正文", en="the page body"),
    "list": T(zh="信息列表", en="a list"), "host": T(zh="外部平台", en="another host"),
    "header": T(zh="页头", en="the header"), "side": T(zh="侧栏", en="the side bar"),
    "a file, not a column": T(zh="是文件，不是栏目", en="a file, not a column"),
    "headline, not a column": T(zh="是新闻标题，不是栏目", en="a headline, not a column"),
    "an article page, not a column": T(zh="是文章页，不是栏目", en="an article page, not a column"),
    "links under the column": T(zh="条目链接位于该栏目下", en="its links are under the column"),
    "its pager": T(zh="带分页的列表", en="the list with a pager"),
    "the main dated list": T(zh="正文中的日期列表", en="the main dated list"),
    "the side's dated list": T(zh="侧栏中的日期列表", en="the side bar's dated list"),
}


@check(id="column", parameterised=True,
       title=T(zh="必设栏目", en="Required column"),
       failure_title=T(zh="必设栏目缺失、空白或未更新", en="Required column missing, empty or stale"),
       description=T(
           zh="按要求清单逐项查找栏目（导航、政务公开子栏目、专题专栏、iframe 导航、外链平台），关键词按全半角、"
              "空格和标点归一后匹配；新闻标题中出现关键词不算栏目。未找到或空白栏目（单项否决指标）判不合格，"
              "最新信息超过时限按要求判警告或不合格，年度目录须在期限前发布。",
           en="Finds each required column (navigation, 政务公开 sub-navigation, 专题 pages, iframe navigation, a "
              "linked platform) by keywords normalised for width, spaces and punctuation; a headline holding the "
              "keyword is no column. Missing or empty (空白栏目, a veto indicator) fails; a latest item older "
              "than the limit warns or fails per requirement; a yearly catalog must be out by its deadline."),
       basis="", severity=Severity.MAJOR, needs={"crawl"}, messages=COLUMN_MESSAGES,
       plans={COLUMN: plan_column}, metrics=COLUMN_METRICS, details=COLUMN_DETAILS, words=COLUMN_WORDS)
def column(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    return judge(snap, params["requirement"])


FOOTER_LABELS = {"site_code": "网站标识码", "icp": "ICP备案号", "police": "公安备案号",
                 "finderr": "政府网站找错入口", "badge": "党政机关网站标识"}
FOOTER_MESSAGES = {
    "footer.ok": T(zh="页脚信息齐全：{found}", en="The footer shows every item: {found}"),
    "footer.missing": T(zh="页脚缺少 {count} 项：{missing}", en="The footer lacks {count} items: {missing}"),
    "footer.unfetched": T(zh="首页未能打开，无法检查页脚：{reason}",
                          en="The homepage did not open; cannot check the footer: {reason}"),
}


def footer_url(snap: SiteSnapshot) -> str | None:
    """The page a `footer` probe should read: the homepage after its redirects (JS and meta too)."""
    chain = homepage_chain(snap)
    return chain[-1].final_url if chain else None


def plan_footer(snap: SiteSnapshot, params: Mapping[str, Any]) -> tuple[Fetch, ...]:
    """The footer probe's plan: the landed homepage, when the crawl has one."""
    url = footer_url(snap)
    return (Fetch(url),) if url else ()


def judge_footer(snap: SiteSnapshot) -> Verdict:
    """The footer items a `footer` probe (monitor.footerprobe) found on the homepage; each found
    item's evidence says the form it was found in (its detail "forms": "script#_jiucuo_", …)."""
    probe = next((p for p in snap.probes_of("footer")), None)
    if probe is None or probe.outcome != "ok":
        reason = (probe.detail.get("reason") or probe.outcome) if probe is not None else "no probe"
        return Verdict(Status.ERROR, "footer.unfetched", {"reason": reason})
    home = probe.final_url or probe.url
    values = {key: str(probe.detail.get(key) or "") for key in FOOTER_LABELS}
    raw_forms = probe.detail.get("forms")
    forms = {k: str(v) for k, v in raw_forms.items() if k in values} if isinstance(raw_forms, Mapping) else {}
    found = [FOOTER_LABELS[k] for k, v in values.items() if v]
    missing = [FOOTER_LABELS[k] for k, v in values.items() if not v]
    metrics: dict[str, Any] = {**values, "found": "、".join(found), "missing": "、".join(missing),
                               "found_count": len(found), "forms": forms}
    evidence = tuple(Evidence(url=v if v.startswith("http") else home, source=home,
                              detail=f"{FOOTER_LABELS[k]} · {forms[k]}" if forms.get(k) else FOOTER_LABELS[k],
                              text=v, key="found", params={"item": FOOTER_LABELS[k]}) for k, v in values.items() if v)
    evidence += tuple(Evidence(url=home, detail=f"missing: {label}", key="missing", params={"item": label})
                      for label in missing)
    if missing:
        return Verdict(Status.WARN, "footer.missing", {"count": len(missing), "missing": "、".join(missing)},
                       metrics, evidence)
    return Verdict(Status.PASS, "footer.ok", {"found": "、".join(found)}, metrics, evidence)


FOOTER_METRICS = {
    "site_code": M("网站标识码", "Site identity code"), "icp": M("ICP 备案号", "ICP filing"),
    "police": M("公安备案号", "Public-security filing"), "finderr": M("政府网站找错入口", "Error-report entry"),
    "badge": M("党政机关网站标识", "Party and government badge"),
    "found": M("已有项目", "Items found"), "missing": M("缺少项目", "Missing items"),
    "found_count": M("已有项目数", "Items found (count)"),
    "forms": M("各项的发现方式", "How each item was found", shown=False),
}
FOOTER_DETAILS = {
    "found": T(zh="{item}", en="{item}"),
    "missing": T(zh="缺少：{item}", en="Missing: {item}"),
}

FOOTER_DECLARATION: Mapping[str, Any] = {
    "id": "footer",
    "title": T(zh="页脚信息", en="Footer items"),
    "failure_title": T(zh="页脚信息不全", en="Footer items missing"),
    "description": T(zh="首页页脚应有网站标识码、ICP备案号、公安备案号、“我为政府网站找错”入口和党政机关网站标识；"
                        "按浏览器所见读取：官方嵌入脚本（_jiucuo_、_ideConac、document.write）、SiteIDCode 元数据、"
                        "</html> 之后的内容、页脚 iframe 与页脚脚本都计入。每缺一项给出警告。",
                     en="The homepage footer must show the 网站标识码, the ICP number, the 公安备案 number, the "
                        "我为政府网站找错 entry and the 党政机关 badge, read as a browser shows them: the official "
                        "embed scripts (_jiucuo_, _ideConac, document.write), the SiteIDCode meta, content after "
                        "</html>, footer iframes and footer scripts count. Each missing item warns."),
    "basis": "政府网站发展指引；三(一)",
    "severity": Severity.MINOR,
    "needs": {"crawl", "probe:footer"},
    "plans": {FOOTER: plan_footer},
    "messages": FOOTER_MESSAGES,
    "metrics": FOOTER_METRICS,
    "details": FOOTER_DETAILS,
}
"""Registered by checks/footer.py once the pipeline collects `footer` probes (see that module)."""
