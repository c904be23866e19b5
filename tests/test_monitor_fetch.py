"""monitor.fetch against the demo web: pinned addresses on both families, every
outcome kind the demo can produce, redirects, body caps, retries and TLS."""

from __future__ import annotations

import asyncio
import datetime as dt
import errno
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import httpx
import pytest
import trustme

from monitor.demo import DemoWeb
from monitor.demo.configfile import DEMO_CRAWL
from monitor.demo.faultcases import LOOP_HOST, LOOP_TARGET, SPLIT_LOOP_HOST, SPLIT_LOOP_TARGET, TLS_GARBAGE, TLS_STALL
from monitor.demo.linkcases import HOST as LINKS_HOST
from monitor.demo.linkcases import REDIRECTS
from monitor.fetch import (
    FetchOutcome, Fetcher, classify_exception, redirect_target, retry_after_s, url_problem,
)
from monitor.htmltext import after_end, as_browsers_read, decode, decode_html, extract_title
from monitor.outcomes import DnsKind, FetchKind, TlsError
from monitor.resolver import Resolver

LAB = "lab.demo.test"
LOOPBACK = ["127.0.0.0/8", "::1/128"]
T = TypeVar("T")


def run(factory: Callable[[Fetcher], Awaitable[T]], web: DemoWeb, **options: object) -> T:
    """Run `factory(fetcher)` in a fresh loop with a fresh resolver aimed at `web`, trusting the demo CA
    as the demo config does (its model site is on HTTPS) unless `verify` says otherwise."""
    resolver = Resolver(["127.0.0.1"], port=web.dns_port, timeout_s=1)
    settings: dict[str, object] = {"timeout_s": 1.0, "allowed_networks": LOOPBACK, "verify": web.trust(), **options}

    async def main() -> T:
        async with Fetcher(resolver, **settings) as fetcher:  # type: ignore[arg-type]
            return await factory(fetcher)

    return asyncio.run(main())


def fetch(web: DemoWeb, url: str, **options: object) -> FetchOutcome:
    family = options.pop("family", None)
    method = options.pop("method", "GET")
    return run(lambda f: f.fetch(url, family=family, method=method), web, **options)  # type: ignore[arg-type]


def fresh(path: str) -> str:
    """`path` with a unique query, for pages whose state is keyed by path and query."""
    return f"{path}?t={uuid.uuid4().hex}"


def test_homepage_ok_with_pinned_v4_address(demo_web: DemoWeb) -> None:
    outcome = fetch(demo_web, demo_web.url("www.chaoyang.gov.test"))
    assert (outcome.kind, outcome.status, outcome.address, outcome.family) == (FetchKind.OK, 200, "127.0.0.1", 4)
    assert outcome.title == "朝阳市人民政府"
    assert (outcome.content_type, outcome.encoding) == ("text/html", "utf-8")
    assert outcome.headers["content-type"] == "text/html; charset=utf-8"
    assert outcome.size == len(outcome.body) > 1000
    assert "我为政府网站找错" in outcome.text()
    # the model site's plain HTTP leads to its HTTPS (a certificate of the demo CA)
    assert outcome.redirect_chain == (outcome.url,)
    assert outcome.final_url == demo_web.url("www.chaoyang.gov.test", scheme="https")


@pytest.mark.parametrize(("path", "kind", "status"), [
    pytest.param("/status/403", FetchKind.HTTP_4XX, 403, id="403-is-http-4xx"),
    pytest.param("/status/404", FetchKind.HTTP_4XX, 404, id="404-is-http-4xx"),
    pytest.param("/no/such/page", FetchKind.HTTP_4XX, 404, id="unknown-path-is-404"),
    pytest.param("/status/500", FetchKind.HTTP_5XX, 500, id="500-is-http-5xx"),
    pytest.param("/status/503", FetchKind.HTTP_5XX, 503, id="503-is-http-5xx"),
    pytest.param("/status/429", FetchKind.RATE_LIMITED, 429, id="429-is-rate-limited"),
    pytest.param("/status/412", FetchKind.BLOCKED, 412, id="412-js-challenge-is-blocked"),
    pytest.param("/redirect/no-location", FetchKind.HTTP_3XX, 302, id="redirect-without-location-is-http-3xx"),
    pytest.param("/redirect/ftp", FetchKind.HTTP_3XX, 302, id="redirect-to-ftp-is-http-3xx"),
    pytest.param("/loop/a", FetchKind.REDIRECT_LOOP, None, id="redirect-loop"),
    pytest.param("/chain/0", FetchKind.TOO_MANY_REDIRECTS, None, id="twelve-redirects-are-too-many"),
    pytest.param("/reset", FetchKind.RESET, None, id="connection-reset-without-response"),
    pytest.param("/garbage", FetchKind.PROTOCOL, None, id="non-http-answer-is-protocol"),
    pytest.param("/huge", FetchKind.TOO_LARGE, 200, id="body-over-the-cap-is-too-large"),
    pytest.param("/slow", FetchKind.TIMEOUT, None, id="slow-page-is-timeout"),
])
def test_outcome_kinds(demo_web: DemoWeb, path: str, kind: FetchKind, status: int | None) -> None:
    outcome = fetch(demo_web, demo_web.url(LAB, path), timeout_s=0.5)
    assert (outcome.kind, outcome.status) == (kind, status), outcome.detail
    assert outcome.detail
    assert outcome.elapsed_ms < 1500


@pytest.mark.parametrize(("site_id", "kind", "dns_kind", "address"), [
    pytest.param("longcheng-scjg", FetchKind.DNS, DnsKind.NXDOMAIN, None, id="nxdomain-host"),
    pytest.param("beipiao-czj", FetchKind.REFUSED, None, "127.0.0.2", id="nothing-listens-is-refused"),
    pytest.param("scjg", FetchKind.HTTP_5XX, None, "127.0.0.1", id="homepage-500"),
    pytest.param("czj", FetchKind.HTTP_4XX, None, "127.0.0.1", id="homepage-404"),
])
def test_site_failures(demo_web: DemoWeb, site_id: str, kind: FetchKind, dns_kind: DnsKind | None,
                       address: str | None) -> None:
    outcome = fetch(demo_web, demo_web.url(demo_web.site(site_id).host))
    assert (outcome.kind, outcome.dns_kind, outcome.address) == (kind, dns_kind, address)
    if kind is FetchKind.REFUSED:
        assert "111" in outcome.detail or "refused" in outcome.detail.lower()


@pytest.mark.parametrize("host", [LOOP_HOST, SPLIT_LOOP_HOST])
def test_a_cname_loop_is_a_dns_failure_that_names_the_loop(demo_web: DemoWeb, host: str) -> None:
    outcome = fetch(demo_web, demo_web.url(host))
    assert (outcome.kind, outcome.dns_kind, outcome.address) == (FetchKind.DNS, DnsKind.CNAME_LOOP, None)
    target = LOOP_TARGET if host == LOOP_HOST else SPLIT_LOOP_TARGET
    assert f"{host} → {target} → {host}" in outcome.detail


@pytest.mark.parametrize(("host", "kind", "words"), [
    pytest.param(TLS_STALL, FetchKind.TIMEOUT, "TLS handshake stalled", id="a-stalled-handshake-is-a-timeout"),
    pytest.param(TLS_GARBAGE, FetchKind.TLS, "not a TLS server", id="a-non-tls-answer-is-a-handshake-failure"),
])
def test_hostile_tls_servers_are_named_and_bounded_by_the_timeout(demo_web: DemoWeb, host: str, kind: FetchKind,
                                                                  words: str) -> None:
    timeout_s = 1.0
    started = time.monotonic()
    outcome = fetch(demo_web, demo_web.url(host, scheme="https"), timeout_s=timeout_s)
    assert time.monotonic() - started < timeout_s * 3 + 10
    assert (outcome.kind, outcome.tls_error, outcome.status) == (kind, TlsError.HANDSHAKE, None)
    assert words in outcome.detail, outcome.detail


def test_a_timeout_before_tls_is_not_called_a_handshake(demo_web: DemoWeb) -> None:
    outcome = fetch(demo_web, demo_web.url(TLS_STALL), timeout_s=1.0)  # plain HTTP: the request is never answered
    assert (outcome.kind, outcome.tls_error) == (FetchKind.TIMEOUT, None)
    assert "TLS" not in outcome.detail


@pytest.mark.parametrize("name", ["servfail.demo.test", "refused.demo.test"])
def test_dns_failures_carry_the_dns_kind(demo_web: DemoWeb, name: str) -> None:
    outcome = fetch(demo_web, demo_web.url(name))
    assert outcome.kind is FetchKind.DNS
    assert outcome.dns_kind == name.split(".")[0]


def test_every_homepage_matches_the_ground_truth_on_both_families(demo_web: DemoWeb) -> None:
    async def sweep(f: Fetcher) -> dict[tuple[str, str], FetchOutcome]:
        jobs = {(site.id, field): f.fetch_retrying(demo_web.url(site.host), retries=1, family=family,
                                                   backoff_s=0.05)
                for site in demo_web.sites
                for field, family in (("homepage", None), ("homepage_v4", 4), ("homepage_v6", 6))}
        results = await asyncio.gather(*jobs.values())
        return {key: outcome for key, (outcome, _) in zip(jobs, results)}

    outcomes = run(sweep, demo_web, timeout_s=DEMO_CRAWL["timeout_s"])  # the timeout the truth assumes
    for (site_id, field), outcome in outcomes.items():
        expected = demo_web.truth["sites"][site_id][field]
        got = {"kind": outcome.kind, "status": outcome.status, "final_url": outcome.final_url,
               "redirect_chain": list(outcome.redirect_chain), "address": outcome.address,
               "dns_kind": outcome.dns_kind}
        assert got == expected, (site_id, field, outcome.detail)


def test_redirects_are_followed_by_hand_and_recorded(demo_web: DemoWeb) -> None:
    start = demo_web.url("www.shuangta.gov.test")
    outcome = fetch(demo_web, start)
    assert (outcome.kind, outcome.status) == (FetchKind.OK, 200)
    assert outcome.redirect_chain == (start,)
    assert outcome.final_url == demo_web.url("www.shuangta.gov.test", "/index.html")
    assert outcome.title == "双塔区人民政府"


def test_relative_location_resolves_against_the_hop(demo_web: DemoWeb) -> None:
    outcome = fetch(demo_web, demo_web.url(LAB, "/redirect/relative"))
    assert outcome.final_url == demo_web.url(LAB, "/redirect/target")
    assert outcome.title == "relative target"


def test_cross_host_redirect_resolves_the_new_host(demo_web: DemoWeb) -> None:
    outcome = fetch(demo_web, demo_web.url(LAB, "/redirect/cross"), family=6)
    assert outcome.final_url == demo_web.url("www.chaoyang.gov.test", scheme="https")
    assert (outcome.title, outcome.address, outcome.family) == ("朝阳市人民政府", "::1", 6)


def test_loop_and_chain_record_the_urls_hopped_through(demo_web: DemoWeb) -> None:
    loop = fetch(demo_web, demo_web.url(LAB, "/loop/a"))
    assert loop.redirect_chain == (demo_web.url(LAB, "/loop/a"), demo_web.url(LAB, "/loop/b"))
    assert loop.final_url == demo_web.url(LAB, "/loop/a")
    chain = fetch(demo_web, demo_web.url(LAB, "/chain/0"))
    assert len(chain.redirect_chain) == 11
    assert fetch(demo_web, demo_web.url(LAB, "/chain/0"), max_redirects=12).kind is FetchKind.OK


def test_family_6_reaches_v6_loopback_with_the_right_host(demo_web: DemoWeb) -> None:
    outcome = fetch(demo_web, demo_web.url("www.lingyuan.gov.test"), family=6)
    assert (outcome.kind, outcome.address, outcome.family) == (FetchKind.OK, "::1", 6)
    assert outcome.title == "凌源市人民政府"


def test_family_6_without_aaaa_never_falls_back_to_v4(demo_web: DemoWeb) -> None:
    before = demo_web.http_requests
    outcome = fetch(demo_web, demo_web.url("www.longcheng.gov.test"), family=6)
    assert (outcome.kind, outcome.dns_kind, outcome.address) == (FetchKind.DNS, DnsKind.NO_ANSWER, None)
    assert demo_web.http_requests == before, "nothing may be sent when the family has no address"
    assert fetch(demo_web, demo_web.url("www.longcheng.gov.test"), family=4).kind is FetchKind.OK


def test_any_family_uses_aaaa_when_there_is_no_a(demo_web: DemoWeb) -> None:
    outcome = fetch(demo_web, demo_web.url("v6only.demo.test"))
    assert (outcome.kind, outcome.address, outcome.family, outcome.title) == (FetchKind.OK, "::1", 6, "v6only")


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_ip_literal_urls_are_fetched_not_called_dead(demo_web: DemoWeb, host: str) -> None:
    outcome = fetch(demo_web, f"http://{host}:{demo_web.http_port}/")
    assert (outcome.kind, outcome.status) == (FetchKind.HTTP_4XX, 404)
    assert outcome.address == host.strip("[]")
    assert outcome.title == "404 unknown host"


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, int]]:
    """A loopback listener on 127.0.0.3 that never answers: it shows whether anyone connected."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.3", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock, sock.getsockname()[1]


def _connected(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def test_disallowed_address_is_never_contacted(demo_web: DemoWeb, listener: tuple[socket.socket, int]) -> None:
    sock, port = listener
    url = f"http://127.0.0.3:{port}/"
    refused = fetch(demo_web, url, allowed_networks=["127.0.0.1/32", "::1/128"])
    assert (refused.kind, refused.address, refused.status) == (FetchKind.DISALLOWED, "127.0.0.3", None)
    assert not _connected(sock)
    # The control: with the address allowed, the same fetch does connect (and times out unanswered).
    allowed = fetch(demo_web, url, allowed_networks=["127.0.0.0/8"], timeout_s=0.3)
    assert allowed.kind is FetchKind.TIMEOUT
    assert _connected(sock)
    # Only now, with the refusal proven, a name resolving to TEST-NET-1 (192.0.2.1).
    outside = fetch(demo_web, demo_web.url("outside.demo.test"))
    assert (outside.kind, outside.address) == (FetchKind.DISALLOWED, "192.0.2.1")
    assert "nothing was sent" in outside.detail


@pytest.mark.parametrize(("path", "title", "encoding"), [
    pytest.param("/gbk/meta", "凌源市政务公开", None, id="gbk-charset-only-in-meta"),
    pytest.param("/gbk/none", "凌源市政务公开", None, id="gbk-without-any-charset"),
    pytest.param("/gbk/header", "凌源市政务公开", "gbk", id="gbk-charset-in-header"),
])
def test_gbk_titles_are_decoded(demo_web: DemoWeb, path: str, title: str, encoding: str | None) -> None:
    outcome = fetch(demo_web, demo_web.url(LAB, path))
    assert (outcome.title, outcome.encoding) == (title, encoding)
    with pytest.raises(UnicodeDecodeError):
        outcome.body.decode("utf-8")


@pytest.mark.parametrize(("site_id", "title"), [("lingyuan", "凌源市人民政府"), ("jianping", "建平县人民政府")])
def test_gbk_sites_decode(demo_web: DemoWeb, site_id: str, title: str) -> None:
    outcome = fetch(demo_web, demo_web.url(demo_web.site(site_id).host))
    assert outcome.title == title
    assert "网站标识码" in outcome.text()


def test_title_is_unescaped_collapsed_and_cut(demo_web: DemoWeb) -> None:
    title = fetch(demo_web, demo_web.url(LAB, "/title")).title
    assert title.startswith("政务公开 & 信息公开 长长")
    assert len(title) == 300


@pytest.mark.parametrize(("body", "declared", "text", "codec"), [
    pytest.param("<title>政务</title>".encode("gbk"), "gb2312", "<title>政务</title>", "gb18030",
                 id="declared-gb2312-decodes-as-gb18030"),
    pytest.param(b'<meta charset="GBK"><p>' + "公开".encode("gbk"), None, '<meta charset="GBK"><p>公开', "gb18030",
                 id="meta-charset"),
    pytest.param(b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312">' + "公开".encode("gbk"),
                 None, '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">公开', "gb18030",
                 id="meta-http-equiv"),
    pytest.param("政务公开".encode("gbk"), None, "政务公开", "gb18030", id="no-charset-gbk-falls-back-to-gb18030"),
    pytest.param("政务公开".encode(), None, "政务公开", "utf-8", id="no-charset-utf8"),
    pytest.param(b"\xef\xbb\xbf" + "政务".encode(), "gbk", "政务", "utf-8", id="bom-wins"),
    pytest.param("政务".encode(), "no-such-charset", "政务", "utf-8", id="unknown-label-is-ignored"),
    pytest.param("政务".encode("gbk"), "utf-8", "政务", "gb18030", id="header-utf8-lie-on-gbk-reads-gb18030"),
    pytest.param(b'<meta charset="utf-8"><p>' + "政务公开".encode("gb18030"), None, '<meta charset="utf-8"><p>政务公开',
                 "gb18030", id="meta-utf8-lie-on-gb18030"),
    pytest.param("<p>政务公开。</p>".encode(), "gb2312", "<p>政务公开。</p>", "utf-8", id="declared-gb-but-utf8-reads-utf8"),
    pytest.param(b"<p>\xff\xfe\xff", "utf-8", "<p>\ufffd\ufffd\ufffd", "utf-8",
                 id="neither-decodes-the-declared-one-is-kept"),
    pytest.param("政务".encode() + "公".encode()[:2], "utf-8", "政务\ufffd", "utf-8",
                 id="a-body-cut-mid-character-is-no-lie"),
    pytest.param("政务".encode("gbk"), "iso-8859-1", "政务".encode("gbk").decode("latin-1"), "iso8859-1",
                 id="single-byte-declarations-never-fail-and-are-kept"),
])
def test_decode_html(body: bytes, declared: str | None, text: str, codec: str) -> None:
    assert decode_html(body, declared) == (text, codec)


@pytest.mark.parametrize(("body", "declared", "expected"), [
    ("政务".encode("gbk"), "utf-8", ("utf-8", "gb18030", True)),
    ("政务".encode("gbk"), "gbk", ("gb18030", "gb18030", False)),
    ("政务".encode("gbk"), None, ("", "gb18030", False)),
    (b'<meta charset="utf-8">' + "政务".encode("gbk"), None, ("utf-8", "gb18030", True)),
    ("政务".encode(), "utf-8", ("utf-8", "utf-8", False)),
])
def test_decode_says_what_was_declared_and_what_was_used(body: bytes, declared: str | None,
                                                         expected: tuple[str, str, bool]) -> None:
    decoded = decode(body, declared)
    assert (decoded.declared, decoded.codec, decoded.lied) == expected


def test_extract_title_without_title_is_empty() -> None:
    assert extract_title("<html><head></head></html>") == ""


def test_declared_body_over_the_cap_is_not_downloaded(demo_web: DemoWeb) -> None:
    outcome = fetch(demo_web, demo_web.url("www.chaoyang.gov.test"), max_bytes=100)
    assert (outcome.kind, outcome.status, outcome.truncated, outcome.body) == (FetchKind.TOO_LARGE, 200, True, b"")


def test_streamed_body_stops_at_the_cap(demo_web: DemoWeb) -> None:
    outcome = fetch(demo_web, demo_web.url(LAB, "/huge"), max_bytes=2**20)
    assert (outcome.kind, outcome.truncated, len(outcome.body)) == (FetchKind.TOO_LARGE, True, 2**20)
    assert outcome.size > 2**20


def test_error_status_keeps_its_kind_when_truncated(demo_web: DemoWeb) -> None:
    outcome = fetch(demo_web, demo_web.url(LAB, "/status/500"), max_bytes=10)
    assert (outcome.kind, outcome.truncated) == (FetchKind.HTTP_5XX, True)


def test_head_reads_no_body(demo_web: DemoWeb) -> None:
    outcome = fetch(demo_web, demo_web.url("www.chaoyang.gov.test"), method="HEAD")
    assert (outcome.kind, outcome.status, outcome.body) == (FetchKind.OK, 200, b"")


@pytest.mark.parametrize("url", ["ftp://lab.demo.test/file", "mailto:someone@demo.test", "javascript:void(0)"])
def test_other_schemes_are_unsupported(demo_web: DemoWeb, url: str) -> None:
    outcome = fetch(demo_web, url)
    assert (outcome.kind, outcome.address) == (FetchKind.UNSUPPORTED, None)


@pytest.mark.parametrize("url", ["http://", "http:", "http:/lab.demo.test/", "http://lab.demo.test]/",
                                 "http://lab .demo.test/", "http://lab.demo.test:99999/", "file:///C:/a.doc"])
def test_malformed_url_is_malformed_not_an_exception(demo_web: DemoWeb, url: str) -> None:
    outcome = fetch(demo_web, url)
    assert (outcome.kind, outcome.address, outcome.status) == (FetchKind.MALFORMED, None, None)


@pytest.mark.parametrize(("path", "status"), [(path, behaviour.status) for path, (behaviour, _) in REDIRECTS.items()])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_redirect_without_a_usable_location_stays_http_3xx(demo_web: DemoWeb, path: str, status: int,
                                                            method: str) -> None:
    url = demo_web.url(LINKS_HOST, path)
    outcome = fetch(demo_web, url, method=method)
    assert (outcome.kind, outcome.status, outcome.final_url, outcome.redirect_chain) == (
        FetchKind.HTTP_3XX, status, url, ())
    assert "Location" in outcome.detail


@pytest.mark.parametrize(("location", "target"), [
    pytest.param("/b/c.html", "http://h.test/b/c.html", id="path"),
    pytest.param("c.html", "http://h.test/a/c.html", id="relative"),
    pytest.param("  /b/  ", "http://h.test/b/", id="edge-spaces-trimmed"),
    pytest.param("//other.test/x", "http://other.test/x", id="scheme-relative"),
    pytest.param("HTTPS://other.test:8443/x", "https://other.test:8443/x", id="absolute"),
    pytest.param("/a b.html", "http://h.test/a%20b.html", id="space-in-path-is-encoded"),
    pytest.param("", None, id="empty"),
    pytest.param(" \t", None, id="blank"),
    pytest.param("javascript:alert(1)", None, id="javascript"),
    pytest.param("JavaScript:void(0);", None, id="javascript-mixed-case"),
    pytest.param("data:text/html,<p>x</p>", None, id="data"),
    pytest.param("ftp://other.test/f", None, id="ftp"),
    pytest.param("mailto:a@h.test", None, id="mailto"),
    pytest.param("http://", None, id="no-host"),
    pytest.param("http:", None, id="scheme-only"),
    pytest.param("http:/x.test/", None, id="one-slash"),
    pytest.param("http://other.test]/", None, id="bracket"),
    pytest.param("http://[::1/", None, id="broken-ipv6"),
    pytest.param("http://exa mple.test/", None, id="space-in-host"),
    pytest.param("http://other.test:99999/", None, id="port-out-of-range"),
    pytest.param("//", None, id="slashes-only"),
])
def test_redirect_target(location: str, target: str | None) -> None:
    assert redirect_target("http://h.test/a/b.html", location) == target


@pytest.mark.parametrize(("url", "ok"), [
    ("http://h.test/", True), ("https://h.test:8443/a?b#c", True), ("http://[::1]:8080/", True),
    ("http://xn--fiq228c.cn/", True), ("http://a_b.h.test/", True),
    ("http://", False), ("http:", False), ("http:/h.test/", False), ("http://h.test]/", False),
    ("http://h .test/", False), ("http://h%20.test/", False), ("http://h.test:99999/", False),
    ("http://h.test:x/", False), ("http://h.test:0/", False), ("http://<h>/", False), ("file:///C:/a.doc", False),
    ("//h.test/", False), ("mailto:a@h.test", False),
])
def test_url_problem(url: str, ok: bool) -> None:
    assert (url_problem(url) is None) == ok


def test_invalid_url_from_httpx_is_malformed() -> None:
    kind, _, detail = classify_exception(httpx.InvalidURL("For absolute URLs, path must be empty or begin with '/'"), 4)
    assert kind is FetchKind.MALFORMED and "InvalidURL" in detail


def test_one_retry_recovers_the_flaky_page(demo_web: DemoWeb) -> None:
    url = demo_web.url(LAB, fresh("/flaky"))
    outcome, attempts = run(lambda f: f.fetch_retrying(url, retries=1, backoff_s=0.05), demo_web)
    assert (outcome.kind, outcome.title, attempts) == (FetchKind.OK, "recovered", 2)


def test_without_retries_the_flaky_page_fails(demo_web: DemoWeb) -> None:
    url = demo_web.url(LAB, fresh("/flaky"))
    outcome, attempts = run(lambda f: f.fetch_retrying(url, retries=0), demo_web)
    assert (outcome.kind, outcome.status, attempts) == (FetchKind.HTTP_5XX, 503, 1)


def test_non_transient_kinds_are_not_retried(demo_web: DemoWeb) -> None:
    url = demo_web.url(LAB, "/status/404")
    outcome, attempts = run(lambda f: f.fetch_retrying(url, retries=3, backoff_s=0.05), demo_web)
    assert (outcome.kind, attempts) == (FetchKind.HTTP_4XX, 1)


def test_retry_after_is_honoured_on_429(demo_web: DemoWeb) -> None:
    url = demo_web.url(LAB, "/status/429")
    started = time.monotonic()
    outcome, attempts = run(lambda f: f.fetch_retrying(url, retries=1, backoff_s=0.01), demo_web)
    assert (outcome.kind, attempts) == (FetchKind.RATE_LIMITED, 2)
    assert time.monotonic() - started >= 1.0


@pytest.mark.parametrize(("value", "seconds"), [
    ("1", 1.0), ("120", 30.0), (None, None), ("soon", None),
    ((dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)).strftime("%a, %d %b %Y %H:%M:%S GMT"), 0.0),
])
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    assert retry_after_s(value) == seconds


def test_per_host_limit_serialises_requests_to_one_host(demo_web: DemoWeb) -> None:
    url = demo_web.url(LAB, "/delay")

    def timed(limit: int) -> float:
        async def three(f: Fetcher) -> float:
            started = time.monotonic()
            outcomes = await asyncio.gather(*(f.fetch(url) for _ in range(3)))
            assert all(o.kind is FetchKind.OK for o in outcomes)
            return time.monotonic() - started

        return run(three, demo_web, per_host_limit=limit)

    assert timed(1) >= 0.6
    assert timed(3) < 0.55


@pytest.mark.parametrize(("code", "family", "kind"), [
    pytest.param(errno.ECONNREFUSED, 4, FetchKind.REFUSED, id="refused"),
    pytest.param(errno.ENETUNREACH, 6, FetchKind.NO_ROUTE, id="v6-network-unreachable-is-no-route"),
    pytest.param(errno.EADDRNOTAVAIL, 6, FetchKind.NO_ROUTE, id="v6-no-source-address-is-no-route"),
    pytest.param(errno.EHOSTUNREACH, 6, FetchKind.NO_ROUTE, id="v6-host-unreachable-is-no-route"),
    pytest.param(errno.EHOSTUNREACH, 4, FetchKind.TIMEOUT, id="v4-host-unreachable-is-the-sites-failure"),
    pytest.param(errno.ECONNRESET, 4, FetchKind.RESET, id="reset-while-connecting"),
])
def test_connect_errors_map_by_errno(code: int, family: int, kind: FetchKind) -> None:
    try:
        try:
            raise OSError(code, "connect failed")
        except OSError as exc:
            raise httpx.ConnectError("All connection attempts failed") from exc
    except httpx.ConnectError as wrapped:
        assert classify_exception(wrapped, family)[0] is kind


# ---------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _tls_web(cert: trustme.LeafCert, server_names: list[str]) -> DemoWeb:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)
    return DemoWeb(tls=context)


@pytest.fixture(scope="module")
def tls_web(ca: trustme.CA) -> Iterator[tuple[DemoWeb, list[str]]]:
    names: list[str] = []
    with _tls_web(ca.issue_cert(LAB, "www.chaoyang.gov.test"), names) as web:
        yield web, names


@pytest.fixture
def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.mark.parametrize("family", [4, 6])
def test_https_verified_with_the_ca_sends_the_real_name(tls_web: tuple[DemoWeb, list[str]],
                                                        trusting: ssl.SSLContext, family: int) -> None:
    web, names = tls_web
    outcome = fetch(web, web.url(LAB, "/ok", scheme="https"), verify=trusting, family=family)
    assert (outcome.kind, outcome.status, outcome.title, outcome.family) == (FetchKind.OK, 200, "ok", family)
    assert names[-1] == LAB


def test_https_ca_bundle_path(tls_web: tuple[DemoWeb, list[str]], ca: trustme.CA) -> None:
    web, _ = tls_web
    with ca.cert_pem.tempfile() as path:
        outcome = fetch(web, web.url("www.chaoyang.gov.test", scheme="https"), verify=path)
    assert (outcome.kind, outcome.title) == (FetchKind.OK, "朝阳市人民政府")


def test_https_untrusted_without_the_ca(tls_web: tuple[DemoWeb, list[str]]) -> None:
    web, _ = tls_web
    outcome = fetch(web, web.url(LAB, scheme="https"))
    assert (outcome.kind, outcome.tls_error) == (FetchKind.TLS, TlsError.UNTRUSTED)


def test_https_hostname_mismatch_even_after_a_good_connection(tls_web: tuple[DemoWeb, list[str]],
                                                              trusting: ssl.SSLContext) -> None:
    web, _ = tls_web

    async def both(f: Fetcher) -> tuple[FetchOutcome, FetchOutcome]:
        good = await f.fetch(web.url(LAB, scheme="https"))
        # Same IP and port: a pool keyed by origin would reuse the connection made for LAB.
        other = await f.fetch(web.url("www.shuangta.gov.test", scheme="https"))
        return good, other

    good, other = run(both, web, verify=trusting)
    assert good.kind is FetchKind.OK
    assert (other.kind, other.tls_error) == (FetchKind.TLS, TlsError.HOSTNAME_MISMATCH)


def test_https_expired_certificate(ca: trustme.CA, trusting: ssl.SSLContext) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    cert = ca.issue_cert(LAB, not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1))
    with _tls_web(cert, []) as web:
        outcome = fetch(web, web.url(LAB, scheme="https"), verify=trusting)
    assert (outcome.kind, outcome.tls_error) == (FetchKind.TLS, TlsError.EXPIRED)


def test_https_not_yet_valid_certificate(ca: trustme.CA, trusting: ssl.SSLContext) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    cert = ca.issue_cert(LAB, not_before=now + dt.timedelta(days=1), not_after=now + dt.timedelta(days=30))
    with _tls_web(cert, []) as web:
        outcome = fetch(web, web.url(LAB, scheme="https"), verify=trusting)
    assert (outcome.kind, outcome.tls_error) == (FetchKind.TLS, TlsError.NOT_YET_VALID)


def test_plain_http_to_the_https_port_is_a_protocol_failure(tls_web: tuple[DemoWeb, list[str]]) -> None:
    web, _ = tls_web
    outcome = fetch(web, f"http://{LAB}:{web.https_port}/")
    assert outcome.kind in (FetchKind.RESET, FetchKind.PROTOCOL, FetchKind.HTTP_4XX)


@pytest.mark.parametrize(("text", "start"), [
    ("<html><body><p>x</p></body>\n</html>\n", None),
    ("<html><body><p>x</p></body></html>\n<!-- 2024-01-01 10:00 -->\n", None),
    ("<HTML><BODY><P>x</P></BODY></HTML>", None),
    ("<p>no end tags at all", None),
    ("<html><body><p>x</p></body></html><div>footer</div>", len("<html><body><p>x</p></body>")),
    ("<html><body><p>x</p></body>\n<div>footer</div></html>", len("<html><body><p>x</p></body>")),
    ("<html><body><p>x</p></html>\n<script src=/jiucuo.js></script>", len("<html><body><p>x</p></html>")),
])
def test_content_after_the_closing_tags_is_found(text: str, start: int | None) -> None:
    assert after_end(text) == start
    if start is None:
        assert as_browsers_read(text) == text
    else:
        assert "</html>" not in as_browsers_read(text).lower() and "</body>" not in as_browsers_read(text).lower()


@pytest.fixture
def cookie_server() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback HTTP server whose every answer sets a cookie and repeats a header, recording each
    request's head: it shows what the fetcher sends back and how it reads the headers."""
    heads: list[bytes] = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)

        def serve() -> None:
            while True:
                try:
                    conn, _ = sock.accept()
                except OSError:
                    return
                with conn:
                    head = b""
                    while b"\r\n\r\n" not in head and (chunk := conn.recv(4096)):
                        head += chunk
                    heads.append(head)
                    body = b"<title>ok</title>"
                    conn.sendall(b"HTTP/1.1 200 OK\r\nSet-Cookie: sid=42; Path=/\r\nX-Part: one\r\n"
                                 b"x-part: two\r\nX-Name: \xe5\x87\x8c\xe6\xba\x90\r\nConnection: close\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        yield sock.getsockname()[1], heads
        sock.shutdown(socket.SHUT_RDWR)


def test_cookies_are_neither_kept_nor_sent_and_headers_read_as_httpx_joins_them(
        demo_web: DemoWeb, cookie_server: tuple[int, list[bytes]]) -> None:
    port, heads = cookie_server

    async def twice(fetcher: Fetcher) -> list[FetchOutcome]:
        return [await fetcher.fetch(f"http://127.0.0.1:{port}/{n}") for n in range(2)]

    first, second = run(twice, demo_web)
    assert len(heads) == 2 and all(b"cookie:" not in h.lower() for h in heads)
    assert first.headers["x-part"] == "one, two"                # repeated headers joined, names lower-cased
    assert first.headers["x-name"] == "凌源"                      # not ASCII: read as UTF-8
    assert first.headers["set-cookie"] == "sid=42; Path=/" and second.kind is FetchKind.OK
