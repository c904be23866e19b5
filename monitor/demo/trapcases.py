"""The crawl-trap cases of issue 11 (bounded work), on 龙潭区 (www.longtan.gov.test):

- a 领导日程 calendar (/hdjl/ldrc/) showing this month, whose 上一月/下一月
  links count `?month=N` without bound (month=0, -1 … and 13, 14 …, each
  served with 200): a crawl fetches months 1-12 and cuts month=0 and month=13;
- a 工作动态 list (/gzdt/) of three pages whose template writes 下一页 as
  index_{N+1}.html on every page, its last page and beyond included, while
  尾页 names index_2.html; the server answers any index_N.html (暂无信息):
  a crawl cuts index_3.html, the page past the last page;
- a 往期回顾 archive (/zwgk/wqhg/) linking this month, June 2005 (an old
  archive a crawl must still fetch) and, by a template bug, January fifteen
  years ahead (a date path a crawl cuts).

The site's max_depth reaches every month of the calendar and its max_pages
holds the real pages with room to spare, but not the endless ones: cutting
the traps keeps the budget. Truth: `trap_cuts` (crawlmodel.trap_cut).
Pure data for a given `today`; sites.py adds this plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from html import escape
from urllib.parse import parse_qs

from monitor.demo.build import SitePlan
from monitor.demo.columns import Column
from monitor.demo.markup import a, date_span, layout
from monitor.demo.spec import PageContext, PageSpec, Ref, Route

HOST = "www.longtan.gov.test"
CALENDAR, LISTING, ARCHIVE = "/hdjl/ldrc/", "/gzdt/", "/zwgk/wqhg/"
LIST_PAGES = 3
ROWS = 4
OLD_ARCHIVE = (2005, 6)
FUTURE_YEARS = 15
MAX_DEPTH = 15          # the calendar's months 1 and 12 are 11 steps from any month, its entry at depth 1
MAX_PAGES = 45          # the real pages fit; months and list pages counted on to MAX_DEPTH would not
UP = ("上级链接", (("朝阳市人民政府", Ref("www.chaoyang.gov.test")),))

_LIST_PAGE = re.compile(rf"{LISTING}index_(\d{{1,6}})\.html\Z")
_ARCHIVE_MONTH = re.compile(rf"{ARCHIVE}(\d{{4}})/(\d{{2}})/\Z")


def _month(ctx: PageContext) -> int:
    asked = parse_qs(ctx.query).get("month", [""])[0]
    try:
        return int(asked)
    except ValueError:
        return ctx.today.month


def _calendar(ctx: PageContext) -> str:
    """This month, or the month=N asked (any integer: the template counts on past 12 and below 1)."""
    month = _month(ctx)
    main = (f"<h2>领导日程　{ctx.today.year}年{month}月</h2>\n<p>本月暂无公开的活动安排。</p>\n<p>"
            + a(ctx, f"?month={month - 1}", "上一月") + "　" + a(ctx, f"?month={month + 1}", "下一月") + "</p>\n")
    return layout(ctx, f"领导日程_{ctx.site.name}", main)


def _list_page(number: int) -> Callable[[PageContext], str]:
    """Page `number` (0-based) of 工作动态: rows on the first LIST_PAGES, a pager whose 下一页 never stops."""

    def render(ctx: PageContext) -> str:
        rows = "\n".join(f"    <li><span>{escape(ctx.site.name)}工作动态（第{number * ROWS + i + 1}期）</span>"
                         f"{date_span(ctx, ctx.today - timedelta(days=3 + 5 * (number * ROWS + i)))}</li>"
                         for i in range(ROWS)) if number < LIST_PAGES else ""
        body = f'  <ul class="list">\n{rows}\n  </ul>\n' if rows else '  <p class="empty">暂无信息</p>\n'
        previous = "index.html" if number <= 1 else f"index_{number - 1}.html"
        links = [a(ctx, "index.html", "首页")] + ([a(ctx, previous, "上一页")] if number else [])
        links += [a(ctx, "index.html" if n == 0 else f"index_{n}.html", str(n + 1)) for n in range(LIST_PAGES)]
        links += [a(ctx, f"index_{number + 1}.html", "下一页"), a(ctx, f"index_{LIST_PAGES - 1}.html", "尾页")]
        pager = f'  <div class="page">共{LIST_PAGES}页　{"　".join(links)}</div>\n'
        return layout(ctx, f"工作动态_{ctx.site.name}", "<h2>工作动态</h2>\n" + body + pager)

    return render


def _listed(path: str) -> PageSpec | None:
    matched = _LIST_PAGE.match(path)
    return PageSpec(body=_list_page(int(matched.group(1)))) if matched else None


def _archive(ctx: PageContext) -> str:
    today = ctx.today
    months = ((today.year, today.month, "本月"), (*OLD_ARCHIVE, f"{OLD_ARCHIVE[0]}年{OLD_ARCHIVE[1]}月"),
              (today.year + FUTURE_YEARS, 1, f"{today.year + FUTURE_YEARS}年1月"))
    rows = "\n".join(f"    <li>{a(ctx, f'{year}/{month:02d}/', text)}</li>" for year, month, text in months)
    return layout(ctx, f"往期回顾_{ctx.site.name}", f'<h2>往期回顾</h2>\n  <ul class="links">\n{rows}\n  </ul>\n')


def _archive_month(path: str) -> PageSpec | None:
    matched = _ARCHIVE_MONTH.match(path)
    if matched is None:
        return None
    year, month = int(matched.group(1)), int(matched.group(2))

    def render(ctx: PageContext) -> str:
        return layout(ctx, f"{year}年{month}月_{ctx.site.name}",
                      f"<h2>往期回顾　{year}年{month}月</h2>\n<p>本月信息已归档。</p>\n")

    return PageSpec(body=render) if 1 <= month <= 12 else None


def trap_case_plans(today: date) -> tuple[SitePlan, ...]:
    """The issue 11 crawl-trap case (see the module docstring)."""
    pages = {CALENDAR: PageSpec(body=_calendar), ARCHIVE: PageSpec(body=_archive),
             LISTING: PageSpec(body=_list_page(0)), f"{LISTING}index.html": PageSpec(body=_list_page(0))}
    columns = (Column("政务要闻", "/xwdt/", (0, 4, 9), home=3, titles="xwdt"),
               Column("通知公告", "/tzgg/", (2, 12), home=2, titles="tzgg"))
    return (SitePlan("longtan", HOST, "龙潭区人民政府", "portal", "county", "2114070001", columns,
                     case="issue 11: crawl traps cut, not crawled: a ?month=N calendar counting past 12 and "
                          "below 1, a list whose 下一页 runs past its 尾页, a date-path archive link 15 years ahead",
                     groups=(("政务公开", (("领导日程", CALENDAR), ("工作动态", LISTING), ("往期回顾", ARCHIVE))), UP),
                     pages=pages, routes=(Route(f"{LISTING}index_", _listed), Route(ARCHIVE, _archive_month)),
                     max_depth=MAX_DEPTH, max_pages=MAX_PAGES),)
