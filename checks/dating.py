"""dates:impossible — dates no honest publication can carry (the checklist's 伪造发稿日期 risk).

Two kinds, both read by the crawl from a page's own words (spiders/pagenotes.py,
`Page.future`/`published`/`issued`):

- an item dated after the day it was crawled: a list row beside the page's dated
  rows, or an article's labelled 发布日期, later than the snapshot's day plus
  checks.freshness.FUTURE_SLACK (time zones);
- an article whose labelled 发布日期 is before the 成文/发文/印发日期 its text
  states by more than `dates_issued_tolerance_days`: it was shown as published
  before it was written.

Each item is reported once (by its URL). Warn: a date is evidence to look at,
not proof of a fake. Pure: no I/O, no clock (`taken_at` is now).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.freshness import FUTURE_SLACK, answered
from checks.snapshot import SiteSnapshot

EVIDENCE_MAX = 50


@check(id="dates:impossible",
       title=T(zh="发布日期合理性", en="Plausible dates"),
       failure_title=T(zh="发布日期不合理", en="Impossible dates"),
       description=T(
           zh="发布日期晚于抓取当天的信息条目（列表条目或文章的发布时间），以及页面显示的发布日期早于正文所载"
              "成文/发文日期（超过容差天数）的文章，均可能是伪造或错填的发稿日期；发现即警告。",
           en="Items dated after the day they were crawled (a list row or an article's 发布时间), and articles "
              "whose shown publication date is before the 成文/发文日期 in their own text by more than the "
              "tolerance, may carry forged or wrong dates; any warns."),
       basis="国办秘函〔2019〕19号：信息发布（伪造发稿日期等）", severity=Severity.MINOR, needs={"crawl"},
       messages={
           "dates.ok": T(zh="{pages} 个页面中没有不合理的发布日期", en="No impossible date on {pages} pages"),
           "dates.impossible": T(zh="{future} 条信息的日期晚于抓取当天，{backdated} 篇文章的发布日期早于其成文日期",
                                 en="{future} items are dated after the crawl day; {backdated} articles were "
                                    "published before they were written"),
           "dates.no_pages": T(zh="没有抓取到页面，无法判断", en="No page was crawled; cannot decide"),
       },
       metrics={"pages": M("已检查页面", "Pages read"), "future": M("日期晚于抓取日的条目", "Items dated after the crawl"),
                "backdated": M("发布早于成文的文章", "Published before written"),
                "tolerance_days": M("容差天数", "Tolerance (days)")},
       details={"future": T(zh="日期 {date} 晚于抓取日 {crawled}", en="Dated {date}, after the crawl day {crawled}"),
                "backdated": T(zh="发布日期 {published} 早于成文日期 {issued}（{days} 天）",
                               en="Published {published}, {days} days before its 成文日期 {issued}")})
def dates_impossible(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    today = snap.taken_at.date()
    tolerance = int(params.get("dates_issued_tolerance_days", 1))
    pages = [p for p in snap.pages_in_order if answered(p)]   # an item on several pages: sourced by reading order
    if not pages:
        return Verdict(Status.ERROR, "dates.no_pages")
    future: dict[str, tuple[date, str]] = {}
    backdated: dict[str, tuple[date, date]] = {}
    for page in pages:
        for url, day in page.future:
            if day > today + FUTURE_SLACK:
                future.setdefault(url, (day, page.final_url))
        if page.published is not None and page.issued is not None \
                and (page.issued - page.published).days > tolerance:
            backdated.setdefault(page.final_url, (page.published, page.issued))
    evidence = tuple(Evidence(url=url, source=source, detail=f"future: {day.isoformat()}", actual=day.isoformat(),
                              key="future", params={"date": day.isoformat(), "crawled": today.isoformat()})
                     for url, (day, source) in sorted(future.items())[:EVIDENCE_MAX])
    evidence += tuple(Evidence(url=url, detail=f"published {published.isoformat()} before issued {issued.isoformat()}",
                               expected=issued.isoformat(), actual=published.isoformat(), key="backdated",
                               params={"published": published.isoformat(), "issued": issued.isoformat(),
                                       "days": (issued - published).days})
                      for url, (published, issued) in sorted(backdated.items())[:EVIDENCE_MAX])
    metrics = {"pages": len(pages), "future": len(future), "backdated": len(backdated), "tolerance_days": tolerance}
    if future or backdated:
        return Verdict(Status.WARN, "dates.impossible", {"future": len(future), "backdated": len(backdated)},
                       metrics, evidence)
    return Verdict(Status.PASS, "dates.ok", {"pages": len(pages)}, metrics)
