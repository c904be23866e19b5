"""HTML pieces of the demo's government pages: tags that record their links on the
`PageContext`, dates in each site's format, and the shared chrome (head,
header, navigation, footer) every page of a host wears.

Pure text generation: no I/O, no clock (the date comes from `PageContext`).
Every link goes through `PageContext.link`, so what a page serves and what the
truth says it links are one list.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from html import escape

from monitor.demo.spec import Href, LinkSpec, PageContext, Ref

STATIC_HOST = "static.chaoyang.gov.test"
SHARED_CSS = "/static/css/common.css"
SHARED_JS = "/static/js/jquery.min.js"
SHARED_MARK = "/static/img/dzjg.png"
FINDERR_HOST = "zfwzzc.www.gov.test"
FINDERR_PATH = "/check_web/errorInfo_querySiteInfo.action"
WEEKDAYS = "一二三四五六日"


def a(ctx: PageContext, target: Href, text: str, *, cls: str = "", title: bool = False, blank: bool = False) -> str:
    href = ctx.link("a", target, text)
    attrs = f' class="{cls}"' if cls else ""
    attrs += f' title="{escape(text)}"' if title else ""
    attrs += ' target="_blank"' if blank else ""
    return f'<a href="{escape(href)}"{attrs}>{escape(text)}</a>'


def img(ctx: PageContext, target: Href, alt: str, *, cls: str = "") -> str:
    src = ctx.link("img", target, alt)
    attrs = f' class="{cls}"' if cls else ""
    return f'<img src="{escape(src)}" alt="{escape(alt)}"{attrs}>'


def css(ctx: PageContext, target: Href) -> str:
    return f'<link rel="stylesheet" type="text/css" href="{escape(ctx.link("link", target))}">'


def script(ctx: PageContext, target: Href) -> str:
    return f'<script type="text/javascript" src="{escape(ctx.link("script", target))}"></script>'


def iframe(ctx: PageContext, target: Href, title: str) -> str:
    src = ctx.link("iframe", target, title)
    return f'<iframe src="{escape(src)}" title="{escape(title)}" width="100%" height="120" frameborder="0"></iframe>'


def placed(ctx: PageContext, link: LinkSpec) -> str:
    """A catalogue link (`LinkSpec`) in the markup its tag calls for."""
    if link.tag == "a":
        return a(ctx, link.href, link.text, blank=True)
    if link.tag == "img":
        return img(ctx, link.href, link.text)
    if link.tag == "script":
        return script(ctx, link.href)
    if link.tag == "link":
        return css(ctx, link.href)
    if link.tag == "iframe":
        return iframe(ctx, link.href, link.text)
    raise ValueError(f"no markup for tag {link.tag!r}")


def day_text(day: date, style: str) -> str:
    if style == "cn":
        return f"{day.year}年{day.month}月{day.day}日"
    if style == "slash":
        return f"{day:%Y/%m/%d}"
    if style == "dot":
        return f"{day:%Y.%m.%d}"
    if style == "md":
        return f"{day:%m-%d}"
    if style == "bracket":
        return f"[{day:%m-%d}]"
    return f"{day:%Y-%m-%d}"


def date_span(ctx: PageContext, day: date) -> str:
    ctx.date(day)
    return f'<span class="date">{day_text(day, ctx.site.chrome.date_format)}</span>'


def clock(today: date) -> str:
    """The header clock many sites show; a date that says nothing about updates."""
    return f"今天是{today.year}年{today.month}月{today.day}日 星期{WEEKDAYS[today.weekday()]}"


def region_of(name: str) -> str:
    """朝阳市人民政府 → 朝阳市; 朝阳市财政局 → 朝阳市."""
    if name.endswith("人民政府"):
        return name[: -len("人民政府")]
    for marker in ("市", "县", "区"):
        cut = name.find(marker)
        if cut > 0:
            return name[: cut + 1]
    return name


def head(ctx: PageContext, title: str, extra: str = "") -> str:
    meta = ""
    if ctx.meta_charset == "utf-8":
        meta = '<meta charset="utf-8">\n'
    elif ctx.meta_charset:
        meta = f'<meta http-equiv="Content-Type" content="text/html; charset={ctx.meta_charset}">\n'
    site = ctx.site
    assets = ""
    if site.chrome.assets:
        assets = "\n".join((css(ctx, Ref(STATIC_HOST, SHARED_CSS)), css(ctx, "/css/style.css"),
                            script(ctx, Ref(STATIC_HOST, SHARED_JS)))) + "\n"
    return (f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n{meta}<title>{escape(title)}</title>\n'
            f'<meta name="SiteName" content="{escape(site.name)}">\n'
            f'<meta name="SiteDomain" content="{escape(site.host)}">\n'
            f'<meta name="SiteIDCode" content="{escape(site.site_code)}">\n'
            f"{_pubdate(ctx)}"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"{assets}{extra}</head>\n")


def _pubdate(ctx: PageContext) -> str:
    """A CMS's <meta name="PubDate"> (its regeneration time, not a date a reader sees: not recorded)."""
    lag = ctx.site.chrome.pubdate
    if lag is None:
        return ""
    return f'<meta name="PubDate" content="{date.fromordinal(ctx.today.toordinal() - lag):%Y-%m-%d} 08:00">\n'


def header(ctx: PageContext) -> str:
    site = ctx.site
    logo = img(ctx, "/images/logo.png", f"{site.name}标志", cls="logo") if site.chrome.assets else ""
    ticker = f'  <div class="clock">{clock(ctx.today)}</div>\n' if site.chrome.clock else ""
    return (f'<div class="header">\n  {logo}<h1 class="logo">{a(ctx, "/", site.name)}</h1>\n{ticker}</div>\n')


def nav(ctx: PageContext) -> str:
    links = "\n".join(f"  <li>{a(ctx, href, text)}</li>" for text, href in ctx.site.chrome.nav)
    return f'<div class="nav" id="nav">\n <ul>\n{links}\n </ul>\n</div>\n' if links else ""


def footer(ctx: PageContext) -> str:
    site = ctx.site
    if site.chrome.footer is not None:
        return site.chrome.footer(ctx)
    code = site.site_code
    icp = f"辽ICP备{code[-6:]}号-1"
    police = f"辽公网安备 {code}00{code[-2:]}号"
    since = site.chrome.copyright_since
    rights = (f"Copyright &copy; {since}-{ctx.today.year} {escape(site.name)} 版权所有" if since
              else f"版权所有：{escape(site.name)}")
    mark = img(ctx, Ref(STATIC_HOST, SHARED_MARK), "党政机关") if site.chrome.assets else ""
    report = Ref(FINDERR_HOST, f"{FINDERR_PATH}?websiteid={code}")
    return (
        '<div class="footer" id="footer">\n'
        f"  <p>{mark}{rights}　主办单位：{escape(site.name)}办公室　"
        f"承办单位：{escape(region_of(site.name))}大数据管理中心</p>\n"
        f'  <p>网站标识码：{code}　<span class="icp">{icp}</span>　<span class="ga">{police}</span></p>\n'
        f'  <p>{a(ctx, report, "我为政府网站找错", cls="zfwzzc", blank=True)}'
        f'　{a(ctx, "/wzdt/", "网站地图")}　{a(ctx, "/lxwm/", "联系我们")}</p>\n'
        "</div>\n"
    )


def extras(ctx: PageContext) -> str:
    placed_links = ctx.site.chrome.extras.get(ctx.path, ())
    if not placed_links:
        return ""
    items = "\n".join(f"  <li>{placed(ctx, link)}</li>" for link in placed_links)
    return f'<div class="xglj">\n <h3>相关链接</h3>\n <ul>\n{items}\n </ul>\n</div>\n'


def layout(ctx: PageContext, title: str, main: str) -> str:
    """A whole page: chrome around `main`, then the links the catalogue placed on this path."""
    tail = script(ctx, "/js/common.js") + "\n" if ctx.site.chrome.assets else ""
    page = (head(ctx, title) + "<body>\n" + header(ctx) + nav(ctx) + f'<div class="main">\n{main}</div>\n'
            + extras(ctx))
    if ctx.site.chrome.footer_after_html:
        return page + tail + "</body>\n</html>\n" + footer(ctx)
    return page + footer(ctx) + tail + "</body>\n</html>\n"


def link_list(ctx: PageContext, links: Iterable[tuple[str, Href]], cls: str = "links") -> str:
    rows = "\n".join(f"    <li>{a(ctx, href, text, blank=isinstance(href, Ref))}</li>" for text, href in links)
    return f'  <ul class="{cls}">\n{rows}\n  </ul>\n'
