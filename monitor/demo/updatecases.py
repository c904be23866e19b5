"""The national checklist's cases of issue 17, placed on an invented 龙凤区 portal
(www.longfeng.gov.test):

- 栏目不更新: five columns past their class's period — 工作动态 and 乡镇动态
  (动态、要闻类, 2 weeks), 通知公告 and the 政务公开 sub-column 政策文件
  (通知公告、政策文件类, 6 months), 人事信息 (人事、规划计划类, 1 year): a veto;
  beside them 规划计划 is within its year, and 抗疫专题（历史）, a historical
  专题 whose items are years old, is exempt (a look-alike that must not count);
- 空白栏目: five 政务公开 sub-columns that show only 暂无信息: a veto; the
  政务公开 column itself lists sub-columns and no item, and is no blank column;
- impossible dates: 乡镇动态 lists an item dated five days after today, and
  规划计划's two articles state a 成文日期 20 days after they were published;
  通知公告's articles state one 3 days before (as they should: no finding);
- 暗链: its 友情链接 page (/yqlj/, linked from the homepage) hides links to a
  gambling host in a block its <style> sets to display:none, in an inline
  visibility:hidden block, off-screen, and in a block a rule of the site-wide
  linked sheet /css/style.css hides (SHEET_CSS); beside them hidden mobile
  menus of the site's own columns (inline and by the linked sheet), links
  shown on large screens only (@media hides them on small ones, in the page's
  <style> and in the linked sheet), a drop-down list of other sites the linked
  sheet shows on hover and a plain visible link to the province are no findings;
- 链接变质: the same page links, visibly, 龙凤区旅游网 (www.lfly.test, whose
  domain now serves a gambling page), 龙凤文化网 (www.lfwh.test, now a
  domain for sale), 龙凤科技网 (www.lfkj.test, a plain page, but its DNS is
  an alias of a parking service) and 龙凤农业网 (www.lfny.test, a plain page
  with plain A records, but its domain's nameservers are a parking service's);
  the hidden links above lead to a gambling page too. The province's portal
  and 龙凤商务网 (www.lfsw.test: a plain page, its domain's own nameservers),
  linked beside them, are no findings;
- 互动回应差: its 互动交流 page lists 留言 with question and reply dates: one
  answered after 100 days, one unanswered for 120 days (both fail), one
  answered in 5 days, one asked 20 days ago and pending, one from over a year
  ago (outside the window). Beside it, 龙凤区教育局 (jyj.longfeng.gov.test)
  answers every message within a month (the look-alike that passes), and
  龙凤区体育局 (tyj.longfeng.gov.test) has no consultation channel at all (fails).

Pure data for a given `today`; sites.py adds the plan to the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from html import escape

from monitor.demo import content
from monitor.demo.build import SITE_CSS, SitePlan
from monitor.demo.columns import Column
from monitor.demo.externals import BARE, PROVINCE
from monitor.demo.markup import a, layout
from monitor.demo.spec import DemoSite, DnsSpec, LinkSpec, PageContext, PageSpec, Ref

UP = ("上级链接", (("朝阳市人民政府", Ref("www.chaoyang.gov.test")),))
BLANK = (("财政预决算", "/zwgk/czyjs/"), ("建议提案办理", "/zwgk/jyta/"), ("审计结果", "/zwgk/sjjg/"),
         ("统计信息", "/zwgk/tjxx/"), ("政府采购", "/zwgk/zfcg/"))


BET_HOST = "www.xpj-yule.test"
FRIENDS = "/yqlj/"
HIDDEN = (("display:none (.yq-hide)", "/", "澳门新葡京"), ("visibility:hidden (inline style)", "/zr/", "真人娱乐"),
          ("off-screen (inline style)", "/bjl/", "百家乐"),
          ("display:none (.yq-gg in /css/style.css)", "/pk10/", "北京赛车"))
"""(how it is hidden, path on BET_HOST, link text) of the 暗链 on the 友情链接 page."""
SHEET_CSS = (SITE_CSS + ".yq-gg{display:none}\n.m-menu{display:none}\n"
             "@media (max-width:640px){.pc-link{display:none}}\n"
             ".dropdown .sub{display:none}\n.dropdown li:hover .sub{display:block}\n")
"""龙凤区's site-wide style sheet (/css/style.css, linked by every page): it hides the last 暗链 of HIDDEN
(.yq-gg); its other hiding rules are look-alikes: a mobile menu of the site's own columns, a link hidden on small
screens only (@media) and a drop-down list of other sites shown on hover."""
TURNED = (("龙凤区旅游网", "www.lfly.test", "gambling"), ("龙凤文化网", "www.lfwh.test", "parked"),
          ("龙凤科技网", "www.lfkj.test", "parked"), ("龙凤农业网", "www.lfny.test", "parked"))
"""(link text, host, what it serves now) of the visible links that turned."""
PARKING_ALIAS = "lfkj.sedoparking.com"
"""www.lfkj.test's CNAME: a parking service, though its page says nothing (its A records: externals.EXTRA_DNS)."""
PARKING_NS = "ns1.sedoparking.com"
"""The first nameserver of lfny.test (externals.EXTRA_DNS): a parking service's, though www.lfny.test has plain
A records and its page says nothing."""
PLAIN = ("龙凤商务网", "www.lfsw.test")
"""A visible link whose host has ordinary nameservers (lfsw.test's own) and a page that says nothing: no finding."""
TURNED_HOSTS = frozenset({BET_HOST, *(host for _, host, _ in TURNED)})


def friends_page(ctx: PageContext) -> str:
    """友情链接: visible links, then the hidden ones (HIDDEN) and the look-alikes that are no 暗链."""
    bet = [a(ctx, Ref(BET_HOST, path), text) for _, path, text in HIDDEN]
    def menu() -> str:
        return "".join(f"<li>{a(ctx, path, text)}</li>" for text, path in (("工作动态", "/gzdt/"), ("通知公告", "/tzgg/")))

    main = ("<style>.yq-hide{display:none}\n@media (max-width:640px){.wide-only{display:none}}</style>\n"
            f"<h2>友情链接</h2>\n<p>{a(ctx, Ref(PROVINCE), '辽宁省人民政府')}</p>\n"
            + "".join(f"<p>{a(ctx, Ref(host), text)}</p>\n" for text, host, _ in TURNED) +
            f"<p>{a(ctx, Ref(PLAIN[1]), PLAIN[0])}</p>\n"
            f'<p class="wide-only">{a(ctx, Ref(PROVINCE, "/zwgk/"), "省政府信息公开")}</p>\n'
            f'<ul class="mobile-menu" style="display:none">{menu()}</ul>\n'
            f'<div class="yq-hide">{bet[0]}</div>\n'
            f'<div style="visibility: hidden"><span>{bet[1]}</span></div>\n'
            f'<p style="position:absolute;left:-9999px">{bet[2]}</p>\n'
            f'<div class="yq-gg"><span>{bet[3]}</span></div>\n'
            f'<ul class="m-menu">{menu()}</ul>\n'
            f'<p class="pc-link">{a(ctx, Ref(PROVINCE), "辽宁省人民政府门户网站")}</p>\n'
            f'<ul class="dropdown"><li>市级政府网站<ul class="sub">'
            f'<li>{a(ctx, Ref("www.chaoyang.gov.test"), "朝阳市人民政府")}</li></ul></li></ul>\n')
    return layout(ctx, f"友情链接_{escape(ctx.site.name)}", main)


MESSAGES: dict[str, tuple[tuple[int, int | None], ...]] = {
    "longfeng": ((400, 200), (200, 100), (120, None), (30, 5), (20, None)),
    "longfeng-jyj": ((300, 12), (150, 30), (60, 2), (10, None)),
}
"""Site id -> the 留言 its 互动交流 page lists: (asked this many days ago, answered after so many days or None)."""
TITLES = ("关于小区冬季供暖不热的问题", "建议增开公交线路", "咨询新生入学报名材料", "反映道路破损情况",
          "咨询社保卡补办流程")


def message_page(site_id: str) -> Callable[[PageContext], str]:
    """互动交流 with a 领导信箱 table: 标题 | 留言时间 | 回复时间 | 状态 (MESSAGES)."""

    def render(ctx: PageContext) -> str:
        rows = []
        for n, (age, delay) in enumerate(MESSAGES[site_id]):
            asked = ctx.today - timedelta(days=age)
            ctx.date(asked)
            replied = asked + timedelta(days=delay) if delay is not None else None
            if replied is not None:
                ctx.date(replied)
            rows.append(f"<tr><td>{escape(TITLES[n % len(TITLES)])}</td><td>{asked:%Y-%m-%d}</td>"
                        f"<td>{f'{replied:%Y-%m-%d}' if replied else ''}</td>"
                        f"<td>{'已回复' if replied else '未回复'}</td></tr>")
        table = ('<table class="lyb"><tr><th>标题</th><th>留言时间</th><th>回复时间</th><th>状态</th></tr>\n'
                 + "\n".join(rows) + "\n</table>\n")
        return layout(ctx, f"互动交流_{escape(ctx.site.name)}", "<h2>领导信箱</h2>\n" + table)

    return render


def _departments() -> tuple[SitePlan, ...]:
    education = (Column("工作动态", "/gzdt/", (1, 6, 11), home=3, titles="xwdt"),
                 Column("通知公告", "/tzgg/", (9, 40), home=2, titles="tzgg"))
    sport = (Column("工作动态", "/gzdt/", (2, 8), home=2, titles="xwdt"),)
    return (SitePlan("longfeng-jyj", "jyj.longfeng.gov.test", "龙凤区教育局", "other", "county",
                     "2113990012", education, groups=(UP,), pages={"/hdjl/": PageSpec(body=message_page("longfeng-jyj"))},
                     case="issue 17: every 留言 answered within a month (互动回应 look-alike that passes)"),
            SitePlan("longfeng-tyj", "tyj.longfeng.gov.test", "龙凤区体育局", "other", "county",
                     "2113990013", sport, groups=(UP,), channel=False,
                     case="issue 17: no online consultation channel at all (互动回应差)"))


def update_case_hosts() -> tuple[DemoSite, ...]:
    """The gambling host the 暗链 point at, and the hosts the turned links lead to (unlisted)."""
    page = PageSpec(body=content.simple_page("澳门新葡京娱乐城", ["真人娱乐 百家乐 在线投注 注册送彩金"]))
    parked = PageSpec(body=content.simple_page("www.lfwh.test", ["此域名出售 This domain is for sale. 联系我们购买。"]))
    plain = PageSpec(body=content.simple_page("欢迎", ["页面加载中"]))
    return (DemoSite("xpj", BET_HOST, "博彩网站", "portal", "national", {path: page for _, path, _ in HIDDEN},
                     listed=False, chrome=BARE, case="issue 17: the gambling host a 暗链 points at"),
            DemoSite("lfly", "www.lfly.test", "龙凤区旅游网（已变质）", "portal", "national", {"/": page},
                     listed=False, chrome=BARE, case="issue 17: a former site whose domain serves gambling now"),
            DemoSite("lfwh", "www.lfwh.test", "龙凤文化网（域名出售）", "portal", "national", {"/": parked},
                     listed=False, chrome=BARE, case="issue 17: a former site whose domain is for sale"),
            DemoSite("lfkj", "www.lfkj.test", "龙凤科技网（域名停放）", "portal", "national", {"/": plain},
                     DnsSpec.alias(PARKING_ALIAS), listed=False, chrome=BARE,
                     case="issue 17: a former site whose name is an alias of a parking service"),
            DemoSite("lfny", "www.lfny.test", "龙凤农业网（域名停放）", "portal", "national", {"/": plain},
                     listed=False, chrome=BARE,
                     case="issue 17: a former site whose domain's nameservers are a parking service's"),
            DemoSite("lfsw", PLAIN[1], "龙凤商务网", "portal", "national", {"/": plain}, listed=False, chrome=BARE,
                     case="issue 17: a plain page on a domain with its own nameservers (no turned link)"))


def _longfeng() -> SitePlan:
    zwgk = (Column("政策文件", "/zwgk/zcwj/", (210, 300), titles="zcwj"),
            *(Column(text, path) for text, path in BLANK))
    columns = (Column("工作动态", "/gzdt/", (20, 25, 40), home=3, titles="xwdt"),
               Column("乡镇动态", "/xzdt/", (-5, 18, 30), titles="xwdt"),
               Column("通知公告", "/tzgg/", (200, 260), home=2, titles="tzgg", issued=-3),
               Column("人事信息", "/rsxx/", (400, 520)),
               Column("规划计划", "/ghjh/", (100, 300), issued=20),
               Column("抗疫专题（历史）", "/kyzt/", (800, 900, 1000)),
               Column("政务公开", "/zwgk/", children=zwgk))
    return SitePlan("longfeng", "www.longfeng.gov.test", "龙凤区人民政府", "portal", "county", "2113990011",
                    columns,
                    case="issue 17: five columns past their update class's period (栏目不更新 veto) beside a "
                         "historical 专题 that is exempt; five blank 政务公开 sub-columns (空白栏目 veto); an item "
                         "dated after today, articles published before their 成文日期",
                    groups=(UP,), pages={FRIENDS: PageSpec(body=friends_page),
                                         "/css/style.css": PageSpec(body=SHEET_CSS, content_type="text/css",
                                                                    declare="none"),
                                         "/hdjl/": PageSpec(body=message_page("longfeng"))},
                    extras={"/": (LinkSpec("a", FRIENDS, "友情链接"),)})


def update_case_plans(today: date) -> tuple[SitePlan, ...]:
    """The issue 17 cases (see the module docstring)."""
    return (_longfeng(), *_departments())
