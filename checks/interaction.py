"""interaction:reply — 互动回应差: no online consultation channel, or messages left
without an answer for over three months.

The channel is any link (on the site or to a platform) or crawled page whose
text names one: 留言, 咨询, 信箱, 来信, 问政, 诉求, 互动. The messages are the 留言
the crawl read with their question and reply dates (spiders/pagenotes.py: a
table with a question-date and a reply-date column, rows or pages labelled
留言时间：… 回复时间：…; `Page.messages`), each (title, question date) once. Judged:
those asked in the last `interaction_window_days` (365). A message answered
after more than `interaction_max_reply_days` (90: the checklist's 3 months), or
unanswered for longer than that, fails. A site with a channel but no dated list
passes with nothing to judge (an inspector tests it with a message of their own).

Pure: no I/O, no clock (`taken_at` is now).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from statistics import median
from typing import Any

from checks.base import Evidence, M, Severity, Status, T, Verdict, check
from checks.freshness import answered
from checks.snapshot import SiteSnapshot

CHANNEL = re.compile(r"留言|咨询|信箱|来信|问政|诉求|互动|民意|12345")
EVIDENCE_MAX = 10


def _channel(snap: SiteSnapshot) -> tuple[str, str, str] | None:
    """(url, text, page) of the first link or page that names a consultation channel, in reading order
    (homepage first, then by depth and URL; each page's links in document order), not fetch order."""
    for link in snap.links_in_order:
        if link.tag in ("a", "area", "iframe") and CHANNEL.search(link.text):
            return link.target_url, link.text, link.source_url
    for page in snap.pages_in_order:
        if answered(page) and CHANNEL.search(page.title):
            return page.final_url, page.title, page.final_url
    return None


@check(id="interaction:reply",
       title=T(zh="互动回应", en="Replies to the public"),
       failure_title=T(zh="互动回应差", en="Poor replies to the public"),
       description=T(
           zh="网站应提供网上咨询渠道（留言、咨询、信箱等）。公开的留言列表中，近一年的有效留言超过 3 个月未回复"
              "（或回复晚于 3 个月）的，以及没有任何网上咨询渠道的，判不合格；同时报告回复用时的中位数。",
           en="A site must offer an online consultation channel (留言, 咨询, 信箱…). In its published message list, "
              "any message of the last year answered after more than 3 months, or unanswered for longer, fails, "
              "and so does a site without any channel; the median reply time is reported."),
       basis="国办秘函〔2019〕19号 单项否决：互动回应差", severity=Severity.VETO, needs={"crawl"},
       messages={
           "interaction.ok": T(zh="近一年 {messages} 条留言均在 {max_days} 天内回复，回复用时中位数 {median} 天",
                               en="All {messages} messages of the last year answered within {max_days} days; "
                                  "median {median} days"),
           "interaction.slow": T(zh="近一年 {messages} 条留言中 {late} 条超过 {max_days} 天未回复或回复超期"
                                    "（回复用时中位数 {median} 天）",
                                 en="{late} of {messages} messages of the last year waited more than {max_days} "
                                    "days (median reply {median} days)"),
           "interaction.no_list": T(zh="有网上咨询渠道“{text}”，未发现带日期的留言列表，无法判断回复时效",
                                    en="A consultation channel “{text}” exists; no dated message list to judge"),
           "interaction.no_channel": T(zh="网站没有网上咨询渠道（留言、咨询、信箱等）",
                                       en="The site offers no online consultation channel (留言, 咨询, 信箱…)"),
           "interaction.no_pages": T(zh="没有抓取到页面，无法判断", en="No page was crawled; cannot decide"),
       },
       metrics={"messages": M("近一年留言", "Messages of the last year"),
                "answered": M("已回复", "Answered"),
                "late": M("超期未回复或回复超期", "Waited too long"),
                "share_late": M("超期比例", "Share waiting too long"),
                "median_days": M("回复用时中位数（天）", "Median reply (days)"),
                "channel": M("咨询渠道", "Consultation channel")},
       details={"late": T(zh="{asked} 留言，{replied} 才回复（用时 {days} 天）",
                          en="Asked {asked}, answered {replied} ({days} days)"),
                "unanswered": T(zh="{asked} 留言，至今未回复（已 {days} 天）",
                                en="Asked {asked}, not answered after {days} days"),
                "channel": T(zh="咨询渠道", en="Consultation channel")})
def interaction_reply(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    today = snap.taken_at.date()
    window = int(params.get("interaction_window_days", 365))
    max_days = int(params.get("interaction_max_reply_days", 90))
    if not any(answered(p) for p in snap.pages):
        return Verdict(Status.ERROR, "interaction.no_pages")
    channel = _channel(snap)
    if channel is None:
        return Verdict(Status.FAIL, "interaction.no_channel", {}, {"channel": ""})
    found: dict[tuple[str, date], tuple[date | None, str]] = {}
    for page in snap.pages_in_order:   # a message listed on several pages: the first in reading order
        for title, asked, replied in page.messages:
            if 0 <= (today - asked).days <= window:
                found.setdefault((title, asked), (replied, page.final_url))
    if not found:
        return Verdict(Status.PASS, "interaction.no_list", {"text": channel[1]}, {"channel": channel[0]},
                       (Evidence(url=channel[0], source=channel[2], text=channel[1], detail="channel",
                                 key="channel"),))
    waits = {key: ((replied or today) - key[1]).days for key, (replied, _) in found.items()}
    late = [key for key, days in waits.items() if days > max_days]
    delays = [waits[key] for key, (replied, _) in found.items() if replied is not None]
    middle = round(median(delays), 1) if delays else ""
    slowest = sorted(late, key=lambda key: -waits[key])[:EVIDENCE_MAX]
    evidence = tuple(Evidence(url=found[key][1], text=key[0], expected=key[1].isoformat(),
                              actual=found[key][0].isoformat() if found[key][0] else "",
                              detail=f"asked {key[1].isoformat()}; replied "
                                     f"{found[key][0].isoformat() if found[key][0] else 'never'}; {waits[key]} days",
                              key="late" if found[key][0] else "unanswered",
                              params={"asked": key[1].isoformat(), "days": waits[key],
                                      **({"replied": found[key][0].isoformat()} if found[key][0] else {})})
                     for key in slowest)
    metrics = {"messages": len(found), "answered": len(delays), "late": len(late),
               "share_late": round(len(late) / len(found), 3), "median_days": middle, "channel": channel[0]}
    shown = {"messages": len(found), "late": len(late), "max_days": max_days, "median": middle}
    if late:
        return Verdict(Status.FAIL, "interaction.slow", shown, metrics, evidence)
    return Verdict(Status.PASS, "interaction.ok", shown, metrics, evidence)
