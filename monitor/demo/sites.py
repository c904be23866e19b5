"""The demo web's catalogue: the 朝阳 sites, their defects, the lab pages and
the DNS names beside them. Adding a case is one line here (or one behaviour in
`spec.py`). Pure data built for a given `today`; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from monitor.demo import content
from monitor.demo.content import (
    homepage, list_page, news_items, not_found_page, server_error_page, text_page,
)
from monitor.demo.spec import (
    OUTSIDE_V4, UNSERVED_V4, Body, DemoSite, DnsSpec, Flaky, Garbage, Huge, PageSpec, Redirect, Reset,
)

SLOW_S = 3.0                 # longer than any timeout the demo config or the tests use
TOO_MANY = 12                # redirects in the lab's long chain (the fetch layer allows 10)
LAB_HOST = "lab.demo.test"

EXTRA_DNS: Mapping[str, DnsSpec] = {
    "beipiao.cdn.test": DnsSpec.alias("edge.cdn.test"),
    "edge.cdn.test": DnsSpec.dual(),
    "chaoyang.gov.test": DnsSpec.zone_apex("ns1.chaoyang.gov.test", "ns2.chaoyang.gov.test"),
    "ns1.chaoyang.gov.test": DnsSpec.v4_only(),
    "ns2.chaoyang.gov.test": DnsSpec.v4_only(),
    "demo.test": DnsSpec.zone_apex("ns1.demo.test"),
    "ns1.demo.test": DnsSpec.v4_only(),
    "servfail.demo.test": DnsSpec.failing("servfail"),
    "refused.demo.test": DnsSpec.failing("refused"),
    "timeout.demo.test": DnsSpec.failing("timeout"),
    "dangling.demo.test": DnsSpec.alias("missing.demo.test"),
    "outside.demo.test": DnsSpec.v4_only(OUTSIDE_V4),
    "unserved.demo.test": DnsSpec.v4_only(UNSERVED_V4),
}
"""Names that are not sites: CNAME targets, zone apexes and the DNS failure cases."""

NXDOMAIN_NAME = "nonexistent.demo.test"


def standard_pages(name: str, today: date, *, encoding: str = "utf-8", declare: str = "both",
                   overrides: Mapping[str, PageSpec] | None = None) -> dict[str, PageSpec]:
    """A government site's pages (home, columns, articles), with `overrides` on top.

    Overrides inherit the site's encoding, so a GBK site's error pages are GBK too.
    """

    def page(body: Body) -> PageSpec:
        return PageSpec(body=body, encoding=encoding, declare=declare)

    pages = {
        "/": page(homepage),
        "/index.html": page(homepage),
        "/xwdt/": page(list_page("", "政务要闻")),
        "/zwgk/": page(list_page("zwgk", "政务公开")),
        "/zcwj/": page(list_page("zcwj", "政策文件")),
        "/ztzl/": page(content.topics_page),
        "/ztzl/zqsk/": page(list_page("zqsk", "助企纾困专题")),
        "/ztzl/yshj/": page(list_page("yshj", "优化营商环境")),
        "/hdjl/": page(text_page("互动交流", ["领导信箱：欢迎通过本栏目向{org}反映问题、提出建议。",
                                          "在线访谈、意见征集和“12345”热线办理情况在此公开。"])),
        "/bsfw/": page(text_page("办事服务", ["{org}政务服务事项已全部接入辽宁政务服务网。"])),
        "/wzdt/": page(text_page("网站地图", ["首页　政务公开　政策文件　专题专栏　互动交流　办事服务"])),
        "/lxwm/": page(text_page("联系我们", ["{org}办公室　电话：0421-2612345"])),
    }
    for number, item in enumerate(news_items(name, today), start=1):
        pages[item.path] = page(content.article_page(number))
    for path, spec in (overrides or {}).items():
        pages[path] = PageSpec(body=spec.body, status=spec.status, headers=spec.headers, encoding=encoding,
                               declare=declare, content_type=spec.content_type, delay_s=spec.delay_s,
                               behaviour=spec.behaviour)
    return pages


def gov(site_id: str, host: str, name: str, kind: str, level: str, code: str, today: date, *,
        case: str = "healthy", dns: DnsSpec = DnsSpec(), home: PageSpec | None = None,
        overrides: Mapping[str, PageSpec] | None = None, encoding: str = "utf-8", declare: str = "both",
        timeout_s: float | None = None) -> DemoSite:
    """A listed government site; `home` replaces the homepage at "/"."""
    extra = dict(overrides or {})
    if home is not None:
        extra["/"] = home
    pages = standard_pages(name, today, encoding=encoding, declare=declare, overrides=extra)
    return DemoSite(site_id, host, name, kind, level, pages, dns, timeout_s=timeout_s, case=case, site_code=code)


def build_sites(today: date) -> tuple[DemoSite, ...]:
    """Every site of the demo web, listed ones first."""
    return (
        gov("chaoyang", "www.chaoyang.gov.test", "朝阳市人民政府", "portal", "city", "2113000001", today,
            case="healthy portal, A and AAAA"),
        gov("shuangta", "www.shuangta.gov.test", "双塔区人民政府", "portal", "county", "2113020001", today,
            case="/ redirects to /index.html", home=PageSpec(behaviour=Redirect("/index.html", 302))),
        gov("longcheng", "www.longcheng.gov.test", "龙城区人民政府", "portal", "county", "2113030001", today,
            case="healthy, A but no AAAA", dns=DnsSpec.v4_only()),
        gov("beipiao", "www.beipiao.gov.test", "北票市人民政府", "portal", "county", "2113810001", today,
            case="CNAME chain to the serving host", dns=DnsSpec.alias("beipiao.cdn.test")),
        gov("lingyuan", "www.lingyuan.gov.test", "凌源市人民政府", "portal", "county", "2113820001", today,
            case="GBK pages, charset only in <meta>", encoding="gbk", declare="meta"),
        gov("chaoyangxian", "www.chaoyangxian.gov.test", "朝阳县人民政府", "portal", "county", "2113210001", today,
            case="flaky homepage: 503, one retry recovers", home=PageSpec(body=homepage, behaviour=Flaky())),
        gov("jianping", "www.jianping.gov.test", "建平县人民政府", "portal", "county", "2113220001", today,
            case="GBK pages without any charset", encoding="gbk", declare="none"),
        gov("kazuo", "www.kazuo.gov.test", "喀喇沁左翼蒙古族自治县人民政府", "portal", "county", "2113240001",
            today, case="homepage slower than the timeout", home=PageSpec(body=homepage, delay_s=SLOW_S),
            timeout_s=1),
        gov("fgw", "fgw.chaoyang.gov.test", "朝阳市发展和改革委员会", "development_reform", "city", "2113000002",
            today),
        gov("scjg", "scjg.chaoyang.gov.test", "朝阳市市场监督管理局", "market_regulation", "city", "2113000003",
            today, case="homepage always 500", home=PageSpec(status=500, body=server_error_page(500))),
        gov("swj", "swj.chaoyang.gov.test", "朝阳市商务局", "commerce", "city", "2113000004", today,
            case="healthy, A but no AAAA", dns=DnsSpec.v4_only()),
        gov("czj", "czj.chaoyang.gov.test", "朝阳市财政局", "finance", "city", "2113000005", today,
            case="homepage 404", home=PageSpec(status=404, body=not_found_page)),
        gov("yshj", "yshj.chaoyang.gov.test", "朝阳市营商环境建设局", "business_environment", "city", "2113000006",
            today),
        gov("shuangta-fgj", "fgj.shuangta.gov.test", "双塔区发展和改革局", "development_reform", "county",
            "2113020002", today, case="redirect loop / → /index.html → /",
            home=PageSpec(behaviour=Redirect("/index.html", 302)),
            overrides={"/index.html": PageSpec(behaviour=Redirect("/", 302))}),
        gov("longcheng-scjg", "scjg.longcheng.gov.test", "龙城区市场监督管理局", "market_regulation", "county",
            "2113030002", today, case="DNS NXDOMAIN", dns=DnsSpec.failing("nxdomain")),
        gov("beipiao-czj", "czj.beipiao.gov.test", "北票市财政局", "finance", "county", "2113810002", today,
            case="connection refused (127.0.0.2, nothing listens)", dns=DnsSpec.v4_only(UNSERVED_V4)),
        lab_site(),
        DemoSite("v6only", "v6only.demo.test", "IPv6-only host", "portal", "city",
                 {"/": PageSpec(body=content.raw_title_page("v6only"))}, DnsSpec(a=()), listed=False,
                 case="AAAA but no A"),
        DemoSite("zfwzzc", content.FINDERR_HOST, "我为政府网站找错", "portal", "national",
                 {"/": PageSpec(body=content.finderr_page), content.FINDERR_PATH: PageSpec(body=content.finderr_page)},
                 listed=False,
                 case="the national 找错 platform the footers link to", site_code="bm01000001"),
    )


def lab_site() -> DemoSite:
    """Unlisted host holding one path per fetch behaviour, for tests and curious users."""
    gbk_text = content.raw_title_page("凌源市政务公开")
    pages: dict[str, PageSpec] = {
        "/": PageSpec(body=content.raw_title_page("lab")),
        "/ok": PageSpec(body=content.raw_title_page("ok")),
        "/title": PageSpec(body=content.raw_title_page("\n  政务公开 &amp;\t信息公开  " + "长" * 400)),
        "/redirect/301": PageSpec(behaviour=Redirect("/ok", 301)),
        "/redirect/relative": PageSpec(behaviour=Redirect("target")),
        "/redirect/target": PageSpec(body=content.raw_title_page("relative target")),
        "/redirect/cross": PageSpec(behaviour=Redirect("/", host="www.chaoyang.gov.test")),
        "/redirect/no-location": PageSpec(status=302),
        "/redirect/ftp": PageSpec(behaviour=Redirect("ftp://lab.demo.test/file.txt")),
        "/loop/a": PageSpec(behaviour=Redirect("/loop/b")),
        "/loop/b": PageSpec(behaviour=Redirect("/loop/a")),
        f"/chain/{TOO_MANY}": PageSpec(body=content.raw_title_page("end of chain")),
        "/status/403": PageSpec(status=403, body="forbidden"),
        "/status/404": PageSpec(status=404, body="not found"),
        "/status/500": PageSpec(status=500, body=server_error_page(500)),
        "/status/503": PageSpec(status=503, body=server_error_page(503)),
        "/status/429": PageSpec(status=429, body="too many requests", headers={"Retry-After": "1"}),
        "/status/412": PageSpec(status=412, body=content.WAF_CHALLENGE_PAGE),
        "/flaky": PageSpec(body=content.raw_title_page("recovered"), behaviour=Flaky()),
        "/slow": PageSpec(body=content.raw_title_page("slow"), delay_s=SLOW_S),
        "/delay": PageSpec(body=content.raw_title_page("delayed"), delay_s=0.2),
        "/huge": PageSpec(behaviour=Huge()),
        "/reset": PageSpec(behaviour=Reset()),
        "/garbage": PageSpec(behaviour=Garbage()),
        "/gbk/header": PageSpec(body=gbk_text, encoding="gbk", declare="header"),
        "/gbk/meta": PageSpec(body=gbk_text, encoding="gbk", declare="meta"),
        "/gbk/none": PageSpec(body=gbk_text, encoding="gbk", declare="none"),
    }
    for step in range(TOO_MANY):
        pages[f"/chain/{step}"] = PageSpec(behaviour=Redirect(f"/chain/{step + 1}"))
    return DemoSite("lab", LAB_HOST, "govmon lab", "portal", "city", pages, listed=False,
                    case="one path per fetch behaviour")
