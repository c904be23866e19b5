"""The site scope cases of issue 10 (checks.scope) on the demo web.

龙山区 (www.longshan.gov.test, the default scope): its 信息公开 platform lives
on xxgk.longshan.gov.test, linked from the homepage, and holds the required
市场准入负面清单 column (linked from the homepage navigation, judged on its
list from the crawl) and two dead links; a 政务服务 page on the bare base domain
longshan.gov.test holds a third. The 区财政局 on czj.longshan.gov.test is linked
from the portal, so its pages are the portal's too; listed on its own, its
links up to www.longshan.gov.test are external to it (not crawled).

南台区 (www.nantai.gov.test, scope = "host"): its 信息公开 platform on
xxgk.nantai.gov.test is outside its scope, so the 负面清单 column there is a
column on another host (judged by a column probe) and the dead link on that
platform's homepage is not the site's finding.

Pure data for a given `today`; sites.py adds these plans and hosts.
"""

from __future__ import annotations

from monitor.demo import content
from monitor.demo.build import SitePlan
from monitor.demo.columns import Column
from monitor.demo.externals import BARE
from monitor.demo.spec import DemoSite, LinkSpec, PageSpec, Ref

PORTAL = "www.longshan.gov.test"
XXGK = "xxgk.longshan.gov.test"
BASE = "longshan.gov.test"
DEPT = "czj.longshan.gov.test"
NARROW = "www.nantai.gov.test"
NARROW_XXGK = "xxgk.nantai.gov.test"
UP = ("上级链接", (("龙山区人民政府", Ref(PORTAL)),))


def _portal_columns(lag: int, negative: Column) -> tuple[Column, ...]:
    """A county portal whose 负面清单 column is `negative` (on another host), the rest on its own host."""
    return (Column("政务要闻", "/xwdt/", tuple(a + lag for a in (0, 3, 8, 15)), home=4),
            Column("政务公开", "/zwgk/", children=(
                Column("通知公告", "/zwgk/tzgg/", tuple(a + lag for a in (1, 9, 20)), home=3),
                Column("政策文件", "/zwgk/zcwj/", tuple(a + lag for a in (5, 33)), titles="zcwj"))),
            negative,
            Column("专题专栏", "/ztzl/", children=(
                Column("助企纾困专题", "/ztzl/zqsk/", (6, 40), where="topic", banner=True,
                       requirement="enterprise_relief"),)))


def _longshan() -> tuple[SitePlan, ...]:
    negative = Column("市场准入负面清单", "/fdzdgk/fmqd/", (12, 150, 400), host=XXGK, titles="fmqd",
                      requirement="negative_list")
    portal = SitePlan(
        "longshan", PORTAL, "龙山区人民政府", "portal", "county", "2114050001", _portal_columns(1, negative),
        case="issue 10: 信息公开 on xxgk.longshan (its 负面清单 column judged from the crawl, two dead links), "
             "a page on the bare longshan.gov.test (a dead link), the 区财政局 sub-domain crawled as the portal's",
        groups=(("信息公开", (("龙山区政府信息公开平台", Ref(XXGK)), ("政务服务", Ref(BASE, "/zwfw/")))),
                ("区直部门", (("龙山区财政局", Ref(DEPT)),))))
    xxgk = SitePlan(
        "longshan-xxgk", XXGK, "龙山区政府信息公开", "other", "county", "2114050003",
        (Column("政府信息公开指南", "/gkzn/", (60,), titles="zcwj"),
         Column("法定主动公开内容", "/fdzdgk/", children=(
             Column("通知公告", "/fdzdgk/tzgg/", (2, 11, 30), titles="tzgg", home=3),
             Column("政策解读", "/fdzdgk/zcjd/", (7, 50), titles="zcjd")))),
        case="the 信息公开 platform of 龙山区 (part of the portal's scope)", listed=False,
        groups=(UP,),
        extras={"/": (LinkSpec("a", "/fdzdgk/fmqd/", "市场准入负面清单"),
                      LinkSpec("a", "/uploadfiles/2019/gkzn2019.doc", "政府信息公开指南（2019年版）下载")),
                "article:/fdzdgk/tzgg/:1": (LinkSpec("a", "/fdzdgk/tzgg/201903/t20190312_7.html",
                                                    "相关阅读：2019年政务公开工作要点"),)})
    dept = SitePlan(
        "longshan-czj", DEPT, "龙山区财政局", "finance", "county", "2114050002",
        (Column("工作动态", "/gzdt/", (1, 6, 13), home=3, titles="xwdt"),
         Column("政务公开", "/zwgk/", children=(
             Column("行政事业性收费目录清单", "/zwgk/sfml/", (20, 300), requirement="fee_catalog"),))),
        case="issue 10: a department sub-domain; its links up to www.longshan.gov.test are external to it",
        groups=(UP,))
    return portal, xxgk, dept


def _nantai() -> SitePlan:
    negative = Column("市场准入负面清单", "/fmqd/", (25, 160), host=NARROW_XXGK, titles="fmqd",
                      requirement="negative_list")
    return SitePlan(
        "nantai", NARROW, "南台区人民政府", "portal", "county", "2114060001", _portal_columns(2, negative),
        scope="host",
        case='issue 10: scope = "host": the 信息公开 sub-domain is another host (its 负面清单 judged by a '
             "column probe; the dead link on its homepage is not the site's)",
        groups=(("信息公开", (("南台区政府信息公开平台", Ref(NARROW_XXGK)),)),))


def scope_case_plans() -> tuple[SitePlan, ...]:
    return (*_longshan(), _nantai())


def scope_case_hosts() -> tuple[DemoSite, ...]:
    """The hosts of these cases that are no site plan: the bare base domain, the host-scoped platform."""
    base = DemoSite("longshan-base", BASE, "龙山区政务服务", "other", "county", {
        "/zwfw/": PageSpec(body=content.simple_page("龙山区政务服务", ["龙山区政务服务事项办理指南。"], (
            ("办事指南（2018年版）", "/zwfw/bszn/2018/"), ("龙山区人民政府", Ref(PORTAL)))))},
        listed=False, chrome=BARE, case="the bare base domain of 龙山区 (part of the portal's scope)")
    platform = DemoSite("nantai-xxgk", NARROW_XXGK, "南台区政府信息公开", "other", "county", {
        "/": PageSpec(body=content.simple_page("南台区政府信息公开", ["法定主动公开内容。"], (
            ("市场准入负面清单", "/fmqd/"), ("政府信息公开指南（2019年版）", "/uploadfiles/2019/gkzn2019.doc"))))},
        listed=False, chrome=BARE, case="the 信息公开 platform of 南台区, outside its host scope")
    return base, platform
