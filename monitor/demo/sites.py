"""The demo web's catalogue: the 朝阳 sites, what each is made of and the defects
placed on it. Adding a case is a line here: a column in a tree, a `LinkSpec` on
a page, a field of a `SitePlan`. Pure data built for a given `today`; no I/O.

Item ages are in days before `today`; the first age of a site's newest column
sets its homepage freshness (see the `case` of each site).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from monitor.demo import content
from monitor.demo.build import SitePlan, build_site
from monitor.demo.columncases import column_case_plans
from monitor.demo.faultcases import fault_case_plans
from monitor.demo.footercases import footer_case_plans, footer_hosts
from monitor.demo.columns import Column
from monitor.demo.externals import (
    OFFICE,
    PLATFORM,
    PROVINCE,
    RATE_LIMITED,
    SHARED_DEAD_HOST,
    SHARED_DEAD_PAGE,
    SLOW_S,
    TAX_HOST,
    WAF,
    others,
)
from monitor.demo.ipv6cases import ipv6_case_plans
from monitor.demo.linkcases import link_case_plans
from monitor.demo.listcases import list_case_plans
from monitor.demo.screencases import screen_case_plans
from monitor.demo.markup import STATIC_HOST
from monitor.demo.scopecases import scope_case_hosts, scope_case_plans
from monitor.demo.spec import (
    UNSERVED_V4,
    DemoSite,
    DnsSpec,
    Flaky,
    Huge,
    LinkSpec,
    PageSpec,
    Redirect,
    Ref,
)
from monitor.demo.trapcases import trap_case_plans
from monitor.demo.updatecases import update_case_hosts, update_case_plans

HUGE_BYTES = 3 * 2**20       # over the demo's max_response_bytes (2 MiB)
ROBOTS = "User-agent: *\nDisallow: /hdjl/\nDisallow: /search/\n"
CITY = "www.chaoyang.gov.test"
COUNTIES = (("双塔区人民政府", "www.shuangta.gov.test"), ("龙城区人民政府", "www.longcheng.gov.test"),
            ("北票市人民政府", "www.beipiao.gov.test"), ("凌源市人民政府", "www.lingyuan.gov.test"),
            ("朝阳县人民政府", "www.chaoyangxian.gov.test"), ("建平县人民政府", "www.jianping.gov.test"),
            ("喀左县人民政府", "www.kazuo.gov.test"))
DEPARTMENTS = (("市发展和改革委员会", "fgw.chaoyang.gov.test"), ("市市场监督管理局", "scjg.chaoyang.gov.test"),
               ("市商务局", "swj.chaoyang.gov.test"), ("市财政局", "czj.chaoyang.gov.test"))


def _ages(lag: int, *ages: int) -> tuple[int, ...]:
    return tuple(age + lag for age in ages)


def catalog_ages(today: date) -> tuple[int, ...]:
    """This year's 重大行政决策事项目录 dated by 03-15 (or yesterday, early in the year), last year's too."""
    this_year = min(date(today.year, 3, 15), date.fromordinal(today.toordinal() - 1))
    last_year = date(today.year - 1, 3, 10)
    return ((today - this_year).days, (today - last_year).days)


def report_ages(today: date, *, late: bool = False) -> tuple[int, ...]:
    """The age of the 政府信息公开工作年度报告 the document:annual_report check judges (the one for the year
    before the latest 01-31 deadline that has passed): on time on 01-20, or late on 03-15 (today, if earlier)."""
    year = today.year if today > date(today.year, 1, 31) else today.year - 1
    day = min(date(year, 3, 15), today) if late else date(year, 1, 20)
    return ((today - day).days,)


def portal_columns(lag: int, *, relief: tuple[int, ...] | None = (6, 33, 70),
                   negative: tuple[int, ...] | None = (40, 200), decisions: tuple[int, ...] | None = None,
                   tzgg: tuple[int, ...] | None = None, gbk: tuple[int, ...] = (),
                   report: tuple[int, ...] | None = None) -> tuple[Column, ...]:
    """A 人民政府 portal: 政务要闻 (paginated), 政务公开 with sub-columns, 政策文件, 专题专栏.
    Ages are `lag` days older, except the ones given. None leaves a requirement column out;
    () makes it empty. `report` dates the 政府信息公开年报 (default: `lag` + 300 days old)."""
    notices = tzgg if tzgg is not None else _ages(lag, 1, 8, 19)
    zwgk = [Column("通知公告", "/zwgk/tzgg/", notices, home=4), Column("政策解读", "/zwgk/zcjd/", _ages(lag, 3, 27),
                                                               legacy_gbk=gbk)]
    if negative is not None:
        zwgk.append(Column("市场准入负面清单", "/zwgk/fmqd/", negative, requirement="negative_list"))
    if decisions is not None:
        zwgk.append(Column("重大行政决策事项目录", "/zwgk/zdjc/", decisions, requirement="major_decisions"))
    zwgk.append(Column("政府信息公开年报", "/zwgk/ndbg/", report if report is not None else (lag + 300,)))
    topics = [Column("优化营商环境", "/ztzl/yshj/", _ages(lag, 10, 45), where="topic", banner=True)]
    if relief is not None:
        topics.insert(0, Column("助企纾困专题", "/ztzl/zqsk/", relief, where="topic", banner=True,
                                requirement="enterprise_relief"))
    return (Column("政务要闻", "/xwdt/", _ages(lag, 0, 2, 5, 9, 14, 22, 35), per_page=5, home=6),
            Column("政务公开", "/zwgk/", children=tuple(zwgk)),
            Column("政策文件", "/zcwj/", _ages(lag, 4, 12, 30, 61), home=4),
            Column("专题专栏", "/ztzl/", children=tuple(topics)))


def department_columns(lag: int, *requirement_columns: Column, nav: tuple[Column, ...] = ()) -> tuple[Column, ...]:
    """A 委办局 site: 工作动态, 政务公开 (通知公告, 政策文件 and the requirement columns given), extra nav columns."""
    zwgk = (Column("通知公告", "/zwgk/tzgg/", _ages(lag, 1, 9, 24), home=4),
            Column("政策文件", "/zwgk/zcwj/", _ages(lag, 5, 40), titles="zcwj"), *requirement_columns)
    return (Column("工作动态", "/gzdt/", _ages(lag, 0, 3, 7, 15, 28), home=5, titles="xwdt"),
            Column("政务公开", "/zwgk/", children=zwgk), *nav)


def county_links() -> tuple[tuple[str, Ref], ...]:
    return tuple((name, Ref(host)) for name, host in COUNTIES)


def _a(href: str | Ref, text: str) -> LinkSpec:
    return LinkSpec("a", href, text)


UP = ("上级链接", (("朝阳市人民政府", Ref(CITY)),))


def _city(today: date) -> SitePlan:
    huge = PageSpec(behaviour=Huge(HUGE_BYTES, content_type="text/html"))
    return SitePlan("chaoyang", CITY, "朝阳市人民政府", "portal", "city", "2113000001",
                    portal_columns(1, decisions=catalog_ages(today), gbk=(2,), report=report_ages(today)) + (
                        Column("政务服务事项目录", "/zwfwsx/", _ages(1, 16, 90), where="iframe"),),
                    case="the model site: every check passes; HTTPS with a trusted certificate (HTTP redirects "
                         "there); the 12366 link, the 年度报告 on time, every 政策文件 with its 解读; "
                         "tricky links that are not dead; JS and meta redirects, an iframe, a GBK article "
                         "without charset, a page over the size cap",
                    https=True,
                    groups=(("县（市）区政府", county_links()[:6]),
                            ("快速通道", (("信息公开（旧版）", "/xxgk/"), ("政务公开（旧版）", "/zwgk/index.htm"),
                                      ("2019年政策文件", "/zcwj/#wj2019"), ("IPv6访问", Ref("::1", "/ipv6/")),
                                      ("辽宁省人民政府", Ref(PROVINCE)), ("省政府信息公开", Ref(PROVINCE, "/zwgk/moved.html")))),
                            ("便民服务", (("12366纳税服务平台", Ref(TAX_HOST)),))),
                    # issue 14: every 政策文件 is paired with its 解读: two link a 解读, two are linked back from one
                    extras={"/zcwj/": (_a("/zcwj/gzbg2019.html", "2019年朝阳市政府工作报告（全文）"),),
                            "article:/zcwj/:1": (_a("article:/zwgk/zcjd/:1", "图解：政策要点一图读懂"),),
                            "article:/zcwj/:2": (_a("article:/zwgk/zcjd/:1", "相关解读：政策解读"),),
                            "article:/zwgk/zcjd/:1": (_a("article:/zcwj/:3", "政策原文（一）"),
                                                      _a("article:/zcwj/:4", "政策原文（二）"))},
                    pages={"/xxgk/": PageSpec(body=content.js_redirect("/zwgk/")),
                           "/zwgk/index.htm": PageSpec(body=content.meta_refresh("/zwgk/")),
                           "/zcwj/gzbg2019.html": huge},
                    service_links=(("辽宁政务服务网", Ref(PLATFORM)),))


def _counties(today: date) -> tuple[SitePlan, ...]:
    calendar_pages, calendar_entry = content.calendar("/hdjl/rili/")
    trap_pages, trap_route, _ = content.path_trap("/ztzl/xczx/", "zcjd/", "xczx/", "乡村振兴")
    return (
        SitePlan("shuangta", "www.shuangta.gov.test", "双塔区人民政府", "portal", "county", "2113020001",
                 portal_columns(3, relief=None, tzgg=(4, 11)),
                 case="/ redirects to /index.html, a navigation-only homepage (freshness from sub-pages); "
                      "no 助企纾困 column; links a looping department and an https platform with a bad cert; "
                      "one 政策文件 of four linked to its 解读 (issue 14: partly paired)",
                 home="nav-only", home_fields={"behaviour": Redirect("/index.html", 302)},
                 groups=(("区直部门", (("双塔区发展和改革局", Ref("fgj.shuangta.gov.test")),
                                   ("双塔区财政局", Ref("czj.shuangta.gov.test")))), UP),
                 extras={"/index.html": (_a(Ref(PLATFORM, "/", scheme="https"), "辽宁政务服务网"),
                                         _a(SHARED_DEAD_PAGE, "省政府信息公开年报")),
                         "article:/zcwj/:1": (_a("article:/zwgk/zcjd/:1", "相关解读：政策解读"),)}),
        SitePlan("longcheng", "www.longcheng.gov.test", "龙城区人民政府", "portal", "county", "2113030001",
                 portal_columns(1, negative=None), dns=DnsSpec.v4_only(), home="js", date_format="slash",
                 case="A but no AAAA; / is a JavaScript redirect to /index.shtml; no 负面清单 column; "
                      "a 410 link and a platform page that is a soft 404 only by fingerprint; its 办事服务 page "
                      "links the 12366 platform at a 404 address (issue 14: a dead service link)",
                 groups=(("区直部门", (("龙城区市场监督管理局", Ref("scjg.longcheng.gov.test")),)), UP),
                 extras={"/zwgk/tzgg/": (_a(Ref(PROVINCE, "/zwgk/gone.html"), "关于废止部分省政府规章的决定"),)},
                 service_links=(("辽宁政务服务网", Ref(PLATFORM)),
                                ("不动产登记办理", Ref(PLATFORM, "/bsfw/item/210000-0001.html")),
                                ("12366纳税服务平台", Ref(TAX_HOST, "/wsbs/")))),
        SitePlan("beipiao", "www.beipiao.gov.test", "北票市人民政府", "portal", "county", "2113810001",
                 portal_columns(30, relief=(120, 180), report=report_ages(today, late=True)),
                 dns=DnsSpec.alias("beipiao.cdn.test"), date_format="bracket",
                 case="CNAME chain to the serving host; newest item 30 days old (stale); 助企纾困 stale; "
                      "a dead banner image; links a refusing department; the 年度报告 after 01-31 (issue 14: late)",
                 groups=(("市直部门", (("北票市财政局", Ref("czj.beipiao.gov.test")),)), UP),
                 extras={"/": (LinkSpec("img", "/images/2019/banner_old.jpg", "北票市旅游宣传"),
                               _a(SHARED_DEAD_HOST, "朝阳市档案局（旧版）"))}),
        SitePlan("lingyuan", "www.lingyuan.gov.test", "凌源市人民政府", "portal", "county", "2113820001",
                 portal_columns(20, negative=()), encoding="gbk", declare="meta", date_format="cn", clock=True,
                 copyright_since=2008,
                 case="GBK, charset only in <meta>; a 今天是 clock and a Copyright 2008-<year> footer over "
                      "items 20 days old (stale); empty 负面清单; dead stylesheet; a deep internal 404",
                 groups=(UP,),
                 extras={"/": (_a(Ref(PROVINCE, "/cgi/search.do?sid=2113820001"), "省政府站内搜索"),
                               _a(SHARED_DEAD_PAGE, "省政府信息公开年报")),
                         "/hdjl/": (LinkSpec("link", "/hdjl/css/hdjl.css"),),
                         "article:/xwdt/:7": (_a("/xwdt/201901/t20190301_9.html", "相关阅读：2019年政务公开工作要点"),)}),
        SitePlan("chaoyangxian", "www.chaoyangxian.gov.test", "朝阳县人民政府", "portal", "county", "2113210001",
                 portal_columns(5, tzgg=(-20, 5, 12, 30)), home_fields={"behaviour": Flaky()}, date_format="dot",
                 case="flaky homepage (503, one retry recovers); a future-dated notice; a calendar trap and a "
                      "path trap (max_depth 5)",
                 groups=(("互动", (("领导活动安排", calendar_entry),)), UP),
                 banners=(("乡村振兴", "/ztzl/xczx/"),),
                 extras={"/": (_a(Ref(PROVINCE, "/flaky.html"), "省政务公开专栏"),)},
                 pages={**calendar_pages, **trap_pages}, routes=(trap_route,), max_depth=5),
        SitePlan("jianping", "www.jianping.gov.test", "建平县人民政府", "portal", "county", "2113220001",
                 portal_columns(2), encoding="gbk", declare="none", date_format="md",
                 case="GBK pages without any charset; dates without a year (MM-DD); a dead script; an internal "
                      "200 page that says 页面不存在",
                 groups=(UP,),
                 extras={"/": (LinkSpec("script", Ref(STATIC_HOST, "/static/js/old/jquery-1.4.2.min.js")),),
                         "/zcwj/": (_a("/zcwj/201812/t20181206_3.html", "关于印发《建平县政务公开实施细则》的通知"),)},
                 pages={"/zcwj/201812/t20181206_3.html": PageSpec(body=content.soft_404_page, soft_404=True)}),
        SitePlan("kazuo", "www.kazuo.gov.test", "喀喇沁左翼蒙古族自治县人民政府", "portal", "county", "2113240001",
                 portal_columns(2), home_fields={"delay_s": SLOW_S}, timeout_s=1,
                 case="homepage slower than the timeout"),
    )


def _departments() -> tuple[SitePlan, ...]:
    return (
        SitePlan("fgw", "fgw.chaoyang.gov.test", "朝阳市发展和改革委员会", "development_reform", "city", "2113000002",
                 department_columns(2, Column("市场准入负面清单", "/zwgk/fmqd/", (25, 190), requirement="negative_list"),
                                    nav=(Column("扩大有效投资", "/kdyxtz/", (6, 20, 48), titles="yxtz",
                                                requirement="effective_investment"),)),
                 robots=ROBOTS,
                 case="robots.txt disallows /hdjl/ (its dead link must not be reported); a 429 host, a WAF host, "
                      "a redirect loop, a dead attachment; shared dead targets",
                 groups=(("相关网站", (("辽宁省发展和改革委员会", Ref(WAF)),)), UP),
                 extras={"/": (_a(SHARED_DEAD_PAGE, "省政府信息公开年报"), _a(SHARED_DEAD_HOST, "朝阳市档案局（旧版）")),
                         "/hdjl/": (_a("/hdjl/zxft/2019/", "2019年在线访谈"),),
                         "/zwgk/": (_a(Ref(RATE_LIMITED, "/tjsj/"), "辽宁统计数据"),),
                         "/zwgk/tzgg/": (_a(Ref(PROVINCE, "/loop/a.html"), "省发展改革委通知公告"),),
                         "article:/gzdt/:2": (_a("/uploadfiles/201905/xmsbb.doc", "附件：项目申报表.doc"),)}),
        SitePlan("scjg", "scjg.chaoyang.gov.test", "朝阳市市场监督管理局", "market_regulation", "city", "2113000003",
                 department_columns(2, Column("市场准入负面清单", "/zwgk/fmqd/", (30,), requirement="negative_list")),
                 home_fields={"status": 500, "body": content.server_error_page(500)}, case="homepage always 500"),
        SitePlan("swj", "swj.chaoyang.gov.test", "朝阳市商务局", "commerce", "city", "2113000004",
                 department_columns(3, Column("市场准入负面清单", "/zwgk/fmqd/", (15, 200), requirement="negative_list")),
                 dns=DnsSpec.v4_only(), date_format="cn",
                 case="A but no AAAA; a redirect to a 404, too many redirects, a WAF-guarded link",
                 groups=(("相关网站", (("辽宁省发展和改革委员会", Ref(WAF)),)), UP),
                 extras={"/zwgk/": (_a(Ref(PROVINCE, "/redirect/old-404.html"), "辽宁省商务厅通知（旧址）"),),
                         "article:/gzdt/:1": (_a(Ref(PROVINCE, "/chain/0.html"), "全省外贸企业名录"),)}),
        SitePlan("czj", "czj.chaoyang.gov.test", "朝阳市财政局", "finance", "city", "2113000005",
                 department_columns(2, Column("行政事业性收费目录清单", "/zwgk/sfml/", (20, 380),
                                              requirement="fee_catalog")),
                 home_fields={"status": 404, "body": content.NOT_FOUND_PLAIN}, case="homepage 404"),
        SitePlan("yshj", "yshj.chaoyang.gov.test", "朝阳市营商环境建设局", "business_environment", "city", "2113000006",
                 department_columns(1, nav=(Column("优化营商环境", "/yshj/", (2, 9, 30), titles="yshj"),)),
                 max_pages=10,
                 case="max_pages 10 is reached; dead links only on the homepage: a timing-out county, a 500 and "
                      "a 404 department, a refused office system, shared dead targets",
                 groups=(("县（市）区政府", county_links()),
                         ("市直部门", tuple((name, Ref(host)) for name, host in DEPARTMENTS))),
                 extras={"/": (_a(Ref(OFFICE), "内部办公系统"), _a(SHARED_DEAD_PAGE, "省政府信息公开年报"),
                               _a(SHARED_DEAD_HOST, "朝阳市档案局（旧版）"),
                               LinkSpec("img", "/images/ad/yshj2019.gif", "营商环境宣传"))}),
        SitePlan("shuangta-fgj", "fgj.shuangta.gov.test", "双塔区发展和改革局", "development_reform", "county",
                 "2113020002", department_columns(2), case="redirect loop / → /index.html → /",
                 home_fields={"behaviour": Redirect("/index.html", 302)},
                 pages={"/index.html": PageSpec(behaviour=Redirect("/", 302))}),
        SitePlan("longcheng-scjg", "scjg.longcheng.gov.test", "龙城区市场监督管理局", "market_regulation", "county",
                 "2113030002", department_columns(2), case="DNS NXDOMAIN", dns=DnsSpec.failing("nxdomain")),
        SitePlan("beipiao-czj", "czj.beipiao.gov.test", "北票市财政局", "finance", "county", "2113810002",
                 department_columns(2), case="connection refused (127.0.0.2, nothing listens)",
                 dns=DnsSpec.v4_only(UNSERVED_V4)),
        SitePlan("shuangta-czj", "czj.shuangta.gov.test", "双塔区财政局", "finance", "county", "2113020003",
                 department_columns(6, Column("行政事业性收费目录清单", "/zwgk/sfml/", (33, 300),
                                              requirement="fee_catalog")),
                 date_format="slash", case="a small healthy finance site with its 收费目录清单",
                 groups=(UP,), extras={"/": (_a(SHARED_DEAD_HOST, "朝阳市档案局（旧版）"),)}),
    )


def _plans(today: date) -> tuple[SitePlan, ...]:
    return (_city(today), *_counties(today), *_departments(), *column_case_plans(today), *ipv6_case_plans(today),
            *footer_case_plans(today), *link_case_plans(today), *list_case_plans(today),
            *scope_case_plans(), *trap_case_plans(today), *fault_case_plans(), *screen_case_plans(),
            *update_case_plans(today))


def build_sites(today: date) -> tuple[DemoSite, ...]:
    """Every site of the demo web, listed ones first."""
    return assemble(_plans(today), today, scope_case_hosts()) + footer_hosts() + update_case_hosts()


def assemble(plans: Sequence[SitePlan], today: date, hosts: Sequence[DemoSite] = ()) -> tuple[DemoSite, ...]:
    """The sites of `plans`, every unlisted host (province, platforms, static, lab…) and `hosts`, with
    the columns a plan places on another host merged there: `DemoWeb(sites=assemble([plan], today))`."""
    built = [build_site(plan, today) for plan in plans]
    planned = {result.site.host: result.site for result in built}
    unlisted = {site.host: site for site in (*others(), *hosts)}
    for result in built:
        for host, pages in result.foreign.items():
            pool = planned if host in planned else unlisted
            pool[host] = replace(pool[host], pages={**pool[host].pages, **pages})
    return tuple(planned.values()) + tuple(unlisted.values())
