"""The list and date cases of issue 10 (a column judged on its own list; dates
in context), placed on three sites of an invented 龙泉区:

- www.longquan.gov.test, a TRS WCM portal: its 助企纾困 column (/col/col1201/,
  items /art/Y/M/D/art_1201_N.html, pages drawn by createPageHTML only) is
  stale while a 最新动态 box beside it shows this week's site-wide news, and
  one stale item's headline holds yesterday's 月日 (truth: stale, judged on the
  column's own list); its 负面清单 column spreads over three createPageHTML
  pages a crawl must generate to count every item (truth: fresh, all items);
- scjg.longquan.gov.test, a Hanweb (大汉) department: its 负面清单 column
  embeds the first records in a datastore (<totalrecord>) with a 【置顶】 item
  two years old first, the rest behind dataproxy.jsp (truth: fresh, newest
  after the pinned item, all records); every page carries a CMS
  <meta name="PubDate"> of today while its homepage's news is 30 days old
  (truth: the homepage is stale — the date a reader sees wins);
- czj.longquan.gov.test, a finance bureau whose dates have no year (MM-DD):
  everything it shows is over a year old, so the year-less dates read as
  this year would look fresh; the item URLs (/202x10/t202x1030_N.html, the
  document's number, dated a month before the date shown) carry the real year
  (truth: homepage and 收费目录清单 stale). Its homepage also
  lists a notice whose headline holds yesterday's 月日, and the catalog a
  future-dated item (never the newest, not counted).

Pure data for a given `today`; sites.py adds these plans to the catalogue.
"""

from __future__ import annotations

from datetime import date

from monitor.demo.build import SitePlan
from monitor.demo.columns import Column
from monitor.demo.spec import Ref

UP = ("上级链接", (("朝阳市人民政府", Ref("www.chaoyang.gov.test")),))
YEAR_AGO = 370               # older than a year, so a month-day alone would read as this year
FILED = 31                   # the URL's t-number a month before publication: never the month shown


def _trs_portal() -> SitePlan:
    news = Column("政务要闻", "/xwdt/", (0, 2, 5, 9, 13), home=5, titles="xwdt")
    relief = Column("助企纾困", "/col/col1201/", (120, 150, 200, 260, 320), per_page=2, cms="trs",
                    sidebar="/xwdt/", titles="zqsk_recent", requirement="enterprise_relief")
    negative = Column("市场准入负面清单", "/col/col1202/", (40, 90, 150, 220, 300, 380, 460), per_page=3, cms="trs",
                      sidebar="/xwdt/", titles="fmqd", requirement="negative_list")
    notices = Column("通知公告", "/col/col1203/", (1, 6, 15), home=3, cms="trs", titles="tzgg")
    return SitePlan("longquan", "www.longquan.gov.test", "龙泉区人民政府", "portal", "county", "2113990001",
                    (news, notices, relief, negative),
                    case="issue 10: TRS columns (/col/colN/, /art/…/art_N_i.html, createPageHTML pages only); "
                         "助企纾困 stale beside a fresh 最新动态 box, a headline holding yesterday's date; "
                         "负面清单 over three generated list pages",
                    groups=(UP,))


def _hanweb_department() -> SitePlan:
    negative = Column("市场准入负面清单", "/col/col4501/", (700, 20, 50, 90, 130, 170, 230, 300), per_page=3,
                      cms="hanweb", pinned=True, titles="fmqd", requirement="negative_list")
    columns = (Column("工作动态", "/gzdt/", (30, 33, 40, 52), home=4, titles="xwdt"),
               Column("政务公开", "/zwgk/", children=(
                   Column("通知公告", "/zwgk/tzgg/", (31, 45), home=2, titles="tzgg"), negative)))
    return SitePlan("longquan-scjg", "scjg.longquan.gov.test", "龙泉区市场监督管理局", "market_regulation", "county",
                    "2113990002", columns, pubdate=0,
                    case="issue 10: a Hanweb datastore column (totalrecord, dataproxy.jsp groups, a pinned old "
                         "item first); a <meta PubDate> of today on every page over news 30 days old",
                    groups=(UP,))


def _yearless_finance() -> SitePlan:
    old = YEAR_AGO
    filed = FILED
    columns = (Column("工作动态", "/gzdt/", (old, old + 4, old + 11, old + 25), home=4, titles="xwdt", filed=filed),
               Column("通知公告", "/tzgg/", (old + 40, old + 2), home=2, titles="pxtz", filed=filed),
               Column("政务公开", "/zwgk/", children=(
                   Column("行政事业性收费目录清单", "/zwgk/sfml/", (-10, old + 1, old + 30), titles="sfml",
                          requirement="fee_catalog", filed=filed),)))
    return SitePlan("longquan-czj", "czj.longquan.gov.test", "龙泉区财政局", "finance", "county", "2113990003",
                    columns, date_format="md",
                    case="issue 10: dates without a year (MM-DD), all over a year old: the year comes from the "
                         "item URLs; a headline holding yesterday's 月日; a future-dated catalog item",
                    groups=(UP,))


def list_case_plans(today: date) -> tuple[SitePlan, ...]:
    """The issue 10 list and date cases (see the module docstring)."""
    return (_trs_portal(), _hanweb_department(), _yearless_finance())
