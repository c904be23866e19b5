"""document:<requirement id> — a yearly document (政府信息公开工作年度报告, 重大行政决策事项目录)
published for its year by its deadline.

The year judged follows the deadline as for yearly columns (checks.columns.judged_year):
this year's deadline once it has passed, else last year's. The document is for that
year (`for_year = "current"`) or the year before it (`"previous"`, the 年度报告 of
2025 is due 2026-01-31). Its title is one of the requirement's `keywords` with
`{year}` filled in, matched on crawled page titles (the part before "_" or "|")
and on link texts anywhere in the crawl (a PDF in a 信息公开 list, a platform
page), after folding: full-width digits, a year in Chinese numerals (二〇二五),
brackets (〔2025〕), 年度 read as 年, spaces and punctuation. A keyword without
`{year}` matches when the title also holds the year. A title that is about the
document (a notice to compile it, its 解读: `ABOUT_IT`) is not the document. The publication date is
the earliest of the list-item date beside a link to it and the date its page
shows (meta or header). Found by the due date passes, found later warns,
found without a date warns, not found fails.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.columns import judged_year, normalise
from checks.snapshot import Page, RequirementInfo, SiteSnapshot

CN_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"○": "0", "零": "0", "Ｏ": "0"}
CN_YEAR = re.compile("[〇○零Ｏ一二三四五六七八九]{4}")
PAGE_DATES = frozenset({"meta", "header"})
SHOWN = 5


def fold(text: str) -> str:
    """A title for matching: Chinese-numeral years as digits, then checks.columns.normalise, 年度 as 年."""
    text = CN_YEAR.sub(lambda m: "".join(CN_DIGITS[c] for c in m.group()), text)
    return normalise(text).replace("年度", "年")


def title_rules(req: RequirementInfo, year: int) -> tuple[re.Pattern[str], ...]:
    """The requirement's keywords for `year`, as patterns over folded titles."""
    rules = []
    for word in req.keywords:
        parts = [re.escape(fold(part)) for part in word.split("{year}")]
        if len(parts) > 1:
            rules.append(re.compile(str(year).join(parts)))
        elif parts[0]:
            rules.append(re.compile(f"(?=.*{year})(?=.*{parts[0]})"))
    return tuple(rules)


ABOUT_IT = re.compile("编制|报送|审核|培训|解读|图解|问答|通知|函|做好")
"""Words of a title that is about the document, not the document: 关于做好2025年政府信息公开工作年度报告
编制工作的通知, 2025年…年度报告解读."""


def about_it(folded: str, match: re.Match[str]) -> bool:
    """Whether the title around `match` names a notice, a 解读 or a task about the document."""
    return bool(ABOUT_IT.search(folded, match.end()) or ABOUT_IT.search(folded, 0, match.start()))


def _title_head(title: str) -> str:
    return re.split(r"[_|｜]| - | — ", title, maxsplit=1)[0]


@dataclass
class Candidate:
    url: str
    title: str
    source: str = ""                                 # the page linking it ("" = found by its own title)
    dates: set[date] = field(default_factory=set)


def _page_date(page: Page, today: date) -> set[date]:
    return {d.date for d in page.dates if d.source in PAGE_DATES and d.date <= today}


def candidates(snap: SiteSnapshot, rules: tuple[re.Pattern[str], ...]) -> list[Candidate]:
    """Every document whose title or link text matches, with what dates the crawl shows for it."""
    today = snap.taken_at.date()
    pages = snap.page_by_any_url   # reading order, not fetch order: it picks each candidate's title and source
    found: dict[str, Candidate] = {}

    def hit(text: str) -> bool:
        folded = fold(text)
        return bool(folded) and any((m := rule.search(folded)) and not about_it(folded, m) for rule in rules)

    for page in snap.pages_in_order:
        ok = page.status is not None and 200 <= page.status < 300
        if ok and page.depth > 0 and hit(_title_head(page.title)):
            entry = found.setdefault(page.final_url, Candidate(page.final_url, _title_head(page.title)))
            entry.dates |= _page_date(page, today)
    for link in snap.links_in_order:
        if link.tag not in ("a", "area") or not hit(link.text):
            continue
        target = pages.get(link.target_url)
        url = target.final_url if target is not None else link.target_url
        entry = found.setdefault(url, Candidate(url, link.text))
        entry.source = entry.source or link.source_url
        source = pages.get(link.source_url)
        if source is not None:
            entry.dates |= {d.date for d in source.dates if d.source == "list-item" and d.item == link.target_url
                            and d.date <= today}
        if target is not None:
            entry.dates |= _page_date(target, today)
    return sorted(found.values(), key=lambda c: (min(c.dates) if c.dates else date.max, c.url))


def judge(snap: SiteSnapshot, req: RequirementInfo) -> Verdict:
    today = snap.taken_at.date()
    home = next((p for p in snap.pages_in_order if p.depth == 0), None)
    if home is None or home.status is None or not 200 <= home.status < 400:
        return Verdict(Status.ERROR, "document.no_homepage", {"title": req.title})
    published_in, due = judged_year(today, req.deadline or "12-31")
    year = published_in - 1 if req.for_year == "previous" else published_in
    found = candidates(snap, title_rules(req, year))
    searched = sum(1 for p in snap.pages if p.status is not None and 200 <= p.status < 300)
    params: dict[str, Any] = {"title": req.title, "year": year, "due": due.isoformat()}
    metrics: dict[str, Any] = {"year": year, "due": due.isoformat(), "pages_searched": searched,
                               "candidates": len(found)}
    if not found:
        return Verdict(Status.FAIL, "document.missing", {**params, "pages": searched}, metrics)
    best = found[0]
    published = min(best.dates).isoformat() if best.dates else ""
    metrics.update(url=best.url, doc_title=best.title, found_on=best.source, published=published)
    evidence = tuple(Evidence(url=c.url, source=c.source or None, text=c.title,
                              actual=min(c.dates).isoformat() if c.dates else None,
                              detail=f"published {min(c.dates).isoformat()}" if c.dates else "undated",
                              key="found" if c.dates else "undated",
                              params={"published": min(c.dates).isoformat()} if c.dates else {})
                     for c in found[:SHOWN])
    params.update(url=best.url, doc_title=best.title)
    if not best.dates:
        return Verdict(Status.WARN, "document.undated", params, metrics, evidence)
    if min(best.dates) > due:
        return Verdict(Status.WARN, "document.late", {**params, "published": published}, metrics, evidence)
    return Verdict(Status.PASS, "document.ok", {**params, "published": published}, metrics, evidence)


DOCUMENT_MESSAGES = {
    "document.ok": T(zh="{year} 年度“{title}”已于 {published} 发布（期限 {due}）：{doc_title}",
                     en="The {year} “{title}” was published {published} (due {due}): {doc_title}"),
    "document.missing": T(zh="未找到 {year} 年度“{title}”（期限 {due}，已检索 {pages} 个页面）",
                          en="No {year} “{title}” found (due {due}; {pages} pages searched)"),
    "document.late": T(zh="{year} 年度“{title}”于 {published} 发布，晚于 {due} 的期限：{doc_title}",
                       en="The {year} “{title}” was published {published}, after the {due} deadline: {doc_title}"),
    "document.undated": T(zh="找到 {year} 年度“{title}”（{url}），但未标注发布日期，无法确认是否按期（期限 {due}）",
                          en="Found the {year} “{title}” ({url}) without a publication date; cannot tell whether it "
                             "was on time (due {due})"),
    "document.no_homepage": T(zh="首页未能打开，无法查找“{title}”",
                              en="The homepage did not open; cannot look for the “{title}”"),
}
DOCUMENT_METRICS = {
    "year": M("文件所属年度", "Year of the document"), "due": M("期限", "Deadline"),
    "published": M("发布日期", "Published"), "url": M("文件地址", "Document URL"),
    "doc_title": M("文件标题", "Document title"), "found_on": M("所在页面", "Found on"),
    "pages_searched": M("已检索页面", "Pages searched"), "candidates": M("匹配的文件数", "Matching documents"),
}
DOCUMENT_DETAILS = {
    "found": T(zh="发布日期 {published}", en="Published {published}"),
    "undated": T(zh="未标注发布日期", en="No publication date shown"),
}


@check(id="document", parameterised=True,
       title=T(zh="年度公开文件", en="Yearly document"),
       failure_title=T(zh="年度文件未发布或未按期发布", en="Yearly document missing or late"),
       description=T(
           zh="按标题查找要求的年度文件（如上一年度政府信息公开工作年度报告、本年度重大行政决策事项目录）：页面标题或"
              "链接文字匹配（全半角数字、中文数字年份、〔〕括号、“年度”均可），发布日期取列表日期或文章日期。"
              "期限已过仍未发布判不合格，晚于期限发布或未标注日期给出警告；本年期限未到时检查上一年度。",
           en="Looks for the required yearly document (last year's 政府信息公开工作年度报告, this year's 重大行政决策"
              "事项目录) by its title on pages and links (full-width digits, years in Chinese numerals, 〔〕 and 年度 "
              "all match), dated by its list entry or its page. Missing after the deadline fails; published late or "
              "undated warns; before this year's deadline last year's is judged."),
       basis="", severity=Severity.MAJOR, needs={"crawl"}, messages=DOCUMENT_MESSAGES,
       metrics=DOCUMENT_METRICS, details=DOCUMENT_DETAILS)
def document(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    return judge(snap, params["requirement"])
