"""footer: the items found in a homepage (monitor.columnprobe) and the verdict on them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from checks.base import CheckSpec, Status
from checks.columns import FOOTER_DECLARATION, footer_url, judge_footer
from monitor.columnprobe import footer_items, probe_footer
from monitor.demo import DemoWeb
from monitor.demo.configfile import DEMO_CRAWL
from monitor.fetch import Fetcher
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
        async with Fetcher(resolver, timeout_s=DEMO_CRAWL["timeout_s"],
                           allowed_networks=DEMO_CRAWL["allowed_networks"]) as fetcher:
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
