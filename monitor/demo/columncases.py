"""The column cases of issue 4 placed on three city-level 开发区/园区 portals of the
demo web: a synonym column, a paginated column (newest on page 1, oldest on
page 3), a yearly catalog published after its deadline, a column reached only
through a 专题 page at depth 2, one only inside the navigation iframe, one on
the province platform, and a decoy headline with the keyword and no column.

Pure data for a given `today`; sites.py adds these plans to the catalogue.
The remaining cases live on the county sites (empty and GBK: 凌源; stale:
北票; canonical names everywhere).
"""

from __future__ import annotations

from datetime import date

from monitor.demo.build import SitePlan
from monitor.demo.columns import Column
from monitor.demo.externals import PROVINCE
from monitor.demo.spec import Ref

DEADLINE = (3, 31)          # the demo's major_decisions deadline "03-31"
UP = ("上级链接", (("朝阳市人民政府", Ref("www.chaoyang.gov.test")),))
PAGED_AGES = (3, 20, 45, 80, 120, 160, 200, 240)
PER_PAGE = 3                 # 8 items: pages of 3, 3 and 2


def judged_year(today: date) -> int:
    """The year whose catalog is judged: this year once its deadline has passed, else last year."""
    return today.year if today > date(today.year, *DEADLINE) else today.year - 1


def decision_ages(today: date, *, late: bool) -> tuple[int, ...]:
    """Item ages of a 重大行政决策事项目录 column: the judged year's catalog (on time on 03-10,
    or late on 04-20 or today, whichever is earlier) and the year before's, on time."""
    year = judged_year(today)
    judged = min(date(year, 4, 20), today) if late else date(year, 3, 10)
    return ((today - judged).days, (today - date(year - 1, 3, 10)).days)


def _news(lag: int, *extra: Column) -> tuple[Column, ...]:
    return (Column("工作动态", "/gzdt/", tuple(a + lag for a in (0, 4, 9, 16)), home=4, titles="xwdt"),
            Column("通知公告", "/tzgg/", tuple(a + lag for a in (2, 12)), home=2, titles="tzgg"), *extra)


def _kfq(today: date) -> SitePlan:
    zwgk = (Column("惠企纾困", "/zwgk/hqjs/", (5, 30), titles="zqsk", requirement="enterprise_relief"),
            Column("重大行政决策事项目录", "/zwgk/zdjc/", decision_ages(today, late=True), titles="zdjc",
                   requirement="major_decisions"))
    return SitePlan("cykfq", "www.cykfq.gov.test", "朝阳经济技术开发区管理委员会", "portal", "city", "2113000101",
                    _news(1, Column("市场准入负面清单", "/fmqd/", PAGED_AGES, per_page=PER_PAGE,
                                    requirement="negative_list"),
                          Column("政务公开", "/zwgk/", children=zwgk)),
                    case="issue 4: 助企纾困 only under the synonym 惠企纾困; a 负面清单 paginated over 3 list "
                         "pages (newest first); the year's 重大行政决策事项目录 published after 03-31",
                    groups=(UP,))


def _gxq(today: date) -> SitePlan:
    topics = (Column("助企纾困专题", "/ztzl/zqsk/", (4, 25), where="topic", requirement="enterprise_relief"),
              Column("优化营商环境", "/ztzl/yshj/", (10, 45), where="topic"))
    return SitePlan("cygxq", "www.cygxq.gov.test", "朝阳高新技术产业开发区管理委员会", "portal", "city", "2113000102",
                    _news(2, Column("专题专栏", "/ztzl/", children=topics),
                          Column("政务公开", "/zwgk/", children=(
                              Column("重大行政决策事项目录", "/zwgk/zdjc/", decision_ages(today, late=False),
                                     titles="zdjc", requirement="major_decisions"),)),
                          Column("市场准入负面清单", "/fmqd/", (10, 50), where="iframe",
                                 requirement="negative_list")),
                    case="issue 4: 助企纾困专题 only on the 专题专栏 page (depth 2, no homepage banner); "
                         "负面清单 only inside the homepage's navigation iframe; catalog on time",
                    groups=(UP,))


def _zbq(today: date) -> SitePlan:
    return SitePlan("cyzbq", "www.cyzbq.gov.test", "朝阳综合保税区管理委员会", "portal", "city", "2113000103",
                    _news(1, Column("助企纾困", "/cyzbq/zqsk/", (6, 35), host=PROVINCE, titles="zqsk",
                                    requirement="enterprise_relief"),
                          Column("政策文件", "/zcwj/", (8, 60, 150), titles="fmqd", home=3),
                          Column("政务公开", "/zwgk/", children=(
                              Column("重大行政决策事项目录", "/zwgk/zdjc/", decision_ages(today, late=False),
                                     titles="zdjc", requirement="major_decisions"),))),
                    case="issue 4: 助企纾困 column on the province platform, linked from the navigation; "
                         "no 负面清单 column, only 政策文件 headlines holding the keyword (a decoy)",
                    groups=(UP,))


def column_case_plans(today: date) -> tuple[SitePlan, ...]:
    return (_kfq(today), _gxq(today), _zbq(today))
