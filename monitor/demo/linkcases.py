"""Every kind of link a reader or a browser follows, on one demo site (朝阳市文化旅游和广播电视局).

Its 多媒体 page (`/dmt/`, linked from the homepage) holds a live and a dead
target for each resource kind: `srcset` on <img> and <picture><source> (one
URL with a comma in it), <video> src and poster, <source> inside <video>,
<track>, <audio>, <object data>, <embed src>, icons in <link>, CSS `url()` in
a `style` attribute and in a <style> block (with and without quotes),
`@import`, the legacy `background` attribute and <input type=image>. Beside
them: URLs that must not count (a commented-out url(), data: images,
rel=canonical), malformed hrefs (`http:/x`, `http://`, `http:`, "]" and a
space in the host, a port out of range, `file:`), the schemes that are
skipped (javascript:, mailto:, tel:, data:), and redirects whose Location no
browser can follow (none, empty, javascript:, data:, ftp:, a malformed URL).

Pure data for a given `today`; sites.py adds the plan to the catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import TYPE_CHECKING

from monitor.demo.build import SitePlan
from monitor.demo.columns import PNG, Column
from monitor.demo.externals import DIRECTORY
from monitor.demo.markup import a, footer, head, header, nav
from monitor.demo.spec import (
    Exchange,
    Expect,
    ExpectEnv,
    LinkSpec,
    PageContext,
    PageSpec,
    Ref,
)
from monitor.outcomes import FetchKind

if TYPE_CHECKING:
    from aiohttp import web

HOST = "wlj.chaoyang.gov.test"
MEDIA_PAGE = "/dmt/"
DIRECTORY_PAGE = "/wzdh/"          # 网站导航: one link to each of DIRECTORY_LINKS units on the directory host
DIRECTORY_LINKS = 300
LINKS_PER_PAGE = 100               # the site's max_links_per_page: the rest of that page is never requested
LIVE: Mapping[str, tuple[bytes, str]] = {
    "/favicon.ico": (PNG, "image/x-icon"),
    "/css/print.css": (b"@media print{.nav{display:none}}\n", "text/css"),
    "/images/dmt/banner.jpg": (PNG, "image/jpeg"),
    "/images/dmt/tab_bg.png": (PNG, "image/png"),
    "/images/dmt/hero.webp": (PNG, "image/webp"),
    "/images/dmt/hero.jpg": (PNG, "image/jpeg"),
    "/images/dmt/hero-480.jpg": (PNG, "image/jpeg"),
    "/images/dmt/search.gif": (PNG, "image/gif"),
    "/images/dmt/cell_bg.gif": (PNG, "image/gif"),
    "/media/xcp.mp4": (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
    "/media/xcp_poster.jpg": (PNG, "image/jpeg"),
    "/media/xcp.webm": (b"\x1aE\xdf\xa3", "video/webm"),
    "/media/xcp_zh.vtt": (b"WEBVTT\n\n00:00.000 --> 00:02.000\n\xe6\x9c\x9d\xe9\x98\xb3\n", "text/vtt"),
    "/media/gbzx.mp3": (b"ID3\x03\x00", "audio/mpeg"),
    "/media/guide.pdf": (b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    "/media/map.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
}
MALFORMED = (
    ("http:/www.chaoyang.gov.test/", "朝阳市人民政府（旧链接）"),
    ("http://", "辽宁文旅（地址缺失）"),
    ("http:", "旅游投诉（地址缺失）"),
    ("http://www.ln.gov.test]/whly/", "省文化和旅游厅"),
    ("http://whly .ln.gov.test/", "辽宁文旅网"),
    ("http://www.chaoyang.gov.test:99999/", "朝阳旅游（端口错误）"),
    ("file:///D:/wlj/2019年工作总结.doc", "2019年工作总结"),
)
SKIPPED = (
    ("javascript:void(0)", "收藏本站"),
    ("mailto:wlj@chaoyang.gov.test", "wlj@chaoyang.gov.test"),
    ("tel:0421-2600000", "0421-2600000"),
    ("data:text/plain,wenlv", "文旅简介（文本）"),
)


@dataclass(frozen=True)
class BadRedirect:
    """A redirect whose Location no browser can follow (`location` None: no header at all)."""

    location: str | None
    status: int = 302

    async def respond(self, exchange: Exchange) -> web.StreamResponse:
        from aiohttp import web

        headers = {} if self.location is None else {"Location": self.location}
        return web.Response(status=self.status, headers=headers, text="")

    def expect(self, page: PageSpec, env: ExpectEnv) -> Expect:
        return Expect(FetchKind.HTTP_3XX, self.status)


REDIRECTS: Mapping[str, tuple[BadRedirect, str]] = {
    "/go/js.html": (BadRedirect("javascript:alert('closed')"), "景区预约（维护中）"),
    "/go/data.html": (BadRedirect("data:text/html;charset=utf-8,%E7%BB%B4%E6%8A%A4%E4%B8%AD"), "文化地图"),
    "/go/empty.html": (BadRedirect(""), "非遗名录"),
    "/go/none.html": (BadRedirect(None, 301), "文艺演出"),
    "/go/ftp.html": (BadRedirect("ftp://ftp.chaoyang.gov.test/wlj/"), "资料下载（FTP）"),
    "/go/broken.html": (BadRedirect("http://www.ln.gov.test]/"), "省厅（新址）"),
}


def _style_block(ctx: PageContext) -> str:
    live_import = ctx.link("css", "/css/print.css")
    dead_import = ctx.link("css", "/css/old/theme2019.css")
    live_url = ctx.link("css", "/images/dmt/banner.jpg")
    dead_url = ctx.link("css", "/images/dmt/hd_bg.png")
    return ("<style type=\"text/css\">\n"
            f'@import "{live_import}";\n@import url(\'{dead_import}\');\n'
            "/* .old{background:url(/images/dmt/retired.png)} */\n"
            f".banner{{background:url({live_url}) no-repeat}}\n"
            f'.hd{{background-image:URL( "{dead_url}" )}}\n'
            f".dot{{background:url({ctx.link('css', 'data:image/png;base64,iVBORw0KGgo=')})}}\n"
            "</style>\n")


def _head_extra(ctx: PageContext) -> str:
    return (f'<link rel="shortcut icon" href="{ctx.link("link", "/favicon.ico")}">\n'
            f'<link rel="apple-touch-icon" href="{ctx.link("link", "/images/touch-icon-180.png")}">\n'
            '<link rel="canonical" href="/dmt/index_2019.html">\n'
            '<link rel="preload" href="/fonts/retired.woff2" as="font">\n' + _style_block(ctx))


def _media(ctx: PageContext) -> str:
    styled_live = ctx.link("css", "/images/dmt/tab_bg.png")
    styled_dead = ctx.link("css", "/images/dmt/title_bg.jpg")
    webp = ctx.link("source", "/images/dmt/hero.webp")
    webp2 = ctx.link("source", "/images/dmt/hero,2x.webp")
    img_src = ctx.link("img", "/images/dmt/hero.jpg", "大凌河风光")
    small = ctx.link("img", "/images/dmt/hero-480.jpg", "大凌河风光")
    large = ctx.link("img", "/images/dmt/hero-960.jpg", "大凌河风光")
    video = ctx.link("video", "/media/xcp.mp4", "朝阳文旅宣传片")
    poster_live = ctx.link("video", "/media/xcp_poster.jpg", "朝阳文旅宣传片")
    video_old = ctx.link("video", "/media/old/xcp2019.mp4", "2019年宣传片")
    poster_dead = ctx.link("video", "/media/old/xcp2019.jpg", "2019年宣传片")
    webm = ctx.link("source", "/media/xcp.webm")
    ogv = ctx.link("source", "/media/xcp.ogv")
    track_live = ctx.link("track", "/media/xcp_zh.vtt", "中文")
    track_dead = ctx.link("track", "/media/xcp_en.vtt", "English")
    audio_live = ctx.link("audio", "/media/gbzx.mp3", "广播资讯")
    audio_dead = ctx.link("audio", "/media/old/gbzx2019.mp3", "往期广播")
    obj_live = ctx.link("object", "/media/map.svg", "景区分布图")
    obj_dead = ctx.link("object", "/media/old/map.swf", "旧版景区地图")
    embed_live = ctx.link("embed", "/media/guide.pdf", "旅游指南")
    embed_dead = ctx.link("embed", "/media/old/intro.swf", "旧版宣传动画")
    cell_live = ctx.link("background", "/images/dmt/cell_bg.gif")
    cell_dead = ctx.link("background", "/images/dmt/old_cell.gif")
    search = ctx.link("img", "/images/dmt/search.gif", "搜索")
    search_dead = ctx.link("img", "/images/dmt/go_old.gif", "提交")
    bad_img = ctx.link("img", "http:///images/dmt/logo.png", "局徽")
    return (
        f'<div class="tab" style="background:url({styled_live}) repeat-x">文旅资讯</div>\n'
        f"<div class=\"title\" style=\"background-image: url('{styled_dead}')\">多媒体</div>\n"
        '<div class="hero">\n<picture>\n'
        f'  <source type="image/webp" srcset="{webp} 1x, {webp2} 2x">\n'
        f'  <img src="{img_src}" srcset="{small} 480w, {large} 960w" sizes="100vw" alt="大凌河风光">\n'
        "</picture>\n</div>\n"
        f'<img src="{ctx.link("img", "data:image/gif;base64,R0lGODlhAQABAAAAACw=")}" alt="">\n'
        f'<video src="{video}" poster="{poster_live}" title="朝阳文旅宣传片" controls></video>\n'
        f'<video poster="{poster_dead}" src="{video_old}" title="2019年宣传片" controls>\n'
        f'  <source src="{webm}" type="video/webm">\n  <source src="{ogv}" type="video/ogg">\n'
        f'  <track kind="subtitles" src="{track_live}" srclang="zh" label="中文">\n'
        f'  <track kind="subtitles" src="{track_dead}" srclang="en" label="English">\n'
        "</video>\n"
        f'<audio src="{audio_live}" title="广播资讯" controls></audio>\n'
        f'<audio src="{audio_dead}" title="往期广播" controls></audio>\n'
        f'<object data="{obj_live}" type="image/svg+xml" title="景区分布图"></object>\n'
        f'<object data="{obj_dead}" type="application/x-shockwave-flash" title="旧版景区地图"></object>\n'
        f'<embed src="{embed_live}" type="application/pdf" title="旅游指南">\n'
        f'<embed src="{embed_dead}" type="application/x-shockwave-flash" title="旧版宣传动画">\n'
        f'<table class="tb"><tr><td background="{cell_live}">景区</td><td background="{cell_dead}">线路</td></tr></table>\n'
        f'<form action="/search/"><input type="image" src="{search}" alt="搜索">'
        f'<input type="image" src="{search_dead}" alt="提交"></form>\n'
        f'<p><img src="{escape(bad_img)}" alt="局徽"></p>\n'
    )


def _links(ctx: PageContext) -> str:
    malformed = "".join(f"  <li>{a(ctx, href, text)}</li>\n" for href, text in MALFORMED)
    skipped = "".join(f"  <li>{a(ctx, href, text)}</li>\n" for href, text in SKIPPED)
    moved = "".join(f"  <li>{a(ctx, path, text)}</li>\n" for path, (_, text) in REDIRECTS.items())
    return (f'<div class="xglj">\n<h3>相关链接</h3>\n<ul>\n{malformed}{moved}</ul>\n'
            f'<ul class="tools">\n{skipped}</ul>\n</div>\n')


def media_page(ctx: PageContext) -> str:
    main = f"<h2>文旅多媒体</h2>\n{_media(ctx)}{_links(ctx)}"
    return (head(ctx, f"文旅多媒体_{ctx.site.name}", _head_extra(ctx)) + "<body>\n" + header(ctx) + nav(ctx)
            + f'<div class="main">\n{main}</div>\n' + footer(ctx) + "</body>\n</html>\n")


def directory_page(ctx: PageContext) -> str:
    """More distinct links than the site's max_links_per_page, all to one other host, none linked elsewhere."""
    rows = "".join(f"  <li>{a(ctx, Ref(DIRECTORY, f'/zd/{n}.html'), f'第{n}号单位')}</li>\n"
                   for n in range(1, DIRECTORY_LINKS + 1))
    main = f'<h2>网站导航</h2>\n<ul class="wzdh">\n{rows}</ul>\n'
    return (head(ctx, f"网站导航_{ctx.site.name}") + "<body>\n" + header(ctx) + nav(ctx)
            + f'<div class="main">\n{main}</div>\n' + footer(ctx) + "</body>\n</html>\n")


def _columns(lag: int) -> tuple[Column, ...]:
    zwgk = (Column("通知公告", "/zwgk/tzgg/", (lag + 1, lag + 9), home=3),
            Column("政策文件", "/zwgk/zcwj/", (lag + 5, lag + 40), titles="zcwj"))
    return (Column("工作动态", "/gzdt/", (lag, lag + 3, lag + 7), home=3, titles="xwdt"),
            Column("政务公开", "/zwgk/", children=zwgk))


def link_case_plans(today: date) -> tuple[SitePlan, ...]:
    """The listed site holding every link kind (see the module docstring)."""
    pages: dict[str, PageSpec] = {MEDIA_PAGE: PageSpec(body=media_page), DIRECTORY_PAGE: PageSpec(body=directory_page)}
    pages.update({path: PageSpec(body=body, content_type=kind, declare="none") for path, (body, kind) in LIVE.items()})
    pages.update({path: PageSpec(behaviour=behaviour) for path, (behaviour, _) in REDIRECTS.items()})
    return (
        SitePlan("chaoyang-wlj", HOST, "朝阳市文化旅游和广播电视局", "other", "city", "2113000203",
                 _columns(2),
                 case="issue 10: every link kind (srcset, picture/source, video/audio/track/poster, object/embed, "
                      "CSS url() and @import, icons, background, input image), malformed hrefs, skipped schemes, "
                      "redirects without a usable Location; a 网站导航 page with more links than the site's "
                      "max_links_per_page (the rest are over_limit, never requested)",
                 extras={"/": (LinkSpec("a", MEDIA_PAGE, "文旅多媒体"), LinkSpec("a", DIRECTORY_PAGE, "网站导航"))},
                 pages=pages, max_links_per_page=LINKS_PER_PAGE),
    )
