"""footer: the items found in a homepage (monitor.columnprobe) and the verdict on them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from checks.base import CheckSpec, Status
from checks.columns import FOOTER_DECLARATION, footer_url, judge_footer
from monitor.columnprobe import footer_items, probe_footer
from monitor.demo import DemoWeb
from monitor.demo.configfile import DEMO_CRAWL
from monitor.fetch import Fetcher
from monitor.footerprobe import footer_found, footer_frames, footer_scripts, script_found
from monitor.resolver import Resolver
from tests.builders import link, page, probe, snapshot
from tests.test_checks_registry import problems

HOME = "https://www.s1.gov.cn/"
FULL = """<html><body><div class="main">正文</div>
<div class="footer"><p><img src="/images/red.png" alt="党政机关">版权所有：某市人民政府</p>
<p>网站标识码：2113000001　<span>辽ICP备05001234号-1</span>　<span>辽公网安备 21130002000123号</span></p>
<p><a href="https://zfwzzc.www.gov.cn/check_web/errorInfo_querySiteInfo.action?websiteid=2113000001">我为政府网站找错</a></p>
</div></body></html>"""


def test_every_footer_item_is_found_in_a_typical_footer() -> None:
    items = footer_items(FULL, HOME)
    assert items["site_code"] == "2113000001"
    assert items["icp"] == "辽ICP备05001234号-1" and items["police"] == "辽公网安备 21130002000123号"
    assert items["finderr"].startswith("https://zfwzzc.www.gov.cn/") and items["badge"] == HOME + "images/red.png"


def test_full_width_text_and_a_plain_text_finder_entry_are_read() -> None:
    html = "<p>网站标识码:2113000001 辽ＩＣＰ备０５００１２３４号 我为政府网站找错</p>"
    items = footer_items(html, HOME)
    assert (items["icp"], items["finderr"], items["police"], items["badge"]) == (
        "辽ICP备05001234号", "我为政府网站找错", "", "")


def test_a_footer_with_missing_items_warns_and_names_them() -> None:
    detail = footer_items("<p>版权所有 网站标识码：2113000001</p>", HOME)
    verdict = judge_footer(snapshot(probes=[probe("footer", url=HOME, detail=detail)]))
    assert (verdict.status, verdict.key, verdict.params["count"]) == (Status.WARN, "footer.missing", 4)
    assert verdict.metrics["found"] == "网站标识码"
    assert {e.detail for e in verdict.evidence} >= {"missing: ICP备案号", "missing: 公安备案号",
                                                    "missing: 政府网站找错入口", "missing: 党政机关网站标识"}


def test_a_complete_footer_passes_and_no_homepage_is_an_error() -> None:
    full = judge_footer(snapshot(probes=[probe("footer", url=HOME, detail=footer_items(FULL, HOME))]))
    assert (full.status, full.metrics["found_count"]) == (Status.PASS, 5)
    down = judge_footer(snapshot(probes=[probe("footer", "timeout", url=HOME, detail={"reason": "timed out"})]))
    assert (down.status, down.params["reason"]) == (Status.ERROR, "timed out")


def test_the_declaration_is_complete_and_bilingual() -> None:
    spec = CheckSpec(**{**FOOTER_DECLARATION, "needs": frozenset(FOOTER_DECLARATION["needs"])},
                     func=lambda snap, params: judge_footer(snap))
    assert problems(spec) == []


def test_the_probe_reads_the_demo_homepage_footer(demo_web: DemoWeb) -> None:
    async def go() -> object:
        resolver = Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1)
        async with Fetcher(resolver, timeout_s=DEMO_CRAWL["timeout_s"], allowed_networks=DEMO_CRAWL["allowed_networks"],
                           verify=demo_web.trust()) as fetcher:   # the model site is on HTTPS
            return await probe_footer(fetcher, demo_web.url("www.chaoyang.gov.test"), lambda: datetime.now(UTC))

    taken = asyncio.run(go())
    verdict = judge_footer(snapshot(probes=[taken]))  # type: ignore[list-item]
    assert verdict.status is Status.PASS, verdict.metrics
    assert verdict.metrics["site_code"] == "2113000001"


def test_the_footer_is_read_on_the_page_a_script_redirect_lands_on() -> None:
    landed = HOME + "index.shtml"
    snap = snapshot(pages=[page(HOME, depth=0), page(landed, depth=0, dates=[])],
                    links=[link(HOME, landed, tag="js-location")])
    assert footer_url(snap) == landed
    assert footer_url(snapshot()) is None


# One footer form a row: (markup, item, value, form). Structures as TRS/Hanweb footers write them;
# names and numbers invented.
JIUCUO_SRC = "https://zfwzzc.example.gov.cn/exposure/jiucuo.js"
FORMS = [
    (f"<div class=foot><script id=\"_jiucuo_\" sitecode='2113990001' src='{JIUCUO_SRC}'></script></div>",
     "finderr", JIUCUO_SRC, "script#_jiucuo_"),
    (f"<div class=foot><script id=\"_jiucuo_\" sitecode='2113990001' src='{JIUCUO_SRC}'></script></div>",
     "site_code", "2113990001", "script#_jiucuo_ sitecode"),
    ('<script src="/common/js/jiucuo.js"></script>', "finderr", HOME + "common/js/jiucuo.js", "script jiucuo.js"),
    ('<a href="https://zfwzzc.www.gov.cn/check_web/errorInfo_querySiteInfo.action?websiteid=2113990001">'
     '<img src="/images/zc.png"></a>', "finderr",
     "https://zfwzzc.www.gov.cn/check_web/errorInfo_querySiteInfo.action?websiteid=2113990001",
     "link to the 找错 platform"),
    ('<span id="_span_jiucuo"><img onclick="Link(\'2113990001\')" src="/images/jiucuo.png"></span>',
     "finderr", HOME + "images/jiucuo.png", "image jiucuo (onclick)"),
    ('<a href="/jc/"><img src="/images/jiucuo.png"></a>', "finderr", HOME + "images/jiucuo.png",
     "image jiucuo (in link)"),
    ('<a href="/jc/index.html">我为政府网站找错</a>', "finderr", HOME + "jc/index.html", "link text"),
    ('<a href="/jc/index.html" title="政府网站找错"><b>纠错</b></a>', "finderr", HOME + "jc/index.html", "link title"),
    ('<div class="foot"><script src="http://dcs.conac.example.cn/js/21/000/0000/1/CA1.js"></script></div>',
     "badge", "http://dcs.conac.example.cn/js/21/000/0000/1/CA1.js", "script conac"),
    ('<span id="_ideConac"><a href="//bszs.conac.example.cn/sitename?id=1"><img src="/r.png"></a></span>',
     "badge", "https://bszs.conac.example.cn/sitename?id=1", "span#_ideConac"),
    ('<div class="_ideConac"></div>', "badge", HOME, "div#_ideConac"),
    ('<script type="text/javascript">document.write(unescape("%3Cspan id=\'_ideConac\' %3E%3C/span%3E'
     '%3Cscript src=\'http://dcs.conac.example.cn/js/1.js\' type=\'text/javascript\'%3E%3C/script%3E"));</script>',
     "badge", HOME, "span#_ideConac via document.write(unescape)"),
    ("<script>document.write('<a href=\"/jc/\">我为政府网站找错<\\/a>');</script>", "finderr", HOME + "jc/",
     "link text via document.write"),
    ('<img src="/images/dzjg.png">', "badge", HOME + "images/dzjg.png", "image"),
    ('<a href="http://bszs.conac.example.cn/x">党政机关</a>', "badge", "http://bszs.conac.example.cn/x", "link conac"),
    ('<a href="/jgsz/dzjg.html">党政机关</a>', "badge", None, None),
    ('<a href="/bs/"><img src="/i/b.png" alt="党政机关网站标识"></a>', "badge", HOME + "bs/", "image in link"),
    ("<p>网站标识码：1304000009</p><p>ICP备案：冀ICP备00000001号</p>", "site_code", "1304000009", "text"),
    ('<head><meta name="SiteIDCode" content="bm21990001"></head><body><p>版权所有</p></body>', "site_code",
     "bm21990001", "meta SiteIDCode"),
    ('<head><meta name="SiteIDCode" content="28"></head><p>x</p>', "site_code", None, None),
    ("<p>网站标识码：2113990001</p>", "site_code", "2113990001", "text"),
    ("<p>备案号：滇ICP备05000002</p>", "icp", "滇ICP备05000002", "text"),
    ("<p>京ICP备12345678号-1</p>", "icp", "京ICP备12345678号-1", "text"),
    ("<p>京ＩＣＰ备１２３４５６７８号</p>", "icp", "京ICP备12345678号", "text"),
    ('<a href="https://beian.miit.gov.cn/" title="湘ICP备00000001号-2"><img src="/i.png"></a>', "icp",
     "湘ICP备00000001号-2", "link title"),
    ("<p>公安机关备案号：43010302000524</p>", "police", "公安机关备案号:43010302000524", "text"),
    ("<p>京公网安备 11010502000001号</p>", "police", "京公网安备 11010502000001号", "text"),
    ("<p>辽公网安备21130002000123号</p>", "police", "辽公网安备21130002000123号", "text"),
    ("<p>辽公网安备21130002000123</p>", "police", "辽公网安备21130002000123", "text"),
    ('<a href="http://www.beian.gov.cn/portal/registerSystemInfo?recordcode=1" title="黑公网安备 23010002000001号">'
     '<img src="/ga.png"></a>', "police", "黑公网安备 23010002000001号", "link title"),
    ("<html><body><p>正文</p></body></html>\n<div class=\"bottom\"><p>吉ICP备05000003号</p></div>", "icp",
     "吉ICP备05000003号", "text after </html>"),
    ("<html><body><p>正文</p></body>\n<div><script id=\"_jiucuo_\" sitecode='2113990001' "
     f"src='{JIUCUO_SRC}'></script></div></html>", "finderr", JIUCUO_SRC, "script#_jiucuo_ after </body>"),
    ("<p>版权所有</p><p>ICP备案中</p><p>公网安备</p>", "icp", None, None),
]


@pytest.mark.parametrize(("html", "key", "value", "form"), FORMS)
def test_each_footer_form_is_found_and_named(html: str, key: str, value: str | None, form: str | None) -> None:
    found = footer_found(html, HOME)
    assert found.get(key) == ((value, form) if value is not None else None)
    assert footer_items(html, HOME)[key] == (value or "")


def test_a_footer_script_is_read_for_what_it_writes() -> None:
    script = ('var f = "<div class=\\"foot\\"><p>网站标识码：2113990001 黑ICP备05000009号</p>";\n'
              "f += '<span id=\\'_ideConac\\'></span>';\ndocument.write(f);\n")
    found = script_found(script, HOME, "")
    assert found == {"site_code": ("2113990001", "text"), "icp": ("黑ICP备05000009号", "text"),
                     "badge": (HOME, "span#_ideConac")}


def test_footer_frames_and_scripts_are_same_site_footer_like_first() -> None:
    html = ('<iframe src="/include/banner.html"></iframe><iframe src="http://map.example.com/x"></iframe>'
            '<iframe src="/include/foot.html"></iframe><script src="/js/jquery.js"></script>'
            '<script src="/js/footer.js"></script><script src="http://cdn.example.com/bottom.js"></script>')
    assert footer_frames(html, HOME) == [(HOME + "include/foot.html", "iframe"),
                                         (HOME + "include/banner.html", "iframe")]
    loaded = ('<div id="footer"></div><script>$(function(){ $("#header").load("/inc/header.html"); '
              '$("#footer").load("/inc/footer.html"); });</script>')
    assert footer_frames(loaded, HOME) == [(HOME + "inc/footer.html", "include")]
    assert footer_scripts(html, HOME) == [HOME + "js/footer.js"]


def test_the_verdict_evidence_names_the_form() -> None:
    html = (f"<head><meta name=\"SiteIDCode\" content=\"2113990001\"></head><body><p>辽ICP备05000002</p>"
            f"<p>辽公网安备21130002000123号</p><script id=\"_jiucuo_\" src='{JIUCUO_SRC}'></script>"
            "<span id=\"_ideConac\"></span></body>")
    found = footer_found(html, HOME)
    detail = {**footer_items(html, HOME), "forms": {k: f for k, (_, f) in found.items()}}
    verdict = judge_footer(snapshot(probes=[probe("footer", url=HOME, detail=detail)]))
    assert verdict.status is Status.PASS
    assert {e.detail for e in verdict.evidence} == {
        "网站标识码 · meta SiteIDCode", "ICP备案号 · text", "公安备案号 · text",
        "政府网站找错入口 · script#_jiucuo_", "党政机关网站标识 · span#_ideConac"}
