"""Page bodies of the demo web: realistic 政府网站 pages (navigation, news lists
with dates relative to the demo's `today`, footers) rendered from plain data.

Pure text generation: no I/O, no clock (the date comes from `PageContext`).
Every link a page carries points at a page the demo serves, or at another demo
host through `PageContext.url`, so the demo never leads a crawler off loopback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from monitor.demo.spec import PageContext

FINDERR_HOST = "zfwzzc.www.gov.test"
FINDERR_PATH = "/check_web/errorInfo_querySiteInfo.action"

NAV = (("首页", "/"), ("政务公开", "/zwgk/"), ("政策文件", "/zcwj/"), ("专题专栏", "/ztzl/"),
       ("互动交流", "/hdjl/"), ("办事服务", "/bsfw/"))

TOPICS = (("助企纾困专题", "/ztzl/zqsk/"), ("优化营商环境", "/ztzl/yshj/"))

# (title template, column): {org} is the site's name, {region} its area, {year} the item's year.
NEWS_TEMPLATES = (
    ("{org}召开{year}年政务公开工作推进会", "zwgk"),
    ("关于印发《{region}助企纾困若干政策措施》的通知", "zcwj"),
    ("{org}部署开展优化营商环境专项行动", "yshj"),
    ("{region}{year}年重点项目集中开工", "xwdt"),
    ("关于公开征求《{region}{year}年重大行政决策事项目录（征求意见稿）》意见的公告", "zcwj"),
    ("{org}深入开展“万人进万企”助企纾困活动", "zqsk"),
    ("{region}召开安全生产工作会议", "xwdt"),
    ("{org}{year}年政府信息公开工作年度报告", "zwgk"),
)
DEFAULT_AGES = (1, 3, 6, 10, 17, 26, 41, 63)


@dataclass(frozen=True)
class NewsItem:
    title: str
    day: date
    path: str
    column: str


def region_of(name: str) -> str:
    """朝阳市人民政府 → 朝阳市; 朝阳市财政局 → 朝阳市."""
    for suffix in ("人民政府",):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    for marker in ("市", "县", "区"):
        cut = name.find(marker)
        if cut > 0:
            return name[: cut + 1]
    return name


def news_items(name: str, today: date, ages: Sequence[int] = DEFAULT_AGES) -> tuple[NewsItem, ...]:
    """The site's dated items, newest first; each has an article page."""
    items = []
    for number, (age, (template, column)) in enumerate(zip(ages, NEWS_TEMPLATES), start=1):
        day = today - timedelta(days=age)
        title = template.format(org=name, region=region_of(name), year=day.year)
        path = f"/xwdt/{day:%Y%m}/t{day:%Y%m%d}_{number}.html"
        items.append(NewsItem(title, day, path, column))
    return tuple(items)


def _head(ctx: PageContext, title: str) -> str:
    meta = ""
    if ctx.meta_charset == "utf-8":
        meta = '<meta charset="utf-8">\n'
    elif ctx.meta_charset:
        meta = f'<meta http-equiv="Content-Type" content="text/html; charset={ctx.meta_charset}">\n'
    site = ctx.site
    return (f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n{meta}<title>{escape(title)}</title>\n'
            f'<meta name="SiteName" content="{escape(site.name)}">\n'
            f'<meta name="SiteDomain" content="{escape(site.host)}">\n'
            f'<meta name="SiteIDCode" content="{escape(site.site_code)}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n</head>\n')


def _nav() -> str:
    links = "\n".join(f'  <li><a href="{path}">{text}</a></li>' for text, path in NAV)
    return f'<div class="nav" id="nav">\n <ul>\n{links}\n </ul>\n</div>\n'


def footer(ctx: PageContext) -> str:
    site = ctx.site
    code = site.site_code
    report = ctx.url(FINDERR_HOST, f"{FINDERR_PATH}?websiteid={code}")
    icp = f"辽ICP备{code[-6:]}号-1"
    police = f"辽公网安备 {code}00{code[-2:]}号"
    return (
        '<div class="footer" id="footer">\n'
        f'  <p>主办单位：{escape(site.name)}办公室　承办单位：{escape(region_of(site.name))}大数据管理中心</p>\n'
        f'  <p>网站标识码：{code}　<span class="icp">{icp}</span>　<span class="ga">{police}</span></p>\n'
        f'  <p><a class="zfwzzc" href="{escape(report)}" target="_blank">我为政府网站找错</a>'
        '　<a href="/wzdt/">网站地图</a>　<a href="/lxwm/">联系我们</a></p>\n'
        "</div>\n"
    )


def layout(ctx: PageContext, title: str, main: str) -> str:
    site = ctx.site
    return (
        _head(ctx, title)
        + '<body>\n<div class="header">\n'
        f'  <h1 class="logo"><a href="/">{escape(site.name)}</a></h1>\n'
        f'  <div class="today">{ctx.today.year}年{ctx.today.month}月{ctx.today.day}日</div>\n</div>\n'
        + _nav()
        + f'<div class="main">\n{main}</div>\n'
        + footer(ctx)
        + "</body>\n</html>\n"
    )


def _item_list(items: Sequence[NewsItem]) -> str:
    rows = "\n".join(
        f'    <li><a href="{item.path}" title="{escape(item.title)}">{escape(item.title)}</a>'
        f'<span class="date">{item.day:%Y-%m-%d}</span></li>'
        for item in items
    )
    return f'  <ul class="list">\n{rows}\n  </ul>\n'


def homepage(ctx: PageContext) -> str:
    items = news_items(ctx.site.name, ctx.today)
    topics = "\n".join(f'    <li><a href="{path}">{text}</a></li>' for text, path in TOPICS)
    main = (
        '<div class="news">\n  <h2><a href="/xwdt/">政务要闻</a></h2>\n'
        + _item_list(items[:6])
        + '  <a class="more" href="/xwdt/">更多&gt;&gt;</a>\n</div>\n'
        '<div class="ztzl">\n  <h2><a href="/ztzl/">专题专栏</a></h2>\n'
        f"  <ul>\n{topics}\n  </ul>\n</div>\n"
    )
    return layout(ctx, ctx.site.name, main)


def list_page(column: str, heading: str) -> Callable[[PageContext], str]:
    """A column listing the site's items of `column` ("" = all items)."""

    def render(ctx: PageContext) -> str:
        items = [item for item in news_items(ctx.site.name, ctx.today) if not column or item.column == column]
        body = _item_list(items) if items else '  <p class="empty">暂无信息</p>\n'
        crumbs = f'<div class="crumbs"><a href="/">首页</a> &gt; {escape(heading)}</div>\n'
        return layout(ctx, f"{heading}_{ctx.site.name}", f"{crumbs}<h2>{escape(heading)}</h2>\n{body}")

    return render


def topics_page(ctx: PageContext) -> str:
    links = "\n".join(f'  <li><a href="{path}">{text}</a></li>' for text, path in TOPICS)
    return layout(ctx, f"专题专栏_{ctx.site.name}", f"<h2>专题专栏</h2>\n<ul>\n{links}\n</ul>\n")


def text_page(heading: str, paragraphs: Sequence[str]) -> Callable[[PageContext], str]:
    def render(ctx: PageContext) -> str:
        text = "\n".join(f"<p>{escape(p.format(org=ctx.site.name))}</p>" for p in paragraphs)
        return layout(ctx, f"{heading}_{ctx.site.name}", f"<h2>{escape(heading)}</h2>\n{text}\n")

    return render


def article_page(number: int) -> Callable[[PageContext], str]:
    """The article of the site's `number`-th news item (1-based)."""

    def render(ctx: PageContext) -> str:
        item = news_items(ctx.site.name, ctx.today)[number - 1]
        main = (
            f'<div class="article">\n  <h2>{escape(item.title)}</h2>\n'
            f'  <div class="info">来源：{escape(ctx.site.name)}　发布时间：{item.day:%Y-%m-%d} 09:30</div>\n'
            f"  <p>{item.day.month}月{item.day.day}日，{escape(item.title)}。会议强调，要深入贯彻落实"
            "党中央、国务院关于全面推进政务公开的决策部署，以公开促落实、强监管、优服务。</p>\n"
            "  <p>会议要求，各地区各部门要围绕助企纾困、扩大有效投资等重点领域，及时准确发布政策信息，"
            "做好政策解读和回应关切，切实增强政务公开实效。</p>\n</div>\n"
        )
        return layout(ctx, f"{item.title}_{ctx.site.name}", main)

    return render


def not_found_page(ctx: PageContext) -> str:
    return layout(ctx, f"页面不存在_{ctx.site.name}",
                  '<div class="error"><h2>404</h2><p>抱歉，您访问的页面不存在或已被删除。</p>'
                  '<p><a href="/">返回首页</a></p></div>\n')


def server_error_page(status: int) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{status} 服务器错误</title></head>"
            f"<body><h1>{status}</h1><p>服务器内部错误，请稍后再试。</p></body></html>\n")


UNKNOWN_HOST_PAGE = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>404 unknown host</title>"
                     "</head><body><h1>404</h1><p>unknown host</p></body></html>\n")

WAF_CHALLENGE_PAGE = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Pragma\" content=\"no-cache\">"
    "<title></title><script type=\"text/javascript\">"
    "(function(){var t='a8f3c1d9e2';document.cookie='waf_token='+t+'; path=/';"
    "setTimeout(function(){location.reload();},50);})();</script></head><body></body></html>\n"
)


def finderr_page(ctx: PageContext) -> str:
    """The national 找错 platform: a page of its own, without a government site's navigation."""
    return (_head(ctx, "我为政府网站找错") + "<body>\n<h1>我为政府网站找错</h1>\n"
            "<p>请选择问题类型并描述您发现的问题。</p>\n</body>\n</html>\n")


def raw_title_page(raw_title: str) -> Callable[[PageContext], str]:
    """A bare page whose <title> is `raw_title` as is (entities, line breaks and all)."""

    def render(ctx: PageContext) -> str:
        meta = f'<meta charset="{ctx.meta_charset}">' if ctx.meta_charset else ""
        return f"<!DOCTYPE html><html><head>{meta}<title>{raw_title}</title></head><body></body></html>\n"

    return render
