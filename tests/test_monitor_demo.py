"""The demo web itself: lifecycle, virtual hosting on both loopbacks, its DNS
server over UDP and TCP, the written config, and its ground truth, which is
checked against what the demo really serves through the project's fetch layer."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
import ssl
import threading
import tomllib
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import dns.message
import dns.query
import dns.rcode
import lxml.html
import pytest

from checks.scope import SiteScope
from monitor.demo import DemoWeb, crawlmodel
from monitor.demo.build import SitePlan, build_site
from monitor.demo.columns import Column
from monitor.demo.configfile import DEMO_CRAWL
from monitor.demo.ipv6cases import (
    NGINX_PAGE,
    PORTAL,
    V6_DEFAULT_PAGE,
    V6_RESET,
    XXGK,
    ipv6_truth,
)
from monitor.demo.sites import assemble, portal_columns
from monitor.demo.walk import canonical
from monitor.demo.zone import expected_answer
from monitor.fetch import Fetcher, FetchOutcome, url_problem
from monitor.outcomes import FetchKind
from monitor.resolver import Resolver

LISTED_KINDS = {"portal", "development_reform", "market_regulation", "commerce", "finance", "business_environment",
                "other"}
COUNTIES = {"双塔区", "龙城区", "北票市", "凌源市", "朝阳县", "建平县", "喀喇沁左翼蒙古族自治县", "龙泉区"}
# The TOML keys docs/architecture.md lists for each table (monitor.config forbids any other).
DOCUMENTED_KEYS = {
    "crawl": {"max_pages", "max_depth", "timeout_s", "retries", "concurrency", "per_host_concurrency",
              "obey_robots", "user_agent", "max_response_bytes", "allowed_networks", "ca_bundle",
              "max_link_targets", "max_links_per_page"},
    "dns": {"nameservers", "port", "timeout_s"},
    "storage": {"url", "work_dir"},
    "report": {"dir", "language", "title"},
    "checks": {"ipv6_slow_floor_ms"},
    "requirement": {"id", "title", "keywords", "applies_to", "levels", "max_age_days", "stale_status",
                    "deadline", "basis", "type", "hosts", "urls", "max_depth", "for_year", "min_ratio",
                    "pair_keywords"},
    "site": {"id", "name", "url", "kind", "level", "extra_hosts", "scope", "disabled_checks", "max_pages", "max_depth",
             "timeout_s", "retries", "obey_robots", "per_host_concurrency", "concurrency", "user_agent",
             "max_link_targets", "max_links_per_page", "owner", "contact"},
}
DEAD_KINDS = {"http_3xx", "http_4xx", "http_5xx", "dns", "refused", "timeout", "tls", "redirect_loop",
              "too_many_redirects", "soft_404", "malformed"}
FOLLOWED = {"a", "area", "iframe", "frame", "pager"}
DATASTORE = re.compile(r"<datastore>(.*?)</datastore>", re.DOTALL)
RECORD = re.compile(r"<record><!\[CDATA\[(.*?)\]\]></record>", re.DOTALL)
NEXTGROUP = re.compile(r'<nextgroup><!\[CDATA\[<a href="([^"]+)">')
TOTAL = re.compile(r"<totalrecord>(\d+)</totalrecord>")
PAGE_COUNT = re.compile(r"var countPage = (\d+); var currentPage = (\d+);\s*createPageHTML\(")
PAGER_MAX = 4
JS_LOCATION = re.compile(r"""location(?:\.href)?\s*=\s*["']([^"']+)["']""")
CSS_URL = re.compile(r"""url\(\s*["']?([^"')\s]+)["']?\s*\)|@import\s+["']([^"']+)["']""", re.IGNORECASE)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
ICON_RELS = {"stylesheet", "icon", "apple-touch-icon"}
MEDIA = {"video": ("src", "poster"), "audio": ("src",), "track": ("src",), "embed": ("src",), "object": ("data",)}
NOT_FOUND_WORDS = ("页面不存在", "您访问的页面不存在")


def get(address: str, port: int, host: str, path: str = "/", method: str = "GET",
        tls: ssl.SSLContext | None = None) -> tuple[int, dict[str, str], bytes]:
    """A raw HTTP/1.1 request to `address` with the given Host header (over TLS with SNI `host` when
    `tls` is given), outside govmon's fetch layer."""
    conn = http.client.HTTPConnection(address, port, timeout=5)
    if tls is not None:
        conn.sock = tls.wrap_socket(socket.create_connection((address, port), timeout=5), server_hostname=host)
    try:
        conn.request(method, path, headers={"Host": f"{host}:{port}"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def served(web: DemoWeb, host: str, path: str = "/", method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """`get` from where the host serves its pages: HTTPS for a host of the demo CA, else plain HTTP."""
    if host in web.secure_hosts:
        assert web.https_port is not None
        return get("127.0.0.1", web.https_port, host, path, method, tls=web.trust())  # type: ignore[arg-type]
    return get("127.0.0.1", web.http_port, host, path, method)


def listed(web: DemoWeb) -> dict[str, dict]:
    return {sid: s for sid, s in web.truth["sites"].items() if s["listed"]}


# ------------------------------------------------------------------ lifecycle, hosting, DNS

def test_start_and_stop_leave_no_thread_or_socket() -> None:
    threads_before = set(threading.enumerate())
    web = DemoWeb()
    with web:
        assert web.running
        assert get("127.0.0.1", web.http_port, "www.chaoyang.gov.test")[0] == 301
        assert served(web, "www.chaoyang.gov.test")[0] == 200
        with pytest.raises(RuntimeError):
            web.start()
        ports = (web.dns_port, web.http_port, web.https_port)
    assert not web.running
    assert set(threading.enumerate()) == threads_before
    for port in ports[1:]:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", ports[0]))  # the DNS port is free again
    web.stop()  # stopping twice is harmless


def test_the_model_site_is_on_https_with_a_certificate_of_the_demo_ca(demo_web: DemoWeb, tmp_path: Path) -> None:
    host = "www.chaoyang.gov.test"
    assert demo_web.secure_hosts == {host}
    status, headers, _ = get("127.0.0.1", demo_web.http_port, host, "/zwgk/?page=2")
    assert (status, headers["location"]) == (301, demo_web.url(host, "/zwgk/?page=2", scheme="https"))
    assert served(demo_web, host)[0] == 200   # verified against the demo CA, hostname included
    with pytest.raises(ssl.SSLCertVerificationError):   # any other name gets the self-signed certificate
        get("127.0.0.1", demo_web.https_port or 0, "www.shuangta.gov.test", tls=demo_web.trust())  # type: ignore[arg-type]
    config = tomllib.loads(demo_web.write_config(tmp_path / "sites.toml", storage_url="sqlite:///x.db",
                                                 report_dir="r").read_text(encoding="utf-8"))
    assert Path(config["crawl"]["ca_bundle"]).read_bytes() == demo_web.ca.pem  # type: ignore[union-attr]
    assert demo_web.truth["sites"]["chaoyang"]["https"] == "pass"
    with DemoWeb(tls=False) as plain:   # without the demo's own certificates the model site stays on HTTP
        assert (plain.secure_hosts, plain.ca) == (frozenset(), None)
        assert get("127.0.0.1", plain.http_port, host)[0] == 200
        assert plain.truth["sites"]["chaoyang"]["https"] == "warn"
        assert "ca_bundle" not in plain.write_config(tmp_path / "plain.toml", storage_url="sqlite:///x.db",
                                                     report_dir="r").read_text(encoding="utf-8")


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_serves_by_host_on_both_loopbacks(demo_web: DemoWeb, address: str) -> None:
    if address == "::1" and not demo_web.ipv6:
        pytest.skip("this machine has no ::1")
    status, _, body = get(address, demo_web.http_port, "www.shuangta.gov.test", "/index.html")
    assert status == 200
    assert "<title>双塔区人民政府</title>" in body.decode("utf-8")
    status, _, body = get(address, demo_web.http_port, "fgw.chaoyang.gov.test")
    assert status == 200 and "朝阳市发展和改革委员会" in body.decode("utf-8")
    status, _, body = get(address, demo_web.http_port, "www.nowhere.test")
    assert (status, b"unknown host" in body) == (404, True)


def test_homepage_news_is_dated_relative_to_today(demo_web: DemoWeb) -> None:
    _, _, body = served(demo_web, "www.chaoyang.gov.test")
    text = body.decode("utf-8")
    dates = re.findall(r'<span class="date">(\d{4}-\d{2}-\d{2})</span>', text)
    assert dates[0] == (date.today() - timedelta(days=1)).isoformat()
    assert dates[:6] == sorted(dates[:6], reverse=True)
    for label in ("首页", "政务公开", "政策文件", "专题专栏", "互动交流", "办事服务", "网站标识码", "ICP备",
                  "公网安备", "我为政府网站找错"):
        assert label in text


def test_truth_dates_move_with_today() -> None:
    earlier = date.today() - timedelta(days=100)
    with DemoWeb(earlier, tls=False) as web:
        sites = web.truth["sites"]
        assert sites["chaoyang"]["homepage_latest"] == (earlier - timedelta(days=1)).isoformat()
        assert sites["beipiao"]["homepage_latest"] == (earlier - timedelta(days=30)).isoformat()
        _, _, body = get("127.0.0.1", web.http_port, "www.chaoyang.gov.test")
        assert f'<span class="date">{earlier - timedelta(days=1):%Y-%m-%d}</span>' in body.decode("utf-8")


def test_gbk_pages_are_gbk_bytes(demo_web: DemoWeb) -> None:
    _, headers, body = get("127.0.0.1", demo_web.http_port, "www.lingyuan.gov.test")
    assert headers["content-type"] == "text/html"
    assert b"charset=gbk" in body
    assert "凌源市人民政府".encode("gbk") in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    _, headers, body = get("127.0.0.1", demo_web.http_port, "www.jianping.gov.test")
    assert "charset" not in headers["content-type"] and b"charset" not in body
    assert "建平县人民政府" in body.decode("gbk")


def test_a_legacy_gbk_article_sits_deep_in_a_utf8_site(demo_web: DemoWeb) -> None:
    lean, _ = demo_web.crawl_model("chaoyang")
    [plan] = [p for p in demo_web.site("chaoyang").columns if p.column.path == "/zwgk/zcjd/"]
    url = canonical(demo_web.url("www.chaoyang.gov.test", plan.items[1].path, scheme="https"))
    assert lean.pages[url].depth == 3
    _, headers, body = served(demo_web, "www.chaoyang.gov.test", plan.items[1].path)
    assert "charset" not in headers["content-type"] and b"charset" not in body
    assert plan.items[1].title in body.decode("gbk")


def test_dns_answers_over_udp_and_tcp_on_one_port(demo_web: DemoWeb) -> None:
    query = dns.message.make_query("www.beipiao.gov.test", "AAAA")
    for send in (dns.query.udp, dns.query.tcp):
        response = send(query, "127.0.0.1", port=demo_web.dns_port, timeout=2)
        records = [(rrset.name.to_text(), rrset[0].to_text()) for rrset in response.answer]
        assert records == [("www.beipiao.gov.test.", "beipiao.cdn.test."), ("beipiao.cdn.test.", "edge.cdn.test."),
                           ("edge.cdn.test.", "::1")]
    missing = dns.query.tcp(dns.message.make_query("www.cydaj.gov.test", "A"), "127.0.0.1",
                            port=demo_web.dns_port, timeout=2)
    assert missing.rcode() == dns.rcode.NXDOMAIN


def test_dns_server_counts_queries(demo_web: DemoWeb) -> None:
    key = ("edge.cdn.test", "NS")
    before = demo_web.dns_queries[key]
    dns.query.udp(dns.message.make_query(key[0], key[1]), "127.0.0.1", port=demo_web.dns_port, timeout=2)
    assert demo_web.dns_queries[key] == before + 1


def test_requests_are_counted_by_host_and_path(demo_web: DemoWeb) -> None:
    path = f"/lxwm/?t={uuid.uuid4().hex}"
    assert demo_web.requests_for("swj.chaoyang.gov.test", path) == 0
    get("127.0.0.1", demo_web.http_port, "SWJ.chaoyang.gov.test", path)
    assert demo_web.requests_for("swj.chaoyang.gov.test", path) == 1


def test_sites_are_unique_and_cover_the_city(demo_web: DemoWeb) -> None:
    ids = [site.id for site in demo_web.sites]
    hosts = [site.host for site in demo_web.sites]
    assert len(ids) == len(set(ids)) and len(hosts) == len(set(hosts))
    listed_sites = [site for site in demo_web.sites if site.listed]
    assert {site.kind for site in listed_sites} == LISTED_KINDS
    counties = {site.name.removesuffix("人民政府") for site in listed_sites if site.kind == "portal"
                and site.level == "county"}
    assert COUNTIES <= counties
    assert all(site.case.startswith("issue") for site in listed_sites if site.name.removesuffix("人民政府")
               in counties - COUNTIES), "a county portal beyond the seven is a case site"
    assert all(site.host.endswith(".test") or site.host == "::1" for site in demo_web.sites)


# ------------------------------------------------------------------ special pages

def test_robots_txt_is_served_and_its_refusals_are_in_the_truth(demo_web: DemoWeb) -> None:
    status, headers, body = get("127.0.0.1", demo_web.http_port, "fgw.chaoyang.gov.test", "/robots.txt")
    assert (status, headers["content-type"]) == (200, "text/plain")
    assert "Disallow: /hdjl/" in body.decode()
    assert served(demo_web, "www.chaoyang.gov.test", "/robots.txt")[0] == 404
    fgw = demo_web.truth["sites"]["fgw"]
    refused = demo_web.url("fgw.chaoyang.gov.test", "/hdjl/")
    assert fgw["robots_disallowed"] == [refused]
    assert refused not in fgw["page_urls"] and refused in fgw["not_dead"]
    assert not any(d["source"] == refused for d in fgw["dead_links"]), "a refused page is never read"


@pytest.mark.parametrize("path", ["/hdjl/rili/cal.do?year=2031&month=1", "/hdjl/rili/cal.do?year=1999&month=12"])
def test_calendar_trap_pages_generate_endlessly(demo_web: DemoWeb, path: str) -> None:
    status, _, body = get("127.0.0.1", demo_web.http_port, "www.chaoyangxian.gov.test", path)
    links = re.findall(r'href="(cal\.do\?[^"]+)"', body.decode("utf-8"))
    assert status == 200 and len(links) == 2
    year, month = (int(v) for v in re.findall(r"\d+", path))
    following = f"cal.do?year={year + (month == 12)}&amp;month={month % 12 + 1}"
    assert following in links


def test_path_trap_pages_generate_endlessly(demo_web: DemoWeb) -> None:
    path = "/ztzl/xczx/" + "zcjd/xczx/" * 8
    status, _, body = get("127.0.0.1", demo_web.http_port, "www.chaoyangxian.gov.test", path)
    assert status == 200 and 'href="zcjd/"' in body.decode("utf-8")
    status, _, body = get("127.0.0.1", demo_web.http_port, "www.chaoyangxian.gov.test", path + "zcjd/")
    assert status == 200 and 'href="xczx/"' in body.decode("utf-8")
    assert get("127.0.0.1", demo_web.http_port, "www.chaoyangxian.gov.test", path + "zcjd/zcjd/")[0] == 404
    traps = demo_web.truth["sites"]["chaoyangxian"]["traps"]
    assert traps == sorted([demo_web.url("www.chaoyangxian.gov.test", "/hdjl/rili/"),
                            demo_web.url("www.chaoyangxian.gov.test", "/ztzl/xczx/zcjd/")])


TRAP_HOST = "www.longtan.gov.test"


@pytest.mark.parametrize(("path", "following"), [
    ("/hdjl/ldrc/?month=13", "?month=14"), ("/hdjl/ldrc/?month=0", "?month=-1"),
    ("/hdjl/ldrc/?month=-7", "?month=-6"), ("/gzdt/index_3.html", "index_4.html"),
    ("/gzdt/index_99.html", "index_100.html"),
], ids=["month-13-leads-to-14", "month-0-leads-to-minus-1", "negative-months-go-on", "page-past-the-last-leads-on",
        "any-page-number-is-served"])
def test_the_trap_case_counts_on_without_end(demo_web: DemoWeb, path: str, following: str) -> None:
    status, _, body = get("127.0.0.1", demo_web.http_port, TRAP_HOST, path)
    assert status == 200 and f'href="{following}"' in body.decode("utf-8")


def test_the_truth_cuts_the_trap_case_links_and_keeps_the_real_pages(demo_web: DemoWeb) -> None:
    entry, today = demo_web.truth["sites"]["longtan"], date.today()
    assert entry["trap_cuts"] == sorted(demo_web.url(TRAP_HOST, path) for path in (
        "/hdjl/ldrc/?month=0", "/hdjl/ldrc/?month=13", "/gzdt/index_3.html", f"/zwgk/wqhg/{today.year + 15}/01/"))
    pages = set(entry["page_urls"])
    assert {u for u in pages if "?month=" in u} == {demo_web.url(TRAP_HOST, f"/hdjl/ldrc/?month={m}")
                                                    for m in range(1, 13)}
    assert {demo_web.url(TRAP_HOST, p) for p in ("/gzdt/index_1.html", "/gzdt/index_2.html", "/zwgk/wqhg/2005/06/",
                                                 f"/zwgk/wqhg/{today.year}/{today.month:02d}/")} <= pages
    assert entry["pages"] == len(pages) < entry["crawl"]["max_pages"]
    assert not pages & set(entry["trap_cuts"])


def test_without_its_trap_cuts_the_trap_case_would_eat_its_page_budget(demo_web: DemoWeb,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    budget = demo_web.truth["sites"]["longtan"]["crawl"]["max_pages"]
    monkeypatch.setattr(crawlmodel, "trap_cut", lambda url, today, last_pages: None)
    uncut, _ = demo_web.crawl_model("longtan")
    assert len(uncut.pages) > budget


def test_huge_page_answers_head_with_headers_only(demo_web: DemoWeb) -> None:
    status, headers, body = served(demo_web, "www.chaoyang.gov.test", "/zcwj/gzbg2019.html", method="HEAD")
    assert (status, headers["content-type"], body) == (200, "text/html", b"")


def test_flaky_page_fails_once_then_serves(demo_web: DemoWeb) -> None:
    path = "/flaky?t=demo-test"
    assert get("127.0.0.1", demo_web.http_port, "lab.demo.test", path)[0] == 503
    assert get("127.0.0.1", demo_web.http_port, "lab.demo.test", path)[0] == 200


# ------------------------------------------------------------------ the truth, checked against what is served

def pager_links(text: str) -> list[tuple[str, str, str]]:
    """The list pages a crawl generates: a TRS createPageHTML pager's, a Hanweb datastore's next groups."""
    found: list[tuple[str, str, str]] = []
    for count, current in PAGE_COUNT.findall(text):
        others = [n for n in range(int(count)) if n != int(current)][:PAGER_MAX]
        found += [("pager", "index.html" if n == 0 else f"index_{n}.html", f"第{n + 1}页") for n in others]
    for store in DATASTORE.findall(text):
        after, total, size = NEXTGROUP.search(store), TOTAL.search(store), len(RECORD.findall(store))
        if after and total and size:
            starts = list(range(size + 1, int(total.group(1)) + 1, size))[:PAGER_MAX]
            last = int(total.group(1))
            found += [("pager", (f"{after.group(1)}&startrecord={s}&endrecord={min(s + size - 1, last)}"
                                 f"&perpage={size}"), f"第{s}-{min(s + size - 1, last)}条") for s in starts]
    return found


def parse_links(text: str) -> list[tuple[str, str, str]]:
    """(tag, href as written, text) of every link in a page, read with lxml (not with the demo's recorder);
    a Hanweb datastore's records (in a script, or a whole dataproxy.jsp answer) are read as markup.
    End tags of body and html are dropped first: browsers keep what follows them, libxml2 drops it."""
    found = pager_links(text)
    for record in RECORD.findall(text):
        found += parse_links(record)
    text = DATASTORE.sub("", text).replace('<?xml version="1.0" encoding="utf-8"?>', "")
    if not text.strip():
        return found
    root = lxml.html.fromstring(re.sub(r"</(?:body|html)\s*>", "", text, flags=re.IGNORECASE))
    for element in root.iter():
        tag, get = element.tag, element.get
        if tag in ("a", "area") and get("href") is not None:
            found.append((tag, get("href"), " ".join(element.text_content().split())))
        elif tag in ("iframe", "frame") and get("src"):
            found.append((tag, get("src"), get("title") or ""))
        elif tag == "img" and get("src"):
            found.append(("img", get("src"), get("alt") or ""))
        elif tag == "script" and get("src"):
            found.append(("script", get("src"), ""))
        elif tag == "script":
            found += [("js-location", target, "") for target in JS_LOCATION.findall(element.text or "")]
        elif tag == "link" and ICON_RELS & set((get("rel") or "").lower().split()):
            found.append(("link", get("href"), ""))
        elif tag == "meta" and (get("http-equiv") or "").lower() == "refresh":
            found.append(("meta-refresh", (get("content") or "").split("url=", 1)[1], ""))
        elif tag == "source":
            found += [("source", get("src"), "")] if get("src") else []
            found += [("source", url, "") for url in candidates(get("srcset") or "")]
        elif tag in MEDIA:
            found += [(tag, get(name), get("title") or get("label") or "") for name in MEDIA[tag] if get(name)]
        elif tag == "input" and get("type") == "image":
            found.append(("img", get("src"), get("alt") or ""))
        elif tag == "style":
            found += [("css", url, "") for url in css_links(element.text or "")]
        if tag == "img":
            found += [("img", url, get("alt") or "") for url in candidates(get("srcset") or "")]
        found += [("css", url, "") for url in css_links(get("style") or "")]
        found += [("background", get("background"), "")] if get("background") else []
    return found


def candidates(srcset: str) -> list[str]:
    """srcset URLs as the demo writes them: candidates separated by ", ", descriptors after a space."""
    return [candidate.split()[0] for candidate in srcset.split(", ") if candidate.strip()]


def css_links(css: str) -> list[str]:
    return [u or i for u, i in CSS_URL.findall(CSS_COMMENT.sub("", css))]


def malformed(href: str) -> bool:
    """A web link that names no URL, by the fetch layer's rule (the demo truth has its own)."""
    ref = href.strip()
    return ref.split(":", 1)[0].lower() in ("http", "https", "file") and url_problem(ref) is not None


def target_of(page: str, href: str) -> str:
    return href.strip() if malformed(href) else canonical(urljoin(page, href))


@dataclass
class Observed:
    pages: dict[str, dict[str, list[tuple[str, str, str]]]] = field(default_factory=dict)   # site -> url -> links
    refused: set[str] = field(default_factory=set)
    outcomes: dict[str, FetchOutcome] = field(default_factory=dict)
    fingerprints: dict[str, str | None] = field(default_factory=dict)

    def kind(self, url: str) -> str:
        outcome = self.outcomes[url]
        if outcome.kind == "ok" and outcome.content_type == "text/html":
            text = outcome.text()
            if any(word in text for word in NOT_FOUND_WORDS) or self.fingerprints.get(urlsplit(url).netloc) == text:
                return "soft_404"
        return str(outcome.kind)


class Walker:
    """Fetches each URL once with the project's fetch layer (retries as the demo config says).

    A timeout is asked again with `patient` (a long timeout): a page that then answers within the
    demo's timeout was only delayed by a busy machine; one that stalls or answers later is slow by design.
    """

    def __init__(self, fetcher: Fetcher, limit: int, patient: Fetcher | None = None) -> None:
        self.fetcher = fetcher
        self.patient = patient
        self.limit = asyncio.Semaphore(limit)
        self.tasks: dict[str, asyncio.Task[FetchOutcome]] = {}

    def fetch(self, url: str) -> asyncio.Task[FetchOutcome]:
        if url not in self.tasks:
            self.tasks[url] = asyncio.ensure_future(self._fetch(url))
        return self.tasks[url]

    async def _fetch(self, url: str) -> FetchOutcome:
        async with self.limit:
            outcome, _ = await self.fetcher.fetch_retrying(url, retries=DEMO_CRAWL["retries"], backoff_s=0.2)
        if outcome.kind is FetchKind.TIMEOUT and self.patient is not None:
            again = await self.patient.fetch(url)
            if again.kind is not FetchKind.TIMEOUT and again.elapsed_ms < DEMO_CRAWL["timeout_s"] * 1000:
                return again
        return outcome


async def crawl_over_http(walker: Walker, start: str, max_depth: int, seen: Observed,
                          scope: SiteScope, cuts: frozenset[str] = frozenset(),
                          outside: Callable[[str], bool] = lambda _url: False) -> dict[str, list]:
    """A breadth-first crawl of one site as the truth describes it, over real HTTP: every host in its
    scope (checks.scope), each host's robots.txt obeyed, the links the truth cuts as traps left out.
    A link target that `outside` says no crawl can refuse is fetched at once, beside the crawl."""
    robots: dict[str, RobotFileParser] = {}
    pages: dict[str, list[tuple[str, str, str]]] = {}
    queue: list[tuple[str, int]] = []
    scheduled: set[str] = set()

    async def allowed(url: str) -> bool:
        origin = urljoin(url, "/")
        if origin not in robots:
            answer = await walker.fetch(urljoin(origin, "/robots.txt"))
            robots[origin] = RobotFileParser()
            robots[origin].parse(answer.text().splitlines() if answer.ok else [])
        return robots[origin].can_fetch("*", url)

    async def schedule(url: str, depth: int) -> None:
        if not scope.covers(url) or url in scheduled or url in cuts:
            return
        scheduled.add(url)
        if not await allowed(url):
            seen.refused.add(url)
            return
        walker.fetch(url)
        queue.append((url, depth))

    await schedule(start, 0)
    while queue:
        url, depth = queue.pop(0)
        outcome = await walker.fetch(url)
        hops = [canonical(hop) for hop in outcome.redirect_chain[1:]] + [canonical(outcome.final_url)]
        if outcome.redirect_chain and any(hop in scheduled for hop in hops):
            continue
        scheduled.update(hops)
        if depth == 0 and outcome.redirect_chain:
            scope = scope.with_hosts(hops[-1])
        if not outcome.ok or outcome.content_type not in ("text/html", "text/xml") or not scope.covers(hops[-1]):
            continue
        final = hops[-1]
        links = pages[final] = parse_links(outcome.text())
        for _, href, _ in links:
            if not malformed(href) and urlsplit(urljoin(final, href)).scheme in ("http", "https") \
                    and outside(target := canonical(urljoin(final, href))):
                walker.fetch(target)
        redirect = next((href for tag, href, _ in links if tag in ("meta-refresh", "js-location")), None)
        if redirect is not None:
            await schedule(canonical(urljoin(final, redirect)), depth)
        elif depth < max_depth:
            for tag, href, _ in links:
                if tag in FOLLOWED and not malformed(href):
                    await schedule(canonical(urljoin(final, href)), depth + 1)
    return pages


async def observe(web: DemoWeb) -> Observed:
    seen = Observed()
    resolver = Resolver(["127.0.0.1"], port=web.dns_port, timeout_s=5)   # a busy machine must not look like DNS
    settings = {"max_bytes": DEMO_CRAWL["max_response_bytes"], "allowed_networks": DEMO_CRAWL["allowed_networks"],
                "per_host_limit": 8, "verify": web.trust()}   # the demo config's ca_bundle
    async with Fetcher(resolver, timeout_s=DEMO_CRAWL["timeout_s"], **settings) as fetcher, \
            Fetcher(resolver, timeout_s=10, **settings) as patient:
        walker = Walker(fetcher, 48, patient)
        sites = listed(web)
        scopes = {sid: SiteScope.of(s["url"], web.site(sid).extra_hosts, web.site(sid).scope)
                  for sid, s in sites.items()}

        def outside(url: str) -> bool:
            # A crawl refuses (robots.txt) only URLs in its scope, so one outside every scope is a
            # target to fetch in any case: fetching it during the crawls overlaps its slow answers
            # (stalls, timeouts asked again patiently) with theirs. A homepage redirect may widen a
            # scope later; the assertion below fails if that ever lets a refused URL through.
            return not any(scope.covers(url) for scope in scopes.values())

        crawls = [crawl_over_http(walker, s["url"], s["crawl"]["max_depth"], seen, scopes[sid],
                                  frozenset(s["trap_cuts"]), outside)
                  for sid, s in sites.items()]
        seen.pages = dict(zip(sites, await asyncio.gather(*crawls)))
        assert not set(walker.tasks) & seen.refused, "a URL robots.txt refuses was fetched (`outside` let it through)"
        targets = {canonical(urljoin(page, href)) for pages in seen.pages.values() for page, links in pages.items()
                   for _, href, _ in links
                   if not malformed(href) and urlsplit(urljoin(page, href)).scheme in ("http", "https")}
        targets -= seen.refused
        outcomes = await asyncio.gather(*(walker.fetch(t) for t in targets))
        seen.outcomes = dict(zip(targets, outcomes))
        hosts = {urlsplit(t).netloc for t, o in seen.outcomes.items() if o.ok and o.content_type == "text/html"}
        probes = {h: walker.fetch(f"http://{h}/govmon-probe-{uuid.uuid4().hex}.html") for h in hosts}
        for host, probe in probes.items():
            answer = await probe
            seen.fingerprints[host] = answer.text() if answer.ok else None
    return seen


@pytest.fixture(scope="module")
def observed(demo_web: DemoWeb) -> Observed:
    refused = [urlsplit(u) for s in listed(demo_web).values() for u in s["robots_disallowed"]]
    before = [demo_web.requests_for(u.hostname or "", u.path) for u in refused]
    seen = asyncio.run(observe(demo_web))
    assert [demo_web.requests_for(u.hostname or "", u.path) for u in refused] == before, "robots.txt was ignored"
    return seen


def test_every_page_serves_exactly_the_links_the_truth_reads(demo_web: DemoWeb, observed: Observed) -> None:
    for site_id, pages in observed.pages.items():
        _, with_traps = demo_web.crawl_model(site_id)
        assert set(pages) == set(with_traps.pages), site_id
        for url, links in pages.items():
            modelled = [(link.tag, link.href, link.text) for link in with_traps.pages[url].links]
            assert Counter(links) == Counter(modelled), url


def test_every_link_target_is_dead_exactly_when_the_truth_says(demo_web: DemoWeb, observed: Observed) -> None:
    truth = demo_web.truth
    for url, expected in truth["targets"].items():
        got = observed.kind(url)
        assert (got, got in DEAD_KINDS) == (expected["kind"], expected["dead"]), (url, observed.outcomes[url].detail)
        if expected["dead"]:
            assert observed.outcomes[url].status == expected["status"], url
    assert set(truth["targets"]) <= set(observed.outcomes)


def test_dead_links_are_exactly_the_dead_links_on_the_crawled_pages(demo_web: DemoWeb, observed: Observed) -> None:
    for site_id, entry in listed(demo_web).items():
        found = set()
        over: set[str] = set()
        admitted: set[str] = set()
        depth = {url: page.depth for url, page in demo_web.crawl_model(site_id)[0].pages.items()}
        for source in sorted(entry["page_urls"], key=lambda u: (depth[u], u)):
            # max_links_per_page: each page admits its first N distinct http(s) targets that are not
            # crawled pages nor admitted before; the rest are never requested
            used: set[str] = set()
            for _, href, _ in observed.pages[site_id][source]:
                target = target_of(source, href)
                if malformed(href) or not target.startswith("http") or target in observed.pages[site_id] \
                        or target in admitted:
                    continue
                if len(used) >= entry["crawl"]["max_links_per_page"]:
                    over.add(target)
                else:
                    used.add(target)
                    admitted.add(target)
        over -= admitted
        assert over == set(entry["over_limit"]), site_id
        for source in entry["page_urls"]:
            for tag, href, text in observed.pages[site_id][source]:
                target = target_of(source, href)
                if malformed(href):
                    found.add((source, target, "malformed", None, tag, text))
                elif target in over:
                    continue
                elif target in observed.outcomes and observed.kind(target) in DEAD_KINDS:
                    found.add((source, target, observed.kind(target), observed.outcomes[target].status, tag, text))
        expected = {(d["source"], d["target"], d["kind"], d["status"], d["tag"], d["text"])
                    for d in entry["dead_links"]}
        assert found == expected, site_id
        # warn or fail is the check's threshold (truth.links_verdict, compared with the check end to end)
        verdict = {"error"} if entry["availability"] == "fail" else {"warn", "fail"} if found else {"pass"}
        assert entry["links_dead"] in verdict, site_id
        for target in entry["not_dead"]:
            assert not target.startswith("http") or target in observed.refused or \
                observed.kind(target) not in DEAD_KINDS, target


def test_pages_count_what_a_crawl_fetches(demo_web: DemoWeb, observed: Observed) -> None:
    for site_id, entry in listed(demo_web).items():
        without_traps, _ = demo_web.crawl_model(site_id)
        cap = entry["crawl"]["max_pages"]
        assert (entry["min_pages"], entry["max_pages"]) == (min(cap, len(without_traps.pages)),
                                                            min(cap, len(observed.pages[site_id])))
        if entry["pages"] is not None:
            assert entry["pages"] == entry["min_pages"] == entry["max_pages"]
        assert set(entry["page_urls"]) <= set(observed.pages[site_id])
        assert set(entry["page_latest"]) == set(without_traps.pages)


def test_the_crawl_model_does_not_depend_on_crawl_order(demo_web: DemoWeb) -> None:
    for site_id in listed(demo_web):
        breadth = demo_web.crawl_model(site_id, "bfs")
        depth_first = demo_web.crawl_model(site_id, "dfs")   # Scrapy's default LIFO order
        for wide, deep in zip(breadth, depth_first):
            assert set(wide.pages) == set(deep.pages), site_id
            assert wide.home == deep.home


def test_dead_links_do_not_depend_on_traps_or_on_max_pages(demo_web: DemoWeb) -> None:
    bounded = 0
    for site_id, entry in listed(demo_web).items():
        without_traps, with_traps = demo_web.crawl_model(site_id)
        dead = {(p.url, link.target) for p in with_traps.pages.values() for link in p.links
                if demo_web.truth["targets"].get(link.target, {}).get("dead")}
        assert all(url in without_traps.pages for url, _ in dead), site_id
        if len(without_traps.pages) > entry["crawl"]["max_pages"]:
            bounded += 1
            assert entry["pages"] == entry["crawl"]["max_pages"] and entry["page_urls"] == [entry["url"]]
            assert {url for url, _ in dead} == {entry["url"]}, "dead links of a bounded site sit on its homepage"
    assert bounded == 1


# ------------------------------------------------------------------ the truth's shape and coverage

def test_truth_has_one_entry_per_spec_and_is_json(demo_web: DemoWeb, tmp_path: Path) -> None:
    truth = demo_web.truth
    assert set(truth["sites"]) == {site.id for site in demo_web.sites}
    for site in demo_web.sites:
        entry = truth["sites"][site.id]
        assert (entry["host"], entry["name"], entry["listed"]) == (site.host, site.name, site.listed)
        assert entry["url"] == demo_web.url(site.host)
        assert entry["availability"] == ("pass" if entry["homepage"]["kind"] == "ok" else "fail")
        assert site.host in truth["dns"] or site.host == "::1"
        if site.listed:
            assert {"pages", "min_pages", "max_pages", "page_urls", "page_latest", "dead_links", "links_dead",
                    "not_dead", "blocked", "rate_limited", "robots_disallowed", "traps", "trap_cuts", "homepage_latest",
                    "freshness", "freshness_source", "columns", "crawl"} <= set(entry)
    written = demo_web.write_truth(tmp_path / "truth.json")
    assert json.loads(written.read_text(encoding="utf-8")) == truth
    assert truth["today"] == date.today().isoformat()


def _urls(truth: dict) -> Iterator[str]:
    for entry in listed_entries(truth):
        yield from entry["page_urls"]
        yield from entry["page_latest"]
        yield from entry["robots_disallowed"] + entry["traps"] + entry["trap_cuts"]
        yield from entry["blocked"] + entry["rate_limited"]
        yield from (u for u in entry["not_dead"] if u.startswith("http"))
        for dead in entry["dead_links"]:
            yield dead["source"]
            if dead["kind"] != "malformed":   # recorded as written
                yield dead["target"]
    yield from truth["targets"]


def listed_entries(truth: dict) -> list[dict]:
    return [s for s in truth["sites"].values() if s["listed"]]


def test_truth_urls_are_in_the_form_the_crawl_records(demo_web: DemoWeb) -> None:
    urls = pytest.importorskip("spiders.urls")
    checked = 0
    for url in _urls(demo_web.truth):
        assert urls.canonical(url) == url, url
        ports = (demo_web.http_port, demo_web.https_port, *demo_web.fault_ports.values())
        assert any(f":{port}/" in url for port in ports), url
        checked += 1
    assert checked > 1000


def test_truth_covers_every_availability_case(demo_web: DemoWeb) -> None:
    sites = listed(demo_web)
    kinds = {s["homepage"]["kind"] for s in sites.values()}
    assert kinds == {"ok", "http_5xx", "http_4xx", "dns", "refused", "timeout", "redirect_loop"}
    assert any(s["homepage"]["kind"] == "ok" and s["homepage"]["redirect_chain"] for s in sites.values())
    dns_truth = demo_web.truth["dns"]
    hosts = [s["host"] for s in sites.values()]
    assert any(dns_truth[h]["A"]["cname_chain"] and dns_truth[h]["A"]["kind"] == "ok" for h in hosts)
    assert any(dns_truth[h]["A"]["kind"] == "ok" and dns_truth[h]["AAAA"]["kind"] == "no_answer" for h in hosts)
    assert any(dns_truth[h]["A"]["kind"] == "ok" and dns_truth[h]["AAAA"]["kind"] == "ok" for h in hosts)
    assert sites["chaoyang"]["availability"] == "pass"
    county_portals = [s for s in sites.values() if s["kind"] == "portal" and s["level"] == "county"]
    assert sum(s["availability"] == "pass" for s in county_portals) >= 5
    assert sites["chaoyangxian"]["homepage"]["kind"] == "ok", "the flaky homepage passes after one retry"


def test_every_kind_of_dead_link_is_placed(demo_web: DemoWeb) -> None:
    truth = demo_web.truth
    dead = [(sid, d) for sid, s in listed(demo_web).items() for d in s["dead_links"]]
    assert {d["kind"] for _, d in dead} == DEAD_KINDS
    assert {d["tag"] for _, d in dead} >= {"a", "img", "script", "link", "source", "video", "audio", "track",
                                           "object", "embed", "css", "background"}
    assert {d["status"] for _, d in dead if d["kind"] == "http_3xx"} == {301, 302}
    assert all(d["status"] is None and malformed(d["target"]) for _, d in dead if d["kind"] == "malformed")
    assert {d["status"] for _, d in dead if d["kind"] == "http_4xx"} >= {404, 410}
    assert {d["status"] for _, d in dead if d["kind"] == "http_5xx"} == {500}
    assert any(d["target"].endswith((".doc", ".pdf", ".xls")) for _, d in dead), "a dead attachment"
    soft = {d["target"] for _, d in dead if d["kind"] == "soft_404"}
    assert len(soft) == 2, "one says 页面不存在, one only matches its host's own 404 answer"
    homepages = {s["url"] for s in listed(demo_web).values()} | {demo_web.url("www.shuangta.gov.test", "/index.html")}
    assert any(d["source"] in homepages for _, d in dead) and any(d["source"] not in homepages for _, d in dead)
    deep = [d for sid, d in dead if demo_web.crawl_model(sid)[0].pages[d["source"]].depth == 3]
    assert deep, "a dead link three clicks deep"
    assert len(truth["shared_dead"]) >= 2 and all(len(s["sites"]) >= 3 for s in truth["shared_dead"])
    timeouts = sorted(u for u, t in truth["targets"].items() if t["kind"] == "timeout")
    assert timeouts == sorted([demo_web.url("ca.ln.gov.test", "/", scheme="https"), demo_web.url("www.kazuo.gov.test")]), \
        "slow is costly: the slow county and the stalled TLS handshake only"


def test_the_not_dead_cases_are_in_the_truth(demo_web: DemoWeb) -> None:
    sites = listed(demo_web)
    not_dead = {u for s in sites.values() for u in s["not_dead"]}
    url = demo_web.url
    for expected in (url("www.chaoyang.gov.test", "/zcwj/", scheme="https"),   # linked as /zcwj/#wj2019
                     url("www.ln.gov.test", "/flaky.html"), url("www.chaoyangxian.gov.test"),  # 503, then 200
                     url("www.ln.gov.test", "/zwgk/moved.html"),           # 301 to a 200 page
                     url("www.chaoyang.gov.test", "/zcwj/gzbg2019.html", scheme="https"),  # over max_response_bytes
                     f"http://[::1]:{demo_web.http_port}/ipv6/", url("www.shuangta.gov.test"),
                     url("tongji.ln.gov.test", "/tjsj/"), url("fgw.ln.gov.test")):
        assert expected in not_dead, expected
    assert any(u.startswith("mailto:") for u in not_dead) and any(u.startswith("tel:") for u in not_dead)
    assert any(u.startswith("javascript:") for u in not_dead)
    assert sites["fgw"]["rate_limited"] == [url("tongji.ln.gov.test", "/tjsj/")]
    assert sites["fgw"]["blocked"] == [url("fgw.ln.gov.test")] == sites["swj"]["blocked"]
    assert sites["chaoyang"]["dead_links"] == [] and sites["chaoyang"]["links_dead"] == "pass"


def test_freshness_cases(demo_web: DemoWeb) -> None:
    sites = listed(demo_web)
    today = date.today()

    def ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    got = {sid: (s["homepage_latest"], s["freshness"], s["freshness_source"]) for sid, s in sites.items()}
    assert got["chaoyang"] == (ago(1), "pass", "homepage")
    assert got["shuangta"] == (ago(3), "pass", "subpages"), "a navigation-only homepage"
    assert got["longcheng"] == (ago(1), "pass", "homepage"), "the page the JS redirect lands on"
    assert got["beipiao"] == (ago(30), "fail", "homepage")
    assert got["lingyuan"] == (ago(20), "fail", "homepage"), "the 今天是 clock and copyright years do not count"
    assert got["chaoyangxian"] == (ago(5), "pass", "homepage"), "a future-dated notice does not count"
    assert got["kazuo"] == (None, "error", None)
    _, _, body = get("127.0.0.1", demo_web.http_port, "www.lingyuan.gov.test")
    text = body.decode("gbk")
    assert f"今天是{today.year}年{today.month}月{today.day}日" in text and f"2008-{today.year}" in text
    _, _, body = get("127.0.0.1", demo_web.http_port, "www.chaoyangxian.gov.test", "/zwgk/tzgg/")
    assert f"{today + timedelta(days=20):%Y.%m.%d}" in body.decode("utf-8")


def test_column_truth_places_the_requirements_with_gaps(demo_web: DemoWeb) -> None:
    sites = listed(demo_web)
    status = {(sid, req): (c["status"], c["reason"]) for sid, s in sites.items() for req, c in s["columns"].items()}
    assert status[("chaoyang", "enterprise_relief")] == ("pass", None)
    assert status[("chaoyang", "major_decisions")] == ("pass", None)
    assert status[("shuangta", "enterprise_relief")] == ("fail", "missing")
    assert status[("longcheng", "negative_list")] == ("fail", "missing")
    assert status[("lingyuan", "negative_list")] == ("fail", "empty")
    assert status[("beipiao", "enterprise_relief")] == ("warn", "stale")
    assert status[("fgw", "effective_investment")] == ("pass", None)
    assert status[("shuangta-czj", "fee_catalog")] == ("pass", None)
    assert status[("czj", "fee_catalog")] == ("error", "unavailable")
    assert "major_decisions" not in sites["shuangta"]["columns"], "city portals only"
    relief = sites["chaoyang"]["columns"]["enterprise_relief"]
    assert (relief["url"], relief["where"]) == (demo_web.url("www.chaoyang.gov.test", "/ztzl/zqsk/", scheme="https"),
                                                "topic")   # the model site's pages are on HTTPS
    assert relief["url"] in sites["chaoyang"]["page_urls"]


def test_columns_can_be_placed_in_an_iframe_and_on_another_host() -> None:
    today = date.today()
    plan = SitePlan("t", "www.t.gov.test", "测试市人民政府", "portal", "city", "2199000001",
                    portal_columns(1, relief=None, negative=None) + (
                        Column("惠企政策", "/hqzc/", (3, 9), where="iframe", requirement="enterprise_relief"),
                        Column("市场准入负面清单", "/t/fmqd/", (5,), where="home", host="www.ln.gov.test",
                               requirement="negative_list"),))
    assert "/t/fmqd/" in build_site(plan, today).foreign["www.ln.gov.test"]
    with DemoWeb(today, tls=False, sites=assemble([plan], today)) as web:
        columns = web.truth["sites"]["t"]["columns"]
        assert (columns["enterprise_relief"]["where"], columns["enterprise_relief"]["url"]) == (
            "iframe", web.url("www.t.gov.test", "/hqzc/"))
        assert (columns["negative_list"]["where"], columns["negative_list"]["url"]) == (
            "host", web.url("www.ln.gov.test", "/t/fmqd/"))
        status, _, body = get("127.0.0.1", web.http_port, "www.t.gov.test", "/include/lmdh.html")
        assert status == 200 and 'href="/hqzc/"' in body.decode("utf-8")
        status, _, body = get("127.0.0.1", web.http_port, "www.ln.gov.test", "/t/fmqd/")
        assert status == 200 and "市场准入负面清单" in body.decode("utf-8")
        _, _, body = get("127.0.0.1", web.http_port, "www.t.gov.test")
        assert f'href="{web.url("www.ln.gov.test", "/t/fmqd/")}"' in body.decode("utf-8")


def test_an_https_link_fails_tls_with_or_without_a_listener(demo_web: DemoWeb) -> None:
    from monitor.outcomes import FetchKind

    async def fetch(web: DemoWeb, url: str) -> FetchOutcome:
        async with Fetcher(Resolver(["127.0.0.1"], port=web.dns_port, timeout_s=1), timeout_s=2,
                           allowed_networks=["127.0.0.0/8"]) as fetcher:
            return await fetcher.fetch(url)

    [tls_link] = [d for d in demo_web.truth["sites"]["shuangta"]["dead_links"] if d["kind"] == "tls"]
    assert tls_link["target"] == demo_web.url("zwfw.ln.gov.test", scheme="https")
    with DemoWeb(tls=False) as plain:
        assert plain.https_port is None
        [link] = [d for d in plain.truth["sites"]["shuangta"]["dead_links"] if d["kind"] == "tls"]
        assert link["target"] == f"https://zwfw.ln.gov.test:{plain.http_port}/"
        assert asyncio.run(fetch(plain, link["target"])).kind is FetchKind.TLS


# ------------------------------------------------------------------ the written config

def test_written_config_uses_only_documented_keys(demo_web: DemoWeb, tmp_path: Path) -> None:
    path = demo_web.write_config(tmp_path / "sites.toml", storage_url=f"sqlite:///{tmp_path / 'demo.db'}",
                                 report_dir=str(tmp_path / "reports"), title="朝阳市政府网站巡检报告（演示）")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for table in ("crawl", "dns", "storage", "report", "checks"):
        assert set(data[table]) <= DOCUMENTED_KEYS[table], table
    for table in ("requirement", "site"):
        for entry in data[table]:
            assert set(entry) <= DOCUMENTED_KEYS[table], entry
    assert set(data) == {"crawl", "dns", "storage", "report", "checks", "screening", "requirement", "site"}
    assert data["screening"] == {"wordlists": [str(tmp_path / "demo-words.txt")]}
    assert data["dns"] == {"nameservers": ["127.0.0.1"], "port": demo_web.dns_port, "timeout_s": 1}
    assert (data["crawl"]["timeout_s"], data["crawl"]["retries"]) == (2, 1)
    assert data["crawl"]["allowed_networks"] == ["127.0.0.0/8", "::1/128"]
    assert [r["id"] for r in data["requirement"]] == ["enterprise_relief", "negative_list", "fee_catalog",
                                                      "effective_investment", "major_decisions", "tax_12366",
                                                      "annual_report", "policy_interpretation"]
    sites = {s["id"]: s for s in data["site"]}
    assert set(sites) == {site.id for site in demo_web.sites if site.listed}
    assert (sites["kazuo"]["timeout_s"], sites["yshj"]["max_pages"], sites["chaoyangxian"]["max_depth"]) == (1, 10, 5)
    assert sites["chaoyang"]["url"] == demo_web.url("www.chaoyang.gov.test")
    assert sites["kazuo"]["owner"] and "owner" not in sites["chaoyang"], "some sites name who fixes their findings"
    for site_id, entry in listed(demo_web).items():
        bounds = entry["crawl"]
        assert bounds["max_pages"] == sites[site_id].get("max_pages", data["crawl"]["max_pages"])
        assert bounds["max_depth"] == sites[site_id].get("max_depth", data["crawl"]["max_depth"])


def test_written_config_loads_with_monitor_config(demo_web: DemoWeb, tmp_path: Path) -> None:
    config = pytest.importorskip("monitor.config")
    path = demo_web.write_config(tmp_path / "sites.toml", storage_url=f"sqlite:///{tmp_path / 'demo.db'}",
                                 report_dir=str(tmp_path / "reports"))
    loaded = config.load(path)
    assert [site.id for site in loaded.sites] == [site.id for site in demo_web.sites if site.listed]
    assert loaded.dns.port == demo_web.dns_port
    assert loaded.crawl_for(next(s for s in loaded.sites if s.id == "yshj")).max_pages == 10


def test_issue4_column_cases_are_placed_with_their_truth(demo_web: DemoWeb) -> None:
    from monitor.demo.columncases import decision_ages, judged_year

    sites = listed(demo_web)
    cases = {(sid, req): (c["status"], c["reason"], c.get("where"), c.get("text"))
             for sid in ("cykfq", "cygxq", "cyzbq") for req, c in sites[sid]["columns"].items()}
    assert cases[("cykfq", "enterprise_relief")] == ("pass", None, "sub", "惠企纾困")
    assert cases[("cykfq", "major_decisions")][:2] == ("fail", "late")
    assert cases[("cygxq", "enterprise_relief")][:3] == ("pass", None, "topic")
    assert cases[("cygxq", "negative_list")][:3] == ("pass", None, "iframe")
    assert cases[("cyzbq", "enterprise_relief")][:3] == ("pass", None, "host")
    assert cases[("cyzbq", "negative_list")][:2] == ("fail", "missing")
    paged = sites["cykfq"]["columns"]["negative_list"]
    assert paged["items"] == 8 and all(demo_web.url("www.cykfq.gov.test", f"/fmqd/index_{n}.html")
                                       in sites["cykfq"]["page_urls"] for n in (1, 2))
    topic = demo_web.url("www.cygxq.gov.test", "/ztzl/zqsk/")
    home = demo_web.url("www.cygxq.gov.test")
    _, _, body = get("127.0.0.1", demo_web.http_port, "www.cygxq.gov.test")
    assert "/ztzl/zqsk/" not in body.decode("utf-8") and topic in sites["cygxq"]["page_urls"] and home != topic
    today = date.today()
    late_day = today - timedelta(days=decision_ages(today, late=True)[0])
    assert late_day.year == judged_year(today) and late_day > date(judged_year(today), 3, 31)
    assert all("column only" not in t for t in demo_web.truth["issue4_todo"])


def test_issue5_ipv6_cases_differ_only_over_ipv6(demo_web: DemoWeb) -> None:
    if not demo_web.ipv6:
        pytest.skip("this machine has no ::1")
    status, _, body = get("127.0.0.1", demo_web.http_port, V6_DEFAULT_PAGE)
    assert status == 200 and "朝阳市统计局" in body.decode("utf-8")
    status, _, body = get("::1", demo_web.http_port, V6_DEFAULT_PAGE)
    assert (status, body.decode("utf-8")) == (200, NGINX_PAGE)
    assert get("127.0.0.1", demo_web.http_port, V6_RESET)[0] == 200
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        get("::1", demo_web.http_port, V6_RESET)


def test_issue5_ipv6_truth_covers_every_class(demo_web: DemoWeb) -> None:
    truth = ipv6_truth(demo_web)
    assert expected_answer(demo_web.zone, XXGK, "AAAA")["kind"] == "no_answer"
    assert expected_answer(demo_web.zone, PORTAL, "AAAA")["addresses"] == ["::1"]
    assert (truth["nanpiao-yshj"]["secondary_ok"], truth["nanpiao-yshj"]["secondary_total"]) == (12, 15)
    assert truth["nanpiao-yshj"]["ipv6:links"] == "fail"
    assert truth["beipiao"]["cname_chain"] == ["beipiao.cdn.test", "edge.cdn.test"]
    homepage = Counter(t["ipv6:homepage"] for t in truth.values())
    assert all(homepage[s] for s in ("pass", "warn", "fail", "error"))
    assert {t["ipv6:dns"] for t in truth.values()} == {"pass", "fail"}
    assert {truth[s]["ipv6:homepage"] for s in ("chaoyang-tjj", "chaoyang-sfj", "longcheng")} == {"warn", "fail", "error"}
