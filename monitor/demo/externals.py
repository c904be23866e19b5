"""Hosts of the demo web that are not configured sites: the province's portal and
platforms the 朝阳 sites link to, the shared static host, a rate-limited and a
WAF-guarded host, an IPv6 literal, the lab and the national 找错 platform.
Each exists to be a link target with a known fate. Pure data; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.demo import content
from monitor.demo.columns import PNG
from monitor.demo.markup import (
    FINDERR_HOST,
    FINDERR_PATH,
    SHARED_CSS,
    SHARED_JS,
    SHARED_MARK,
    STATIC_HOST,
)
from monitor.demo.spec import (
    OUTSIDE_V4,
    UNSERVED_V4,
    Chrome,
    DemoSite,
    DnsSpec,
    Flaky,
    Garbage,
    Huge,
    PageSpec,
    Redirect,
    Ref,
    Reset,
    Route,
)

SLOW_S = 3.0                 # longer than any timeout the demo config or the tests use
TOO_MANY = 12                # redirects in the long chains (the fetch layer allows 10)
LAB_HOST = "lab.demo.test"
PROVINCE = "www.ln.gov.test"
PLATFORM = "zwfw.ln.gov.test"             # answers 200 with its own template for unknown paths
RATE_LIMITED = "tongji.ln.gov.test"       # 429 for every path
WAF = "fgw.ln.gov.test"                   # 412 + JS challenge for every path
OFFICE = "oa.chaoyang.gov.test"           # resolves to 127.0.0.2: connection refused
GONE = "www.cydaj.gov.test"               # not in DNS: NXDOMAIN
DIRECTORY = "dh.chaoyang.gov.test"        # 政府网站导航: /zd/<n>.html, every tenth one 404
DIRECTORY_DEAD_EVERY = 10
TAX_HOST = "12366.chinatax.gov.test"      # the 12366 纳税服务平台 the link:tax_12366 requirement asks for
IPV6_LITERAL = "::1"
NXDOMAIN_NAME = "nonexistent.demo.test"

SHARED_DEAD_PAGE = Ref(PROVINCE, "/zwgk/zfxxgk/2018/t20180101_1.html")   # 404, linked from several sites
SHARED_DEAD_HOST = Ref(GONE, "/")                                       # NXDOMAIN, linked from several sites

EXTRA_DNS: Mapping[str, DnsSpec] = {
    "beipiao.cdn.test": DnsSpec.alias("edge.cdn.test"),
    "edge.cdn.test": DnsSpec.dual(),
    "lfkj.sedoparking.com": DnsSpec.dual(),     # the parking service an issue 17 link's host is an alias of
    "lfny.test": DnsSpec.zone_apex("ns1.sedoparking.com", "ns2.sedoparking.com"),   # issue 17: parked by NS
    "lfsw.test": DnsSpec.zone_apex("ns1.lfsw.test", "ns2.lfsw.test"),               # and its look-alike
    "chaoyang.gov.test": DnsSpec.zone_apex("ns1.chaoyang.gov.test", "ns2.chaoyang.gov.test"),
    "ns1.chaoyang.gov.test": DnsSpec.v4_only(),
    "ns2.chaoyang.gov.test": DnsSpec.v4_only(),
    "demo.test": DnsSpec.zone_apex("ns1.demo.test"),
    "ns1.demo.test": DnsSpec.v4_only(),
    "servfail.demo.test": DnsSpec.failing("servfail"),
    "refused.demo.test": DnsSpec.failing("refused"),
    "timeout.demo.test": DnsSpec.failing("timeout"),
    "dangling.demo.test": DnsSpec.alias("missing.demo.test"),
    "split.demo.test": DnsSpec.alias("edge.cdn.test", alone=True),
    "outside.demo.test": DnsSpec.v4_only(OUTSIDE_V4),
    "unserved.demo.test": DnsSpec.v4_only(UNSERVED_V4),
    OFFICE: DnsSpec.v4_only(UNSERVED_V4),
}
"""Names that are not sites: CNAME targets, zone apexes and the DNS failure cases."""

BARE = Chrome(assets=False)


def _unlisted(site_id: str, host: str, name: str, pages: dict[str, PageSpec], *, case: str,
              not_found: PageSpec | None = None, code: str = "") -> DemoSite:
    return DemoSite(site_id, host, name, "portal", "province", pages, listed=False, case=case,
                    site_code=code, not_found=not_found, chrome=BARE)


def province() -> DemoSite:
    """辽宁省人民政府: healthy pages, moved and removed ones, a 500 search, a loop, a long chain, a flaky page."""
    page = content.simple_page
    pages: dict[str, PageSpec] = {
        "/": PageSpec(body=page("辽宁省人民政府", ["欢迎访问辽宁省人民政府门户网站。"])),
        "/zwgk/": PageSpec(body=page("政务公开_辽宁省人民政府", ["省政府信息公开专栏。"])),
        "/zwgk/moved.html": PageSpec(behaviour=Redirect("/zwgk/", 301)),
        "/zwgk/gone.html": PageSpec(status=410, body=content.status_page(410, "Gone")),
        "/cgi/search.do": PageSpec(status=500, body=content.server_error_page(500)),
        "/redirect/old-404.html": PageSpec(behaviour=Redirect("/zwgk/2019/notfound.html", 301)),
        "/loop/a.html": PageSpec(behaviour=Redirect("/loop/b.html")),
        "/loop/b.html": PageSpec(behaviour=Redirect("/loop/a.html")),
        f"/chain/{TOO_MANY}.html": PageSpec(body=page("链接终点", [])),
        "/flaky.html": PageSpec(body=page("省政务公开专栏", ["服务恢复。"]), behaviour=Flaky()),
    }
    for step in range(TOO_MANY):
        pages[f"/chain/{step}.html"] = PageSpec(behaviour=Redirect(f"/chain/{step + 1}.html"))
    not_found = PageSpec(status=404, body=content.NOT_FOUND_PLAIN, declare="none")
    return _unlisted("ln", PROVINCE, "辽宁省人民政府", pages, case="the province portal the sites link to",
                     not_found=not_found, code="2100000001")


def platform() -> DemoSite:
    template = PageSpec(body=content.portal_template)
    pages = {"/": PageSpec(body=content.simple_page("辽宁政务服务网", ["全省政务服务一张网。"])),
             "/bsfw/": PageSpec(body=content.simple_page("个人办事_辽宁政务服务网", ["按主题查找办事事项。"]))}
    return _unlisted("lnzwfw", PLATFORM, "辽宁政务服务网", pages, not_found=template,
                     case="unknown paths answer 200 with the platform's own template (soft-404 by fingerprint)")


def static_host() -> DemoSite:
    pages = {
        SHARED_CSS: PageSpec(body="a{color:#1a4f9c}\n", content_type="text/css", declare="none"),
        SHARED_JS: PageSpec(body="/*! jQuery v1.12.4 */\n", content_type="application/javascript", declare="none"),
        SHARED_MARK: PageSpec(body=PNG, content_type="image/png", declare="none"),
    }
    return _unlisted("static", STATIC_HOST, "朝阳市政府网站集约化平台静态资源", pages,
                     case="css, scripts and images shared by every site",
                     not_found=PageSpec(status=404, body="404 Not Found\n", content_type="text/plain",
                                        declare="none"))


def guarded_hosts() -> tuple[DemoSite, ...]:
    limited = PageSpec(status=429, body="Too Many Requests\n", headers={"Retry-After": "1"},
                       content_type="text/plain", declare="none")
    challenge = PageSpec(status=412, body=content.WAF_CHALLENGE_PAGE)
    literal = PageSpec(status=404, body=content.UNKNOWN_HOST_PAGE, declare="none")
    return (
        _unlisted("tongji", RATE_LIMITED, "辽宁统计信息网", {}, not_found=limited,
                  case="429 with Retry-After for every path (rate-limited, not dead)"),
        _unlisted("lnfgw", WAF, "辽宁省发展和改革委员会", {}, not_found=challenge,
                  case="412 JS challenge for every path (blocked, not dead)"),
        _unlisted("ipv6-literal", IPV6_LITERAL, "IPv6 literal", {
            "/ipv6/": PageSpec(body=content.simple_page("IPv6访问", ["本站支持IPv6访问。"]))},
                  not_found=literal, case="http://[::1]:port/ipv6/ works; / is the unknown-host 404"),
    )


def directory_entry(path: str) -> PageSpec | None:
    """/zd/<n>.html: a unit's entry page, or a 404 for every DIRECTORY_DEAD_EVERY-th unit."""
    number = path.removeprefix("/zd/").removesuffix(".html")
    if not (number.isdigit() and path.endswith(".html")):
        return None
    if int(number) % DIRECTORY_DEAD_EVERY == 0:
        return PageSpec(status=404, body=content.NOT_FOUND_PLAIN, declare="none")
    return PageSpec(body=content.simple_page(f"第{number}号单位_朝阳市政府网站导航", ["单位简介。"]))


def directory() -> DemoSite:
    """A host with very many pages, linked one by one from a site's 网站导航 page (link-check bounds)."""
    home = PageSpec(body=content.simple_page("朝阳市政府网站导航", ["全市各单位网站。"]))
    return DemoSite("cydh", DIRECTORY, "朝阳市政府网站导航", "portal", "city", {"/": home}, listed=False,
                    chrome=BARE, routes=(Route("/zd/", directory_entry),),
                    case="/zd/<n>.html for any n; every tenth a 404")


def lab_site() -> DemoSite:
    """Unlisted host holding one path per fetch behaviour, for tests and curious users."""
    gbk_text = content.raw_title_page("凌源市政务公开")
    raw = content.raw_title_page
    pages: dict[str, PageSpec] = {
        "/": PageSpec(body=raw("lab")),
        "/ok": PageSpec(body=raw("ok")),
        "/title": PageSpec(body=raw("\n  政务公开 &amp;\t信息公开  " + "长" * 400)),
        "/redirect/301": PageSpec(behaviour=Redirect("/ok", 301)),
        "/redirect/relative": PageSpec(behaviour=Redirect("target")),
        "/redirect/target": PageSpec(body=raw("relative target")),
        "/redirect/cross": PageSpec(behaviour=Redirect("/", host="www.chaoyang.gov.test")),
        "/redirect/no-location": PageSpec(status=302),
        "/redirect/ftp": PageSpec(behaviour=Redirect("ftp://lab.demo.test/file.txt")),
        "/loop/a": PageSpec(behaviour=Redirect("/loop/b")),
        "/loop/b": PageSpec(behaviour=Redirect("/loop/a")),
        f"/chain/{TOO_MANY}": PageSpec(body=raw("end of chain")),
        "/status/403": PageSpec(status=403, body="forbidden"),
        "/status/404": PageSpec(status=404, body="not found"),
        "/status/500": PageSpec(status=500, body=content.server_error_page(500)),
        "/status/503": PageSpec(status=503, body=content.server_error_page(503)),
        "/status/429": PageSpec(status=429, body="too many requests", headers={"Retry-After": "1"}),
        "/status/412": PageSpec(status=412, body=content.WAF_CHALLENGE_PAGE),
        "/flaky": PageSpec(body=raw("recovered"), behaviour=Flaky()),
        "/slow": PageSpec(body=raw("slow"), delay_s=SLOW_S),
        "/delay": PageSpec(body=raw("delayed"), delay_s=0.2),
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
                    case="one path per fetch behaviour", chrome=BARE)


def others() -> tuple[DemoSite, ...]:
    """Every unlisted host, in a stable order."""
    finderr = PageSpec(body=content.finderr_page)
    return (
        province(), platform(), static_host(), *guarded_hosts(), lab_site(), directory(),
        _unlisted("tax12366", TAX_HOST, "国家税务总局12366纳税服务平台",
                  {"/": PageSpec(body=content.simple_page("12366纳税服务平台", ["纳税咨询、办税指南。"]))},
                  case="the 12366 tax service platform (link:tax_12366); unknown paths are 404"),
        DemoSite("v6only", "v6only.demo.test", "IPv6-only host", "portal", "city",
                 {"/": PageSpec(body=content.raw_title_page("v6only"))}, DnsSpec(a=()), listed=False,
                 case="AAAA but no A", chrome=BARE),
        DemoSite("zfwzzc", FINDERR_HOST, "我为政府网站找错", "portal", "national",
                 {"/": finderr, FINDERR_PATH: finderr}, listed=False, chrome=BARE,
                 case="the national 找错 platform the footers link to", site_code="bm01000001"),
    )
