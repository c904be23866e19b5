"""spiders.extract: links with tag and page region, title, redirects and soft-404 wording, on real-shaped pages."""

from datetime import date
from html import escape
from pathlib import Path

import pytest

from monitor.htmltext import decode_html
from spiders.extract import _MESSAGE_WORDS, TEXT_MAX, TITLE_MAX, Extracted, _asks, extract, parse

HTML = Path(__file__).parent / "data" / "html"
TODAY = date.today()
ST = "http://www.shuangta.gov.cn"
ZG = "http://www.zgcy.gov.cn"


def page(name: str, url: str) -> Extracted:
    text, codec = decode_html((HTML / name).read_bytes(), None)
    return extract(text, url, today=TODAY, encoding=codec)


def links(result: Extracted) -> list[tuple[str, str, str]]:
    return [(link.url, link.tag, link.context) for link in result.links]


def one(html: str, url: str = f"{ZG}/zwgk/index.html") -> Extracted:
    return extract(html, url, today=TODAY)


def test_homepage_tells_nav_menu_news_list_and_footer_apart() -> None:
    result = page("portal_home.html", f"{ST}/")
    assert result.title == "朝阳市双塔区人民政府"
    assert links(result) == [
        (f"{ST}/images/style.css", "link", "body"),
        (f"{ST}/favicon.ico", "link", "body"),
        (f"{ST}/js/jquery-1.8.3.min.js", "script", "body"),
        (f"{ST}/wza/index.html", "a", "nav"),
        ("http://m.shuangta.gov.cn/", "a", "nav"),
        (f"{ST}/", "a", "nav"),
        (f"{ST}/images/logo.png", "img", "nav"),
        (f"{ST}/", "a", "nav"),
        (f"{ST}/zjst/", "a", "nav"),
        (f"{ST}/zwgk/", "a", "nav"),
        (f"{ST}/zwgk/zfxxgk/", "a", "nav"),
        (f"{ST}/zwgk/zcwj/", "a", "nav"),
        (f"{ST}/zwfw/", "a", "nav"),
        (f"{ST}/hdjl/", "a", "nav"),
        (f"{ST}/images/banner_2022.jpg", "img", "body"),
        (f"{ST}/xwzx/tpxw/202206/t20220620_801.html", "a", "list"),
        (f"{ST}/xwzx/tpxw/202206/W020220620.jpg", "img", "list"),
        (f"{ST}/xwzx/bmdt/", "a", "body"),
        (f"{ST}/xwzx/bmdt/", "a", "body"),
        (f"{ST}/xwzx/bmdt/202206/t20220620_802.html", "a", "list"),
        (f"{ST}/xwzx/bmdt/202206/t20220617_799.html", "a", "list"),
        (f"{ST}/xwzx/bmdt/202206/t20220615_790.html", "a", "list"),
        (f"{ST}/tzgg/202206/t20220610_780.html", "a", "list"),
        (f"{ST}/tzgg/202206/t20220608_777.html", "a", "list"),
        (f"{ST}/zwgk/zfxxgkzn/", "a", "nav"),
        (f"{ST}/zwgk/zfxxgkzd/", "a", "nav"),
        (f"{ST}/zwgk/fdzdgknr/", "a", "nav"),
        (f"{ST}/zwgk/zfxxgknb/", "a", "nav"),
        (f"{ST}/ztzl/yhyshj/", "a", "body"),
        (f"{ST}/images/zt_yshj.jpg", "img", "body"),
        ("http://www.lnzwfw.gov.cn/", "a", "body"),
        (f"{ST}/images/zt_zwfw.jpg", "img", "body"),
        ("http://www.gov.cn/", "js-location", "body"),
        ("http://www.ln.gov.cn/", "js-location", "body"),
        (f"{ST}/wzdt/", "a", "footer"),
        (f"{ST}/lxwm/", "a", "footer"),
        (f"{ST}/images/ga.png", "img", "footer"),
        ("https://zfwzgl.www.gov.cn/exposure/jiucuo.js", "script", "footer"),
        ("http://bszs.conac.cn/sitename?method=show&id=0A1B2C3D", "a", "footer"),
        ("http://dcs.conac.cn/image/red.png", "img", "footer"),
    ]
    texts = {(link.url, link.tag): link.text for link in result.links}
    assert texts[(f"{ST}/images/logo.png", "img")] == "朝阳市双塔区人民政府"
    assert texts[(f"{ST}/ztzl/yhyshj/", "a")] == "优化营商环境"
    assert texts[("http://www.gov.cn/", "js-location")] == "中国政府网"
    assert texts[("http://bszs.conac.cn/sitename?method=show&id=0A1B2C3D", "a")] == "党政机关"
    assert (result.refresh, result.js_redirect, result.not_found_text) == (None, None, False)


def test_article_page_has_header_menu_side_menu_breadcrumb_and_attachments() -> None:
    result = page("article.html", f"{ZG}/zwgk/zcwj/t20220620_123.html")
    assert result.title == "朝阳市人民政府关于印发朝阳市2022年政务公开工作要点的通知_政策文件_朝阳市人民政府"
    assert links(result) == [
        (f"{ZG}/images/article.css", "link", "body"),
        (f"{ZG}/js/common.js", "script", "body"),
        (f"{ZG}/images/logo.png", "img", "nav"),
        (f"{ZG}/", "a", "nav"),
        (f"{ZG}/zwgk/", "a", "nav"),
        (f"{ZG}/zwfw/", "a", "nav"),
        (f"{ZG}/", "a", "body"),
        (f"{ZG}/zwgk/", "a", "body"),
        (f"{ZG}/zwgk/zcwj/", "a", "body"),
        (f"{ZG}/zwgk/zfxxgkzn/", "a", "subnav"),
        (f"{ZG}/zwgk/zcwj/", "a", "subnav"),
        (f"{ZG}/zwgk/zfxxgknb/", "a", "subnav"),
        (f"{ZG}/zwgk/zcwj/202206/P020220620123456789.pdf", "a", "body"),
        (f"{ZG}/zwgk/zcwj/202206/W020220620123456.png", "img", "body"),
        ("http://www.gov.cn/zhengce/content/2022-04/14/content_5685100.htm", "a", "body"),
        (f"{ZG}/wzdt/", "a", "footer"),
    ]


def test_gbk_page_without_charset_decodes_as_gb18030_and_keeps_its_regions() -> None:
    body = (HTML / "gbk_list.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert decode_html(body, None)[1] == "gb18030"
    base = "http://www.cyfgw.gov.cn"
    result = page("gbk_list.html", f"{base}/tzgg/index.html")
    assert result.title == "通知公告 - 朝阳市发展和改革委员会"
    assert links(result) == [
        (f"{base}/css/fgw.css", "link", "body"),
        (f"{base}/images/top.jpg", "img", "body"),
        (f"{base}/index.html", "a", "nav"),
        (f"{base}/jgzn/", "a", "nav"),
        (f"{base}/tzgg/", "a", "nav"),
        (f"{base}/zcfg/", "a", "nav"),
        (f"{base}/xxgk/", "a", "nav"),
        (f"{base}/xxgk/fdzdgknr/", "a", "subnav"),
        (f"{base}/xxgk/fzgh/", "a", "subnav"),
        (f"{base}/xxgk/fmqd/", "a", "subnav"),
        (f"{base}/tzgg/202206/t20220620_501.html", "a", "list"),
        (f"{base}/tzgg/202206/t20220616_498.html", "a", "list"),
        (f"{base}/tzgg/202205/t20220531_470.html", "a", "list"),
        (f"{base}/tzgg/index_1.html", "a", "body"),
        (f"{base}/tzgg/index_2.html", "a", "body"),
        (f"{base}/tzgg/index_1.html", "pager", "body"),    # createPageHTML(3, 0, "index", "html")
        (f"{base}/tzgg/index_2.html", "pager", "body"),
    ]
    assert [link.text for link in result.links if link.context == "subnav"] == [
        "法定主动公开内容", "发展规划", "市场准入负面清单"]


def test_table_layout_homepage_without_class_names() -> None:
    base = "http://www.kazuo.gov.cn"
    result = page("table_home.html", f"{base}/index.htm")
    assert result.title == "喀左县人民政府"
    assert links(result) == [
        (f"{base}/images/banner.jpg", "img", "body"),
        (f"{base}/index.htm", "a", "nav"),
        (f"{base}/zjkz/index.htm", "a", "nav"),
        (f"{base}/zwgk/index.htm", "a", "nav"),
        (f"{base}/zwfw/index.htm", "a", "nav"),
        (f"{base}/gzhd/index.htm", "a", "nav"),
        (f"{base}/ztzl/index.htm", "a", "nav"),
        (f"{base}/gzdt/index.htm", "a", "body"),
        (f"{base}/gzdt/202206/t20220620_91.htm", "a", "list"),
        (f"{base}/gzdt/202206/t20220618_90.htm", "a", "list"),
        ("http://www.gov.cn/", "a", "body"),
        (f"{base}/images/zgzfw.gif", "img", "body"),
        (f"{base}/wzdt.htm", "a", "footer"),
        (f"{base}/lxwm.htm", "a", "footer"),
        ("http://www.beian.gov.cn/portal/registerSystemInfo?recordcode=21132402000001", "a", "footer"),
        (f"{base}/images/ga.png", "img", "footer"),
    ]


def test_navigation_inside_an_iframe() -> None:
    base = "http://www.cysw.gov.cn"
    home = page("iframe_nav.html", f"{base}/")
    assert links(home) == [
        (f"{base}/images/logo.png", "img", "nav"),
        (f"{base}/include/nav.html", "iframe", "nav"),
        ("https://www.lnswt.gov.cn/ztzl/index.html", "iframe", "body"),
        (f"{base}/swdt/202206/t20220620_1.html", "a", "list"),
    ]
    assert [link.text for link in home.links if link.tag == "iframe"] == ["导航", "ztzl"]
    frame = page("nav_frame.html", f"{base}/include/nav.html")
    assert links(frame) == [(f"{base}{path}", "a", "nav") for path in
                            ("/", "/jgsz/", "/zwgk/", "/ztzl/", "/zsyz/", "/hdjl/")]


def test_frameset_frames_are_links() -> None:
    base = "http://www.chaoyangxian.gov.cn"
    result = page("frameset.html", f"{base}/")
    assert links(result) == [(f"{base}/top.html", "frame", "body"), (f"{base}/main.html", "frame", "body")]
    assert result.title == "朝阳县人民政府"


def test_meta_refresh_homepage() -> None:
    base = "http://www.cyyshj.gov.cn"
    result = page("meta_refresh.html", f"{base}/")
    assert result.refresh == f"{base}/web/index.shtml"
    assert links(result) == [
        (f"{base}/web/index.shtml", "meta-refresh", "body"),
        (f"{base}/nojs.html", "meta-refresh", "body"),
        (f"{base}/web/index.shtml", "a", "body"),
    ]


def test_js_redirect_homepage_keeps_conditional_and_handler_locations_as_links_only() -> None:
    result = page("js_redirect.html", f"{ZG}/")
    assert result.js_redirect == "https://www.zgcy.gov.cn/zgcy/index.shtml"
    assert links(result) == [
        (f"{ZG}/m/index.html", "js-location", "body"),
        ("https://www.zgcy.gov.cn/zgcy/index.shtml", "js-location", "body"),
        (f"{ZG}/zwgk/", "js-location", "body"),
    ]
    assert result.links[-1].text == "政务公开"


def test_base_href_lazy_images_and_non_http_links() -> None:
    result = page("base_href.html", f"{ZG}/zgcy/index.html")
    assert links(result) == [
        (f"{ZG}/zgcy/css/main.css", "link", "body"),
        (f"{ZG}/zgcy/xxgk/index.html", "a", "nav"),
        (f"{ZG}/zgcy/xxgk/images/blank.gif", "img", "body"),
        (f"{ZG}/zgcy/xxgk/images/2022/photo1.jpg", "img", "body"),
        ("http://cdn.zgcy.gov.cn/img/photo2.jpg", "img", "body"),
        (f"{ZG}/zwgk/", "a", "body"),
        ("http://www.ln.gov.cn/", "a", "body"),
    ]


@pytest.mark.parametrize(("name", "expected"), [
    ("soft404.html", True), ("inspection_report.html", False), ("article.html", False), ("portal_home.html", False),
], ids=["error-page-inside-full-site-chrome", "report-that-mentions-404-and-missing-pages",
        "ordinary-article", "ordinary-homepage"])
def test_soft_404_wording_on_fixtures(name: str, expected: bool) -> None:
    assert page(name, f"{ZG}/x.html").not_found_text is expected


@pytest.mark.parametrize(("html", "expected"), [
    (("<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center>"
     "<hr><center>nginx</center></body></html>"), True),
    ("<title>页面不存在</title><p>返回首页</p>", True),
    ("<title>提示信息</title><div>对不起，您访问的页面不存在！</div>", True),
    ("<title>提示</title><div>错误代码：404</div>", True),
    ("<title>网站</title><div class='nav'>" + "<a href='/'>栏目</a>" * 200 + "</div><p>页面找不到了</p>", True),
    ("<title>关于第404号建议的答复</title><p>" + "答复内容。" * 300 + "</p>", False),
    ("<title>关于国务院令第404号的解读</title><p>正文</p>", False),
    ("<title>通知</title><p>" + "正文内容，" * 200 + "部分页面不存在。</p>", False),
], ids=["nginx-default-404", "title-says-missing", "short-body-says-missing", "short-body-with-404-code",
        "missing-page-text-with-a-big-menu", "long-reply-mentioning-404", "long-title-mentioning-404",
        "long-article-mentioning-missing-pages"])
def test_soft_404_wording(html: str, expected: bool) -> None:
    assert one(html).not_found_text is expected


@pytest.mark.parametrize(("html", "expected"), [
    ("<a href='/a.html'>栏目</a>", [(f"{ZG}/a.html", "a")]),
    ("<map><area href='/b.html' alt='地图'></map>", [(f"{ZG}/b.html", "area")]),
    ("<iframe src='/c.html'></iframe><frame src='/d.html'>", [(f"{ZG}/c.html", "iframe"), (f"{ZG}/d.html", "frame")]),
    ("<img src='/e.jpg' data-src='/f.jpg'><img data-original='/g.jpg'><img lazy-src='/h.jpg'>",
     [(f"{ZG}/e.jpg", "img"), (f"{ZG}/f.jpg", "img"), (f"{ZG}/g.jpg", "img"), (f"{ZG}/h.jpg", "img")]),
    ("<script src='/i.js'></script>", [(f"{ZG}/i.js", "script")]),
    (("<link rel='stylesheet' href='/j.css'><link rel='icon' href='/k.ico'><link rel='canonical' href='/l'>"
     "<link rel='alternate' href='/m.xml'><link rel='next' href='/n'><link rel='preload' href='/o.js'>"),
     [(f"{ZG}/j.css", "link"), (f"{ZG}/k.ico", "link")]),
    ("<embed src='/p.swf'><object data='/q.swf'></object>", [(f"{ZG}/p.swf", "embed"), (f"{ZG}/q.swf", "object")]),
    ("<meta http-equiv='refresh' content='3;url=/r.html'>", [(f"{ZG}/r.html", "meta-refresh")]),
    ("<button onclick=\"location.href='/s.html'\">办事</button>", [(f"{ZG}/s.html", "js-location")]),
    ("<a href='#' onclick=\"window.location.href='/t.html'\">栏目</a>", [(f"{ZG}/t.html", "js-location")]),
    (("<select onchange='location=this.value'><option value='http://u.gov.cn/'>友情</option>"
     "<option value='/relative'>x</option></select>"), [("http://u.gov.cn/", "js-location")]),
    ("<a href='#top'>顶部</a><a href=''>空</a><a>无</a><a href='javascript:;'>脚本</a><a href='mailto:a@b.cn'>信</a>",
     []),
], ids=["anchor", "image-map-area", "iframe-and-frame", "lazy-images", "script-src",
        "stylesheet-and-icon-only-of-link-rels", "embed-and-object", "meta-refresh", "onclick-location",
        "onclick-on-a-fragment-anchor", "friend-link-select", "same-page-and-non-http-links-are-dropped"])
def test_link_tags(html: str, expected: list[tuple[str, str]]) -> None:
    assert [(link.url, link.tag) for link in one(html).links] == expected


@pytest.mark.parametrize(("script", "redirect", "targets"), [
    ("window.location = '/a.html';", f"{ZG}/a.html", [f"{ZG}/a.html"]),
    ("location.href=\"/b.html\"", f"{ZG}/b.html", [f"{ZG}/b.html"]),
    ("self.location='/c.html'", f"{ZG}/c.html", [f"{ZG}/c.html"]),
    ("top.location.href = '/d.html';", f"{ZG}/d.html", [f"{ZG}/d.html"]),
    ("document.location = 'https://e.gov.cn/';", "https://e.gov.cn/", ["https://e.gov.cn/"]),
    ("window.location.replace('/f.html')", f"{ZG}/f.html", [f"{ZG}/f.html"]),
    ("location.assign(\"/g.html\");", f"{ZG}/g.html", [f"{ZG}/g.html"]),
    ("setTimeout(\"location.href='/h.html'\", 3000);", f"{ZG}/h.html", [f"{ZG}/h.html"]),
    ("function go() { location.href = '/i.html'; }", None, [f"{ZG}/i.html"]),
    ("if (top.location != self.location) { top.location = self.location; }", None, []),
    ("if (location.href == '/j.html') {}", None, []),
    ("location.href = '/k.jsp?id=' + id;", None, []),
    ("location.hash = '#top';", None, []),
], ids=["window-location", "location-href", "self-location", "top-location-href", "document-location",
        "location-replace", "location-assign", "string-set-timeout", "inside-a-function-is-no-redirect",
        "frame-buster-without-a-literal", "comparison-is-not-assignment", "concatenated-url-is-not-followed",
        "hash-change"])
def test_js_locations(script: str, redirect: str | None, targets: list[str]) -> None:
    result = one(f"<script>{script}</script>")
    assert result.js_redirect == redirect
    assert [link.url for link in result.links if link.tag == "js-location"] == targets


@pytest.mark.parametrize(("content", "refresh"), [
    ("0;url=/a.html", f"{ZG}/a.html"),
    ("0; URL='/b.html'", f"{ZG}/b.html"),
    ("5 ; url=\"http://c.gov.cn/\"", "http://c.gov.cn/"),
    ("0;/d.html", f"{ZG}/d.html"),
    ("300", None),
    ("1800;url=/zwgk/index.html", None),
], ids=["plain", "quoted-upper-case", "double-quoted-absolute", "without-url-key", "reload-only",
        "reload-of-the-page-itself"])
def test_meta_refresh_target(content: str, refresh: str | None) -> None:
    assert one(f"<meta http-equiv='refresh' content=\"{escape(content)}\">").refresh == refresh


@pytest.mark.parametrize(("html", "context"), [
    ("<nav><a href='/x'>栏目</a></nav>", "nav"),
    ("<div id='daohang'><a href='/x'>栏目</a></div>", "nav"),
    ("<table class='dh'><tr><td><a href='/x'>栏目</a></td></tr></table>", "nav"),
    ("<div class='topMenu'><a href='/x'>栏目</a></div>", "nav"),
    ("<div class='subnav'><a href='/x'>栏目</a></div>", "subnav"),
    ("<div class='lanmu'><a href='/x'>栏目</a></div>", "subnav"),
    ("<td class='lm'><a href='/x'>栏目</a></td>", "subnav"),
    ("<div class='left'><ul class='menu'><li><a href='/x'>栏目</a></li></ul></div>", "subnav"),
    ("<div class='left'><a href='/x'>栏目</a></div>", "subnav"),
    ("<div class='left'><a href='/x'>一条很长的新闻标题不是菜单项目</a></div>", "body"),
    ("<div id='nav'><ul class='sub_menu'><li><a href='/x'>栏目</a></li></ul></div>", "nav"),
    ("<ul class='news_list'><li><a href='/x'>新闻</a></li></ul>", "list"),
    ("<div class='xxgk_list'><a href='/x'>文件</a></div>", "list"),
    ("<div class='con'><p><a href='/x'>文件</a> 2022-06-20</p></div>", "list"),
    ("<div class='news_list'><div class='pagination'><a href='/x'>下一页</a></div></div>", "body"),
    ("<div class='news_box'><div class='title'><a href='/x'>部门动态</a></div></div>", "body"),
    ("<div class='nav'><a href='/x'>栏目</a></div><footer><a href='/y'>关于</a></footer>", "nav"),
    ("<p>正文</p><div id='copyright'><a href='/x'>网站地图</a></div>", "footer"),
    ("<p>正文</p><div class='bq'><a href='/x'>网站地图</a></div>", "footer"),
    ("<p>正文</p><footer><a href='/x'>网站地图</a></footer>", "footer"),
    ("<p>正文</p><div class='footer'><div class='nav'><a href='/x'>网站地图</a></div></div>", "footer"),
    ("<p>正文</p><div class='footer'><ul><li><a href='/x'>通知</a> 2022-06-20</li></ul></div>", "footer"),
    ("<p>正文</p><p>版权所有：朝阳市人民政府</p><p><a href='/x'>找错</a></p>", "footer"),
    ("<p><a href='/x'>正文链接</a></p>", "body"),
], ids=[
    "nav-element", "daohang-pinyin-id", "dh-pinyin-class", "camel-case-top-menu", "subnav-class",
    "lanmu-pinyin", "lm-pinyin-table-cell", "menu-in-a-left-column", "short-link-in-a-left-column",
    "long-link-in-a-left-column-is-body", "dropdown-of-the-main-nav-stays-nav", "news-list-class",
    "xxgk-list-class", "dated-paragraph-is-a-list-row", "pagination-inside-a-list-is-body",
    "box-title-inside-a-news-box-is-body", "first-link-before-a-footer-is-nav", "copyright-id",
    "bq-pinyin-class", "footer-element", "nav-inside-footer-is-footer", "dated-row-inside-footer-is-footer",
    "after-the-copyright-line-is-footer", "plain-paragraph",
])
def test_link_context(html: str, context: str) -> None:
    assert one(html).links[0].context == context


@pytest.mark.parametrize("line", ["辽ICP备05001234号", "辽icp备05001234号", "COPYRIGHT 2024", "Copyright 2024",
                                  "网站标识码：2113000001", "辽公网安备 21130002000001号"])
def test_the_copyright_line_in_any_case_starts_the_footer(line: str) -> None:
    result = one(f"<div><p>正文</p><p><a href='/a'>正文链接</a></p></div><div><p>{line}</p>"
                 "<p><a href='/x'>找错</a></p></div>")
    assert [(link.url[-2:], link.context) for link in result.links] == [("/a", "body"), ("/x", "footer")]


def test_footer_words_on_page_wrappers_and_mid_page_boxes_do_not_make_a_footer() -> None:
    body = "".join(f"<div class='box'><p>正文{n}</p><div class='box_bottom'><a href='/more{n}'>更多</a></div></div>"
                   for n in range(10))
    result = one(f"<body class='page-bottom'><div class='nav'><a href='/a'>首页</a></div>"
                 f"<div class='main'><div class='col'>{body}</div></div>"
                 "<div class='wrap'><div class='footer'><a href='/map'>网站地图</a></div></div></body>")
    contexts = {link.url.rsplit("/", 1)[1]: link.context for link in result.links}
    assert contexts == {"a": "nav", **{f"more{n}": "body" for n in range(10)}, "map": "footer"}


def test_link_text_falls_back_to_image_alt_then_title_and_is_cut() -> None:
    result = one("<a href='/a'><img src='/i.png' alt='图片说明'></a><a href='/b' title='标题说明'> </a>"
                 f"<a href='/c'>{'长' * 300}</a><a href='/d'>  多个\n  空格  </a>")
    texts = {link.url: link.text for link in result.links if link.tag == "a"}
    assert texts == {f"{ZG}/a": "图片说明", f"{ZG}/b": "标题说明", f"{ZG}/c": "长" * TEXT_MAX, f"{ZG}/d": "多个 空格"}


def test_title_is_collapsed_and_cut() -> None:
    assert one(f"<title>  朝阳市\n  人民政府 {'长' * 400}</title>").title == ("朝阳市 人民政府 " + "长" * 400)[:TITLE_MAX]


def test_identical_links_on_one_page_are_kept_once() -> None:
    result = one("<a href='/a.html'>栏目</a><a href='/a.html#x'>栏目</a><a href='./a.html'>栏目</a>",
                 url=f"{ZG}/")
    assert links(result) == [(f"{ZG}/a.html", "a", "body")]


def test_query_text_of_a_gbk_page_is_encoded_in_gbk() -> None:
    result = extract("<a href='/search.jsp?q=中文'>搜索</a>", f"{ZG}/", today=TODAY, encoding="gb18030")
    assert result.links[0].url == f"{ZG}/search.jsp?q=%D6%D0%CE%C4"


@pytest.mark.parametrize("html", [
    "",
    "   \n ",
    "<!-- 只有注释 -->",
    "\x00\x00\x00",
], ids=["empty", "blank", "comment-only", "nul-bytes-only"])
def test_pages_without_markup_give_an_empty_result(html: str) -> None:
    assert one(html) == Extracted("", (), (), None, None, False, 0)


def test_broken_markup_without_html_or_body() -> None:
    base = "http://www.x.gov.cn"
    text = (HTML / "broken.html").read_text(encoding="utf-8")
    result = extract(text.replace("栏目二", "栏目\x00二"), f"{base}/", today=TODAY)
    assert result.title == "测试页面"
    assert links(result) == [
        (f"{base}/a.html", "a", "nav"), (f"{base}/b.html", "a", "nav"), (f"{base}/n1.html", "a", "list"),
        (f"{base}/c.html", "a", "body"), (f"{base}/d.html", "a", "list"),
    ]
    assert [link.text for link in result.links] == ["栏目一", "栏目二", "新闻一", "深层链接", "表格"]


def test_xml_declaration_and_control_characters_are_tolerated() -> None:
    result = one("<?xml version='1.0' encoding='gbk'?>\n<html><title>朝阳\x0b市</title>"
                 "<a href='/a\x01.html'>栏\ud800目</a></html>")
    assert result.title == "朝阳市"
    assert [(link.url, link.text) for link in result.links] == [(f"{ZG}/a.html", "栏目")]


def test_links_deeper_than_libxml2_nesting_limit_are_still_found() -> None:
    html = "<p>" + "<font color=red>" * 3000 + "<a href='/deep.html'>深</a>" + "<b>" * 3000 + "<a href='/deeper'>深</a>"
    assert [link.url for link in one(html).links] == [f"{ZG}/deep.html", f"{ZG}/deeper"]


def test_a_two_megabyte_list_page_yields_every_link_and_row() -> None:
    rows = "".join(f"<li><a href='/zwgk/tzgg/t2022{n:06d}.html' title='通知'>关于做好第{n}项工作的通知</a>"
                   f"<span class='date'>2022-06-20</span></li>\n" for n in range(16000))
    html = f"<html><body><div class='nav'><a href='/'>首页</a></div><ul class='list'>{rows}</ul></body></html>"
    assert len(html.encode()) > 2_000_000
    result = one(html)
    assert len(result.links) == 16001
    assert sum(1 for link in result.links if link.context == "list") == 16000
    assert result.text_size > 200_000


# ------------------------------------------------------------------ every link a reader or a browser follows

@pytest.mark.parametrize(("html", "expected"), [
    ("<img src='/a.jpg' srcset='/a-480.jpg 480w, /a-960.jpg 960w' alt='图'>",
     [(f"{ZG}/a.jpg", "img", "图"), (f"{ZG}/a-480.jpg", "img", "图"), (f"{ZG}/a-960.jpg", "img", "图")]),
    ("<img data-srcset='/lazy.jpg 1x, /lazy@2x.jpg 2x'>", [(f"{ZG}/lazy.jpg", "img", ""), (f"{ZG}/lazy@2x.jpg", "img", "")]),
    ("<picture><source srcset='/b.webp 1x, /b,2.webp 2x' type='image/webp'><img src='/b.jpg'></picture>",
     [(f"{ZG}/b.webp", "source", ""), (f"{ZG}/b,2.webp", "source", ""), (f"{ZG}/b.jpg", "img", "")]),
    (("<video src='/v.mp4' poster='/v.jpg' title='宣传片'><source src='/v.webm'>"
      "<track src='/v.vtt' label='中文'></video>"),
     [(f"{ZG}/v.mp4", "video", "宣传片"), (f"{ZG}/v.jpg", "video", "宣传片"), (f"{ZG}/v.webm", "source", ""),
      (f"{ZG}/v.vtt", "track", "中文")]),
    ("<audio src='/a.mp3' title='广播'></audio><audio><source src='/b.ogg'></audio>",
     [(f"{ZG}/a.mp3", "audio", "广播"), (f"{ZG}/b.ogg", "source", "")]),
    ("<object data='/m.svg' title='地图'></object><embed src='/g.pdf' title='指南'>",
     [(f"{ZG}/m.svg", "object", "地图"), (f"{ZG}/g.pdf", "embed", "指南")]),
    (("<link rel='shortcut icon' href='/f.ico'><link rel='apple-touch-icon' href='/t.png'>"
      "<link rel='stylesheet' href='/s.css'><link rel='canonical' href='/c'><link rel='alternate' href='/r.xml'>"
      "<link rel='next' href='/n'><link rel='preload' href='/p.woff2'>"),
     [(f"{ZG}/f.ico", "link", ""), (f"{ZG}/t.png", "link", ""), (f"{ZG}/s.css", "link", "")]),
    (("<style>@import \"/i.css\"; @import url('/j.css'); /* url(/old.png) */ .a{background:url(/k.png)}"
      ".b{background:url(data:image/png;base64,AA==)} .c{filter:url(#f)}</style>"),
     [(f"{ZG}/i.css", "css", ""), (f"{ZG}/j.css", "css", ""), (f"{ZG}/k.png", "css", "")]),
    (("<div style=\"background:url('/bg.png') no-repeat\">x</div><p style='color:red'>y</p>"
      "<span style='background-image:URL(\"/s.gif\")'>z</span>"),
     [(f"{ZG}/bg.png", "css", ""), (f"{ZG}/s.gif", "css", "")]),
    ("<body background='/body.gif'><table background='/t.gif'><tr><td background='/td.gif'>c</td></tr></table></body>",
     [(f"{ZG}/body.gif", "background", ""), (f"{ZG}/t.gif", "background", ""), (f"{ZG}/td.gif", "background", "")]),
    ("<form><input type='image' src='/go.gif' alt='搜索'><input type='text' src='/no.gif'></form>",
     [(f"{ZG}/go.gif", "img", "搜索")]),
    ("<img src='data:image/gif;base64,R0lGOD=' srcset='data:image/png;base64,AA= 1x'><video poster='#'></video>", []),
], ids=["img-srcset", "lazy-srcset", "picture-source-srcset-with-a-comma", "video-poster-source-track",
        "audio-and-its-source", "object-data-and-embed-src", "icons-and-stylesheet-but-not-hints",
        "style-block-imports-and-urls", "style-attributes", "background-attributes", "input-type-image",
        "data-urls-and-fragments-are-skipped"])
def test_resource_links(html: str, expected: list[tuple[str, str, str]]) -> None:
    result = one(html)
    assert [(link.url, link.tag, link.text) for link in result.links] == expected
    assert result.malformed == ()


@pytest.mark.parametrize("href", [
    "http:/www.x.gov.cn", "http://", "http:", "https:", "http://host]", "http://[::1/", "http://exa mple.gov.cn",
    "http://host%20x.gov.cn/", "http://www.x.gov.cn:99999/", "http://www.x.gov.cn:8o/", "https:///a.html",
    "file:///C:/Documents/a.doc", "FILE://server/share/b.xls", "//////", "//host]/x",
])
def test_malformed_hrefs_are_kept_as_written_and_never_followed(href: str) -> None:
    result = one(f"<div class='list'><a href='{escape(href)}'>链接</a></div><a href='/ok.html'>正常</a>")
    assert [(link.url, link.tag, link.text) for link in result.malformed] == [(href, "a", "链接")]
    assert [link.url for link in result.links] == [f"{ZG}/ok.html"]


def test_malformed_resources_keep_their_tag_and_refresh_never_goes_to_one() -> None:
    result = one("<meta http-equiv='refresh' content='0;url=http://'><img src='http:///logo.png' alt='标志'>"
                 "<div style='background:url(http:/bg.png)'>x</div>")
    assert [(link.url, link.tag) for link in result.malformed] == [
        ("http://", "meta-refresh"), ("http:///logo.png", "img"), ("http:/bg.png", "css")]
    assert result.refresh is None and result.links == ()


@pytest.mark.parametrize("href", ["javascript:void(0)", "JavaScript:;", "mailto:a@b.gov.cn", "tel:0421-2600000",
                                  "data:text/html,hi", "weixin://dl/chat", "about:blank", ""])
def test_non_web_schemes_are_skipped_and_not_counted(href: str) -> None:
    result = one(f"<a href='{escape(href)}'>x</a><img src='{escape(href)}'>")
    assert (result.links, result.malformed) == ((), ())


def test_css_is_not_scanned_on_pages_without_a_url_function_or_background() -> None:
    result = one("<div style='color:red'>x</div><p style='font-weight:bold'>y</p>")
    assert result.links == ()


# ------------------------------------------------------------------ list blocks (issue 10)

LQ = "http://www.lq.gov.cn"
COLUMN_PAGE = """<html><body>
<div class="header"><div class="gd"><marquee>
  <a href="/xwdt/1.html">滚动新闻一</a><span>2020-05-09</span></marquee></div></div>
<div class="main">
 <div class="left"><div class="box-hd"><h3>最新动态</h3><a href="/xwdt/">更多</a></div>
  <ul><li><a href="/xwdt/202005/t20200508_1.html">全区新闻一</a><span>2020-05-08</span></li>
      <li><a href="/xwdt/202005/t20200507_2.html">全区新闻二</a><span>2020-05-07</span></li></ul></div>
 <div class="right"><div class="lm-title">通知公告</div>
  <ul class="list"><li><a href="./202001/t20200105_3.html">通知甲</a><span class="date">2020-01-05</span></li>
      <li><a href="./201912/t20191201_4.html">通知乙</a><span class="date">2019-12-01</span></li></ul>
  <ul class="list"><li><a href="./201911/t20191101_5.html">通知丙</a><span class="date">2019-11-01</span></li></ul>
  <div class="pages"><a href="index_1.html">下一页</a> <a href="index_3.html">尾页</a></div>
 </div>
</div></body></html>"""


def blocks(result: Extracted) -> list[tuple[str, str, str, int, bool, int | None, bool]]:
    return [(b.key, b.region, b.heading, b.items, b.pager, b.total, b.widget) for b in result.lists]


def test_list_blocks_name_each_list_with_its_region_heading_pager_and_widget_flag() -> None:
    result = extract(COLUMN_PAGE, f"{LQ}/tzgg/index.html", today=TODAY)
    assert blocks(result) == [
        ("L1", "nav", "", 1, False, None, True),                    # a ticker in the header (page chrome)
        ("L2", "side", "最新动态", 2, False, None, True),           # the site-wide news box
        ("L3", "body", "通知公告", 3, True, None, False),           # the column's own list, split in two <ul>
    ]
    keyed = {(link.url.removeprefix(LQ), link.block) for link in result.links if link.block}
    assert keyed >= {("/tzgg/202001/t20200105_3.html", "L3"), ("/tzgg/201911/t20191101_5.html", "L3"),
                     ("/tzgg/index_1.html", "L3"), ("/tzgg/index_3.html", "L3"),
                     ("/xwdt/202005/t20200508_1.html", "L2")}
    own = [(d.date, d.item.removeprefix(LQ)) for d in result.dates if d.block == "L3"]
    assert own == [(date(2020, 1, 5), "/tzgg/202001/t20200105_3.html"),
                   (date(2019, 12, 1), "/tzgg/201912/t20191201_4.html"),
                   (date(2019, 11, 1), "/tzgg/201911/t20191101_5.html")]


@pytest.mark.parametrize(("script", "page", "expected"), [
    ('createPageHTML(5, 0, "index", "html");', "/col/col12/index.html",
     ["index_1.html", "index_2.html", "index_3.html", "index_4.html"]),
    ("var countPage = 3;var currentPage = 1;createPageHTML(countPage, currentPage, 'index', 'shtml');",
     "/col/col12/index_1.shtml", ["index.shtml", "index_2.shtml"]),
    ('createPageHTML("page_div", 9, 2, "index", "htm", 170);', "/zwgk/index_2.htm",
     ["index.htm", "index_1.htm", "index_3.htm", "index_4.htm"]),          # at most PAGER_MAX pages
    ('createPageHTML(1, 0, "index", "html");', "/col/col12/index.html", []),
    # the older TRS pager writes its own links from its variables
    ('var currentPage = 0;//所在页从0开始\nvar countPage = 3//共多少页\ndocument.write("<a href=\\"index_" + '
     '(currentPage + 1) + ".shtml\\">下一页</a>");', "/xxgk/tzgg/index.shtml", ["index_1.shtml", "index_2.shtml"]),
])
def test_a_createpagehtml_pager_generates_its_list_pages(script: str, page: str, expected: list[str]) -> None:
    html = (f"<div class='list'><ul><li><a href='/art/2020/5/6/art_12_1.html'>标题</a><span>2020-05-06</span></li>"
            f"</ul><div class='page'><script>{script}</script></div></div>")
    result = extract(html, f"{LQ}{page}", today=TODAY)
    folder = f"{LQ}{page.rsplit('/', 1)[0]}/"
    assert [(link.url.removeprefix(folder), link.block) for link in result.links if link.tag == "pager"] == [
        (name, "L1") for name in expected]
    assert blocks(result)[0][4] is bool(expected)


HANWEB = """<html><body><div class="con_list">
<div id="4501"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=2&columnid=4501&path=/"></a>]]></nextgroup>
<totalrecord>7</totalrecord><recordset>
<record><![CDATA[<li><a href="/art/2020/5/6/art_4501_1.html">甲</a><span>2020-05-06</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2020/4/6/art_4501_2.html">乙</a><span>2020-04-06</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2020/3/6/art_4501_3.html">丙</a><span>2020-03-06</span></li>]]></record>
</recordset></datastore></script></div></div></body></html>"""


def test_hanweb_datastore_records_are_list_items_with_their_total_and_dataproxy_pages() -> None:
    result = extract(HANWEB, f"{LQ}/col/col4501/index.html", today=TODAY)
    assert blocks(result) == [("L1", "body", "", 3, True, 7, False)]
    assert [d.item.removeprefix(LQ) for d in result.dates] == [
        "/art/2020/5/6/art_4501_1.html", "/art/2020/4/6/art_4501_2.html", "/art/2020/3/6/art_4501_3.html"]
    proxy = f"{LQ}/module/web/jpage/dataproxy.jsp?page=1&webid=2&columnid=4501&path=/"
    assert [(link.url, link.text) for link in result.links if link.tag == "pager"] == [
        (f"{proxy}&startrecord=4&endrecord=6&perpage=3", "第4-6条"),
        (f"{proxy}&startrecord=7&endrecord=7&perpage=3", "第7-7条")]


@pytest.mark.parametrize(("html", "page", "expected"), [
    ("<div class='page'><script>createPageHTML(5, 0, \"index\", \"html\");</script></div>", "/col/col12/index.html",
     [("/col/col12/index.html", 4)]),
    ("<script>var currentPage = 0;\nvar countPage = 3//共多少页\ndocument.write('<a href=index_1.shtml>2</a>');</script>",
     "/xxgk/tzgg/index.shtml",
     [("/xxgk/tzgg/index.shtml", 2)]),
    ("<div class='page'>共7页 <a href='index_1.html'>下一页</a> <a href='index_6.html'>尾页</a></div>", "/tzgg/",
     [("/tzgg/index.html", 6)]),
    ("<p><a href='list.jsp?cat=2&amp;page=2'>下一页</a><a href='list.jsp?cat=2&amp;page=12'>[尾页]</a></p>", "/zcwj/",
     [("/zcwj/list.jsp?cat=2#page", 12)]),
    (HANWEB, "/col/col4501/index.html",
     [("/module/web/jpage/dataproxy.jsp?page=1&webid=2&columnid=4501&path=/&perpage=3#startrecord", 7)]),
    ("<div class='page'><a href='index_1.html'>下一页</a><a href='index.html'>尾页</a></div>", "/tzgg/", []),
], ids=["createpagehtml-count", "countpage-variable", "last-page-link", "last-page-query", "hanweb-totalrecord",
        "a-single-page-names-no-number"])
def test_pagers_name_the_last_page_of_their_list(html: str, page: str, expected: list[tuple[str, int]]) -> None:
    result = extract(f"<html><body>{html}</body></html>", f"{LQ}{page}", today=TODAY)
    assert [(key.removeprefix(LQ), last) for key, last in result.last_pages] == expected


def test_a_dataproxy_answer_is_read_as_its_records() -> None:
    xml = ('<?xml version="1.0" encoding="UTF-8"?><datastore><recordset>'
           '<record><![CDATA[<li><a href="/art/2020/2/6/art_4501_4.html">丁</a><span>2020-02-06</span></li>]]></record>'
           "</recordset></datastore>")
    result = extract(xml, f"{LQ}/module/web/jpage/dataproxy.jsp?columnid=4501&startrecord=4", today=TODAY)
    assert [(d.date, d.block) for d in result.dates] == [(date(2020, 2, 6), "L1")]
    assert [link.url for link in result.links] == [f"{LQ}/art/2020/2/6/art_4501_4.html"]


def test_a_table_list_takes_its_title_row_as_heading() -> None:
    html = ("<table class='list'><tr><td class='title' colspan='2'>政策文件</td></tr>"
            "<tr><td><a href='/zcwj/1.html'>文件一</a></td><td>2020-05-06</td></tr>"
            "<tr><td><a href='/zcwj/2.html'>文件二</a></td><td>2020-04-06</td></tr></table>")
    assert blocks(extract(html, f"{LQ}/zcwj/", today=TODAY)) == [("L1", "body", "政策文件", 2, False, None, False)]


@pytest.mark.parametrize("html", [
    "<html><body><p>正文</p></body></html>\n<div class=\"foot\"><a href=\"/wzdt/\">网站地图</a></div>",
    "<html><body><p>正文</p></body>\n<div class=\"foot\"><a href=\"/wzdt/\">网站地图</a></div></html>",
    "<html><body><p>正文</p><div class=\"foot\"><a href=\"/wzdt/\">网站地图</a></div></body></html>\n<!-- 2024 -->\n",
])
def test_content_after_the_closing_tags_is_kept_in_the_body_as_browsers_keep_it(html: str) -> None:
    root = parse(html)
    assert root is not None
    anchor = next(root.iter("a"))
    assert any(a.tag == "body" for a in anchor.iterancestors())
    assert [link.url for link in extract(html, "http://www.x.gov.cn/", today=date(2024, 1, 1)).links] == [
        "http://www.x.gov.cn/wzdt/"]


def test_notes_read_the_placeholder_of_an_empty_column_from_its_content_not_its_menus() -> None:
    html = ('<html><body><ul class="nav"><li><a href="/a/">暂无信息公开</a></li></ul><div class="main"><h2>统计信息</h2>'
            '<p class="empty">暂无信息</p></div><div class="footer">版权所有 没有数据</div></body></html>')
    assert extract(html, "http://x.test/a/", today=date(2024, 5, 1)).notes == {"placeholder": "暂无信息"}
    menu_only = html.replace('<p class="empty">暂无信息</p>', "<ul><li>一条信息</li></ul>")
    assert extract(menu_only, "http://x.test/a/", today=date(2024, 5, 1)).notes is None


def test_notes_read_the_publication_and_issue_dates_an_article_states() -> None:
    html = ('<html><body><div class="article"><div class="info">发布时间：2024-03-01 09:30</div>'
            '<p>正文。</p><p>成文日期：2024年3月9日</p></div></body></html>')
    notes = extract(html, "http://x.test/a/1.html", today=date(2024, 5, 1)).notes
    assert notes == {"published": "2024-03-01", "issued": "2024-03-09"}
    plain = html.replace("<p>成文日期：2024年3月9日</p>", "")
    assert extract(plain, "http://x.test/a/1.html", today=date(2024, 5, 1)).notes is None


def test_notes_read_a_message_table_with_question_and_reply_dates() -> None:
    html = ('<html><body><table><tr><th>标题</th><th>留言时间</th><th>回复时间</th><th>状态</th></tr>'
            '<tr><td>供暖问题</td><td>2024-01-05</td><td>2024-05-10</td><td>已回复</td></tr>'
            '<tr><td>道路维修</td><td>2024-03-01</td><td></td><td>未回复</td></tr>'
            '<tr><td>已办结无日期</td><td>2024-03-02</td><td></td><td>已回复</td></tr></table></body></html>')
    notes = extract(html, "http://x.test/hdjl/", today=date(2024, 6, 1)).notes
    assert notes == {"messages": [["供暖问题", "2024-01-05", "2024-05-10"], ["道路维修", "2024-03-01", ""]]}


def test_notes_read_a_message_page_labelled_with_its_dates() -> None:
    html = ('<html><body><div><h2>公交线路建议</h2><p>留言时间：2024-03-01</p><p>回复时间：2024年3月5日</p></div>'
            '</body></html>')
    assert extract(html, "http://x.test/hdjl/1.html", today=date(2024, 6, 1)).notes == {
        "messages": [["公交线路建议", "2024-03-01", "2024-03-05"]]}


def test_a_personal_number_in_a_message_title_is_masked_in_the_notes() -> None:
    html = ('<html><body><table><tr><th>标题</th><th>留言时间</th><th>回复时间</th></tr>'
            '<tr><td>供暖问题请回电13812345678</td><td>2024-01-05</td><td>2024-05-10</td></tr></table></body></html>')
    extracted = extract(html, "http://x.test/hdjl/", today=date(2024, 6, 1))
    assert [f.masked for f in extracted.findings] == ["138****5678"]
    assert "13812345678" not in repr(extracted.notes) and "138****5678" in repr(extracted.notes)


@pytest.mark.parametrize("reply", ["回复时间", "答复日期", "回应时间", "办结日期"])
def test_notes_read_messages_whichever_word_names_the_reply_date(reply: str) -> None:
    html = (f'<html><body><table><tr><th>标题</th><th>咨询日期</th><th>{reply}</th></tr>'
            '<tr><td>供暖问题</td><td>2024-01-05</td><td>2024-05-10</td></tr></table></body></html>')
    assert extract(html, "http://x.test/hdjl/", today=date(2024, 6, 1)).notes == {
        "messages": [["供暖问题", "2024-01-05", "2024-05-10"]]}


@pytest.mark.parametrize(("html", "asks"), [
    ("<p>回复时间</p>", True), ("<p>答复 日期</p>", False), ("<p>办结</p><p>时间</p>", False),
    ("<p>结果应在处理时间内回复</p>", False), ("<script>var s = '回应日期';</script>", True), ("<p>留言</p>", False),
], ids=["reply-time", "words-apart", "in-two-elements", "only-single-characters", "in-a-script", "no-reply-word"])
def test_the_quick_test_for_reply_dates_agrees_with_the_pattern(html: str, asks: bool) -> None:
    assert _asks(html) is asks
    assert (_MESSAGE_WORDS.search(html) is not None) is asks
