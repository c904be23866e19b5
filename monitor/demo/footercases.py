"""The footer and charset cases of issue 10 on four city-level 新区 portals of the demo web,
with the footer verdict each must get and the pages whose charset lies.

- 东风新区 (TRS-like): the official embeds only: `<script id="_jiucuo_"
  sitecode=…>` (also its 网站标识码), `document.write(unescape(…_ideConac…))`;
  an ICP number without 号 as a link's text, `公安机关备案号：…` as text.
- 西山新区 (Hanweb-like): the whole footer in `<iframe src="/include/foot.html">`
  (ICP and 公安 numbers in link titles, an `_ideConac` span, the drawn 找错
  image with an onclick); the homepage itself has only `<meta name="SiteIDCode">`.
- 南湖新区: the footer appended after </html>, full-width ICP, 公网安备 without
  spaces, the 找错 script and the 党政机关 image.
- 北岭新区: the footer written by `/js/footer.js` (网站标识码 and ICP only):
  police, 找错 and 党政机关 missing, so the check warns; its 通知公告 list page
  and first article are GB18030 served as `charset=utf-8` (charset lies).

The embeds point at unlisted hosts of their own (`footer_hosts`): the
national 找错 script host, the 党政机关 (conac) host and the two 备案 hosts.
Pure data for a given `today`; sites.py adds these plans and hosts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from html import escape
from typing import Any
from urllib.parse import quote

from monitor.demo import content
from monitor.demo.build import SitePlan
from monitor.demo.columns import PNG, Column, column_pages, plan_columns
from monitor.demo.externals import BARE
from monitor.demo.markup import STATIC_HOST, SHARED_MARK, a, iframe, img, region_of, script
from monitor.demo.spec import DemoSite, PageContext, PageSpec, Ref, UrlFor

JIUCUO_HOST = "zfwzgl.www.gov.test"
JIUCUO_JS = "/exposure/jiucuo.js"
JIUCUO_PNG = "/exposure/jiucuo.png"
CONAC_HOST = "bszs.conac.test"
MIIT_HOST = "beian.miit.gov.test"
POLICE_HOST = "www.beian.gov.test"
FOOT_FRAME = "/include/foot.html"
FOOT_SCRIPT = "/js/footer.js"
LYING_COLUMN = "/tzgg/"
UP = ("上级链接", (("朝阳市人民政府", Ref("www.chaoyang.gov.test")),))
JS = "application/javascript"


def _columns(lag: int) -> tuple[Column, ...]:
    return (Column("工作动态", "/gzdt/", tuple(a + lag for a in (0, 5, 11)), home=3, titles="xwdt"),
            Column("通知公告", LYING_COLUMN, tuple(a + lag for a in (1, 9, 30)), home=2, titles="tzgg"))


def _rights(ctx: PageContext) -> str:
    name = escape(ctx.site.name)
    return f"<p>主办：{name}办公室　承办：{escape(region_of(ctx.site.name))}融媒体中心　版权所有：{name}</p>\n"


def _dongfeng_footer(ctx: PageContext) -> str:
    conac_js = ctx.href(Ref(CONAC_HOST, "/js/CA211399000001.js"))
    written = quote(f"<span id='_ideConac' ></span><script src='{conac_js}' type='text/javascript'></script>",
                    safe="/:.=_?&")
    jiucuo = ctx.link("script", Ref(JIUCUO_HOST, JIUCUO_JS))
    return ('<div class="bottom" id="bottom">\n <div class="bottom-text">\n' + _rights(ctx)
            + f"  <p>{a(ctx, Ref(MIIT_HOST), '辽ICP备05000002', blank=True)}　公安机关备案号：21139002000524</p>\n"
            " </div>\n <div class=\"bottom-mark\">\n"
            f'  <script type="text/javascript">document.write(unescape("{written}"));</script>\n'
            f"  <script id=\"_jiucuo_\" sitecode='{ctx.site.site_code}' src='{escape(jiucuo)}'></script>\n"
            " </div>\n</div>\n")


def _xishan_footer(ctx: PageContext) -> str:
    return f'<div class="footer" id="footer">\n{iframe(ctx, FOOT_FRAME, "页脚")}\n</div>\n'


def _xishan_frame(ctx: PageContext) -> str:
    """The footer page the 西山新区 iframe shows (a Hanweb-style include)."""
    badge = ctx.link("a", Ref(CONAC_HOST, "/sitename?method=show&id=2113990002"))
    red = ctx.link("img", Ref(CONAC_HOST, "/image/red.png"))
    miit = ctx.link("a", Ref(MIIT_HOST), "ICP备案")
    police = ctx.link("a", Ref(POLICE_HOST, "/portal/registerSystemInfo?recordcode=21139102000002"), "公安备案")
    ga = ctx.link("img", "/images/ga.png")
    jiucuo = ctx.link("img", Ref(JIUCUO_HOST, JIUCUO_PNG))
    return ('<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"><title>页脚</title></head>\n<body>\n'
            '<table class="foot" width="100%"><tr>\n'
            f'<td><span id="_ideConac"><a href="{escape(badge)}" target="_blank"><img id="imgConac" '
            f'src="{escape(red)}"></a></span></td>\n<td>' + _rights(ctx)
            + f'<p>网站标识码：{ctx.site.site_code}　<a href="{escape(miit)}" title="辽ICP备05000003号-1" '
            'target="_blank">ICP备案</a>　'
            f'<a href="{escape(police)}" title="辽公网安备 21139102000002号" target="_blank">'
            f'<img src="{escape(ga)}">公安备案</a></p></td>\n'
            f"<td><span id=\"_span_jiucuo\"><img onclick=\"Link('{ctx.site.site_code}')\" "
            f'style="cursor:pointer" src="{escape(jiucuo)}"></span></td>\n'
            "</tr></table>\n</body>\n</html>\n")


def _nanhu_footer(ctx: PageContext) -> str:
    """Appended after </html> (see `SitePlan.footer_after_html`), as some CMS templates do."""
    jiucuo = ctx.link("script", Ref(JIUCUO_HOST, JIUCUO_JS))
    return ('<div class="footer">\n' + _rights(ctx)
            + f"<p>网站标识码：{ctx.site.site_code}　辽ＩＣＰ备０５０００００４号－２　辽公网安备21139202000003号</p>\n"
            f"<p>{img(ctx, Ref(STATIC_HOST, SHARED_MARK), '党政机关')}</p>\n"
            f"<script id=\"_jiucuo_\" sitecode=\"{ctx.site.site_code}\" src=\"{escape(jiucuo)}\"></script>\n"
            "</div>\n")


def _beiling_footer(ctx: PageContext) -> str:
    return f'<div class="footer" id="footer">\n{script(ctx, FOOT_SCRIPT)}\n</div>\n'


def _beiling_script(ctx: PageContext) -> str:
    """The footer script 北岭新区 pages include: it writes the footer (网站标识码 and ICP only)."""
    name = ctx.site.name
    return ("document.write('<div class=\"copyright\">');\n"
            f"document.write('<p>版权所有：{name}　网站标识码：{ctx.site.site_code}<\\/p>');\n"
            "document.write('<p>辽ICP备05000005号<\\/p>');\n"
            "document.write('<\\/div>');\n")


def lying(page: PageSpec) -> PageSpec:
    """The page in GB18030 while its header says charset=utf-8 and no <meta> says otherwise."""
    return replace(page, encoding="gb18030", declare="none", headers={"Content-Type": "text/html; charset=utf-8"})


def _lying_pages(name: str, columns: tuple[Column, ...], today: date) -> dict[str, PageSpec]:
    """The 通知公告 list page and its newest article, served as charset lies."""
    plan = next(p for p in plan_columns(columns, name, region_of(name), today) if p.column.path == LYING_COLUMN)
    served = column_pages(plan, content.list_page, content.article_page)
    return {path: lying(served[path]) for path in (plan.list_paths[0], plan.items[0].path)}


def _plan(site_id: str, host: str, name: str, code: str, lag: int, footer: Callable[[PageContext], str],
          case: str, **fields: Any) -> SitePlan:
    return SitePlan(site_id, host, name, "portal", "city", code, _columns(lag), case=case, groups=(UP,),
                    footer=footer, **fields)


def footer_case_plans(today: date) -> tuple[SitePlan, ...]:
    beiling = "北岭新区管理委员会"
    return (
        _plan("dongfeng", "www.dongfeng.gov.test", "东风新区管理委员会", "2113990001", 1, _dongfeng_footer,
              "issue 10: the official 找错 and 党政机关 scripts (document.write(unescape)), ICP without 号 in a "
              "link, 公安机关备案号"),
        _plan("xishan", "www.xishan.gov.test", "西山新区管理委员会", "2113990002", 2, _xishan_footer,
              "issue 10: the footer in an iframe (/include/foot.html); the homepage has only SiteIDCode",
              pages={FOOT_FRAME: PageSpec(body=_xishan_frame),
                     "/images/ga.png": PageSpec(body=PNG, content_type="image/png", declare="none")}),
        _plan("nanhu", "www.nanhu.gov.test", "南湖新区管理委员会", "2113990003", 1, _nanhu_footer,
              "issue 10: the footer after </html>, full-width ICP", footer_after_html=True),
        _plan("beiling", "www.beiling.gov.test", beiling, "2113990004", 3, _beiling_footer,
              "issue 10: the footer written by /js/footer.js lacks 公安备案, 找错 and 党政机关 (warns); "
              "通知公告 list and article are GB18030 served as utf-8",
              pages={FOOT_SCRIPT: PageSpec(body=_beiling_script, content_type=JS, declare="none"),
                     **_lying_pages(beiling, _columns(3), today)}),
    )


def footer_hosts() -> tuple[DemoSite, ...]:
    """The unlisted hosts the footers embed from: 找错 script, conac, the two 备案 systems."""
    png = PageSpec(body=PNG, content_type="image/png", declare="none")
    js = PageSpec(body="/* embed */\n", content_type=JS, declare="none")
    page = PageSpec(body=content.raw_title_page("备案"))

    def host(site_id: str, name: str, hostname: str, pages: dict[str, PageSpec]) -> DemoSite:
        return DemoSite(site_id, hostname, name, "portal", "national", pages, listed=False, chrome=BARE,
                        case="an embed host the issue 10 footers point at")

    return (host("jiucuo", "政府网站找错脚本", JIUCUO_HOST, {JIUCUO_JS: js, JIUCUO_PNG: png}),
            host("conac", "党政机关网站标识", CONAC_HOST, {"/sitename": page, "/image/red.png": png,
                                                   "/js/CA211399000001.js": js}),
            host("miit", "ICP备案", MIIT_HOST, {"/": page}),
            host("beian", "公安备案", POLICE_HOST, {"/portal/registerSystemInfo": page}))


# What the footer check must find on each case site: item -> (value, form); a value "{home}" is the
# homepage URL, "{host:path}" a URL on a demo host. Absent items are missing.
FOOTERS: dict[str, dict[str, tuple[str, str]]] = {
    "dongfeng": {"site_code": ("2113990001", "script#_jiucuo_ sitecode"),
                 "icp": ("辽ICP备05000002", "link text"),
                 "police": ("公安机关备案号:21139002000524", "text"),
                 "finderr": (f"{{{JIUCUO_HOST}:{JIUCUO_JS}}}", "script#_jiucuo_"),
                 "badge": ("{home}", "span#_ideConac via document.write(unescape)")},
    "xishan": {"site_code": ("2113990002", "meta SiteIDCode"),
               "icp": ("辽ICP备05000003号-1", f"link title in iframe {FOOT_FRAME}"),
               "police": ("辽公网安备 21139102000002号", f"link title in iframe {FOOT_FRAME}"),
               "finderr": (f"{{{JIUCUO_HOST}:{JIUCUO_PNG}}}", f"image jiucuo (onclick) in iframe {FOOT_FRAME}"),
               "badge": (f"{{{CONAC_HOST}:/sitename?method=show&id=2113990002}}",
                         f"span#_ideConac in iframe {FOOT_FRAME}")},
    "nanhu": {"site_code": ("2113990003", "meta SiteIDCode"),
              "icp": ("辽ICP备05000004号-2", "text after </html>"),
              "police": ("辽公网安备21139202000003号", "text after </html>"),
              "finderr": (f"{{{JIUCUO_HOST}:{JIUCUO_JS}}}", "script#_jiucuo_ after </html>"),
              "badge": (f"{{{STATIC_HOST}:{SHARED_MARK}}}", "image after </html>")},
    "beiling": {"site_code": ("2113990004", "meta SiteIDCode"),
                "icp": ("辽ICP备05000005号", f"text in footer script {FOOT_SCRIPT}")},
}
ITEMS = ("site_code", "icp", "police", "finderr", "badge")


def footer_truth(site: DemoSite, home: str | None, url: UrlFor) -> dict[str, Any] | None:
    """The footer verdict a case site must get ({status, items, forms}); None for other sites.
    `home` is the homepage's final URL, None when it does not answer (then the check errs)."""
    expected = FOOTERS.get(site.id)
    if expected is None:
        return None
    if home is None:
        return {"status": "error", "items": {}, "forms": {}}

    def value(raw: str) -> str:
        if raw == "{home}":
            return home
        if raw.startswith("{") and raw.endswith("}"):
            hostname, path = raw[1:-1].split(":", 1)
            return url(hostname, path)
        return raw

    items = {key: value(expected[key][0]) if key in expected else "" for key in ITEMS}
    return {"status": "pass" if len(expected) == len(ITEMS) else "warn", "items": items,
            "forms": {key: form for key, (_, form) in expected.items()}}


_GB = frozenset({"gb2312", "gbk", "gb18030"})


def charset_lie(page: PageSpec) -> tuple[str, str] | None:
    """(declared, used) when a page's declared charset is not its encoding: the header's (as served,
    a Content-Type header override included), else the <meta> one. Codecs as monitor.htmltext names them."""
    header = page.headers.get("Content-Type", "")
    declared = header.split("charset=", 1)[1].strip().lower() if "charset=" in header else (
        page.encoding if page.declare in ("both", "header", "meta") else "")
    if not declared or not page.html:
        return None

    def name(label: str) -> str:
        label = label.lower().replace("_", "-")
        return "gb18030" if label in _GB else label

    if name(declared) == name(page.encoding):
        return None
    return name(declared), name(page.encoding)
