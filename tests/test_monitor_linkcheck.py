"""monitor.linkcheck against real loopback servers: the demo web's lab host for the
fetch outcomes, and a small demo web of its own for what the lab lacks (soft-404
hosts, HEAD-refusing and blocking hosts, request logs)."""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from checks.links import DEAD_KINDS
from checks.snapshot import LinkTarget, SiteInfo
from monitor.config import Crawl
from monitor.demo import DemoWeb
from monitor.demo.configfile import DEMO_CRAWL
from monitor.demo.spec import DemoSite, Exchange, Expect, ExpectEnv, PageSpec, Redirect
from monitor.fetch import Fetcher
from monitor.htmltext import not_found
from monitor.linkcheck import GIVE_UP_STREAK, KnownPage, Prechecked, TargetToCheck, check_links, check_targets
from monitor.outcomes import FetchKind
from monitor.prefetch import EarlyLinkCheck
from monitor.resolver import Resolver

LAB = "lab.demo.test"
LOOPBACK = ["127.0.0.0/8", "::1/128"]


# ------------------------------------------------------------------ helpers and a demo web of our own

def run(web: DemoWeb, targets: Sequence[TargetToCheck], *, known: Mapping[str, KnownPage] | None = None,
        retries: int = 1, backoff_s: float = 0.05, concurrency: int = 8, per_host: int = 4,
        timeout_s: float = 1.0, verify: bool | ssl.SSLContext = True,
        robots_agent: str | None = None, prechecked: Mapping[str, Prechecked] | None = None
        ) -> dict[str, LinkTarget]:
    resolver = Resolver(["127.0.0.1"], port=web.dns_port, timeout_s=1)

    async def main() -> list[LinkTarget]:
        async with Fetcher(resolver, timeout_s=timeout_s, allowed_networks=LOOPBACK, per_host_limit=per_host,
                           verify=verify) as fetcher:
            return await check_targets(targets, known=known or {}, fetcher=fetcher, retries=retries,
                                       concurrency=concurrency, backoff_s=backoff_s, robots_agent=robots_agent,
                                       prechecked=prechecked)

    return {t.url: t for t in asyncio.run(main())}


def target(url: str, *tags: str) -> TargetToCheck:
    return TargetToCheck(url, frozenset(tags or ("a",)))


def page(title: str, text: str) -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f'<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a></div>{text}'
            f'<div class="footer">主办单位：朝阳市人民政府办公室</div></body></html>')


@dataclass(frozen=True)
class Script:
    """Answers `statuses` in turn per path and query (the last repeats), logging every request."""

    statuses: tuple[int, ...] = (200,)
    headers: Mapping[str, str] = field(default_factory=dict)
    log: list[tuple[str, str, float]] = field(default_factory=list)

    async def respond(self, exchange: Exchange) -> web.StreamResponse:
        key = exchange.request.path_qs
        turn = sum(1 for _, seen, _ in self.log if seen == key)
        self.log.append((exchange.request.method, key, time.monotonic()))
        status = self.statuses[min(turn, len(self.statuses) - 1)]
        if status == 200:
            return exchange.render()
        return web.Response(status=status, text=f"HTTP {status}", headers=dict(self.headers))

    def expect(self, page: PageSpec, env: ExpectEnv) -> Expect:
        return Expect(FetchKind.OK, 200)

    def methods(self, path: str) -> list[str]:
        return [method for method, seen, _ in self.log if seen == path]


@dataclass(frozen=True)
class HeadRefused(Script):
    """405 to HEAD (as some servers do), the page to GET."""

    async def respond(self, exchange: Exchange) -> web.StreamResponse:
        self.log.append((exchange.request.method, exchange.request.path_qs, time.monotonic()))
        return web.Response(status=405) if exchange.request.method == "HEAD" else exchange.render()


@dataclass(frozen=True)
class Echo404:
    """A missing path answered 200 with the site's template, echoing the path and the time."""

    async def respond(self, exchange: Exchange) -> web.StreamResponse:
        body = page("朝阳市人民政府", f"<p>当前位置：首页 &gt; {exchange.request.path}</p>"
                                     f"<p>欢迎访问朝阳市人民政府网站</p><p>{time.time_ns()}</p>")
        return web.Response(status=200, text=body, content_type="text/html", charset="utf-8")

    def expect(self, page: PageSpec, env: ExpectEnv) -> Expect:
        return Expect(FetchKind.OK, 200)


@dataclass(frozen=True)
class Busy:
    """Holds each request `delay_s`, counting requests in flight per host and over all hosts."""

    host: dict[str, int]
    everywhere: dict[str, int]
    delay_s: float = 0.15

    async def respond(self, exchange: Exchange) -> web.StreamResponse:
        for count in (self.host, self.everywhere):
            count["now"] += 1
            count["max"] = max(count["max"], count["now"])
        try:
            await asyncio.sleep(self.delay_s)
            return exchange.render()
        finally:
            for count in (self.host, self.everywhere):
                count["now"] -= 1

    def expect(self, page: PageSpec, env: ExpectEnv) -> Expect:
        return Expect(FetchKind.OK, 200)


ARTICLE = page("关于开展政府网站检查的通知_朝阳市人民政府",
               "<h2>关于开展政府网站检查的通知</h2>" + "<p>各县（市）区人民政府：检查发现个别网站存在404错误页面、"
               "“页面不存在”等链接不可用问题，请各单位对照整改，确保链接可用。</p>" * 40)
LOGS = {name: Script() for name in ("logo", "pdf", "page", "once", "order-a", "order-b", "dedup")}
NO_HEAD = HeadRefused()
RETRY_AFTER = Script((503, 200), {"Retry-After": "1"})
ORDER_A = Script((503, 200), {"Retry-After": "0"})
NO_RETRY = Script((503, 200))
ONE_RETRY = Script((503, 200))
COUNT_EVERYWHERE = {"now": 0, "max": 0}
COUNT_BUSY = ({"now": 0, "max": 0}, {"now": 0, "max": 0})


def own_sites() -> list[DemoSite]:
    def site(host: str, pages: Mapping[str, PageSpec], not_found: PageSpec | None = None) -> DemoSite:
        return DemoSite(host.split(".")[0], host, host, "portal", "city", pages, listed=False, not_found=not_found)

    html = page("朝阳市人民政府", "<p>朝阳市人民政府门户网站</p>")
    png = b"\x89PNG\r\n\x1a\n"
    return [
        site("soft.demo.test", {
            "/": PageSpec(body=html),
            "/real.html": PageSpec(body=page("朝阳市人民政府", "<h2>政府工作报告</h2><p>2022年全市经济稳中有进。</p>")),
        }, PageSpec(behaviour=Echo404())),
        site("bounce.demo.test", {
            "/404.html": PageSpec(body=page("朝阳市人民政府", "<p>出错啦！<a href='/'>返回首页</a></p>")),
            "/about.html": PageSpec(body=page("关于我们_朝阳市人民政府", "<p>联系电话 0421-2612345</p>")),
        }, PageSpec(behaviour=Redirect("/404.html"))),
        site("tohome.demo.test", {"/": PageSpec(body=html)}, PageSpec(behaviour=Redirect("/"))),
        site("files.demo.test", {
            "/logo.png": PageSpec(body=png, content_type="image/png", behaviour=LOGS["logo"]),
            "/report.pdf": PageSpec(body=b"%PDF-1.4\n", content_type="application/pdf", behaviour=LOGS["pdf"]),
            "/page.html": PageSpec(body=html, behaviour=LOGS["page"]),
            "/nohead.png": PageSpec(body=png, content_type="image/png", behaviour=NO_HEAD),
            "/fake.png": PageSpec(body=page("朝阳市人民政府", "<p>抱歉，您访问的页面不存在。</p>")),
            "/deleted.html": PageSpec(body=page("朝阳市人民政府", "<p>抱歉，您访问的页面不存在或已被删除！</p>")),
            "/titled.html": PageSpec(body=page("404 页面未找到", "")),
            "/article.html": PageSpec(body=ARTICLE),
            "/retry-after": PageSpec(body=html, behaviour=RETRY_AFTER),
            "/a": PageSpec(body=html, behaviour=ORDER_A),
            "/no-retry": PageSpec(body=html, behaviour=NO_RETRY),
            "/one-retry": PageSpec(body=html, behaviour=ONE_RETRY),
            "/b": PageSpec(body=html, behaviour=LOGS["order-b"]),
            "/dedup": PageSpec(status=404, body="gone", behaviour=LOGS["dedup"]),
        }),
        site("waf.demo.test", {}, PageSpec(status=403, body="<h1>403 Forbidden</h1>")),
        *(site(f"busy{n + 1}.demo.test", {}, PageSpec(body=png, content_type="image/png",
                                                       behaviour=Busy(count, COUNT_EVERYWHERE)))
          for n, count in enumerate(COUNT_BUSY)),
    ]


@pytest.fixture(scope="module")
def own_web() -> Iterator[DemoWeb]:
    with DemoWeb(sites=own_sites()) as started:
        yield started


# ------------------------------------------------------------------ outcome kinds on the lab host

LAB_CASES = [
    ("/ok", "ok", 200),
    ("/redirect/301", "ok", 200),
    ("/status/404", "http_4xx", 404),
    ("/no/such/page", "http_4xx", 404),
    ("/status/500", "http_5xx", 500),
    ("/status/403", "http_4xx", 403),
    ("/status/412", "blocked", 412),
    ("/status/429", "rate_limited", 429),
    ("/loop/a", "redirect_loop", None),
    ("/chain/0", "too_many_redirects", None),
    ("/slow", "timeout", None),
    ("/reset", "reset", None),
    ("/garbage", "protocol", None),
]


@pytest.fixture(scope="module")
def lab_results(demo_web: DemoWeb) -> dict[str, LinkTarget]:
    targets = [target(demo_web.url(LAB, path)) for path, _, _ in LAB_CASES]
    targets += [target(f"http://{host}:{demo_web.http_port}/") for host in
                ("nonexistent.demo.test", "unserved.demo.test", "outside.demo.test")]
    targets += [target("mailto:xxgk@chaoyang.gov.cn"), target("tel:0421-2612345"), target("javascript:void(0)")]
    return run(demo_web, targets, retries=1)


@pytest.mark.parametrize(("path", "kind", "status"), [pytest.param(*case, id=case[0]) for case in LAB_CASES])
def test_lab_outcome(lab_results: dict[str, LinkTarget], demo_web: DemoWeb, path: str, kind: str,
                     status: int | None) -> None:
    result = lab_results[demo_web.url(LAB, path)]
    assert (result.outcome, result.http_status) == (kind, status)


@pytest.mark.parametrize(("host", "kind"), [
    pytest.param("nonexistent.demo.test", "dns", id="nxdomain-is-dns"),
    pytest.param("unserved.demo.test", "refused", id="nothing-listening-is-refused"),
    pytest.param("outside.demo.test", "disallowed", id="outside-allowed-networks-is-never-sent"),
])
def test_lab_host_outcome(lab_results: dict[str, LinkTarget], demo_web: DemoWeb, host: str,
                          kind: str) -> None:
    assert lab_results[f"http://{host}:{demo_web.http_port}/"].outcome == kind


def test_transient_failures_are_retried_and_others_are_not(lab_results: dict[str, LinkTarget],
                                                         demo_web: DemoWeb) -> None:
    results = lab_results
    attempts = {path: results[demo_web.url(LAB, path)].attempts for path in
                ("/status/500", "/slow", "/reset", "/status/429", "/status/404", "/loop/a", "/status/412")}
    assert attempts == {"/status/500": 2, "/slow": 2, "/reset": 2, "/status/429": 2,
                        "/status/404": 1, "/loop/a": 1, "/status/412": 1}
    assert results[f"http://unserved.demo.test:{demo_web.http_port}/"].attempts == 2
    assert results[f"http://nonexistent.demo.test:{demo_web.http_port}/"].attempts == 1


def test_retry_after_of_a_429_is_honoured(demo_web: DemoWeb) -> None:
    url = demo_web.url(LAB, "/status/429")   # asks for 1 s; the backoff alone is 0.01 s
    started = time.monotonic()
    result = run(demo_web, [target(url)], backoff_s=0.01)[url]
    assert (result.outcome, result.attempts) == ("rate_limited", 2)
    assert time.monotonic() - started >= 0.95


def test_other_schemes_are_never_checked(lab_results: dict[str, LinkTarget]) -> None:
    results = lab_results
    for url in ("mailto:xxgk@chaoyang.gov.cn", "tel:0421-2612345", "javascript:void(0)"):
        assert (results[url].outcome, results[url].attempts) == ("unsupported", 0)
        assert results[url].outcome not in DEAD_KINDS


def test_blocked_and_rate_limited_are_not_dead() -> None:
    assert not {"blocked", "rate_limited", "ok", "unsupported", "disallowed"} & DEAD_KINDS
    assert {"http_4xx", "http_5xx", "dns", "refused", "timeout", "tls", "redirect_loop", "too_many_redirects",
            "soft_404"} <= DEAD_KINDS


def test_redirect_keeps_its_final_url(lab_results: dict[str, LinkTarget], demo_web: DemoWeb) -> None:
    assert lab_results[demo_web.url(LAB, "/redirect/301")].final_url == demo_web.url(LAB, "/ok")


# ------------------------------------------------------------------ retries

def test_a_5xx_that_recovers_on_retry_is_not_dead(demo_web: DemoWeb) -> None:
    url = demo_web.url(LAB, f"/flaky?t={uuid.uuid4().hex}")
    assert run(demo_web, [target(url)], retries=0)[url].outcome == "http_5xx"
    url = demo_web.url(LAB, f"/flaky?t={uuid.uuid4().hex}")
    result = run(demo_web, [target(url)], retries=1)[url]
    assert (result.outcome, result.http_status, result.attempts) == ("ok", 200, 2)


def test_retries_come_after_the_first_pass(own_web: DemoWeb) -> None:
    ORDER_A.log.clear()
    LOGS["order-b"].log.clear()
    a, b = own_web.url("files.demo.test", "/a"), own_web.url("files.demo.test", "/b")
    results = run(own_web, [target(a), target(b)], per_host=1)
    assert results[a].outcome == "ok" and results[a].attempts == 2
    timeline = sorted(ORDER_A.log + LOGS["order-b"].log, key=lambda entry: entry[2])
    assert [path for _, path, _ in timeline] == ["/a", "/b", "/a"]


def test_retry_after_of_a_503_is_honoured(own_web: DemoWeb) -> None:
    RETRY_AFTER.log.clear()
    url = own_web.url("files.demo.test", "/retry-after")
    assert run(own_web, [target(url)], backoff_s=0.01)[url].outcome == "ok"
    first, second = (at for _, _, at in RETRY_AFTER.log)
    assert second - first >= 0.95


# ------------------------------------------------------------------ once per run, HEAD or GET

def test_each_distinct_target_is_requested_once(own_web: DemoWeb) -> None:
    log = LOGS["dedup"].log
    log.clear()
    url = own_web.url("files.demo.test", "/dedup")
    targets = [target(url, "a"), target(url, "img"), target(url, "a"), target(url + "#section", "a")]
    results = run(own_web, targets)
    assert len(log) == 1
    assert set(results) == {url, url + "#section"}
    assert results[url + "#section"].outcome == results[url].outcome == "http_4xx"


@pytest.mark.parametrize(("path", "tags", "methods", "kind"), [
    pytest.param("/logo.png", ("img",), ["HEAD"], "ok", id="image-is-checked-with-head"),
    pytest.param("/report.pdf", ("a",), ["HEAD"], "ok", id="attachment-is-checked-with-head"),
    pytest.param("/page.html", ("a",), ["GET"], "ok", id="html-target-is-fetched-with-get"),
    pytest.param("/nohead.png", ("img",), ["HEAD", "GET"], "ok", id="head-refused-falls-back-to-get"),
])
def test_method_follows_the_target(own_web: DemoWeb, path: str, tags: tuple[str, ...], methods: list[str],
                                   kind: str) -> None:
    script = {"/logo.png": LOGS["logo"], "/report.pdf": LOGS["pdf"], "/page.html": LOGS["page"],
              "/nohead.png": NO_HEAD}[path]
    script.log.clear()
    url = own_web.url("files.demo.test", path)
    assert run(own_web, [target(url, *tags)])[url].outcome == kind
    assert script.methods(path) == methods


def test_missing_resources_and_scripts_are_dead(own_web: DemoWeb) -> None:
    img, js = own_web.url("files.demo.test", "/missing.png"), own_web.url("files.demo.test", "/js/missing.js")
    results = run(own_web, [target(img, "img"), target(js, "script")])
    assert [(results[u].outcome, results[u].http_status) for u in (img, js)] == [("http_4xx", 404)] * 2


# ------------------------------------------------------------------ what the crawl already knows

def test_a_crawled_2xx_page_is_not_requested_again(demo_web: DemoWeb) -> None:
    url = demo_web.url(LAB, "/status/404")   # the server would say 404: an answer proves no request
    known = {url: KnownPage(url, url, 200, "ok", "政务公开_朝阳市人民政府", "text/html")}
    result = run(demo_web, [target(url)], known=known)[url]
    assert (result.outcome, result.attempts, result.http_status) == ("ok", 0, 200)


def test_a_target_checked_during_the_crawl_is_not_requested_again(demo_web: DemoWeb) -> None:
    url = demo_web.url(LAB, "/status/404")   # the server would say 404: an answer proves no request
    early = LinkTarget(url=url, outcome="ok", http_status=200, attempts=1, detail="")
    result = run(demo_web, [target(url)], prechecked={url: Prechecked(early, 1.0, 1)})[url]
    assert (result.outcome, result.http_status, result.attempts) == ("ok", 200, 1)


@pytest.mark.parametrize(("timeout_s", "retries", "known"), [
    pytest.param(0.5, 1, False, id="checked-with-a-shorter-timeout"),
    pytest.param(1.0, 0, False, id="checked-with-fewer-retries"),
    pytest.param(1.0, 1, True, id="the-crawl-fetched-it-after-all"),
])
def test_a_check_during_the_crawl_is_asked_again_when_it_was_not_the_same(demo_web: DemoWeb, timeout_s: float,
                                                                          retries: int, known: bool) -> None:
    url = demo_web.url(LAB, "/status/404")
    early = LinkTarget(url=url, outcome="ok", http_status=200, attempts=1, detail="")
    crawled = {url: KnownPage(url, url, 503, "http_5xx", "", "text/html")} if known else None
    result = run(demo_web, [target(url)], known=crawled, timeout_s=1.0, retries=1,
                 prechecked={url: Prechecked(early, timeout_s, retries)})[url]
    assert (result.outcome, result.http_status) == ("http_4xx", 404)


def test_links_to_other_sites_are_checked_while_the_crawl_runs_and_not_again(demo_web: DemoWeb) -> None:
    home = demo_web.url("www.chaoyang.gov.test", "/")
    landing = demo_web.url("portal.example.test", "/")          # where the homepage redirects: the site's too
    other = demo_web.url("www.beipiao.gov.test", "/")           # another site of the run: crawled, not checked
    external = {demo_web.url(LAB, path): (kind, status) for path, kind, status in LAB_CASES
                if path in ("/ok", "/redirect/301", "/status/404", "/status/500", "/status/403")}
    onsite = [home + "zwgk/", demo_web.url("xxgk.chaoyang.gov.test", "/"), landing + "about/", other + "news/"]
    site = SiteInfo("chaoyang", "朝阳市人民政府", home, "portal", "city")
    crawl = Crawl(timeout_s=1, retries=1, allowed_networks=LOOPBACK)
    resolver = Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1)
    early = EarlyLinkCheck([(site, crawl)], resolver=resolver, crawl=crawl,
                           crawled=[SiteInfo("beipiao", "北票市人民政府", other, "portal", "county")])
    early.start()
    early.page("chaoyang", home, landing, 0, [(u, "a") for u in onsite[:1]])
    early.page("chaoyang", home + "zwgk/", home + "zwgk/", 1,
               [(u, "a") for u in [*onsite, *external, "mailto:xxgk@chaoyang.gov.cn"]])
    prechecked = early.stop()
    assert set(prechecked) == set(external), "only the targets no site of the run covers"
    assert {u: (p.result.outcome, p.result.http_status) for u, p in prechecked.items()} == external
    before = {u: demo_web.requests_for(LAB, u.split(str(demo_web.http_port), 1)[1]) for u in external}
    results = {t.url: t for t in check_links([target(u) for u in external], known={}, resolver=resolver, crawl=crawl,
                                             backoff_s=0.05, prechecked=prechecked)}
    assert {u: (r.outcome, r.http_status) for u, r in results.items()} == external
    assert {u: demo_web.requests_for(LAB, u.split(str(demo_web.http_port), 1)[1]) for u in external} == before


def test_checks_during_the_crawl_keep_the_sites_bounds(demo_web: DemoWeb) -> None:
    home = demo_web.url("www.chaoyang.gov.test", "/")
    site = SiteInfo("chaoyang", "朝阳市人民政府", home, "portal", "city")
    crawl = Crawl(timeout_s=1, retries=0, allowed_networks=LOOPBACK, max_link_targets=3, max_links_per_page=2)
    early = EarlyLinkCheck([(site, crawl)], resolver=Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1),
                           crawl=crawl)
    early.start()
    urls = [demo_web.url(LAB, f"/ok?n={n}") for n in range(6)]
    early.page("chaoyang", home, home, 0, [(u, "a") for u in urls[:4]])     # two from one page
    early.page("chaoyang", home + "a/", home + "a/", 1, [(u, "a") for u in urls[3:]])   # one more for the site
    assert set(early.stop()) == {urls[0], urls[1], urls[3]}


def test_a_crawled_failure_is_checked_again(demo_web: DemoWeb) -> None:
    url = demo_web.url(LAB, "/ok")
    known = {url: KnownPage(url, url, 503, "http_5xx", "", "text/html")}
    result = run(demo_web, [target(url)], known=known)[url]
    assert (result.outcome, result.attempts) == ("ok", 1)


def test_a_crawled_page_titled_not_found_is_soft_404_without_a_request(demo_web: DemoWeb) -> None:
    url = demo_web.url(LAB, "/ok")
    known = {url: KnownPage(url, url, 200, "ok", "页面不存在_朝阳市人民政府", "text/html")}
    result = run(demo_web, [target(url)], known=known)[url]
    assert (result.outcome, result.attempts) == ("soft_404", 0)


# ------------------------------------------------------------------ soft 404

@pytest.mark.parametrize(("path", "tags", "kind"), [
    pytest.param("/deleted.html", ("a",), "soft_404", id="200-page-saying-it-does-not-exist"),
    pytest.param("/titled.html", ("a",), "soft_404", id="200-page-titled-404"),
    pytest.param("/fake.png", ("img",), "soft_404", id="image-answered-by-a-not-found-page"),
    pytest.param("/article.html", ("a",), "ok", id="long-article-mentioning-404-is-fine"),
])
def test_soft_404_by_wording(own_web: DemoWeb, path: str, tags: tuple[str, ...], kind: str) -> None:
    url = own_web.url("files.demo.test", path)
    result = run(own_web, [target(url, *tags)])[url]
    assert (result.outcome, result.http_status) == (kind, 200)


def test_soft_404_by_the_hosts_own_missing_page(own_web: DemoWeb) -> None:
    gone, crawled_gone = own_web.url("soft.demo.test", "/gone-1.html"), own_web.url("soft.demo.test", "/x/gone-2.htm")
    real, home = own_web.url("soft.demo.test", "/real.html"), own_web.url("soft.demo.test", "/")
    crawled = own_web.url("soft.demo.test", "/zwgk/index.html")
    known = {crawled_gone: KnownPage(crawled_gone, crawled_gone, 200, "ok", "朝阳市人民政府", "text/html"),
             real: KnownPage(real, real, 200, "ok", "朝阳市人民政府", "text/html"),
             crawled: KnownPage(crawled, crawled, 200, "ok", "政务公开_朝阳市人民政府", "text/html")}
    results = run(own_web, [target(u) for u in (gone, crawled_gone, real, home, crawled)], known=known)
    assert {u: results[u].outcome for u in results} == {
        gone: "soft_404", crawled_gone: "soft_404", real: "ok", home: "ok", crawled: "ok"}
    assert results[crawled].attempts == 0   # titled unlike the missing page: the crawl is trusted
    assert results[real].attempts == 1      # titled like it: the body decided


def test_soft_404_by_redirect_to_the_hosts_error_page(own_web: DemoWeb) -> None:
    gone, about = own_web.url("bounce.demo.test", "/gone.html"), own_web.url("bounce.demo.test", "/about.html")
    results = run(own_web, [target(gone), target(about)])
    assert (results[gone].outcome, results[gone].final_url) == ("soft_404", own_web.url("bounce.demo.test", "/404.html"))
    assert results[about].outcome == "ok"


def test_host_sending_missing_pages_home_is_not_fingerprinted(own_web: DemoWeb) -> None:
    # Its missing pages look exactly like its homepage: no rule can tell them apart without false alarms.
    home, gone = own_web.url("tohome.demo.test", "/"), own_web.url("tohome.demo.test", "/gone.html")
    results = run(own_web, [target(home), target(gone)])
    assert (results[home].outcome, results[gone].outcome) == ("ok", "ok")


@pytest.mark.parametrize(("title", "text", "expected"), [
    pytest.param("页面不存在_朝阳市人民政府", "", True, id="title-says-page-does-not-exist"),
    pytest.param("404", "", True, id="bare-404-title"),
    pytest.param("Error 404 - Not Found", "", True, id="english-404-title"),
    pytest.param("信息不存在", "", True, id="title-says-item-does-not-exist"),
    pytest.param("朝阳市人民政府", "首页 政务公开 抱歉，您访问的页面不存在或已被删除！ 返回首页", True,
                 id="template-with-not-found-sentence"),
    pytest.param("朝阳市人民政府", "页面未找到", True, id="page-not-found-sentence"),
    pytest.param("", "找不到您要的页面", True, id="cannot-find-the-page"),
    pytest.param("", "Not Found The requested URL was not found on this server.", True, id="apache-not-found"),
    pytest.param("", "404", True, id="bare-404-body"),
    pytest.param("朝政发〔2022〕404号", "", False, id="document-number-404-title"),
    pytest.param("关于第404期简报的说明", "", False, id="issue-number-404-title"),
    pytest.param("朝阳市人民政府", "检查发现部分网站存在 404 错误。" + "正文" * 400, False, id="long-article-mentions-404"),
    pytest.param("朝阳市人民政府", "发现“页面不存在”等问题。" + "正文" * 1200, False,
                 id="long-article-quotes-not-found-sentence"),
    pytest.param("朝阳市人民政府", "申请公开的信息不存在的，应当告知申请人。" + "正文" * 300, False,
                 id="disclosure-guide-saying-information-does-not-exist"),
    pytest.param("朝阳市人民政府", "政务公开 政策文件 2022-06-20", False, id="ordinary-page"),
])
def test_not_found_wording(title: str, text: str, expected: bool) -> None:
    assert not_found(title, text) is expected


# ------------------------------------------------------------------ refusing hosts, limits

def test_host_that_keeps_refusing_is_backed_off_and_its_links_blocked(own_web: DemoWeb) -> None:
    urls = [own_web.url("waf.demo.test", f"/p{n}.html") for n in range(GIVE_UP_STREAK + 4)]
    results = run(own_web, [target(u) for u in urls], per_host=1)
    assert {results[u].outcome for u in urls} == {"blocked"}
    assert [results[u].attempts for u in urls] == [1] * GIVE_UP_STREAK + [0] * 4


def test_a_single_403_on_a_healthy_host_is_dead(demo_web: DemoWeb) -> None:
    forbidden, fine = demo_web.url(LAB, "/status/403"), demo_web.url(LAB, "/ok")
    results = run(demo_web, [target(forbidden), target(fine)])
    assert (results[forbidden].outcome, results[forbidden].http_status) == ("http_4xx", 403)


def test_concurrency_is_bounded_per_host_and_overall(own_web: DemoWeb) -> None:
    def flight(concurrency: int, per_host: int) -> tuple[int, int, int]:
        for count in (COUNT_EVERYWHERE, *COUNT_BUSY):
            count.update(now=0, max=0)
        tag = uuid.uuid4().hex
        urls = [own_web.url(f"busy{h}.demo.test", f"/{tag}/{n}.png") for h in (1, 2) for n in range(6)]
        results = run(own_web, [target(u, "img") for u in urls], concurrency=concurrency, per_host=per_host)
        assert {r.outcome for r in results.values()} == {"ok"}
        return COUNT_BUSY[0]["max"], COUNT_BUSY[1]["max"], COUNT_EVERYWHERE["max"]

    assert flight(concurrency=16, per_host=2) == (2, 2, 4)
    assert flight(concurrency=3, per_host=4)[2] == 3


# ------------------------------------------------------------------ TLS and the sync entry point

def test_tls_failure_is_dead_and_not_retried() -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert(LAB).configure_cert(context)   # a CA nobody trusts
    with DemoWeb(tls=context) as tls_web:
        url = tls_web.url(LAB, "/ok", scheme="https")
        result = run(tls_web, [target(url)])[url]
    assert (result.outcome, result.attempts) == ("tls", 1)
    assert result.detail.startswith("untrusted")


def test_check_links_builds_its_fetcher_from_the_crawl_settings(demo_web: DemoWeb) -> None:
    crawl = Crawl(timeout_s=1, retries=0, allowed_networks=LOOPBACK, concurrency=4, per_host_concurrency=2)
    resolver = Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1)
    ok, outside = demo_web.url(LAB, "/ok"), f"http://outside.demo.test:{demo_web.http_port}/"
    flaky = demo_web.url(LAB, f"/flaky?t={uuid.uuid4().hex}")
    calls: list[tuple[int, int]] = []
    results = {t.url: t for t in check_links([target(ok), target(outside), target(flaky)], known={},
                                             resolver=resolver, crawl=crawl, backoff_s=0.01,
                                             progress=lambda done, total: calls.append((done, total)))}
    assert [results[u].outcome for u in (ok, outside, flaky)] == ["ok", "disallowed", "http_5xx"]
    assert calls == [(1, 3), (2, 3), (3, 3)]


# ------------------------------------------------------------------ the demo web's ground truth

def test_every_link_target_of_the_demo_gets_its_true_kind(demo_web: DemoWeb, tmp_path: Path) -> None:
    truth = demo_web.truth["targets"]
    urls = [url for url in truth if url.startswith(("http:", "https:"))]
    assert demo_web.ca is not None
    bundle = tmp_path / "demo-ca.pem"   # as the demo config's ca_bundle: the model site's HTTPS is trusted
    bundle.write_bytes(demo_web.ca.pem)
    crawl = Crawl(ca_bundle=str(bundle), **{key: DEMO_CRAWL[key] for key in (
        "timeout_s", "retries", "concurrency", "per_host_concurrency", "max_response_bytes", "allowed_networks")})
    resolver = Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1)
    results = {t.url: t for t in check_links([target(u) for u in urls], known={}, resolver=resolver, crawl=crawl,
                                             backoff_s=0.2)}
    got = {url: (results[url].outcome, results[url].http_status) for url in urls}
    want = {url: (truth[url]["kind"], truth[url]["status"]) for url in urls}
    assert got == want


def test_robots_refused_target_is_never_requested(demo_web: DemoWeb) -> None:
    [url] = [u for s in demo_web.truth["sites"].values() if s.get("listed") for u in s["robots_disallowed"]][:1]
    allowed = demo_web.truth["sites"]["fgw"]["url"]
    host = url.split("/")[2].split(":")[0]
    path = "/" + url.split("/", 3)[3]
    before = demo_web.requests_for(host, path)
    got = run(demo_web, [target(url), target(allowed)], robots_agent="govmon")
    assert (got[url].outcome, got[url].attempts) == ("robots", 0)
    assert got[allowed].outcome == "ok"
    assert demo_web.requests_for(host, path) == before, "robots.txt said no: not one request"
    assert run(demo_web, [target(url)])[url].outcome != "robots", "without robots rules the target is requested"


# ------------------------------------------------------------------ malformed links and redirects going nowhere

MALFORMED_TARGETS = ["http:/www.chaoyang.gov.cn", "http://", "http:", "http://lab.demo.test]/", "http://lab .demo.test/",
                     "http://lab.demo.test:99999/", "file:///D:/wlj/2019年工作总结.doc", "//lab.demo.test]/x"]


def test_malformed_targets_are_dead_as_written_and_never_requested(demo_web: DemoWeb) -> None:
    ok = demo_web.url(LAB, "/ok")
    before = demo_web.requests_for(LAB, "/ok")
    results = run(demo_web, [target(url, "a", "img") for url in MALFORMED_TARGETS] + [target(ok)])
    assert list(results) == [*MALFORMED_TARGETS, ok]
    for url in MALFORMED_TARGETS:
        assert (results[url].url, results[url].outcome, results[url].attempts, results[url].http_status) == (
            url, "malformed", 0, None), url
        assert "malformed" in results[url].detail
    assert results[ok].outcome == "ok" and demo_web.requests_for(LAB, "/ok") == before + 1


@pytest.mark.parametrize("tags", [("a",), ("img",), ("css", "source")], ids=["page-get", "image-head", "css-head"])
def test_redirects_without_a_usable_location_are_http_3xx(demo_web: DemoWeb, tags: tuple[str, ...]) -> None:
    from monitor.demo.linkcases import HOST, REDIRECTS

    urls = {demo_web.url(HOST, path): behaviour.status for path, (behaviour, _) in REDIRECTS.items()}
    results = run(demo_web, [target(url, *tags) for url in urls] + [target(demo_web.url(LAB, "/ok"))])
    for url, status in urls.items():
        assert (results[url].outcome, results[url].http_status, results[url].final_url) == ("http_3xx", status, url)
        assert results[url].outcome in DEAD_KINDS
    assert results[demo_web.url(LAB, "/ok")].outcome == "ok"


def test_every_outcome_kind_has_one_disposition() -> None:
    from checks.links import LINK_DISPOSITION, Disposition

    assert set(LINK_DISPOSITION) == {str(kind) for kind in FetchKind}   # no kind missing, none invented
    assert {"malformed", "http_3xx"} <= DEAD_KINDS
    assert LINK_DISPOSITION["robots"] is Disposition.ROBOTS
    assert LINK_DISPOSITION["over_limit"] is Disposition.UNCHECKED


# ------------------------------------------------------------------ a site's own settings, isolation

def test_a_sites_own_timeout_and_retries_reach_its_link_targets(demo_web: DemoWeb, own_web: DemoWeb) -> None:
    slow = demo_web.url(LAB, "/slow")                  # answers after SLOW_S (3 s)
    no_retry, one_retry = own_web.url("files.demo.test", "/no-retry"), own_web.url("files.demo.test", "/one-retry")

    async def main(web: DemoWeb, targets: list[TargetToCheck], retries: int) -> dict[str, LinkTarget]:
        resolver = Resolver(["127.0.0.1"], port=web.dns_port, timeout_s=1)
        fetchers = {t: Fetcher(resolver, timeout_s=t, allowed_networks=LOOPBACK) for t in (0.5, 30.0)}
        try:
            found = await check_targets(targets, known={}, fetcher=fetchers[30.0], fetchers=fetchers,
                                        retries=retries, concurrency=4, backoff_s=0.05)
        finally:
            for fetcher in fetchers.values():
                await fetcher.aclose()
        return {t.url: t for t in found}

    timed = asyncio.run(main(demo_web, [TargetToCheck(slow, frozenset({"a"}), timeout_s=0.5)], 0))[slow]
    assert (timed.outcome, timed.detail) == ("timeout", "no complete response within 0.5 s")
    retried = asyncio.run(main(own_web, [TargetToCheck(no_retry, frozenset({"a"}), retries=0),
                                         TargetToCheck(one_retry, frozenset({"a"}), retries=1)], 5))
    assert (retried[no_retry].outcome, retried[no_retry].attempts) == ("http_5xx", 1)
    assert (retried[one_retry].outcome, retried[one_retry].attempts) == ("ok", 2)


def test_targets_past_the_bounds_are_never_requested(own_web: DemoWeb) -> None:
    url = own_web.url("files.demo.test", "/page.html")
    LOGS["page"].log.clear()
    results = run(own_web, [TargetToCheck(url, frozenset({"a"}), over_limit="past max_links_per_page = 1")])
    assert (results[url].outcome, results[url].attempts) == ("over_limit", 0)
    assert results[url].detail == "not requested: past max_links_per_page = 1"
    assert LOGS["page"].log == []


def test_an_exception_checking_one_target_is_that_targets_error(demo_web: DemoWeb,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Injected failure: the fetch of one target raises; every other target is still decided."""
    broken, ok, gone = demo_web.url(LAB, "/title"), demo_web.url(LAB, "/ok"), demo_web.url(LAB, "/status/404")
    real = Fetcher.fetch

    async def fetch(self: Fetcher, url: str, **kwargs: object) -> object:
        if url == broken:
            raise RuntimeError("injected failure")
        return await real(self, url, **kwargs)

    monkeypatch.setattr(Fetcher, "fetch", fetch)
    results = run(demo_web, [target(broken), target(ok), target(gone)])
    assert (results[broken].outcome, results[broken].detail) == (
        "error", "the link check failed: RuntimeError: injected failure")
    assert (results[ok].outcome, results[gone].outcome) == ("ok", "http_4xx")


def test_hosts_parked_by_alias_or_by_nameservers_are_marked_turned_and_plain_ones_are_not(
        demo_web: DemoWeb) -> None:
    from monitor.demo.updatecases import PARKING_ALIAS, PARKING_NS, PLAIN
    urls = {name: demo_web.url(host, "/") for name, host in
            (("alias", "www.lfkj.test"), ("ns", "www.lfny.test"), ("plain", PLAIN[1]))}
    got = run(demo_web, [target(url) for url in urls.values()])
    assert {name: (got[url].outcome, got[url].detail) for name, url in urls.items()} == {
        "alias": ("ok", f"turned: parked: CNAME {PARKING_ALIAS}"),
        "ns": ("ok", f"turned: parked: NS {PARKING_NS}"),
        "plain": ("ok", got[urls["plain"]].detail)}
    assert not got[urls["plain"]].detail.startswith("turned")


@pytest.mark.parametrize(("host", "names"), [
    pytest.param("www.lfny.test", ["www.lfny.test", "lfny.test"], id="nearest-first-without-the-tld"),
    pytest.param("www.a.b.gov.cn", ["www.a.b.gov.cn", "a.b.gov.cn", "b.gov.cn", "gov.cn"], id="deep-name"),
    pytest.param("127.0.0.1", [], id="ip-literal"),
    pytest.param("localhost", [], id="one-label"),
])
def test_the_names_a_hosts_nameservers_are_asked_for(host: str, names: list[str]) -> None:
    from monitor.linkcheck import _domains_of
    assert _domains_of(host) == names


def test_a_dns_failure_while_looking_for_parking_nameservers_is_no_mark(demo_web: DemoWeb) -> None:
    from monitor.linkcheck import _Checker
    resolver = Resolver(["127.0.0.1"], port=demo_web.dns_port, timeout_s=1)

    async def main() -> list[str]:
        async with Fetcher(resolver, timeout_s=1, allowed_networks=LOOPBACK) as fetcher:
            checker = _Checker(fetcher, retries=0, concurrency=2, backoff_s=0.05, progress=None, total=0)
            hosts = ("www.lfny.test", "www.servfail.demo.test", "www.lfsw.test", "www.lfny.test")
            return [await checker._parking(f"http://{host}/") for host in hosts]

    assert asyncio.run(main()) == ["parked: NS ns1.sedoparking.com", "", "", "parked: NS ns1.sedoparking.com"]
    # each name was asked once: the NS walk of a host is not repeated
    assert ("lfny.test", "NS") in resolver._cache and ("servfail.demo.test", "NS") in resolver._cache
    assert resolver._cache[("servfail.demo.test", "NS")].kind == "servfail"
