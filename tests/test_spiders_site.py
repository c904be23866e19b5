"""SiteSpider offline: hand-made Scrapy responses in, requests and records out.

Also the pure pieces around it: failure classification, the redirect guard,
Retry-After, the JSON-lines writer and the resolver gate on IP literals.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from twisted.internet import error as tx
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError, ResponseNeverReceived

from checks.scope import SiteScope
from monitor.demo import DemoWeb
from monitor.outcomes import FetchKind, status_kind
from monitor.resolver import Resolver
from spiders.failures import RedirectLoop, RobotsRefused, TooManyRedirects, classify
from spiders.items import DateHit, EventRecord, LinkRecord, PageRecord, to_json
from spiders.middlewares import MAX_REDIRECTS, BackoffRetry, BodyGuard, RedirectGuard, RobotsMiddleware, retry_after_s
from spiders.output import CrawlBundle, JsonLinesWriter, line
from spiders.resolver import HostGate
from spiders.site import SiteBounds, SiteSpider, scope_host
from spiders.urls import canonical, host

TODAY = date.today()
HOME = "http://www.demo.gov.test/"


def bounds(**changes: object) -> SiteBounds:
    base = SiteBounds("demo", HOME, SiteScope.of(HOME), max_pages=50,
                      max_depth=3, timeout_s=5.0, retries=1, obey_robots=True)
    return replace(base, **changes)  # type: ignore[arg-type]


def spider(*sites: SiteBounds, gate: HostGate | None = None, window: int = 64) -> SiteSpider:
    return SiteSpider(sites=sites or (bounds(),), today=TODAY, gate=gate, max_bytes=1000, window=window)


def homepage_request(s: SiteSpider) -> Request:
    (request,) = list(s.homepage_requests())
    assert isinstance(request, Request)
    return request


def respond(request: Request, body: str | bytes, *, status: int = 200, content_type: str = "text/html; charset=utf-8",
            url: str | None = None, headers: dict[str, str] | None = None, cls: type[Response] = HtmlResponse
            ) -> Response:
    data = body.encode() if isinstance(body, str) else body
    all_headers = {"Content-Type": content_type, **(headers or {})} if content_type else dict(headers or {})
    return cls(url=url or request.url, status=status, body=data, headers=all_headers, request=request)


def split(outputs: Iterable[object]) -> tuple[list[Request], list[CrawlBundle]]:
    items = list(outputs)
    return [o for o in items if isinstance(o, Request)], [o.decoded() for o in items if isinstance(o, CrawlBundle)]


def page_of(bundles: list[CrawlBundle]) -> PageRecord:
    (page,) = [b.page for b in bundles if b.page is not None]
    return page


def events_of(bundles: list[CrawlBundle]) -> list[EventRecord]:
    return [e for b in bundles for e in b.events]


def html(links: str, title: str = "首页") -> str:
    return f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>{links}</body></html>'


def crawl_page(s: SiteSpider, request: Request, body: str | bytes, **kwargs: object
               ) -> tuple[list[Request], list[CrawlBundle]]:
    return split(s.parse(respond(request, body, **kwargs)))  # type: ignore[arg-type]


def test_links_are_recorded_and_only_in_scope_pages_are_followed() -> None:
    s = spider()
    body = html('<a href="/zwgk/">政务公开</a><a href="http://xxgk.demo.gov.test/list.html">信息公开</a>'
                '<a href="http://www.other.gov.test/">外站</a><img src="/logo.png" alt="标志">'
                '<iframe src="/nav.html"></iframe><a href="mailto:x@demo.gov.test">信箱</a>')
    requests, bundles = crawl_page(s, homepage_request(s), body)
    page = page_of(bundles)
    assert (page.url, page.status, page.fetch_kind, page.title, page.depth) == (HOME, 200, FetchKind.OK, "首页", 0)
    links = {(link.target_url, link.tag) for link in bundles[0].links}
    assert links == {(HOME + "zwgk/", "a"), ("http://xxgk.demo.gov.test/list.html", "a"),
                     ("http://www.other.gov.test/", "a"), (HOME + "logo.png", "img"), (HOME + "nav.html", "iframe")}
    assert all(link.source_url == HOME and link.site_id == "demo" for link in bundles[0].links)
    assert sorted(r.url for r in requests) == [HOME + "nav.html", HOME + "zwgk/", "http://xxgk.demo.gov.test/list.html"]
    assert {r.meta["depth"] for r in requests} == {1}
    assert all(r.meta["govmon_site"] == "demo" and r.dont_filter for r in requests)


def test_a_page_is_requested_once_in_its_canonical_form() -> None:
    s = spider()
    body = html('<a href="/a.html#top">A</a><a href="HTTP://WWW.DEMO.GOV.TEST:80/a.html">A again</a>'
                '<a href="./b/../a.html">A once more</a><a href="/">home</a>')
    requests, _ = crawl_page(s, homepage_request(s), body)
    assert [r.url for r in requests] == [HOME + "a.html"]
    again, _ = crawl_page(s, requests[0], html('<a href="/a.html">A</a><a href="/">首页</a><a href="/c.html">C</a>'))
    assert [r.url for r in again] == [HOME + "c.html"]


def test_max_depth_stops_following_and_is_reported_once() -> None:
    s = spider(bounds(max_depth=1))
    (first,), _ = crawl_page(s, homepage_request(s), html('<a href="/one/">one</a>'))
    deeper, bundles = crawl_page(s, first, html('<a href="/two/">two</a><a href="/three/">three</a>'))
    assert deeper == []
    assert [(e.kind, e.url) for e in events_of(bundles)] == [("max_depth", HOME + "two/")]
    assert {link.target_url for link in bundles[0].links} == {HOME + "two/", HOME + "three/"}


def test_max_pages_counts_pages_not_fetches_and_is_reported_at_the_end() -> None:
    s = spider(bounds(max_pages=3))
    links = "".join(f'<a href="/p{i}.html">p{i}</a>' for i in range(6))
    requests, bundles = crawl_page(s, homepage_request(s), html(links))
    assert [r.url for r in requests] == [HOME + "p0.html", HOME + "p1.html"]  # the homepage is page 1 of 3
    assert events_of(bundles) == []
    more, _ = crawl_page(s, requests[0], "not found", status=404)
    assert [r.url for r in more] == [HOME + "p2.html"]  # a 404 is no page: its place goes to the next URL
    assert split(s.parse(respond(requests[1], html(""))))[0] == []
    assert split(s.parse(respond(more[0], html(""))))[0] == []
    (final,) = s.final_bundles()
    assert [(e.kind, e.url) for e in final.events] == [("max_pages", HOME + "p3.html")]
    assert "3 URLs not fetched" in final.events[0].detail and s.sites_done() == 1


def test_crawl_traps_are_cut_and_reported() -> None:
    s = spider()
    body = html(f'<a href="/calendar/?year={TODAY.year - 9}&month=1">日历</a><a href="/a/b/a/b/a/b/">loop</a>'
                f'<a href="/list.html?page={"x" * 2100}">long</a><a href="/ok.html">ok</a>')
    requests, bundles = crawl_page(s, homepage_request(s), body)
    assert [r.url for r in requests] == [HOME + "ok.html"]
    events = events_of(bundles)
    assert [e.kind for e in events] == ["trap", "trap", "trap"]
    assert "calendar" in events[0].detail and "repeated" in events[1].detail and "2000" in events[2].detail


def test_counters_past_their_range_and_pages_past_the_last_page_are_cut() -> None:
    s = spider()
    (calendar, listing), _ = crawl_page(s, homepage_request(s), html(
        '<a href="/ldrc/?month=12">领导日程</a><a href="/gzdt/index_2.html">工作动态</a>'))
    requests, bundles = crawl_page(s, calendar, html('<a href="?month=11">上一月</a><a href="?month=13">下一月</a>'))
    assert [r.url for r in requests] == [HOME + "ldrc/?month=11"]
    assert [(e.kind, e.url, e.detail) for e in events_of(bundles)] == [
        ("trap", HOME + "ldrc/?month=13", "month=13 outside 1–12")]
    pager = ('<a href="index.html">首页</a><a href="index_1.html">上一页</a><a href="index_3.html">下一页</a>'
             '<a href="index_2.html">尾页</a><a href="list.jsp?page=9">9</a>')
    requests, bundles = crawl_page(s, listing, html(pager))
    assert sorted(r.url for r in requests) == [HOME + "gzdt/index.html", HOME + "gzdt/index_1.html",
                                              HOME + "gzdt/list.jsp?page=9"]
    assert [(e.url, e.detail) for e in events_of(bundles)] == [
        (HOME + "gzdt/index_3.html", "index_3.html past the last page index_2.html its pager names")]
    # a list that grew while crawled: the largest last page its pager names wins
    more, _ = crawl_page(s, requests[0], html('<a href="index_7.html">尾页</a><a href="index_5.html">5</a>'))
    assert [r.url for r in more] == [HOME + "gzdt/index_7.html", HOME + "gzdt/index_5.html"]


@pytest.mark.parametrize(("content_type", "body"), [
    ("text/html", '<html><head><title>凌源市人民政府</title></head><body>政务公开</body></html>'),
    ("text/html; charset=gb2312", '<html><head><title>凌源市人民政府</title></head><body>政务公开</body></html>'),
    ("text/html", ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
                   '<title>凌源市人民政府</title></head></html>')),
], ids=["gbk-without-any-charset", "gb2312-in-the-header", "gbk-in-meta"])
def test_chinese_encodings_decode_as_gb18030(content_type: str, body: str) -> None:
    s = spider()
    request = homepage_request(s)
    # TextResponse: Scrapy's own encoding guess must not matter.
    _, bundles = split(s.parse(respond(request, body.encode("gbk"), content_type=content_type, cls=TextResponse)))
    page = page_of(bundles)
    assert (page.title, page.encoding) == ("凌源市人民政府", "gb18030")


def test_dates_and_body_hash_are_recorded() -> None:
    s = spider()
    day = TODAY - timedelta(days=3)
    body = html(f'<ul class="list"><li><a href="/t1.html">通知</a><span>{day.isoformat()}</span></li></ul>')
    _, bundles = crawl_page(s, homepage_request(s), body)
    page = page_of(bundles)
    assert day in {hit.date for hit in page.dates}
    assert len(page.body_sha256) == 64 and page.size == len(body.encode())


def test_non_html_is_recorded_without_parsing() -> None:
    s = spider()
    request = homepage_request(s)
    response = respond(request, b"%PDF-1.4 <a href='/x.html'>", content_type="application/pdf", cls=Response)
    requests, bundles = split(s.parse(response))
    page = page_of(bundles)
    assert requests == [] and bundles[0].links == ()
    assert (page.content_type, page.size, page.title, page.fetch_kind) == ("application/pdf", 27, "", FetchKind.OK)


def test_error_pages_are_recorded_but_not_followed() -> None:
    s = spider()
    body = html('<a href="/elsewhere.html">x</a>', title="页面不存在")
    requests, bundles = crawl_page(s, homepage_request(s), body, status=404)
    page = page_of(bundles)
    assert (page.status, page.fetch_kind, page.title) == (404, FetchKind.HTTP_4XX, "页面不存在")
    assert requests == [] and bundles[0].links == ()


def test_waf_challenge_and_rate_limits_are_not_outages() -> None:
    s = spider()
    challenge = '<html><head><script>var _0x1=1;document.cookie="x";location.reload()</script></head></html>'
    _, bundles = crawl_page(s, homepage_request(s), challenge, status=412)
    assert page_of(bundles).fetch_kind == FetchKind.BLOCKED
    assert [e.kind for e in events_of(bundles)] == ["blocked"]
    assert status_kind(412, b"precondition failed") == FetchKind.HTTP_4XX
    assert status_kind(429, b"") == FetchKind.RATE_LIMITED
    assert status_kind(503, b"") == FetchKind.HTTP_5XX


def test_a_meta_refresh_or_js_redirect_page_moves_to_its_target_at_the_same_depth() -> None:
    s = spider()
    body = ('<html><head><meta http-equiv="refresh" content="0; url=/new/index.html"><title>跳转</title></head>'
            '<body><a href="/other.html">其他</a></body></html>')
    requests, bundles = crawl_page(s, homepage_request(s), body)
    assert {(link.target_url, link.tag) for link in bundles[0].links} == {
        (HOME + "new/index.html", "meta-refresh"), (HOME + "other.html", "a")}
    assert [(r.url, r.meta["depth"]) for r in requests] == [(HOME + "new/index.html", 0)]
    script = '<html><body><script>window.location.href = "/portal/";</script></body></html>'
    moved, bundles = crawl_page(s, requests[0], script)
    assert (HOME + "portal/", "js-location") in {(link.target_url, link.tag) for link in bundles[0].links}
    assert [(r.url, r.meta["depth"]) for r in moved] == [(HOME + "portal/", 0)]


def test_a_redirect_to_a_page_already_seen_is_recorded_not_parsed_again() -> None:
    s = spider()
    (_first,), _ = crawl_page(s, homepage_request(s), html('<a href="/index.html">首页</a>'))
    old = s._follow(s.states["demo"], HOME + "old.html", 1)
    (request,) = list(old)
    assert isinstance(request, Request)
    request.meta["redirect_urls"] = [HOME + "old.html"]
    requests, bundles = split(s.parse(respond(request, html('<a href="/new.html">新</a>'), url=HOME + "index.html")))
    page = page_of(bundles)
    assert (page.url, page.final_url, page.fetch_kind, page.title) == (HOME + "old.html", HOME + "index.html",
                                                                       FetchKind.OK, "首页")
    assert bundles[0].links == () and requests == []


def test_a_homepage_redirect_to_another_host_brings_that_host_into_scope() -> None:
    s = spider()
    request = homepage_request(s)
    request.meta["redirect_urls"] = [HOME]
    body = html('<a href="/zwgk/">政务公开</a><a href="https://xxgk.newdemo.gov.test/">信息公开</a>')
    requests, bundles = split(s.parse(respond(request, body, url="https://www.newdemo.gov.test/")))
    page = page_of(bundles)
    assert (page.url, page.final_url, page.redirect_chain) == (HOME, "https://www.newdemo.gov.test/", (HOME,))
    assert [r.url for r in requests] == ["https://www.newdemo.gov.test/zwgk/"]  # that host only, not its domain


def test_pages_on_every_host_of_the_site_share_max_pages_breadth_first() -> None:
    s = spider(bounds(max_pages=3))
    body = html('<a href="http://xxgk.demo.gov.test/a.html">信息公开</a><a href="/c.html">C</a>'
                '<a href="http://demo.gov.test/b.html">B</a>'
                '<a href="http://xxgk.demo.gov.test.attacker.test/">look-alike</a>'
                '<a href="http://notdemo.gov.test/">look-alike</a><a href="http://www.demo.gov.test.:80/c.html">C</a>')
    requests, _ = crawl_page(s, homepage_request(s), body)
    assert [r.url for r in requests] == ["http://xxgk.demo.gov.test/a.html", HOME + "c.html"]
    deeper, bundles = crawl_page(s, requests[0], html('<a href="/d.html">D</a>'))
    assert page_of(bundles).url == "http://xxgk.demo.gov.test/a.html" and deeper == []  # a page of the site
    more, _ = crawl_page(s, requests[1], "not found", status=404)
    assert [(r.url, r.priority) for r in more] == [("http://demo.gov.test/b.html", -1)]  # depth 1 before depth 2
    assert split(s.parse(respond(more[0], html(""))))[0] == []
    (final,) = s.final_bundles()
    assert [(e.kind, e.url) for e in final.events] == [("max_pages", "http://xxgk.demo.gov.test/d.html")]


def test_the_page_budget_holds_back_the_deepest_urls_whichever_host_answered_first() -> None:
    s = spider(bounds(max_pages=4))
    body = html('<a href="http://xxgk.demo.gov.test/a.html">信息公开</a><a href="/c.html">C</a>')
    (sub, www), _ = crawl_page(s, homepage_request(s), body)
    (deeper,), _ = crawl_page(s, sub, html('<a href="/e.html">E</a>'))          # the sub-domain answers first
    assert crawl_page(s, deeper, html('<a href="/f.html">F</a>'))[0] == []      # depth 3: held back
    assert crawl_page(s, www, html('<a href="/g.html">G</a>'))[0] == []         # depth 2: held back too
    (final,) = s.final_bundles()
    assert [(e.kind, e.url) for e in final.events] == [("max_pages", HOME + "g.html")]  # the shallowest first
    assert [(d, u) for d, _, u in sorted(s.states["demo"].waiting)] == [
        (2, HOME + "g.html"), (3, "http://xxgk.demo.gov.test/f.html")]


def test_a_site_has_at_most_its_window_of_requests_out_and_the_rest_goes_shallowest_first() -> None:
    s = spider(window=2)
    body = html("".join(f'<a href="/p{i}.html">{i}</a>' for i in range(5)))
    (first, second), _ = crawl_page(s, homepage_request(s), body)
    assert [first.url, second.url] == [HOME + "p0.html", HOME + "p1.html"]
    assert [u for _, _, u in sorted(s.states["demo"].waiting)] == [HOME + f"p{i}.html" for i in (2, 3, 4)]
    # p0 answers with a deeper link: the freed room goes to p2 (depth 1), the new depth-2 URL waits
    (third,), _ = crawl_page(s, first, html('<a href="/deep.html">deep</a>'))
    assert (third.url, third.priority) == (HOME + "p2.html", -1)
    assert [d for d, _, _ in sorted(s.states["demo"].waiting)] == [1, 1, 2]
    assert list(s.final_bundles()) == []        # waiting for the window is not max_pages


def test_scope_host_keeps_the_crawl_on_the_homepage_host() -> None:
    s = spider(bounds(scope=SiteScope.of(HOME, ("static.cdn.test",), "host")))
    body = html('<a href="http://xxgk.demo.gov.test/a.html">信息公开</a><a href="http://static.cdn.test/x.html">x</a>'
                '<a href="/c.html">C</a>')
    requests, _ = crawl_page(s, homepage_request(s), body)
    assert [r.url for r in requests] == ["http://static.cdn.test/x.html", HOME + "c.html"]


def test_sites_are_done_when_nothing_is_pending() -> None:
    s = spider(bounds(), bounds(site_id="other", start_url="http://www.other.gov.test/",
                                scope=SiteScope.of("http://www.other.gov.test/")))
    first, second = list(s.homepage_requests())
    assert (s.sites_total(), s.sites_done()) == (2, 0)
    follow, _ = split(s.parse(respond(first, html('<a href="/a.html">a</a>'))))  # type: ignore[arg-type]
    list(s.parse(respond(second, html(""))))  # type: ignore[arg-type]
    assert s.sites_done() == 1
    list(s.parse(respond(follow[0], html(""))))
    assert s.sites_done() == 2


def fail(s: SiteSpider, request: Request, exc: BaseException) -> list[CrawlBundle]:
    failure = Failure(exc)
    failure.request = request  # type: ignore[attr-defined]
    return list(s.errback(failure))


def test_failures_become_pages_with_their_kind() -> None:
    s = spider()
    page = page_of(fail(s, homepage_request(s), DownloadTimeoutError("took longer than 5 seconds")))
    assert (page.url, page.status, page.fetch_kind) == (HOME, None, FetchKind.TIMEOUT)
    assert "5 seconds" in page.detail


def test_a_robots_refusal_is_an_event_not_a_page() -> None:
    s = spider()
    bundles = fail(s, homepage_request(s), RobotsRefused("Forbidden by robots.txt"))
    assert [b.page for b in bundles] == [None]
    assert [(e.kind, e.url) for e in events_of(bundles)] == [("robots", HOME)]
    assert s.sites_done() == 1


def test_a_redirect_loop_keeps_its_chain() -> None:
    s = spider()
    request = homepage_request(s)
    loop = request.replace(url=HOME + "index.html")
    loop.meta["redirect_urls"] = [HOME]
    page = page_of(fail(s, loop, RedirectLoop("back to /", HOME)))
    assert (page.fetch_kind, page.redirect_chain, page.final_url) == (
        FetchKind.REDIRECT_LOOP, (HOME, HOME + "index.html"), HOME)


def test_dns_failures_carry_the_gate_verdict(demo_web: DemoWeb) -> None:
    gate = HostGate(Resolver(["127.0.0.1"], demo_web.dns_port, 2.0), [])
    asyncio.run(gate.check("nonexistent.demo.test"))
    s = spider(bounds(start_url="http://nonexistent.demo.test/", scope=SiteScope.of("http://nonexistent.demo.test/")),
               gate=gate)
    page = page_of(fail(s, homepage_request(s), CannotResolveHostError("no results")))
    assert (page.fetch_kind, page.detail) == (FetchKind.DNS, "nxdomain: the name does not exist")


def test_the_gate_answers_ip_literals_and_refuses_outside_networks() -> None:
    import ipaddress

    gate = HostGate(Resolver(["127.0.0.1"], 9, 0.5), [ipaddress.ip_network("127.0.0.0/8"),
                                                      ipaddress.ip_network("::1/128")])
    v6 = asyncio.run(gate.check("[::1]"))
    assert (v6.kind, v6.addresses) == (FetchKind.OK, ("::1",))
    outside = asyncio.run(gate.check("192.0.2.1"))
    assert (outside.kind, outside.addresses) == (FetchKind.DISALLOWED, ())
    assert classify(CannotResolveHostError("x"), gate, "192.0.2.1")[0] == FetchKind.DISALLOWED


@pytest.mark.parametrize(("exc", "kind"), [
    (CannotResolveHostError("no results"), FetchKind.DNS),
    (tx.DNSLookupError("nope"), FetchKind.DNS),
    (DownloadConnectionRefusedError("refused"), FetchKind.REFUSED),
    (tx.ConnectionRefusedError(), FetchKind.REFUSED),
    (DownloadTimeoutError("slow"), FetchKind.TIMEOUT),
    (tx.TCPTimedOutError(), FetchKind.TIMEOUT),
    (DownloadCancelledError(), FetchKind.TOO_LARGE),
    (ResponseDataLossError(), FetchKind.RESET),
    (ResponseNeverReceived([Failure(tx.ConnectionLost())]), FetchKind.RESET),
    (ResponseNeverReceived([Failure(ParseError("wrong number of parts", b"SSH-2.0"))]), FetchKind.PROTOCOL),
    (tx.NoRouteError(), FetchKind.NO_ROUTE),
    (RedirectLoop("loop", HOME), FetchKind.REDIRECT_LOOP),
    (TooManyRedirects("many", HOME), FetchKind.TOO_MANY_REDIRECTS),
    (IgnoreRequest("something else"), FetchKind.ERROR),
], ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v))
def test_download_failures_are_classified_once(exc: BaseException, kind: FetchKind) -> None:
    assert classify(exc)[0] == kind


def test_tls_failures_are_found_inside_the_wrapper() -> None:
    from OpenSSL import SSL

    inner = ResponseNeverReceived([Failure(SSL.Error([("SSL routines", "", "certificate verify failed")]))])
    wrapped = DownloadFailedError("failed")
    wrapped.__cause__ = inner
    kind, detail = classify(wrapped)
    assert kind == FetchKind.TLS and "certificate verify failed" in detail


def redirect(request_url: str, location: str, chain: list[str]) -> tuple[Request, Response]:
    request = Request(request_url, meta={"redirect_urls": chain})
    return request, Response(request_url, status=302, headers={"Location": location}, request=request)


def test_the_redirect_guard_stops_loops_and_long_chains() -> None:
    guard = RedirectGuard()
    with pytest.raises(RedirectLoop):
        guard.process_response(*redirect(HOME + "index.html", "/", [HOME]))
    chain = [f"{HOME}c/{i}" for i in range(MAX_REDIRECTS)]
    with pytest.raises(TooManyRedirects):
        guard.process_response(*redirect(HOME + "c/10", "/c/11", chain))
    request, response = redirect(HOME + "c/9", "/c/10", chain[:9])
    assert guard.process_response(request, response) is response
    assert not request.meta.get("dont_redirect")


@pytest.mark.parametrize("location", [
    pytest.param("javascript:window.location='/x'", id="javascript"),
    pytest.param("data:text/html,<p>moved</p>", id="data"),
    pytest.param("ftp://www.demo.gov.test/f.txt", id="ftp"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("http://", id="no-host"),
    pytest.param("http://host]/", id="unparsable"),
    pytest.param("http://exa mple.gov.test/", id="space-in-host"),
    pytest.param("http://www.demo.gov.test:99999/", id="bad-port"),
])
def test_the_redirect_guard_keeps_a_3xx_without_a_usable_location(location: str) -> None:
    request, response = redirect(HOME + "moved", location, [])
    assert RedirectGuard().process_response(request, response) is response
    assert request.meta["dont_redirect"] is True


@pytest.mark.parametrize(("value", "seconds"), [(b"120", 120.0), (b"0", 0.0), (b"Wed, 21 Oct 2015 07:28:00 GMT", None),
                                                (b"", None)])
def test_retry_after_is_read_when_simple(value: bytes, seconds: float | None) -> None:
    from scrapy.http import Headers

    assert retry_after_s(Headers({"Retry-After": value} if value else {})) == seconds


def test_the_writer_puts_a_page_before_its_links_and_reports_progress(tmp_path: Path) -> None:
    out, progress = tmp_path / "crawl.jsonl", io.StringIO()
    writer = JsonLinesWriter(out, stream=progress)
    writer.open_spider(spider())
    page = PageRecord("demo", HOME, HOME, 200, "ok", 0, "2026-01-01T00:00:00+00:00", title="首页")
    writer.write(CrawlBundle(page, (LinkRecord("demo", HOME, HOME + "a", "a", "甲"),),
                             (EventRecord("demo", "trap", HOME + "t"),)))
    writer.write(CrawlBundle(replace(page, url=HOME + "x", fetch_kind="dns", status=None)))
    writer.close_spider()
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["page", "links", "event", "page"]
    assert lines[0].startswith('{"type":"page"') and "首页" in lines[0]
    last = json.loads(progress.getvalue().splitlines()[-1])["progress"]
    assert last == {"sites_done": 0, "sites": 1, "pages": 2, "links": 1, "errors": 1, "screen_ms": 0}


def test_a_line_holds_the_record_schema() -> None:
    page = PageRecord("demo", HOME, HOME + "index.html", 200, "ok", 0, "2026-01-01T00:00:00+00:00",
                      redirect_chain=(HOME,), dates=(DateHit(TODAY, "list-item", "通知 " + TODAY.isoformat()),))
    for record in (page, LinkRecord("demo", HOME, HOME + "a", "iframe", "甲", "nav"), EventRecord("demo", "robots", HOME)):
        assert json.loads(line(record)) == json.loads(json.dumps(to_json(record)))


@pytest.mark.parametrize("url", ["http://www.demo.gov.test/a/b.html?x=1", "https://user:pw@www.demo.gov.test:8443/",
                                 "http://[::1]:8080/x", "http://[2001:db8::1]/", "http://127.0.0.1/?next=http://a/b",
                                 "HTTP://WWW.Demo.GOV.test./x"])
def test_the_scope_host_of_a_canonical_url_is_its_host(url: str) -> None:
    canonical_url = canonical(url)
    assert canonical_url is not None
    assert scope_host(canonical_url) == host(canonical_url)


def test_robots_refusals_are_raised_as_such() -> None:
    from scrapy.robotstxt import ProtegoRobotParser
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(SiteSpider, {"ROBOTSTXT_OBEY": True, "USER_AGENT": "govmon/test"})
    robots = RobotsMiddleware.from_crawler(crawler)
    parser = ProtegoRobotParser.from_crawler(crawler, b"User-agent: *\nDisallow: /private/\n")
    robots.process_request_2(parser, Request(HOME + "public/a.html"))
    with pytest.raises(RobotsRefused):
        robots.process_request_2(parser, Request(HOME + "private/a.html"))


def test_retries_wait_and_only_transient_failures_are_retried() -> None:
    import time

    from scrapy.utils.test import get_crawler

    crawler = get_crawler(SiteSpider, {"RETRY_TIMES": 1})
    crawler.spider = SiteSpider.from_crawler(crawler, sites=[bounds()], today=TODAY)
    retry = BackoffRetry.from_crawler(crawler)
    request = Request(HOME, meta={"max_retry_times": 1})
    started = time.monotonic()
    again = asyncio.run(retry.process_response(request, Response(HOME, status=503, request=request)))
    assert isinstance(again, Request) and again.meta["retry_times"] == 1
    assert time.monotonic() - started >= 0.5
    last = Response(HOME, status=503, request=again)
    assert asyncio.run(retry.process_response(again, last)) is last
    assert asyncio.run(retry.process_exception(request, CannotResolveHostError("nx"))) is None
    ok = Response(HOME, status=404, request=request)
    assert asyncio.run(retry.process_response(request, ok)) is ok


def test_the_body_guard_stops_what_the_spider_will_not_read() -> None:
    from scrapy.exceptions import StopDownload
    from scrapy.http import Headers

    guard = BodyGuard(max_bytes=1000)
    page = Request(HOME, meta={"govmon_site": "demo"})
    guard.headers_received(Headers({"Content-Type": "text/html"}), "twisted.web.iweb.UNKNOWN_LENGTH", page)
    guard.headers_received(Headers({"Content-Type": "text/plain"}), 200, page)  # small: read it
    with pytest.raises(StopDownload):
        guard.headers_received(Headers({"Content-Type": "application/pdf"}), 500_000, page)
    with pytest.raises(StopDownload):
        guard.headers_received(Headers({"Content-Type": "text/html"}), 5000, page)
    assert page.meta["govmon_too_large"] is True
    robots = Request(HOME + "robots.txt")
    guard.headers_received(Headers({"Content-Type": "text/plain"}), 500_000, robots)


def test_a_page_announced_too_large_is_recorded_as_such() -> None:
    s = spider()
    request = homepage_request(s)
    request.meta["govmon_too_large"] = True
    response = respond(request, b"", headers={"Content-Length": "5000"})
    response.flags.append("download_stopped")
    _, bundles = split(s.parse(response))
    page = page_of(bundles)
    assert (page.status, page.fetch_kind, page.size) == (200, FetchKind.TOO_LARGE, 5000)


def test_resource_and_malformed_links_are_recorded_but_never_followed() -> None:
    s = spider()
    body = html('<a href="/zwgk/">政务公开</a><img srcset="/a.jpg 1x, /b.jpg 2x"><video src="/v.mp4" poster="/p.jpg">'
                '<track src="/t.vtt"></video><audio src="/a.mp3"></audio><object data="/o.html"></object>'
                '<embed src="/e.html"><div style="background:url(/bg.html)">x</div>'
                '<a href="http://www.demo.gov.test:99999/">坏端口</a><a href="http:/www.demo.gov.test/x.html">少斜杠</a>'
                '<a href="file:///C:/a.doc">本地文件</a><a href="javascript:void(0)">脚本</a>')
    requests, bundles = crawl_page(s, homepage_request(s), body)
    links = {(link.target_url, link.tag) for link in bundles[0].links}
    assert links == {(HOME + "zwgk/", "a"), (HOME + "a.jpg", "img"), (HOME + "b.jpg", "img"),
                     (HOME + "v.mp4", "video"), (HOME + "p.jpg", "video"), (HOME + "t.vtt", "track"),
                     (HOME + "a.mp3", "audio"), (HOME + "o.html", "object"), (HOME + "e.html", "embed"),
                     (HOME + "bg.html", "css"), ("http://www.demo.gov.test:99999/", "a"),
                     ("http:/www.demo.gov.test/x.html", "a"), ("file:///C:/a.doc", "a")}
    assert [r.url for r in requests] == [HOME + "zwgk/"]


def test_a_redirect_without_a_usable_location_is_an_http_3xx_page() -> None:
    s = spider()
    request = homepage_request(s)
    _, bundles = crawl_page(s, request, "", status=302, headers={"Location": "javascript:void(0)"})
    page = page_of(bundles)
    assert (page.status, page.fetch_kind, page.final_url) == (302, FetchKind.HTTP_3XX, HOME)


def test_a_personal_number_in_the_title_of_an_unread_page_is_masked() -> None:
    s = spider()
    _, bundles = crawl_page(s, homepage_request(s), html("", title="页面不存在 请联系13812345678"), status=404)
    assert page_of(bundles).title == "页面不存在 请联系138****5678"


def test_a_pages_linked_sheets_on_the_site_are_fetched_once_and_kept_as_their_hiding_rules() -> None:
    s = spider()
    head = ('<link rel="stylesheet" href="/css/style.css"><link rel="stylesheet" href="http://cdn.other.test/a.css">'
            '<link rel="stylesheet" media="print" href="/css/print.css">')
    body = html(f'{head}<div class="gg"><a href="http://bet.other.test/">x</a></div><a href="/zwgk/">政务公开</a>')
    requests, bundles = crawl_page(s, homepage_request(s), body)
    notes = page_of(bundles).notes or {}
    assert (notes["sheets"], notes["hooks"]) == ([[HOME + "css/style.css"], ["http://cdn.other.test/a.css"]],
                                                 [["http://bet.other.test/", "a div.gg body"]])
    [sheet] = [r for r in requests if r.meta.get("govmon_sheet")]
    assert (sheet.url, sheet.meta["depth"], sheet.meta["download_maxsize"]) == (HOME + "css/style.css", 1, 512 * 1024)
    css = b".gg{display:none}\n@media (max-width:640px){.pc{display:none}}\n.nav li{display:inline-block}"
    again, recorded = split(s.parse_sheet(respond(sheet, css, content_type="text/css", cls=Response)))
    record = page_of(recorded)
    assert (record.url, record.fetch_kind, record.content_type, record.title, record.notes) == (
        HOME + "css/style.css", FetchKind.OK, "text/css", "", {"hides": [["display:none", ".gg"]]})
    assert recorded[0].links == () and again == []
    # another page linking the same sheet: no second request; the site's page count is untouched
    (zwgk,) = [r for r in requests if r.url == HOME + "zwgk/"]
    more, _ = crawl_page(s, zwgk, body.replace('<a href="/zwgk/">', '<a href="/a.html">'))
    assert not [r for r in more if r.meta.get("govmon_sheet")] and s.states["demo"].pages == 2


def test_a_sheet_that_fails_or_is_no_css_is_recorded_without_rules() -> None:
    s = spider()
    body = html('<link rel="stylesheet" href="/css/style.css"><a href="http://bet.other.test/">x</a>')
    requests, _ = crawl_page(s, homepage_request(s), body)
    [sheet] = [r for r in requests if r.meta.get("govmon_sheet")]
    _, gone = split(s.parse_sheet(respond(sheet, b"<html>not found</html>", status=404, cls=Response)))
    assert (page_of(gone).fetch_kind, page_of(gone).notes) == (FetchKind.HTTP_4XX, None)
    _, html_page = split(s.parse_sheet(respond(sheet, html('<p class="gg">.gg{display:none}</p>'))))
    assert page_of(html_page).notes is None


def test_a_page_without_off_site_links_fetches_no_sheet() -> None:
    s = spider()
    requests, bundles = crawl_page(s, homepage_request(s), html('<link rel="stylesheet" href="/css/style.css">'
                                                                 '<a href="/zwgk/">政务公开</a>'))
    assert [r.url for r in requests] == [HOME + "zwgk/"] and "sheets" not in (page_of(bundles).notes or {})


OTHER_HOME = "http://www.other.gov.test/"
OTHER = bounds(site_id="other", start_url=OTHER_HOME, scope=SiteScope.of(OTHER_HOME))


def fed_spider(*sites: SiteBounds) -> SiteSpider:
    catalog = {b.site_id: b for b in (bounds(), OTHER)}
    return SiteSpider(sites=sites, today=TODAY, max_bytes=1000, feed=lambda: ([], False), catalog=catalog)


def test_a_fed_site_is_done_once_no_request_and_no_callback_of_it_is_left() -> None:
    s = fed_spider(bounds())
    home = homepage_request(s)
    follow, bundles = split(s.parse(respond(home, html('<a href="/a.html">a</a><a href="/b.html">b</a>'))))
    assert [b.done for b in bundles] == [""] and len(follow) == 2
    reading = s.parse(respond(follow[0], html("")))   # a callback under way: its page may still lead further
    next(reading)
    assert [b.done for b in split(s.parse(respond(follow[1], html(""))))[1]] == [""]
    assert [b.done for b in split(reading)[1]] == ["demo"]    # the last callback of the site ends: done, once
    assert list(s.final_bundles()) == []
    assert s.states["demo"].seen == set() and s.sites_done() == 1, "a done site's memory is let go"


def test_a_fed_site_done_at_max_pages_says_so_in_its_last_bundle() -> None:
    s = fed_spider(bounds(max_pages=1))
    _, bundles = split(s.parse(respond(homepage_request(s), html('<a href="/a.html">a</a>'))))
    (last,) = [b for b in bundles if b.done]
    assert last.done == "demo" and [e.kind for e in last.events] == ["max_pages"]


def test_sites_are_added_while_a_fed_crawl_runs_and_unknown_ones_refused() -> None:
    s = fed_spider()
    (request,) = split(s.add_sites(["other"]))[0]
    assert request.url == "http://www.other.gov.test/" and s.sites_total() == 1
    assert list(s.add_sites(["other"])) == []             # fed twice: crawled once
    with pytest.raises(ValueError, match="does not know: nowhere"):
        list(s.add_sites(["nowhere"]))
    (last,) = s.final_bundles()                           # the crawl ended first: announced at its end
    assert last.done == "other"


def test_a_crawl_without_a_feed_announces_no_site() -> None:
    s = spider()
    follow, _ = split(s.parse(respond(homepage_request(s), html(""))))
    assert follow == [] and s.sites_done() == 1
    assert list(s.final_bundles()) == []


def test_the_writer_closes_the_segment_before_it_announces_a_site_done(tmp_path: Path) -> None:
    spool, stderr = tmp_path / "spool", io.StringIO()
    spool.mkdir()
    writer = JsonLinesWriter(spool, stream=stderr, segment_bytes=10**6)
    writer.open_spider()
    writer.write(CrawlBundle(PageRecord("demo", HOME, HOME, 200, "ok", 0, "2026-01-01T00:00:00+00:00")))
    writer.write(CrawlBundle(events=(EventRecord("demo", "max_pages", HOME + "x", "max_pages 1 reached"),),
                             done="demo"))
    writer.write(CrawlBundle(done="other"))                # nothing to write: no empty segment
    assert sorted(p.name for p in spool.iterdir()) == ["crawl-000001.jsonl"]
    said = [json.loads(line) for line in stderr.getvalue().splitlines() if '"progress"' not in line]
    assert said == [{"segment": "crawl-000001.jsonl"}, {"site_done": "demo"}, {"site_done": "other"}]
    lines = (spool / "crawl-000001.jsonl").read_text().splitlines()
    assert [json.loads(r)["type"] for r in lines] == ["page", "event"]
